//! The `mock-api` binary: parses options, binds, prints the listening line, serves until
//! ctrl-c or SIGTERM.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use mock_api::Config;

/// A mock server for integration tests in any language: the users demo API, or with `--spec`
/// any OpenAPI document (2.0, 3.0, 3.1) served as a stateful, validating mock.
///
/// The first line on stdout is `mock-api listening on http://HOST:PORT` (followed by the
/// served document's base path, e.g. `/api/v3`), printed once the socket accepts
/// connections. ctrl-c or SIGTERM stops it, letting requests in flight finish
/// within the grace period; a second signal stops it at once. Exit status: 0 after a
/// shutdown, 1 when a second signal cut requests off, 2 on a usage or start-up error.
#[derive(Debug, Parser)]
#[command(name = "mock-api", version)]
struct Opts {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The port to listen on; 0 takes a free one.
    #[arg(long, default_value_t = 8765)]
    port: u16,
    /// Serve this OpenAPI document (a file or http URL; 2.0, 3.0 or 3.1) instead of the users
    /// demo: requests validated, resources kept in memory, responses that conform.
    #[arg(long, value_name = "FILE|URL")]
    spec: Option<String>,
    /// The path the document's paths are served under; by default the path of its first
    /// server URL (2.0: basePath), e.g. /api/v3. `/` serves them at the root.
    #[arg(long, value_name = "PATH", requires = "spec")]
    base_path: Option<String>,
    /// With --spec: generate N items into each top-level collection at start (and after a
    /// reset).
    #[arg(long, value_name = "N", default_value_t = 0, requires = "spec", value_parser = clap::value_parser!(u32).range(..=MAX_SEED_ITEMS))]
    seed_items: u32,
    /// With --spec: the only credential the document's security accepts (repeat for more):
    /// a bearer token, an API key, or USER:PASSWORD for basic. Without it, any credential of
    /// the right form is accepted.
    #[arg(long, value_name = "VALUE", requires = "spec")]
    credential: Vec<String>,
    /// Add N synthetic users to the seed data (user{i}@load.test, password `password`),
    /// for load and scale tests.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(..=MAX_EXTRA_USERS))]
    extra_users: u32,
    /// Check every stub (of --stubs, and every one created) against the served document: its
    /// request must be an operation's, each response a documented status with a body its
    /// schema allows. A stub that is not is refused (400, or exit 2 at start).
    #[arg(long)]
    strict_stubs: bool,
    /// Seed data from a JSON or YAML file, checked at start (a bad record is exit 2). The
    /// users demo: an array of {email, password, name, role?, id?, created_at?} replacing the
    /// built-in two. With --spec: items by collection path, {"/pets": [{...}, ...]}.
    #[arg(long, value_name = "FILE")]
    data: Option<std::path::PathBuf>,
    /// Stubs to load at start, from a JSON or YAML file (an array, or {stubs: [...]}).
    #[arg(long, value_name = "FILE")]
    stubs: Option<std::path::PathBuf>,
    /// Makes generated ids and tokens repeatable: the same seed gives the same ones. Tokens
    /// become guessable, so use it for tests only.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Freezes the clock at this RFC 3339 instant (e.g. 2026-01-01T00:00:00Z); it moves only
    /// through POST /__admin/clock.
    #[arg(long, value_name = "TIME", value_parser = mock_api::core::clock::parse)]
    clock: Option<time::OffsetDateTime>,
    /// How many requests the journal keeps (the oldest go first); 0 turns it off.
    #[arg(long, value_name = "N", default_value_t = mock_api::toolkit::journal::DEFAULT_CAPACITY)]
    journal_size: usize,
    /// Makes the admin API (/__admin) want `Authorization: Bearer TOKEN`, and answer clients
    /// beyond loopback. Without it, the admin API answers loopback clients only.
    #[arg(long, value_name = "TOKEN", value_parser = parse_token)]
    admin_token: Option<String>,
    /// Seconds a connection may go without a complete request head while nothing is in
    /// flight on it, or without the next part of a body, before it is closed (half-sent
    /// requests, idle connections).
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    read_timeout: u64,
    /// Seconds requests in flight may take to finish after ctrl-c or SIGTERM.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=3600))]
    shutdown_grace: u64,
    /// Connections served at once; more wait in the listen queue.
    #[arg(long, value_name = "N", default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..=65_536))]
    max_connections: u64,
}

/// The most synthetic users `--extra-users` adds (each costs a few hundred bytes).
const MAX_EXTRA_USERS: i64 = 1_000_000;
/// The most items `--seed-items` generates per collection.
const MAX_SEED_ITEMS: i64 = 10_000;

/// An admin token is sent in a header: visible ASCII only, or it could never match.
fn parse_token(token: &str) -> Result<String, String> {
    match token.bytes().all(|b| b.is_ascii_graphic()) {
        true => Ok(token.to_owned()),
        false => Err("the admin token must be visible ASCII characters (no spaces)".to_owned()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let opts = Opts::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match serve(opts).await {
        Ok(Stop::Clean) => ExitCode::SUCCESS,
        Ok(Stop::Forced) => {
            eprintln!("mock-api: stopped by a second signal; requests in flight were cut off");
            ExitCode::from(1)
        }
        Err(error) => {
            eprintln!("mock-api: {error}");
            ExitCode::from(2)
        }
    }
}

/// How the server stopped.
enum Stop {
    Clean,
    Forced,
}

async fn serve(opts: Opts) -> Result<Stop, String> {
    let listener = tokio::net::TcpListener::bind((opts.host.as_str(), opts.port))
        .await
        .map_err(|e| format!("cannot listen on {}:{}: {e}", opts.host, opts.port))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let spec = match &opts.spec {
        Some(location) => Some(load_spec(location, &opts).await?),
        None => None,
    };
    if spec.is_some() && opts.extra_users > 0 {
        return Err(
            "--extra-users belongs to the users demo; with --spec, use --seed-items".into(),
        );
    }
    let users = match (&spec, &opts.data) {
        (None, Some(path)) => {
            Some(mock_api::engines::users::data::load(path).map_err(|e| e.to_string())?)
        }
        _ => None,
    };
    let config = Config {
        spec,
        users,
        extra_users: opts.extra_users as usize,
        seed: opts.seed,
        clock: opts.clock,
        journal_size: opts.journal_size,
        stubs: opts
            .stubs
            .as_deref()
            .map(mock_api::toolkit::stubs::load)
            .transpose()
            .map_err(|e| e.to_string())?
            .unwrap_or_default(),
        admin_token: opts.admin_token.filter(|t| !t.is_empty()),
        strict_stubs: opts.strict_stubs,
    };
    let app = mock_api::build(&config).map_err(|e| e.to_string())?;
    for warning in &app.warnings {
        eprintln!("mock-api: warning: {warning}");
    }
    if config.admin_token.is_none() && !addr.ip().is_loopback() {
        eprintln!(
            "mock-api: the admin API (/__admin) answers loopback clients only; pass --admin-token to reach it from elsewhere"
        );
    }
    // The listening socket queues connections from here on, so the line is true when printed.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "mock-api listening on http://{addr}{}", app.base)
        .map_err(|e| e.to_string())?;
    stdout.flush().map_err(|e| e.to_string())?;
    drop(stdout);
    let limits = mock_api::server::Limits {
        read_timeout: Duration::from_secs(opts.read_timeout),
        shutdown_grace: Duration::from_secs(opts.shutdown_grace),
        max_connections: opts.max_connections as usize,
    };
    let server =
        mock_api::server::serve_with(listener, app.service, mock_api::shutdown_signal(), &limits);
    // The first signal starts the graceful stop; a second one ends the wait.
    let second_signal = async {
        mock_api::shutdown_signal().await;
        mock_api::shutdown_signal().await;
    };
    tokio::select! {
        result = server => result.map(|()| Stop::Clean).map_err(|e| format!("server error: {e}")),
        () = second_signal => Ok(Stop::Forced),
    }
}

/// The document of `--spec`, and how to serve it.
async fn load_spec(location: &str, opts: &Opts) -> Result<mock_api::app::SpecConfig, String> {
    let (api, text) = mock_api::engines::spec::load(location)
        .await
        .map_err(|e| e.to_string())?;
    let data = match &opts.data {
        Some(path) => Some(
            mock_api::core::files::read_file(path, |text| {
                yaml_serde::from_str::<serde_json::Value>(text)
                    .map_err(|e| format!("not valid JSON or YAML: {e}"))
            })
            .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    Ok(mock_api::app::SpecConfig {
        api: std::sync::Arc::new(api),
        text: std::sync::Arc::from(text),
        options: mock_api::engines::spec::Options {
            // Checked by the engine, with every other option of the document it serves.
            base_path: opts.base_path.clone(),
            seed_items: opts.seed_items as usize,
            data,
            random_seed: opts.seed,
            credentials: opts.credential.clone(),
        },
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        super::Opts::command().debug_assert();
    }
}
