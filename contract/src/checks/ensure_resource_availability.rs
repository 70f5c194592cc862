//! `ensure_resource_availability`: what a create made, the linked read finds; what an update
//! answered, the read that follows carries.

use serde_json::{Map, Value};

use crate::checks::finding::Finding;
use crate::checks::names::Check;

/// The verdict on `read`'s answer for what `source` made or changed.
pub fn judge_found(source: &str, read: &str, status: u16) -> Option<Finding> {
    matches!(status, 404 | 410).then(|| {
        Finding::new(
            Check::EnsureResourceAvailability,
            format!("{source} then {read}"),
            format!("{source} succeeded, but {read} answered {status} for what it made"),
        )
    })
}

/// The verdict on a read after an update: every field the update answered with is there.
pub fn judge_kept(
    update: &str,
    read: &str,
    written: &Map<String, Value>,
    read_back: &Map<String, Value>,
) -> Option<Finding> {
    let missing = written.keys().find(|k| !read_back.contains_key(*k))?;
    Some(Finding::new(
        Check::EnsureResourceAvailability,
        format!("{update} then {read} lost {missing}"),
        format!("field `{missing}` of the {update} answer is missing from the {read} that follows"),
    ))
}
