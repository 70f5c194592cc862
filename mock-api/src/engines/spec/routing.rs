//! Which operation a request is for: the document's path templates, matched segment by
//! segment, a literal segment before a parameter (`/users/me` before `/users/{id}`).

use axum::http::Method;

use openapi::generate::wire::percent_decode;
use openapi::model::{Api, Operation};
use openapi::template::PathTemplate;

/// A path template and the operations on it, by method.
#[derive(Debug)]
struct Route {
    template: PathTemplate,
    operations: Vec<(Method, usize)>,
}

/// The matched operation and the path parameters, percent-decoded.
#[derive(Debug)]
pub struct Matched {
    pub operation: usize,
    pub params: Vec<(String, String)>,
}

/// What the routing table says of a request.
#[derive(Debug)]
pub enum Found {
    Operation(Matched),
    /// The path is documented, not with this method: the methods it has.
    WrongMethod(Vec<Method>),
    NotFound,
}

#[derive(Debug, Default)]
pub struct Routes {
    routes: Vec<Route>,
    /// The routes of each segment count, most literal first: a request tries only those
    /// of its own length.
    by_length: Vec<Vec<usize>>,
}

impl Routes {
    /// The routes of the document's operations, numbered as in `api.operations`, then of the
    /// operations set aside, numbered on from there.
    pub fn new(api: &Api) -> Routes {
        let operations: Vec<&Operation> = api.documented_operations().collect();
        let mut routes: Vec<Route> = Vec::new();
        // Routes by template, found without a scan: Microsoft Graph has 10,000 of them.
        let mut by_path: std::collections::HashMap<&str, usize> = Default::default();
        for (at, operation) in operations.iter().enumerate() {
            let method =
                Method::from_bytes(operation.method.as_str().as_bytes()).unwrap_or(Method::GET);
            match by_path.get(operation.path.as_str()) {
                Some(&route) => routes[route].operations.push((method, at)),
                None => {
                    by_path.insert(operation.path.as_str(), routes.len());
                    let template = PathTemplate::new(&operation.path);
                    routes.push(Route {
                        template,
                        operations: vec![(method, at)],
                    });
                }
            }
        }
        // The most literal template first: `/users/me` is not `/users/{id}`.
        routes.sort_by_key(|r| std::cmp::Reverse(r.template.literals()));
        let mut by_length: Vec<Vec<usize>> = Vec::new();
        for (at, route) in routes.iter().enumerate() {
            let length = route.template.segments().len();
            if by_length.len() <= length {
                by_length.resize(length + 1, Vec::new());
            }
            by_length[length].push(at);
        }
        Routes { routes, by_length }
    }

    /// The operation for `method` on `path` (relative to the base path). `HEAD` is served
    /// by a `GET` when the document has no `HEAD`. As OpenAPI says, the most concrete path
    /// that matches decides: `POST /pet/findByStatus` is a 405 (its path has only `GET`), not
    /// `POST /pet/{petId}` with the id `findByStatus`.
    pub fn find(&self, method: &Method, path: &str) -> Found {
        let parts: Vec<&str> = path.split('/').skip(1).collect();
        let candidates = self.by_length.get(parts.len()).into_iter().flatten();
        for route in candidates.map(|at| &self.routes[*at]) {
            let Some(params) = route.template.captures_parts(&parts) else {
                continue;
            };
            let params = params
                .into_iter()
                .map(|(name, raw)| (name.to_owned(), percent_decode(raw)))
                .collect();
            let pick = |wanted: &Method| {
                route
                    .operations
                    .iter()
                    .find(|(m, _)| m == wanted)
                    .map(|(_, at)| *at)
            };
            let operation = pick(method).or_else(|| match *method == Method::HEAD {
                true => pick(&Method::GET),
                false => None,
            });
            return match operation {
                Some(operation) => Found::Operation(Matched { operation, params }),
                None => {
                    Found::WrongMethod(route.operations.iter().map(|(m, _)| m.clone()).collect())
                }
            };
        }
        Found::NotFound
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_segments_win_and_params_are_decoded() {
        let api = openapi::parse(
            r#"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {
                "/users/{id}": {"get": {"responses": {"200": {"description": "ok"}}}},
                "/users/me": {"get": {"responses": {"200": {"description": "ok"}}}},
                "/pets/{id}": {"post": {"responses": {"200": {"description": "ok"}}}},
                "/pets/search": {"get": {"responses": {"200": {"description": "ok"}}}},
                "/files/{name}.json": {"delete": {"responses": {"204": {"description": "ok"}}}}
            }}"#,
        )
        .unwrap();
        let routes = Routes::new(&api);
        let found = |m: Method, p: &str| match routes.find(&m, p) {
            Found::Operation(matched) => Some((
                api.operations[matched.operation].path.clone(),
                matched.params,
            )),
            _ => None,
        };
        assert_eq!(found(Method::GET, "/users/me").unwrap().0, "/users/me");
        let (path, params) = found(Method::HEAD, "/users/a%20b").unwrap();
        assert_eq!(path, "/users/{id}");
        assert_eq!(params, [("id".to_owned(), "a b".to_owned())]);
        assert_eq!(found(Method::DELETE, "/files/x.json").unwrap().1[0].1, "x");
        assert!(matches!(
            routes.find(&Method::POST, "/users/me"),
            Found::WrongMethod(_)
        ));
        assert!(matches!(
            routes.find(&Method::GET, "/nothing"),
            Found::NotFound
        ));
        // The concrete path decides: its methods only, not the template's beside it.
        match routes.find(&Method::POST, "/pets/search") {
            Found::WrongMethod(allowed) => assert_eq!(allowed, [Method::GET]),
            other => panic!("{other:?}"),
        }
        assert_eq!(found(Method::POST, "/pets/7").unwrap().0, "/pets/{id}");
    }
}
