//! `max_response_time`: an answer within the limit of `--max-response-time`, when one is set.

use crate::checks::finding::{Exchange, Finding};
use crate::checks::names::Check;

pub fn check(ex: &Exchange<'_>) -> Option<Finding> {
    let limit = ex
        .settings
        .max_response_time
        .filter(|limit| ex.response.elapsed > *limit)?;
    Some(Finding::new(
        Check::MaxResponseTime,
        "slow",
        format!(
            "answered in {} ms, over the limit of {} ms",
            ex.response.elapsed.as_millis(),
            limit.as_millis()
        ),
    ))
}
