//! The exchange with the target: a case bound to the target's URL as a request (and as the
//! curl line the report shows), sent with reqwest, and what came back.

use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use serde::Serialize;

use crate::auth::Auth;
use crate::transport::{accepted_codings, read_body};
use openapi::generate::{AuthMode, Case, render};
use openapi::model::{Api, Location, Operation, SecurityKind};

/// A request as sent, kept for the report.
#[derive(Debug, Clone, Serialize)]
pub struct SentRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

impl SentRequest {
    /// A curl command line that sends the same request.
    pub fn curl(&self) -> String {
        let mut words = vec![
            "curl".to_owned(),
            "-X".to_owned(),
            self.method.clone(),
            quote(&self.url),
        ];
        for (name, value) in &self.headers {
            words.push("-H".to_owned());
            words.push(quote(&format!("{name}: {value}")));
        }
        if let Some(body) = &self.body {
            words.push("--data-raw".to_owned());
            words.push(quote(body));
        }
        words.join(" ")
    }
}

/// Single-quotes for a POSIX shell.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A response as the checks see it.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub elapsed: Duration,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What happened to a request.
#[derive(Debug, Clone)]
pub enum Outcome {
    Response(Response),
    /// No response: connection refused or reset, closed early, or timed out.
    Transport(String),
}

/// The longest excerpt of a response body kept in the report.
const EXCERPT: usize = 300;

/// Whether a header carries credentials: `Authorization`, cookies, or an API key header the
/// document's security schemes name. A case without credentials drops all of them.
fn is_credential(api: &Api, name: &str) -> bool {
    name.eq_ignore_ascii_case("authorization")
        || name.eq_ignore_ascii_case("cookie")
        || api.security_schemes.iter().any(|scheme| {
            matches!(&scheme.kind, SecurityKind::ApiKey(Location::Header, key) if key.eq_ignore_ascii_case(name))
        })
}

/// The API key sent when a case forges credentials for an API key scheme.
const FORGED_KEY: &str = "forged-0000000000000000000000000000000000000000";

/// The session cookie sent when a case forges a cookie session.
const FORGED_COOKIE: &str = "session=forged-0000000000000000000000000000000000000000";

/// The token sent when a case forges credentials.
const FORGED_TOKEN: &str = "Bearer forged-0000000000000000000000000000000000000000";

/// The request for a case: what the report shows and what reqwest sends (`None` when a
/// header value cannot be sent at all).
pub fn build(
    api: &Api,
    target: &str,
    extra_headers: &[(String, String)],
    auth: &Auth,
    operation: &Operation,
    case: &Case,
) -> (SentRequest, Option<reqwest::Request>) {
    let mut headers: Vec<(String, String)> = extra_headers.to_vec();
    // The login's header (Authorization unless told otherwise) is a credential too.
    let login_header = auth.header_name();
    let credential = |name: &str| {
        is_credential(api, name)
            || login_header
                .as_deref()
                .is_some_and(|h| h.eq_ignore_ascii_case(name))
    };
    match case.auth {
        AuthMode::Normal => {
            if let (true, Some((name, value))) = (operation.secured, auth.header())
                && !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name))
            {
                headers.push((name, value));
            }
        }
        AuthMode::Missing => headers.retain(|(name, _)| !credential(name)),
        AuthMode::Forged => {
            headers.retain(|(name, _)| !credential(name));
            // A forged credential goes where the operation's scheme wants one.
            let key_header = operation
                .security
                .iter()
                .flatten()
                .filter_map(|name| api.security_schemes.iter().find(|s| s.name == *name))
                .find_map(|scheme| match &scheme.kind {
                    SecurityKind::ApiKey(Location::Header, key) => Some(key.clone()),
                    _ => None,
                });
            match (key_header, login_header.as_deref()) {
                (Some(key), _) => headers.push((key, FORGED_KEY.to_owned())),
                (None, Some(name)) if name.eq_ignore_ascii_case("cookie") => {
                    headers.push(("Cookie".to_owned(), FORGED_COOKIE.to_owned()))
                }
                (None, Some(name)) if !name.eq_ignore_ascii_case("authorization") => {
                    headers.push((name.to_owned(), FORGED_KEY.to_owned()))
                }
                _ => headers.push(("Authorization".to_owned(), FORGED_TOKEN.to_owned())),
            }
        }
    }
    let rendered = render(operation, case);
    headers.extend(rendered.headers);
    let url = format!(
        "{}{}",
        target.trim_end_matches('/'),
        rendered.path_and_query
    );
    let (content_type, body) = (rendered.content_type, rendered.body);
    if let Some(content_type) = &content_type {
        headers.push(("Content-Type".to_owned(), content_type.clone()));
    }
    let sent = SentRequest {
        method: operation.method.to_string(),
        url: url.clone(),
        headers: headers.clone(),
        body: body
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned()),
    };
    (sent, to_reqwest(&operation.method, &url, &headers, body))
}

fn to_reqwest(
    method: &Method,
    url: &str,
    headers: &[(String, String)],
    body: Option<Vec<u8>>,
) -> Option<reqwest::Request> {
    let mut request = reqwest::Request::new(method.clone(), reqwest::Url::parse(url).ok()?);
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
        let value = HeaderValue::from_str(value).ok()?;
        request.headers_mut().append(name, value);
    }
    if let Some(body) = body {
        *request.body_mut() = Some(body.into());
    }
    Some(request)
}

/// Sends a request and reads its answer within `limit` bytes (inflated only in a coding the
/// request accepted).
pub async fn send(client: &reqwest::Client, request: reqwest::Request, limit: usize) -> Outcome {
    let accepted: Vec<String> = request
        .headers()
        .get_all(reqwest::header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(accepted_codings)
        .collect();
    let started = Instant::now();
    let response = match client.execute(request).await {
        Ok(response) => response,
        Err(error) => return Outcome::Transport(describe(&error)),
    };
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    match read_body(response, limit, &accepted).await {
        Ok(body) => Outcome::Response(Response {
            status,
            headers,
            body,
            elapsed: started.elapsed(),
        }),
        Err(error) => Outcome::Transport(error.to_string()),
    }
}

/// A transport error with its causes, which is where the useful words are.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "timed out waiting for the response".to_owned();
    }
    openapi::error::with_causes(error)
}

pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    match text.char_indices().nth(EXCERPT) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_lines_survive_the_shell() {
        let request = SentRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:1/a?q=x%20y".into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Some(r#"{"name":"O'Brien"}"#.into()),
        };
        assert_eq!(
            request.curl(),
            r#"curl -X POST 'http://127.0.0.1:1/a?q=x%20y' -H 'Content-Type: application/json' --data-raw '{"name":"O'\''Brien"}'"#
        );
    }
}
