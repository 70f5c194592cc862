//! `status_code_conformance`: the status is one the operation documents (exactly, by range,
//! or under `default`).

use crate::checks::finding::{Exchange, Finding};
use crate::checks::names::Check;
use openapi::model::ResponseSpec;

/// The documented response for the status, or the finding that there is none.
pub fn check<'a>(ex: &Exchange<'a>) -> Result<&'a ResponseSpec, Finding> {
    let status = ex.response.status;
    ex.operation.response_for(status).ok_or_else(|| {
        let documented = ex.operation.documented_statuses().join(", ");
        Finding::new(
            Check::StatusCodeConformance,
            format!("status {status}"),
            format!("status {status} is not documented (documented: {documented})"),
        )
    })
}
