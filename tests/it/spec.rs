//! The server serves its own contract, and the contract is the file in `specs/`.

use tests::Api;

#[tokio::test]
async fn serves_its_own_contract() {
    let api = Api::start();
    let file = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../specs/mock-api.yaml"
    ))
    .unwrap();
    let yaml = api.get("/openapi.yaml").await;
    assert_eq!(
        (yaml.status, yaml.header("content-type")),
        (200, Some("application/yaml"))
    );
    assert_eq!(yaml.text, file);
    let json = api.get("/openapi.json").await;
    let parsed: serde_json::Value = yaml_serde::from_str(&file).unwrap();
    assert_eq!(json.body, parsed);
    assert_eq!(json.body["openapi"], "3.0.3");
}

#[tokio::test]
async fn health_reports_the_contract_version() {
    let api = Api::start();
    let health = api.get("/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body["status"], "healthy");
    assert_eq!(
        health.body["version"],
        mock_api::spec::json()["info"]["version"]
    );
}

#[test]
fn the_validator_catches_a_drifting_reply() {
    // The checks the suite relies on must be able to fail.
    let reply = |status: u16, body: serde_json::Value| tests::Reply {
        status,
        headers: [(
            reqwest::header::CONTENT_TYPE,
            "application/json".parse().unwrap(),
        )]
        .into_iter()
        .collect(),
        text: body.to_string(),
        body,
    };
    let user = serde_json::json!({"id": "8f14e45f-ceea-467f-a0e6-8b9e6a3c1d2b", "email": "a@b.co", "name": "A", "role": "user", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"});
    let get = reqwest::Method::GET;
    let path = "/api/users/8f14e45f-ceea-467f-a0e6-8b9e6a3c1d2b";
    assert_eq!(
        tests::conforms(&get, path, &reply(200, user.clone())),
        Ok(())
    );
    let mut leaked = user.clone();
    leaked["password_hash"] = "x".into();
    assert!(
        tests::conforms(&get, path, &reply(200, leaked))
            .unwrap_err()
            .contains("secret")
    );
    let mut extra = user.clone();
    extra["nickname"] = "x".into();
    assert!(
        tests::conforms(&get, path, &reply(200, extra))
            .unwrap_err()
            .contains("schema")
    );
    let mut bad_role = user.clone();
    bad_role["role"] = "root".into();
    assert!(tests::conforms(&get, path, &reply(200, bad_role)).is_err());
    let mut bad_date = user.clone();
    bad_date["created_at"] = "yesterday".into();
    assert!(tests::conforms(&get, path, &reply(200, bad_date)).is_err());
    assert!(
        tests::conforms(&get, path, &reply(500, user.clone()))
            .unwrap_err()
            .contains("not documented")
    );
    assert!(
        tests::conforms(&reqwest::Method::DELETE, path, &reply(204, user))
            .unwrap_err()
            .contains("body")
    );
}
