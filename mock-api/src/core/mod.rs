//! What the toolkit and the engines share; it imports neither.

pub mod budget;
pub mod clock;
pub mod engine;
pub mod error;
pub mod files;
pub mod ids;
pub mod limits;
pub mod namespace;
pub mod peer;
pub mod sync;
