//! Swagger 2.0 converted in-process to the OpenAPI 3.0 shape, so nothing downstream knows it:
//! `body` and `formData` parameters become request bodies (`consumes`), response schemas
//! become content (`produces`), `host`/`basePath`/`schemes` become servers, and
//! `securityDefinitions` become security schemes. `definitions` stay where they are, so
//! every `#/definitions/...` reference still resolves; `x-nullable` is read with the schemas.

use serde_json::{Map, Value, json};

use crate::load::refs::fields;

/// Keywords a 2.0 non-body parameter, header or `items` carries that belong to its schema.
const SCHEMA_KEYWORDS: [&str; 19] = [
    "type",
    "format",
    "items",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
    "x-nullable",
    "example",
    "x-example",
];

/// 2.0 names seven methods; `trace` too, as httpbin's flasgger document and others use it.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The 3.0-shaped document for a 2.0 one.
pub fn convert(doc: &Value) -> Value {
    let mut out = Map::new();
    out.insert("openapi".to_owned(), json!("3.0.3"));
    for key in ["info", "tags", "externalDocs", "definitions"] {
        if let Some(value) = doc.get(key) {
            out.insert(key.to_owned(), value.clone());
        }
    }
    out.insert("servers".to_owned(), Value::Array(servers(doc)));
    if let Some(security) = doc.get("security") {
        out.insert("security".to_owned(), security.clone());
    }
    let mut components = Map::new();
    if let Some(definitions) = doc.get("definitions") {
        components.insert("schemas".to_owned(), definitions.clone());
    }
    if let Some(Value::Object(schemes)) = doc.get("securityDefinitions") {
        let converted = schemes
            .iter()
            .map(|(name, scheme)| (name.clone(), security_scheme(scheme)))
            .collect();
        components.insert("securitySchemes".to_owned(), Value::Object(converted));
    }
    out.insert("components".to_owned(), Value::Object(components));
    let global_consumes = strings(doc.get("consumes"));
    let global_produces = strings(doc.get("produces"));
    let mut paths = Map::new();
    for (path, item) in fields(doc.get("paths")) {
        let shared: Vec<Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| local(doc, p).clone())
            .collect();
        let mut converted = Map::new();
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let consumes = strings(operation.get("consumes")).or_else(|| global_consumes.clone());
            let produces = strings(operation.get("produces")).or_else(|| global_produces.clone());
            converted.insert(
                method.to_owned(),
                self::operation(doc, operation, &shared, consumes, produces),
            );
        }
        if let Some(reference) = item.get("$ref") {
            converted.insert("$ref".to_owned(), reference.clone());
        }
        paths.insert(path.clone(), Value::Object(converted));
    }
    out.insert("paths".to_owned(), Value::Object(paths));
    Value::Object(out)
}

/// `#/parameters/X` and `#/responses/X` followed within the document (their 2.0 shape must be
/// converted, so they are inlined); anything else is returned as it is.
fn local<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..crate::load::refs::MAX_CHAIN {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            return value;
        };
        let is_inlined =
            reference.starts_with("#/parameters/") || reference.starts_with("#/responses/");
        match is_inlined.then(|| doc.pointer(&crate::load::refs::percent_decode(&reference[1..]))) {
            Some(Some(target)) => value = target,
            _ => return value,
        }
    }
    value
}

fn strings(value: Option<&Value>) -> Option<Vec<String>> {
    let items = value?.as_array()?;
    Some(
        items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
    )
}

fn servers(doc: &Value) -> Vec<Value> {
    let base = doc.get("basePath").and_then(Value::as_str).unwrap_or("");
    let Some(host) = doc.get("host").and_then(Value::as_str) else {
        return match base {
            "" | "/" => Vec::new(),
            base => vec![json!({"url": base})],
        };
    };
    let schemes = strings(doc.get("schemes")).unwrap_or_else(|| vec!["https".to_owned()]);
    schemes
        .iter()
        .map(|scheme| json!({"url": format!("{scheme}://{host}{}", base.trim_end_matches('/'))}))
        .collect()
}

fn security_scheme(scheme: &Value) -> Value {
    match scheme.get("type").and_then(Value::as_str) {
        Some("basic") => json!({"type": "http", "scheme": "basic"}),
        Some("apiKey") => json!({
            "type": "apiKey",
            "name": scheme.get("name").cloned().unwrap_or(Value::Null),
            "in": scheme.get("in").cloned().unwrap_or(Value::Null),
        }),
        Some("oauth2") => json!({"type": "oauth2", "flows": {}}),
        _ => scheme.clone(),
    }
}

/// The schema of a non-body parameter, header or `items` object.
fn schema_of(param: &Value) -> Value {
    let mut schema = Map::new();
    for key in SCHEMA_KEYWORDS {
        let Some(value) = param.get(key) else {
            continue;
        };
        match key {
            "items" => {
                schema.insert(key.to_owned(), schema_of(value));
            }
            "type" if value == "file" => {
                schema.insert("type".to_owned(), json!("string"));
                schema.insert("format".to_owned(), json!("binary"));
            }
            "x-example" => {
                schema.insert("example".to_owned(), value.clone());
            }
            _ => {
                schema.insert(key.to_owned(), value.clone());
            }
        }
    }
    Value::Object(schema)
}

fn operation(
    doc: &Value,
    operation: &Value,
    shared: &[Value],
    consumes: Option<Vec<String>>,
    produces: Option<Vec<String>>,
) -> Value {
    let mut out = Map::new();
    for key in [
        "operationId",
        "summary",
        "description",
        "tags",
        "deprecated",
        "security",
    ] {
        if let Some(value) = operation.get(key) {
            out.insert(key.to_owned(), value.clone());
        }
    }
    // Operation parameters override path-level ones with the same name and location.
    let mut params: Vec<Value> = Vec::new();
    let own = operation
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    for param in shared.iter().chain(own) {
        let param = local(doc, param).clone();
        let key = |p: &Value| (p.get("name").cloned(), p.get("in").cloned());
        params.retain(|p| key(p) != key(&param));
        params.push(param);
    }
    let mut parameters = Vec::new();
    let mut form = Map::new();
    let mut form_required = Vec::new();
    let mut has_file = false;
    let consumes = consumes.unwrap_or_else(|| vec!["application/json".to_owned()]);
    for param in &params {
        match param.get("in").and_then(Value::as_str) {
            Some("body") => {
                let schema = param.get("schema").cloned().unwrap_or(json!({}));
                let content: Map<String, Value> = consumes
                    .iter()
                    .map(|media| (media.clone(), json!({"schema": schema})))
                    .collect();
                out.insert(
                    "requestBody".to_owned(),
                    json!({"required": param.get("required").cloned().unwrap_or(json!(false)), "content": content}),
                );
            }
            Some("formData") => {
                let name = param
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                has_file |= param.get("type") == Some(&json!("file"));
                if param.get("required") == Some(&Value::Bool(true)) {
                    form_required.push(json!(name));
                }
                form.insert(name, schema_of(param));
            }
            Some(_) if param.get("$ref").is_some() => parameters.push(param.clone()),
            Some(location) => {
                let mut converted = Map::new();
                for key in [
                    "name",
                    "in",
                    "required",
                    "description",
                    "allowEmptyValue",
                    "deprecated",
                ] {
                    if let Some(value) = param.get(key) {
                        converted.insert(key.to_owned(), value.clone());
                    }
                }
                converted.insert("schema".to_owned(), schema_of(param));
                let format = param.get("collectionFormat").and_then(Value::as_str);
                if param.get("type") == Some(&json!("array")) {
                    let (style, explode) = match (location, format.unwrap_or("csv")) {
                        (_, "multi") => ("form", true),
                        (_, "ssv") => ("spaceDelimited", false),
                        (_, "pipes") => ("pipeDelimited", false),
                        ("query", _) => ("form", false),
                        _ => ("simple", false),
                    };
                    converted.insert("style".to_owned(), json!(style));
                    converted.insert("explode".to_owned(), json!(explode));
                }
                parameters.push(Value::Object(converted));
            }
            None => parameters.push(param.clone()),
        }
    }
    if !form.is_empty() {
        let multipart = has_file
            || consumes
                .iter()
                .any(|m| m.starts_with("multipart/form-data"));
        let media = match multipart {
            true => "multipart/form-data",
            false => "application/x-www-form-urlencoded",
        };
        let mut schema = json!({"type": "object", "properties": form});
        if !form_required.is_empty() {
            schema["required"] = Value::Array(form_required.clone());
        }
        out.insert(
            "requestBody".to_owned(),
            json!({"required": !form_required.is_empty(), "content": {media: {"schema": schema}}}),
        );
    }
    out.insert("parameters".to_owned(), Value::Array(parameters));
    let produces = produces.unwrap_or_else(|| vec!["application/json".to_owned()]);
    let mut responses = Map::new();
    for (status, response) in fields(operation.get("responses")) {
        let response = local(doc, response);
        if response.get("$ref").is_some() {
            responses.insert(status.clone(), response.clone());
            continue;
        }
        let mut converted = Map::new();
        converted.insert(
            "description".to_owned(),
            response.get("description").cloned().unwrap_or(json!("")),
        );
        // A response without a schema still comes in the operation's `produces` types, as
        // 2.0 tools read it: its body is any body of those types (none, for a 204).
        {
            let content: Map<String, Value> = produces
                .iter()
                .map(|media| {
                    let mut entry = match response.get("schema") {
                        Some(schema) => json!({"schema": schema}),
                        None => json!({}),
                    };
                    if let Some(example) = response.pointer(&format!(
                        "/examples/{}",
                        media.replace('~', "~0").replace('/', "~1")
                    )) {
                        entry["example"] = example.clone();
                    }
                    (media.clone(), entry)
                })
                .collect();
            converted.insert("content".to_owned(), Value::Object(content));
        }
        if let Some(Value::Object(headers)) = response.get("headers") {
            let headers: Map<String, Value> = headers
                .iter()
                .map(|(name, header)| (name.clone(), json!({"schema": schema_of(header)})))
                .collect();
            converted.insert("headers".to_owned(), Value::Object(headers));
        }
        responses.insert(status.clone(), Value::Object(converted));
    }
    out.insert("responses".to_owned(), Value::Object(responses));
    Value::Object(out)
}
