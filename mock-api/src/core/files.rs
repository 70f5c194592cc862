//! Files given at start (`--data`, `--stubs`): read whole, parsed, errors naming the file.

use std::path::Path;

/// Reads a file and parses it with `parse`; an error names the file.
pub fn read_file<T>(
    path: &Path,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
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
