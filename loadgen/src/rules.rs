//! Threshold rules in goose's syntax (`p95<500ms`, `error-rate<1%`, `rps>=200`,
//! `p99<2s for GET /checkout`), judged on any [`Totals`]: goose judges its own run, and this
//! judges the merged result of many runs with the same rules and the same meaning.

use std::fmt;

use crate::merge::Totals;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Metric {
    Percentile(f64),
    Average,
    Maximum,
    ErrorRate,
    RequestsPerSecond,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Operator {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// One rule; times are kept in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    text: String,
    metric: Metric,
    operator: Operator,
    limit: f64,
    request: Option<String>,
}

/// How a rule came out.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Verdict {
    pub rule: String,
    /// Milliseconds for a time, a percent for `error-rate`, requests per second for `rps`;
    /// `None` without samples.
    pub observed: Option<f64>,
    pub limit: f64,
    pub unit: &'static str,
    pub passed: bool,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = if self.passed { "PASS" } else { "FAIL" };
        match self.observed {
            None => write!(f, "{status} {}: no samples", self.rule),
            Some(observed) => {
                let gap = (observed - self.limit).abs();
                let side = if observed > self.limit {
                    "over"
                } else {
                    "under"
                };
                write!(
                    f,
                    "{status} {}: observed {observed:.2}{unit}, limit {:.2}{unit} ({side} by {gap:.2}{unit})",
                    self.rule,
                    self.limit,
                    unit = self.unit
                )
            }
        }
    }
}

/// Why a threshold rule cannot be read: the rule, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{rule:?}: {why}")]
pub struct RuleError {
    pub rule: String,
    pub why: String,
}

impl Rule {
    pub fn parse(text: &str) -> Result<Rule, RuleError> {
        let refuse = |why: String| RuleError {
            rule: text.to_owned(),
            why,
        };
        // goose is the authority on what a rule may say; this keeps the two in step.
        text.parse::<goose::threshold::Threshold>()
            .map_err(|e| refuse(e.to_string()))?;
        let (rule, request) = match text.trim().split_once(" for ") {
            Some((rule, request)) => (rule.trim(), Some(request.trim().to_owned())),
            None => (text.trim(), None),
        };
        let at = rule
            .find(['<', '>'])
            .ok_or_else(|| refuse("no < or >".to_owned()))?;
        let (name, rest) = rule.split_at(at);
        let (operator, value) = match rest.as_bytes() {
            [b'<', b'=', ..] => (Operator::LessOrEqual, &rest[2..]),
            [b'>', b'=', ..] => (Operator::GreaterOrEqual, &rest[2..]),
            [b'<', ..] => (Operator::Less, &rest[1..]),
            _ => (Operator::Greater, &rest[1..]),
        };
        let metric = match name.trim() {
            "avg" => Metric::Average,
            "max" => Metric::Maximum,
            "error-rate" => Metric::ErrorRate,
            "rps" => Metric::RequestsPerSecond,
            p => Metric::Percentile(
                p.strip_prefix('p')
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| refuse("unknown metric".to_owned()))?,
            ),
        };
        let value = value.trim();
        let limit = match metric {
            Metric::ErrorRate => value
                .trim_end_matches('%')
                .parse::<f64>()
                .map_err(|e| refuse(e.to_string()))?,
            Metric::RequestsPerSecond => value.parse::<f64>().map_err(|e| refuse(e.to_string()))?,
            _ => milliseconds(value).ok_or_else(|| refuse(format!("bad time {value:?}")))?,
        };
        Ok(Rule {
            text: text.trim().to_owned(),
            metric,
            operator,
            limit,
            request,
        })
    }

    /// The limit and its unit, as [`Verdict`] shows them.
    pub fn limit(&self) -> (f64, &'static str) {
        (self.limit, self.unit())
    }

    fn unit(&self) -> &'static str {
        match self.metric {
            Metric::ErrorRate => "%",
            Metric::RequestsPerSecond => " req/s",
            _ => "ms",
        }
    }

    pub fn judge(&self, totals: &Totals) -> Verdict {
        let scope = match &self.request {
            Some(name) => totals.requests.get(name),
            None => Some(&totals.all),
        };
        let observed = scope.and_then(|s| match self.metric {
            Metric::Percentile(p) => s.percentile_ms(p / 100.0),
            Metric::Average => s.average_ms(),
            Metric::Maximum => (s.count() > 0).then(|| s.maximum_us as f64 / 1000.0),
            Metric::ErrorRate => {
                (s.count() > 0).then(|| 100.0 * s.failures as f64 / s.count() as f64)
            }
            Metric::RequestsPerSecond => {
                (totals.seconds > 0.0).then(|| s.count() as f64 / totals.seconds)
            }
        });
        let passed = observed.is_some_and(|o| match self.operator {
            Operator::Less => o < self.limit,
            Operator::LessOrEqual => o <= self.limit,
            Operator::Greater => o > self.limit,
            Operator::GreaterOrEqual => o >= self.limit,
        });
        Verdict {
            rule: self.text.clone(),
            observed,
            limit: self.limit,
            unit: self.unit(),
            passed,
        }
    }
}

/// `500ms`, `2s`, `800us`, or a bare number of milliseconds.
fn milliseconds(text: &str) -> Option<f64> {
    let (number, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (text, 1.0)
    };
    number.trim().parse::<f64>().ok().map(|n| n * scale)
}
