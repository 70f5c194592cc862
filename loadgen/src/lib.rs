//! Load on goose: the scenarios against the user API ([`scenarios`]), the run itself with the
//! bundled mock API as the default target ([`run`]), threshold rules in goose's syntax
//! ([`rules`]), and the exact merge of many generators' JSON reports ([`merge`]).

pub mod merge;
pub mod rules;
pub mod run;
pub mod scenarios;
