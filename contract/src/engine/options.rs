//! How a run is configured.

use std::time::Duration;

use reqwest::Method;

use crate::checks::Settings;
use crate::tls::TlsOptions;

/// How a run is configured.
#[derive(Debug, Clone)]
pub struct Options {
    /// The base URL; operation paths are appended to it.
    pub target: String,
    /// Random cases per operation, for valid and for invalid input each; half as many
    /// random stateful sequences.
    pub max_examples: u32,
    pub seed: u64,
    pub settings: Settings,
    /// Sent with every request (`-H`).
    pub headers: Vec<(String, String)>,
    /// Operations checked at once.
    pub workers: usize,
    /// Cases of one operation in flight at once (`--concurrency`).
    pub concurrency: usize,
    pub request_timeout: Duration,
    /// Sent before each stateful sequence, so that sequences are independent (`--reset`).
    pub reset: Option<(Method, String)>,
    /// The header that names a namespace of the target (the bundled mock's
    /// `X-Mock-Namespace`, `--namespace-header`): each lane of stateful sequences runs in
    /// its own, reset alone, so sequences run at once even with `--reset`.
    pub namespace_header: Option<String>,
    /// The namespace these requests run in (its header and name), set per lane.
    pub namespace: Option<(String, String)>,
    /// Requests per second at most, across all workers (`--rate-limit`).
    pub rate_limit: Option<f64>,
    /// The most bytes of a response body read; past it the case fails (`--max-response-size`).
    pub max_response_size: usize,
    /// How servers are trusted and the checker presents itself over HTTPS.
    pub tls: TlsOptions,
    /// The run stops sending once it has found this many distinct failures (`--max-failures`).
    pub max_failures: Option<usize>,
    /// The run stops sending after this long (`--max-time`).
    pub max_time: Option<Duration>,
}
