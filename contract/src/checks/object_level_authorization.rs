//! `object_level_authorization`: a resource one identity created is neither readable nor
//! writable by another (broken object level authorization, the first of OWASP's API risks).

use crate::checks::finding::Finding;
use crate::checks::names::Check;

/// The verdict on `probe`'s answer to the second identity, for a resource the first made
/// with `created`.
pub fn judge(created: &str, probe: &str, status: u16) -> Option<Finding> {
    (200..300).contains(&status).then(|| {
        Finding::new(
            Check::ObjectLevelAuthorization,
            format!("{created} then {probe}"),
            format!(
                "{probe} by a second identity answered {status} for a resource the first created with {created}"
            ),
        )
    })
}
