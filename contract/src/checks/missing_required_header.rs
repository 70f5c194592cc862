//! `missing_required_header`: a request without a required header is not served as if it
//! were complete.

use crate::checks::finding::{Exchange, Finding};
use crate::checks::names::Check;
use openapi::generate::Kind;

pub fn check(ex: &Exchange<'_>) -> Option<Finding> {
    let Kind::MissingHeader(name) = &ex.case.kind else {
        return None;
    };
    let status = ex.response.status;
    (200..300).contains(&status).then(|| {
        Finding::new(
            Check::MissingRequiredHeader,
            name.clone(),
            format!("answered {status} without the required header `{name}`"),
        )
    })
}
