//! Faults and latency: on a stub, on built-in routes by path pattern, per request through a
//! `Prefer` header, or as global chaos; and the responses that carry them out.

mod carry;
mod kinds;
mod prefer;
mod registry;
mod rules;

pub use carry::{abort, error_response, mangle};
pub use kinds::{DEFAULT_DRIBBLE_MS, Delay, FaultKind, Injection, MAX_DELAY_MS};
pub use prefer::prefer;
pub use registry::Faults;
pub use rules::{Chaos, MAX_RULE_BYTES, MAX_RULES, Rule, RuleDef};

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
    use serde_json::{Value, json};

    use super::prefer::PREFER;
    use crate::toolkit::request::RequestView;

    fn headers(prefer: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(PREFER, HeaderValue::from_str(prefer).unwrap());
        headers
    }

    #[test]
    fn prefer_header() {
        let (injection, applied) = prefer(&headers(
            "delay=200, status=503, fault=reset, return=minimal",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(
            injection,
            Injection {
                delay: Some(Delay::Fixed(200)),
                status: Some(StatusCode::SERVICE_UNAVAILABLE),
                fault: Some(FaultKind::Reset),
                dribble_ms: None,
                documented: None,
            }
        );
        assert_eq!(applied, "delay=200, status=503, fault=reset");
        let (injection, _) = prefer(&headers("delay=\"100-300\"")).unwrap().unwrap();
        assert_eq!(injection.delay, Some(Delay::Between(100, 300)));
        assert_eq!(prefer(&headers("return=minimal")).unwrap(), None);
        assert!(
            prefer(&headers("status=200"))
                .unwrap_err()
                .contains("400 to 599")
        );
        assert!(
            prefer(&headers("fault=explode"))
                .unwrap_err()
                .contains("explode")
        );
        assert!(
            prefer(&headers("delay=900000"))
                .unwrap_err()
                .contains("over the limit")
        );
        let (injection, _) = prefer(&headers("delay=5-1")).unwrap().unwrap();
        assert_eq!(injection.delay, Some(Delay::Between(1, 5)));
    }

    #[test]
    fn chaos_is_checked() {
        let faults = Faults::new(Some(1));
        let chaos = |value: Value| serde_json::from_value::<Chaos>(value).unwrap();
        assert!(
            faults
                .set_chaos(Some(chaos(json!({"error_rate": 1.5}))))
                .is_err()
        );
        assert!(
            faults
                .set_chaos(Some(chaos(json!({"error_status": 302}))))
                .is_err()
        );
        faults
            .set_chaos(Some(chaos(json!({"error_rate": 0.5, "error_status": 500}))))
            .unwrap();
        let method = Method::GET;
        let uri: axum::http::Uri = "/x".parse().unwrap();
        let empty = HeaderMap::new();
        let view = RequestView::new(&method, &uri, &empty, &[], None);
        let hits = (0..1000)
            .filter(|_| {
                let mut injection = Injection::default();
                faults.apply(&view, &mut injection);
                injection.status == Some(StatusCode::INTERNAL_SERVER_ERROR)
            })
            .count();
        assert!(
            (350..650).contains(&hits),
            "{hits} of 1000 at a rate of 0.5"
        );
        faults.reset();
        let mut injection = Injection::default();
        faults.apply(&view, &mut injection);
        assert_eq!(injection, Injection::default());
    }
}
