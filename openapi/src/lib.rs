//! One model of an OpenAPI document for every tool of the kit: the checker, the mock and the
//! load generator. Documents of OpenAPI 2.0, 3.0 and 3.1 load into the same model, so version
//! differences end at loading.
//!
//! Modules, in the order data flows through them:
//! - [`load`]: read a file, URL or text (JSON or YAML), follow references to other documents,
//!   convert 2.0, and walk the document into the model;
//! - [`schema`]: every schema in an arena of JSON Schema 2020-12 slots that refer to each other
//!   by id (recursion is data, never inlined), with validators compiled once;
//! - [`model`]: operations, parameters, bodies, responses, links, security, servers;
//!   [`template`]: path templates and the concrete paths they describe;
//! - [`resources`]: collections, items, ids and wrappers, and what each operation does to
//!   them; [`links`]: how operations feed each other;
//! - [`generate`]: valid and invalid values and requests, each confirmed by the validator;
//! - [`login`]: a declarative login and how its answer gives a token; [`ids`]: the pool of
//!   ids the links and feeds carry; [`tls`]: how every tool speaks HTTPS.

pub mod error;
pub mod generate;
pub mod ids;
pub mod links;
pub mod load;
pub mod login;
pub mod model;
pub mod resources;
pub mod schema;
pub mod template;
pub mod tls;

pub use error::LoadError;
pub use load::{from_text_at, load, load_with_root, parse};
pub use model::{
    Api, Body, Encoding, LinkSpec, Location, Operation, Param, ResponseSpec, StatusKey,
};
pub use schema::{Direction, Schemas};
