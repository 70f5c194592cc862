//! `$ref` resolution across the documents of a set: a reference is a URI relative to the
//! document it is written in; its fragment is a JSON pointer into the target document.

use serde_json::Value;
use url::Url;

use crate::error::LoadError;
use crate::load::source::{Documents, display};

/// How many references in a row may lead only to other references.
pub const MAX_CHAIN: usize = 64;

/// Where a value lives: its document and its JSON pointer there.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct At {
    pub doc: Url,
    pub pointer: String,
}

impl At {
    /// The location of a child value.
    pub fn child(&self, token: &str) -> At {
        At {
            doc: self.doc.clone(),
            pointer: format!("{}/{}", self.pointer, crate::error::escape_token(token)),
        }
    }

    /// `file.yaml#/paths/~1pets/get`, or only the pointer in the root document.
    pub fn describe(&self, docs: &Documents) -> String {
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        match self.doc == docs.root {
            true => format!("#{pointer}"),
            false => format!("{}#{pointer}", display(&self.doc)),
        }
    }

    pub fn structure(&self, docs: &Documents, message: impl Into<String>) -> LoadError {
        LoadError::Structure {
            doc: display(&docs.root),
            pointer: self.describe(docs),
            message: message.into(),
        }
    }
}

/// The target of a reference written at `at`.
pub fn target<'d>(
    docs: &'d Documents,
    at: &At,
    reference: &str,
) -> Result<(At, &'d Value), LoadError> {
    let error = |why: &str| LoadError::Reference {
        doc: display(&docs.root),
        pointer: at.describe(docs),
        reference: reference.to_owned(),
        why: why.to_owned(),
    };
    let url = at.doc.join(reference).map_err(|e| error(&e.to_string()))?;
    let fragment = url.fragment().unwrap_or("");
    let pointer = percent_decode(fragment);
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return Err(error(
            "only JSON pointer fragments (#/...) are supported, not anchors",
        ));
    }
    let mut doc = url.clone();
    doc.set_fragment(None);
    let root = docs
        .get(&doc)
        .ok_or_else(|| error("the document it names was not read"))?;
    let value = root
        .pointer(&pointer)
        .ok_or_else(|| error("nothing there"))?;
    Ok((At { doc, pointer }, value))
}

/// A value with its `$ref` chain followed: the first value that is not only a reference.
pub fn follow<'d>(
    docs: &'d Documents,
    at: At,
    value: &'d Value,
) -> Result<(At, &'d Value), LoadError> {
    let (mut at, mut value) = (at, value);
    for _ in 0..MAX_CHAIN {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => (at, value) = target(docs, &at, reference)?,
            None => return Ok((at, value)),
        }
    }
    Err(at.structure(
        docs,
        format!("more than {MAX_CHAIN} references in a row (a cycle?)"),
    ))
}

/// The fields of an object of the document, its `x-` extensions left out (nothing when it
/// is absent or not an object).
pub fn fields(value: Option<&Value>) -> impl Iterator<Item = (&String, &Value)> {
    value
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(key, _)| !key.starts_with("x-"))
}

/// Decodes `%XX` escapes of a URI fragment (invalid escapes are kept as they are).
pub fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}
