//! Namespaces: the header that picks one, and the rule for namespace and snapshot names.

use axum::http::{HeaderMap, HeaderName};

use crate::core::error::AppError;

/// The header that picks a namespace: its own copy of the data, its own stubs. A
/// `HeaderName`, not a `&str`, so that a lookup does not parse the name again each time.
pub const NAMESPACE_HEADER: HeaderName = HeaderName::from_static("x-mock-namespace");

/// A name that is not 1 to 64 letters, digits, `.`, `_` or `-`, or that starts with `.`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} `{name}` must be 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'")]
pub struct NameError {
    pub what: String,
    pub name: String,
}

/// A namespace name: see [`check_name`].
pub fn check_namespace(name: &str) -> Result<(), NameError> {
    check_name("namespace", name)
}

/// A namespace or snapshot name: 1 to 64 letters, digits, `.`, `_` or `-`, not starting
/// with `.` (so that `.` and `..` never reach a URL path). `what` names it in the error.
pub fn check_name(what: &str, name: &str) -> Result<(), NameError> {
    let valid = (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(NameError {
            what: what.to_owned(),
            name: name.to_owned(),
        })
    }
}

/// The namespace a request names in `X-Mock-Namespace`, checked.
pub fn namespace_of(headers: &HeaderMap) -> Result<Option<&str>, AppError> {
    let Some(value) = headers.get(&NAMESPACE_HEADER) else {
        return Ok(None);
    };
    let name = value
        .to_str()
        .map_err(|_| AppError::InvalidNamespace("X-Mock-Namespace is not valid text".into()))?;
    check_namespace(name).map_err(|e| AppError::InvalidNamespace(e.to_string()))?;
    Ok(Some(name))
}

#[cfg(test)]
mod tests {
    use super::check_namespace;

    #[test]
    fn namespace_names() {
        assert!(check_namespace("worker-1.test_a").is_ok());
        for bad in ["", "a b", "ü", "..", &"x".repeat(65)] {
            assert!(check_namespace(bad).is_err(), "{bad:?}");
        }
    }
}
