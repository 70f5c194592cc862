//! The APIs the toolkit can stand in front of. Each keeps its data per namespace through
//! [`crate::core::engine`]; neither knows the toolkit or the other.

pub mod spec;
pub mod users;
