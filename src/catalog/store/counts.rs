//! Counts of recent queries, kept while nothing changes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counts of recent queries (by-query's `totalItems`), valid until the catalog next changes. Only
/// where this process makes every change (SQLite); with PostgreSQL other replicas write too, so
/// the cache is off and every count is computed.
#[derive(Debug)]
pub struct CountCache {
    enabled: bool,
    generation: AtomicU64,
    entries: Mutex<HashMap<String, (u64, i64)>>,
}

/// Most counts kept; the cache starts over when full.
const COUNT_CACHE_ENTRIES: usize = 1024;

impl CountCache {
    pub fn new(enabled: bool) -> CountCache {
        CountCache {
            enabled,
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The catalog's version now; read it before counting, so a change committed meanwhile makes
    /// the new entry stale at once.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn get(&self, key: &str, generation: u64) -> Option<i64> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(g, _)| *g == generation)
            .map(|(_, count)| *count)
    }

    pub fn put(&self, key: String, generation: u64, count: i64) {
        if !self.enabled {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= COUNT_CACHE_ENTRIES {
                entries.clear();
            }
            entries.insert(key, (generation, count));
        }
    }

    /// See [`EntityReads::version`](super::EntityReads::version).
    pub fn version(&self) -> Option<u64> {
        self.enabled.then(|| self.generation())
    }

    /// Called after every committed change to entities.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}
