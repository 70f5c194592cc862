//! The workspace's integration tests: one binary, one module per area. Every test talks to a
//! real server on 127.0.0.1:0, and every reply is checked against `specs/mock-api.yaml` (or `specs/mock-admin.yaml`).

mod auth;
mod binary;
mod concurrency;
mod contract;
mod docs;
mod edges;
mod errors;
mod faults;
mod hostile;
mod isolation;
mod loadgen;
mod logins;
mod methods;
mod ownership;
mod realworld;
mod snapshots;
mod spec;
mod spec_mock;
mod spec_real;
mod stateful;
mod stubs;
mod tls;
mod users;
