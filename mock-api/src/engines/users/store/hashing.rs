//! Password hashes: Argon2id at a small cost, its work area reused per thread, and a
//! comparison that takes as long for an unknown email.

use std::cell::RefCell;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, Version};
use rand::RngCore;

use super::model::{Result, StoreError};

/// Argon2id with a deliberately small cost: these are test fixtures, and a production-grade
/// cost would make the mock's logins the bottleneck of every load test run against it.
pub(super) fn hasher() -> Argon2<'static> {
    let params = Params::new(1024, 1, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

thread_local! {
    /// Argon2's 1 MiB work area, one per thread and reused: allocating and freeing it per
    /// hash leaves the allocator's heaps fragmented, and memory grew with every request.
    static WORK_AREA: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// The raw Argon2id output for a password and salt, computed in this thread's work area.
pub(super) fn argon2_output(
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

pub(super) fn hash_password(password: &str) -> Result<String> {
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

pub(super) fn verify_password(password: &str, hash: &str) -> bool {
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
