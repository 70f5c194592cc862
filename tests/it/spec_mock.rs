//! `mock-api --spec`: real-world documents served as stateful, validating mocks, with the
//! toolkit in front. Every body is checked against the document it came from.

use std::sync::Arc;

use mock_api::app::SpecConfig;
use mock_api::engines::spec::Options;
use openapi::model::is_json;
use openapi::{Api, Direction};
use reqwest::Method;
use serde_json::{Value, json};

/// A mock of a document in `tests/fixtures/real`, and the document as the checker reads it.
pub(crate) struct SpecMock {
    pub server: mock_api::MockServer,
    api: Arc<Api>,
    client: reqwest::Client,
    pub token: Option<&'static str>,
}

/// A reply and what the document says of it.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Value,
}

fn fixture(name: &str) -> (Api, String) {
    let path = tests::root().join("tests/fixtures/real").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    (openapi::parse(&text).unwrap(), text)
}

impl SpecMock {
    pub fn start(name: &str, options: Options) -> SpecMock {
        let (api, text) = fixture(name);
        SpecMock::serve(api, &text, options)
    }

    /// A mock of a document given as text.
    pub fn of_text(text: &str) -> SpecMock {
        SpecMock::serve(openapi::parse(text).unwrap(), text, Options::default())
    }

    fn serve(api: Api, text: &str, options: Options) -> SpecMock {
        let api = Arc::new(api);
        let config = mock_api::Config {
            spec: Some(SpecConfig {
                api: api.clone(),
                text: Arc::from(text),
                options,
            }),
            seed: Some(7),
            ..mock_api::Config::default()
        };
        SpecMock {
            server: mock_api::MockServer::start_with(&config).unwrap(),
            api,
            client: reqwest::Client::new(),
            token: None,
        }
    }

    /// Sends a request to `path` (under the base path); the answer must be what the
    /// operation `label` documents for its status, body and all.
    pub async fn call(
        &self,
        label: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.server.url()));
        if let Some(token) = self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let media = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.unwrap();
        let body: Value = match text.is_empty() {
            true => Value::Null,
            false => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        };
        let operation = self
            .api
            .operations
            .iter()
            .find(|o| o.label() == label)
            .unwrap_or_else(|| panic!("{label} is an operation"));
        if let Some(spec) = operation.response_for(status) {
            // `*/*` with a schema is answered as JSON too.
            let schema = spec.json().and_then(|(_, s)| s);
            if let Some(schema) = schema {
                assert!(
                    media.as_deref().is_some_and(is_json),
                    "{label} {status}: {media:?}"
                );
                let errors = self.api.schemas.errors(schema, Direction::Response, &body);
                assert!(errors.is_empty(), "{label} {status} {body}: {errors:?}");
            }
        }
        Answer { status, body }
    }

    async fn reset(&self) {
        let root = self.server.addr();
        let reply = self
            .client
            .post(format!("http://{root}/__admin/reset"))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 204);
    }
}

#[tokio::test]
async fn the_petstore_keeps_what_is_created_under_its_base_path() {
    let mut mock = SpecMock::start("petstore3.yaml", Options::default());
    mock.token = Some("any-token");
    assert!(
        mock.server.url().ends_with("/api/v3"),
        "{}",
        mock.server.url()
    );
    let pet = json!({"name": "doggie", "photoUrls": ["a.png"], "status": "available"});
    let created = mock
        .call("POST /pet", Method::POST, "/pet", Some(pet))
        .await;
    assert_eq!(created.status, 200);
    assert_eq!(created.body["name"], "doggie");
    let id = created.body["id"].clone();
    assert!(id.is_i64(), "{}", created.body);
    let path = format!("/pet/{id}");
    let read = mock
        .call("GET /pet/{petId}", Method::GET, &path, None)
        .await;
    assert_eq!((read.status, &read.body), (200, &created.body));
    // The Petstore replaces a pet with PUT on the collection, the id in the body.
    let replaced = json!({"id": id, "name": "rex", "photoUrls": [], "status": "sold"});
    let put = mock
        .call("PUT /pet", Method::PUT, "/pet", Some(replaced))
        .await;
    assert_eq!((put.status, &put.body["name"]), (200, &json!("rex")));
    let read = mock
        .call("GET /pet/{petId}", Method::GET, &path, None)
        .await;
    assert_eq!(read.body["status"], "sold");
    let deleted = mock
        .call("DELETE /pet/{petId}", Method::DELETE, &path, None)
        .await;
    assert_eq!(deleted.status, 200);
    let gone = mock
        .call("GET /pet/{petId}", Method::GET, &path, None)
        .await;
    assert_eq!(gone.status, 404);
    // An operation on a pet that is gone is 404 too, and an unknown pet's PUT as well.
    let image = format!("/pet/{id}/uploadImage");
    let upload = mock
        .call("POST /pet/{petId}/uploadImage", Method::POST, &image, None)
        .await;
    assert_eq!(upload.status, 404);
    let unknown = json!({"id": 999_999, "name": "x", "photoUrls": []});
    let put = mock
        .call("PUT /pet", Method::PUT, "/pet", Some(unknown))
        .await;
    assert_eq!(put.status, 404);
}

#[tokio::test]
async fn the_petstore_refuses_what_its_document_forbids() {
    let mut mock = SpecMock::start("petstore3.yaml", Options::default());
    // Protected (petstore_auth or api_key) without any credential: 401.
    let open = mock
        .call("GET /pet/findByTags", Method::GET, "/pet/findByTags", None)
        .await;
    assert_eq!(open.status, 401);
    mock.token = Some("any-token");
    // No name: the Petstore documents 400 for a bad pet.
    let bad = mock
        .call(
            "POST /pet",
            Method::POST,
            "/pet",
            Some(json!({"photoUrls": []})),
        )
        .await;
    assert_eq!(bad.status, 400);
    let not_a_number = mock
        .call("GET /pet/{petId}", Method::GET, "/pet/abc", None)
        .await;
    assert_eq!(not_a_number.status, 400);
    // With a token, findByTags answers.
    let tagged = mock
        .call("GET /pet/findByTags", Method::GET, "/pet/findByTags", None)
        .await;
    assert_eq!(tagged.status, 200);
    let users = mock
        .call("GET /user/{username}", Method::GET, "/user/nobody", None)
        .await;
    assert_eq!(users.status, 404);
    // Not a path of the document: the JSON error body, and its method is 405 with Allow.
    let missing = mock
        .client
        .get(format!("{}/nothing", mock.server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let wrong = mock
        .client
        .patch(format!("{}/pet", mock.server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 405);
    assert_eq!(wrong.headers()["allow"], "POST, PUT");
}

#[tokio::test]
async fn a_user_made_by_post_is_read_by_its_username_without_its_password() {
    let mock = SpecMock::start("petstore3.yaml", Options::default());
    let user =
        json!({"username": "ann", "email": "ann@example.com", "password": "s3cret", "id": 4});
    let created = mock
        .call("POST /user", Method::POST, "/user", Some(user))
        .await;
    assert_eq!(created.status, 200);
    assert!(created.body.get("password").is_none(), "{}", created.body);
    let read = mock
        .call("GET /user/{username}", Method::GET, "/user/ann", None)
        .await;
    assert_eq!(
        (read.status, &read.body["email"]),
        (200, &json!("ann@example.com"))
    );
    assert!(read.body.get("password").is_none(), "{}", read.body);
}

#[tokio::test]
async fn the_fastapi_template_pages_its_items_and_wants_a_token() {
    let mut mock = SpecMock::start("fastapi-template.json", Options::default());
    let unauthorized = mock
        .call("GET /api/v1/items/", Method::GET, "/api/v1/items/", None)
        .await;
    assert_eq!(unauthorized.status, 401);
    mock.token = Some("any-token");
    let mut ids = Vec::new();
    for title in ["a", "b", "c"] {
        let created = mock
            .call(
                "POST /api/v1/items/",
                Method::POST,
                "/api/v1/items/",
                Some(json!({"title": title})),
            )
            .await;
        assert_eq!(
            (created.status, &created.body["title"]),
            (200, &json!(title))
        );
        ids.push(created.body["id"].as_str().unwrap().to_owned());
    }
    let all = mock
        .call("GET /api/v1/items/", Method::GET, "/api/v1/items/", None)
        .await;
    assert_eq!(all.body["count"], 3);
    assert_eq!(all.body["data"].as_array().unwrap().len(), 3);
    let page = mock
        .call(
            "GET /api/v1/items/",
            Method::GET,
            "/api/v1/items/?skip=1&limit=1",
            None,
        )
        .await;
    assert_eq!(
        (
            page.body["count"].clone(),
            page.body["data"][0]["title"].clone()
        ),
        (json!(3), json!("b"))
    );
    let item = format!("/api/v1/items/{}", ids[0]);
    let put = mock
        .call(
            "PUT /api/v1/items/{id}",
            Method::PUT,
            &item,
            Some(json!({"title": "z"})),
        )
        .await;
    assert_eq!(
        (put.status, &put.body["title"], &put.body["id"]),
        (200, &json!("z"), &json!(ids[0]))
    );
    let deleted = mock
        .call("DELETE /api/v1/items/{id}", Method::DELETE, &item, None)
        .await;
    assert_eq!(deleted.status, 200);
    let gone = mock
        .call("GET /api/v1/items/{id}", Method::GET, &item, None)
        .await;
    assert_eq!(gone.status, 404);
    // FastAPI's 422, in the documented shape.
    let bad = mock
        .call(
            "POST /api/v1/items/",
            Method::POST,
            "/api/v1/items/",
            Some(json!({"title": ""})),
        )
        .await;
    assert_eq!(bad.status, 422);
    let not_uuid = mock
        .call(
            "GET /api/v1/items/{id}",
            Method::GET,
            "/api/v1/items/12",
            None,
        )
        .await;
    assert_eq!(not_uuid.status, 422);
    // A user's password never comes back.
    let user = json!({"email": "bob@example.com", "password": "long-enough-1"});
    let made = mock
        .call(
            "POST /api/v1/users/",
            Method::POST,
            "/api/v1/users/",
            Some(user),
        )
        .await;
    assert_eq!(made.status, 200);
    assert!(made.body.get("password").is_none(), "{}", made.body);
}

#[tokio::test]
async fn a_swagger_2_document_keeps_pets_under_its_base_path() {
    let mock = SpecMock::start("petstore-expanded-2.0.yaml", Options::default());
    assert!(mock.server.url().ends_with("/api"));
    let created = mock
        .call(
            "POST /pets",
            Method::POST,
            "/pets",
            Some(json!({"name": "tom", "tag": "cat"})),
        )
        .await;
    assert_eq!(created.status, 200);
    let id = created.body["id"].as_i64().unwrap();
    mock.call(
        "POST /pets",
        Method::POST,
        "/pets",
        Some(json!({"name": "kit"})),
    )
    .await;
    let limited = mock
        .call("GET /pets", Method::GET, "/pets?limit=1", None)
        .await;
    assert_eq!(limited.body, json!([created.body]));
    let read = mock
        .call("GET /pets/{id}", Method::GET, &format!("/pets/{id}"), None)
        .await;
    assert_eq!(read.body["tag"], "cat");
    let deleted = mock
        .call(
            "DELETE /pets/{id}",
            Method::DELETE,
            &format!("/pets/{id}"),
            None,
        )
        .await;
    assert_eq!((deleted.status, deleted.body), (204, Value::Null));
    // Not found: the document's `default` error shape.
    let gone = mock
        .call("GET /pets/{id}", Method::GET, &format!("/pets/{id}"), None)
        .await;
    assert_eq!(gone.status, 404);
    assert!(gone.body["message"].is_string(), "{}", gone.body);
}

#[tokio::test]
async fn the_toolkit_works_the_same_on_a_served_document() {
    let mock = SpecMock::start("petstore-expanded-2.0.yaml", Options::default());
    let admin = format!("http://{}/__admin", mock.server.addr());
    let made = mock
        .call(
            "POST /pets",
            Method::POST,
            "/pets",
            Some(json!({"name": "a"})),
        )
        .await;
    let id = made.body["id"].as_i64().unwrap();
    // A namespace sees its own data.
    let other = mock
        .client
        .get(format!("{}/pets", mock.server.url()))
        .header("x-mock-namespace", "other")
        .send()
        .await
        .unwrap();
    assert_eq!(other.json::<Value>().await.unwrap(), json!([]));
    // A snapshot brings the pet back after a reset of the data.
    let saved = mock
        .client
        .post(format!("{admin}/snapshots/one"))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 201);
    assert_eq!(saved.json::<Value>().await.unwrap()["items"], 1);
    mock.reset().await;
    let empty = mock.call("GET /pets", Method::GET, "/pets", None).await;
    assert_eq!(empty.body, json!([]));
    let restored = mock
        .client
        .post(format!("{admin}/snapshots/one/restore"))
        .send()
        .await
        .unwrap();
    assert_eq!(restored.status(), 200);
    let back = mock
        .call("GET /pets/{id}", Method::GET, &format!("/pets/{id}"), None)
        .await;
    assert_eq!(back.status, 200);
    // A stub is tried before the document.
    let stub = json!({"request": {"method": "GET", "path": "/api/pets/77"},
                      "response": {"status": 200, "body": {"id": 77, "name": "stubbed"}}});
    let created = mock
        .client
        .post(format!("{admin}/stubs"))
        .json(&stub)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let stubbed = mock
        .call("GET /pets/{id}", Method::GET, "/pets/77", None)
        .await;
    assert_eq!(stubbed.body["name"], "stubbed");
    // Prefer picks a documented response; the journal saw every request.
    let preferred = mock
        .client
        .get(format!("{}/pets/{id}", mock.server.url()))
        .header("prefer", "code=500")
        .send()
        .await
        .unwrap();
    assert_eq!(preferred.status(), 500);
    let body: Value = preferred.json().await.unwrap();
    assert!(
        body["code"].is_i64() && body["message"].is_string(),
        "{body}"
    );
    let journal: Value = mock
        .client
        .get(format!("{admin}/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The reset emptied it; the four requests since are there, the stub's named.
    let served: Vec<(&str, &str)> = journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap(),
                r["served_by"].as_str().unwrap(),
            )
        })
        .collect();
    let pet = format!("/api/pets/{id}");
    assert_eq!(
        served,
        [
            ("/api/pets", "api"),
            (pet.as_str(), "api"),
            ("/api/pets/77", "stub"),
            (pet.as_str(), "api")
        ]
    );
}

#[tokio::test]
async fn seed_items_and_a_data_file_fill_collections_at_start_and_after_a_reset() {
    let data = json!({"/pets": [{"id": 10, "name": "seeded"}]});
    let options = Options {
        seed_items: 3,
        data: Some(data),
        ..Options::default()
    };
    let mock = SpecMock::start("petstore-expanded-2.0.yaml", options);
    let all = mock.call("GET /pets", Method::GET, "/pets", None).await;
    assert_eq!(all.body.as_array().unwrap().len(), 4, "{}", all.body);
    mock.call("DELETE /pets/{id}", Method::DELETE, "/pets/10", None)
        .await;
    mock.reset().await;
    let again = mock
        .call("GET /pets/{id}", Method::GET, "/pets/10", None)
        .await;
    assert_eq!((again.status, &again.body["name"]), (200, &json!("seeded")));
}

#[tokio::test]
async fn the_binary_prints_the_base_path_and_serves_the_document() {
    let spec = tests::root().join("tests/fixtures/real/petstore3.yaml");
    let (mut child, url) = tests::spawn_mock(
        &["--spec", spec.to_str().unwrap()],
        std::process::Stdio::null(),
    );
    assert!(url.ends_with("/api/v3"), "{url}");
    let root = url.trim_end_matches("/api/v3");
    let document: Value = reqwest::get(format!("{root}/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(document["openapi"], "3.0.4");
    child.kill().unwrap();
    child.wait().unwrap();
    let (mut child, url) = tests::spawn_mock(
        &["--spec", spec.to_str().unwrap(), "--base-path", "/"],
        std::process::Stdio::null(),
    );
    let inventory = reqwest::Client::new()
        .get(format!("{url}/store/inventory"))
        .header("api_key", "k")
        .send()
        .await
        .unwrap();
    assert_eq!(inventory.status(), 200);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn documents_it_cannot_serve_are_refused_at_start() {
    let dir = tests::temp_dir("spec-refused");
    let empty = dir.join("empty.yaml");
    std::fs::write(
        &empty,
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n",
    )
    .unwrap();
    let said = tests::mock_api_refuses(&["--spec".as_ref(), empty.as_os_str()]);
    assert!(said.contains("no operation"), "{said}");
    let said = tests::mock_api_refuses(&["--spec".as_ref(), dir.join("absent.yaml").as_os_str()]);
    assert!(said.contains("absent.yaml"), "{said}");
    let spec = tests::root().join("tests/fixtures/real/petstore-expanded-2.0.yaml");
    let data = dir.join("data.json");
    std::fs::write(&data, r#"{"/cats": []}"#).unwrap();
    let said = tests::mock_api_refuses(&[
        "--spec".as_ref(),
        spec.as_os_str(),
        "--data".as_ref(),
        data.as_os_str(),
    ]);
    assert!(said.contains("/cats is not a collection"), "{said}");
    std::fs::write(&data, r#"{"/pets": [{"id": "x"}]}"#).unwrap();
    let said = tests::mock_api_refuses(&[
        "--spec".as_ref(),
        spec.as_os_str(),
        "--data".as_ref(),
        data.as_os_str(),
    ]);
    assert!(said.contains("/pets[0]"), "{said}");
}

/// Operations the loader sets aside (a body only in XML) are still answered, from their
/// documented examples, and named at start; a pattern no engine compiles costs only itself,
/// with a note, and its operation is served as any other.
#[tokio::test]
async fn operations_set_aside_are_answered_from_their_examples() {
    const DOCUMENT: &str = r#"
openapi: 3.0.3
info: {title: aside, version: "1"}
paths:
  /codes:
    get:
      responses:
        "200":
          description: a code
          content:
            application/json:
              schema: {type: string, pattern: "(unclosed"}
              example: A-1
  /orders:
    post:
      requestBody:
        required: true
        content:
          application/xml:
            schema: {type: object}
      responses:
        "201":
          description: made
          content:
            application/json:
              schema: {type: object, properties: {id: {type: integer}}}
              example: {id: 7}
  /health:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: object}
              example: {ok: true}
"#;
    let dir = tests::temp_dir("spec-aside");
    let spec = dir.join("aside.yaml");
    std::fs::write(&spec, DOCUMENT).unwrap();
    let (mut child, url) = tests::spawn_mock(
        &["--spec", spec.to_str().unwrap()],
        std::process::Stdio::piped(),
    );
    let client = reqwest::Client::new();
    let code = client.get(format!("{url}/codes")).send().await.unwrap();
    assert_eq!(code.status(), 200);
    assert!(code.json::<Value>().await.unwrap().is_string());
    let order = client
        .post(format!("{url}/orders"))
        .header("content-type", "application/xml")
        .body("<order/>")
        .send()
        .await
        .unwrap();
    assert_eq!(order.status(), 201);
    assert_eq!(order.json::<Value>().await.unwrap(), json!({"id": 7}));
    let health = client.get(format!("{url}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("note: #/paths/~1codes/get/responses/200/content/application~1json/schema/pattern: the pattern does not compile"),
        "{stderr}"
    );
    assert!(!stderr.contains("GET /codes is answered"), "{stderr}");
    assert!(
        stderr.contains("POST /orders is answered from its documented examples only"),
        "{stderr}"
    );
    assert!(!stderr.contains("/health"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A form body is typed by the schema even where the operation also takes JSON, and the most
/// concrete path decides the methods a path has (as Schemathesis checks them).
#[tokio::test]
async fn forms_are_typed_and_the_concrete_path_decides() {
    let mock = SpecMock::start("petstore3.yaml", Options::default());
    let url = mock.server.url();
    let client = reqwest::Client::new();
    let order = client
        .post(format!("{url}/store/order"))
        .header("api_key", "k")
        .form(&[
            ("id", "10"),
            ("petId", "7"),
            ("quantity", "2"),
            ("complete", "false"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(order.status(), 200);
    let order: Value = order.json().await.unwrap();
    assert_eq!(
        (&order["id"], &order["quantity"], &order["complete"]),
        (&json!(10), &json!(2), &json!(false)),
        "{order}"
    );
    let bad = client
        .post(format!("{url}/store/order"))
        .header("api_key", "k")
        .form(&[("quantity", "many")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    // `/user/logout` has only GET: not the PUT and DELETE of `/user/{username}` beside it.
    let put = client
        .put(format!("{url}/user/logout"))
        .header("api_key", "k")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 405);
    assert_eq!(put.headers()["allow"], "GET");
}

/// Seldon's document writes `pattern: ^.{1,2097152}` on every string, which no regex engine
/// compiles: the mock used to refuse the whole document ("no operation the mock can serve").
/// Each pattern is now dropped alone, with a note, and every operation is served.
#[tokio::test]
async fn a_real_document_with_patterns_no_engine_compiles_is_served() {
    let spec = tests::root().join("tests/fixtures/real/seldon-engine.json");
    let (mut child, url) = tests::spawn_mock(
        &[
            "--spec",
            spec.to_str().unwrap(),
            "--base-path",
            "/",
            "--credential",
            "ci",
        ],
        std::process::Stdio::piped(),
    );
    let client = reqwest::Client::new();
    let answer = client
        .post(format!("{url}/seldon/ns/model/api/v1.0/predictions"))
        .bearer_auth("ci")
        .json(&json!({"data": {"names": ["feature1"], "tensor": {"shape": [1, 1], "values": [1]}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert!(answer.json::<Value>().await.unwrap().is_object());
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("note: #/components/schemas/SeldonMessage/properties/strData/pattern: the pattern does not compile"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("answered from its documented examples"),
        "{stderr}"
    );
}

/// Documents that need no repair get no note: the loader's repairs say only what is wrong.
#[test]
fn clean_real_documents_need_no_repair() {
    for name in [
        "petstore3.yaml",
        "fastapi-template.json",
        "petstore-expanded-2.0.yaml",
    ] {
        let (api, _) = fixture(name);
        assert!(api.repairs.is_empty(), "{name}: {:?}", api.repairs);
    }
    let (api, _) = fixture("seldon-engine.json");
    assert!(!api.repairs.is_empty());
    assert_eq!(api.operations.len(), 2);
}
