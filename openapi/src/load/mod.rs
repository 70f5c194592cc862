//! Loading: a file, URL or text, JSON or YAML, of OpenAPI 2.0, 3.0 or 3.1, into the one
//! model. Version differences end here.
//!
//! - [`source`]: reading documents and the documents their references name;
//! - [`refs`]: `$ref` resolution across them;
//! - [`swagger2`]: 2.0 converted to the 3.0 shape;
//! - [`build`]: the 3.x shape walked into operations, schemas into the arena.

pub mod build;
pub mod normalize;
pub mod refs;
pub mod source;
pub mod swagger2;

use serde_json::Value;
use url::Url;

use crate::error::LoadError;
use crate::load::normalize::Dialect;
use crate::model::Api;
use source::{Documents, display};

/// Parses a document given as text (references to other documents cannot be followed).
pub fn parse(text: &str) -> Result<Api, LoadError> {
    let url = source::memory_url();
    let doc = source::parse_text(&display(&url), text)?;
    let docs = Documents {
        root: url.clone(),
        docs: [(url, doc)].into_iter().collect(),
        unread: Vec::new(),
    };
    from_documents(docs)
}

/// Loads the document at a path or http(s) URL, with every document it refers to.
pub async fn load(client: &reqwest::Client, location: &str) -> Result<Api, LoadError> {
    let url = source::location_url(location)?;
    let text = source::read_text(client, &url).await?;
    from_text_at(client, &text, url).await
}

/// Like [`load`], with the root document's text as it was read (a mock serves it back):
/// the text, not a second parsed copy, which for Microsoft Graph's 47 MB is hundreds.
pub async fn load_with_root(
    client: &reqwest::Client,
    location: &str,
) -> Result<(Api, String), LoadError> {
    let url = source::location_url(location)?;
    let text = source::read_text(client, &url).await?;
    let api = from_text_at(client, &text, url).await?;
    Ok((api, text))
}

/// A document given as text that was found at `url` (its references are relative to it).
pub async fn from_text_at(
    client: &reqwest::Client,
    text: &str,
    url: Url,
) -> Result<Api, LoadError> {
    let doc = source::parse_text(&display(&url), text)?;
    let docs = source::gather(client, url, doc).await?;
    from_documents(docs)
}

/// The model of a set of documents.
pub fn from_documents(mut docs: Documents) -> Result<Api, LoadError> {
    let name = display(&docs.root);
    let root = docs.root();
    if !root.is_object() {
        return Err(LoadError::NotOpenApi(name));
    }
    let (version, dialect) = match (root.get("openapi"), root.get("swagger")) {
        (Some(Value::String(v)), _) if v.starts_with("3.0") => (v.clone(), Dialect::OpenApi30),
        (Some(Value::String(v)), _) if v.starts_with("3.1") => (v.clone(), Dialect::JsonSchema2020),
        (Some(v), _) => return Err(LoadError::Version(name, version_text(v))),
        (None, Some(v)) if v == "2.0" => ("2.0".to_owned(), Dialect::OpenApi30),
        (None, Some(v)) => return Err(LoadError::Version(name, version_text(v))),
        (None, None) => return Err(LoadError::NotOpenApi(name)),
    };
    if version == "2.0" {
        let converted = swagger2::convert(root);
        let url = docs.root.clone();
        docs.docs.insert(url, converted);
    }
    let api = build::build(&docs, version, dialect);
    // The parsed documents are hundreds of megabytes for the biggest (Microsoft Graph's
    // 47 MB of JSON): freed on a thread of their own, off the start's path.
    drop_later(docs);
    api
}

/// Drops a large value on a thread of its own, or here when no thread can be started.
fn drop_later<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new()
        .name("drop documents".to_owned())
        .spawn(move || drop(value));
}

fn version_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
