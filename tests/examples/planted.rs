//! The test servers as a process, for `cargo xtask bench` to point both contract and
//! Schemathesis at: `planted SPEC_FILE [FIXTURE]` writes the fixture's document there, serves
//! it on 127.0.0.1:0, and prints `planted listening on http://HOST:PORT`. Fixtures:
//! `planted` (every defect but the slow one, the default), `httpbin` (httpbin's own
//! defects), `heroes` (FastAPI with SQLModel's), `xmlpets` (XML refused, another root),
//! and the correct servers
//! `planted-correct`, `fastapi-correct`, `swagger2-correct` (under `/v2`, with the API key
//! `api_key: secret-key`), `things-correct`, `httpbin-correct`, `heroes-correct` and `xmlpets-correct`.

use std::io::Write;

use tests::{fastapi, heroes, httpbin, planted, swagger2, things, xmlpets};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let spec = args.next().expect("usage: planted SPEC_FILE [FIXTURE]");
    let fixture = args.next().unwrap_or_else(|| "planted".to_owned());
    let (document, router) = match fixture.as_str() {
        "planted" => (
            planted::SPEC,
            planted::app(planted::Defects::all_but_slow()),
        ),
        "planted-correct" => (planted::SPEC, planted::app(planted::Defects::default())),
        "fastapi-correct" => (fastapi::SPEC, fastapi::app(fastapi::Defects::default())),
        "swagger2-correct" => (swagger2::SPEC, swagger2::app(swagger2::Defects::default())),
        "things-correct" => (things::SPEC, things::app(things::Defects::default())),
        "httpbin" => (httpbin::SPEC, httpbin::app(httpbin::Defects::httpbin())),
        "heroes" => (heroes::SPEC, heroes::app(heroes::Defects::all())),
        "heroes-correct" => (heroes::SPEC, heroes::app(heroes::Defects::default())),
        "xmlpets" => (xmlpets::SPEC, xmlpets::app(xmlpets::Defects::all())),
        "xmlpets-correct" => (xmlpets::SPEC, xmlpets::app(xmlpets::Defects::default())),
        "httpbin-correct" => (httpbin::SPEC, httpbin::app(httpbin::Defects::default())),
        other => {
            eprintln!("planted: no fixture {other:?}");
            std::process::exit(2);
        }
    };
    std::fs::write(spec, document)?;
    let addr = planted::serve(router).await;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "planted listening on http://{addr}")?;
    stdout.flush()?;
    std::future::pending::<()>().await;
    Ok(())
}
