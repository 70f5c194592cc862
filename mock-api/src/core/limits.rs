//! Bounds every part of the server shares.

/// The largest request body accepted; larger ones get 413.
pub const BODY_LIMIT: usize = 1024 * 1024;
/// Namespaces alive at once; each holds a copy of the seed data. A reset of all frees them.
pub const MAX_NAMESPACES: usize = 1_000;
/// Bytes the named namespaces' data and snapshots may hold together, past what they share
/// with the seed.
pub const NAMESPACE_BYTES: usize = 256 << 20;
/// The longest a request body may take to arrive in full; past it, 408.
pub const BODY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// The longest request target; longer ones get 414.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The largest request head (target and headers); larger ones get 431.
pub const MAX_HEAD_BYTES: usize = 32 * 1024;
/// The most headers a request may have; more get 431.
pub const MAX_HEADERS: usize = 100;
