//! The rules of a user's fields, shared by the API and the seed data file.

use crate::core::error::AppError;

/// The kinds of string field a body can carry, with their rules (as in the spec).
#[derive(Clone, Copy)]
pub enum Field {
    Email,
    LoginEmail,
    Name,
    Password,
}

impl Field {
    pub fn check(self, name: &str, value: &str) -> Result<(), AppError> {
        let (min, max) = match self {
            Field::Email => (3, 254),
            Field::LoginEmail => (1, 254),
            Field::Name => (1, 100),
            Field::Password => (1, 128),
        };
        check_length(name, value, min, max).map_err(AppError::Validation)?;
        if matches!(self, Field::Email) && !email_address::EmailAddress::is_valid(value) {
            return Err(AppError::Validation(format!(
                "{name} must be a valid email address"
            )));
        }
        Ok(())
    }
}

/// Lengths count characters, as JSON Schema's `minLength` and `maxLength` do.
pub fn check_length(name: &str, value: &str, min: usize, max: usize) -> Result<(), String> {
    let length = value.chars().count();
    if length < min {
        return Err(if min == 1 {
            format!("{name} must not be empty")
        } else {
            format!("{name} must be at least {min} characters")
        });
    }
    if length > max {
        return Err(format!("{name} must be at most {max} characters"));
    }
    Ok(())
}
