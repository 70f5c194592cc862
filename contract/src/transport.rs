//! The HTTP client every part of the checker uses, and bounded reads of what comes back: a
//! target can answer endlessly, and no answer is read past its limit. reqwest never asks for
//! compression on its own, whatever features the workspace turns on, so the headers in the
//! report are the headers sent; a body is inflated only when the request itself accepted its
//! coding (`-H 'Accept-Encoding: gzip'`), and then within the same limit.

use std::io::Read;

use crate::tls::{TlsError, TlsOptions};

/// Bytes of a response body read by default (`--max-response-size`).
pub const DEFAULT_MAX_RESPONSE: usize = 10 << 20;

/// The content codings the checker can inflate.
pub const CODINGS: [&str; 4] = ["gzip", "x-gzip", "deflate", "identity"];

/// A client builder with the checker's TLS and no compression.
pub fn client_builder(tls: &TlsOptions) -> Result<reqwest::ClientBuilder, TlsError> {
    Ok(crate::tls::client_builder(tls)?
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
    #[error("the {coding} body could not be inflated: {error}")]
    Inflate { coding: String, error: String },
}

/// The body, read up to `limit` bytes, and inflated (to at most `limit` bytes) when its
/// `Content-Encoding` is one of `accepted`, the codings the request's `Accept-Encoding` named.
pub async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
    accepted: &[String],
) -> Result<Vec<u8>, ReadError> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(ReadError::TooLarge(limit));
    }
    let coding = response
        .headers()
        .get(reqwest::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|coding| accepted.iter().any(|a| a == coding));
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
    match coding.as_deref() {
        Some(coding @ ("gzip" | "x-gzip")) => {
            inflate(flate2::read::GzDecoder::new(&body[..]), limit, coding)
        }
        Some(coding @ "deflate") => {
            inflate(flate2::read::ZlibDecoder::new(&body[..]), limit, coding)
        }
        _ => Ok(body),
    }
}

/// Inflates at most `limit` bytes: a compression bomb stops at the bound.
fn inflate(decoder: impl Read, limit: usize, coding: &str) -> Result<Vec<u8>, ReadError> {
    let mut out = Vec::new();
    decoder
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|error| ReadError::Inflate {
            coding: coding.to_owned(),
            error: error.to_string(),
        })?;
    match out.len() > limit {
        true => Err(ReadError::TooLarge(limit)),
        false => Ok(out),
    }
}

/// The codings an `Accept-Encoding` value accepts (those with a weight above zero), lower-case.
pub fn accepted_codings(value: &str) -> Vec<String> {
    value
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let coding = parts.next()?.trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (!coding.is_empty() && !refused).then_some(coding)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn accepted_codings_drop_zero_weights() {
        assert_eq!(
            accepted_codings("gzip;q=1.0, deflate;q=0, Identity"),
            ["gzip", "identity"]
        );
    }

    #[test]
    fn inflation_stops_at_the_limit() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![b'a'; 1 << 20]).unwrap();
        let bomb = encoder.finish().unwrap();
        assert!(bomb.len() < 4096);
        let small = inflate(flate2::read::GzDecoder::new(&bomb[..]), 1 << 20, "gzip").unwrap();
        assert_eq!(small.len(), 1 << 20);
        assert!(matches!(
            inflate(flate2::read::GzDecoder::new(&bomb[..]), 1000, "gzip"),
            Err(ReadError::TooLarge(1000))
        ));
        assert!(matches!(
            inflate(flate2::read::GzDecoder::new(&b"not gzip"[..]), 1000, "gzip"),
            Err(ReadError::Inflate { .. })
        ));
    }
}
