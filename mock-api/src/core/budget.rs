//! The byte budget that the named namespaces' data share. A namespace starts on the seed's
//! data, shared, and pays only for what it copies when it first writes (the index of its
//! items, not the items) and for what it adds; a snapshot shares what did not change. Each
//! copy carries a [`Charge`] that gives its bytes back when the last holder (the live data
//! or a snapshot) drops it, so the budget is what is really held.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::core::error::AppError;

/// A charge past the budget: nothing was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the namespaces' data would hold more than {0} bytes together")]
pub struct OverBudget(pub usize);

impl From<OverBudget> for AppError {
    fn from(over: OverBudget) -> AppError {
        AppError::NamespaceBudget(over.0)
    }
}

/// Bytes all the named namespaces' copies may hold together.
#[derive(Debug)]
pub struct Budget {
    used: AtomicUsize,
    limit: usize,
}

impl Budget {
    pub fn new(limit: usize) -> Arc<Budget> {
        Arc::new(Budget {
            used: AtomicUsize::new(0),
            limit,
        })
    }

    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Takes `bytes`, or refuses (409) without taking anything.
    fn take(&self, bytes: usize) -> Result<(), OverBudget> {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|total| *total <= self.limit)
            })
            .map(drop)
            .map_err(|_| OverBudget(self.limit))
    }

    fn give_back(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::AcqRel);
    }
}

/// Bytes a copy of a namespace's data holds against a [`Budget`] (none for the default
/// namespace, which is not budgeted). A clone is not charged: the copy that needs charging
/// asks for its own ([`Charge::new`]).
#[derive(Debug, Default)]
pub struct Charge {
    budget: Option<Arc<Budget>>,
    bytes: usize,
}

impl Charge {
    /// A charge of `bytes` against `budget`, if any; refused when it would go past it.
    pub fn new(budget: Option<&Arc<Budget>>, bytes: usize) -> Result<Charge, OverBudget> {
        if let Some(budget) = budget {
            budget.take(bytes)?;
        }
        Ok(Charge {
            budget: budget.cloned(),
            bytes,
        })
    }

    /// `bytes` more for what the copy grew by; refused, with nothing taken, past the budget.
    pub fn grow(&mut self, bytes: usize) -> Result<(), OverBudget> {
        if let Some(budget) = &self.budget {
            budget.take(bytes)?;
            self.bytes += bytes;
        }
        Ok(())
    }
}

impl Clone for Charge {
    fn clone(&self) -> Charge {
        Charge::default()
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        if let Some(budget) = &self.budget {
            budget.give_back(self.bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_are_refused_past_the_budget_and_given_back_when_dropped() {
        let budget = Budget::new(100);
        let mut first = Charge::new(Some(&budget), 60).unwrap();
        assert!(Charge::new(Some(&budget), 50).is_err());
        assert_eq!(budget.used(), 60);
        assert!(first.grow(50).is_err());
        first.grow(40).unwrap();
        assert_eq!(budget.used(), 100);
        drop(first);
        assert_eq!(budget.used(), 0);
        // The default namespace is not budgeted.
        assert!(Charge::new(None, usize::MAX).is_ok());
    }
}
