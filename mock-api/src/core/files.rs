//! Files given at start (`--data`, `--stubs`): read whole, parsed, errors naming the file.

use std::path::Path;

/// Why a file given at start cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// What is wrong with its content, and where.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// Reads a file and parses it with `parse`; an error names the file.
pub fn read_file<T>(
    path: &Path,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, FileError> {
    let shown = || path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| FileError::Read {
        path: shown(),
        source,
    })?;
    parse(&text).map_err(|message| FileError::Invalid {
        path: shown(),
        message,
    })
}

/// The records of a JSON or YAML document: an array, or an object with a `key` array
/// (`users` for seed data, `stubs` for stubs).
pub fn records(text: &str, key: &str) -> Result<Vec<serde_json::Value>, String> {
    // YAML is a superset of JSON, so one parser reads both.
    let document: serde_json::Value =
        yaml_serde::from_str(text).map_err(|e| format!("not valid JSON or YAML: {e}"))?;
    match document {
        serde_json::Value::Array(records) => Ok(records),
        serde_json::Value::Object(mut object) => match object.remove(key) {
            Some(serde_json::Value::Array(records)) => Ok(records),
            _ => Err(format!(
                "expected an array of {key}, or an object with a `{key}` array"
            )),
        },
        _ => Err(format!(
            "expected an array of {key}, or an object with a `{key}` array"
        )),
    }
}

/// Like [`records`], each record as JSON text in the order the file writes its keys (YAML
/// mappings keep their order; a JSON value would sort them).
pub fn ordered_records(text: &str, key: &str) -> Result<Vec<String>, String> {
    let document: yaml_serde::Value =
        yaml_serde::from_str(text).map_err(|e| format!("not valid JSON or YAML: {e}"))?;
    let wrong = || format!("expected an array of {key}, or an object with a `{key}` array");
    let records = match document {
        yaml_serde::Value::Sequence(records) => records,
        yaml_serde::Value::Mapping(mut object) => match object.remove(key) {
            Some(yaml_serde::Value::Sequence(records)) => records,
            _ => return Err(wrong()),
        },
        _ => return Err(wrong()),
    };
    records
        .iter()
        .map(|record| serde_json::to_string(record).map_err(|e| e.to_string()))
        .collect()
}
