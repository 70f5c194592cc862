//! The responses that carry faults out: a status, an aborted connection, a body that
//! dribbles or fails midway.

use std::io;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::kinds::{DEFAULT_DRIBBLE_MS, FaultKind};
use crate::core::peer::Peer;

/// The JSON error an injected status answers with: the one error body of every answer.
pub fn error_response(status: StatusCode) -> Response {
    let message = format!("injected fault: status {}", status.as_u16());
    crate::core::error::error_response(status, "injected_fault", &message, None)
}

/// A reset or an empty reply: the response is never sent. The connection's socket is told
/// to reset (linger 0) or is shut down, then a body that fails makes hyper drop it.
pub fn abort(peer: Option<&Peer>, fault: FaultKind) -> Response {
    if let Some(peer) = peer {
        match fault {
            FaultKind::Reset => peer.reset_on_close(),
            _ => peer.shut_down(),
        }
    }
    Response::new(failing_body(Vec::new()))
}

/// Carries out a fault that changes how the body comes out.
pub async fn mangle(response: Response, fault: FaultKind, dribble_ms: Option<u64>) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, failing_body(Vec::new()));
    };
    let half = bytes.len() / 2;
    let body = match fault {
        FaultKind::Malformed => {
            // A raw NUL is invalid anywhere in JSON, so no parser can accept this.
            let mut broken = bytes[..half].to_vec();
            broken.extend_from_slice(b"\0<<malformed>>");
            parts.headers.remove(header::CONTENT_LENGTH);
            Body::from(broken)
        }
        FaultKind::Truncated => {
            // Promise the whole body, send half, then fail: the client sees a short read.
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            let half = bytes.slice(..half);
            let stream = futures_util::stream::unfold(Some(half), |half| async move {
                match half {
                    Some(half) => Some((Ok(half), None)),
                    None => {
                        // Pending once, so hyper sends what it has before the failure.
                        tokio::task::yield_now().await;
                        Some((Err(io::Error::other("injected fault: truncated")), None))
                    }
                }
            });
            Body::from_stream(stream)
        }
        FaultKind::Slow => {
            let total = Duration::from_millis(dribble_ms.unwrap_or(DEFAULT_DRIBBLE_MS));
            dribble(bytes, total)
        }
        FaultKind::Reset | FaultKind::Empty => Body::from(bytes),
    };
    Response::from_parts(parts, body)
}

/// Ten chunks (or one per byte, for shorter bodies), spread evenly over `total`.
pub(super) fn dribble(bytes: Bytes, total: Duration) -> Body {
    let chunks = bytes.len().clamp(1, 10);
    let size = bytes.len().div_ceil(chunks).max(1);
    let pause = total / chunks as u32;
    let pieces: Vec<Bytes> = (0..bytes.len())
        .step_by(size)
        .map(|at| bytes.slice(at..(at + size).min(bytes.len())))
        .collect();
    let stream = futures_util::stream::unfold(pieces.into_iter(), move |mut pieces| async move {
        let piece = pieces.next()?;
        tokio::time::sleep(pause).await;
        Some((Ok::<Bytes, io::Error>(piece), pieces))
    });
    Body::from_stream(stream)
}

/// A body that yields `chunks`, then fails, so hyper closes the connection.
pub(super) fn failing_body(chunks: Vec<Bytes>) -> Body {
    let chunks = chunks
        .into_iter()
        .map(Ok)
        .chain(std::iter::once(Err(io::Error::other("injected fault"))));
    Body::from_stream(futures_util::stream::iter(chunks))
}
