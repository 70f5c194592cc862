//! The HTTP client every part of the checker uses, and bounded reads of what comes back: a
//! target can answer endlessly, and no answer is read past its limit. Compression is never
//! asked for, whatever features the workspace turns on in reqwest, so the bytes judged are
//! the bytes sent and every build behaves the same.

use crate::tls::{TlsError, TlsOptions, client_config};

/// Bytes of a response body read by default (`--max-response-size`).
pub const DEFAULT_MAX_RESPONSE: usize = 10 << 20;

/// A client builder with the checker's TLS and no compression.
pub fn client_builder(tls: &TlsOptions) -> Result<reqwest::ClientBuilder, TlsError> {
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(client_config(tls)?)
        .no_gzip()
        .no_brotli()
        .no_zstd()
        .no_deflate())
}

/// Why a body could not be read whole.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the body is larger than the limit of {0} bytes")]
    TooLarge(usize),
    #[error("the body was cut off: {0}")]
    Cut(String),
}

/// The body, read up to `limit` bytes.
pub async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, ReadError> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(ReadError::TooLarge(limit));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| ReadError::Cut(e.to_string()))?
    {
        if body.len() + chunk.len() > limit {
            return Err(ReadError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
