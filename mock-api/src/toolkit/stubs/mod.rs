//! Runtime stubs: a request matcher (method, exact path or path template, query, headers, a
//! partial JSON body) and the canned response it answers with, ahead of the built-in routes.
//!
//! Definitions are kept as given ([`StubDef`], echoed back by the admin API) and compiled
//! once into a [`Stub`], so that matching a request allocates nothing.

mod compiled;
mod def;
mod file;
mod matchers;
mod registry;

pub use compiled::Stub;
pub use def::{
    MAX_ALL_STUB_BYTES, MAX_MATCHERS, MAX_RESPONSES, MAX_STUB_BYTES, MAX_STUBS, RequestDef,
    ResponseDef, StubDef, Then,
};
pub use file::{from_text, load, parse_file, with_written_bodies};
pub use matchers::{Pattern, ValueMatcher};
pub use registry::Stubs;

#[cfg(test)]
mod tests {
    use super::*;

    use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};

    use serde_json::{Value, json};
    use uuid::Uuid;

    use crate::toolkit::request::RequestView;

    fn stub(definition: Value) -> Stub {
        Stub::compile(serde_json::from_value(definition).unwrap(), 0, Uuid::nil).unwrap()
    }

    fn request(
        method: &str,
        uri: &str,
        body: &str,
    ) -> (Method, axum::http::Uri, HeaderMap, Vec<u8>) {
        let mut headers = HeaderMap::new();
        headers.insert("x-tenant", HeaderValue::from_static("acme"));
        (
            method.parse().unwrap(),
            uri.parse().unwrap(),
            headers,
            body.as_bytes().to_vec(),
        )
    }

    #[test]
    fn matchers_and_their_reasons() {
        let stub = stub(json!({
            "request": {
                "method": "post", "path": "/orders/{id}/items",
                "query": {"page": "2", "debug": {"absent": true}},
                "headers": {"x-tenant": {"matches": "ac.e"}},
                "body": {"sku": "A1", "tags": ["x"]}
            },
            "response": {"status": 201, "body": {"ok": true}}
        }));
        let (method, uri, headers, body) = request(
            "POST",
            "/orders/7/items?page=2",
            r#"{"sku": "A1", "qty": 3, "tags": ["x"]}"#,
        );
        let view = RequestView::new(&method, &uri, &headers, &body, None);
        assert!(stub.matches(&view));
        assert_eq!(
            stub.respond(0, |_, _| unreachable!("no template")).status(),
            StatusCode::CREATED
        );

        let (method, uri, headers, body) = request(
            "GET",
            "/orders/7/items/8?page=1&debug=1",
            r#"{"sku": "B2"}"#,
        );
        let view = RequestView::new(&method, &uri, &headers, &body, None);
        assert!(!stub.matches(&view));
        assert_eq!(
            stub.mismatches(&view),
            [
                "method: expected POST, got GET",
                "path: expected /orders/{id}/items, got /orders/7/items/8",
                r#"query `debug`: expected absent, got ["1"]"#,
                r#"query `page`: expected equals "2", got ["1"]"#,
                r#"body/sku: expected "A1", got "B2""#,
            ]
        );
    }

    #[test]
    fn bad_definitions_get_clear_errors() {
        let error = |definition: Value| {
            let def: StubDef = match serde_json::from_value(definition) {
                Ok(def) => def,
                Err(e) => return e.to_string(),
            };
            Stub::compile(def, 0, Uuid::nil).unwrap_err()
        };
        assert!(error(json!({"request": {"path": "x"}})).contains("must start with /"));
        assert!(error(json!({"request": {"path": "/__admin/stubs"}})).contains("admin API"));
        assert!(error(json!({"request": {"path": "/a{b}"}})).contains("whole segment"));
        assert!(error(json!({"request": {"path": "/", "method": "BREW"}})).contains("BREW"));
        assert!(
            error(json!({"request": {"path": "/", "query": {"q": {"matches": "("}}}}))
                .contains("not a valid regular expression")
        );
        assert!(
            error(json!({"request": {"path": "/"}, "response": {"status": 99}}))
                .contains("200 to 599")
        );
        assert!(
            error(json!({"request": {"path": "/"}, "reponse": {}}))
                .contains("unknown field `reponse`")
        );
    }

    #[test]
    fn priority_then_newest_first() {
        let stubs = Stubs::new(Vec::new(), None).unwrap();
        let def = |status: u16, priority: u32| -> StubDef {
            serde_json::from_value(json!({
                "priority": priority,
                "request": {"path": "/x"},
                "response": {"status": status}
            }))
            .unwrap()
        };
        stubs.add(def(201, 5)).unwrap();
        stubs.add(def(202, 5)).unwrap();
        stubs.add(def(203, 9)).unwrap();
        let (method, uri, headers, body) = request("GET", "/x", "");
        let view = RequestView::new(&method, &uri, &headers, &body, None);
        assert_eq!(
            stubs
                .find(&view)
                .unwrap()
                .0
                .respond(0, |_, _| unreachable!("no template"))
                .status(),
            202
        );
        stubs.add(def(204, 1)).unwrap();
        assert_eq!(
            stubs
                .find(&view)
                .unwrap()
                .0
                .respond(0, |_, _| unreachable!("no template"))
                .status(),
            204
        );
    }
}
