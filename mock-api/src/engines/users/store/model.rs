//! What the store holds and answers: users as the API shows them, the seed, sessions,
//! pages of a listing, and the store's errors.

use axum::body::Bytes;
use serde::{Serialize, Serializer};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::core::budget::OverBudget;
use crate::core::clock::format_timestamp;

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
    pub(super) json: Bytes,
}

impl Shown {
    pub(super) fn render(user: &User) -> Shown {
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

pub(super) fn rfc3339<S: Serializer>(
    at: &OffsetDateTime,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_timestamp(*at))
}
