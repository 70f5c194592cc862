//! What the command line and a config file say, read into what a run needs, each mistake a
//! clear error before any request: headers to send, the config file, which operations to
//! check, and the document when none is given.
//!
//! - [`headers`]: `-H 'Name: value'`;
//! - [`config`]: `--config FILE`;
//! - [`filter`]: `--include-*` and `--exclude-*`;
//! - [`discover`]: the document a target serves where frameworks put it;
//! - [`logins`]: `--auth-login` and its companions, else the config file's;
//! - [`checks`]: which checks run, and their limits.

pub mod checks;
pub mod config;
pub mod discover;
pub mod filter;
pub mod headers;
pub mod logins;

/// Why a run cannot be set up: the user's own input, said at once.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("-H {given:?}: {why}")]
    Header { given: String, why: String },
    #[error("{flag} {pattern:?} is not a regular expression: {why}")]
    Pattern {
        flag: &'static str,
        pattern: String,
        why: String,
    },
    #[error("reading {path}: {why}")]
    ConfigRead { path: String, why: String },
    #[error("{path} is not a valid config: {why}")]
    Config { path: String, why: String },
    #[error("--auth-login is given at most twice, with at most one --auth-body each")]
    TooManyLogins,
    #[error("--auth-body {body:?} is not JSON: {why}")]
    LoginBody { body: String, why: String },
    #[error("--auth-login: {0}")]
    Login(#[from] openapi::login::LoginError),
    #[error("unknown check {name:?}; the checks are: {known}")]
    UnknownCheck { name: String, known: String },
    #[error(
        "--spec is not given and {target} serves no OpenAPI document where frameworks put one ({tried}); give it with --spec FILE|URL"
    )]
    NoServedDocument { target: String, tried: String },
}
