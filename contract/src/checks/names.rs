//! The registry of checks: every check's name, as Schemathesis names it so its users feel at
//! home (`sensitive_data_exposure` is ours). A new check is a file in this folder and a name
//! here.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Check {
    NotAServerError,
    StatusCodeConformance,
    ContentTypeConformance,
    ResponseHeadersConformance,
    ResponseSchemaConformance,
    NegativeDataRejection,
    PositiveDataAcceptance,
    MissingRequiredHeader,
    UnsupportedMethod,
    UseAfterFree,
    EnsureResourceAvailability,
    IgnoredAuth,
    MaxResponseTime,
    SensitiveDataExposure,
    ObjectLevelAuthorization,
    AllowHeaderConformance,
}

impl Check {
    pub const ALL: [Check; 16] = [
        Check::NotAServerError,
        Check::StatusCodeConformance,
        Check::ContentTypeConformance,
        Check::ResponseHeadersConformance,
        Check::ResponseSchemaConformance,
        Check::NegativeDataRejection,
        Check::PositiveDataAcceptance,
        Check::MissingRequiredHeader,
        Check::UnsupportedMethod,
        Check::UseAfterFree,
        Check::EnsureResourceAvailability,
        Check::IgnoredAuth,
        Check::MaxResponseTime,
        Check::SensitiveDataExposure,
        Check::ObjectLevelAuthorization,
        Check::AllowHeaderConformance,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Check::NotAServerError => "not_a_server_error",
            Check::StatusCodeConformance => "status_code_conformance",
            Check::ContentTypeConformance => "content_type_conformance",
            Check::ResponseHeadersConformance => "response_headers_conformance",
            Check::ResponseSchemaConformance => "response_schema_conformance",
            Check::NegativeDataRejection => "negative_data_rejection",
            Check::PositiveDataAcceptance => "positive_data_acceptance",
            Check::MissingRequiredHeader => "missing_required_header",
            Check::UnsupportedMethod => "unsupported_method",
            Check::UseAfterFree => "use_after_free",
            Check::EnsureResourceAvailability => "ensure_resource_availability",
            Check::IgnoredAuth => "ignored_auth",
            Check::MaxResponseTime => "max_response_time",
            Check::SensitiveDataExposure => "sensitive_data_exposure",
            Check::ObjectLevelAuthorization => "object_level_authorization",
            Check::AllowHeaderConformance => "allow_header_conformance",
        }
    }

    pub fn parse(name: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.name() == name.trim())
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
