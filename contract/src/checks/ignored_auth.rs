//! `ignored_auth`: a protected operation refuses a request without credentials and one with
//! forged credentials.

use crate::checks::finding::Finding;
use crate::checks::names::Check;

/// The verdict on a protected operation's answer to a request `what` (without credentials,
/// with forged ones).
pub fn judge(status: u16, what: &str) -> Option<Finding> {
    (status < 400).then(|| {
        Finding::new(
            Check::IgnoredAuth,
            what,
            format!("a protected operation answered {status} {what}"),
        )
    })
}
