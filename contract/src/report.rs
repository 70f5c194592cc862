//! Rendering a [`Report`]: the terminal summary, the JSON report and JUnit XML.
//!
//! The JSON report (`--report-json`) is the [`Report`] structure serialised; its shape is
//! documented in README.md and only grows (fields are added, never renamed or removed).

use std::fmt::Write as _;

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use crate::runner::Report;

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
            "\nNotes on the document (nothing is sent for these, nothing is blamed on the target)\n"
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
            let _ = writeln!(out, "   {}", failure.message);
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
            let response = match failure.status {
                Some(status) => format!("{status} {}", failure.response_excerpt),
                None => format!("none ({})", failure.response_excerpt),
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
