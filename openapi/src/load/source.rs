//! Reading documents: a file or URL, JSON or YAML, with every document its references name
//! (relative to the one that names them) read too, each within a byte budget.

use std::collections::HashMap;
use std::io::Read;

use serde_json::{Map, Number, Value};
use url::Url;

use crate::error::LoadError;

/// The most bytes one document may have.
pub const MAX_DOCUMENT_BYTES: u64 = 64 << 20;
/// The most documents one set of references may reach.
const MAX_DOCUMENTS: usize = 256;
/// YAML nests no deeper than JSON does in serde_json (which refuses past 128).
const MAX_NESTING: usize = 128;

/// A document and every document it refers to, by URL without fragment.
#[derive(Debug)]
pub struct Documents {
    pub root: Url,
    pub docs: HashMap<Url, Value>,
    /// Documents that references name but that could not be read, each with why: their
    /// references read as schemas that accept any value, and the rest of the set stands.
    pub unread: Vec<String>,
}

impl Documents {
    /// The document at a URL (without fragment).
    pub fn get(&self, url: &Url) -> Option<&Value> {
        self.docs.get(url)
    }

    /// The root document.
    pub fn root(&self) -> &Value {
        &self.docs[&self.root]
    }
}

/// How a document is named in messages: a file by its path, anything else by its URL.
pub fn display(url: &Url) -> String {
    match url.scheme() {
        "file" => url
            .to_file_path()
            .map_or_else(|_| url.to_string(), |p| p.display().to_string()),
        "memory" => "the document".to_owned(),
        _ => url.to_string(),
    }
}

/// The base URL of a document given as text: references to other files cannot be followed.
pub fn memory_url() -> Url {
    Url::parse("memory:///document").expect("a constant URL parses")
}

/// Where a location (a path or an http(s) URL) points.
pub fn location_url(location: &str) -> Result<Url, LoadError> {
    if location.starts_with("http://") || location.starts_with("https://") {
        return Url::parse(location)
            .map_err(|e| LoadError::Read(location.to_owned(), e.to_string()));
    }
    let path = std::path::Path::new(location);
    let absolute = match path.is_absolute() {
        true => path.to_path_buf(),
        false => std::env::current_dir()
            .map_err(|e| LoadError::Read(location.to_owned(), e.to_string()))?
            .join(path),
    };
    Url::from_file_path(&absolute)
        .map_err(|()| LoadError::Read(location.to_owned(), "not a valid path".to_owned()))
}

/// Parses JSON or YAML text into a JSON value.
pub fn parse_text(name: &str, text: &str) -> Result<Value, LoadError> {
    if let Ok(value) = serde_json::from_str(text) {
        return Ok(value);
    }
    let yaml: yaml_serde::Value = yaml_serde::from_str(text)
        .map_err(|e| LoadError::Syntax(name.to_owned(), e.to_string()))?;
    from_yaml(name, yaml, 0)
}

/// YAML to JSON: keys become strings (`200:` is the status "200"), tags are dropped.
fn from_yaml(name: &str, yaml: yaml_serde::Value, depth: usize) -> Result<Value, LoadError> {
    if depth > MAX_NESTING {
        return Err(LoadError::Syntax(
            name.to_owned(),
            format!("nested deeper than {MAX_NESTING} levels"),
        ));
    }
    Ok(match yaml {
        yaml_serde::Value::Null => Value::Null,
        yaml_serde::Value::Bool(b) => Value::Bool(b),
        yaml_serde::Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Value::Number(u.into()),
            (_, Some(i), _) => Value::Number(i.into()),
            (_, _, Some(f)) => Number::from_f64(f).map_or(Value::Null, Value::Number),
            _ => Value::Null,
        },
        yaml_serde::Value::String(s) => Value::String(s),
        yaml_serde::Value::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(|item| from_yaml(name, item, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        yaml_serde::Value::Mapping(mapping) => {
            let mut map = Map::new();
            for (key, value) in mapping {
                let key = match key {
                    yaml_serde::Value::String(s) => s,
                    yaml_serde::Value::Number(n) => n.to_string(),
                    yaml_serde::Value::Bool(b) => b.to_string(),
                    yaml_serde::Value::Null => "null".to_owned(),
                    _ => {
                        return Err(LoadError::Syntax(
                            name.to_owned(),
                            "a mapping key is not a scalar".to_owned(),
                        ));
                    }
                };
                map.insert(key, from_yaml(name, value, depth + 1)?);
            }
            Value::Object(map)
        }
        yaml_serde::Value::Tagged(tagged) => from_yaml(name, tagged.value, depth + 1)?,
    })
}

/// Reads the text at a URL: a file, or an http(s) resource through `client`.
pub async fn read_text(client: &reqwest::Client, url: &Url) -> Result<String, LoadError> {
    let name = display(url);
    let too_big = || {
        LoadError::Read(
            name.clone(),
            format!("larger than {MAX_DOCUMENT_BYTES} bytes"),
        )
    };
    let bytes = match url.scheme() {
        "file" => {
            let path = url
                .to_file_path()
                .map_err(|()| LoadError::Read(name.clone(), "not a file path".to_owned()))?;
            let file = std::fs::File::open(&path)
                .map_err(|e| LoadError::Read(name.clone(), e.to_string()))?;
            let mut bytes = Vec::new();
            file.take(MAX_DOCUMENT_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| LoadError::Read(name.clone(), e.to_string()))?;
            bytes
        }
        "http" | "https" => {
            let mut response = client
                .get(url.clone())
                .send()
                .await
                .map_err(|e| LoadError::Read(name.clone(), crate::error::with_causes(&e)))?;
            if !response.status().is_success() {
                return Err(LoadError::Read(
                    name,
                    format!("status {}", response.status()),
                ));
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| LoadError::Read(name.clone(), crate::error::with_causes(&e)))?
            {
                if bytes.len() as u64 + chunk.len() as u64 > MAX_DOCUMENT_BYTES {
                    return Err(too_big());
                }
                bytes.extend_from_slice(&chunk);
            }
            bytes
        }
        other => {
            return Err(LoadError::Read(
                name,
                format!(
                    "cannot follow a reference with the scheme {other:?} (only files and http(s))"
                ),
            ));
        }
    };
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(too_big());
    }
    String::from_utf8(bytes).map_err(|_| LoadError::Read(name, "not UTF-8 text".to_owned()))
}

/// The root document (already parsed) and every document its references reach.
pub async fn gather(
    client: &reqwest::Client,
    root: Url,
    doc: Value,
) -> Result<Documents, LoadError> {
    let mut docs = HashMap::new();
    let mut unread = Vec::new();
    let mut pending = external_refs(&root, &doc)?;
    docs.insert(root.clone(), doc);
    while let Some((url, from)) = pending.pop() {
        if docs.contains_key(&url) {
            continue;
        }
        if docs.len() >= MAX_DOCUMENTS {
            return Err(LoadError::Read(
                display(&root),
                format!("its references reach more than {MAX_DOCUMENTS} documents"),
            ));
        }
        let value = match read_text(client, &url).await {
            Ok(text) => parse_text(&display(&url), &text),
            Err(error) => Err(error),
        };
        match value {
            Ok(value) => {
                pending.extend(external_refs(&url, &value)?);
                docs.insert(url, value);
            }
            Err(error) => {
                unread.push(format!("{error} (referenced from {from})"));
                docs.insert(url, Value::Null);
            }
        }
    }
    Ok(Documents { root, docs, unread })
}

/// Maps whose keys are names the author chose, not keywords: an entry named `x-foo` or
/// `example` there is still a part of the document.
const NAMED: [&str; 18] = [
    "properties",
    "patternProperties",
    "dependentSchemas",
    "definitions",
    "$defs",
    "schemas",
    "parameters",
    "responses",
    "headers",
    "securitySchemes",
    "examples",
    "links",
    "callbacks",
    "requestBodies",
    "paths",
    "pathItems",
    "content",
    "encoding",
];

/// The documents (without fragment) that the references in `doc` name, each with the
/// document that names it. Extensions (`x-...`) are opaque and example values are data:
/// a `$ref` inside them is not a reference, and is not followed.
fn external_refs(base: &Url, doc: &Value) -> Result<Vec<(Url, String)>, LoadError> {
    let mut out = Vec::new();
    // Each value with the keys of its parent and grandparent.
    let mut stack: Vec<(&Value, &str, &str)> = vec![(doc, "", "")];
    while let Some((value, parent, grandparent)) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref")
                    && !reference.starts_with('#')
                {
                    let mut url = base.join(reference).map_err(|e| LoadError::Reference {
                        doc: display(base),
                        pointer: String::new(),
                        reference: reference.clone(),
                        why: e.to_string(),
                    })?;
                    url.set_fragment(None);
                    if url != *base {
                        out.push((url, display(base)));
                    }
                }
                let named = NAMED.contains(&parent);
                let example_object = grandparent == "examples";
                for (key, child) in map {
                    let data = key.starts_with("x-")
                        || key == "example"
                        || (key == "value" && example_object)
                        || (key == "examples" && child.is_array());
                    if !data || named {
                        stack.push((child, key, parent));
                    }
                }
            }
            Value::Array(items) => {
                stack.extend(items.iter().map(|item| (item, parent, grandparent)))
            }
            _ => {}
        }
    }
    Ok(out)
}
