//! The data of one namespace: users in creation order, each a record that keeps its JSON
//! written once, and the email and token indexes.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use indexmap::IndexMap;
use uuid::Uuid;

use super::model::{Shown, User};
use crate::core::budget::Charge;

#[derive(Debug, Clone, Default)]
pub(super) struct Data {
    /// Users in creation order, which is the order of listing; each shared by the copies
    /// of the data that did not change it.
    pub(super) users: IndexMap<Uuid, Arc<Record>>,
    /// Lower-cased email to id: the uniqueness index.
    pub(super) emails: HashMap<String, Uuid>,
    /// Bearer token to the id of its user.
    pub(super) tokens: HashMap<String, Uuid>,
    /// The bytes this copy holds against the namespaces' budget.
    pub(super) charge: Charge,
}

/// Bytes of an index entry beside its key, as counted against the budget (a map's slot, a
/// pointer, a hash).
pub(super) const ENTRY_BYTES: usize = 64;

impl Data {
    /// What a copy of the index costs: its entries and its keys, not the users.
    pub(super) fn copy_bytes(&self) -> usize {
        let keys: usize = self.emails.keys().map(String::len).sum::<usize>()
            + self.tokens.keys().map(String::len).sum::<usize>();
        keys + ENTRY_BYTES * (self.users.len() + self.emails.len() + self.tokens.len())
    }
}

#[derive(Debug, Clone)]
pub(super) struct Record {
    pub(super) user: User,
    pub(super) password_hash: String,
    /// `name\0email`, lower-cased once here so that a search does not lower-case every user,
    /// and joined so that it runs one substring search per user rather than two.
    pub(super) haystack: String,
    /// Where the email starts in `haystack`.
    pub(super) email_at: usize,
    /// The user's JSON, rendered at its first read after a change.
    pub(super) shown: OnceLock<Shown>,
}

impl Record {
    pub(super) fn new(user: User, password_hash: String) -> Record {
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
    pub(super) fn index(&mut self) {
        self.shown = OnceLock::new();
        self.haystack = self.user.name.to_lowercase();
        self.haystack.push('\0');
        self.email_at = self.haystack.len();
        self.haystack.push_str(&self.user.email.to_lowercase());
    }

    /// What it holds, as counted against the budget.
    pub(super) fn bytes(&self) -> usize {
        self.user.email.len()
            + self.user.name.len()
            + self.password_hash.len()
            + self.haystack.len()
            + size_of::<Record>()
            + ENTRY_BYTES
    }

    pub(super) fn shown(&self) -> Shown {
        self.shown.get_or_init(|| Shown::render(&self.user)).clone()
    }

    /// Whether the lower-cased needle is in the name or in the email (not across the two).
    pub(super) fn matches(&self, needle_lower: &str) -> bool {
        self.name_lower().contains(needle_lower) || self.email_lower().contains(needle_lower)
    }

    pub(super) fn email_lower(&self) -> &str {
        &self.haystack[self.email_at..]
    }

    pub(super) fn name_lower(&self) -> &str {
        &self.haystack[..self.email_at - 1]
    }
}

impl Data {
    pub(super) fn insert(&mut self, record: Record) {
        let id = record.user.id;
        self.emails.insert(record.email_lower().to_owned(), id);
        self.users.insert(id, Arc::new(record));
    }
}
