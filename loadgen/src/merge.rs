//! Many generators, one result. The JSON reports of several goose runs (one per generator,
//! or a merged report of ours) combine exactly: request counts and failures add, latency
//! histograms add bucket by bucket, and percentiles are computed again from the merged
//! buckets, the way goose computes them, never averaged across generators. Thresholds are
//! then judged on the merged result.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// The percentiles every merged request reports.
pub const PERCENTILES: [f64; 4] = [0.5, 0.95, 0.99, 0.999];

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{0}: not a goose JSON report nor a merged report (no raw_metrics.requests)")]
    NotAReport(String),
    #[error("{0}: {1}")]
    Malformed(String, String),
    #[error("{0}: the counts add up past what can be counted (2^64): not reports of real runs")]
    Overflow(String),
}

/// The merged measurements of one request, or of all.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Scope {
    pub successes: u64,
    pub failures: u64,
    /// How many response times fell in each bucket, keyed by the bucket's fastest time in
    /// microseconds (goose's buckets).
    pub buckets_us: BTreeMap<u64, u64>,
    pub minimum_us: u64,
    pub maximum_us: u64,
    pub total_us: u64,
    /// Status code to count.
    pub statuses: BTreeMap<u16, u64>,
}

/// Everything merged.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    /// How many reports went in.
    pub reports: usize,
    /// The longest run among them: generators run side by side, so this is the run's length.
    pub seconds: f64,
    pub requests: BTreeMap<String, Scope>,
    pub all: Scope,
}

impl Scope {
    /// Requests in all. [`Scope::absorb`] keeps this within `u64`.
    pub fn count(&self) -> u64 {
        self.successes.saturating_add(self.failures)
    }

    /// Response times recorded, in all buckets.
    fn timed(&self) -> u128 {
        self.buckets_us.values().map(|n| u128::from(*n)).sum()
    }

    /// A percentile (0.95 for p95) in milliseconds, as goose computes it: the first bucket at
    /// which the running count reaches `round(count × p)`, held within the minimum and
    /// maximum. `None` without samples.
    pub fn percentile_ms(&self, p: f64) -> Option<f64> {
        let timed = self.timed();
        if timed == 0 {
            return None;
        }
        let wanted = (timed as f64 * p).round() as u128;
        let mut seen: u128 = 0;
        for (bucket, count) in &self.buckets_us {
            seen += u128::from(*count);
            if seen >= wanted {
                return Some((*bucket).clamp(self.minimum_us, self.maximum_us) as f64 / 1000.0);
            }
        }
        Some(self.maximum_us as f64 / 1000.0)
    }

    pub fn average_ms(&self) -> Option<f64> {
        let timed = self.timed();
        (timed > 0).then(|| self.total_us as f64 / timed as f64 / 1000.0)
    }

    /// Adds another scope's measurements to this one; `None` (and this scope unchanged) when
    /// a count would pass `u64`.
    pub fn absorb(&mut self, other: &Scope) -> Option<()> {
        // All or nothing: the sum is built on a copy and kept only if every count fits.
        let mut sum = self.clone();
        sum.absorb_checked(other)?;
        *self = sum;
        Some(())
    }

    fn absorb_checked(&mut self, other: &Scope) -> Option<()> {
        let had_samples = !self.buckets_us.is_empty();
        self.successes = self.successes.checked_add(other.successes)?;
        self.failures = self.failures.checked_add(other.failures)?;
        self.successes.checked_add(self.failures)?;
        for (bucket, count) in &other.buckets_us {
            let slot = self.buckets_us.entry(*bucket).or_default();
            *slot = slot.checked_add(*count)?;
        }
        for (status, count) in &other.statuses {
            let slot = self.statuses.entry(*status).or_default();
            *slot = slot.checked_add(*count)?;
        }
        if !other.buckets_us.is_empty() {
            self.minimum_us = if had_samples {
                self.minimum_us.min(other.minimum_us)
            } else {
                other.minimum_us
            };
            self.maximum_us = self.maximum_us.max(other.maximum_us);
        }
        self.total_us = self.total_us.checked_add(other.total_us)?;
        Some(())
    }
}

impl Totals {
    /// Adds one report (goose's JSON report, or a merged report of ours).
    pub fn add(&mut self, name: &str, report: &Value) -> Result<(), MergeError> {
        let (seconds, requests) = match (
            report.pointer("/raw_metrics/requests"),
            report.get("requests"),
        ) {
            (Some(requests), _) => (
                report
                    .pointer("/raw_metrics/duration")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0),
                goose_requests(name, requests)?,
            ),
            (None, Some(requests)) if report.get("all").is_some() => {
                let merged: BTreeMap<String, Scope> = serde_json::from_value(requests.clone())
                    .map_err(|e| MergeError::Malformed(name.to_owned(), e.to_string()))?;
                (
                    report.get("seconds").and_then(Value::as_f64).unwrap_or(0.0),
                    merged,
                )
            }
            _ => return Err(MergeError::NotAReport(name.to_owned())),
        };
        let reports = report
            .get("reports")
            .and_then(Value::as_u64)
            .map_or(Some(1), |n| usize::try_from(n).ok());
        let overflow = || MergeError::Overflow(name.to_owned());
        // All or nothing: the report is added to a copy, kept only if every count fits.
        let mut sum = self.clone();
        sum.reports = reports
            .and_then(|n| sum.reports.checked_add(n))
            .ok_or_else(overflow)?;
        sum.seconds = sum.seconds.max(seconds);
        for (request, scope) in requests {
            sum.all.absorb(&scope).ok_or_else(overflow)?;
            sum.requests
                .entry(request)
                .or_default()
                .absorb(&scope)
                .ok_or_else(overflow)?;
        }
        *self = sum;
        Ok(())
    }
}

/// Reads back what [`Scope`] serialises as (merged reports can be merged again).
impl<'de> serde::Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        struct Raw {
            successes: u64,
            failures: u64,
            buckets_us: BTreeMap<String, u64>,
            minimum_us: u64,
            maximum_us: u64,
            total_us: u64,
            #[serde(default)]
            statuses: BTreeMap<String, u64>,
        }
        let raw = Raw::deserialize(deserializer)?;
        let number = |k: &String| k.parse::<u64>().map_err(serde::de::Error::custom);
        let status = |k: &String| {
            status_code(k).ok_or_else(|| {
                serde::de::Error::custom(format!("status {k:?} is not from 100 to 599"))
            })
        };
        Ok(Scope {
            successes: raw.successes,
            failures: raw.failures,
            buckets_us: raw
                .buckets_us
                .iter()
                .map(|(k, v)| Ok((number(k)?, *v)))
                .collect::<Result<_, D::Error>>()?,
            minimum_us: raw.minimum_us,
            maximum_us: raw.maximum_us,
            total_us: raw.total_us,
            statuses: raw
                .statuses
                .iter()
                .map(|(k, v)| Ok((status(k)?, *v)))
                .collect::<Result<_, D::Error>>()?,
        })
    }
}

/// An HTTP status code: 100 to 599.
fn status_code(text: &str) -> Option<u16> {
    text.parse::<u16>().ok().filter(|s| (100..=599).contains(s))
}

/// The requests of a goose JSON report, keyed as its tables name them (`GET /path`).
fn goose_requests(name: &str, requests: &Value) -> Result<BTreeMap<String, Scope>, MergeError> {
    let malformed = |what: &str| MergeError::Malformed(name.to_owned(), what.to_owned());
    let mut out = BTreeMap::new();
    for (key, entry) in requests
        .as_object()
        .ok_or_else(|| malformed("raw_metrics.requests is not an object"))?
    {
        let raw = entry
            .get("raw_data")
            .ok_or_else(|| malformed("a request without raw_data"))?;
        let number = |value: &Value, field: &str| {
            value
                .get(field)
                .and_then(Value::as_u64)
                .ok_or_else(|| malformed(&format!("{key}: no {field}")))
        };
        let buckets = raw
            .get("times_us")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                malformed(&format!(
                    "{key}: no times_us (a report from goose before 0.19)"
                ))
            })?;
        let mut scope = Scope {
            successes: number(entry, "success_count")?,
            failures: number(entry, "fail_count")?,
            minimum_us: number(raw, "minimum_time_us")?,
            maximum_us: number(raw, "maximum_time_us")?,
            total_us: number(raw, "total_time_us")?,
            ..Scope::default()
        };
        for (bucket, count) in buckets {
            let bucket = bucket
                .parse::<u64>()
                .map_err(|_| malformed(&format!("{key}: bucket {bucket:?}")))?;
            scope.buckets_us.insert(
                bucket,
                count
                    .as_u64()
                    .ok_or_else(|| malformed(&format!("{key}: a bucket count")))?,
            );
        }
        for (status, count) in entry
            .get("status_code_counts")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            match (status_code(status), count.as_u64()) {
                (Some(status), Some(count)) => {
                    scope.statuses.insert(status, count);
                }
                _ => {
                    return Err(malformed(&format!(
                        "{key}: status {status:?} with count {count}"
                    )));
                }
            }
        }
        // goose keys requests "METHOD name"; its tables show the method and the name.
        let method = entry
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_uppercase();
        let label = entry.get("path").and_then(Value::as_str).unwrap_or(key);
        out.insert(format!("{method} {label}").trim().to_owned(), scope);
    }
    Ok(out)
}

/// The merged report as JSON: the totals with each scope's percentiles written out, and the
/// verdicts on the thresholds as given.
pub fn to_json(totals: &Totals, thresholds: Value) -> Value {
    let summary = |scope: &Scope| {
        let mut value = serde_json::to_value(scope).unwrap_or(Value::Null);
        let percentiles: serde_json::Map<String, Value> = PERCENTILES
            .iter()
            .map(|p| {
                (
                    label(*p),
                    scope
                        .percentile_ms(*p)
                        .map_or(Value::Null, |ms| serde_json::json!(ms)),
                )
            })
            .collect();
        value["count"] = serde_json::json!(scope.count());
        value["average_ms"] = scope
            .average_ms()
            .map_or(Value::Null, |ms| serde_json::json!(ms));
        value["percentiles_ms"] = Value::Object(percentiles);
        value
    };
    serde_json::json!({
        "reports": totals.reports,
        "seconds": totals.seconds,
        "requests": totals.requests.iter().map(|(k, v)| (k.clone(), summary(v))).collect::<serde_json::Map<_, _>>(),
        "all": summary(&totals.all),
        "thresholds": thresholds,
    })
}

/// `p50`, `p95`, `p99.9`.
pub fn label(p: f64) -> String {
    let percent = p * 100.0;
    if percent.fract() == 0.0 {
        format!("p{percent:.0}")
    } else {
        format!("p{percent}")
    }
}

/// The merged table, as the terminal shows it.
pub fn table(totals: &Totals) -> String {
    use std::fmt::Write as _;
    let width = totals
        .requests
        .keys()
        .map(String::len)
        .max()
        .unwrap_or(0)
        .max(9);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<width$}  {:>8}  {:>6}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}",
        "request", "count", "fails", "avg ms", "p50", "p95", "p99", "max"
    );
    let ms = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.2}"));
    let row = |out: &mut String, name: &str, s: &Scope| {
        let _ = writeln!(
            out,
            "{name:<width$}  {:>8}  {:>6}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}",
            s.count(),
            s.failures,
            ms(s.average_ms()),
            ms(s.percentile_ms(0.5)),
            ms(s.percentile_ms(0.95)),
            ms(s.percentile_ms(0.99)),
            ms((s.count() > 0).then(|| s.maximum_us as f64 / 1000.0)),
        );
    };
    for (name, scope) in &totals.requests {
        row(&mut out, name, scope);
    }
    row(&mut out, "all", &totals.all);
    let _ = writeln!(out, "{} reports, {:.1} s", totals.reports, totals.seconds);
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    /// A goose JSON report holding one request with these response times (µs).
    fn report(times: &[(u64, bool)]) -> Value {
        let mut buckets: BTreeMap<String, u64> = BTreeMap::new();
        for (time, _) in times {
            *buckets.entry(time.to_string()).or_default() += 1;
        }
        let failures = times.iter().filter(|(_, ok)| !ok).count();
        json!({"raw_metrics": {"duration": 3, "requests": {"GET /x": {
            "method": "Get", "path": "/x",
            "success_count": times.len() - failures, "fail_count": failures,
            "status_code_counts": {"200": times.len() - failures, "500": failures},
            "raw_data": {
                "times_us": buckets,
                "minimum_time_us": times.iter().map(|t| t.0).min().unwrap_or(0),
                "maximum_time_us": times.iter().map(|t| t.0).max().unwrap_or(0),
                "total_time_us": times.iter().map(|t| t.0).sum::<u64>(),
                "counter": times.len(),
            }
        }}}})
    }

    proptest! {
        /// Splitting one run's samples among any number of generators and merging their
        /// reports gives exactly what one report of all the samples gives.
        #[test]
        fn merging_shards_equals_the_single_computation(
            times in proptest::collection::vec((1u64..50_000, proptest::bool::weighted(0.95)), 1..400),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        ) {
            let mut single = Totals::default();
            single.add("single", &report(&times)).unwrap();
            let mut at: Vec<usize> = cuts.iter().map(|c| c.index(times.len() + 1)).collect();
            at.extend([0, times.len()]);
            at.sort_unstable();
            let mut merged = Totals::default();
            for pair in at.windows(2) {
                merged.add("shard", &report(&times[pair[0]..pair[1]])).unwrap();
            }
            prop_assert_eq!(&merged.requests, &single.requests);
            for p in PERCENTILES {
                prop_assert_eq!(merged.all.percentile_ms(p), single.all.percentile_ms(p));
            }
            prop_assert_eq!(merged.all.count(), times.len() as u64);
        }
    }

    #[test]
    fn percentiles_follow_goose() {
        // 100 samples of 1..=100 ms: goose's p95 is the 95th, p50 the 50th.
        let times: Vec<(u64, bool)> = (1..=100).map(|ms| (ms * 1000, true)).collect();
        let mut totals = Totals::default();
        totals.add("r", &report(&times)).unwrap();
        let scope = &totals.all;
        assert_eq!(
            (scope.percentile_ms(0.5), scope.percentile_ms(0.95)),
            (Some(50.0), Some(95.0))
        );
        assert_eq!(scope.average_ms(), Some(50.5));
        assert_eq!(Scope::default().percentile_ms(0.5), None);
    }

    #[test]
    fn refuses_what_is_not_a_report() {
        let mut totals = Totals::default();
        assert!(
            totals
                .add("x.json", &json!({"hello": 1}))
                .unwrap_err()
                .to_string()
                .contains("not a goose JSON report")
        );
        let old = json!({"raw_metrics": {"requests": {"GET /x": {"raw_data": {"times": {}}, "success_count": 1, "fail_count": 0}}}});
        assert!(
            totals
                .add("old.json", &old)
                .unwrap_err()
                .to_string()
                .contains("before 0.19")
        );
    }
}
