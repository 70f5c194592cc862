//! The planted-defects API as a process, for `cargo xtask bench` to point both contract and
//! Schemathesis at: `planted SPEC_FILE` writes the spec there, serves every defect but the
//! slow one on 127.0.0.1:0, and prints `planted listening on http://HOST:PORT`.

use std::io::Write;

use tests::planted::{self, Defects};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let spec = std::env::args().nth(1).expect("usage: planted SPEC_FILE");
    std::fs::write(spec, planted::SPEC)?;
    let defects = Defects::all_but_slow();
    let addr = planted::serve(planted::app(defects)).await;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "planted listening on http://{addr}")?;
    stdout.flush()?;
    std::future::pending::<()>().await;
    Ok(())
}
