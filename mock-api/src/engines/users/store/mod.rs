//! The users and their tokens, and every rule that does not depend on HTTP: unique emails
//! (ignoring case), salted password hashes, unguessable tokens, revocation, reset to the seed.

mod hashing;
mod model;
mod record;
mod search;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use rand::rngs::StdRng;
use uuid::Uuid;

use crate::core::budget::{Budget, Charge};
use crate::core::clock::Clock;
use crate::core::engine::Dataset;
use crate::core::ids::Ids;
use crate::core::limits::NAMESPACE_BYTES;
use crate::core::sync::{lock, read, write};
use hashing::{hash_password, verify_password};
pub use model::{
    EXTRA_USERS_PASSWORD, NewUser, Page, Result, Role, SEED_USERS, Seed, SeedUser, Session, Shown,
    StoreError, User, UserPatch,
};
use record::{Data, ENTRY_BYTES, Record};
use search::SearchIndex;

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
