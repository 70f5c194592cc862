//! `positive_data_acceptance`: input the document allows is not refused as bad input.

use crate::checks::finding::{Exchange, Finding, answers_precondition};
use crate::checks::names::Check;
use openapi::generate::Kind;

/// The 4xx statuses a server may give valid input: not authorised, no such thing, a conflict
/// with the current state, too many requests (as Schemathesis counts them).
const VALID_INPUT_REFUSALS: [u16; 5] = [401, 403, 404, 409, 429];

pub fn check(ex: &Exchange<'_>) -> Option<Finding> {
    let status = ex.response.status;
    // A 412 answers the precondition the case carries (`If-Match`), not its data.
    let refused = (400..500).contains(&status)
        && !VALID_INPUT_REFUSALS.contains(&status)
        && !answers_precondition(ex);
    (ex.case.kind == Kind::Positive && refused).then(|| {
        Finding::new(
            Check::PositiveDataAcceptance,
            format!("status {status}"),
            format!("rejected valid input with {status}"),
        )
    })
}
