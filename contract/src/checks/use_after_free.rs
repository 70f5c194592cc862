//! `use_after_free`: after a DELETE of a resource succeeded, every operation on that
//! resource answers as if it were gone.

use crate::checks::finding::Finding;
use crate::checks::names::Check;

/// The verdict on `probe`'s answer after `deleted` succeeded.
pub fn judge(deleted: &str, probe: &str, status: u16) -> Option<Finding> {
    (status < 400).then(|| {
        Finding::new(
            Check::UseAfterFree,
            format!("{deleted} then {probe}"),
            format!("after {deleted} succeeded, {probe} still answered {status}"),
        )
    })
}
