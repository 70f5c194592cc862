//! A Petstore that takes and answers XML as its Java server (JAXB) does: `POST /pet` in JSON
//! or XML (`xml` names, an `id` attribute, wrapped `photoUrls`), `GET /pet/{petId}` in XML.
//! Correct unless told to carry a defect: XML bodies refused (as Prism refuses the
//! Petstore's), an answer whose root element is not the schema's, or XML that is not
//! well-formed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use openapi::generate::xml;
use serde_json::{Value, json};

pub const SPEC: &str = r##"
openapi: 3.0.3
info: {title: xml pets, version: "1"}
paths:
  /pet:
    post:
      requestBody:
        required: true
        content:
          application/json: {schema: {$ref: "#/components/schemas/Pet"}}
          application/xml: {schema: {$ref: "#/components/schemas/Pet"}}
      responses:
        "200":
          description: stored
          content:
            application/json: {schema: {$ref: "#/components/schemas/Pet"}}
            application/xml: {schema: {$ref: "#/components/schemas/Pet"}}
        "400": {description: invalid}
        "415": {description: not a media type it takes}
  /pet/{petId}:
    get:
      parameters: [{name: petId, in: path, required: true, schema: {type: integer, format: int64, minimum: 1}}]
      responses:
        "200": {description: the pet, content: {application/xml: {schema: {$ref: "#/components/schemas/Pet"}}}}
        "400": {description: not an id}
        "404": {description: no such pet}
components:
  schemas:
    Pet:
      type: object
      xml: {name: pet}
      required: [name]
      properties:
        id: {type: integer, format: int64, xml: {attribute: true}}
        name: {type: string, minLength: 1, maxLength: 40}
        photoUrls: {type: array, maxItems: 5, xml: {wrapped: true}, items: {type: string, xml: {name: photoUrl}}}
"##;

/// Defects to plant; all off is a correct server.
#[derive(Debug, Clone, Copy, Default)]
pub struct Defects {
    /// `POST /pet` answers 415 to an XML body.
    pub refuses_xml: bool,
    /// `GET /pet/{petId}` answers `<Pet>`, not `<pet>`.
    pub wrong_root: bool,
    /// `GET /pet/{petId}` answers XML whose root is never closed.
    pub malformed: bool,
}

impl Defects {
    /// XML refused, and answered under another root.
    pub fn all() -> Defects {
        Defects {
            refuses_xml: true,
            wrong_root: true,
            malformed: false,
        }
    }
}

struct App {
    defects: Defects,
    api: openapi::Api,
    pets: Mutex<BTreeMap<i64, Value>>,
}

pub fn app(defects: Defects) -> Router {
    let state = Arc::new(App {
        defects,
        api: openapi::parse(SPEC).expect("the document parses"),
        pets: Mutex::default(),
    });
    Router::new()
        .route("/pet", post(create))
        .route("/pet/{id}", get(read))
        .with_state(state)
}

impl App {
    fn schema(&self) -> &Value {
        let create = &self.api.operations[0];
        &create.body.as_ref().expect("a body").schema
    }
}

fn valid(pet: &Value) -> bool {
    let name = pet["name"].as_str().map(|n| n.chars().count());
    let urls = pet.get("photoUrls").map_or(Some(0), |u| {
        u.as_array()
            .filter(|u| u.iter().all(Value::is_string))
            .map(Vec::len)
    });
    pet.is_object()
        && name.is_some_and(|n| (1..=40).contains(&n))
        && urls.is_some_and(|n| n <= 5)
        && pet.get("id").is_none_or(|id| id.is_i64())
}

async fn create(State(state): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let is_xml = media.starts_with("application/xml");
    let mut pet = if media.starts_with("application/json") {
        match serde_json::from_slice::<Value>(&body) {
            Ok(pet) => pet,
            Err(_) => return StatusCode::BAD_REQUEST.into_response(),
        }
    } else if is_xml && !state.defects.refuses_xml {
        match xml::parse(&body) {
            Ok(root) => xml::read(&state.api.schemas, state.schema(), &root),
            Err(_) => return StatusCode::BAD_REQUEST.into_response(),
        }
    } else {
        return StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response();
    };
    if !valid(&pet) {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let mut pets = state.pets.lock().unwrap();
    let id = pets.len() as i64 + 1;
    pet["id"] = json!(id);
    pets.insert(id, pet.clone());
    match is_xml {
        true => xml_answer(&state, &pet),
        false => axum::Json(pet).into_response(),
    }
}

/// Control characters XML 1.0 cannot carry, even escaped, left out.
fn printable(value: &Value) -> Value {
    match value {
        Value::String(text) => Value::String(
            text.chars()
                .filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(printable).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), printable(v))).collect())
        }
        other => other.clone(),
    }
}

fn xml_answer(state: &App, pet: &Value) -> Response {
    let bytes = xml::write(&state.api.schemas, state.schema(), &printable(pet)).unwrap_or_default();
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if state.defects.wrong_root {
        text = text.replacen("<pet", "<Pet", 1).replace("</pet>", "</Pet>");
    }
    if state.defects.malformed {
        text = text.replace("</pet>", "");
    }
    ([(header::CONTENT_TYPE, "application/xml")], text).into_response()
}

async fn read(State(state): State<Arc<App>>, Path(raw): Path<String>) -> Response {
    let Some(id) = raw.parse::<i64>().ok().filter(|id| *id >= 1) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let pet = state.pets.lock().unwrap().get(&id).cloned();
    match pet {
        Some(pet) => xml_answer(&state, &pet),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
