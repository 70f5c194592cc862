//! `content_type_conformance`: a response with a documented body says which documented media
//! type it is.

use serde_json::Value;

use crate::checks::finding::{Exchange, Finding, media_matches, without_content};
use crate::checks::names::Check;
use openapi::model::ResponseSpec;
use openapi::model::essence;

/// The documented media type and schema the response is in (`None` when no body is
/// documented), or the finding that it is in none of them.
pub fn check<'a>(
    ex: &Exchange<'_>,
    spec: &'a ResponseSpec,
) -> Result<Option<(&'a str, Option<&'a Value>)>, Finding> {
    if spec.content.is_empty() {
        return Ok(None);
    }
    let status = ex.response.status;
    let documented = || {
        spec.content
            .iter()
            .map(|(m, _)| m.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(content_type) = ex.response.header("content-type") else {
        // No body where none is described (a 2.0 response without a schema is any body of
        // the operation's `produces` types, or none), or an answer that never has one (to
        // HEAD, a 204, a 304): nothing to say which type it is.
        let no_body_described = spec.content.iter().all(|(_, s)| s.is_none());
        if ex.response.body.is_empty() && (no_body_described || without_content(ex)) {
            return Ok(None);
        }
        return Err(Finding::new(
            Check::ContentTypeConformance,
            format!("{status} no content type"),
            format!("no Content-Type header; documented: {}", documented()),
        ));
    };
    // A wildcard names no type at all (springfox answers `*/*` as it was documented); what
    // was documented under it is then unread.
    if essence(content_type).contains('*') {
        return Err(Finding::new(
            Check::ContentTypeConformance,
            format!("{status} wildcard"),
            format!(
                "Content-Type `{content_type}` is a wildcard, not a media type (documented: {})",
                documented()
            ),
        ));
    }
    match spec
        .content
        .iter()
        .find(|(media, _)| media_matches(media, content_type))
    {
        Some((media, schema)) => Ok(Some((media.as_str(), schema.as_ref()))),
        None => Err(Finding::new(
            Check::ContentTypeConformance,
            format!("{status} {}", essence(content_type)),
            format!(
                "Content-Type `{content_type}` is not documented for {status} (documented: {})",
                documented()
            ),
        )),
    }
}
