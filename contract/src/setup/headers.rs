//! `-H 'Name: value'`: a header sent with every request, checked before any is sent.

use super::SetupError;
use crate::transport::{CODINGS, accepted_codings};

/// A header as `-H` gives it. The user's own mistake is said at once, not blamed on the
/// target later: a name or value HTTP cannot carry, or an `Accept-Encoding` the checker
/// cannot inflate.
pub fn parse(given: &str) -> Result<(String, String), SetupError> {
    let refuse = |why: String| SetupError::Header {
        given: given.to_owned(),
        why,
    };
    let Some((name, value)) = given
        .split_once(':')
        .filter(|(name, _)| !name.trim().is_empty())
    else {
        return Err(refuse("a header looks like 'Name: value'".to_owned()));
    };
    let (name, value) = (name.trim(), value.trim());
    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(refuse(format!("{name:?} is not a valid header name")));
    }
    if reqwest::header::HeaderValue::from_str(value).is_err() {
        return Err(refuse("the value is not valid in a header".to_owned()));
    }
    if name.eq_ignore_ascii_case("accept-encoding")
        && let Some(other) = accepted_codings(value)
            .iter()
            .find(|c| !CODINGS.contains(&c.as_str()))
    {
        return Err(refuse(format!(
            "the checker inflates only {}, not {other:?}",
            CODINGS.join(", ")
        )));
    }
    Ok((name.to_owned(), value.to_owned()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn headers_are_checked_before_any_request() {
        assert_eq!(
            super::parse(" X-Key :  abc ").unwrap(),
            ("X-Key".to_owned(), "abc".to_owned())
        );
        for (given, says) in [
            ("no colon", "'Name: value'"),
            ("Bad Name: x", "not a valid header name"),
            ("X: a\nb", "not valid in a header"),
            ("Accept-Encoding: br", "inflates only"),
        ] {
            let error = super::parse(given).unwrap_err().to_string();
            assert!(error.contains(says), "{given}: {error}");
        }
    }
}
