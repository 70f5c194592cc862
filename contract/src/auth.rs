//! Credentials for protected operations: a declarative login (`POST /login` with a JSON body,
//! the token at a JSON pointer of the answer), its token sent in a header made from a
//! template (`Authorization: Bearer {token}` unless told otherwise) or, when the answer
//! carries no token but sets cookies, the session cookies; and a fresh login when the target
//! stops accepting them (a logout revokes them, say).

use std::sync::{Mutex, PoisonError};

use serde_json::Value;

use crate::transport::read_body;

/// The most bytes of a login answer read.
const MAX_LOGIN_ANSWER: usize = 1 << 20;

pub use openapi::login::{DEFAULT_HEADER, Login, LoginError};

/// Why a login did not give credentials; each names the login (`POST URL`).
#[derive(Debug, thiserror::Error)]
pub enum LoginFailed {
    #[error("login at {at} failed: {why}")]
    Unsent { at: String, why: String },
    #[error("login at {at}: {why}")]
    Unread { at: String, why: String },
    #[error("login at {at} answered {status}: {excerpt}")]
    Refused {
        at: String,
        status: reqwest::StatusCode,
        excerpt: String,
    },
    #[error("the token at {pointer} of the login answer cannot be sent in a header")]
    Unsendable { pointer: String },
    #[error("no string token at {pointer} of the login answer, and no cookie was set")]
    NoToken { pointer: String },
    #[error("the second identity: {0}")]
    Second(Box<LoginFailed>),
    #[error("both identities got the same token: the second login must be another user")]
    SameToken,
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
    pub async fn log_in_all(
        &self,
        client: &reqwest::Client,
        target: &str,
    ) -> Result<(), LoginFailed> {
        self.log_in(client, target).await?;
        if let Some(second) = &self.second {
            second
                .log_in(client, target)
                .await
                .map_err(|e| LoginFailed::Second(Box::new(e)))?;
            if second.header().is_some() && second.header() == self.header() {
                return Err(LoginFailed::SameToken);
            }
        }
        Ok(())
    }

    /// Logs in (again) and keeps the new token; the answer is read up to 1 MiB.
    pub async fn log_in(&self, client: &reqwest::Client, target: &str) -> Result<(), LoginFailed> {
        let Some(login) = &self.login else {
            return Ok(());
        };
        let url = format!("{}{}", target.trim_end_matches('/'), login.path);
        let at = format!("{} {url}", login.method);
        let mut request = client.request(login.method.clone(), &url);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let response = request
            .json(&login.body)
            .send()
            .await
            .map_err(|e| LoginFailed::Unsent {
                at: at.clone(),
                why: e.to_string(),
            })?;
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
            .map_err(|e| LoginFailed::Unread {
                at: at.clone(),
                why: e.to_string(),
            })?;
        if !status.is_success() {
            return Err(LoginFailed::Refused {
                at,
                status,
                excerpt: text.chars().take(200).collect(),
            });
        }
        let token = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|body| login.token_in(&body));
        let credential = match (token, cookies.is_empty()) {
            (Some(token), _) => {
                login
                    .header_for(&token)
                    .ok_or_else(|| LoginFailed::Unsendable {
                        pointer: login.token_pointer.clone(),
                    })?
            }
            (None, false) => ("Cookie".to_owned(), cookies.join("; ")),
            (None, true) => {
                return Err(LoginFailed::NoToken {
                    pointer: login.token_pointer.clone(),
                });
            }
        };
        // Credentials that cannot go in a header are said now, not blamed on every case after.
        if reqwest::header::HeaderValue::from_str(&credential.1).is_err() {
            return Err(LoginFailed::Unsendable {
                pointer: login.token_pointer.clone(),
            });
        }
        *self
            .credential
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(credential);
        Ok(())
    }
}
