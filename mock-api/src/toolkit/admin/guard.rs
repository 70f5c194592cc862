//! Who may use the admin API: loopback clients, or with `--admin-token` whoever has it; a
//! browser page from elsewhere never.

use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::core::error::AppError;
use crate::core::peer::Peer;
use crate::toolkit::Mock;

/// With `--admin-token`, the token is wanted from everyone; without it, only loopback
/// clients get in, so a server bound to a public address does not hand out its controls.
pub(super) async fn guard(State(mock): State<Arc<Mock>>, request: Request, next: Next) -> Response {
    match &mock.admin_token {
        Some(token) => {
            let given = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, given)| given.trim());
            if !given.is_some_and(|given| same(given.as_bytes(), token.as_bytes())) {
                return AppError::AdminUnauthorized.into_response();
            }
        }
        None => {
            let peer = request.extensions().get::<ConnectInfo<Peer>>();
            if peer.is_some_and(|peer| !peer.0.is_loopback()) {
                return AppError::AdminForbidden.into_response();
            }
            // A loopback client may still be a web page the tester has open: refuse what a
            // browser sends for another site (CSRF) or for a name that resolves here (DNS
            // rebinding). Tools that are not browsers send none of these.
            if let Some(why) = browser_from_elsewhere(request.headers()) {
                return AppError::AdminCrossSite(why).into_response();
            }
        }
    }
    next.run(request).await
}

/// Why a request looks like a browser's on behalf of another site, if it does.
pub(super) fn browser_from_elsewhere(headers: &HeaderMap) -> Option<&'static str> {
    let text = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"));
    if let Some(site) = text("sec-fetch-site")
        && matches!(site, "cross-site" | "same-site")
    {
        return Some("a request a browser sent for another site (Sec-Fetch-Site)");
    }
    if let Some(origin) = text("origin") {
        let host = origin
            .split_once("://")
            .map(|(_, rest)| rest)
            .filter(|_| origin.starts_with("http://") || origin.starts_with("https://"));
        if !host.is_some_and(is_local_host) {
            return Some("a request from a web page of another origin (Origin)");
        }
    }
    if let Some(host) = text("host")
        && !is_local_host(host)
    {
        return Some("a request for a host name other than localhost or an IP address (Host)");
    }
    None
}

/// `localhost`, a name under it, or an IP address, with or without a port: names a DNS
/// rebinding cannot borrow.
pub(super) fn is_local_host(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        // `[::1]:8765`
        Some(rest) => {
            return rest
                .split_once(']')
                .is_some_and(|(ip, _)| ip.parse::<std::net::Ipv6Addr>().is_ok());
        }
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, port)| match port.parse::<u16>() {
                Ok(_) => host,
                Err(_) => authority,
            }),
    };
    let host = host.to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost") || host.parse::<std::net::IpAddr>().is_ok()
}

/// Compares in time that depends only on the length, so the token cannot be guessed byte
/// by byte from response times.
pub(super) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
