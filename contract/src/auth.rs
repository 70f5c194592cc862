//! Credentials for protected operations: a declarative login (`POST /login` with a JSON body,
//! the token at a JSON pointer of the answer), its token sent in a header made from a
//! template (`Authorization: Bearer {token}` unless told otherwise) or, when the answer
//! carries no token but sets cookies, the session cookies; and a fresh login when the target
//! stops accepting them (a logout revokes them, say).

use std::sync::{Mutex, PoisonError};

use reqwest::Method;
use serde_json::Value;

use crate::transport::read_body;

/// The most bytes of a login answer read.
const MAX_LOGIN_ANSWER: usize = 1 << 20;

/// How to log in.
#[derive(Debug, Clone, PartialEq)]
pub struct Login {
    pub method: Method,
    pub path: String,
    pub body: Value,
    /// Where the token is in the JSON answer, e.g. `/token`.
    pub token_pointer: String,
    /// The header the token is sent in: its name, and its value with `{token}` in it.
    pub header: (String, String),
}

/// How a token is sent unless told otherwise.
pub const DEFAULT_HEADER: &str = "Authorization: Bearer {token}";

impl Login {
    /// Parses `'POST /api/auth/login'`.
    pub fn parse(operation: &str, body: Value, token_pointer: &str) -> Result<Login, String> {
        let (method, path) = operation
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("a login is 'METHOD /path', not {operation:?}"))?;
        let method =
            Method::from_bytes(method.to_uppercase().as_bytes()).map_err(|e| e.to_string())?;
        let path = path.trim();
        if !path.starts_with('/') {
            return Err(format!("the login path must start with '/': {path:?}"));
        }
        if !token_pointer.is_empty() && !token_pointer.starts_with('/') {
            return Err(format!(
                "the token pointer must be a JSON pointer like /token, not {token_pointer:?}"
            ));
        }
        Ok(Login {
            method,
            path: path.to_owned(),
            body,
            token_pointer: token_pointer.to_owned(),
            header: ("Authorization".to_owned(), "Bearer {token}".to_owned()),
        })
    }

    /// The same, with the token sent as `template` says (`X-Auth-Token: {token}`,
    /// `Authorization: {token}`).
    pub fn with_header(self, template: &str) -> Result<Login, String> {
        let Some((name, value)) = template.split_once(':') else {
            return Err(format!(
                "a token header looks like 'Name: value with {{token}}', not {template:?}"
            ));
        };
        let (name, value) = (name.trim(), value.trim());
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(format!("{name:?} is not a header name"));
        }
        if !value.contains("{token}") {
            return Err(format!(
                "the token header {template:?} has no {{token}} in it"
            ));
        }
        Ok(Login {
            header: (name.to_owned(), value.to_owned()),
            ..self
        })
    }
}

/// The current token, shared by every worker; and a second identity, if one is configured,
/// for `object_level_authorization`.
#[derive(Debug, Default)]
pub struct Auth {
    login: Option<Login>,
    /// The header to send: the token's, or the session's cookies.
    credential: Mutex<Option<(String, String)>>,
    second: Option<Box<Auth>>,
    /// Sent with the login too: the namespace of the target its token belongs to.
    headers: Vec<(String, String)>,
}

impl Auth {
    pub fn new(login: Option<Login>) -> Auth {
        Auth {
            login,
            credential: Mutex::new(None),
            second: None,
            headers: Vec::new(),
        }
    }

    /// Fixed HTTP basic credentials, sent to protected operations (no login).
    pub fn basic(user: &str, password: &str) -> Auth {
        use base64::Engine;
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        Auth {
            login: None,
            credential: Mutex::new(Some((
                "Authorization".to_owned(),
                format!("Basic {encoded}"),
            ))),
            second: None,
            headers: Vec::new(),
        }
    }

    /// The same identities, logged in afresh with `header` sent along (a namespace of the
    /// target whose data, tokens included, are its own).
    pub fn in_namespace(&self, header: (String, String)) -> Auth {
        Auth {
            login: self.login.clone(),
            // Fixed credentials (basic) are the same everywhere; a login's token is not.
            credential: Mutex::new(match self.login {
                Some(_) => None,
                None => self.header(),
            }),
            second: self
                .second
                .as_ref()
                .map(|second| Box::new(second.in_namespace(header.clone()))),
            headers: vec![header],
        }
    }

    /// The same, with a second identity that logs in with `login`.
    pub fn with_second(self, login: Login) -> Auth {
        Auth {
            second: Some(Box::new(Auth::new(Some(login)))),
            ..self
        }
    }

    /// The second identity.
    pub fn second(&self) -> Option<&Auth> {
        self.second.as_deref()
    }

    /// The bodies this identity's login and the second's send to `method path`: cases of
    /// that operation too, so a run sees its own login answer 2xx.
    pub fn login_bodies(&self, method: &str, path: &str) -> Vec<Value> {
        std::iter::once(self)
            .chain(self.second())
            .filter_map(|auth| auth.login.as_ref())
            .filter(|login| login.method.as_str() == method && login.path == path)
            .map(|login| login.body.clone())
            .filter(|body| !body.is_null())
            .collect()
    }

    pub fn can_log_in(&self) -> bool {
        self.login.is_some()
    }

    /// The header that carries the credentials (name and value), when logged in.
    pub fn header(&self) -> Option<(String, String)> {
        self.credential
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The name of the header the credentials go in, logged in or not.
    pub fn header_name(&self) -> Option<String> {
        self.header()
            .map(|(name, _)| name)
            .or_else(|| self.login.as_ref().map(|l| l.header.0.clone()))
    }

    /// Logs in every identity.
    pub async fn log_in_all(&self, client: &reqwest::Client, target: &str) -> Result<(), String> {
        self.log_in(client, target).await?;
        if let Some(second) = &self.second {
            second
                .log_in(client, target)
                .await
                .map_err(|e| format!("the second identity: {e}"))?;
            if second.header().is_some() && second.header() == self.header() {
                return Err(
                    "both identities got the same token: the second login must be another user"
                        .to_owned(),
                );
            }
        }
        Ok(())
    }

    /// Logs in (again) and keeps the new token; the answer is read up to 1 MiB.
    pub async fn log_in(&self, client: &reqwest::Client, target: &str) -> Result<(), String> {
        let Some(login) = &self.login else {
            return Ok(());
        };
        let url = format!("{}{}", target.trim_end_matches('/'), login.path);
        let mut request = client.request(login.method.clone(), &url);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let response = request
            .json(&login.body)
            .send()
            .await
            .map_err(|e| format!("login at {} {url} failed: {e}", login.method))?;
        let status = response.status();
        // A session login answers with cookies: `name=value` of each, for the Cookie header.
        let cookies: Vec<String> = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .map(|pair| pair.trim().to_owned())
            .filter(|pair| pair.contains('='))
            .collect();
        let text = read_body(response, MAX_LOGIN_ANSWER, &[])
            .await
            .map(|body| String::from_utf8_lossy(&body).into_owned())
            .map_err(|e| format!("login at {} {url}: {e}", login.method))?;
        if !status.is_success() {
            let excerpt: String = text.chars().take(200).collect();
            return Err(format!(
                "login at {} {url} answered {status}: {excerpt}",
                login.method
            ));
        }
        let token = serde_json::from_str::<Value>(&text).ok().and_then(|body| {
            body.pointer(&login.token_pointer)?
                .as_str()
                .map(str::to_owned)
        });
        let credential = match (token, cookies.is_empty()) {
            (Some(token), _) => (
                login.header.0.clone(),
                login.header.1.replace("{token}", &token),
            ),
            (None, false) => ("Cookie".to_owned(), cookies.join("; ")),
            (None, true) => {
                return Err(format!(
                    "no string token at {} of the login answer, and no cookie was set",
                    login.token_pointer
                ));
            }
        };
        // Credentials that cannot go in a header are said now, not blamed on every case after.
        if reqwest::header::HeaderValue::from_str(&credential.1).is_err() {
            return Err(format!(
                "the token at {} of the login answer cannot be sent in a header",
                login.token_pointer
            ));
        }
        *self
            .credential
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(credential);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_declarative_logins() {
        let login = Login::parse(
            "post /api/auth/login",
            serde_json::json!({"a": 1}),
            "/token",
        )
        .unwrap();
        assert_eq!(
            (login.method, login.path.as_str()),
            (Method::POST, "/api/auth/login")
        );
        assert!(
            Login::parse("/api/auth/login", Value::Null, "/token")
                .unwrap_err()
                .contains("'METHOD /path'")
        );
        assert!(
            Login::parse("POST api/login", Value::Null, "/token")
                .unwrap_err()
                .contains("start with '/'")
        );
        assert!(
            Login::parse("POST /login", Value::Null, "token")
                .unwrap_err()
                .contains("JSON pointer")
        );
    }
}
