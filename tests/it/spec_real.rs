//! `mock-api --spec` on real documents nobody here wrote, each as its project publishes it:
//! Spring PetClinic, RealWorld, springfox, the Kafka REST proxy. Every answer is checked
//! against the document (by `SpecMock::call`).

use mock_api::engines::spec::Options;
use reqwest::Method;
use serde_json::{Value, json};

use crate::spec_mock::SpecMock;

/// A springfox document: every operation `produces: */*`, errors without a schema.
const SPRINGFOX: &str = r##"{"swagger": "2.0", "info": {"title": "Hospitals", "version": "1.0"},
  "host": "localhost:8080", "basePath": "/",
  "paths": {
    "/v1/hospitais/": {
      "post": {"consumes": ["application/json"], "produces": ["*/*"],
        "parameters": [{"in": "body", "name": "objDTO", "required": true,
          "schema": {"$ref": "#/definitions/HospitalDTO"}}],
        "responses": {"200": {"description": "OK", "schema": {"$ref": "#/definitions/HospitalDTO"}},
          "201": {"description": "Created"}, "401": {"description": "Unauthorized"},
          "403": {"description": "Forbidden"}, "404": {"description": "Not Found"}}}},
    "/v1/hospitais/{hospital_id}": {
      "get": {"produces": ["*/*"],
        "parameters": [{"name": "hospital_id", "in": "path", "required": true, "type": "string"}],
        "responses": {"200": {"description": "OK", "schema": {"$ref": "#/definitions/HospitalDTO"}},
          "401": {"description": "Unauthorized"}, "403": {"description": "Forbidden"},
          "404": {"description": "Not Found"}}}}},
  "definitions": {"HospitalDTO": {"type": "object", "required": ["name"], "properties": {
    "id": {"type": "string"}, "name": {"type": "string"},
    "beds": {"type": "integer", "format": "int32"},
    "visits": {"type": "integer", "format": "int64"}}}}}"##;

/// Sends a raw request and gives the status, the content type and the body text.
async fn raw(mock: &SpecMock, method: Method, path: &str, body: &str) -> (u16, String, String) {
    let response = reqwest::Client::new()
        .request(method, format!("{}{path}", mock.server.url()))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let media = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, media, response.text().await.unwrap())
}

/// springfox's `*/*` is JSON where a JSON schema is given: what is created is answered as
/// `application/json` and read back by its id; a missing item is the documented 404, with a
/// JSON body although the document gives it no schema.
#[tokio::test]
async fn springfox_star_media_keeps_state_and_answers_json() {
    let mock = SpecMock::of_text(SPRINGFOX);
    let created = mock
        .call(
            "POST /v1/hospitais/",
            Method::POST,
            "/v1/hospitais/",
            Some(json!({"id": "h1", "name": "Central"})),
        )
        .await;
    assert_eq!(created.status, 200);
    assert_eq!(created.body["id"], "h1");
    let read = mock
        .call(
            "GET /v1/hospitais/{hospital_id}",
            Method::GET,
            "/v1/hospitais/h1",
            None,
        )
        .await;
    assert_eq!(
        (read.status, read.body["name"].clone()),
        (200, json!("Central"))
    );
    let (status, media, body) = raw(&mock, Method::GET, "/v1/hospitais/nope", "").await;
    assert_eq!((status, media.as_str()), (404, "application/json"));
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["code"],
        "not_found"
    );
}

/// A refusal takes a status the operation documents, by meaning: bad input where only 401,
/// 403 and 404 are documented is the 404, never a credentials status.
#[tokio::test]
async fn a_refusal_answers_a_documented_status() {
    let mock = SpecMock::of_text(SPRINGFOX);
    let refused = mock
        .call(
            "POST /v1/hospitais/",
            Method::POST,
            "/v1/hospitais/",
            Some(json!(["not", "an", "object"])),
        )
        .await;
    assert_eq!(refused.status, 404);
}

/// int32 and int64 bound integers in requests, and an integer past 64 bits (which JSON
/// readers see as a float) is refused, never stored and echoed as `-9.2e18`.
#[tokio::test]
async fn integers_past_their_format_are_refused() {
    let mock = SpecMock::of_text(SPRINGFOX);
    for body in [
        r#"{"name": "a", "beds": 2147483648}"#,
        r#"{"name": "a", "visits": -9223372036854775809}"#,
        r#"{"name": "a", "visits": 9223372036854775808}"#,
    ] {
        let (status, _, text) = raw(&mock, Method::POST, "/v1/hospitais/", body).await;
        assert_eq!(status, 404, "{body}: {text}");
        assert!(text.contains("out of the range of int"), "{text}");
    }
    let (status, _, text) = raw(
        &mock,
        Method::POST,
        "/v1/hospitais/",
        r#"{"name": "a", "beds": 2147483647, "visits": -9223372036854775808}"#,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("-9223372036854775808"), "{text}");
}

/// PetClinic: `Vet` requires its `readOnly` `id` beside an `allOf` (valid without it in a
/// request), and an owner comes back with the `id` and `pets` the server adds.
#[tokio::test]
async fn petclinic_read_only_fields_through_all_of() {
    let mock = SpecMock::start("petclinic-rest.yml", Options::default());
    let vet = json!({"firstName": "James", "lastName": "Carter", "specialties": []});
    let created = mock
        .call("POST /vets", Method::POST, "/vets", Some(vet))
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert!(created.body["id"].is_i64(), "{}", created.body);
    let owner = json!({"firstName": "George", "lastName": "Franklin",
        "address": "110 W. Liberty St.", "city": "Madison", "telephone": "6085551023"});
    let created = mock
        .call("POST /owners", Method::POST, "/owners", Some(owner))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.body["id"].is_i64(), "{}", created.body);
    assert!(created.body["pets"].is_array(), "{}", created.body);
    assert_eq!(created.body["city"], "Madison");
    let id = created.body["id"].as_i64().unwrap();
    let read = mock
        .call(
            "GET /owners/{ownerId}",
            Method::GET,
            &format!("/owners/{id}"),
            None,
        )
        .await;
    assert_eq!(read.body["firstName"], "George");
}

/// RealWorld wraps every item (`{"article": {...}}`) and finds it by its `slug`.
#[tokio::test]
async fn realworld_items_inside_a_wrapper() {
    let mut mock = SpecMock::start("realworld-conduit.yml", Options::default());
    mock.token = Some("any-token");
    let article = json!({"article": {"title": "How to train your dragon",
        "description": "Ever wonder how?", "body": "You have to believe",
        "tagList": ["dragons"]}});
    let created = mock
        .call("POST /articles", Method::POST, "/articles", Some(article))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let slug = created.body["article"]["slug"].as_str().unwrap().to_owned();
    assert!(!slug.is_empty());
    assert_eq!(created.body["article"]["title"], "How to train your dragon");
    let read = mock
        .call(
            "GET /articles/{slug}",
            Method::GET,
            &format!("/articles/{slug}"),
            None,
        )
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["article"]["body"], "You have to believe");
    let changed = mock
        .call(
            "PUT /articles/{slug}",
            Method::PUT,
            &format!("/articles/{slug}"),
            Some(json!({"article": {"body": "With love"}})),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["article"]["body"], "With love");
    assert_eq!(changed.body["article"]["title"], "How to train your dragon");
}

/// Kafka's clusters and configs are made by no operation: every id reads as an item (the
/// same for the same id), with the path's id in it; deleting a config resets it, since its
/// read documents no 404.
#[tokio::test]
async fn kafka_read_only_resources_exist_for_every_id() {
    let mut mock = SpecMock::start("kafka-rest-v3.yaml", Options::default());
    mock.token = Some("any-token");
    let first = mock
        .call(
            "GET /clusters/{cluster_id}",
            Method::GET,
            "/clusters/c-1",
            None,
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["cluster_id"], "c-1");
    let again = mock
        .call(
            "GET /clusters/{cluster_id}",
            Method::GET,
            "/clusters/c-1",
            None,
        )
        .await;
    assert_eq!(first.body, again.body);
    let topics = mock
        .call(
            "GET /clusters/{cluster_id}/topics",
            Method::GET,
            "/clusters/c-1/topics",
            None,
        )
        .await;
    assert_eq!(topics.status, 200, "{}", topics.body);
    let config = "/clusters/c-1/broker-configs/compression.type";
    let label = "/clusters/{cluster_id}/broker-configs/{name}";
    let deleted = mock
        .call(&format!("DELETE {label}"), Method::DELETE, config, None)
        .await;
    assert_eq!(deleted.status, 204);
    let read = mock
        .call(&format!("GET {label}"), Method::GET, config, None)
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["name"], "compression.type");
}

/// A read-only item whose read documents 404 is gone once deleted.
#[tokio::test]
async fn a_deleted_read_only_item_is_gone() {
    let mock = SpecMock::of_text(
        r##"openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /things/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: integer, minimum: 1}}]
    get:
      responses:
        "200": {description: one, content: {application/json: {schema: {type: object, required: [id, name], properties: {id: {type: integer}, name: {type: string}}}}}}
        "404": {description: none}
    delete:
      responses:
        "204": {description: gone}
        "404": {description: none}
"##,
    );
    let read = mock
        .call("GET /things/{id}", Method::GET, "/things/7", None)
        .await;
    assert_eq!((read.status, read.body["id"].clone()), (200, json!(7)));
    let deleted = mock
        .call("DELETE /things/{id}", Method::DELETE, "/things/7", None)
        .await;
    assert_eq!(deleted.status, 204);
    let read = mock
        .call("GET /things/{id}", Method::GET, "/things/7", None)
        .await;
    assert_eq!(read.status, 404);
    let again = mock
        .call("DELETE /things/{id}", Method::DELETE, "/things/7", None)
        .await;
    assert_eq!(again.status, 404);
    // Below the bound no item can have: the documented 404, not an undocumented 400.
    let below = mock
        .call("GET /things/{id}", Method::GET, "/things/0", None)
        .await;
    assert_eq!(below.status, 404);
}

/// The Swagger Petstore takes XML beside JSON: an XML body is read by the schema's `xml`
/// names, refused when it breaks the schema, and stored like JSON.
#[tokio::test]
async fn xml_bodies_are_read_by_the_schema() {
    let mut mock = SpecMock::start("petstore3.yaml", Options::default());
    mock.token = Some("token");
    let url = format!("{}/pet", mock.server.url());
    let xml = |body: &'static str| {
        let url = url.clone();
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .header("content-type", "application/xml")
                .header("api_key", "key")
                .bearer_auth("token")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };
    let (status, text) = xml(
        "<pet><id>77</id><name>doggie</name><photoUrls><photoUrl>a.png</photoUrl></photoUrls>\
         <tags><tag><id>1</id><name>good</name></tag></tags><status>available</status></pet>",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let read = mock
        .call("GET /pet/{petId}", Method::GET, "/pet/77", None)
        .await;
    assert_eq!(read.body["photoUrls"], json!(["a.png"]));
    assert_eq!(read.body["tags"][0]["name"], "good");
    let (status, _) = xml("<pet><name>doggie</name><photoUrls/><id>x</id></pet>").await;
    assert_eq!(status, 400);
    let (status, _) = xml("<pet><name>").await;
    assert_eq!(status, 400);
}

/// A document that is valid but strange: a schema no value satisfies, a wrapper of two
/// properties, an id only in a `Location` header. Every operation is served, nothing
/// panics, and each thing the mock cannot model is one warning line at start.
#[test]
fn a_strange_document_is_served_with_a_warning_for_each_oddity() {
    let dir = std::env::temp_dir().join(format!("strange-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("strange.yaml");
    std::fs::write(
        &spec,
        r##"openapi: 3.0.3
info: {title: strange, version: "1"}
paths:
  /impossible:
    get:
      responses:
        "200": {description: never, content: {application/json: {schema: {type: string, minLength: 5, maxLength: 2}}}}
    post:
      requestBody: {required: true, content: {application/json: {schema: {type: object, required: [a], properties: {a: {type: integer, minimum: 10, maximum: 1}}}}}}
      responses: {"201": {description: made}, "400": {description: bad}}
  /pairs:
    post:
      requestBody: {content: {application/json: {schema: {$ref: "#/components/schemas/Pair"}}}}
      responses:
        "201": {description: made, content: {application/json: {schema: {$ref: "#/components/schemas/Pair"}}}}
        "400": {description: bad}
  /pairs/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
    get:
      responses:
        "200": {description: one, content: {application/json: {schema: {$ref: "#/components/schemas/Pair"}}}}
        "404": {description: none}
  /things:
    post:
      responses:
        "201": {description: made, headers: {Location: {required: true, schema: {type: string}}}}
  /things/{thingId}:
    parameters: [{name: thingId, in: path, required: true, schema: {type: string}}]
    get:
      responses:
        "200": {description: one, content: {application/json: {schema: {type: object, properties: {name: {type: string}}}}}}
        "404": {description: none}
components:
  schemas:
    Pair: {type: object, properties: {left: {type: object, properties: {id: {type: integer}}}, right: {type: object, properties: {id: {type: integer}}}}}
"##,
    )
    .unwrap();
    let (mut child, url) = tests::spawn_mock(
        &["--spec", spec.to_str().unwrap()],
        std::process::Stdio::piped(),
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let made = client.post(format!("{url}/things")).send().await.unwrap();
        assert_eq!(made.status(), 201);
        let location = made.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with("/things/"), "{location}");
        let read = client.get(format!("{url}{location}")).send().await.unwrap();
        assert_eq!(read.status(), 200);
        let pair = client
            .post(format!("{url}/pairs"))
            .json(&json!({"left": {"id": 1}, "right": {"id": 2}}))
            .send()
            .await
            .unwrap();
        assert_eq!(pair.status(), 201);
        let refused = client
            .post(format!("{url}/impossible"))
            .json(&json!({"a": 5}))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 400);
        let impossible = client
            .get(format!("{url}/impossible"))
            .send()
            .await
            .unwrap();
        assert_eq!(impossible.status(), 200);
    });
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "GET /impossible: no value fits its 200 response",
        "minLength 5 is past maxLength 2",
        "POST /impossible: no request fits it",
        "/pairs: its items have no id field (none named id)",
        "/things: its items have no id field (none named thingId or id)",
    ] {
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.contains("/pairs: its items"))
            .count(),
        1
    );
    let _ = std::fs::remove_dir_all(&dir);
}
