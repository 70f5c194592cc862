//! Which way data flows through a schema.

/// Which way data flows: a `readOnly` property is never sent, a `writeOnly` one never returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Request,
    Response,
}
