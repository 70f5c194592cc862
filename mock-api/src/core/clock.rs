//! The time the mock tells: the system's, or an instant fixed by `--clock` or
//! `POST /__admin/clock` that moves only when told to, so that timestamps repeat run to run.

use std::sync::RwLock;

use time::format_description::BorrowedFormatItem;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::core::sync::{read, write};

#[derive(Debug)]
pub struct Clock {
    /// `Some` while the clock is frozen at that instant.
    fixed: RwLock<Option<OffsetDateTime>>,
    /// What a reset of everything brings back: the `--clock` instant, if any.
    start: Option<OffsetDateTime>,
}

impl Clock {
    pub fn new(start: Option<OffsetDateTime>) -> Clock {
        let start = start.map(truncate);
        Clock {
            fixed: RwLock::new(start),
            start,
        }
    }

    /// Now, at millisecond precision: what JavaScript and most clients parse without loss.
    pub fn now(&self) -> OffsetDateTime {
        match *read(&self.fixed) {
            Some(at) => at,
            None => truncate(OffsetDateTime::now_utc()),
        }
    }

    pub fn is_frozen(&self) -> bool {
        read(&self.fixed).is_some()
    }

    /// Freezes the clock at `at`, or (with `None`) goes back to the system's time.
    pub fn set(&self, at: Option<OffsetDateTime>) {
        *write(&self.fixed) = at.map(truncate);
    }

    /// Moves the clock forward by `by` and freezes it there; a running clock freezes at its
    /// current time plus `by`. `None` if the result is out of range.
    pub fn advance(&self, by: Duration) -> Option<OffsetDateTime> {
        let mut fixed = write(&self.fixed);
        let from = fixed.unwrap_or_else(|| truncate(OffsetDateTime::now_utc()));
        let to = from.checked_add(by)?;
        *fixed = Some(to);
        Some(to)
    }

    /// Back to how the server started.
    pub fn reset(&self) {
        self.set(self.start);
    }
}

/// A timestamp that cannot be read, or that is out of range in UTC.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("`{0}` is not an RFC 3339 timestamp ({1})")]
    Format(String, String),
    #[error("`{0}` is out of range (years 0000 to 9999 in UTC)")]
    Range(String),
}

/// Parses an RFC 3339 timestamp such as `2026-01-01T00:00:00Z`.
pub fn parse(text: &str) -> Result<OffsetDateTime, TimeError> {
    let at = OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| TimeError::Format(text.to_owned(), e.to_string()))?;
    // `9999-12-31T23:00:00-05:00` is in year 10000 in UTC: out of range, not a panic.
    at.checked_to_offset(UtcOffset::UTC)
        .ok_or_else(|| TimeError::Range(text.to_owned()))
}

fn truncate(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_millisecond(at.millisecond()).unwrap_or(at)
}

/// RFC 3339 in UTC with exactly three fractional digits, so that timestamps have one width
/// and sort as strings (`Rfc3339` drops trailing zeros: `.9Z` would sort after `.91Z`).
const TIMESTAMP: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

pub fn format_timestamp(at: OffsetDateTime) -> String {
    at.checked_to_offset(UtcOffset::UTC)
        .and_then(|at| at.format(TIMESTAMP).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_moves_only_when_told() {
        let start = parse("2026-01-01T00:00:00Z").unwrap();
        let clock = Clock::new(Some(start));
        assert_eq!(clock.now(), start);
        assert_eq!(clock.now(), start);
        let later = clock.advance(Duration::seconds(90)).unwrap();
        assert_eq!(later, parse("2026-01-01T00:01:30Z").unwrap());
        clock.set(None);
        assert!(!clock.is_frozen());
        clock.reset();
        assert_eq!(clock.now(), start);
        assert!(
            parse("yesterday")
                .unwrap_err()
                .to_string()
                .contains("RFC 3339")
        );
    }
}
