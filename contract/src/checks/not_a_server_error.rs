//! `not_a_server_error`: no 5xx, and an answer at all (a reset, a close or a timeout is a
//! failure of the case, never a crash of the checker).

use crate::checks::finding::{Exchange, Finding};
use crate::checks::names::Check;

pub fn check(ex: &Exchange<'_>) -> Option<Finding> {
    let status = ex.response.status;
    // A status past 599 (httpbin's `/status/863`) is no server error: it is no status HTTP
    // defines, which the status check reports.
    (500..600).contains(&status).then(|| {
        Finding::new(
            Check::NotAServerError,
            format!("status {status}"),
            format!("server error {status}"),
        )
    })
}

/// No response came back.
pub fn transport(error: &str) -> Finding {
    Finding::new(
        Check::NotAServerError,
        format!("transport: {}", transport_class(error)),
        format!("no response: {error}"),
    )
}

/// The kind of a transport error, for deduplication: timeouts are one defect, resets another.
fn transport_class(error: &str) -> &'static str {
    let error = error.to_lowercase();
    if error.contains("timed out") || error.contains("timeout") {
        "timeout"
    } else if error.contains("larger than the limit") {
        "too large"
    } else if error.contains("refused") {
        "refused"
    } else {
        "closed"
    }
}
