//! The OpenAPI document the users demo honours, embedded from `specs/` so that the server and
//! its contracts are one file each and cannot drift apart.

use std::sync::OnceLock;

/// `specs/mock-api.yaml`, as it is in the repository.
pub const YAML: &str = include_str!("../../../../specs/mock-api.yaml");

/// The document as a JSON value, parsed once on first use (not at start-up).
pub fn json() -> &'static serde_json::Value {
    static JSON: OnceLock<serde_json::Value> = OnceLock::new();
    JSON.get_or_init(|| yaml_serde::from_str(YAML).expect("specs/mock-api.yaml is valid YAML"))
}

/// The document as JSON text, serialised once.
pub fn json_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| json().to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_spec_parses() {
        assert_eq!(super::json()["openapi"], "3.0.3");
    }
}
