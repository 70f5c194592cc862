//! One request through goose, as the document-driven and scripted loads send it: named by
//! what reports group it under, judged by the statuses it may answer with, and its JSON answer
//! kept when the step needs to read from it.

use goose::goose::{GooseMethod, GooseRequest};
use goose::prelude::*;
use serde_json::Value;

use crate::credentials::Credentials;

/// A request to send.
pub struct Request<'a> {
    pub method: &'a reqwest::Method,
    /// Joined to the host: path and query.
    pub path: &'a str,
    /// What reports call it (`GET /pets/{petId}`).
    pub name: &'a str,
    pub headers: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub body: Option<Vec<u8>>,
    /// The statuses that are a success; empty: any 2xx.
    pub expect: &'a [u16],
    /// Whether the answer is read as JSON (only when a step needs a value from it).
    pub read: bool,
    /// Sent with it, before its own headers of the same name (`--header`, `--query`).
    pub credentials: &'a Credentials,
}

/// Sends it; the status and the JSON answer (if any), or `None` when no answer came. A
/// status not expected is a failure in goose's metrics, with the status as its error.
pub async fn send(
    user: &mut GooseUser,
    request: Request<'_>,
) -> Result<Option<(u16, Option<Value>)>, Box<TransactionError>> {
    let method = goose_method(request.method);
    let credentials = request.credentials;
    let path = credentials.with_query(request.path);
    // Relative to the host, so a host with a path (`http://api/v2/`) keeps it.
    let path = path.trim_start_matches('/');
    let mut builder = user.get_request_builder(&method, path)?;
    for (name, value) in &credentials.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    // A header the credentials set is theirs (a document's `api_key` header parameter
    // drawn at random would not pass).
    for (name, value) in &request.headers {
        if !credentials
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            builder = builder.header(name.as_str(), value.as_str());
        }
    }
    if let Some(content_type) = &request.content_type {
        builder = builder.header(reqwest::header::CONTENT_TYPE, content_type.as_str());
    }
    if let Some(body) = request.body {
        builder = builder.body(body);
    }
    let goose_request = GooseRequest::builder()
        .method(method)
        .path(path)
        .name(request.name)
        .set_request_builder(builder)
        .build();
    let mut goose = user.request(goose_request).await?;
    let response = match goose.response {
        Ok(response) => response,
        Err(_) => return Ok(None),
    };
    let status = response.status().as_u16();
    let expected = match request.expect.is_empty() {
        true => (200..300).contains(&status),
        false => request.expect.contains(&status),
    };
    match (expected, goose.request.success) {
        (true, false) => user.set_success(&mut goose.request)?,
        (false, _) => {
            let tag = format!("{} answered {status}", request.name);
            user.set_failure(&tag, &mut goose.request, None, None)?;
        }
        (true, true) => {}
    }
    let json = match request.read {
        true => response.json::<Value>().await.ok(),
        false => None,
    };
    Ok(Some((status, json)))
}

fn goose_method(method: &reqwest::Method) -> GooseMethod {
    match *method {
        reqwest::Method::GET => GooseMethod::Get,
        reqwest::Method::POST => GooseMethod::Post,
        reqwest::Method::PUT => GooseMethod::Put,
        reqwest::Method::PATCH => GooseMethod::Patch,
        reqwest::Method::DELETE => GooseMethod::Delete,
        _ => GooseMethod::Head,
    }
}
