//! How operations feed each other, as the shared model infers it ([`openapi::links`]), and
//! the runtime expressions that carry values along links, read from a response.

use serde_json::Value;

use crate::http::Response;
use openapi::generate::Case;
pub(crate) use openapi::links::Graph;

/// A link's runtime expression evaluated on an exchange.
pub fn evaluate(
    expression: &str,
    case: &Case,
    response: &Response,
    body: Option<&Value>,
) -> Option<Value> {
    let header = |name: &str| response.header(name).map(str::to_owned);
    openapi::links::evaluate(expression, case, &header, body)
}
