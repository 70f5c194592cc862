//! Conformance checking of HTTP targets against OpenAPI 3.0 documents.
