//! The composition root: picks the engine, puts the toolkit in front of it and the admin API
//! beside it, as one router.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use openapi::Api;
use time::OffsetDateTime;

use crate::core::clock::Clock;
use crate::core::limits::BODY_LIMIT;
use crate::engines::spec::{Options, SpecEngine, SpecError};
use crate::engines::users::Users;
use crate::engines::users::data::{SeedError, check_extra_users};
use crate::engines::users::store::{Seed, SeedUser};
use crate::toolkit::documented::Documented;
use crate::toolkit::stubs::StubDef;
use crate::toolkit::{Intercept, Mock, Settings, admin};

/// Everything a mock server starts with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Seed users that replace the built-in two (`--data`).
    pub users: Option<Vec<SeedUser>>,
    /// Synthetic users added to the seed (`--extra-users`).
    pub extra_users: usize,
    /// Repeatable ids and tokens (`--seed`).
    pub seed: Option<u64>,
    /// A frozen clock from the start (`--clock`).
    pub clock: Option<OffsetDateTime>,
    /// Requests kept in the journal; 0 turns it off (`--journal-size`).
    pub journal_size: usize,
    /// Stubs loaded at start (`--stubs`).
    pub stubs: Vec<StubDef>,
    /// When set, the admin API wants `Authorization: Bearer TOKEN` (`--admin-token`).
    pub admin_token: Option<String>,
    /// Every stub is checked against the served document (`--strict-stubs`).
    pub strict_stubs: bool,
    /// A document to serve instead of the users demo (`--spec`).
    pub spec: Option<SpecConfig>,
}

/// A document the spec-driven engine serves: loaded already, and how to serve it.
#[derive(Debug, Clone)]
pub struct SpecConfig {
    pub api: Arc<Api>,
    /// The document's text as it was written, served back at `/openapi.json` and
    /// `/openapi.yaml`.
    pub text: Arc<str>,
    pub options: Options,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            users: None,
            extra_users: 0,
            seed: None,
            clock: None,
            journal_size: crate::toolkit::journal::DEFAULT_CAPACITY,
            stubs: Vec::new(),
            admin_token: None,
            strict_stubs: false,
            spec: None,
        }
    }
}

/// A mock ready to serve: the toolkit's state, and the service that answers everything.
pub struct App {
    pub mock: Arc<Mock>,
    /// The toolkit's layer around the engine's routes and the admin API.
    pub service: Intercept,
    /// The path the API is served under (`/api/v3`), or `""`.
    pub base: String,
    /// What the engine could not serve, one line each, for the start-up output.
    pub warnings: Vec<String>,
}

/// Why a mock cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Toolkit(#[from] crate::toolkit::StartError),
    #[error(transparent)]
    Seed(#[from] SeedError),
    #[error(transparent)]
    Spec(#[from] SpecError),
}

/// The mock `config` describes; an error names what is wrong (a bad stub, say).
pub fn build(config: &Config) -> Result<App, StartError> {
    check_extra_users(config.users.as_deref(), config.extra_users)?;
    let clock = Arc::new(Clock::new(config.clock));
    let settings = Settings {
        seed: config.seed,
        journal_size: config.journal_size,
        stubs: config.stubs.clone(),
        admin_token: config.admin_token.clone(),
        strict_stubs: config.strict_stubs,
    };
    if let Some(spec) = &config.spec {
        let mut options = spec.options.clone();
        options.random_seed = config.seed;
        let engine = SpecEngine::new(spec.api.clone(), spec.text.clone(), &options, clock.clone())?;
        let documented = Documented::loaded(spec.api.clone(), &engine.base);
        let mock = Arc::new(Mock::new(&settings, engine.control(), clock, documented)?);
        return Ok(App {
            service: layered(crate::engines::spec::router(&engine), mock.clone()),
            mock,
            base: engine.base.clone(),
            warnings: engine.warnings.clone(),
        });
    }
    let seed = Seed {
        users: config.users.clone(),
        extra_users: config.extra_users,
        random_seed: config.seed,
    };
    let users = Users::new(&seed, clock.clone());
    let documented = Documented::new(crate::engines::users::document::YAML);
    let mock = Arc::new(Mock::new(&settings, users.control(), clock, documented)?);
    Ok(App {
        service: layered(crate::engines::users::router(&users), mock.clone()),
        mock,
        base: String::new(),
        warnings: Vec::new(),
    })
}

/// An engine's routes and the admin API, behind the toolkit's layer.
fn layered(engine: Router, mock: Arc<Mock>) -> Intercept {
    // The layer reads every API body within `BODY_LIMIT` before the engine sees it; only the
    // admin API, which the layer lets through, needs the limit on its extractors.
    let admin = admin::router(mock.clone())
        .with_state(mock.clone())
        .layer(DefaultBodyLimit::max(BODY_LIMIT));
    Intercept::new(mock, engine.merge(admin))
}
