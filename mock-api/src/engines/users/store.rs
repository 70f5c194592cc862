//! The users and their tokens, and every rule that does not depend on HTTP: unique emails
//! (ignoring case), salted password hashes, unguessable tokens, revocation, reset to the seed.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, Version};
use axum::body::Bytes;
use indexmap::IndexMap;
use memchr::memmem;
use rand::RngCore;
use rand::rngs::StdRng;
use serde::{Serialize, Serializer};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::core::budget::{Budget, Charge, OverBudget};
use crate::core::clock::{Clock, format_timestamp};
use crate::core::engine::Dataset;
use crate::core::ids::Ids;
use crate::core::limits::NAMESPACE_BYTES;
use crate::core::sync::{lock, read, write};

/// What a [`Store`] starts with, and what `reset` brings back.
#[derive(Debug, Clone, Default)]
pub struct Seed {
    /// The seed users; `None` means the two of [`SEED_USERS`].
    pub users: Option<Vec<SeedUser>>,
    /// Synthetic users added to the seed data after the others, for load and scale
    /// tests: `user{i}@load.test`, named `Load User {i}`, all with the password `password`.
    pub extra_users: usize,
    /// Makes ids and tokens repeatable: the same seed, the same ids in the same order.
    pub random_seed: Option<u64>,
}

/// A seed user from a data file, already validated.
#[derive(Debug, Clone)]
pub struct SeedUser {
    pub id: Option<Uuid>,
    pub email: String,
    pub password: String,
    pub name: String,
    pub role: Role,
    pub created_at: Option<OffsetDateTime>,
}

/// The seed users every fresh or reset store holds: (email, password, name, role).
pub const SEED_USERS: [(&str, &str, &str, Role); 2] = [
    ("admin@example.com", "admin123", "Admin User", Role::Admin),
    ("user@example.com", "user123", "Test User", Role::User),
];

/// The password shared by the synthetic users of [`Config::extra_users`].
pub const EXTRA_USERS_PASSWORD: &str = "password";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub const NAMES: [&str; 2] = ["user", "admin"];

    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "user" => Some(Role::User),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A user as the API shows it. It has no password field, so none can leak.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(serialize_with = "rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// The fields of a new user, already validated.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub password: String,
    pub name: String,
    pub role: Role,
}

/// A partial update: `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub email: Option<String>,
    pub password: Option<String>,
    pub name: Option<String>,
    pub role: Option<Role>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub token: String,
    pub user: User,
}

/// A user as the API shows it, as JSON: rendered once per change and shared by every read,
/// so a read copies no strings and formats no timestamps.
#[derive(Debug, Clone)]
pub struct Shown {
    pub id: Uuid,
    json: Bytes,
}

impl Shown {
    fn render(user: &User) -> Shown {
        Shown {
            id: user.id,
            // A struct of strings and a UUID: serialising it cannot fail.
            json: Bytes::from(serde_json::to_vec(user).unwrap_or_default()),
        }
    }

    pub fn json(&self) -> &Bytes {
        &self.json
    }
}

/// One page of a listing; [`Page::to_json`] writes the API's shape.
#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Shown>,
    pub total: usize,
    pub page: u64,
    pub limit: u64,
    pub total_pages: u64,
}

impl Page {
    /// `{"items":[...],"total":N,"page":N,"limit":N,"total_pages":N}`, the items as rendered.
    pub fn to_json(&self) -> Vec<u8> {
        let size: usize = self.items.iter().map(|i| i.json.len() + 1).sum();
        let mut out = Vec::with_capacity(size + 96);
        out.extend_from_slice(b"{\"items\":[");
        for (at, item) in self.items.iter().enumerate() {
            if at > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&item.json);
        }
        out.extend_from_slice(
            format!(
                "],\"total\":{},\"page\":{},\"limit\":{},\"total_pages\":{}}}",
                self.total, self.page, self.limit, self.total_pages
            )
            .as_bytes(),
        );
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("user not found")]
    UserNotFound,
    #[error("email is already taken")]
    EmailTaken,
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("invalid or revoked token")]
    InvalidToken,
    #[error("password hashing failed")]
    Hash,
    /// The namespaces' byte budget is spent (409).
    #[error(transparent)]
    Budget(#[from] OverBudget),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The state of the API. Every method takes the lock once and never across an `await`,
/// and password hashing happens outside it, so requests never queue behind a hash.
#[derive(Debug)]
pub struct Store {
    /// Shared with the seed (and the snapshots) until the first write, which copies the
    /// index, not the users (see [`Store::write`]).
    data: RwLock<Arc<Data>>,
    /// Shared by every namespace forked from this store.
    seed: Arc<Data>,
    /// Changes with every write, so a cached [`SearchIndex`] knows when it is stale.
    version: AtomicU64,
    /// What this store's copies are charged to: none for the default namespace, the
    /// namespaces' shared budget for the others (handed on by [`Dataset::fork`]).
    budget: Option<Arc<Budget>>,
    namespaces_budget: Arc<Budget>,
    ids: Ids,
    clock: Arc<Clock>,
    /// `--seed`, which a namespace's ids are drawn from, mixed with its name.
    random_seed: Option<u64>,
    /// Built on the first search after a change; see [`SearchIndex`].
    search_index: Mutex<Option<Arc<SearchIndex>>>,
    /// Compared against when an email is unknown, so a login takes as long either way.
    dummy_hash: Arc<str>,
}

/// A copy of the data, and of where the id generator was, so that a restore also brings
/// back the ids that come next.
#[derive(Debug)]
pub struct State {
    /// Shared with the live data until either changes.
    data: Arc<Data>,
    ids: Option<StdRng>,
}

#[derive(Debug, Clone, Default)]
struct Data {
    /// Users in creation order, which is the order of listing; each shared by the copies
    /// of the data that did not change it.
    users: IndexMap<Uuid, Arc<Record>>,
    /// Lower-cased email to id: the uniqueness index.
    emails: HashMap<String, Uuid>,
    /// Bearer token to the id of its user.
    tokens: HashMap<String, Uuid>,
    /// The bytes this copy holds against the namespaces' budget.
    charge: Charge,
}

/// Bytes of an index entry beside its key, as counted against the budget (a map's slot, a
/// pointer, a hash).
const ENTRY_BYTES: usize = 64;

impl Data {
    /// What a copy of the index costs: its entries and its keys, not the users.
    fn copy_bytes(&self) -> usize {
        let keys: usize = self.emails.keys().map(String::len).sum::<usize>()
            + self.tokens.keys().map(String::len).sum::<usize>();
        keys + ENTRY_BYTES * (self.users.len() + self.emails.len() + self.tokens.len())
    }
}

#[derive(Debug, Clone)]
struct Record {
    user: User,
    password_hash: String,
    /// `name\0email`, lower-cased once here so that a search does not lower-case every user,
    /// and joined so that it runs one substring search per user rather than two.
    haystack: String,
    /// Where the email starts in `haystack`.
    email_at: usize,
    /// The user's JSON, rendered at its first read after a change.
    shown: OnceLock<Shown>,
}

impl Record {
    fn new(user: User, password_hash: String) -> Record {
        let mut record = Record {
            user,
            password_hash,
            haystack: String::new(),
            email_at: 0,
            shown: OnceLock::new(),
        };
        record.index();
        record
    }

    /// Rebuilds the search text and forgets the rendered JSON, after any change.
    fn index(&mut self) {
        self.shown = OnceLock::new();
        self.haystack = self.user.name.to_lowercase();
        self.haystack.push('\0');
        self.email_at = self.haystack.len();
        self.haystack.push_str(&self.user.email.to_lowercase());
    }

    /// What it holds, as counted against the budget.
    fn bytes(&self) -> usize {
        self.user.email.len()
            + self.user.name.len()
            + self.password_hash.len()
            + self.haystack.len()
            + size_of::<Record>()
            + ENTRY_BYTES
    }

    fn shown(&self) -> Shown {
        self.shown.get_or_init(|| Shown::render(&self.user)).clone()
    }

    /// Whether the lower-cased needle is in the name or in the email (not across the two).
    fn matches(&self, needle_lower: &str) -> bool {
        self.name_lower().contains(needle_lower) || self.email_lower().contains(needle_lower)
    }

    fn email_lower(&self) -> &str {
        &self.haystack[self.email_at..]
    }

    fn name_lower(&self) -> &str {
        &self.haystack[..self.email_at - 1]
    }
}

/// The lower-cased `name\0email` of every user, in listing order, in one buffer: a search
/// is then one vectorised pass over contiguous memory instead of a walk over scattered
/// records (about 5 ms per search at 100,000 users, against well under 1 ms).
#[derive(Debug)]
struct SearchIndex {
    /// The [`Store::version`] it was built from; a mismatch means it is stale.
    version: u64,
    text: Vec<u8>,
    /// Where each user's text ends in `text`, by position in [`Data::users`].
    ends: Vec<usize>,
}

impl SearchIndex {
    fn build(data: &Data, version: u64) -> SearchIndex {
        let mut text = Vec::with_capacity(data.users.values().map(|r| r.haystack.len()).sum());
        let mut ends = Vec::with_capacity(data.users.len());
        for record in data.users.values() {
            text.extend_from_slice(record.haystack.as_bytes());
            ends.push(text.len());
        }
        SearchIndex {
            version,
            text,
            ends,
        }
    }

    /// Positions (in listing order) of the users whose name or email contains `search`,
    /// compared in lower case.
    fn find(&self, data: &Data, search: &str) -> Vec<usize> {
        let needle = search.to_lowercase();
        // Only a needle holding the separator can match across a name and an email.
        let may_span = needle.contains('\0');
        let finder = memmem::Finder::new(needle.as_bytes());
        let mut found = Vec::new();
        let (mut user, mut from) = (0, 0);
        while let Some(offset) = finder.find(&self.text[from..]) {
            let at = from + offset;
            // Matches come in order, so the user they fall in only moves forward.
            while self.ends[user] <= at {
                user += 1;
            }
            let within_one_user = at + needle.len() <= self.ends[user];
            if within_one_user && (!may_span || data.users[user].matches(&needle)) {
                found.push(user);
                // One match per user is enough: go on from the next user's text.
                from = self.ends[user];
            } else {
                from = at + 1;
            }
            if from >= self.text.len() {
                break;
            }
        }
        found
    }
}

impl Store {
    /// A store with the seed data, telling time by `clock`.
    pub fn new(config: &Seed, clock: Arc<Clock>) -> Store {
        let now = clock.now();
        let ids = Ids::new(config.random_seed);
        let users = config.users.clone().unwrap_or_else(|| {
            SEED_USERS
                .iter()
                .map(|&(email, password, name, role)| SeedUser {
                    id: None,
                    email: email.to_owned(),
                    password: password.to_owned(),
                    name: name.to_owned(),
                    role,
                    created_at: None,
                })
                .collect()
        });
        let mut seed = Data::default();
        // Users sharing a password share its hash: start-up hashes each password once.
        let mut hashes: HashMap<String, String> = HashMap::new();
        for new in users {
            let hash = hashes
                .entry(new.password)
                .or_insert_with_key(|password| {
                    hash_password(password).expect("hashing a seed password")
                })
                .clone();
            let created_at = new.created_at.unwrap_or(now);
            let user = User {
                id: new.id.unwrap_or_else(|| ids.uuid()),
                email: new.email,
                name: new.name,
                role: new.role,
                created_at,
                updated_at: created_at,
            };
            seed.insert(Record::new(user, hash));
        }
        if config.extra_users > 0 {
            // One hash serves all synthetic users: hashing 100,000 passwords would make start-up slow.
            let hash = hash_password(EXTRA_USERS_PASSWORD).expect("hashing a seed password");
            seed.users.reserve(config.extra_users);
            seed.emails.reserve(config.extra_users);
            for i in 1..=config.extra_users {
                let user = User {
                    id: ids.uuid(),
                    email: format!("user{i}@load.test"),
                    name: format!("Load User {i}"),
                    role: Role::User,
                    created_at: now,
                    updated_at: now,
                };
                seed.insert(Record::new(user, hash.clone()));
            }
        }
        let dummy_hash = hash_password("not a password").expect("hashing a constant");
        // The default namespace's ids follow the seed users' in one sequence, and a reset
        // goes back to just after them.
        let mut ids = ids;
        ids.rebase();
        Store::from_seed(
            Arc::new(seed),
            ids,
            clock,
            config.random_seed,
            dummy_hash.into(),
            (None, Budget::new(NAMESPACE_BYTES)),
        )
    }

    /// A store on `seed`; `budgets`: what its copies are charged to, and what its forks'
    /// are.
    fn from_seed(
        seed: Arc<Data>,
        ids: Ids,
        clock: Arc<Clock>,
        random_seed: Option<u64>,
        dummy_hash: Arc<str>,
        (budget, namespaces_budget): (Option<Arc<Budget>>, Arc<Budget>),
    ) -> Store {
        Store {
            data: RwLock::new(seed.clone()),
            seed,
            version: AtomicU64::new(0),
            budget,
            namespaces_budget,
            ids,
            clock,
            random_seed,
            search_index: Mutex::new(None),
            dummy_hash,
        }
    }

    /// One page of the users whose name or email contains `search` (ignoring case).
    pub fn list(&self, page: u64, limit: u64, search: Option<&str>) -> Page {
        let data = self.read();
        let offset = usize::try_from((page - 1).saturating_mul(limit)).unwrap_or(usize::MAX);
        let limit_usize = usize::try_from(limit).unwrap_or(usize::MAX);
        let (items, total) = match search.filter(|s| !s.is_empty()) {
            None => {
                let end = offset.saturating_add(limit_usize).min(data.users.len());
                let items = match data.users.get_range(offset.min(end)..end) {
                    Some(slice) => slice.values().map(|r| r.shown()).collect(),
                    None => Vec::new(),
                };
                (items, data.users.len())
            }
            Some(search) => {
                let found = self.search_index(&data).find(&data, search);
                let items = found
                    .iter()
                    .skip(offset)
                    .take(limit_usize)
                    .map(|&at| data.users[at].shown())
                    .collect();
                (items, found.len())
            }
        };
        Page {
            items,
            total,
            page,
            limit,
            total_pages: (total as u64).div_ceil(limit),
        }
    }

    /// A user as the API shows it, already rendered.
    pub fn shown(&self, id: Uuid) -> Result<Shown> {
        let data = self.read();
        data.users
            .get(&id)
            .map(|r| r.shown())
            .ok_or(StoreError::UserNotFound)
    }

    pub fn get(&self, id: Uuid) -> Result<User> {
        let data = self.read();
        data.users
            .get(&id)
            .map(|r| r.user.clone())
            .ok_or(StoreError::UserNotFound)
    }

    pub fn create(&self, new: NewUser) -> Result<User> {
        let hash = hash_password(&new.password)?;
        let now = self.clock.now();
        let user = User {
            id: self.ids.uuid(),
            email: new.email,
            name: new.name,
            role: new.role,
            created_at: now,
            updated_at: now,
        };
        let mut data = self.write()?;
        if data.emails.contains_key(&user.email.to_lowercase()) {
            return Err(StoreError::EmailTaken);
        }
        let record = Record::new(user.clone(), hash);
        data.charge.grow(record.bytes())?;
        data.insert(record);
        Ok(user)
    }

    /// Creates a user and logs it in.
    pub fn register(&self, new: NewUser) -> Result<Session> {
        let user = self.create(new)?;
        let token = self.issue_token(user.id)?;
        Ok(Session { token, user })
    }

    pub fn update(&self, id: Uuid, patch: UserPatch) -> Result<User> {
        let hash = patch.password.as_deref().map(hash_password).transpose()?;
        let now = self.clock.now();
        let mut data = self.write()?;
        let data = &mut *data;
        let shared = data.users.get(&id).ok_or(StoreError::UserNotFound)?;
        // A user shared with the seed or a snapshot is copied before it changes.
        if Arc::strong_count(shared) > 1 {
            let bytes = shared.bytes();
            data.charge.grow(bytes)?;
        }
        let record = data
            .users
            .get_mut(&id)
            .map(Arc::make_mut)
            .ok_or(StoreError::UserNotFound)?;
        // Strictly later than before, even when two updates land in the same millisecond
        // (and no later than the last millisecond time can tell). Worked out before anything
        // changes, so the write is all or nothing.
        let bumped = record
            .user
            .updated_at
            .checked_add(time::Duration::milliseconds(1));
        let updated_at = now.max(bumped.unwrap_or(record.user.updated_at));
        if let Some(email) = patch.email {
            let key = email.to_lowercase();
            match data.emails.get(&key) {
                Some(owner) if *owner != id => return Err(StoreError::EmailTaken),
                _ => {}
            }
            data.emails.remove(record.email_lower());
            data.emails.insert(key, id);
            record.user.email = email;
        }
        if let Some(name) = patch.name {
            record.user.name = name;
        }
        if let Some(role) = patch.role {
            record.user.role = role;
        }
        if let Some(hash) = hash {
            record.password_hash = hash;
        }
        record.user.updated_at = updated_at;
        record.index();
        Ok(record.user.clone())
    }

    /// Deletes a user and revokes every token it holds.
    pub fn delete(&self, id: Uuid) -> Result<()> {
        let mut data = self.write()?;
        let record = data
            .users
            .shift_remove(&id)
            .ok_or(StoreError::UserNotFound)?;
        data.emails.remove(record.email_lower());
        data.tokens.retain(|_, owner| *owner != id);
        Ok(())
    }

    /// Checks an email (ignoring case) and password, and issues a new token.
    pub fn login(&self, email: &str, password: &str) -> Result<Session> {
        let found = {
            let data = self.read();
            data.emails
                .get(&email.to_lowercase())
                .and_then(|id| data.users.get(id))
                .map(|r| (r.user.id, r.password_hash.clone()))
        };
        let (id, hash) = match found {
            Some(found) => found,
            None => {
                // Spend the same time as for a wrong password, so timing does not reveal
                // which emails exist.
                verify_password(password, &self.dummy_hash);
                return Err(StoreError::InvalidCredentials);
            }
        };
        if !verify_password(password, &hash) {
            return Err(StoreError::InvalidCredentials);
        }
        // The user may have been deleted while the hash was checked: look it up again.
        let user = self.get(id).map_err(|_| StoreError::InvalidCredentials)?;
        let token = self.issue_token(id)?;
        Ok(Session { token, user })
    }

    /// The user a live token belongs to.
    pub fn authenticate(&self, token: &str) -> Result<User> {
        let data = self.read();
        let id = data.tokens.get(token).ok_or(StoreError::InvalidToken)?;
        data.users
            .get(id)
            .map(|r| r.user.clone())
            .ok_or(StoreError::InvalidToken)
    }

    pub fn revoke(&self, token: &str) -> Result<()> {
        self.write()?
            .tokens
            .remove(token)
            .map(drop)
            .ok_or(StoreError::InvalidToken)
    }

    fn issue_token(&self, id: Uuid) -> Result<String> {
        let token = self.ids.token();
        let mut data = self.write()?;
        data.charge.grow(token.len() + ENTRY_BYTES)?;
        data.tokens.insert(token.clone(), id);
        Ok(token)
    }

    /// The search index for `data`, rebuilt if a write happened since it was built.
    fn search_index(&self, data: &Data) -> Arc<SearchIndex> {
        let mut cached = lock(&self.search_index);
        match &*cached {
            Some(index) if index.version == self.version.load(Ordering::Acquire) => index.clone(),
            _ => {
                let version = self.version.load(Ordering::Acquire);
                let index = Arc::new(SearchIndex::build(data, version));
                *cached = Some(index.clone());
                index
            }
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Arc<Data>> {
        read(&self.data)
    }

    /// The data for a change: every write goes through here, so every write bumps the
    /// version. Data shared with the seed or a snapshot is copied first (its index; the
    /// users stay shared until each changes), charged to the namespaces' budget.
    fn write(&self) -> Result<Writing<'_>> {
        let mut data = write(&self.data);
        if Arc::strong_count(&data) > 1 {
            let charge = Charge::new(self.budget.as_ref(), data.copy_bytes())?;
            let mut copy = Data::clone(&data);
            copy.charge = charge;
            *data = Arc::new(copy);
        }
        self.bump();
        Ok(Writing(data))
    }

    fn bump(&self) {
        static VERSIONS: AtomicU64 = AtomicU64::new(1);
        self.version
            .store(VERSIONS.fetch_add(1, Ordering::Relaxed), Ordering::Release);
    }
}

/// The data of a store, made its own by [`Store::write`]: nothing else holds it.
struct Writing<'a>(RwLockWriteGuard<'a, Arc<Data>>);

impl std::ops::Deref for Writing<'_> {
    type Target = Data;

    fn deref(&self) -> &Data {
        &self.0
    }
}

impl std::ops::DerefMut for Writing<'_> {
    fn deref_mut(&mut self) -> &mut Data {
        Arc::get_mut(&mut self.0).expect("Store::write copied shared data")
    }
}

impl Dataset for Store {
    type State = State;

    /// A store of its own for a namespace: the same seed data (same ids), and with a seed,
    /// ids and tokens that depend only on the seed and the namespace's name.
    fn fork(&self, namespace: &str) -> Store {
        let ids = Ids::for_purpose(self.random_seed, namespace);
        Store::from_seed(
            self.seed.clone(),
            ids,
            self.clock.clone(),
            self.random_seed,
            self.dummy_hash.clone(),
            (
                Some(self.namespaces_budget.clone()),
                self.namespaces_budget.clone(),
            ),
        )
    }

    /// Back to the seed data, every token revoked, ids from the start of their sequence.
    fn reset(&self) {
        *write(&self.data) = self.seed.clone();
        self.bump();
        self.ids.reset();
    }

    fn items(&self) -> usize {
        self.read().users.len()
    }

    fn capture(&self) -> State {
        State {
            data: self.read().clone(),
            ids: self.ids.state(),
        }
    }

    fn restore(&self, state: &State) {
        *write(&self.data) = state.data.clone();
        self.bump();
        self.ids.restore(state.ids.clone());
    }
}

impl Data {
    fn insert(&mut self, record: Record) {
        let id = record.user.id;
        self.emails.insert(record.email_lower().to_owned(), id);
        self.users.insert(id, Arc::new(record));
    }
}

fn rfc3339<S: Serializer>(at: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_timestamp(*at))
}

/// Argon2id with a deliberately small cost: these are test fixtures, and a production-grade
/// cost would make the mock's logins the bottleneck of every load test run against it.
fn hasher() -> Argon2<'static> {
    let params = Params::new(1024, 1, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

thread_local! {
    /// Argon2's 1 MiB work area, one per thread and reused: allocating and freeing it per
    /// hash leaves the allocator's heaps fragmented, and memory grew with every request.
    static WORK_AREA: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// The raw Argon2id output for a password and salt, computed in this thread's work area.
fn argon2_output(
    argon: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<()> {
    WORK_AREA.with(|area| {
        let mut area = area.borrow_mut();
        if area.len() < params.block_count() {
            area.resize(params.block_count(), Block::default());
        }
        argon
            .hash_password_into_with_memory(password, salt, out, &mut area[..params.block_count()])
            .map_err(|_| StoreError::Hash)
    })
}

fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let argon = hasher();
    let params = argon.params().clone();
    let mut out = [0u8; 32];
    argon2_output(&argon, &params, password.as_bytes(), &salt, &mut out)?;
    // The PHC string `$argon2id$v=19$m=1024,t=1,p=1$<salt>$<hash>`, as PasswordHasher writes it.
    let salt = SaltString::encode_b64(&salt).map_err(|_| StoreError::Hash)?;
    let hash = PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|_| StoreError::Hash)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|_| StoreError::Hash)?),
    };
    Ok(hash.to_string())
}

fn verify_password(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = vec![0u8; expected.len()];
    // Output's equality is constant-time.
    argon2_output(&argon, &params, password.as_bytes(), salt, &mut out).is_ok()
        && Output::new(&out).is_ok_and(|computed| computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        Store::new(&Seed::default(), Arc::new(Clock::new(None)))
    }

    fn new_user(email: &str) -> NewUser {
        NewUser {
            email: email.to_owned(),
            password: "pw".to_owned(),
            name: "N".to_owned(),
            role: Role::User,
        }
    }

    /// Namespaces share the seed's users: a fork that only reads costs nothing, its first
    /// write copies the index (charged to the namespaces' budget), a change copies only the
    /// user it changes, a snapshot shares until either side changes, and past the budget a
    /// write is refused whole and leaves the data as it was.
    #[test]
    fn namespaces_pay_only_for_what_they_copy_within_one_budget() {
        let seed = Seed {
            extra_users: 1000,
            ..Seed::default()
        };
        let mut default = Store::new(&seed, Arc::new(Clock::new(None)));
        let budget = Budget::new(400_000);
        default.namespaces_budget = budget.clone();
        let first = default.fork("first");
        assert_eq!(first.list(1, 1, None).total, 1002);
        assert_eq!(budget.used(), 0, "reads share the seed");
        let id = first.list(1, 1, None).items[0].id;
        first
            .update(
                id,
                UserPatch {
                    name: Some("Renamed".into()),
                    ..UserPatch::default()
                },
            )
            .unwrap();
        let after_first = budget.used();
        assert!((100_000..200_000).contains(&after_first), "{after_first}");
        assert_eq!(
            default.get(id).unwrap().name,
            "Admin User",
            "the seed is untouched"
        );
        // A snapshot shares; the write after it copies the index again.
        let snapshot = first.capture();
        assert_eq!(budget.used(), after_first);
        first.create(new_user("after@snapshot.test")).unwrap();
        let with_snapshot = budget.used();
        assert!(with_snapshot > after_first + 100_000, "{with_snapshot}");
        // A third copy would pass the budget: refused, nothing changed.
        let second = default.fork("second");
        assert!(matches!(
            second.create(new_user("over@budget.test")),
            Err(StoreError::Budget(_))
        ));
        assert_eq!(second.list(1, 1, None).total, 1002);
        // Dropping the snapshot and resetting give the bytes back.
        drop(snapshot);
        first.reset();
        assert_eq!(budget.used(), 0);
        second.create(new_user("now@fits.test")).unwrap();
    }

    #[test]
    fn emails_are_unique_ignoring_case() {
        let store = store();
        assert_eq!(
            store.create(new_user("ADMIN@example.com")).unwrap_err(),
            StoreError::EmailTaken
        );
        let user = store.create(new_user("a@b.co")).unwrap();
        let patch = UserPatch {
            email: Some("User@Example.com".into()),
            ..UserPatch::default()
        };
        assert_eq!(
            store.update(user.id, patch).unwrap_err(),
            StoreError::EmailTaken
        );
        // Changing the case of one's own email is no conflict.
        let patch = UserPatch {
            email: Some("A@B.CO".into()),
            ..UserPatch::default()
        };
        assert_eq!(store.update(user.id, patch).unwrap().email, "A@B.CO");
    }

    #[test]
    fn passwords_are_stored_salted_and_hashed() {
        let store = store();
        let data = store.read();
        let hashes: Vec<&str> = data
            .users
            .values()
            .map(|r| r.password_hash.as_str())
            .collect();
        assert!(hashes.iter().all(|h| h.starts_with("$argon2id$")));
        assert!(
            !hashes
                .iter()
                .any(|h| h.contains("admin123") || h.contains("user123"))
        );
        drop(data);
        let a = hash_password("same").unwrap();
        let b = hash_password("same").unwrap();
        assert_ne!(a, b, "a fresh salt per hash");
        assert!(verify_password("same", &a) && !verify_password("other", &a));
    }

    fn emails(page: &Page) -> Vec<String> {
        page.items
            .iter()
            .map(|u| {
                let user: serde_json::Value = serde_json::from_slice(u.json()).unwrap();
                user["email"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    #[test]
    fn search_sees_every_write() {
        let store = store();
        assert_eq!(emails(&store.list(1, 10, Some("jo"))), Vec::<&str>::new());
        let jo = store
            .create(NewUser {
                name: "Jo".into(),
                ..new_user("x@y.io")
            })
            .unwrap();
        assert_eq!(emails(&store.list(1, 10, Some("JO"))), ["x@y.io"]);
        let patch = UserPatch {
            name: Some("Kim".into()),
            ..UserPatch::default()
        };
        store.update(jo.id, patch).unwrap();
        assert_eq!(store.list(1, 10, Some("jo")).total, 0);
        assert_eq!(emails(&store.list(1, 10, Some("kim"))), ["x@y.io"]);
        store.delete(jo.id).unwrap();
        assert_eq!(store.list(1, 10, Some("kim")).total, 0);
        store.create(new_user("kim@y.io")).unwrap();
        store.reset();
        assert_eq!(store.list(1, 10, Some("kim")).total, 0);
    }

    #[test]
    fn search_never_matches_across_fields_or_users() {
        let store = store();
        // The admin's text ends "admin@example.com" and the next user's begins "test user":
        // in the index they touch, yet no search may match across them.
        for needle in ["example.comtest", ".comt", "user\0user", "r\0u", "\0"] {
            assert_eq!(store.list(1, 10, Some(needle)).total, 0, "{needle:?}");
        }
        assert_eq!(store.list(1, 10, Some("user")).total, 2);
        assert_eq!(
            emails(&store.list(2, 1, Some("EXAMPLE"))),
            ["user@example.com"]
        );
    }

    #[test]
    fn extra_users_are_part_of_the_seed() {
        let seed = Seed {
            extra_users: 1000,
            ..Seed::default()
        };
        let store = Store::new(&seed, Arc::new(Clock::new(None)));
        assert_eq!(store.items(), 1002);
        store
            .delete(store.list(1, 1, Some("user1000@")).items[0].id)
            .unwrap();
        store.reset();
        assert_eq!(store.items(), 1002);
        assert!(store.login("USER7@load.test", EXTRA_USERS_PASSWORD).is_ok());
    }
}
