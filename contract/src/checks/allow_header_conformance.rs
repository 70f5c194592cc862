//! `allow_header_conformance`: the `Allow` header of a 405 (or of an answer to `OPTIONS`)
//! lists every method the document gives the path, and not the method it just refused.
//! Methods the document does not name are not blamed: `HEAD`, `OPTIONS` and methods a
//! document leaves out are the server's to offer.

use crate::checks::finding::Finding;
use crate::checks::names::Check;

/// The verdict on `allow` for a path documenting `documented`, in an answer to `method`
/// (refused with 405 when `refused`).
pub fn judge(allow: &str, documented: &[&str], method: &str, refused: bool) -> Option<Finding> {
    let listed: Vec<String> = allow
        .split(',')
        .map(|m| m.trim().to_ascii_uppercase())
        .filter(|m| !m.is_empty())
        .collect();
    let missing: Vec<&str> = documented
        .iter()
        .copied()
        .filter(|m| !listed.iter().any(|l| l == m))
        .collect();
    let contradicts = refused && listed.iter().any(|l| l == method);
    if missing.is_empty() && !contradicts {
        return None;
    }
    let mut why = Vec::new();
    if !missing.is_empty() {
        why.push(format!("leaves out {}", missing.join(", ")));
    }
    if contradicts {
        why.push(format!("lists {method}, which it refused"));
    }
    Some(Finding::new(
        Check::AllowHeaderConformance,
        format!("Allow {}", why.join("; ")),
        format!(
            "`Allow: {allow}` {} (the document gives this path {})",
            why.join(" and "),
            documented.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_what_allow_lists() {
        assert_eq!(judge("GET, HEAD, OPTIONS", &["GET"], "PUT", true), None);
        assert_eq!(judge("get,post", &["GET", "POST"], "PUT", true), None);
        let missing = judge("GET", &["GET", "DELETE"], "PUT", true).unwrap();
        assert!(
            missing.message.contains("leaves out DELETE"),
            "{}",
            missing.message
        );
        let contradicts = judge("GET, PUT", &["GET"], "PUT", true).unwrap();
        assert!(contradicts.message.contains("lists PUT, which it refused"));
        // OPTIONS answered: listing anything extra is not blamed.
        assert_eq!(judge("GET, PUT", &["GET"], "OPTIONS", false), None);
    }
}
