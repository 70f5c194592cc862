//! Where every generated id, token and random draw comes from: the OS's CSPRNG, or with
//! `--seed` a ChaCha generator that gives the same sequence every run (and tokens anyone
//! with the seed can guess: tests only).

use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use uuid::Uuid;

use crate::core::sync::lock;

#[derive(Debug)]
pub struct Ids {
    /// The state a reset goes back to, and the current one.
    seeded: Option<(StdRng, Mutex<StdRng>)>,
}

impl Ids {
    pub fn new(seed: Option<u64>) -> Ids {
        Ids {
            seeded: seed.map(|seed| {
                let rng = StdRng::seed_from_u64(seed);
                (rng.clone(), Mutex::new(rng))
            }),
        }
    }

    /// A sequence of its own for one purpose (a namespace's name, say): the seed mixed with
    /// the purpose, so that each repeats whatever the others do.
    pub fn for_purpose(seed: Option<u64>, purpose: &str) -> Ids {
        Ids::new(seed.map(|seed| mix(seed, purpose)))
    }

    /// Runs `f` with the generator.
    pub fn with<R>(&self, f: impl FnOnce(&mut dyn RngCore) -> R) -> R {
        match &self.seeded {
            Some((_, rng)) => f(&mut *lock(rng)),
            None => f(&mut rand::rng()),
        }
    }

    pub fn uuid(&self) -> Uuid {
        let mut bytes = [0u8; 16];
        self.with(|rng| rng.fill_bytes(&mut bytes));
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// 256 bits, hex-encoded.
    pub fn token(&self) -> String {
        let mut bytes = [0u8; 32];
        self.with(|rng| rng.fill_bytes(&mut bytes));
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn state(&self) -> Option<StdRng> {
        self.seeded.as_ref().map(|(_, rng)| lock(rng).clone())
    }

    pub fn restore(&self, state: Option<StdRng>) {
        if let (Some((_, rng)), Some(state)) = (&self.seeded, state) {
            *lock(rng) = state;
        }
    }

    /// Back to the start of the sequence (or to where [`Ids::rebase`] put it).
    pub fn reset(&self) {
        self.restore(self.seeded.as_ref().map(|(initial, _)| initial.clone()));
    }

    /// Makes the current state the one a reset goes back to.
    pub fn rebase(&mut self) {
        if let Some((initial, rng)) = &mut self.seeded {
            *initial = rng
                .get_mut()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
        }
    }
}

/// The seed mixed with a name (FNV-1a).
fn mix(seed: u64, purpose: &str) -> u64 {
    seed.to_le_bytes()
        .iter()
        .chain(purpose.as_bytes())
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}
