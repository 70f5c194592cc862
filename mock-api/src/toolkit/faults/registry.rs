//! Every fault rule and the chaos setting, and what they ask of a request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::http::StatusCode;
use rand::Rng;
use uuid::Uuid;

use super::kinds::{Delay, Injection};
use super::rules::{Chaos, MAX_RULE_BYTES, MAX_RULES, Rule, RuleDef};
use crate::core::ids::Ids;
use crate::core::sync::{read, write};
use crate::toolkit::registry::{Entry, Kind, Registry, RegistryError};
use crate::toolkit::request::RequestView;

impl Entry for Arc<Rule> {
    fn id(&self) -> Uuid {
        self.id
    }
    fn namespace(&self) -> Option<&str> {
        self.def.namespace.as_deref()
    }
    fn bytes(&self) -> usize {
        self.size
    }
}

/// Fault rules as the registry names them, and their caps.
static RULES: Kind = Kind {
    one: "fault rule",
    many: "fault rules",
    exists_code: "fault_exists",
    limit_code: "fault_limit",
    max_count: MAX_RULES,
    max_bytes: MAX_RULES * MAX_RULE_BYTES,
};

/// The route rules and the chaos setting.
#[derive(Debug)]
pub struct Faults {
    pub(super) rules: Registry<Arc<Rule>>,
    pub(super) chaos: RwLock<Option<Chaos>>,
    /// Whether any rule or chaos is set: the common case, none, costs one load.
    pub(super) active: AtomicBool,
    /// Draws delays, rates and rule ids; with `--seed`, the same on every run.
    pub(super) rng: Ids,
}

impl Faults {
    pub fn new(seed: Option<u64>) -> Faults {
        Faults {
            rules: Registry::new(&RULES),
            chaos: RwLock::new(None),
            active: AtomicBool::new(false),
            rng: Ids::for_purpose(seed, "\0faults"),
        }
    }

    pub fn add_rule(&self, def: RuleDef) -> Result<Arc<Rule>, RegistryError> {
        let rule = Rule::compile(def, || self.rng.uuid()).map_err(RegistryError::Invalid)?;
        if rule.size > MAX_RULE_BYTES {
            return Err(RegistryError::Invalid(format!(
                "a fault rule may be at most {MAX_RULE_BYTES} bytes as JSON"
            )));
        }
        let rule = Arc::new(rule);
        // Tried in the order they came.
        self.rules.insert(rule.clone(), |list| list.len())?;
        self.refresh();
        Ok(rule)
    }

    pub fn rules(&self) -> Vec<Arc<Rule>> {
        self.rules.list(None)
    }

    pub fn rule(&self, id: Uuid) -> Option<Arc<Rule>> {
        self.rules.get(id)
    }

    pub fn remove_rule(&self, id: Uuid) -> Option<Arc<Rule>> {
        let rule = self.rules.remove(id);
        self.refresh();
        rule
    }

    pub fn chaos(&self) -> Option<Chaos> {
        read(&self.chaos).clone()
    }

    pub fn set_chaos(&self, chaos: Option<Chaos>) -> Result<(), String> {
        if let Some(chaos) = &chaos {
            chaos.check()?;
        }
        *write(&self.chaos) = chaos;
        self.refresh();
        Ok(())
    }

    /// Removes every rule, or those of one namespace.
    pub fn remove_rules(&self, namespace: Option<&str>) {
        self.rules.clear(namespace);
        self.refresh();
    }

    /// No rules, no chaos, and the generator back at the start of its sequence.
    pub fn reset(&self) {
        *write(&self.chaos) = None;
        self.rng.reset();
        self.remove_rules(None);
    }

    pub(super) fn refresh(&self) {
        let active = !self.rules.is_empty() || read(&self.chaos).is_some();
        self.active.store(active, Ordering::Relaxed);
    }

    /// Adds what the rules and chaos ask for this request to `injection`.
    pub fn apply(&self, request: &RequestView<'_>, injection: &mut Injection) {
        if !self.active.load(Ordering::Relaxed) {
            return;
        }
        for rule in self.rules.read().iter() {
            if rule.applies(request) && self.roll(rule.def.rate) {
                injection.overlay(rule.injection.clone());
            }
        }
        if let Some(chaos) = read(&self.chaos).as_ref() {
            if chaos.latency_ms.is_some() && self.roll(chaos.latency_rate) {
                injection.delay = chaos.latency_ms;
            }
            if self.roll(chaos.error_rate) {
                injection.status = StatusCode::from_u16(chaos.error_status).ok();
            }
        }
    }

    pub(super) fn roll(&self, rate: f64) -> bool {
        rate >= 1.0 || (rate > 0.0 && self.rng.with(|rng| rng.random_bool(rate)))
    }

    pub fn delay(&self, delay: Delay) -> Duration {
        delay.pick(&self.rng)
    }
}
