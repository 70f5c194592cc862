//! Generation judged by the validator: on the bundled users document, and on the shapes
//! that broke generators before (recursion, impossible bounds, formats the validator checks).

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};

use crate::generate::wire::ParamJudge;
use crate::generate::{Kind, Payload, Plan, canonical};
use crate::model::Api;
use crate::schema::Direction;

const MOCK_SPEC: &str = include_str!("../../../specs/mock-api.yaml");

fn mock_spec() -> Api {
    crate::parse(MOCK_SPEC).unwrap()
}

fn runner() -> TestRunner {
    TestRunner::new_with_rng(
        Config {
            max_local_rejects: 1_024,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[1; 32]),
    )
}

#[test]
fn random_positive_cases_are_valid() {
    let api = mock_spec();
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[1; 32]),
    );
    for operation in &api.operations {
        let strategy = Plan::new(&api.schemas, operation).positive();
        for _ in 0..50 {
            let case = strategy.new_tree(&mut runner).unwrap().current();
            if let (Payload::Json(body), Some(spec)) = (&case.body, &operation.body) {
                let errors = api.schemas.errors(&spec.schema, Direction::Request, body);
                assert!(
                    errors.is_empty(),
                    "{}: {body} {errors:?}",
                    operation.label()
                );
            }
            for (location, name, value) in &case.params {
                let param = operation
                    .params
                    .iter()
                    .find(|p| &p.name == name && p.location == *location)
                    .unwrap();
                let judge = ParamJudge::new(&api.schemas, param).unwrap();
                assert!(judge.accepts(value), "{name}={value}");
            }
        }
    }
}

#[test]
fn coverage_breaks_one_constraint_at_a_time() {
    let api = mock_spec();
    let create = api
        .operations
        .iter()
        .find(|o| o.label() == "POST /api/users")
        .unwrap();
    let cases = Plan::new(&api.schemas, create).coverage();
    let negatives: Vec<String> = cases
        .iter()
        .filter_map(|c| match &c.kind {
            Kind::Negative(what) => Some(what.clone()),
            _ => None,
        })
        .collect();
    for expected in [
        "body/email missing",
        "body/email not a valid email",
        "body/name past a bound",
        "body/role outside its enum",
        "body/password not of type string (a number)",
        "body/password not of type string (a boolean)",
        "malformed JSON body",
        "body sent as text/plain",
        "body not of type object (an array)",
    ] {
        assert!(
            negatives.iter().any(|n| n == expected),
            "{expected} in {negatives:#?}"
        );
    }
    let valid_bounds = cases.iter().filter(|c| c.kind == Kind::Positive).count();
    assert!(valid_bounds >= 5, "examples and boundaries: {valid_bounds}");
    let list = api
        .operations
        .iter()
        .find(|o| o.label() == "GET /api/users")
        .unwrap();
    let kinds: Vec<Kind> = Plan::new(&api.schemas, list)
        .coverage()
        .into_iter()
        .map(|c| c.kind)
        .collect();
    assert!(
        kinds.contains(&Kind::Negative(
            "query parameter `limit` past a bound".into()
        )),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&Kind::Negative(
            "query parameter `page` not of type integer (a string)".into()
        )),
        "{kinds:?}"
    );
}

#[test]
fn canonical_values_are_the_simplest_valid_ones() {
    let api = mock_spec();
    let s = &api.schemas;
    let email_ref = |api: &Api| {
        let create = api
            .operations
            .iter()
            .find(|o| o.label() == "POST /api/users")
            .unwrap();
        let body = s.resolve(&create.body.as_ref().unwrap().schema).clone();
        body["properties"]["email"].clone()
    };
    assert_eq!(
        canonical(s, &json!({"type": "integer", "minimum": 3}), false),
        json!(3)
    );
    assert_eq!(
        canonical(s, &json!({"type": "string", "enum": ["b", "a"]}), false),
        json!("b")
    );
    let email = canonical(s, &email_ref(&api), false);
    assert!(
        s.is_valid(&email_ref(&api), Direction::Request, &email),
        "{email}"
    );
}

/// Every random valid case of every operation the validator accepts (a draw may fail, a
/// drawn case may never be invalid), and what the plans call problems of the document.
fn judge_document(text: &str) -> (Api, Vec<String>) {
    let api = crate::parse(text).unwrap();
    let mut runner = runner();
    let mut problems = Vec::new();
    for operation in &api.operations {
        let plan = Plan::new(&api.schemas, operation);
        problems.extend(plan.problems());
        let strategy = plan.positive();
        for _ in 0..40 {
            if let Ok(tree) = strategy.new_tree(&mut runner) {
                let case = tree.current();
                assert!(plan.is_valid(&case), "{}: {case:?}", operation.label());
            }
        }
        for case in plan.coverage() {
            if case.kind == Kind::Positive {
                // The base case is canonical and may be invalid only for a document problem.
                assert!(
                    plan.is_valid(&case) || !problems.is_empty(),
                    "{}: {case:?}",
                    operation.label()
                );
            }
        }
    }
    (api, problems)
}

/// A document with one JSON body schema per operation `POST /<name>`.
fn bodies(dialect: &str, schemas: &[(&str, Value)], components: Value) -> String {
    let paths: serde_json::Map<String, Value> = schemas
        .iter()
        .map(|(name, schema)| {
            (
                format!("/{name}"),
                json!({"post": {
                    "requestBody": {"required": true, "content": {"application/json": {"schema": schema}}},
                    "responses": {"200": {"description": "ok"}}
                }}),
            )
        })
        .collect();
    json!({"openapi": dialect, "info": {"title": "t", "version": "1"}, "paths": paths,
           "components": {"schemas": components}})
    .to_string()
}

#[test]
fn recursive_schemas_are_data_not_copies() {
    // Two self-references outside components: inlining them would make 2^32 nodes.
    let tree = r#"
openapi: 3.0.3
info: {title: r, version: '1'}
paths:
  /tree:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                left: {$ref: '#/paths/~1tree/post/requestBody/content/application~1json/schema'}
                right: {$ref: '#/paths/~1tree/post/requestBody/content/application~1json/schema'}
      responses: {'200': {description: ok}}
"#;
    let (api, problems) = judge_document(tree);
    assert!(api.schemas.len() < 4, "{} slots", api.schemas.len());
    assert!(problems.is_empty(), "{problems:?}");
    let components = json!({
        "Json": {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "null"},
                           {"type": "array", "items": {"$ref": "#/components/schemas/Json"}},
                           {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Json"}}]},
        "Category": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Category"}}}},
        "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
        "B": {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/A"}}},
    });
    let refs = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let text = bodies(
        "3.1.0",
        &[
            ("json", refs("Json")),
            ("category", refs("Category")),
            ("mutual", refs("A")),
        ],
        components,
    );
    let (_, problems) = judge_document(&text);
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn a_schema_no_value_satisfies_is_a_document_problem() {
    let impossible = [
        (
            "multiple",
            json!({"type": "integer", "minimum": 1, "maximum": 4, "multipleOf": 5}),
        ),
        (
            "long",
            json!({"type": "string", "minLength": 1_000_000_000_000u64}),
        ),
        (
            "many",
            json!({"type": "array", "minItems": 1_000_000_000_000u64}),
        ),
        (
            "empty_language",
            json!({"type": "string", "pattern": "^[^\\s\\S]$"}),
        ),
        (
            "contradiction",
            json!({"allOf": [{"type": "string"}, {"type": "integer"}]}),
        ),
        ("endless", json!({"$ref": "#/components/schemas/Endless"})),
    ];
    let components = json!({"Endless": {"type": "object", "required": ["next"],
        "properties": {"next": {"$ref": "#/components/schemas/Endless"}}}});
    for (name, schema) in impossible {
        let text = bodies("3.0.3", &[(name, schema)], components.clone());
        let (_, problems) = judge_document(&text);
        assert_eq!(problems.len(), 1, "{name}: {problems:?}");
        assert!(
            problems[0].contains("requestBody/content/application~1json/schema"),
            "{problems:?}"
        );
    }
}

#[test]
fn formats_and_patterns_the_validator_checks_are_generated_valid() {
    let schemas = [
        ("time", json!({"type": "string", "format": "time"})),
        ("duration", json!({"type": "string", "format": "duration"})),
        (
            "idn_email",
            json!({"type": "string", "format": "idn-email"}),
        ),
        (
            "uri_reference",
            json!({"type": "string", "format": "uri-reference"}),
        ),
        (
            "unknown_format",
            json!({"type": "string", "format": "made-up"}),
        ),
        (
            "lookahead",
            json!({"type": "string", "pattern": "^(?=.*[A-Z])[A-Za-z]{8,12}$"}),
        ),
        ("int32", json!({"type": "integer", "format": "int32"})),
        (
            "huge_bounds",
            json!({"type": "integer", "minimum": -1e300, "maximum": 1e300}),
        ),
        (
            "big_max_items",
            json!({"type": "array", "maxItems": 1_000_000_000_000u64, "items": {"type": "integer"}}),
        ),
    ];
    let (api, problems) = judge_document(&bodies("3.1.0", &schemas, json!({})));
    // A look-ahead cannot be generated from; it is a problem, never a case called valid.
    assert!(
        problems.iter().all(|p| p.contains("~1lookahead")),
        "{problems:?}"
    );
    let int32 = api.operations.iter().find(|o| o.path == "/int32").unwrap();
    let plan = Plan::new(&api.schemas, int32);
    let mut runner = runner();
    for _ in 0..200 {
        let case = plan.positive().new_tree(&mut runner).unwrap().current();
        let Payload::Json(value) = case.body else {
            panic!("a body")
        };
        assert!(i32::try_from(value.as_i64().unwrap()).is_ok(), "{value}");
    }
}

#[test]
fn openapi_31_keywords_are_honoured() {
    let schemas = [
        (
            "nullable",
            json!({"type": ["string", "null"], "maxLength": 3}),
        ),
        ("constant", json!({"const": "fixed"})),
        (
            "tuple",
            json!({"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "items": false}),
        ),
        (
            "dependent",
            json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                             "dependentRequired": {"a": ["b"]}}),
        ),
        (
            "closed",
            json!({"type": "object", "properties": {"a": {"type": "integer"}}, "unevaluatedProperties": false}),
        ),
        (
            "ref_siblings",
            json!({"$ref": "#/components/schemas/Name", "maxLength": 4}),
        ),
        (
            "optional_int",
            json!({"anyOf": [{"type": "integer"}, {"type": "null"}]}),
        ),
    ];
    let components = json!({"Name": {"type": "string", "minLength": 2, "examples": ["ab"]}});
    let (api, problems) = judge_document(&bodies("3.1.0", &schemas, components));
    assert!(problems.is_empty(), "{problems:?}");
    let op = |path: &str| api.operations.iter().find(|o| o.path == path).unwrap();
    let valid = |path: &str, value: Value| {
        api.schemas.is_valid(
            &op(path).body.as_ref().unwrap().schema,
            Direction::Request,
            &value,
        )
    };
    assert!(valid("/nullable", json!(null)) && !valid("/nullable", json!("long")));
    assert!(valid("/constant", json!("fixed")) && !valid("/constant", json!("other")));
    assert!(valid("/tuple", json!([1, "a"])) && !valid("/tuple", json!([1, "a", 2])));
    assert!(!valid("/dependent", json!({"a": 1})) && valid("/dependent", json!({"a": 1, "b": 2})));
    assert!(!valid("/closed", json!({"a": 1, "z": 2})));
    assert!(
        valid("/ref_siblings", json!("abc"))
            && !valid("/ref_siblings", json!("abcde"))
            && !valid("/ref_siblings", json!("a"))
    );
}

#[test]
fn past_a_format_bound_is_an_edge_not_a_verdict() {
    let api = crate::parse(
        r#"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /a:
    get:
      parameters:
        - {name: n, in: query, required: true, schema: {type: integer, format: int32}}
        - {name: m, in: query, schema: {type: integer, format: int32, maximum: 10}}
      responses: {"200": {description: ok}}
"#,
    )
    .unwrap();
    let plan = Plan::new(&api.schemas, &api.operations[0]);
    let cases = plan.coverage();
    let with = |name: &str, value: i64| {
        cases
            .iter()
            .filter(|c| {
                c.params
                    .iter()
                    .any(|(_, n, v)| n == name && *v == json!(value))
            })
            .map(|c| c.kind.clone())
            .collect::<Vec<_>>()
    };
    let above = i64::from(i32::MAX) + 1;
    assert_eq!(
        with("n", above),
        [Kind::Edge("query parameter `n` past int32".to_owned())]
    );
    assert_eq!(with("n", i64::from(i32::MIN) - 1).len(), 1);
    // m's own maximum is the bound that counts: 11 is invalid, nothing past int32 above it.
    assert!(with("m", above).is_empty());
    assert!(matches!(with("m", 11)[..], [Kind::Negative(_)]));
}

#[test]
fn an_empty_parameter_is_described_as_empty() {
    let api = crate::parse(
        r#"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /a:
    get:
      parameters: [{name: limit, in: query, required: true, schema: {type: integer}}]
      responses: {"200": {description: ok}}
"#,
    )
    .unwrap();
    let plan = Plan::new(&api.schemas, &api.operations[0]);
    let described: Vec<String> = plan
        .negatives(&plan.base())
        .iter()
        .filter(|c| c.params.iter().any(|(_, _, v)| v.is_null()))
        .map(|c| c.kind.to_string())
        .collect();
    assert_eq!(described, ["invalid: query parameter `limit` empty"]);
}

/// A property the document marks `required: true` (not a list in its parent) is always sent
/// in valid cases, and leaving it out is an edge case, never blamed on a lax server.
#[test]
fn a_repaired_required_is_sent_and_its_absence_is_only_an_edge() {
    let api = crate::parse(
        r#"
openapi: 3.0.0
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
                size: {type: integer}
              required: [size]
      responses: {'201': {description: ok}}
"#,
    )
    .unwrap();
    let plan = Plan::new(&api.schemas, &api.operations[0]);
    let mut runner = runner();
    let strategy = plan.positive();
    for _ in 0..20 {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        let Payload::Json(body) = &case.body else {
            panic!("a JSON body")
        };
        assert!(
            body.get("name").is_some() && body.get("size").is_some(),
            "{body}"
        );
    }
    let kinds: Vec<String> = plan
        .negatives(&plan.base())
        .iter()
        .map(|c| c.kind.to_string())
        .collect();
    assert!(
        kinds.contains(&"invalid: body/size missing".to_owned()),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&"edge: body/name missing (its `required: true` was repaired)".to_owned()),
        "{kinds:?}"
    );
    assert!(
        !kinds.contains(&"invalid: body/name missing".to_owned()),
        "{kinds:?}"
    );
}

/// `\d` in a pattern is read as ECMA-262 reads it (ASCII digits): a header that must match
/// `^\d{12}$` (AWS's account id) gets values HTTP can carry.
#[test]
fn pattern_classes_are_ascii_where_a_header_needs_it() {
    let api = crate::parse(
        r#"
openapi: 3.0.0
info: {title: t, version: '1'}
paths:
  /jobs:
    get:
      parameters:
        - {name: x-amz-account-id, in: header, required: true, schema: {type: string, pattern: '^\d{12}$', maxLength: 64}}
      responses: {'200': {description: ok}}
"#,
    )
    .unwrap();
    let plan = Plan::new(&api.schemas, &api.operations[0]);
    assert!(plan.problems().is_empty(), "{:?}", plan.problems());
    let mut runner = runner();
    let strategy = plan.positive();
    for _ in 0..20 {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        let (_, _, value) = &case.params[0];
        let text = value.as_str().unwrap();
        assert!(
            text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()),
            "{text}"
        );
    }
}

#[test]
fn percent_encoding_keeps_unreserved_characters_and_round_trips() {
    use crate::generate::wire::{percent_decode, percent_encode};
    assert_eq!(percent_encode("a-Z.0_~"), "a-Z.0_~");
    assert_eq!(percent_encode("a b/é?"), "a%20b%2F%C3%A9%3F");
    for text in ["a b/é?", "%", "100%", "\u{0}\u{1F600}"] {
        assert_eq!(percent_decode(&percent_encode(text)), text);
    }
    // Escapes that are not UTF-8, and stray `%`, leave the text as it is.
    assert_eq!(percent_decode("%FF%FE"), "%FF%FE");
    assert_eq!(percent_decode("50%-off"), "50%-off");
}

#[test]
fn a_parameter_pushed_onto_a_path_is_its_text_percent_encoded() {
    use crate::generate::wire::{param_text, percent_encode, push_param};
    for value in [
        json!("a b/é?"),
        json!(42),
        json!(-1.5e3),
        json!(true),
        json!(["x y", 2]),
        json!(null),
    ] {
        let mut path = String::from("/things/");
        push_param(&mut path, &value);
        assert_eq!(
            path,
            format!("/things/{}", percent_encode(&param_text(&value))),
            "{value}"
        );
    }
}
