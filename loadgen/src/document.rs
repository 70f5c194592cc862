//! Load from an OpenAPI document (`--spec`): one transaction per operation, named by its path
//! template, each request a valid case drawn by the shared model (drawn once at start, so a
//! request costs no generation). Ids for item operations come from what the user created or
//! listed, along the document's links or inferred ones, as the checker finds them.
//!
//! By default reads weigh 4 and writes 1; a create is followed, in the same transaction, by
//! the updates and the delete of what it made, so the load leaves nothing behind. A write that
//! cannot clean up after itself (a reset, a logout, a create with no delete) and a protected
//! operation whose security neither the static credentials nor a login satisfy are left out
//! unless a weights file names them.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use goose::prelude::*;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use reqwest::Method;
use serde_json::Value;

use crate::credentials::Credentials;
use crate::login::Login;
use crate::rate::Pacer;
use crate::send::{Request, send};
use openapi::generate::wire::push_param;
use openapi::generate::{Case, Plan, render};
use openapi::ids::{IdPool, is_below};
use openapi::links::{Graph, evaluate};
use openapi::model::{Api, LinkSpec, Location, Operation, StatusKey};

/// Valid cases drawn per operation at start: more for writes, so that users creating at once
/// rarely send the same unique value (an email, a name) and meet a conflict.
const READ_CASES: usize = 32;
const WRITE_CASES: usize = 1024;

/// Default weights.
const READ_WEIGHT: usize = 4;
const WRITE_WEIGHT: usize = 1;

/// Why a document cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("{file}: {what}")]
    Weights { file: String, what: String },
    #[error("the document has no operation the load can send\n{0}")]
    Nothing(String),
    #[error("{0}")]
    Goose(#[from] GooseError),
}

/// What a load does with one operation of the document: its weight, or why it has none.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlanLine {
    /// `GET /pets/{petId}`.
    pub operation: String,
    /// The weight of its own transaction; `None` when it is left out or sent inside another.
    pub weight: Option<usize>,
    /// Where its ids come from, what it is sent after, or why it is left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The plan as the terminal shows it: one line per operation.
pub fn plan_table(plan: &[PlanLine]) -> String {
    let width = plan.iter().map(|l| l.operation.len()).max().unwrap_or(0);
    let mut out = String::from("loadgen plan (weight, operation):\n");
    for line in plan {
        let weight = line.weight.map_or("-".to_owned(), |w| w.to_string());
        let note = line
            .note
            .as_deref()
            .map(|n| format!("  {n}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {weight:>3}  {:<width$}{note}\n",
            line.operation
        ));
    }
    out
}

/// What every user of a document-driven load shares.
struct Shared {
    api: Arc<Api>,
    graph: Graph,
    /// The links of each operation (the document's or inferred ones), and from a create to
    /// the operations below the items it links to (`POST /pet` to
    /// `POST /pet/{petId}/uploadImage`), bound the same way.
    links: Vec<Vec<LinkSpec>>,
    /// Valid cases of each operation.
    cases: Vec<Vec<Case>>,
    /// The 2xx statuses each operation documents.
    expect: Vec<Vec<u16>>,
    /// Whether an operation's answers are read as JSON: creates (for the ids their links
    /// carry) and lists (for ids, at the start).
    read: Vec<bool>,
    login: Option<Login>,
    credentials: Credentials,
    /// The schedule of starts of an open-model load (`--rate`).
    pacer: Option<Arc<Pacer>>,
    /// The ids the lists held at the start, read by the first user for all (the lock keeps
    /// the others waiting meanwhile).
    start_ids: std::sync::OnceLock<IdPool>,
    start_lock: tokio::sync::Mutex<()>,
    /// The next case of each write, taken in turn: two users writing at once never send the
    /// same unique value (an email) and meet a conflict.
    next: Vec<std::sync::atomic::AtomicUsize>,
    /// Per operation, the create each user calls at its start for its ids (reads no list
    /// gives ids to), from the plan.
    sources: std::sync::OnceLock<Vec<Option<usize>>>,
    /// The same, for the operations the plan loads: what each user makes at its start.
    wants: std::sync::OnceLock<Vec<Option<usize>>>,
    /// Per operation, the DELETE it is sent with ([`paired_delete`]), found once: the
    /// transactions read it on every run.
    pairs: std::sync::OnceLock<Vec<Option<usize>>>,
    /// The reads the start sends for ids ([`feeds_ids`]), found once: the plan asks of
    /// them for every parameter of every operation.
    feeders: std::sync::OnceLock<Vec<usize>>,
    starts: Arc<Starts>,
}

/// A request sent: its case, the status, and the JSON of a 2xx answer.
type Answer = (Case, u16, Option<Value>);

/// How the users' starts went: when every user failed to make what it needs, the run
/// fails (exit 1), whatever the thresholds say.
#[derive(Debug, Default)]
pub struct Starts {
    users: std::sync::atomic::AtomicUsize,
    failed: std::sync::atomic::AtomicUsize,
    first: std::sync::OnceLock<String>,
}

impl Starts {
    fn started(&self, failed: bool) {
        use std::sync::atomic::Ordering::Relaxed;
        self.users.fetch_add(1, Relaxed);
        if failed {
            self.failed.fetch_add(1, Relaxed);
        }
    }

    fn failed(&self, line: String) {
        let _ = self.first.set(line);
    }

    /// When every user that started failed to make what it needed: the first failure.
    pub fn all_failed(&self) -> Option<String> {
        use std::sync::atomic::Ordering::Relaxed;
        let users = self.users.load(Relaxed);
        (users > 0 && self.failed.load(Relaxed) == users).then(|| {
            format!(
                "every one of the {users} users failed at its start ({})",
                self.first.get().map_or("", String::as_str)
            )
        })
    }
}

/// What one user keeps: its credential, and what it made at its start.
#[derive(Default, Clone)]
struct Session {
    credential: Option<(String, String)>,
    /// Items made at the start for reads no list gives ids to: the create, its case and
    /// its answer (what the create's links are evaluated on).
    made: Vec<(usize, Case, Value)>,
    /// Ids the lists under those items held (the partitions of a topic the user made).
    ids: IdPool,
}

/// Weights from a file: `METHOD /path` or `tag:NAME` to a weight (0 leaves it out).
pub fn read_weights(file: &Path, api: &Api) -> Result<BTreeMap<String, usize>, DocumentError> {
    let name = file.display().to_string();
    let error = |what: String| DocumentError::Weights {
        file: name.clone(),
        what,
    };
    let text = std::fs::read_to_string(file).map_err(|e| error(e.to_string()))?;
    let weights: BTreeMap<String, usize> =
        yaml_serde::from_str(&text).map_err(|e| error(e.to_string()))?;
    for key in weights.keys() {
        let known = match key.strip_prefix("tag:") {
            Some(tag) => api
                .operations
                .iter()
                .any(|o| o.tags.iter().any(|t| t == tag)),
            None => api.operations.iter().any(|o| o.label() == *key),
        };
        if !known {
            return Err(error(format!(
                "{key:?} is neither an operation of the document (`GET /pets/{{petId}}`) nor one of its tags (`tag:pets`)"
            )));
        }
    }
    Ok(weights)
}

/// A document's load: its scenario (one transaction per operation it sends), the plan, and
/// how the users' starts go.
pub struct DocumentLoad {
    pub scenarios: Vec<Scenario>,
    pub plan: Vec<PlanLine>,
    pub starts: Arc<Starts>,
}

/// The document's load.
pub fn scenarios(
    api: Arc<Api>,
    weights: &BTreeMap<String, usize>,
    login: Option<Login>,
    credentials: Credentials,
    pacer: Option<Arc<Pacer>>,
) -> Result<DocumentLoad, DocumentError> {
    let graph = Graph::new(&api);
    let mut seen = std::collections::HashSet::new();
    let cases = api
        .operations
        .iter()
        .enumerate()
        .map(|(index, operation)| {
            // The login operation is sent with the login's own body: any other is refused.
            if let Some(login) = login.as_ref().filter(|l| l.is(operation)) {
                let base = Plan::new(&api.schemas, operation).base();
                return vec![Case {
                    body: openapi::generate::Payload::Json(login.body.clone()),
                    ..base
                }];
            }
            let cases = draw(&api, index, operation);
            let unique = match operation.method == Method::GET {
                true => Vec::new(),
                false => distinct(cases.clone(), &mut seen),
            };
            // A write whose every case repeats another's keeps its cases all the same.
            match unique.is_empty() {
                true => cases,
                false => unique,
            }
        })
        .collect();
    let next = api.operations.iter().map(|_| Default::default()).collect();
    let shared = Arc::new(Shared {
        api: api.clone(),
        cases,
        login,
        credentials,
        pacer,
        start_ids: Default::default(),
        start_lock: Default::default(),
        expect: api.operations.iter().map(documented_successes).collect(),
        read: api
            .operations
            .iter()
            .enumerate()
            .map(|(index, operation)| {
                (operation.method == Method::POST && !graph.links[index].is_empty())
                    || !graph.feeds[index].is_empty()
            })
            .collect(),
        links: with_sub_resources(&api, &graph),
        graph,
        next,
        sources: Default::default(),
        wants: Default::default(),
        pairs: Default::default(),
        feeders: Default::default(),
        starts: Default::default(),
    });
    let mut scenario = scenario!("document");
    let start = shared.clone();
    scenario = scenario.register_transaction(
        Transaction::new(Arc::new(move |user| {
            let shared = start.clone();
            Box::pin(async move { begin(&shared, user).await })
        }))
        .set_name("start")
        .set_on_start(),
    );
    let stop = shared.clone();
    scenario = scenario.register_transaction(
        Transaction::new(Arc::new(move |user| {
            let shared = stop.clone();
            Box::pin(async move { end(&shared, user).await })
        }))
        .set_name("stop")
        .set_on_stop(),
    );
    let feeders = (0..api.operations.len())
        .filter(|index| feeds_ids(&shared, *index))
        .collect();
    let _ = shared.feeders.set(feeders);
    let pairs = (0..api.operations.len())
        .map(|index| paired_delete(&shared, index))
        .collect();
    let _ = shared.pairs.set(pairs);
    let plan: Vec<PlanLine> = (0..api.operations.len())
        .map(|index| plan_line(&shared, index, weights))
        .collect();
    let sources: Vec<Option<usize>> = (0..api.operations.len())
        .map(|index| {
            let operation = &api.operations[index];
            has_ids(operation).then(|| source(&shared, index)).flatten()
        })
        .collect();
    let wants = sources
        .iter()
        .enumerate()
        .map(|(index, source)| source.filter(|_| plan[index].weight.is_some_and(|w| w > 0)))
        .collect();
    let _ = shared.sources.set(sources);
    let _ = shared.wants.set(wants);
    let mut any = false;
    for (index, operation) in api.operations.iter().enumerate() {
        let Some(weight) = plan[index].weight.filter(|w| *w > 0) else {
            continue;
        };
        any = true;
        let each = shared.clone();
        scenario = scenario.register_transaction(
            Transaction::new(Arc::new(move |user| {
                let shared = each.clone();
                Box::pin(async move {
                    if let Some(pacer) = &shared.pacer {
                        pacer.wait().await;
                    }
                    exercise(&shared, index, user).await
                })
            }))
            .set_name(&operation.label())
            .set_weight(weight)?,
        );
    }
    match any {
        true => Ok(DocumentLoad {
            scenarios: vec![scenario],
            plan,
            starts: shared.starts.clone(),
        }),
        false => Err(DocumentError::Nothing(plan_table(&plan))),
    }
}

/// Each operation's links, and for a create, links to what lies below the items it links to:
/// the same parameters take them there.
fn with_sub_resources(api: &Api, graph: &Graph) -> Vec<Vec<LinkSpec>> {
    graph
        .links
        .iter()
        .map(|links| {
            let mut all = links.clone();
            for link in links {
                let item = &api.operations[link.target].path;
                let below = format!("{}/", item.trim_end_matches('/'));
                for (target, operation) in api.operations.iter().enumerate() {
                    let covered = operation
                        .params
                        .iter()
                        .filter(|p| p.location == Location::Path)
                        .all(|p| link.parameters.iter().any(|(name, _)| *name == p.name));
                    let known = all.iter().any(|l| l.target == target);
                    if operation.path.starts_with(&below) && covered && !known {
                        all.push(LinkSpec {
                            target,
                            parameters: link.parameters.clone(),
                        });
                    }
                }
            }
            all
        })
        .collect()
}

/// Valid cases of an operation, drawn with a fixed seed.
fn draw(api: &Api, index: usize, operation: &Operation) -> Vec<Case> {
    let plan = Plan::new(&api.schemas, operation);
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&(index as u64).to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    );
    let strategy = plan.positive();
    let count = match operation.method == Method::GET {
        true => READ_CASES,
        false => WRITE_CASES,
    };
    let mut cases: Vec<Case> = (0..count)
        .filter_map(|_| strategy.new_tree(&mut runner).ok())
        .map(|tree| tree.current())
        .collect();
    if cases.is_empty() {
        cases.push(plan.base());
    }
    cases
}

/// The cases of a write whose strings (of 3 characters or more) no case kept before has:
/// what one write creates, another's body does not name again.
fn distinct(cases: Vec<Case>, seen: &mut std::collections::HashSet<String>) -> Vec<Case> {
    fn strings(value: &Value, out: &mut Vec<String>) {
        match value {
            // Unique values are often unique ignoring case (emails).
            Value::String(text) if text.chars().count() >= 3 => out.push(text.to_lowercase()),
            Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
            Value::Object(map) => map.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }
    let mut kept = Vec::new();
    for case in cases {
        let mut found = Vec::new();
        if let openapi::generate::Payload::Json(body) = &case.body {
            strings(body, &mut found);
        }
        if found.iter().all(|s| !seen.contains(s)) {
            seen.extend(found);
            kept.push(case);
        }
    }
    kept
}

/// The weight of an operation (from the file, its own, else its first tag's; else by
/// default), or why it has none.
fn plan_line(shared: &Shared, index: usize, weights: &BTreeMap<String, usize>) -> PlanLine {
    let operation = &shared.api.operations[index];
    let line = |weight: Option<usize>, note: Option<String>| PlanLine {
        operation: operation.label(),
        weight,
        note,
    };
    let named = weights.get(&operation.label()).copied().or_else(|| {
        operation
            .tags
            .iter()
            .find_map(|tag| weights.get(&format!("tag:{tag}")).copied())
    });
    let sendable = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ]
    .contains(&operation.method);
    if !sendable {
        return line(
            None,
            Some("left out: a load sends GET, POST, PUT, PATCH and DELETE".to_owned()),
        );
    }
    if let Some(weight) = named {
        let note = (weight == 0).then(|| "left out: weight 0 in the weights file".to_owned());
        return line(Some(weight), note);
    }
    if !shared
        .credentials
        .satisfy(&shared.api, operation, shared.login.is_some())
    {
        return line(
            None,
            Some(
                "left out: protected, and no credential of its scheme was given (--header, --query, --auth-basic or --auth-login)"
                    .to_owned(),
            ),
        );
    }
    let creates = creates(shared, index);
    // The create whose links reach this operation, with a delete to clean up after it.
    let made_by = source(shared, index);
    let label = |c: &usize| format!("`{}`", shared.api.operations[*c].label());
    if operation.method == Method::GET {
        if !has_ids(operation) || listed(shared, index) {
            return line(Some(READ_WEIGHT), None);
        }
        return match &made_by {
            Some(create) => line(
                Some(READ_WEIGHT),
                Some(format!(
                    "ids from {}, made by each user at its start and deleted at its end",
                    label(create)
                )),
            ),
            None => {
                let params: Vec<String> =
                    path_params(operation).map(|p| format!("{{{p}}}")).collect();
                line(
                    None,
                    Some(format!(
                        "left out: no ids: no list or create gives its {}",
                        params.join(", ")
                    )),
                )
            }
        };
    }
    // A write undone by a DELETE of the same path (follow and unfollow, a config set and
    // reset): the two are sent together, the DELETE on what the write did.
    if let Some(delete) = pair_of(shared, index) {
        let ids_given = pair_params(shared, index)
            .all(|p| listed_param(shared, &operation.path, p) || source(shared, index).is_some());
        if ids_given {
            return line(
                Some(WRITE_WEIGHT),
                Some(format!(
                    "each followed by {}, on the same item",
                    label(&delete)
                )),
            );
        }
    }
    if operation.method == Method::DELETE
        && let Some(write) =
            (0..shared.api.operations.len()).find(|w| pair_of(shared, *w) == Some(index))
        && pair_params(shared, write)
            .all(|p| listed_param(shared, &operation.path, p) || source(shared, write).is_some())
    {
        return line(
            None,
            Some(format!(
                "sent after each {}, on the same item",
                label(&write)
            )),
        );
    }
    // A create under items (`POST /clusters/{cluster_id}/topics`) takes its ids from the
    // lists, or from an item each user makes at its start.
    let ids_given = !has_ids(operation) || listed(shared, index) || made_by.is_some();
    if creates && ids_given && (!has_ids(operation) || creates_with_cleanup(shared, index)) {
        return match creates_with_cleanup(shared, index) {
            true => line(Some(WRITE_WEIGHT), None),
            false => line(
                None,
                Some(
                    "left out: a write with no delete to clean up after it: give it a weight to load it"
                        .to_owned(),
                ),
            ),
        };
    }
    match &direct_source(shared, index) {
        // Updates and deletes of an item run in the transaction of the create that made it.
        Some(create) if has_ids(operation) => line(
            None,
            Some(format!("sent after each {}, on what it made", label(create))),
        ),
        _ => line(
            None,
            Some(
                "left out: a write with no create before it and no delete after it: give it a weight to load it"
                    .to_owned(),
            ),
        ),
    }
}

/// Whether an operation creates what its links lead to (a POST with links).
fn creates(shared: &Shared, index: usize) -> bool {
    shared.api.operations[index].method == Method::POST && !shared.links[index].is_empty()
}

/// A create whose links lead to a delete of what it made.
fn creates_with_cleanup(shared: &Shared, index: usize) -> bool {
    creates(shared, index)
        && shared.links[index]
            .iter()
            .any(|l| shared.api.operations[l.target].method == Method::DELETE)
}

/// A create whose items go at the end: it links to their delete, or it makes them under an
/// item that such a create makes (a pet under an owner: deleting the owner deletes its pets).
fn cleaned(shared: &Shared, index: usize) -> bool {
    creates_with_cleanup(shared, index)
        || (creates(shared, index)
            && (0..shared.api.operations.len()).any(|parent| {
                parent != index
                    && creates_with_cleanup(shared, parent)
                    && shared.links[parent].iter().any(|l| l.target == index)
            }))
}

/// The first create cleaned up after whose links reach this operation.
fn direct_source(shared: &Shared, index: usize) -> Option<usize> {
    (0..shared.api.operations.len())
        .filter(|c| *c != index && cleaned(shared, *c))
        .find(|c| shared.links[*c].iter().any(|l| l.target == index))
}

/// Where an operation's ids come from when no list gives them: the create whose links reach
/// it, else one whose links reach an item above it (a topic, for the partitions of a topic:
/// the lists under the item give the rest).
fn source(shared: &Shared, index: usize) -> Option<usize> {
    let path = &shared.api.operations[index].path;
    direct_source(shared, index).or_else(|| {
        (0..shared.api.operations.len())
            .filter(|c| *c != index && cleaned(shared, *c))
            .find(|c| {
                shared.links[*c]
                    .iter()
                    .any(|l| is_below(path, &shared.api.operations[l.target].path))
            })
    })
}

/// The link of a create that binds an operation's parameters: its own, else one to an item
/// above it.
fn link_to(shared: &Shared, create: usize, index: usize) -> Option<&LinkSpec> {
    let path = &shared.api.operations[index].path;
    let links = &shared.links[create];
    links.iter().find(|l| l.target == index).or_else(|| {
        links
            .iter()
            .find(|l| is_below(path, &shared.api.operations[l.target].path))
    })
}

/// Whether a list read at the start gives every path parameter of the operation.
fn listed(shared: &Shared, index: usize) -> bool {
    let operation = &shared.api.operations[index];
    path_params(operation).all(|param| listed_param(shared, &operation.path, param))
}

/// Whether a list gives a parameter of a path (or of an item above it).
fn listed_param(shared: &Shared, path: &str, param: &str) -> bool {
    feeders(shared)
        .iter()
        .flat_map(|index| &shared.graph.feeds[*index])
        .any(|feed| {
            let above = feed.target_path.as_str();
            (path == above || is_below(path, above)) && feed.param == param
        })
}

/// The reads the start sends for ids, as [`feeds_ids`] found them at start.
fn feeders(shared: &Shared) -> &[usize] {
    shared.feeders.get().map_or(&[], Vec::as_slice)
}

/// Whether an operation is a read the start can send for ids: a GET whose answer gives
/// some, and whose security the credentials satisfy.
fn feeds_ids(shared: &Shared, index: usize) -> bool {
    let operation = &shared.api.operations[index];
    !shared.graph.feeds[index].is_empty()
        && operation.method == Method::GET
        && shared
            .credentials
            .satisfy(&shared.api, operation, shared.login.is_some())
}

/// The DELETE that undoes a write of the same path: a POST or a PUT (of an item under
/// another) that creates nothing the links follow, beside a DELETE of exactly its path that
/// takes no required query or body (one that deletes by filters could delete what the load
/// did not make).
fn paired_delete(shared: &Shared, index: usize) -> Option<usize> {
    let operation = &shared.api.operations[index];
    let writes = operation.method == Method::POST || operation.method == Method::PUT;
    // A PUT of what a create makes replaces it: it runs after that create instead.
    let made = (0..shared.api.operations.len())
        .any(|c| creates(shared, c) && shared.links[c].iter().any(|l| l.target == index));
    // A PUT pairs as the setting of an item above it (a config of a cluster, set and
    // reset); a top-level item is more likely made by a create the document does not link.
    let setting = operation.method == Method::POST || path_params(operation).count() >= 2;
    if !writes || !setting || creates(shared, index) || made {
        return None;
    }
    shared.api.operations.iter().position(|other| {
        other.method == Method::DELETE
            && other.path == operation.path
            && other.body.is_none()
            && !other
                .params
                .iter()
                .any(|p| p.required && p.location == Location::Query)
    })
}

/// The DELETE an operation is sent with, as [`paired_delete`] found it at start.
fn pair_of(shared: &Shared, index: usize) -> Option<usize> {
    shared.pairs.get().and_then(|pairs| pairs[index])
}

/// The path parameters of a paired write whose ids must exist: all of them for a POST
/// (`/profiles/{username}/follow`), all but the item's own for a PUT, which makes it
/// (`/clusters/{cluster_id}/broker-configs/{name}`: a name of the case).
fn pair_params(shared: &Shared, index: usize) -> impl Iterator<Item = &str> {
    let operation = &shared.api.operations[index];
    let own = match operation.method == Method::PUT {
        true => path_params(operation).last(),
        false => None,
    };
    path_params(operation).filter(move |p| Some(*p) != own)
}

fn path_params(operation: &Operation) -> impl Iterator<Item = &str> {
    operation
        .params
        .iter()
        .filter(|p| p.location == Location::Path)
        .map(|p| p.name.as_str())
}

/// A user's start: log in, and list what the lists hold, for ids.
async fn begin(shared: &Shared, user: &mut GooseUser) -> TransactionResult {
    let mut session = Session::default();
    if let Some(login) = &shared.login {
        session.credential = crate::login::log_in(login, user, &shared.credentials).await?;
    }
    user.set_session_data(session);
    // The lists are read once, by the first user, before any user's first create: the ids
    // read are those that were there before the load, and no transaction deletes them.
    let _first = shared.start_lock.lock().await;
    if shared.start_ids.get().is_none() {
        let mut ids = IdPool::new();
        // Lists under fewer items first: a list under a cluster is read with an id the
        // list of clusters gave.
        let mut lists = feeders(shared).to_vec();
        lists.sort_by_key(|index| path_params(&shared.api.operations[*index]).count());
        for index in lists {
            // The simplest list (no filter, no page past the first) holds the most ids.
            let operation = &shared.api.operations[index];
            let base = Plan::new(&shared.api.schemas, operation).base();
            let bound: Option<Vec<(String, Value)>> = path_params(operation)
                .map(|param| {
                    let value = ids.for_path(&operation.path, param)?.first()?.clone();
                    Some((param.to_owned(), value))
                })
                .collect();
            let Some(bound) = bound else {
                continue;
            };
            if let Some((_, _, Some(body))) =
                call_with(shared, index, user, base, Some(bound)).await?
            {
                ids.take_feeds(&shared.graph.feeds[index], &body);
            }
        }
        let _ = shared.start_ids.set(ids);
    }
    drop(_first);
    // The items this user's reads need ids of, that no list gives: made now, deleted at
    // its end.
    // A read that a list gives ids to needs none of its own, unless the list was empty.
    let start = shared.start_ids.get();
    let given = |index: usize| {
        let operation = &shared.api.operations[index];
        start.is_some_and(|ids| {
            path_params(operation).all(|p| ids.for_path(&operation.path, p).is_some())
        })
    };
    let sources = shared.sources.get().map_or(&[][..], Vec::as_slice);
    let mut needed: Vec<usize> = shared
        .wants
        .get()
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(index, source)| source.filter(|_| !given(index)))
        .collect();
    // A create under an item needs that item first (a pet needs its owner).
    let mut at = 0;
    while at < needed.len() {
        if let Some(parent) =
            sources[needed[at]].filter(|p| !given(needed[at]) && !needed.contains(p))
        {
            needed.push(parent);
        }
        at += 1;
    }
    needed.sort_by_key(|c| (path_params(&shared.api.operations[*c]).count(), *c));
    needed.dedup();
    let mut failed = false;
    for create in needed {
        match call(shared, create, user, None).await {
            Ok(Some((case, _, Some(body)))) => {
                if let Some(session) = user.get_session_data_mut::<Session>() {
                    session.made.push((create, case, body));
                }
            }
            answer => {
                // One line per user and create: what needs ids from it fails, not the run.
                let label = shared.api.operations[create].label();
                let what = match answer {
                    Ok(Some((_, status, None))) if (200..300).contains(&status) => {
                        format!("answered {status} without a JSON body")
                    }
                    Ok(Some((_, status, _))) => format!("answered {status}"),
                    Ok(None) => "got no answer".to_owned(),
                    Err(error) => match *error {
                        TransactionError::RequestFailed { raw_request } => {
                            format!("answered {}", raw_request.status_code)
                        }
                        TransactionError::Custom(_) => "had no ids to be sent with".to_owned(),
                        other => format!("failed: {other}"),
                    },
                };
                let line = format!(
                    "user {}: {label} {what} at its start: what needs ids from it fails",
                    user.weighted_users_index
                );
                eprintln!("loadgen: {line}");
                shared.starts.failed(line);
                failed = true;
            }
        }
    }
    let any_made = user
        .get_session_data::<Session>()
        .is_some_and(|s| !s.made.is_empty());
    if any_made {
        read_lists_below_made(shared, user).await?;
    }
    shared.starts.started(failed);
    Ok(())
}

/// The lists under the items this user made at its start (the partitions of its topic), read
/// for ids, in depth order: what the start's lists could not give.
async fn read_lists_below_made(shared: &Shared, user: &mut GooseUser) -> TransactionResult {
    let mut lists: Vec<usize> = feeders(shared)
        .iter()
        .copied()
        .filter(|index| {
            let operation = &shared.api.operations[*index];
            has_ids(operation) && !known_ids(shared, user, operation)
        })
        .collect();
    lists.sort_by_key(|index| path_params(&shared.api.operations[*index]).count());
    for index in lists {
        let operation = &shared.api.operations[index];
        let made = user.get_session_data::<Session>().and_then(|session| {
            session.made.iter().find_map(|(create, case, body)| {
                let link = link_to(shared, *create, index)?;
                bind(link, case, body)
            })
        });
        let Some(made) = made else {
            continue;
        };
        let bound: Option<Vec<(String, Value)>> = path_params(operation)
            .map(|param| {
                let value = id_of(shared, user, &operation.path, param, &made)?;
                Some((param.to_owned(), value))
            })
            .collect();
        let Some(bound) = bound else {
            continue;
        };
        let base = Plan::new(&shared.api.schemas, operation).base();
        if let Some((_, _, Some(body))) = call_with(shared, index, user, base, Some(bound)).await?
            && let Some(session) = user.get_session_data_mut::<Session>()
        {
            session.ids.take_feeds(&shared.graph.feeds[index], &body);
        }
    }
    Ok(())
}

/// A user's end: what it made at its start deleted, through the delete its create links to.
async fn end(shared: &Shared, user: &mut GooseUser) -> TransactionResult {
    let made = user
        .get_session_data::<Session>()
        .map(|s| s.made.clone())
        .unwrap_or_default();
    // What lies below first: a pet before its owner.
    for (create, case, body) in made.into_iter().rev() {
        if let Some(link) = delete_of(shared, create)
            && let Some(bound) = bind(link, &case, &body)
        {
            call(shared, link.target, user, Some(bound)).await?;
        }
    }
    Ok(())
}

/// The parameters a link gives its target, evaluated on a create's case and answer.
fn bind(link: &LinkSpec, case: &Case, body: &Value) -> Option<Vec<(String, Value)>> {
    let no_header = |_: &str| None;
    link.parameters
        .iter()
        .map(|(param, expression)| {
            evaluate(expression, case, &no_header, Some(body)).map(|v| (param.clone(), v))
        })
        .collect()
}

/// One transaction of an operation: a read of an id the user has (or of no id), or a create
/// followed by what its links lead to, deletes last.
async fn exercise(shared: &Shared, index: usize, user: &mut GooseUser) -> TransactionResult {
    let operation = &shared.api.operations[index];
    if let Some(delete) = pair_of(shared, index) {
        return Box::pin(pair(shared, index, delete, user)).await;
    }
    if operation.method != Method::POST {
        return read(shared, index, user).await;
    }
    // The create and what follows it, on the heap: the reads' future stays small.
    Box::pin(create(shared, index, user)).await
}

/// A request of an operation that creates nothing: a read, most often of one item by an id
/// from the start. A case with nothing but path parameters is filled in without a copy.
async fn read(shared: &Shared, index: usize, user: &mut GooseUser) -> TransactionResult {
    let operation = &shared.api.operations[index];
    let cases = &shared.cases[index];
    let case = &cases[rand::random_range(0..cases.len())];
    let only_path = matches!(case.body, openapi::generate::Payload::None)
        && case.params.iter().all(|(l, _, _)| *l == Location::Path);
    // Ids from the lists at the start, else from what this user made at its start (in
    // `call`).
    let path = match only_path && !operation.secured {
        true => fill(shared, operation),
        false => None,
    };
    let Some(path) = path else {
        call(shared, index, user, None).await?;
        return Ok(());
    };
    send(
        user,
        Request {
            method: &operation.method,
            path: &path,
            name: &operation.path,
            headers: Vec::new(),
            content_type: None,
            body: None,
            expect: &shared.expect[index],
            read: shared.read[index],
            credentials: &shared.credentials,
        },
    )
    .await?;
    Ok(())
}

/// The ids of an item this user made at its start, for an operation its create links to.
fn made_ids(shared: &Shared, index: usize, user: &GooseUser) -> Option<Vec<(String, Value)>> {
    let create = shared.sources.get()?[index]?;
    let session = user.get_session_data::<Session>()?;
    let (_, case, body) = session.made.iter().find(|(c, _, _)| *c == create)?;
    bind(link_to(shared, create, index)?, case, body)
}

/// A random id for a path's parameter: from the lists read at the start, else from the
/// lists this user read under what it made.
fn any_id(shared: &Shared, user: &GooseUser, path: &str, param: &str) -> Option<Value> {
    let pick = |ids: &[Value]| ids[rand::random_range(0..ids.len())].clone();
    let start = shared
        .start_ids
        .get()
        .and_then(|ids| ids.for_path(path, param));
    start.map(pick).or_else(|| {
        let session = user.get_session_data::<Session>()?;
        session.ids.for_path(path, param).map(pick)
    })
}

/// The id of a path's parameter: the one `bound` gives (what the caller or the user's own
/// item binds), else one from the lists.
fn id_of(
    shared: &Shared,
    user: &GooseUser,
    path: &str,
    param: &str,
    bound: &[(String, Value)],
) -> Option<Value> {
    bound
        .iter()
        .find(|(name, _)| name == param)
        .map(|(_, v)| v.clone())
        .or_else(|| any_id(shared, user, path, param))
}

/// Whether the lists (the start's or this user's) give every path parameter.
fn known_ids(shared: &Shared, user: &GooseUser, operation: &Operation) -> bool {
    path_params(operation).all(|p| {
        shared
            .start_ids
            .get()
            .is_some_and(|ids| ids.for_path(&operation.path, p).is_some())
            || user
                .get_session_data::<Session>()
                .is_some_and(|s| s.ids.for_path(&operation.path, p).is_some())
    })
}

/// A transaction that could send nothing (no id to send it with): a failed one, never one
/// that ran in no time.
fn nothing_sent(operation: &Operation) -> Box<TransactionError> {
    Box::new(TransactionError::Custom(format!(
        "{}: no id to send it with",
        operation.label()
    )))
}

/// The path of an operation with each parameter an id from the start; `None` without ids.
fn fill(shared: &Shared, operation: &Operation) -> Option<String> {
    let ids = shared.start_ids.get()?;
    let mut path = String::with_capacity(operation.path.len() + 32);
    let mut rest = operation.path.as_str();
    while let Some(open) = rest.find('{') {
        let close = open + rest[open..].find('}')?;
        path.push_str(&rest[..open]);
        let values = ids.for_path(&operation.path, &rest[open + 1..close])?;
        let value = &values[rand::random_range(0..values.len())];
        push_param(&mut path, value);
        rest = &rest[close + 1..];
    }
    path.push_str(rest);
    Some(path)
}

/// A create, then what its links lead to on what it made: updates, the delete last.
async fn create(shared: &Shared, index: usize, user: &mut GooseUser) -> TransactionResult {
    let Some((case, _, answer)) = call(shared, index, user, None).await? else {
        // No answer: goose counted the failure.
        return Ok(());
    };
    let Some(body) = answer else {
        return Ok(());
    };
    follow(shared, index, case, body, user, 0).await
}

/// A write and the DELETE that undoes it, on the same item: a PUT's own id is its case's
/// (the item it makes), the other ids come from the lists or the user's items.
async fn pair(
    shared: &Shared,
    index: usize,
    delete: usize,
    user: &mut GooseUser,
) -> TransactionResult {
    let operation = &shared.api.operations[index];
    let cases = &shared.cases[index];
    let pick = shared.next[index].fetch_add(1, std::sync::atomic::Ordering::Relaxed) % cases.len();
    let case = cases[pick].clone();
    let made = made_ids(shared, index, user).unwrap_or_default();
    let existing: Vec<&str> = pair_params(shared, index).collect();
    let bound: Option<Vec<(String, Value)>> = path_params(operation)
        .map(|param| {
            let value = match existing.contains(&param) {
                true => id_of(shared, user, &operation.path, param, &made)?,
                false => case.path_param(param)?.clone(),
            };
            Some((param.to_owned(), value))
        })
        .collect();
    let Some(bound) = bound else {
        return Err(nothing_sent(operation));
    };
    let answer = call_with(shared, index, user, case, Some(bound.clone())).await?;
    if answer.is_some_and(|(_, status, _)| (200..300).contains(&status)) {
        call(shared, delete, user, Some(bound)).await?;
    }
    Ok(())
}

/// How deep creates under what a create made are followed (an owner, its pet, the pet's
/// visits).
const NESTED_CREATES: usize = 2;

/// What a create links to, on what it made: creates under it (and what they link to), then
/// updates, the delete last.
fn follow<'a>(
    shared: &'a Shared,
    index: usize,
    case: Case,
    body: Value,
    user: &'a mut GooseUser,
    depth: usize,
) -> std::pin::Pin<Box<dyn Future<Output = TransactionResult> + Send + 'a>> {
    Box::pin(async move {
        let mut targets: Vec<_> = shared.links[index]
            .iter()
            .filter(|link| link.target != index)
            .filter(|link| shared.api.operations[link.target].method != Method::GET)
            .collect();
        // Deletes last, of what lies deepest first: a favorite before its article.
        targets.sort_by_key(|link| {
            let target = &shared.api.operations[link.target];
            (
                target.method == Method::DELETE,
                std::cmp::Reverse(target.path.len()),
            )
        });
        for link in targets {
            let Some(bound) = bind(link, &case, &body) else {
                continue;
            };
            let answer = call(shared, link.target, user, Some(bound)).await?;
            if creates(shared, link.target)
                && depth < NESTED_CREATES
                && let Some((case, _, Some(body))) = answer
            {
                follow(shared, link.target, case, body, user, depth + 1).await?;
            }
        }
        Ok(())
    })
}

/// The delete a create links to for what it made: the one of the item itself, not of what
/// lies below it (`DELETE /articles/{slug}`, not `DELETE /articles/{slug}/favorite`).
fn delete_of(shared: &Shared, create: usize) -> Option<&LinkSpec> {
    shared.links[create]
        .iter()
        .filter(|l| shared.api.operations[l.target].method == Method::DELETE)
        .min_by_key(|l| shared.api.operations[l.target].path.len())
}

/// Sends a random valid case of an operation, its path parameters bound (to `bound`, else to
/// ids the user has): the case, the status and the JSON of a 2xx answer. `None` when it got
/// no answer; an error when it could not be sent (an item operation with no id).
async fn call(
    shared: &Shared,
    index: usize,
    user: &mut GooseUser,
    bound: Option<Vec<(String, Value)>>,
) -> Result<Option<Answer>, Box<TransactionError>> {
    let cases = &shared.cases[index];
    let pick = match shared.api.operations[index].method == Method::GET {
        true => rand::random_range(0..cases.len()),
        false => {
            shared.next[index].fetch_add(1, std::sync::atomic::Ordering::Relaxed) % cases.len()
        }
    };
    call_with(shared, index, user, cases[pick].clone(), bound).await
}

/// The same, with this case.
async fn call_with(
    shared: &Shared,
    index: usize,
    user: &mut GooseUser,
    mut case: Case,
    bound: Option<Vec<(String, Value)>>,
) -> Result<Option<Answer>, Box<TransactionError>> {
    let operation = &shared.api.operations[index];
    let credential = match operation.secured {
        true => user
            .get_session_data::<Session>()
            .and_then(|s| s.credential.clone()),
        false => None,
    };
    let bound = match bound {
        Some(bound) => Some(bound),
        None if has_ids(operation) && !known_ids(shared, user, operation) => {
            made_ids(shared, index, user)
        }
        None => None,
    };
    for param in operation
        .params
        .iter()
        .filter(|p| p.location == Location::Path)
    {
        let value = id_of(
            shared,
            user,
            &operation.path,
            &param.name,
            bound.as_deref().unwrap_or_default(),
        );
        match value {
            Some(value) => case.bind(&param.name, value),
            None => return Err(nothing_sent(operation)),
        }
    }
    let rendered = render(operation, &case);
    let mut headers = rendered.headers;
    if let Some(credential) = credential {
        headers.push(credential);
    }
    let answer = send(
        user,
        Request {
            method: &operation.method,
            path: &rendered.path_and_query,
            // Goose puts the method in front: reports group `GET /pets/{petId}`.
            name: &operation.path,
            headers,
            content_type: rendered.content_type,
            body: rendered.body,
            expect: &shared.expect[index],
            read: shared.read[index],
            credentials: &shared.credentials,
        },
    )
    .await?;
    let Some((status, body)) = answer else {
        return Ok(None);
    };
    let body = body.filter(|_| (200..300).contains(&status));
    Ok(Some((case, status, body)))
}

fn has_ids(operation: &Operation) -> bool {
    operation
        .params
        .iter()
        .any(|p| p.location == Location::Path)
}

/// The 2xx statuses an operation documents (empty: any 2xx).
fn documented_successes(operation: &Operation) -> Vec<u16> {
    operation
        .responses
        .iter()
        .filter_map(|(key, _)| match key {
            StatusKey::Code(code) if (200..300).contains(code) => Some(*code),
            _ => None,
        })
        .collect()
}
