//! `negative_data_rejection`: input the document forbids is refused, with a status that says
//! the input was bad.

use crate::checks::finding::{Exchange, Finding};
use crate::checks::names::Check;
use openapi::generate::Kind;

/// The statuses that say "your input is bad", as Schemathesis counts them (plus 413).
const REJECTIONS: [u16; 12] = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429];

pub fn check(ex: &Exchange<'_>) -> Option<Finding> {
    let Kind::Negative(what) = &ex.case.kind else {
        return None;
    };
    let status = ex.response.status;
    if status < 400 {
        return Some(Finding::new(
            Check::NegativeDataRejection,
            what.clone(),
            format!("accepted invalid input ({what}) with {status}"),
        ));
    }
    (status < 500 && !REJECTIONS.contains(&status)).then(|| {
        Finding::new(
            Check::NegativeDataRejection,
            format!("{what} {status}"),
            format!("answered invalid input ({what}) with {status}, which does not say the input was bad"),
        )
    })
}
