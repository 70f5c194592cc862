//! The `mock-api` binary: parses options, binds, prints the listening line, serves until
//! ctrl-c or SIGTERM.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use mock_api::{Config, Store};

/// A mock REST API (users, auth, health) for integration tests in any language.
///
/// The first line on stdout is `mock-api listening on http://HOST:PORT`, printed once the
/// socket accepts connections. Exit status: 0 after a graceful shutdown, 2 on a usage or
/// start-up error.
#[derive(Debug, Parser)]
#[command(name = "mock-api", version)]
struct Opts {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The port to listen on; 0 takes a free one.
    #[arg(long, default_value_t = 8765)]
    port: u16,
    /// Add N synthetic users to the seed data (user{i}@load.test, password `password`),
    /// for load and scale tests.
    #[arg(long, value_name = "N", default_value_t = 0)]
    extra_users: usize,
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
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mock-api: {error}");
            ExitCode::from(2)
        }
    }
}

async fn serve(opts: Opts) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind((opts.host.as_str(), opts.port))
        .await
        .map_err(|e| format!("cannot listen on {}:{}: {e}", opts.host, opts.port))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let store = Arc::new(Store::new(&Config {
        extra_users: opts.extra_users,
    }));
    // The listening socket queues connections from here on, so the line is true when printed.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "mock-api listening on http://{addr}").map_err(|e| e.to_string())?;
    stdout.flush().map_err(|e| e.to_string())?;
    drop(stdout);
    mock_api::server::serve(listener, mock_api::app(store), mock_api::shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        super::Opts::command().debug_assert();
    }
}
