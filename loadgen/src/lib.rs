//! Load on goose: the scenarios against the user API ([`scenarios`]), an OpenAPI document's
//! operations ([`document`]) or a scenario file's steps ([`script`]), all sending through
//! [`send`] (and [`login`]) with the static [`credentials`]; the run itself with the bundled mock API as the default target
//! ([`run`]), threshold rules in goose's syntax ([`rules`]), and the exact merge of many
//! generators' JSON reports ([`merge`]).

pub mod credentials;
pub mod document;
pub mod login;
pub mod merge;
pub mod rate;
pub mod rules;
pub mod run;
pub mod scenarios;
pub mod script;
pub mod send;
