//! Which checks run and how: `--checks`, `--exclude-checks`, `--max-response-time` and
//! `--sensitive-fields`.

use std::collections::BTreeSet;
use std::time::Duration;

use super::SetupError;
use crate::checks::{self, Check, Settings};

/// The settings of the checks from their flags: every check unless `--checks` names some,
/// less those excluded; `max_response_time` only with a limit.
pub fn settings(
    only: &[String],
    excluded: &[String],
    max_response_time_ms: Option<u64>,
    sensitive_fields: &[String],
) -> Result<Settings, SetupError> {
    let parse = |names: &[String]| {
        names
            .iter()
            .filter(|n| !n.trim().is_empty())
            .map(|name| {
                Check::parse(name).ok_or_else(|| SetupError::UnknownCheck {
                    name: name.clone(),
                    known: Check::ALL
                        .iter()
                        .map(|c| c.name())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
            })
            .collect::<Result<Vec<Check>, SetupError>>()
    };
    let mut enabled: BTreeSet<Check> = match only.is_empty() {
        true => Check::ALL.into_iter().collect(),
        false => parse(only)?.into_iter().collect(),
    };
    for check in parse(excluded)? {
        enabled.remove(&check);
    }
    if max_response_time_ms.is_none() {
        enabled.remove(&Check::MaxResponseTime);
    }
    let names: Vec<String> = match sensitive_fields.is_empty() {
        true => checks::SENSITIVE_FIELDS
            .iter()
            .map(|s| s.to_string())
            .collect(),
        false => sensitive_fields.to_vec(),
    };
    Ok(Settings {
        enabled,
        max_response_time: max_response_time_ms.map(Duration::from_millis),
        sensitive: names
            .iter()
            .map(|n| checks::normalize_field(n))
            .filter(|n| !n.is_empty())
            .collect(),
    })
}
