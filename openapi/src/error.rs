//! Why a document cannot be used: each error names the document and, where it can, the JSON
//! pointer of what is wrong.

/// An error of loading: reading, parsing, converting or resolving a document.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {0}: {1}")]
    Read(String, String),
    #[error("{0}: the document is neither JSON nor YAML: {1}")]
    Syntax(String, String),
    #[error("{0}: OpenAPI {1} is not supported (2.0, 3.0.x and 3.1.x are)")]
    Version(String, String),
    #[error("{0}: no `openapi` or `swagger` field: this is not an OpenAPI document")]
    NotOpenApi(String),
    #[error("{doc}: at {pointer}: {message}")]
    Structure {
        doc: String,
        pointer: String,
        message: String,
    },
    #[error("{doc}: at {pointer}: unresolvable $ref {reference:?}: {why}")]
    Reference {
        doc: String,
        pointer: String,
        reference: String,
        why: String,
    },
    #[error("schema at {pointer} does not compile: {message}")]
    Schema { pointer: String, message: String },
}

/// An error with its causes, which is where the useful words are (`error sending request`
/// says little; `invalid peer certificate: UnknownIssuer` says why).
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A JSON pointer token: `~` and `/` escaped.
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A JSON pointer from its tokens.
pub fn pointer(tokens: &[&str]) -> String {
    tokens.iter().fold(String::new(), |mut out, token| {
        out.push('/');
        out.push_str(&escape_token(token));
        out
    })
}
