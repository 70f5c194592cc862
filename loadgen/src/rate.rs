//! An open-model load (`--rate N/s`): transactions start at a fixed rate whatever the
//! answers' latency, as k6's `constant-arrival-rate` and Gatling's `injectOpen` do. Each
//! start has its slot on one schedule shared by every user; a user takes the next slot and
//! waits for it. A slot taken after its time (no user was free when it came) is a late
//! start, counted and reported, so coordinated omission shows rather than hides.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// How late a start may be and still count as on time: a timer's own jitter.
const TOLERANCE: Duration = Duration::from_millis(10);

/// Why `--rate` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RateError {
    #[error("--rate {0:?} is starts per second or per minute: 50/s, 50, 3000/m")]
    Shape(String),
    #[error("--rate {0:?} must be more than zero and at most 100000 per second")]
    Range(String),
}

/// The shared schedule of starts.
#[derive(Debug)]
pub struct Pacer {
    per_second: f64,
    interval: Duration,
    /// The time of slot 0: the first start.
    origin: OnceLock<Instant>,
    next: AtomicU64,
    late: AtomicU64,
}

/// What a paced run did: its rate, its starts, and how many were late.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Paced {
    pub per_second: f64,
    pub starts: u64,
    pub late: u64,
}

impl Pacer {
    /// `50/s`, `50` (per second) or `3000/m`.
    pub fn parse(text: &str) -> Result<Pacer, RateError> {
        let trimmed = text.trim();
        let (number, per) = match trimmed.split_once('/') {
            Some((number, "s")) => (number, 1.0),
            Some((number, "m")) => (number, 60.0),
            Some(_) => return Err(RateError::Shape(text.to_owned())),
            None => (trimmed, 1.0),
        };
        let count: f64 = number
            .trim()
            .parse()
            .map_err(|_| RateError::Shape(text.to_owned()))?;
        let per_second = count / per;
        if !(per_second > 0.0 && per_second <= 100_000.0) {
            return Err(RateError::Range(text.to_owned()));
        }
        Ok(Pacer {
            per_second,
            interval: Duration::from_secs_f64(1.0 / per_second),
            origin: OnceLock::new(),
            next: AtomicU64::new(0),
            late: AtomicU64::new(0),
        })
    }

    pub fn per_second(&self) -> f64 {
        self.per_second
    }

    /// Takes the next slot and waits for its time; a slot already past is a late start.
    pub async fn wait(&self) {
        let origin = *self.origin.get_or_init(Instant::now);
        let slot = self.next.fetch_add(1, Ordering::Relaxed);
        let at = u32::try_from(slot)
            .ok()
            .and_then(|slot| self.interval.checked_mul(slot))
            .and_then(|offset| origin.checked_add(offset));
        let Some(at) = at else {
            self.late.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let now = Instant::now();
        if at > now {
            tokio::time::sleep_until(at).await;
        } else if now.duration_since(at) > TOLERANCE {
            self.late.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// What the run did so far.
    pub fn paced(&self) -> Paced {
        Paced {
            per_second: self.per_second,
            starts: self.next.load(Ordering::Relaxed),
            late: self.late.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rates_and_refuses_what_is_not_one() {
        assert_eq!(Pacer::parse("50/s").unwrap().per_second(), 50.0);
        assert_eq!(Pacer::parse("50").unwrap().per_second(), 50.0);
        assert_eq!(Pacer::parse("3000/m").unwrap().per_second(), 50.0);
        for bad in ["0", "0/s", "-5/s", "fast", "5/h", "1e9/s", "NaN"] {
            assert!(Pacer::parse(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_start_no_user_was_free_for_is_late() {
        let pacer = Pacer::parse("1000/s").unwrap();
        // Four starts, each waiting for its slot, a millisecond apart.
        for _ in 0..4 {
            pacer.wait().await;
        }
        // Then nobody asks for a while: the next slots have long passed when taken.
        tokio::time::sleep(Duration::from_millis(100)).await;
        pacer.wait().await;
        pacer.wait().await;
        let paced = pacer.paced();
        assert_eq!(paced.starts, 6);
        assert!(paced.late >= 2, "{paced:?}");
    }
}
