//! Loading: every version into one model, references across files, and a clear error naming
//! the document and the pointer for everything that cannot be loaded.

use serde_json::json;

use crate::model::{Encoding, Location, SecurityKind, StatusKey};
use crate::schema::Direction;

const MOCK_SPEC: &str = include_str!("../../../specs/mock-api.yaml");

fn error(text: &str) -> String {
    crate::parse(text).unwrap_err().to_string()
}

#[test]
fn refuses_what_it_cannot_read_clearly() {
    let check = |text: &str, expect: &str| {
        let error = error(text);
        assert!(error.contains(expect), "{error}");
    };
    check(
        r#"{"openapi": "4.0.0", "info": {"title": "t", "version": "1"}, "paths": {}}"#,
        "OpenAPI 4.0.0 is not supported",
    );
    check(
        "swagger: '1.2'\ninfo: {title: t, version: '1'}\npaths: {}",
        "OpenAPI 1.2 is not supported",
    );
    check("{}", "not an OpenAPI document");
    check(
        "openapi: 3.0.0\ninfo: 5\npaths: {}",
        "#/info: `info` must be an object",
    );
    check("{ not yaml: [", "neither JSON nor YAML");
    check("{ not yaml: [", "neither JSON nor YAML");
}

/// What is wrong in one part is repaired or dropped there, with a note naming its pointer:
/// the rest of the document, and of the operation, is still checked.
#[test]
fn repairs_or_drops_a_bad_part_and_keeps_the_rest() {
    let noted = |text: &str, expect: &str| {
        let api = crate::parse(text).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            api.notes.iter().any(|n| n.contains(expect)),
            "{expect:?} not in {:?}",
            api.notes
        );
        api
    };
    let doc =
        |paths: &str| format!("openapi: 3.0.0\ninfo: {{title: t, version: '1'}}\npaths: {paths}");
    let api = noted(
        &doc(
            "{/a: {get: {responses: {'200': {$ref: '#/components/responses/Nope'}, '404': {description: x}}}}}",
        ),
        "#/paths/~1a/get/responses/200: unresolvable $ref \"#/components/responses/Nope\": nothing there: this response is dropped",
    );
    assert_eq!(api.operations[0].responses.len(), 1);
    let api = noted(
        &doc(
            "{/a: {get: {parameters: [{name: x}, {name: '', in: header}, {name: ok, in: query}], responses: {}}}}",
        ),
        "#/paths/~1a/get/parameters/0: a parameter needs a `name` and an `in` of path, query, header or cookie: this parameter is dropped",
    );
    let names: Vec<&str> = api.operations[0]
        .params
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, ["ok"]);
    noted(
        &doc("{/a: {get: {parameters: [{name: 'Bad Name', in: header}], responses: {}}}}"),
        "#/paths/~1a/get/parameters/0: header parameter \"Bad Name\" is not a name HTTP can send",
    );
    noted(
        &doc("{/a: {get: {responses: {'9000': {description: x}}}}}"),
        "#/paths/~1a/get/responses/9000: not a status code: dropped",
    );
    noted(
        "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {/a: {get: {responses: {'200': {description: x, content: {application/json: {schema: {$ref: '#/components/schemas/A'}}}}}}}}\ncomponents: {schemas: {A: {$ref: '#/components/schemas/B'}, B: {$ref: '#/components/schemas/A'}}}",
        "a $ref cycle with no schema in it: read as a schema that accepts any value",
    );
    // A reference inside an extension or an example value is data, not a reference.
    let api = crate::parse(
        &doc("{/a: {get: {x-ms-examples: {one: {$ref: 'missing.json'}}, parameters: [{name: q, in: query, schema: {type: string}, example: {$ref: 'missing.json'}}], responses: {'200': {description: x}}}}, /b: {get: {responses: {}}}}"),
    )
    .unwrap();
    assert_eq!(api.operations.len(), 2);
    assert!(api.notes.is_empty(), "{:?}", api.notes);
}

#[test]
fn reads_aws_path_keys_as_their_authors_meant() {
    let api = crate::parse(
        r#"
openapi: 3.0.0
info: {title: t, version: '1'}
paths:
  /#X-Amz-Target=Service.Describe:
    post:
      parameters: [{name: X-Amz-Target, in: header, required: true, schema: {type: string, enum: [Service.Describe]}}]
      responses: {'200': {description: ok}}
  /{Bucket}?acl:
    get:
      parameters: [{name: Bucket, in: path, required: true, schema: {type: string}}]
      responses: {'200': {description: ok}}
  /?Action=Run&Version=2016-11-15:
    get:
      responses: {'200': {description: ok}}
"#,
    )
    .unwrap();
    let paths: Vec<(&str, String)> = api
        .operations
        .iter()
        .map(|o| (o.path.as_str(), o.label()))
        .collect();
    assert_eq!(
        paths,
        [
            ("/", "POST /#X-Amz-Target=Service.Describe".to_owned()),
            ("/", "GET /?Action=Run&Version=2016-11-15".to_owned()),
            ("/{Bucket}", "GET /{Bucket}?acl".to_owned()),
        ]
    );
    let fixed: Vec<(&str, bool)> = api.operations[1]
        .params
        .iter()
        .map(|p| (p.name.as_str(), p.required && p.location == Location::Query))
        .collect();
    assert_eq!(fixed, [("Action", true), ("Version", true)]);
    let version = &api.operations[1].params[1];
    assert!(
        api.schemas
            .is_valid(&version.schema, Direction::Request, &json!("2016-11-15"))
    );
    assert!(
        !api.schemas
            .is_valid(&version.schema, Direction::Request, &json!("2017"))
    );
    assert_eq!(api.notes.len(), 3, "{:?}", api.notes);
}

#[test]
fn flattens_the_bundled_spec() {
    let api = crate::parse(MOCK_SPEC).unwrap();
    let get = api
        .operations
        .iter()
        .find(|o| o.label() == "GET /api/users/{id}")
        .unwrap();
    assert_eq!(get.params.len(), 1, "the path-level parameter is inherited");
    assert_eq!(get.params[0].location, Location::Path);
    let login = api
        .operations
        .iter()
        .find(|o| o.label() == "POST /api/auth/login")
        .unwrap();
    assert!(login.response_for(401).is_some() && login.response_for(500).is_none());
    assert!(login.body.as_ref().unwrap().required);
    let me = api
        .operations
        .iter()
        .find(|o| o.label() == "GET /api/auth/me")
        .unwrap();
    assert!(me.secured && !login.secured);
    let create = api
        .operations
        .iter()
        .find(|o| o.label() == "POST /api/users")
        .unwrap();
    let links: usize = create.responses.iter().map(|(_, r)| r.links.len()).sum();
    assert!(links > 0, "the document's links are read");
}

#[test]
fn translates_the_openapi_30_dialect() {
    let doc = json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/n": {"post": {
    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}},
    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Secret"}}}}}}}},
    "components": {"schemas": {
        "Node": {"type": "object", "required": ["value"], "properties": {
            "value": {"type": "integer", "minimum": 0, "exclusiveMinimum": true},
            "next": {"$ref": "#/components/schemas/Node", "nullable": true}}},
        "Maybe": {"type": "string", "nullable": true, "enum": ["a"]},
        "Secret": {"type": "object", "required": ["id", "password"], "properties": {
            "id": {"type": "string", "readOnly": true},
            "password": {"$ref": "#/components/schemas/Password"}}},
        "Password": {"type": "string", "writeOnly": true},
    }}});
    let api = crate::parse(&doc.to_string()).unwrap();
    let op = &api.operations[0];
    let node = &op.body.as_ref().unwrap().schema;
    let secret = op.responses[0].1.content[0].1.clone().unwrap();
    let s = &api.schemas;
    let (req, resp) = (Direction::Request, Direction::Response);
    assert!(s.is_valid(node, req, &json!({"value": 1, "next": {"value": 2}})));
    assert!(s.is_valid(node, req, &json!({"value": 1, "next": null})));
    assert!(!s.is_valid(node, req, &json!({"value": 0})));
    assert!(!s.is_valid(node, req, &json!({"value": 1, "next": {"value": 0}})));
    assert!(s.is_valid(&secret, resp, &json!({"id": "x"})));
    assert!(s.is_valid(&secret, req, &json!({"password": "x"})));
    assert!(!s.is_valid(&secret, req, &json!({"id": "x"})));
}

#[test]
fn reads_a_fastapi_style_31_document() {
    let doc = include_str!("../../../tests/fixtures/fastapi.json");
    let api = crate::parse(doc).unwrap();
    assert!(api.openapi.starts_with("3.1"));
    let list = api
        .operations
        .iter()
        .find(|o| o.label() == "GET /items/")
        .unwrap();
    let q = list.params.iter().find(|p| p.name == "q").unwrap();
    let s = &api.schemas;
    assert!(s.is_valid(&q.schema, Direction::Request, &json!(null)));
    assert!(s.is_valid(&q.schema, Direction::Request, &json!("x")));
    let create = api
        .operations
        .iter()
        .find(|o| o.label() == "POST /items/")
        .unwrap();
    assert!(create.response_for(422).is_some());
}

#[test]
fn converts_swagger_20() {
    let doc = include_str!("../../../tests/fixtures/swagger2.yaml");
    let api = crate::parse(doc).unwrap();
    assert_eq!(api.openapi, "2.0");
    assert_eq!(api.servers, ["http://localhost/v2"]);
    let by = |label: &str| api.operations.iter().find(|o| o.label() == label).unwrap();
    let add = by("POST /pets");
    let body = add.body.as_ref().unwrap();
    assert_eq!((body.encoding, body.required), (Encoding::Json, true));
    assert!(add.secured);
    let form = by("POST /pets/{petId}");
    let body = form.body.as_ref().unwrap();
    assert_eq!(body.encoding, Encoding::Form);
    let s = &api.schemas;
    assert!(s.is_valid(&body.schema, Direction::Request, &json!({"name": "rex"})));
    assert!(!s.is_valid(&body.schema, Direction::Request, &json!({"status": "x"})));
    let upload = by("POST /pets/{petId}/image");
    assert_eq!(upload.body.as_ref().unwrap().encoding, Encoding::Multipart);
    let find = by("GET /pets");
    let tags = find.params.iter().find(|p| p.name == "tags").unwrap();
    assert!(tags.explode, "collectionFormat multi repeats the name");
    let get = by("GET /pets/{petId}");
    let pet = get.response_for(200).unwrap().content[0].1.clone().unwrap();
    assert!(s.is_valid(
        &pet,
        Direction::Response,
        &json!({"id": 1, "name": "rex", "tag": null})
    ));
    assert!(get.response_for(404).is_some());
    let key = api
        .security_schemes
        .iter()
        .find(|k| k.name == "api_key")
        .unwrap();
    assert_eq!(
        key.kind,
        SecurityKind::ApiKey(Location::Header, "api_key".to_owned())
    );
}

#[test]
fn keeps_a_swagger_20_trace() {
    // httpbin's document (flasgger) has `trace` beside the seven methods 2.0 names.
    let api = crate::parse(
        r#"{"swagger": "2.0", "info": {"title": "t", "version": "1"},
            "paths": {"/status/{codes}": {
              "parameters": [{"name": "codes", "in": "path", "required": true, "type": "string"}],
              "get": {"responses": {"200": {"description": "ok"}}},
              "trace": {"responses": {"200": {"description": "ok"}}}}}}"#,
    )
    .unwrap();
    let labels: Vec<String> = api.operations.iter().map(|o| o.label()).collect();
    assert!(
        labels.contains(&"TRACE /status/{codes}".to_owned()),
        "{labels:?}"
    );
}

#[test]
fn reads_yaml_keys_names_in_any_script_and_notes_webhooks() {
    let doc = r#"
openapi: 3.1.0
info: {title: t, version: 1}
paths:
  /a:
    get:
      responses:
        200:
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/RestSettPåVent'}
        4XX: {description: bad}
webhooks:
  newThing: {post: {responses: {200: {description: ok}}}}
components:
  schemas:
    RestSettPåVent: {type: object, properties: {dager: {type: integer, format: made-up}}}
"#;
    let api = crate::parse(doc).unwrap();
    let op = &api.operations[0];
    assert_eq!(op.responses[0].0, StatusKey::Code(200));
    assert_eq!(op.responses[1].0, StatusKey::Range(4));
    assert_eq!(api.version, "1");
    assert!(
        api.notes.iter().any(|n| n.contains("webhook")),
        "{:?}",
        api.notes
    );
    let schema = op.responses[0].1.content[0].1.clone().unwrap();
    assert_eq!(
        api.schemas.origin(&schema),
        Some("#/paths/~1a/get/responses/200/content/application~1json/schema")
    );
    assert!(
        api.schemas
            .is_valid(&schema, Direction::Response, &json!({"dager": 3}))
    );
}

#[tokio::test]
async fn follows_references_to_other_files() {
    let dir = std::env::temp_dir().join(format!("openapi-refs-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("schemas")).unwrap();
    std::fs::write(
        dir.join("api.yaml"),
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /pets:\n    get:\n      x-ms-examples: {one: {$ref: 'examples/missing.json'}}\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: 'schemas/pet.yaml#/Pet'}\n              example: {$ref: 'examples/also-missing.json'}\n              examples: {one: {value: {$ref: 'examples/missing-too.json'}}}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("schemas/pet.yaml"),
        "Pet: {type: object, required: [name], properties: {name: {type: string}, owner: {$ref: '#/Owner'}}}\nOwner: {type: object, properties: {pets: {type: array, items: {$ref: '#/Pet'}}}}\n",
    )
    .unwrap();
    let client = reqwest::Client::new();
    let api = crate::load(&client, dir.join("api.yaml").to_str().unwrap())
        .await
        .unwrap();
    // The `$ref`s of an extension and of example values are data: not followed, no note.
    assert!(api.notes.is_empty(), "{:?}", api.notes);
    let schema = api.operations[0].responses[0].1.content[0]
        .1
        .clone()
        .unwrap();
    let s = &api.schemas;
    assert!(s.is_valid(
        &schema,
        Direction::Response,
        &json!({"name": "rex", "owner": {"pets": [{"name": "a"}]}})
    ));
    assert!(!s.is_valid(
        &schema,
        Direction::Response,
        &json!({"name": "rex", "owner": {"pets": [{}]}})
    ));
    std::fs::write(
        dir.join("broken.yaml"),
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a: {$ref: 'nowhere.yaml#/A'}\n",
    )
    .unwrap();
    // A document that cannot be read costs what refers to it, not the whole set.
    let api = crate::load(&client, dir.join("broken.yaml").to_str().unwrap())
        .await
        .unwrap();
    assert!(api.operations.is_empty());
    let notes = api.notes.join("\n");
    assert!(
        notes.contains("nowhere.yaml") && notes.contains("broken.yaml"),
        "{notes}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn fills_undeclared_path_parameters_and_says_so() {
    let api = crate::parse(
        "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {'/files/{name}/v/{etag}': {get: {parameters: [{name: name, in: path, required: true, schema: {type: string}}], responses: {'200': {description: ok}}}}}",
    )
    .unwrap();
    let params: Vec<(&str, Location, bool)> = api.operations[0]
        .params
        .iter()
        .map(|p| (p.name.as_str(), p.location, p.required))
        .collect();
    assert_eq!(
        params,
        [
            ("name", Location::Path, true),
            ("etag", Location::Path, true)
        ]
    );
    assert_eq!(
        api.notes,
        [
            "GET /files/{name}/v/{etag}: path parameter `etag` is not declared; it is sent as a string"
        ]
    );
}

#[test]
fn drops_a_pattern_that_cannot_compile_and_checks_the_operation() {
    let api = crate::parse(
        r#"
openapi: 3.0.0
info: {title: t, version: '1'}
paths:
  /broken:
    get:
      parameters: [{name: q, in: query, schema: {type: string, pattern: "(unclosed", maxLength: 3}}]
      responses: {'200': {description: ok}}
  /fine:
    get:
      responses:
        '200': {description: ok, links: {self: {operationId: fine}}}
      operationId: fine
"#,
    )
    .unwrap();
    let labels: Vec<String> = api.operations.iter().map(|o| o.label()).collect();
    assert_eq!(labels, ["GET /broken", "GET /fine"]);
    assert_eq!(api.notes.len(), 1, "{:?}", api.notes);
    assert!(
        api.notes[0].starts_with(
            "#/paths/~1broken/get/parameters/0/schema/pattern: the pattern does not compile"
        ),
        "{}",
        api.notes[0]
    );
    // The rest of the schema still holds.
    let q = &api.operations[0].params[0].schema;
    assert!(api.schemas.is_valid(q, Direction::Request, &json!("(((")));
    assert!(!api.schemas.is_valid(q, Direction::Request, &json!("long")));
    let link = &api.operations[1].responses[0].1.links[0];
    assert_eq!(link.target, 1);
}

#[test]
fn reads_mistaken_keywords_as_meant_in_validation_and_generation() {
    let api = crate::parse(
        r#"
openapi: 3.1.0
info: {title: t, version: '1'}
paths:
  /things:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                name: {type: string, required: true}
                at: {type: date-time}
                note: {type: string, nullable: true}
                size: {type: integer, minimum: 0, exclusiveMinimum: true}
      responses: {'201': {description: ok}}
"#,
    )
    .unwrap();
    assert_eq!(api.operations.len(), 1);
    let body = &api.operations[0].body.as_ref().unwrap().schema;
    let valid = |v: serde_json::Value| api.schemas.is_valid(body, Direction::Request, &v);
    assert!(valid(
        json!({"name": "a", "at": "2024-01-01T00:00:00Z", "note": null, "size": 1})
    ));
    assert!(
        !valid(json!({"at": "2024-01-01T00:00:00Z"})),
        "name is required"
    );
    assert!(
        !valid(json!({"name": "a", "at": "yesterday"})),
        "at is a date-time"
    );
    assert!(
        !valid(json!({"name": "a", "size": 0})),
        "the bound is exclusive"
    );
    assert_eq!(api.notes.len(), 4, "{:#?}", api.notes);
}

#[test]
fn says_when_a_body_is_in_a_media_type_it_cannot_make() {
    let api = crate::parse(
        r#"
openapi: 3.0.0
info: {title: t, version: '1'}
paths:
  /xml:
    post:
      requestBody: {required: true, content: {application/xml: {schema: {type: object}}}}
      responses: {'200': {description: ok}}
    put:
      requestBody: {content: {application/xml: {schema: {type: object}}}}
      responses: {'200': {description: ok}}
"#,
    )
    .unwrap();
    let labels: Vec<String> = api.operations.iter().map(|o| o.label()).collect();
    assert_eq!(labels, ["PUT /xml"]);
    assert!(api.operations[0].body.is_none());
    assert_eq!(api.notes.len(), 2, "{:?}", api.notes);
    let noted = |start: &str| api.notes.iter().any(|n| n.starts_with(start));
    assert!(noted(
        "POST /xml: not checked: its body is application/xml only"
    ));
    assert!(noted("PUT /xml: sent without its optional body"));
}

/// springfox and Kubernetes document request bodies as `*/*`: the server takes any media
/// type, so the checker sends the JSON the schema describes.
#[test]
fn a_body_of_any_media_type_is_sent_as_json() {
    let api = crate::parse(
        r#"
openapi: 3.0.0
info: {title: t, version: '1'}
paths:
  /pods:
    post:
      requestBody:
        required: true
        content:
          '*/*':
            schema: {type: object, properties: {name: {type: string}}}
      responses: {'201': {description: ok}}
"#,
    )
    .unwrap();
    let body = api.operations[0].body.as_ref().expect("a body");
    assert_eq!(body.encoding, Encoding::Json);
    assert_eq!(body.media_type, "application/json");
    assert_eq!(body.accepts, ["*/*"]);
    assert!(api.notes.is_empty(), "{:?}", api.notes);
}

/// A body of text or bytes (plain text, an upload, a token) is sent as it is, in its media
/// type; the server reads text, so a number sent there is no type error.
#[test]
fn a_text_or_bytes_body_is_sent_as_it_is() {
    let api = crate::parse(
        r#"
openapi: 3.0.0
info: {title: t, version: '1'}
paths:
  /notes:
    post:
      requestBody:
        required: true
        content:
          text/plain: {schema: {type: string, maxLength: 5}}
      responses: {'201': {description: ok}}
  /files:
    put:
      requestBody:
        required: true
        content:
          application/octet-stream: {schema: {type: string, format: binary}}
      responses: {'204': {description: ok}}
  /orders:
    post:
      requestBody:
        required: true
        content:
          application/xml: {schema: {type: object}}
      responses: {'201': {description: ok}}
"#,
    )
    .unwrap();
    let labels: Vec<String> = api.operations.iter().map(|o| o.label()).collect();
    assert_eq!(labels, ["PUT /files", "POST /notes"]);
    let notes = api.operations[1].body.as_ref().unwrap();
    assert_eq!(
        (notes.encoding, notes.media_type.as_str()),
        (Encoding::Text, "text/plain")
    );
    let (content_type, bytes) = crate::generate::encode_body(notes, &json!(12345));
    assert_eq!(
        (content_type.as_str(), bytes.as_slice()),
        ("text/plain", b"12345".as_slice())
    );
    let judge = crate::generate::wire::BodyJudge::new(&api.schemas, notes).unwrap();
    assert!(judge.accepts(&json!(12345)), "read as the text 12345");
    assert!(!judge.accepts(&json!("too long")));
}

/// Spring's shapes: springfox's `*/*` answers JSON, its responses without a schema keep the
/// `produces` types, PetClinic's `readOnly` id is not required of a request through `allOf`,
/// and integers past `int32`/`int64` are refused in requests.
#[test]
fn spring_documents_read_as_their_servers_behave() {
    let api = crate::parse(
        r##"{"swagger": "2.0", "info": {"title": "t", "version": "1"},
          "paths": {"/vets": {"post": {"produces": ["*/*"],
            "parameters": [{"in": "body", "name": "vet", "required": true,
              "schema": {"$ref": "#/definitions/Vet"}}],
            "responses": {"200": {"description": "OK", "schema": {"$ref": "#/definitions/Vet"}},
              "404": {"description": "Not Found"}, "204": {"description": "none"}}}}},
          "definitions": {
            "VetFields": {"type": "object", "properties": {"name": {"type": "string"},
              "beds": {"type": "integer", "format": "int32"},
              "visits": {"type": "integer", "format": "int64"}}},
            "Vet": {"allOf": [{"$ref": "#/definitions/VetFields"},
              {"type": "object", "properties": {"id": {"type": "integer", "readOnly": true}}}],
              "required": ["id", "name"]}}}"##,
    )
    .unwrap();
    let operation = &api.operations[0];
    let ok = operation.response_for(200).unwrap();
    assert_eq!(ok.json().map(|(media, _)| media), Some("application/json"));
    let missing = operation.response_for(404).unwrap();
    assert_eq!(missing.content.len(), 1);
    assert_eq!(missing.json(), Some(("application/json", None)));
    // Even a 204 names its type, as 2.0 tools read `produces`; it has no schema.
    let none = operation.response_for(204).unwrap();
    assert_eq!(none.json(), Some(("application/json", None)));
    let body = &operation.body.as_ref().unwrap().schema;
    let valid = |value| api.schemas.is_valid(body, Direction::Request, &value);
    assert!(valid(json!({"name": "Carter"})));
    assert!(!valid(json!({"id": 1})));
    assert!(!api.schemas.is_valid(
        &ok.json().unwrap().1.unwrap().clone(),
        Direction::Response,
        &json!({"name": "Carter"})
    ));
    assert!(valid(json!({"name": "a", "beds": 2147483647})));
    assert!(!valid(json!({"name": "a", "beds": 2147483648_i64})));
    let past_64_bits: serde_json::Value =
        serde_json::from_str(r#"{"name": "a", "visits": -9223372036854775809}"#).unwrap();
    assert!(!valid(past_64_bits));
}
