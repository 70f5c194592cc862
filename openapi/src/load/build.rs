//! The 3.x shape (3.0, 3.1, or 2.0 converted) walked into the model: operations, their
//! parameters, bodies, responses, headers, links and security; every schema met is put in
//! the arena. Walked over JSON values rather than a typed 3.0 model so that one walker
//! serves every version and every error can name its JSON pointer.

use std::collections::HashMap;

use http::Method;
use serde_json::{Value, json};

use crate::error::LoadError;
use crate::load::normalize::{Builder, Dialect};
use crate::load::refs::{At, fields, follow, target};
use crate::load::source::Documents;
use crate::model::{
    Api, Body, Encoding, LinkSpec, Location, Operation, Param, ResponseSpec, SecurityKind,
    SecurityScheme, SetAside, StatusKey, admits_json, essence, is_json,
};
use crate::schema::Schemas;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The dialects a 3.1 document may name and still be read as 2020-12.
const KNOWN_DIALECTS: [&str; 2] = [
    "https://spec.openapis.org/oas/3.1/dialect/base",
    "https://json-schema.org/draft/2020-12/schema",
];

/// A link as written, resolved once every operation is known.
struct PendingLink {
    operation: usize,
    response: usize,
    at: At,
    target: LinkTarget,
    parameters: Vec<(String, String)>,
}

enum LinkTarget {
    Id(String),
    Ref(String),
}

struct Walker<'d> {
    docs: &'d Documents,
    arena: Builder<'d>,
    links: Vec<PendingLink>,
    /// What the walk noticed and worked around, for the report.
    notes: Vec<String>,
    /// How the document was read where it is not what the text says: each repair or part
    /// dropped, with its JSON pointer.
    repairs: Vec<String>,
    /// Operations whose required body the checker cannot make.
    unsendable: Vec<usize>,
}

pub fn build(docs: &Documents, openapi: String, dialect: Dialect) -> Result<Api, LoadError> {
    let root = docs.root();
    let root_at = At {
        doc: docs.root.clone(),
        pointer: String::new(),
    };
    let info = root.get("info").filter(|i| i.is_object());
    let Some(info) = info else {
        return Err(root_at
            .child("info")
            .structure(docs, "`info` must be an object"));
    };
    let text = |key: &str| {
        info.get(key)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
    };
    let mut notes = Vec::new();
    if let Some(webhooks) = root.get("webhooks").and_then(Value::as_object)
        && !webhooks.is_empty()
    {
        notes.push(format!(
            "the document's {} webhook(s) are not checked: they are requests the API sends, not ones it answers",
            webhooks.len()
        ));
    }
    if let Some(dialect) = root.get("jsonSchemaDialect").and_then(Value::as_str)
        && !KNOWN_DIALECTS
            .iter()
            .any(|known| dialect.starts_with(known))
    {
        notes.push(format!(
            "jsonSchemaDialect {dialect:?} is read as JSON Schema 2020-12"
        ));
    }
    let mut walker = Walker {
        docs,
        arena: Builder::new(docs, dialect),
        links: Vec::new(),
        notes: Vec::new(),
        repairs: docs
            .unread
            .iter()
            .map(|why| format!("{why}: its references read as accepting any value"))
            .collect(),
        unsendable: Vec::new(),
    };
    let global_security = root.get("security");
    let mut operations = Vec::new();
    let paths_at = root_at.child("paths");
    let paths = match root.get("paths") {
        None => None,
        Some(Value::Object(paths)) => Some(paths),
        Some(_) => return Err(paths_at.structure(docs, "`paths` must be an object")),
    };
    for (key, item) in paths.into_iter().flatten() {
        if key.starts_with("x-") {
            continue;
        }
        let key_at = paths_at.child(key);
        let (path, fixed) = walker.path_key(&key_at, key);
        let (item_at, item_value, item) = match follow(docs, key_at.clone(), item) {
            Ok((at, value @ Value::Object(item))) => (at, value, item),
            Ok((at, _)) => {
                walker.skipped(
                    at.structure(docs, "a path item must be an object"),
                    "left out",
                );
                continue;
            }
            Err(error) => {
                walker.skipped(error, "left out");
                continue;
            }
        };
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let at = item_at.child(method);
            if !operation.is_object() {
                walker.skipped(
                    at.structure(docs, "an operation must be an object"),
                    "left out",
                );
                continue;
            }
            let index = operations.len();
            match walker.operation(
                index,
                &path,
                method,
                &item_at,
                item_value,
                &at,
                operation,
                global_security,
            ) {
                Ok(mut operation) => {
                    if path != *key {
                        operation.key = Some(key.clone());
                    }
                    for (name, value) in &fixed {
                        let declared = operation
                            .params
                            .iter()
                            .any(|p| p.location == Location::Query && p.name == *name);
                        if !declared {
                            let param = walker.fixed_query(&at, name, value);
                            operation.params.push(param);
                        }
                    }
                    operations.push(operation);
                }
                Err(error) => {
                    walker.links.retain(|l| l.operation != index);
                    walker.skipped(error, "this operation is left out");
                }
            }
        }
    }
    walker.resolve_links(&mut operations);
    walker.arena.break_cycles();
    walker.arena.check_against_meta();
    let security_schemes = security_schemes(docs, &root_at, &mut walker.repairs);
    let Walker {
        arena,
        notes: noticed,
        mut repairs,
        unsendable,
        ..
    } = walker;
    notes.extend(noticed);
    repairs.extend(arena.notes);
    notes.extend(repairs.iter().cloned());
    // Validators are compiled when first used: the repairs and the meta-schema check above
    // leave every schema compilable, so no operation is left out for one.
    let schemas = Schemas::new(arena.slots, arena.origins);
    let mut set_aside = Vec::new();
    let mut keep = Vec::new();
    for (index, operation) in operations.iter().enumerate() {
        if !unsendable.contains(&index) {
            keep.push(true);
            continue;
        }
        let why = "its body is only in media types no request can be made in".to_owned();
        keep.push(false);
        let mut operation = operation.clone();
        for (_, response) in &mut operation.responses {
            response.links.clear();
        }
        set_aside.push(SetAside { operation, why });
    }
    let left_out = set_aside
        .iter()
        .map(|s| (s.operation.method.clone(), s.operation.path.clone()))
        .collect();
    let operations = crate::model::keep_operations(operations, &keep);
    Ok(Api {
        title: text("title").unwrap_or_default(),
        version: text("version").unwrap_or_default(),
        openapi,
        servers: servers(root),
        operations,
        security_schemes,
        schemas,
        notes,
        repairs,
        left_out,
        set_aside,
    })
}

/// Server URLs with their variables at their defaults.
fn servers(root: &Value) -> Vec<String> {
    root.get("servers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|server| {
            let mut url = server.get("url")?.as_str()?.to_owned();
            for (name, variable) in server
                .get("variables")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if let Some(default) = variable.get("default").and_then(Value::as_str) {
                    url = url.replace(&format!("{{{name}}}"), default);
                }
            }
            Some(url)
        })
        .collect()
}

fn security_schemes(
    docs: &Documents,
    root_at: &At,
    notes: &mut Vec<String>,
) -> Vec<SecurityScheme> {
    let at = root_at.child("components").child("securitySchemes");
    let mut out = Vec::new();
    let schemes = docs
        .root()
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object);
    for (name, scheme) in schemes.into_iter().flatten() {
        let scheme = match follow(docs, at.child(name), scheme) {
            Ok((_, scheme)) => scheme,
            Err(error) => {
                notes.push(format!("{}: dropped", note_of(&error)));
                continue;
            }
        };
        let text = |key: &str| {
            scheme
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let kind = match text("type").as_str() {
            "http" => SecurityKind::Http(text("scheme").to_ascii_lowercase()),
            "apiKey" => match location(&text("in")) {
                Some(location) => SecurityKind::ApiKey(location, text("name")),
                None => SecurityKind::Other("apiKey".to_owned()),
            },
            "oauth2" => SecurityKind::OAuth2,
            "openIdConnect" => SecurityKind::OpenIdConnect,
            other => SecurityKind::Other(other.to_owned()),
        };
        out.push(SecurityScheme {
            name: name.clone(),
            kind,
        });
    }
    out
}

/// A load error as one note: where, and what.
fn note_of(error: &LoadError) -> String {
    match error {
        LoadError::Structure {
            pointer, message, ..
        } => format!("{pointer}: {message}"),
        LoadError::Reference {
            pointer,
            reference,
            why,
            ..
        } => format!("{pointer}: unresolvable $ref {reference:?}: {why}"),
        other => other.to_string(),
    }
}

fn location(name: &str) -> Option<Location> {
    match name {
        "path" => Some(Location::Path),
        "query" => Some(Location::Query),
        "header" => Some(Location::Header),
        "cookie" => Some(Location::Cookie),
        _ => None,
    }
}

/// The first value of `example` and of each entry of `examples` (references to example
/// objects followed; a `$ref` inside a value is data). An entry whose reference leads
/// nowhere is left out.
fn examples(docs: &Documents, at: &At, holder: &Value) -> Result<Vec<(String, Value)>, LoadError> {
    let mut out = Vec::new();
    if let Some(example) = holder.get("example") {
        out.push(("example".to_owned(), example.clone()));
    }
    if let Some(Value::Object(entries)) = holder.get("examples") {
        for (name, entry) in entries {
            let Ok((_, entry)) = follow(docs, at.child("examples").child(name), entry) else {
                continue;
            };
            if let Some(value) = entry.get("value") {
                out.push((name.clone(), value.clone()));
            }
        }
    }
    Ok(out)
}

impl Walker<'_> {
    fn schema(&mut self, at: &At, schema: Option<&Value>) -> Result<Value, LoadError> {
        let empty = Value::Object(Default::default());
        let id = self.arena.add(at, schema.unwrap_or(&empty))?;
        Ok(Schemas::reference(id))
    }

    #[allow(clippy::too_many_arguments)]
    fn operation(
        &mut self,
        index: usize,
        path: &str,
        method: &str,
        item_at: &At,
        item: &Value,
        at: &At,
        operation: &Value,
        global_security: Option<&Value>,
    ) -> Result<Operation, LoadError> {
        let docs = self.docs;
        // Operation parameters override path-level ones with the same name and location.
        let mut params: Vec<Param> = Vec::new();
        let shared = item
            .get("parameters")
            .map(|p| (item_at.child("parameters"), p));
        let own = operation
            .get("parameters")
            .map(|p| (at.child("parameters"), p));
        for (list_at, list) in shared.into_iter().chain(own) {
            let Value::Array(list) = list else {
                self.skipped(
                    list_at.structure(docs, "`parameters` must be an array"),
                    "dropped",
                );
                continue;
            };
            for (i, param) in list.iter().enumerate() {
                let param = match self.param(list_at.child(&i.to_string()), param) {
                    Ok(param) => param,
                    Err(error) => {
                        self.skipped(error, "this parameter is dropped");
                        continue;
                    }
                };
                params.retain(|p| !(p.name == param.name && p.location == param.location));
                params.push(param);
            }
        }
        // A `{name}` in the path that no parameter declares is still sent, as a string.
        for name in path_names(path) {
            if !params
                .iter()
                .any(|p| p.location == Location::Path && p.name == name)
            {
                let schema =
                    self.schema(&at.child("parameters"), Some(&json!({"type": "string"})))?;
                self.notes.push(format!(
                    "{} {path}: path parameter `{name}` is not declared; it is sent as a string",
                    method.to_uppercase()
                ));
                params.push(Param {
                    name,
                    location: Location::Path,
                    required: true,
                    schema,
                    examples: Vec::new(),
                    explode: false,
                });
            }
        }
        let body = match operation.get("requestBody") {
            Some(body) => match self.body(at.child("requestBody"), body) {
                Ok(body) => body,
                Err(error) => {
                    self.skipped(error, "sent without a body");
                    None
                }
            },
            None => None,
        };
        // A body only in media types the checker cannot make (XML, say): an optional one is
        // left out of every request; a required one leaves the operation out.
        if let (Some(declared), None) = (operation.get("requestBody"), &body)
            && let Ok((_, declared)) = follow(docs, at.child("requestBody"), declared)
            && declared
                .get("content")
                .and_then(Value::as_object)
                .is_some_and(|c| !c.is_empty())
        {
            let media: Vec<&str> = declared
                .get("content")
                .and_then(Value::as_object)
                .map(|c| c.keys().map(String::as_str).collect())
                .unwrap_or_default();
            let label = format!("{} {path}", method.to_uppercase());
            let required = declared.get("required") == Some(&Value::Bool(true));
            self.notes.push(match required {
                true => {
                    self.unsendable.push(index);
                    format!(
                        "{label}: not checked: its body is {} only, which the checker cannot make (it sends JSON, urlencoded and multipart forms)",
                        media.join(", ")
                    )
                }
                false => format!(
                    "{label}: sent without its optional body ({}), which the checker cannot make",
                    media.join(", ")
                ),
            });
        }
        let mut responses = Vec::new();
        let responses_at = at.child("responses");
        for (status, response) in fields(operation.get("responses")) {
            let Some(key) = status_key(status) else {
                self.skipped(
                    responses_at
                        .child(status)
                        .structure(docs, "not a status code"),
                    "dropped",
                );
                continue;
            };
            let spec =
                match self.response(index, responses.len(), responses_at.child(status), response) {
                    Ok(spec) => spec,
                    Err(error) => {
                        self.skipped(error, "this response is dropped");
                        continue;
                    }
                };
            responses.push((key, spec));
        }
        // Exact codes, then ranges, then `default`, each in document order; the links
        // recorded for this operation follow their responses to their new places.
        let rank = |key: &StatusKey| match key {
            StatusKey::Code(_) => 0,
            StatusKey::Range(_) => 1,
            StatusKey::Default => 2,
        };
        let mut order: Vec<usize> = (0..responses.len()).collect();
        order.sort_by_key(|i| rank(&responses[*i].0));
        for link in self.links.iter_mut().filter(|l| l.operation == index) {
            link.response = order
                .iter()
                .position(|i| *i == link.response)
                .unwrap_or(link.response);
        }
        responses.sort_by_key(|(key, _)| rank(key));
        let security_value = operation.get("security").or(global_security);
        let security: Vec<Vec<String>> = security_value
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|requirement| {
                requirement
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .collect();
        let secured = !security.is_empty() && security.iter().all(|r| !r.is_empty());
        let tags = operation
            .get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect();
        Ok(Operation {
            method: Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                .expect("a known method"),
            path: path.to_owned(),
            operation_id: operation
                .get("operationId")
                .and_then(Value::as_str)
                .map(str::to_owned),
            tags,
            params,
            body,
            responses,
            security,
            secured,
            pointer: at.describe(docs),
            key: None,
        })
    }

    /// The path a path key names, with the fixed query parameters it carries. A key that
    /// is not a path is read as its authors meant: `pets` as `/pets`, and AWS's convention
    /// of a `#fragment` (dropped) or a `?query` (fixed query parameters) after the path.
    fn path_key(&mut self, at: &At, key: &str) -> (String, Vec<(String, String)>) {
        let mut path = key.to_owned();
        let mut fixed = Vec::new();
        if let Some(hash) = path.find('#') {
            path.truncate(hash);
        }
        if let Some((before, query)) = path.split_once('?') {
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                fixed.push((name.to_owned(), value.to_owned()));
            }
            path = before.to_owned();
        }
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        if path != key {
            self.repairs.push(format!(
                "{}: the path key {key:?} is read as the path {path:?}{}",
                at.describe(self.docs),
                match fixed.is_empty() {
                    true => String::new(),
                    false => " with its query as fixed parameters".to_owned(),
                }
            ));
        }
        (path, fixed)
    }

    /// A query parameter a path key fixes (`?Action=Describe`): required, one value.
    fn fixed_query(&mut self, at: &At, name: &str, value: &str) -> Param {
        let schema = self
            .schema(
                &at.child("x-fixed-query").child(name),
                Some(&json!({"type": "string", "enum": [value]})),
            )
            .unwrap_or(Value::Bool(true));
        Param {
            name: name.to_owned(),
            location: Location::Query,
            required: true,
            schema,
            examples: vec![json!(value)],
            explode: true,
        }
    }

    fn param(&mut self, at: At, param: &Value) -> Result<Param, LoadError> {
        let (at, param) = follow(self.docs, at, param)?;
        let name = param.get("name").and_then(Value::as_str);
        let place = param.get("in").and_then(Value::as_str).and_then(location);
        let (Some(name), Some(place)) = (name, place) else {
            return Err(at.structure(
                self.docs,
                "a parameter needs a `name` and an `in` of path, query, header or cookie",
            ));
        };
        if place == Location::Header && http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(at.structure(
                self.docs,
                format!("header parameter {name:?} is not a name HTTP can send"),
            ));
        }
        let (schema_at, schema) = match (param.get("schema"), param.get("content")) {
            (Some(schema), _) => (at.child("schema"), Some(schema)),
            (None, Some(Value::Object(content))) => match content.iter().next() {
                Some((media, entry)) => (
                    at.child("content").child(media).child("schema"),
                    entry.get("schema"),
                ),
                None => (at.child("schema"), None),
            },
            _ => (at.child("schema"), None),
        };
        let schema = self.schema(&schema_at, schema)?;
        let style = param.get("style").and_then(Value::as_str);
        let form = match style {
            Some(style) => style == "form",
            None => matches!(place, Location::Query | Location::Cookie),
        };
        let mut examples: Vec<Value> = examples(self.docs, &at, param)?
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        if let Some(content) = param.get("content").and_then(Value::as_object) {
            for (media, entry) in content {
                examples.extend(examples_of(
                    self.docs,
                    &at.child("content").child(media),
                    entry,
                )?);
            }
        }
        Ok(Param {
            name: name.to_owned(),
            location: place,
            required: param.get("required") == Some(&Value::Bool(true)) || place == Location::Path,
            schema,
            examples,
            explode: param
                .get("explode")
                .and_then(Value::as_bool)
                .unwrap_or(form),
        })
    }

    fn body(&mut self, at: At, body: &Value) -> Result<Option<Body>, LoadError> {
        let (at, body) = follow(self.docs, at, body)?;
        let Some(content) = body.get("content").and_then(Value::as_object) else {
            return Err(at.structure(self.docs, "a request body needs `content`"));
        };
        if content.is_empty() {
            // `content: {}` says nothing can be sent: the operation takes no body.
            return Ok(None);
        }
        let pick = |wanted: &dyn Fn(&str) -> bool| content.iter().find(|(media, _)| wanted(media));
        let chosen = pick(&|m| is_json(m))
            .map(|c| (c, Encoding::Json))
            .or_else(|| {
                pick(&|m| essence(m) == "application/x-www-form-urlencoded")
                    .map(|c| (c, Encoding::Form))
            })
            .or_else(|| {
                pick(&|m| essence(m) == "multipart/form-data").map(|c| (c, Encoding::Multipart))
            })
            // A server that takes any media type (springfox's `*/*`) takes JSON, which is
            // what such a body's schema describes; so does a JSON type misspelt
            // (`applicationjson`).
            .or_else(|| pick(&|m| admits_json(m)).map(|c| (c, Encoding::Json)))
            // Text or bytes whose schema is a string's (or absent): sent as they are. XML
            // needs its schema's `xml` rules, and is not made.
            .or_else(|| {
                pick(&|m| {
                    let m = essence(m);
                    !m.contains("xml") && m.contains('/')
                })
                .filter(|(_, entry)| self.is_text(&at, entry))
                .map(|c| (c, Encoding::Text))
            });
        let Some(((media, entry), encoding)) = chosen else {
            return Ok(None);
        };
        let entry_at = at.child("content").child(media);
        let essence = essence(media);
        let sent = match (encoding, essence.split_once('/')) {
            (Encoding::Text, Some(("text", "*"))) => "text/plain".to_owned(),
            (Encoding::Text, Some(("image", "*"))) => "image/png".to_owned(),
            (Encoding::Text, Some((_, "*"))) => "application/octet-stream".to_owned(),
            (Encoding::Text, _) => media.clone(),
            _ if essence.contains('*') || !essence.contains('/') => "application/json".to_owned(),
            _ => media.clone(),
        };
        Ok(Some(Body {
            required: body.get("required") == Some(&Value::Bool(true)),
            media_type: sent,
            encoding,
            schema: self.schema(&entry_at.child("schema"), entry.get("schema"))?,
            examples: examples_of(self.docs, &entry_at, entry)?,
            accepts: content.keys().cloned().collect(),
        }))
    }

    /// Whether a media type entry's schema is a string's (or absent), by the document's own
    /// words: such a body is text or bytes as they are.
    fn is_text(&self, at: &At, entry: &Value) -> bool {
        let Some(schema) = entry.get("schema") else {
            return true;
        };
        match follow(self.docs, at.clone(), schema) {
            Ok((_, schema)) => {
                schema.get("type").is_none_or(|t| t == "string")
                    && schema.get("properties").is_none()
            }
            Err(_) => false,
        }
    }

    fn response(
        &mut self,
        operation: usize,
        index: usize,
        at: At,
        response: &Value,
    ) -> Result<ResponseSpec, LoadError> {
        let (at, response) = follow(self.docs, at, response)?;
        if !response.is_object() {
            return Err(at.structure(self.docs, "a response must be an object"));
        }
        let mut content = Vec::new();
        let mut named = Vec::new();
        for (media, entry) in response
            .get("content")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let entry_at = at.child("content").child(media);
            let schema = match entry.get("schema") {
                Some(schema) => Some(self.schema(&entry_at.child("schema"), Some(schema))?),
                None => None,
            };
            content.push((media.clone(), schema));
            for (name, value) in examples(self.docs, &entry_at, entry)? {
                named.push((media.clone(), name, value));
            }
        }
        let mut headers = Vec::new();
        for (name, header) in response
            .get("headers")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let (header_at, header) =
                match follow(self.docs, at.child("headers").child(name), header) {
                    Ok(found) => found,
                    Err(error) => {
                        self.skipped(error, "this header is dropped");
                        continue;
                    }
                };
            let schema = match header.get("schema") {
                Some(schema) => Some(self.schema(&header_at.child("schema"), Some(schema))?),
                None => None,
            };
            headers.push((
                name.clone(),
                header.get("required") == Some(&Value::Bool(true)),
                schema,
            ));
        }
        for (name, link) in response
            .get("links")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let (link_at, link) = match follow(self.docs, at.child("links").child(name), link) {
                Ok(found) => found,
                Err(error) => {
                    self.skipped(error, "this link is dropped");
                    continue;
                }
            };
            let target = match (link.get("operationId"), link.get("operationRef")) {
                (Some(Value::String(id)), _) => LinkTarget::Id(id.clone()),
                (_, Some(Value::String(reference))) => LinkTarget::Ref(reference.clone()),
                _ => {
                    self.skipped(
                        link_at
                            .structure(self.docs, "a link needs an operationId or an operationRef"),
                        "this link is dropped",
                    );
                    continue;
                }
            };
            let parameters = link
                .get("parameters")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter_map(|(param, expr)| {
                    Some((
                        param.rsplit('.').next()?.to_owned(),
                        expr.as_str()?.to_owned(),
                    ))
                })
                .collect();
            self.links.push(PendingLink {
                operation,
                response: index,
                at: link_at,
                target,
                parameters,
            });
        }
        Ok(ResponseSpec {
            links: Vec::new(),
            content,
            examples: named,
            headers,
        })
    }

    /// Links point at operations by id or by reference; both are known only at the end.
    fn resolve_links(&mut self, operations: &mut [Operation]) {
        let by_id: HashMap<String, usize> = operations
            .iter()
            .enumerate()
            .filter_map(|(i, o)| Some((o.operation_id.clone()?, i)))
            .collect();
        let by_pointer: HashMap<String, usize> = operations
            .iter()
            .enumerate()
            .map(|(i, o)| (o.pointer.clone(), i))
            .collect();
        let links = std::mem::take(&mut self.links);
        for link in links {
            let target = match &link.target {
                LinkTarget::Id(id) => by_id.get(id).copied(),
                LinkTarget::Ref(reference) => target(self.docs, &link.at, reference)
                    .ok()
                    .and_then(|(to, _)| by_pointer.get(&to.describe(self.docs)).copied()),
            };
            let Some(target) = target else {
                let error = link
                    .at
                    .structure(self.docs, "the link names an operation that does not exist");
                self.skipped(error, "this link is dropped");
                continue;
            };
            if let Some((_, spec)) = operations[link.operation].responses.get_mut(link.response) {
                spec.links.push(LinkSpec {
                    target,
                    parameters: link.parameters,
                });
            }
        }
    }

    /// A part of the document that could not be read, noted with what was done instead.
    fn skipped(&mut self, error: LoadError, what: &str) {
        self.repairs.push(format!("{}: {what}", note_of(&error)));
    }
}

/// A response's key: `default`, a range (`4XX`) or a code of 100-599.
fn status_key(status: &str) -> Option<StatusKey> {
    match status {
        "default" => Some(StatusKey::Default),
        s if s.len() == 3 && s[1..].eq_ignore_ascii_case("XX") => match s[..1].parse::<u16>() {
            Ok(class @ 1..=5) => Some(StatusKey::Range(class)),
            _ => None,
        },
        s => match s.trim().parse::<u16>() {
            Ok(code @ 100..=599) => Some(StatusKey::Code(code)),
            _ => None,
        },
    }
}

/// The examples of a media type entry, values only.
fn examples_of(docs: &Documents, at: &At, entry: &Value) -> Result<Vec<Value>, LoadError> {
    Ok(examples(docs, at, entry)?
        .into_iter()
        .map(|(_, v)| v)
        .collect())
}

/// The names of a path template's `{name}` parts.
fn path_names(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        .filter(|name| !name.is_empty())
        .collect()
}
