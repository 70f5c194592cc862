//! What the command line and a config file say, read into what a run needs, each mistake a
//! clear error before any request: headers to send, the config file, which operations to
//! check, and the document when none is given.
//!
//! - [`headers`]: `-H 'Name: value'`;
//! - [`config`]: `--config FILE`;
//! - [`filter`]: `--include-*` and `--exclude-*`;
//! - [`discover`]: the document a target serves where frameworks put it.

pub mod config;
pub mod discover;
pub mod filter;
pub mod headers;

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
    #[error(
        "--spec is not given and {target} serves no OpenAPI document where frameworks put one ({tried}); give it with --spec FILE|URL"
    )]
    NoServedDocument { target: String, tried: String },
}
