//! The document when `--spec` is not given: the one the target serves where frameworks put
//! it.

use super::SetupError;

/// Where frameworks serve their document: FastAPI and most others, Swagger 2.0 tools,
/// springdoc and springfox, drf-spectacular, express and others.
pub const SERVED_SPECS: [&str; 11] = [
    "/openapi.json",
    "/openapi.yaml",
    "/swagger.json",
    "/swagger.yaml",
    "/v3/api-docs",
    "/v2/api-docs",
    "/api/schema/",
    "/schema/",
    "/api-docs",
    "/api/openapi.json",
    "/docs/openapi.json",
];

/// The most bytes of a served document read.
const MAX_DOCUMENT: usize = 64 << 20;

/// The first document the target serves at [`SERVED_SPECS`], and where it was.
pub async fn served(
    client: &reqwest::Client,
    target: &str,
) -> Result<(openapi::Api, &'static str), SetupError> {
    for path in SERVED_SPECS {
        if let Some(api) = served_at(client, target, path).await {
            return Ok((api, path));
        }
    }
    Err(SetupError::NoServedDocument {
        target: target.to_owned(),
        tried: SERVED_SPECS.join(", "),
    })
}

async fn served_at(client: &reqwest::Client, target: &str, path: &str) -> Option<openapi::Api> {
    let url = reqwest::Url::parse(&format!("{target}{path}")).ok()?;
    let response = client
        .get(url.clone())
        .header(
            reqwest::header::ACCEPT,
            "application/json, application/yaml;q=0.9, application/vnd.oai.openapi;q=0.9, */*;q=0.5",
        )
        .send()
        .await
        .ok()?
        .error_for_status()
        .ok()?;
    let body = crate::transport::read_body(response, MAX_DOCUMENT, &[])
        .await
        .ok()?;
    let text = String::from_utf8(body).ok()?;
    openapi::from_text_at(client, &text, url).await.ok()
}
