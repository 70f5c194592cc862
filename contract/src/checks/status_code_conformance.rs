//! `status_code_conformance`: the status is one the operation documents (exactly, by range,
//! or under `default`).

use crate::checks::finding::{Exchange, Finding, answers_precondition};
use crate::checks::names::Check;
use openapi::model::ResponseSpec;

/// The documented response for the status, or the finding that there is none.
pub fn check<'a>(ex: &Exchange<'a>) -> Result<Option<&'a ResponseSpec>, Finding> {
    let status = ex.response.status;
    if let Some(spec) = ex.operation.response_for(status) {
        return Ok(Some(spec));
    }
    // 304 and 412 answer a precondition the request carries: HTTP's, whatever the document
    // lists.
    if answers_precondition(ex) {
        return Ok(None);
    }
    Err({
        let documented = ex.operation.documented_statuses().join(", ");
        Finding::new(
            Check::StatusCodeConformance,
            format!("status {status}"),
            format!("status {status} is not documented (documented: {documented})"),
        )
    })
}
