//! `--config FILE`: the settings of a target in YAML or JSON (docs/contract.md, "The config
//! file"); flags override it.

use std::path::Path;

use super::SetupError;

/// Settings from `--config`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `METHOD /path` (or a full URL) sent before each batch of sequences.
    pub reset: Option<String>,
    /// One login, or two: the second identity last.
    #[serde(default, deserialize_with = "one_or_two")]
    pub auth: Vec<AuthConfig>,
}

/// A login of the config file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub login: String,
    #[serde(default)]
    pub body: serde_json::Value,
    pub token: Option<String>,
    pub header: Option<String>,
}

/// `auth:` is one login, or a list of one or two (the second identity last).
fn one_or_two<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<AuthConfig>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(AuthConfig),
        Many(Vec<AuthConfig>),
    }
    let logins = match serde::Deserialize::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    };
    match logins.len() {
        0..=2 => Ok(logins),
        n => Err(serde::de::Error::custom(format!(
            "auth lists at most two identities, not {n}"
        ))),
    }
}

/// The config file, or the empty config without one.
pub fn read(path: Option<&Path>) -> Result<Config, SetupError> {
    let Some(path) = path else {
        return Ok(Config::default());
    };
    let text = std::fs::read_to_string(path).map_err(|e| SetupError::ConfigRead {
        path: path.display().to_string(),
        why: e.to_string(),
    })?;
    yaml_serde::from_str(&text).map_err(|e| SetupError::Config {
        path: path.display().to_string(),
        why: e.to_string(),
    })
}
