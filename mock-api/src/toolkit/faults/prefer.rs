//! Faults asked for per request in a `Prefer` header (RFC 7240).

use axum::http::{HeaderMap, HeaderName, StatusCode};

use super::kinds::{Delay, FaultKind, Injection, MAX_DELAY_MS};
use crate::toolkit::documented::Choice;

/// RFC 7240's header; `http` has no constant for it.
pub(super) const PREFER: HeaderName = HeaderName::from_static("prefer");
/// The preferences of `Prefer: delay=200, status=503, fault=reset` (RFC 7240). Preferences
/// this server does not know are ignored, as the RFC asks; known ones with bad values are
/// an error. Returns what was asked and the text of `Preference-Applied`.
pub fn prefer(headers: &HeaderMap) -> Result<Option<(Injection, String)>, String> {
    let mut injection = Injection::default();
    let mut applied = Vec::new();
    for value in headers.get_all(&PREFER) {
        let value = value
            .to_str()
            .map_err(|_| "the Prefer header is not valid text".to_owned())?;
        for preference in value.split(',') {
            // Parameters after `;` qualify a preference; none of ours has any.
            let preference = preference.split(';').next().unwrap_or_default().trim();
            let (name, value) = preference.split_once('=').unwrap_or((preference, ""));
            let value = value.trim().trim_matches('"');
            match name.trim().to_ascii_lowercase().as_str() {
                "delay" => injection.delay = Some(Delay::parse(value)?),
                "status" => {
                    let status = value
                        .parse::<u16>()
                        .ok()
                        .filter(|s| (400..=599).contains(s))
                        .and_then(|s| StatusCode::from_u16(s).ok())
                        .ok_or_else(|| {
                            format!("status `{value}` must be an error status from 400 to 599")
                        })?;
                    injection.status = Some(status);
                }
                "fault" => injection.fault = Some(FaultKind::parse(value)?),
                // Prism's: a documented response, by status and by example name.
                "code" => {
                    let code = value
                        .parse::<u16>()
                        .ok()
                        .filter(|s| (100..=599).contains(s))
                        .ok_or_else(|| {
                            format!("code `{value}` must be a status from 100 to 599")
                        })?;
                    injection
                        .documented
                        .get_or_insert_with(Choice::default)
                        .code = Some(code);
                }
                "example" => {
                    if value.is_empty() || value.len() > 200 {
                        return Err("example must name an example of the document".to_owned());
                    }
                    injection
                        .documented
                        .get_or_insert_with(Choice::default)
                        .example = Some(value.to_owned());
                }
                "dribble" => {
                    let ms = value
                        .parse::<u64>()
                        .ok()
                        .filter(|ms| *ms <= MAX_DELAY_MS)
                        .ok_or_else(|| {
                            format!("dribble `{value}` must be milliseconds up to {MAX_DELAY_MS}")
                        })?;
                    injection.dribble_ms = Some(ms);
                }
                _ => continue,
            }
            applied.push(format!("{}={value}", name.trim().to_ascii_lowercase()));
        }
    }
    Ok((!applied.is_empty()).then(|| (injection, applied.join(", "))))
}
