//! `unsupported_method`: a method a path does not document is answered 405 with an `Allow`
//! header listing the methods it supports. The key is the kind of answer, not the path: a
//! server that never sends `Allow` is one defect, however many paths show it.

use crate::checks::finding::Finding;
use crate::checks::names::Check;
use crate::http::Outcome;

pub fn judge(method: &str, outcome: &Outcome) -> Option<Finding> {
    let (key, message) = match outcome {
        Outcome::Transport(error) => ("no response".to_owned(), format!("no response: {error}")),
        Outcome::Response(r) if r.status != 405 => (
            format!("answered {}", r.status),
            format!(
                "undocumented method {method} answered {} instead of 405",
                r.status
            ),
        ),
        Outcome::Response(r) if r.header("allow").is_none() => (
            "no Allow header".to_owned(),
            "405 without an Allow header listing the methods the path supports".to_owned(),
        ),
        Outcome::Response(_) => return None,
    };
    Some(Finding::new(Check::UnsupportedMethod, key, message))
}
