//! Seed users from a file (`--data users.json`), checked at start-up by the API's own rules,
//! with an error that names the bad record.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;
use uuid::Uuid;

use crate::core::clock;
use crate::core::files::{FileError, read_file, records};
use crate::engines::users::store::{Role, SeedUser};
use crate::engines::users::validate::Field;

/// One record as the file has it: the API's user, with a password instead of a hash.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    id: Option<String>,
    email: String,
    password: String,
    name: String,
    role: Option<String>,
    created_at: Option<String>,
}

/// Reads a JSON (or YAML) file holding an array of users, or an object with a `users` array.
pub fn load(path: &Path) -> Result<Vec<SeedUser>, FileError> {
    read_file(path, parse)
}

pub fn parse(text: &str) -> Result<Vec<SeedUser>, String> {
    let records = records(text, "users")?;
    let mut users = Vec::with_capacity(records.len());
    let mut emails = HashSet::new();
    let mut ids = HashSet::new();
    for (index, record) in records.into_iter().enumerate() {
        let name = describe(index, &record);
        let user = user(record).map_err(|e| format!("{name}: {e}"))?;
        if !emails.insert(user.email.to_lowercase()) {
            return Err(format!(
                "{name}: email is already taken by an earlier record"
            ));
        }
        if let Some(id) = user.id
            && !ids.insert(id)
        {
            return Err(format!(
                "{name}: id {id} is already taken by an earlier record"
            ));
        }
        users.push(user);
    }
    Ok(users)
}

/// `record 3 (bob@example.com)`: counted from 1, as people count.
fn describe(index: usize, record: &serde_json::Value) -> String {
    match record.get("email").and_then(serde_json::Value::as_str) {
        Some(email) => format!("record {} ({email})", index + 1),
        None => format!("record {}", index + 1),
    }
}

fn user(record: serde_json::Value) -> Result<SeedUser, String> {
    let record: Record = serde_json::from_value(record).map_err(|e| e.to_string())?;
    let check =
        |field: Field, name: &str, value: &str| field.check(name, value).map_err(|e| e.to_string());
    check(Field::Email, "email", &record.email)?;
    check(Field::Password, "password", &record.password)?;
    check(Field::Name, "name", &record.name)?;
    let role = match record.role.as_deref() {
        None => Role::User,
        Some(role) => Role::parse(role)
            .ok_or_else(|| format!("role must be one of: {}", Role::NAMES.join(", ")))?,
    };
    let id = record
        .id
        .map(|id| Uuid::parse_str(&id).map_err(|_| format!("id `{id}` is not a UUID")))
        .transpose()?;
    let created_at = record
        .created_at
        .map(|at| clock::parse(&at).map_err(|e| format!("created_at: {e}")))
        .transpose()?;
    Ok(SeedUser {
        id,
        email: record.email,
        password: record.password,
        name: record.name,
        role,
        created_at,
    })
}

/// Seed users that cannot go together.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("--data holds {0}, an email --extra-users also makes; take another")]
    ExtraUserEmail(String),
}

/// `--extra-users` makes `user{i}@load.test`: none of them may be an email `--data` holds.
pub fn check_extra_users(users: Option<&[SeedUser]>, extra_users: usize) -> Result<(), SeedError> {
    for user in users.into_iter().flatten() {
        let email = user.email.to_ascii_lowercase();
        let number = email
            .strip_prefix("user")
            .and_then(|rest| rest.strip_suffix("@load.test"))
            .filter(|n| !n.starts_with('0'))
            .and_then(|n| n.parse::<usize>().ok());
        if number.is_some_and(|n| (1..=extra_users).contains(&n)) {
            return Err(SeedError::ExtraUserEmail(user.email.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn records_are_checked_and_named() {
        let users = parse(
            r#"[{"email": "a@b.io", "password": "pw", "name": "A", "role": "admin",
                 "id": "00000000-0000-4000-8000-000000000001"}]"#,
        )
        .unwrap();
        assert_eq!(users[0].email, "a@b.io");
        let yaml = "users:\n  - {email: a@b.io, password: pw, name: A}\n  - {email: nope, password: pw, name: B}\n";
        assert_eq!(
            parse(yaml).unwrap_err(),
            "record 2 (nope): email must be a valid email address"
        );
        let twice = r#"[{"email": "a@b.io", "password": "p", "name": "A"},
                        {"email": "A@B.IO", "password": "p", "name": "B"}]"#;
        assert!(
            parse(twice)
                .unwrap_err()
                .starts_with("record 2 (A@B.IO): email is already taken")
        );
        let unknown = r#"[{"email": "a@b.io", "password": "p", "name": "A", "pasword": "x"}]"#;
        assert!(
            parse(unknown)
                .unwrap_err()
                .contains("unknown field `pasword`")
        );
        assert!(parse("{}").unwrap_err().contains("expected an array"));
    }
}
