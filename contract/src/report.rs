//! Rendering a [`Report`]: the terminal summary, the JSON report and JUnit XML.
//!
//! The JSON report (`--report-json`) is the [`Report`] structure serialised; its shape is
//! documented in README.md and only grows (fields are added, never renamed or removed).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

use crate::http::SentRequest;
use openapi::model::Operation;

/// One distinct defect, with the smallest request (or sequence) that shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub check: String,
    pub operation: String,
    pub message: String,
    /// How the case was made: `valid`, or `invalid: <the constraint it breaks>`.
    pub case: String,
    pub request: SentRequest,
    pub curl: String,
    /// For a failure found by a stateful sequence: every request of the (shrunk) sequence up
    /// to the failing one, as curl lines to run in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sequence: Vec<String>,
    /// For a failure that did not show again when its request was sent alone (a race, or
    /// state other requests left): the requests in flight with it, as curl lines.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub in_flight: Vec<String>,
    /// `None` when no response came back.
    pub status: Option<u16>,
    pub response_excerpt: String,
    pub seed: u64,
}

/// What happened to one operation, and how much of its documented behaviour was seen.
#[derive(Debug, Clone, Serialize)]
pub struct OperationReport {
    pub operation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    pub cases: u64,
    /// Responses by status code.
    pub statuses: BTreeMap<u16, u64>,
    pub transport_errors: u64,
    pub failures: usize,
    /// The statuses the spec documents (`200`, `4XX`, `default`).
    pub documented: Vec<String>,
    /// Documented statuses never produced (ranges and `default` count as seen when any
    /// status they cover was).
    pub never_seen: Vec<String>,
    /// Whether it ever answered 2xx.
    pub succeeded: bool,
}

/// The result of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub target: String,
    pub seed: u64,
    pub max_examples: u32,
    pub checks: Vec<String>,
    pub operations: Vec<OperationReport>,
    pub failures: Vec<Failure>,
    /// Requests sent, probes of undocumented methods included.
    pub cases: u64,
    /// Wall time of the run, in milliseconds.
    pub elapsed_ms: u64,
    /// Problems of the document itself (a schema no value satisfies, say) and what of it
    /// was not checked: said once, never blamed on the target.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl OperationReport {
    pub fn new(operation: &Operation) -> OperationReport {
        OperationReport {
            operation: operation.label(),
            operation_id: operation.operation_id.clone(),
            cases: 0,
            statuses: BTreeMap::new(),
            transport_errors: 0,
            failures: 0,
            documented: operation.documented_statuses(),
            never_seen: Vec::new(),
            succeeded: false,
        }
    }

    /// Works out the spec coverage from the statuses seen.
    pub fn finish(&mut self, operation: &Operation) {
        use openapi::model::StatusKey;
        self.succeeded = self.statuses.keys().any(|s| (200..300).contains(s));
        let seen = |key: &StatusKey| match key {
            StatusKey::Code(code) => self.statuses.contains_key(code),
            StatusKey::Range(class) => self.statuses.keys().any(|s| s / 100 == *class),
            // `default` covers whatever no other entry documents.
            StatusKey::Default => self.statuses.keys().any(|s| {
                !operation
                    .responses
                    .iter()
                    .any(|(k, _)| matches!(k, StatusKey::Code(c) if c == s))
            }),
        };
        self.never_seen = operation
            .responses
            .iter()
            .filter(|(k, _)| !seen(k))
            .map(|(k, _)| k.to_string())
            .collect();
    }
}

/// The human-readable report: one line per operation, then every failure in full.
pub fn terminal(report: &Report) -> String {
    let mut out = String::new();
    let width = report
        .operations
        .iter()
        .map(|o| o.operation.len())
        .max()
        .unwrap_or(0);
    for operation in &report.operations {
        let statuses: Vec<String> = operation
            .statuses
            .iter()
            .map(|(status, n)| format!("{status}×{n}"))
            .collect();
        let mut statuses = statuses.join(" ");
        if operation.transport_errors > 0 {
            let _ = write!(statuses, " no-response×{}", operation.transport_errors);
        }
        let verdict = match operation.failures {
            0 => "ok".to_owned(),
            1 => "1 failure".to_owned(),
            n => format!("{n} failures"),
        };
        let _ = writeln!(
            out,
            "  {:<width$}  {:>6} cases  {:<40}  {verdict}",
            operation.operation, operation.cases, statuses
        );
    }
    let gaps: Vec<String> = report
        .operations
        .iter()
        .filter(|o| !o.succeeded || !o.never_seen.is_empty())
        .map(|o| {
            let mut notes = Vec::new();
            if !o.succeeded {
                notes.push("never answered 2xx".to_owned());
            }
            if !o.never_seen.is_empty() {
                notes.push(format!(
                    "documented but never seen: {}",
                    o.never_seen.join(", ")
                ));
            }
            format!("  {:<width$}  {}", o.operation, notes.join("; "))
        })
        .collect();
    if !gaps.is_empty() {
        let _ = writeln!(out, "\nSpec coverage gaps\n");
        for gap in gaps {
            let _ = writeln!(out, "{gap}");
        }
    }
    if !report.warnings.is_empty() {
        let _ = writeln!(
            out,
            "\nNotes (on the document and the run; nothing here is blamed on the target)\n"
        );
        for warning in &report.warnings {
            let _ = writeln!(out, "  {warning}");
        }
    }
    if !report.failures.is_empty() {
        let _ = writeln!(out, "\nFailures\n");
        for (number, failure) in report.failures.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}. {} — {}",
                number + 1,
                failure.check,
                failure.operation
            );
            let _ = writeln!(out, "   {}", printable(&failure.message));
            let _ = writeln!(out, "   case: {}", failure.case);
            match failure.sequence.len() {
                0 | 1 => {
                    let _ = writeln!(out, "   request: {}", failure.curl);
                }
                _ => {
                    let _ = writeln!(out, "   sequence (run in order; the last request fails):");
                    for (step, curl) in failure.sequence.iter().enumerate() {
                        let _ = writeln!(out, "     {}. {curl}", step + 1);
                    }
                }
            }
            if !failure.in_flight.is_empty() {
                let _ = writeln!(out, "   in flight with it:");
                for curl in &failure.in_flight {
                    let _ = writeln!(out, "     {curl}");
                }
            }
            // The target's bytes are escaped: a body must not drive the terminal.
            let excerpt = printable(&failure.response_excerpt);
            let response = match failure.status {
                Some(status) => format!("{status} {excerpt}"),
                None => format!("none ({excerpt})"),
            };
            let _ = writeln!(out, "   response: {}", response.trim_end());
            let _ = writeln!(out, "   reproduce: --seed {}\n", failure.seed);
        }
    }
    let failures = match report.failures.len() {
        1 => "1 failure".to_owned(),
        n => format!("{n} failures"),
    };
    let _ = writeln!(
        out,
        "\n{} operations, {} cases, {failures}; seed {}",
        report.operations.len(),
        report.cases,
        report.seed
    );
    out
}

/// Text with its control characters escaped (`\u{1b}`, `\n`), for a terminal.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c.is_control() {
            true => c.escape_default().to_string(),
            false => c.to_string(),
        })
        .collect()
}

/// Time and speed, apart from [`terminal`] so that the rest of the report is reproducible.
pub fn timing(report: &Report) -> String {
    let seconds = report.elapsed_ms as f64 / 1000.0;
    let rate = if seconds > 0.0 {
        report.cases as f64 / seconds
    } else {
        0.0
    };
    format!("took {seconds:.2} s ({rate:.0} cases/s)")
}

pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default()
}

/// JUnit XML: one test case per operation (and per probed undocumented method that failed),
/// failed with every failure of that operation.
pub fn junit(report: &Report) -> String {
    let mut junit = quick_junit::Report::new("contract");
    let mut suite = TestSuite::new("contract");
    let mut names: Vec<&str> = report
        .operations
        .iter()
        .map(|o| o.operation.as_str())
        .collect();
    for failure in &report.failures {
        if !names.contains(&failure.operation.as_str()) {
            names.push(&failure.operation);
        }
    }
    for name in names {
        let failures: Vec<_> = report
            .failures
            .iter()
            .filter(|f| f.operation == name)
            .collect();
        let status = match failures.as_slice() {
            [] => TestCaseStatus::success(),
            [first, ..] => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(format!("{}: {}", first.check, first.message));
                status.set_type(first.check.clone());
                let details: Vec<String> = failures
                    .iter()
                    .map(|f| {
                        format!(
                            "{}: {}\n  case: {}\n  request: {}\n  seed: {}",
                            f.check, f.message, f.case, f.curl, f.seed
                        )
                    })
                    .collect();
                status.set_description(details.join("\n\n"));
                status
            }
        };
        suite.add_test_case(TestCase::new(name, status));
    }
    junit.add_test_suite(suite);
    junit.to_string().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn target_bytes_cannot_drive_the_terminal() {
        assert_eq!(
            printable("ok \u{1b}[2J\r\nend\u{7}"),
            "ok \\u{1b}[2J\\r\\nend\\u{7}"
        );
        assert_eq!(printable("plain é ✓"), "plain é ✓");
    }
}
