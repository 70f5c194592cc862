//! Static credentials of a load (`--header`, `--query`, `--auth-basic`): sent with every
//! request of a `--spec` or `--scenario-file` load; `${NAME}` in a value is read from the
//! environment at start, so a token never sits in a command line. An operation is loaded
//! when they (or a login) satisfy one of its security requirements.

use base64::Engine;
use openapi::model::{Api, Location, Operation, SecurityKind, SecurityScheme};

/// Headers and query parameters every request carries.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
}

/// Why the credentials given cannot be used; each names its option.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("--header {0:?} is 'Name: value'")]
    HeaderShape(String),
    #[error("--header {0:?}: a header cannot carry that name or value")]
    Unsendable(String),
    #[error("--query {0:?} is 'name=value'")]
    QueryShape(String),
    #[error("--auth-basic is USER:PASSWORD")]
    Basic,
    #[error("{option} {given:?}: the environment variable {name} is not set")]
    Unset {
        option: &'static str,
        given: String,
        name: String,
    },
    #[error("{option} {given:?}: `${{` without its closing `}}`")]
    Unterminated { option: &'static str, given: String },
}

impl Credentials {
    /// From the options as given; every `${NAME}` read from the environment now.
    pub fn parse(
        headers: &[String],
        query: &[String],
        basic: Option<&str>,
    ) -> Result<Credentials, CredentialError> {
        let mut credentials = Credentials::default();
        for given in headers {
            let (name, value) = given
                .split_once(':')
                .map(|(n, v)| (n.trim(), v.trim()))
                .filter(|(n, _)| !n.is_empty())
                .ok_or_else(|| CredentialError::HeaderShape(given.clone()))?;
            let value = expand("--header", given, value)?;
            let sendable = reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_ok()
                && reqwest::header::HeaderValue::from_str(&value).is_ok();
            if !sendable {
                return Err(CredentialError::Unsendable(given.clone()));
            }
            credentials.headers.push((name.to_owned(), value));
        }
        for given in query {
            let (name, value) = given
                .split_once('=')
                .filter(|(n, _)| !n.is_empty())
                .ok_or_else(|| CredentialError::QueryShape(given.clone()))?;
            let value = expand("--query", given, value)?;
            credentials.query.push((name.to_owned(), value));
        }
        if let Some(basic) = basic {
            let basic = expand("--auth-basic", basic, basic)?;
            if !basic.contains(':') {
                return Err(CredentialError::Basic);
            }
            let encoded = base64::engine::general_purpose::STANDARD.encode(basic);
            credentials
                .headers
                .push(("Authorization".to_owned(), format!("Basic {encoded}")));
        }
        Ok(credentials)
    }

    fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// Whether these credentials, or a login's token (`login`), satisfy one of the
    /// operation's security requirements.
    pub fn satisfy(&self, api: &Api, operation: &Operation, login: bool) -> bool {
        if !operation.secured || login {
            return true;
        }
        operation.security.iter().any(|requirement| {
            requirement.iter().all(|name| {
                api.security_schemes
                    .iter()
                    .find(|scheme| scheme.name == *name)
                    .is_some_and(|scheme| self.satisfies(scheme))
            })
        })
    }

    fn satisfies(&self, scheme: &SecurityScheme) -> bool {
        match &scheme.kind {
            SecurityKind::ApiKey(Location::Header, name) => self.has_header(name),
            SecurityKind::ApiKey(Location::Query, name) => {
                self.query.iter().any(|(n, _)| n == name)
            }
            SecurityKind::ApiKey(_, name) => self.headers.iter().any(|(n, v)| {
                n.eq_ignore_ascii_case("cookie")
                    && v.split(';')
                        .any(|pair| pair.trim().starts_with(&format!("{name}=")))
            }),
            // A token or basic credentials: whatever `Authorization` carries.
            SecurityKind::Http(_)
            | SecurityKind::OAuth2
            | SecurityKind::OpenIdConnect
            | SecurityKind::Other(_) => self.has_header("authorization"),
        }
    }

    /// `path` (with or without a query) with the query credentials appended.
    pub fn with_query<'a>(&self, path: &'a str) -> std::borrow::Cow<'a, str> {
        if self.query.is_empty() {
            return std::borrow::Cow::Borrowed(path);
        }
        let encode = openapi::generate::wire::percent_encode;
        let pairs: Vec<String> = self
            .query
            .iter()
            .map(|(n, v)| format!("{}={}", encode(n), encode(v)))
            .collect();
        let joint = if path.contains('?') { '&' } else { '?' };
        std::borrow::Cow::Owned(format!("{path}{joint}{}", pairs.join("&")))
    }
}

/// `text` with every `${NAME}` replaced by that environment variable.
fn expand(option: &'static str, given: &str, text: &str) -> Result<String, CredentialError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("${") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after
            .find('}')
            .ok_or_else(|| CredentialError::Unterminated {
                option,
                given: given.to_owned(),
            })?;
        let name = &after[..close];
        let value = std::env::var(name).map_err(|_| CredentialError::Unset {
            option,
            given: given.to_owned(),
            name: name.to_owned(),
        })?;
        out.push_str(&value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_environment_and_refuses_what_cannot_be_sent() {
        // HOME is set wherever tests run; its value is what the header must carry.
        let home = std::env::var("HOME").unwrap();
        let credentials = Credentials::parse(
            &["X-Home: at ${HOME}".to_owned()],
            &["api_key=${HOME}".to_owned()],
            None,
        )
        .unwrap();
        assert_eq!(
            credentials.headers,
            [("X-Home".to_owned(), format!("at {home}"))]
        );
        let encoded = openapi::generate::wire::percent_encode(&home);
        assert_eq!(
            credentials.with_query("/pets?x=1"),
            format!("/pets?x=1&api_key={encoded}")
        );
        let unset = Credentials::parse(
            &["X-Key: ${LOADGEN_NOT_SET_ANYWHERE}".to_owned()],
            &[],
            None,
        );
        assert!(
            unset
                .unwrap_err()
                .to_string()
                .contains("LOADGEN_NOT_SET_ANYWHERE is not set")
        );
        assert!(Credentials::parse(&["X-Key: ${HOME".to_owned()], &[], None).is_err());
        assert!(Credentials::parse(&["X-Key: a\u{1}b".to_owned()], &[], None).is_err());
        assert!(Credentials::parse(&["no colon".to_owned()], &[], None).is_err());
        assert!(Credentials::parse(&[], &[], Some("nocolon")).is_err());
        let basic = Credentials::parse(&[], &[], Some("ann:pw")).unwrap();
        assert_eq!(basic.headers[0].1, "Basic YW5uOnB3");
    }
}
