//! The `contract` binary: `contract check`. Exit status: 0 nothing violated, 1 violations
//! found, 2 usage, spec or connection error.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use contract::auth::Auth;
use contract::setup::SetupError;
use contract::setup::config::AuthConfig;
use contract::setup::filter::{Filter, Selection};
use contract::setup::logins::LoginFlags;
use contract::{Options, report};
use indicatif::{ProgressBar, ProgressStyle};

/// Property-based conformance checking of an HTTP API against its OpenAPI document (2.0, 3.0
/// or 3.1).
#[derive(Debug, Parser)]
#[command(name = "contract", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a target against an OpenAPI document (2.0, 3.0 or 3.1).
    ///
    /// Exit status: 0 when nothing is violated, 1 when violations are found, 2 on a usage,
    /// spec or connection error.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// The OpenAPI document (2.0, 3.0 or 3.1), a file or an http(s) URL [default: the one the
    /// target serves at /openapi.json, /swagger.json, /v3/api-docs, /schema/ and the like;
    /// with no --target, the bundled specs/mock-api.yaml].
    #[arg(long, value_name = "FILE|URL")]
    spec: Option<String>,
    /// The base URL of the API [default: the bundled mock API, started on 127.0.0.1:0].
    #[arg(long, value_name = "URL")]
    target: Option<String>,
    /// Random cases per operation, for valid and for invalid input each.
    #[arg(long, value_name = "N", default_value_t = 100)]
    max_examples: u32,
    /// The seed of the random cases: the same seed sends the same requests [default: random].
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Run only these checks (comma-separated).
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    checks: Vec<String>,
    /// Skip these checks (comma-separated).
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    exclude_checks: Vec<String>,
    /// A header for every request, as 'Name: value' (repeatable).
    #[arg(short = 'H', long = "header", value_name = "'NAME: VALUE'")]
    headers: Vec<String>,
    /// Operations checked at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    workers: u16,
    /// Requests of one operation in flight at once: this hides the network's latency, while
    /// the cases, their order of judgement and the report stay those of the seed.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// How long to wait for each response, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    request_timeout: u64,
    /// At most this many requests per second, across all workers (`20` or `20/s`), for
    /// shared staging servers.
    #[arg(long, value_name = "N/s", value_parser = parse_rate)]
    rate_limit: Option<f64>,
    /// The most bytes of a response body read; a bigger body fails its case.
    #[arg(long, value_name = "BYTES", default_value_t = contract::transport::DEFAULT_MAX_RESPONSE)]
    max_response_size: usize,
    /// Trust the CA certificates of this PEM file (instead of the system's) for HTTPS.
    #[arg(long, value_name = "FILE")]
    cacert: Option<PathBuf>,
    /// Do not verify the target's certificate (a warning says so).
    #[arg(long)]
    insecure: bool,
    /// Present this client certificate chain (PEM) over HTTPS; needs --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// The private key (PEM) of --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Fail any response slower than this, in milliseconds (the check is off unless given).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    max_response_time: Option<u64>,
    /// A field or header name that must never appear in a response (repeatable; matched
    /// ignoring case, `_` and `-`) [default: password, password_hash, passwd, secret].
    #[arg(long = "sensitive-field", value_name = "NAME")]
    sensitive_fields: Vec<String>,
    /// Reset the target before each stateful sequence, e.g. 'POST /__admin/reset', so
    /// sequences are independent and reproducible from the seed. The path is joined to
    /// --target; a full URL ('POST http://host:port/__admin/reset') is used as it is.
    #[arg(long, value_name = "'METHOD /path'")]
    reset: Option<String>,
    /// The header that names a namespace of the target, whose data are its own (the
    /// bundled mock's 'X-Mock-Namespace', the default when it is the target): each lane of
    /// stateful sequences runs in a namespace of its own, and --reset resets only that one,
    /// so sequences run at once rather than one at a time.
    #[arg(long, value_name = "NAME")]
    namespace_header: Option<String>,
    /// Log in with this operation, e.g. 'POST /api/auth/login', and send its token as
    /// `Authorization: Bearer` to protected operations (logging in again if it is refused).
    /// Given twice, the second login is another user: `object_level_authorization` checks
    /// that it cannot read or change what the first created.
    #[arg(long, value_name = "'METHOD /path'")]
    auth_login: Vec<String>,
    /// The JSON body of the login request (given twice: the second identity's).
    #[arg(long, value_name = "JSON", requires = "auth_login")]
    auth_body: Vec<String>,
    /// Where the token is in the login's JSON answer [default: /token]. A login that answers
    /// with no token but sets cookies is a session: its cookies are sent instead.
    #[arg(long, value_name = "POINTER", requires = "auth_login")]
    auth_token: Option<String>,
    /// How the token is sent, `{token}` standing for it: 'Authorization: {token}' for a token
    /// that already says its scheme, 'X-Auth-Token: {token}' [default: 'Authorization: Bearer
    /// {token}'].
    #[arg(long, value_name = "'NAME: ...{token}'", requires = "auth_login")]
    auth_header: Option<String>,
    /// HTTP basic credentials for protected operations, as USER:PASSWORD (instead of a login).
    #[arg(long, value_name = "USER:PASSWORD", conflicts_with = "auth_login")]
    auth_basic: Option<String>,
    /// A YAML or JSON file with settings: `reset: 'POST /path'` and
    /// `auth: {login: 'POST /path', body: {...}, token: /token}` (or a list of two, the
    /// second identity last); flags override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Check only operations on this path, as the document writes it (repeatable).
    #[arg(long, value_name = "PATH")]
    include_path: Vec<String>,
    /// Leave out operations on this path (repeatable).
    #[arg(long, value_name = "PATH")]
    exclude_path: Vec<String>,
    /// Check only operations whose path matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    include_path_regex: Option<String>,
    /// Leave out operations whose path matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    exclude_path_regex: Option<String>,
    /// Check only operations with this method (repeatable).
    #[arg(long, value_name = "METHOD")]
    include_method: Vec<String>,
    /// Leave out operations with this method (repeatable).
    #[arg(long, value_name = "METHOD")]
    exclude_method: Vec<String>,
    /// Check only the operation with this operationId (repeatable).
    #[arg(long, value_name = "ID")]
    include_operation_id: Vec<String>,
    /// Leave out the operation with this operationId (repeatable).
    #[arg(long, value_name = "ID")]
    exclude_operation_id: Vec<String>,
    /// Check only operations with this tag (repeatable).
    #[arg(long, value_name = "TAG")]
    include_tag: Vec<String>,
    /// Leave out operations with this tag (repeatable).
    #[arg(long, value_name = "TAG")]
    exclude_tag: Vec<String>,
    /// Stop sending once this many distinct failures are found; the report shows them.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_failures: Option<u32>,
    /// Stop sending after this many seconds; the report shows what was seen.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u32).range(1..))]
    max_time: Option<u32>,
    /// Write the report as JSON.
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,
    /// Write the report as JUnit XML.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

fn main() -> ExitCode {
    let Command::Check(args) = Cli::parse().command;
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("contract: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(check(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("contract: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs the check; `Ok(true)` when nothing was violated.
async fn check(args: CheckArgs) -> Result<bool> {
    let settings = contract::setup::checks::settings(
        &args.checks,
        &args.exclude_checks,
        args.max_response_time,
        &args.sensitive_fields,
    )?;
    let headers = args
        .headers
        .iter()
        .map(|h| contract::setup::headers::parse(h))
        .collect::<Result<Vec<_>, _>>()?;
    // The bundled mock is the default target; it lives as long as this function.
    let (_mock, target) = match &args.target {
        Some(target) => (None, target.trim_end_matches('/').to_owned()),
        None => {
            let mock = mock_api::MockServer::start().context("starting the bundled mock API")?;
            let url = mock.url().to_owned();
            (Some(mock), url)
        }
    };
    let tls = contract::tls::TlsOptions {
        ca_file: args.cacert.clone(),
        insecure: args.insecure,
        client_cert: args.cert.clone().zip(args.key.clone()),
    };
    if tls.insecure {
        eprintln!("contract: warning: --insecure: the target's certificate is not verified");
    }
    let client = contract::transport::client_builder(&tls)?
        .timeout(Duration::from_millis(args.request_timeout))
        .build()?;
    reqwest::Url::parse(&target).with_context(|| format!("--target {target:?} is not a URL"))?;
    client
        .get(&target)
        .send()
        .await
        .with_context(|| format!("cannot reach the target {target}"))?;
    let mut api = load_spec(
        &client,
        args.spec.as_deref(),
        &target,
        args.target.is_some(),
    )
    .await?;
    let before = api.operations.len();
    let keep = filter(&args)?;
    api.retain_operations(move |operation| keep.keeps(operation));
    if api.operations.is_empty() && before > 0 {
        bail!("no operation of the document is left after --include-* and --exclude-*");
    }
    let api = Arc::new(api);
    let seed = args.seed.unwrap_or_else(rand_seed);
    eprintln!(
        "contract: {} operations of {} {} against {target}, seed {seed}",
        api.operations.len(),
        api.title,
        api.version
    );
    let mut config = contract::setup::config::read(args.config.as_deref())?;
    let mut namespace_header = args.namespace_header.clone();
    if args.target.is_none() && args.spec.is_none() {
        // The bundled mock with its own document: its reset, namespaces and seed logins, as
        // it says them, apply unless told otherwise, so every operation is exercised.
        let driving = mock_api::MockServer::driving();
        config.reset.get_or_insert(driving.reset);
        namespace_header.get_or_insert(driving.namespace_header);
        if config.auth.is_empty() {
            // Two seed users: the second is the other identity of object_level_authorization.
            config.auth = driving
                .login_bodies
                .into_iter()
                .map(|body| AuthConfig {
                    login: driving.login.clone(),
                    body,
                    token: None,
                    header: None,
                })
                .collect();
        }
    }
    if let Some(name) = &namespace_header
        && reqwest::header::HeaderName::from_bytes(name.trim().as_bytes()).is_err()
    {
        bail!("--namespace-header {name:?} is not a header name");
    }
    let reset = match args.reset.as_deref().or(config.reset.as_deref()) {
        Some(reset) => {
            // A full URL reaches a reset outside the target's base path (a mock's admin API).
            let (method, path) =
                openapi::login::operation(reset).map_err(|e| anyhow::anyhow!("--reset: {e}"))?;
            let absolute = path.starts_with("http://") || path.starts_with("https://");
            if !absolute && !path.starts_with('/') {
                bail!("--reset: the path must start with '/' or be a full URL: {path:?}");
            }
            Some((method, path.to_owned()))
        }
        None => None,
    };
    // Basic credentials stand instead of every login, the config's included.
    let mut logins = match args.auth_basic {
        Some(_) => Vec::new(),
        None => {
            let flags = LoginFlags {
                logins: &args.auth_login,
                bodies: &args.auth_body,
                token: args.auth_token.as_deref(),
                header: args.auth_header.as_deref(),
            };
            contract::setup::logins::logins(&flags, &config)?
        }
    }
    .into_iter();
    let mut auth = match &args.auth_basic {
        Some(basic) => {
            let (user, password) = basic
                .split_once(':')
                .context("--auth-basic is USER:PASSWORD")?;
            Auth::basic(user, password)
        }
        None => Auth::new(logins.next()),
    };
    if let Some(second) = logins.next() {
        auth = auth.with_second(second);
    }
    let auth = Arc::new(auth);
    let options = Arc::new(Options {
        reset,
        target,
        max_examples: args.max_examples,
        seed,
        settings,
        headers,
        workers: usize::from(args.workers),
        concurrency: usize::from(args.concurrency),
        request_timeout: Duration::from_millis(args.request_timeout),
        max_response_size: args.max_response_size,
        rate_limit: args.rate_limit,
        tls,
        max_failures: args.max_failures.map(|n| n as usize),
        max_time: args.max_time.map(|s| Duration::from_secs(u64::from(s))),
        namespace_header,
        namespace: None,
    });
    let bar = progress_bar(api.operations.len() as u64);
    let ticker = bar.clone();
    let result = contract::run(api, options, auth, move |operation| {
        ticker.set_message(operation.to_owned());
        ticker.inc(1);
    })
    .await?;
    bar.finish_and_clear();
    print!("{}", report::terminal(&result));
    println!("{}", report::timing(&result));
    if let Some(path) = &args.report_json {
        std::fs::write(path, report::json(&result))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, report::junit(&result))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(result.failures.is_empty())
}

/// Which operations `--include-*` and `--exclude-*` keep.
fn filter(args: &CheckArgs) -> Result<Filter, SetupError> {
    let include = Selection {
        paths: args.include_path.clone(),
        path_regex: args.include_path_regex.clone(),
        methods: args.include_method.clone(),
        operation_ids: args.include_operation_id.clone(),
        tags: args.include_tag.clone(),
    };
    let exclude = Selection {
        paths: args.exclude_path.clone(),
        path_regex: args.exclude_path_regex.clone(),
        methods: args.exclude_method.clone(),
        operation_ids: args.exclude_operation_id.clone(),
        tags: args.exclude_tag.clone(),
    };
    Filter::new(include, exclude)
}

/// `20`, `20/s` or `0.5/s`: a positive number of requests per second.
fn parse_rate(text: &str) -> Result<f64, String> {
    let number = text.trim().strip_suffix("/s").unwrap_or(text.trim());
    match number.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 && rate <= 1e6 => Ok(rate),
        _ => Err(format!("{text:?} is not a rate such as 20/s")),
    }
}

/// The document from `--spec` (file or URL); else, for a target of the user's, the one it
/// serves where frameworks put it; else, for the bundled mock, its own.
async fn load_spec(
    client: &reqwest::Client,
    spec: Option<&str>,
    target: &str,
    external: bool,
) -> Result<openapi::Api> {
    match spec {
        Some(location) => Ok(openapi::load(client, location).await?),
        None if external => {
            let (api, path) = contract::setup::discover::served(client, target).await?;
            eprintln!("contract: using the document the target serves at {path}");
            Ok(api)
        }
        None => Ok(openapi::parse(mock_api::spec::YAML)?),
    }
}

fn rand_seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    // The standard library seeds RandomState from the OS: enough for a seed that is printed.
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// A progress bar on a terminal; hidden (drawing nothing) when stderr is not one, as in CI.
fn progress_bar(operations: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(operations);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} operations  {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        super::Cli::command().debug_assert();
    }
}
