//! Counts in this process: one replica, or the fallback while Redis is down.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{BackendError, CounterStore};

/// Past this many keys, counts of finished windows are dropped.
const PRUNE_AT: usize = 10_000;

/// Counts in this process.
#[derive(Default)]
pub struct MemoryCounters {
    counts: Mutex<HashMap<String, (u64, u64)>>,
}

#[async_trait]
impl CounterStore for MemoryCounters {
    async fn increment(&self, key: &str, window_start: u64) -> Result<u64, BackendError> {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if counts.len() >= PRUNE_AT {
            counts.retain(|_, (window, _)| *window >= window_start);
        }
        let entry = counts.entry(key.to_owned()).or_insert((window_start, 0));
        if entry.0 != window_start {
            *entry = (window_start, 0);
        }
        entry.1 += 1;
        Ok(entry.1)
    }
}
