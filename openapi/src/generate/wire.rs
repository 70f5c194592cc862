//! How values travel: parameters and form fields as text, and what a server typed by the
//! schema reads back from that text. Generation judges a value by what the server will see,
//! and every tool that sends a body encodes it here.

use std::sync::Arc;

use jsonschema::Validator;
use serde_json::{Map, Number, Value, json};

use crate::model::{Body, Encoding, Location, Param};
use crate::schema::{Direction, Schemas};

/// How deep array shapes nest (`items` of `items`...).
const MAX_SHAPE_DEPTH: usize = 4;

/// A parameter value as it goes on the wire (style `simple`/`form`: arrays comma-joined).
pub fn param_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        Value::Array(items) => items.iter().map(param_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// What text of a schema parses into: the types a server would try, or an array of them.
#[derive(Debug, Clone)]
pub enum Shape {
    Scalar(Vec<String>),
    Array(Box<Shape>),
}

impl Shape {
    pub fn of(schemas: &Schemas, schema: &Value) -> Shape {
        shape_at(schemas, schema, 0)
    }

    /// The text as a server typed by the schema reads it.
    pub fn coerce(&self, text: &str) -> Value {
        match self {
            Shape::Array(items) => {
                let parts: Vec<&str> = if text.is_empty() {
                    Vec::new()
                } else {
                    text.split(',').collect()
                };
                Value::Array(parts.into_iter().map(|p| items.coerce(p)).collect())
            }
            Shape::Scalar(types) => {
                let has = |name: &str| types.iter().any(|t| t == name);
                if has("integer")
                    && let Ok(n) = text.parse::<i64>()
                {
                    return json!(n);
                }
                if (has("number") || has("integer"))
                    && let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64)
                {
                    return Value::Number(n);
                }
                if has("boolean") && (text == "true" || text == "false") {
                    return json!(text == "true");
                }
                json!(text)
            }
        }
    }
}

fn shape_at(schemas: &Schemas, schema: &Value, depth: usize) -> Shape {
    let resolved = schemas.resolve(schema);
    let mut types: Vec<String> = Vec::new();
    let mut branches = vec![resolved];
    for key in ["anyOf", "oneOf", "allOf"] {
        branches.extend(
            resolved
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|b| schemas.resolve(b)),
        );
    }
    for branch in &branches {
        let declared = crate::schema::query::types(branch);
        if declared == ["array"] && depth < MAX_SHAPE_DEPTH {
            let items = branch.get("items").cloned().unwrap_or(json!({}));
            return Shape::Array(Box::new(shape_at(schemas, &items, depth + 1)));
        }
        types.extend(declared.into_iter().map(str::to_owned));
    }
    Shape::Scalar(types)
}

/// Judges a parameter value by what the server will read, without borrowing the document
/// (strategies live as long as they like).
#[derive(Clone)]
pub struct ParamJudge {
    validator: Arc<Validator>,
    shape: Shape,
    location: Location,
    explode: bool,
}

impl ParamJudge {
    pub fn new(schemas: &Schemas, param: &Param) -> Option<ParamJudge> {
        Some(ParamJudge {
            validator: schemas.validator(&param.schema, Direction::Request).ok()?,
            shape: Shape::of(schemas, &param.schema),
            location: param.location,
            explode: param.explode,
        })
    }

    /// Whether the value can be sent at all (a path segment that stays one segment, a header
    /// that survives transport as it is: visible ASCII, tabs inside).
    pub fn sendable(&self, value: &Value) -> bool {
        let text = param_text(value);
        match self.location {
            // An empty, `.` or `..` segment, or one with a `/`, addresses another route.
            Location::Path => {
                !text.is_empty() && text != "." && text != ".." && !text.contains('/')
            }
            Location::Header => {
                text.bytes()
                    .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
                    && text.trim() == text
            }
            Location::Query | Location::Cookie => true,
        }
    }

    /// The value as the server sees it after parsing the text.
    pub fn as_seen(&self, value: &Value) -> Value {
        match (value, &self.shape) {
            (Value::Array(items), Shape::Array(item_shape))
                if self.explode && self.location == Location::Query =>
            {
                Value::Array(
                    items
                        .iter()
                        .map(|item| item_shape.coerce(&param_text(item)))
                        .collect(),
                )
            }
            _ => self.shape.coerce(&param_text(value)),
        }
    }

    /// Sendable, and valid as the server will see it.
    pub fn accepts(&self, value: &Value) -> bool {
        self.sendable(value) && self.received(value)
    }

    /// Valid as the server sees it, for a value that arrived by whatever transport allowed
    /// (the mock's reading of a request): judged by its schema alone.
    pub fn received(&self, value: &Value) -> bool {
        self.validator.is_valid(&self.as_seen(value))
    }
}

/// Judges a body by what the server will read: JSON as it is, form fields as text.
#[derive(Clone)]
pub struct BodyJudge {
    validator: Arc<Validator>,
    encoding: Encoding,
    fields: Vec<(String, Shape)>,
    /// Required fields that are arrays: a form cannot send an empty one but by leaving it
    /// out, so a server reads one left out as empty.
    required_arrays: Vec<String>,
}

impl BodyJudge {
    pub fn new(schemas: &Schemas, body: &Body) -> Option<BodyJudge> {
        let resolved = schemas.resolve(&body.schema);
        let fields = resolved
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, schema)| (name.clone(), Shape::of(schemas, schema)))
            .collect();
        let fields: Vec<(String, Shape)> = fields;
        let required_arrays = crate::schema::query::required_names(resolved)
            .into_iter()
            .filter(|name| {
                fields
                    .iter()
                    .any(|(n, shape)| n == name && matches!(shape, Shape::Array(_)))
            })
            .map(str::to_owned)
            .collect();
        Some(BodyJudge {
            validator: schemas.validator(&body.schema, Direction::Request).ok()?,
            encoding: body.encoding,
            fields,
            required_arrays,
        })
    }

    /// The body as the server sees it.
    pub fn as_seen(&self, value: &Value) -> Value {
        match self.encoding {
            Encoding::Json => value.clone(),
            Encoding::Form | Encoding::Multipart => self.form_seen(value),
            // Whatever was made, the server reads text.
            Encoding::Text => Value::String(field_text(value)),
        }
    }

    /// Form fields (text, or repeated text) as a server typed by the schema reads them,
    /// whichever media type the body was chosen in: a document may accept JSON and a form.
    pub fn form_seen(&self, value: &Value) -> Value {
        // Anything but an object encodes as no fields at all.
        let Value::Object(map) = value else {
            return Value::Object(Map::new());
        };
        let mut seen = Map::new();
        for (name, field) in map {
            let shape = self.fields.iter().find(|(n, _)| n == name).map(|(_, s)| s);
            let text = field_text(field);
            let read = match (shape, field) {
                (Some(Shape::Array(items)), Value::Array(values)) => Value::Array(
                    values
                        .iter()
                        .map(|v| items.coerce(&field_text(v)))
                        .collect(),
                ),
                (Some(shape), _) => shape.coerce(&text),
                (None, _) => json!(text),
            };
            seen.insert(name.clone(), read);
        }
        // On the wire an empty array is no field at all, and is read back as empty.
        seen.retain(|_, v| v.as_array().is_none_or(|items| !items.is_empty()));
        for name in &self.required_arrays {
            seen.entry(name.clone()).or_insert_with(|| json!([]));
        }
        Value::Object(seen)
    }

    pub fn accepts(&self, value: &Value) -> bool {
        self.validator.is_valid(&self.as_seen(value))
    }
}

/// A form field's text: strings as they are, anything else as JSON.
fn field_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A form body's fields: arrays repeat their name, objects go as JSON text.
pub fn form_fields(value: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, field) in value.as_object().into_iter().flatten() {
        match field {
            Value::Array(items) => out.extend(items.iter().map(|v| (name.clone(), field_text(v)))),
            other => out.push((name.clone(), field_text(other))),
        }
    }
    out
}

/// The boundary of generated multipart bodies (no generated text contains it).
const BOUNDARY: &str = "----openapi-boundary-7MA4YWxkTrZu0gW";

/// The content type and bytes of a body value, encoded as the operation's body wants.
pub fn encode_body(body: &Body, value: &Value) -> (String, Vec<u8>) {
    match body.encoding {
        Encoding::Json => (
            body.media_type.clone(),
            serde_json::to_vec(value).unwrap_or_default(),
        ),
        Encoding::Form => {
            let text = form_fields(value)
                .iter()
                .map(|(n, v)| format!("{}={}", percent_encode(n), percent_encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            (
                "application/x-www-form-urlencoded".to_owned(),
                text.into_bytes(),
            )
        }
        Encoding::Multipart => {
            let mut bytes = Vec::new();
            for (name, text) in form_fields(value) {
                let name = name.replace(['"', '\r', '\n'], "_");
                bytes.extend_from_slice(
                    format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{text}\r\n")
                        .as_bytes(),
                );
            }
            bytes.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
            (format!("multipart/form-data; boundary={BOUNDARY}"), bytes)
        }
        Encoding::Text => (body.media_type.clone(), field_text(value).into_bytes()),
    }
}

/// Everything but the unreserved characters of RFC 3986.
const RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn percent_encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, RESERVED).to_string()
}

/// Appends a parameter's value to a path as [`param_text`] and [`percent_encode`] would make
/// it, without their copies: a load fills a path on every request.
pub fn push_param(out: &mut String, value: &Value) {
    use std::fmt::Write;
    let _ = match value {
        Value::String(text) => write!(
            out,
            "{}",
            percent_encoding::utf8_percent_encode(text, RESERVED)
        ),
        // Digits, a sign, a point and an exponent need no escape.
        Value::Number(number) => write!(out, "{number}"),
        other => write!(
            out,
            "{}",
            percent_encoding::utf8_percent_encode(&param_text(other), RESERVED)
        ),
    };
}

/// `%XX` escapes decoded as UTF-8; the text as it is when they do not decode to UTF-8.
pub fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map_or_else(|_| text.to_owned(), |decoded| decoded.into_owned())
}
