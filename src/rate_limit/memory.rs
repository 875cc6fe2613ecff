//! Counts in this process: one replica, or the fallback while Redis is down.
//!
//! Only the current window's counts are kept: when a request belongs to a later window, the map
//! of the finished one is swapped out whole (and freed off the request's thread), so a request
//! costs one hash-map update however many keys a minute brings (one IPv6 /64 gives an attacker
//! millions of client addresses).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{BackendError, CounterStore};

/// Counts in this process.
#[derive(Default)]
pub struct MemoryCounters {
    window: Mutex<Window>,
}

#[derive(Default)]
struct Window {
    /// Epoch seconds at which the counted window starts.
    start: u64,
    counts: HashMap<String, u64>,
}

impl MemoryCounters {
    /// Keys counted in the current window.
    pub fn keys(&self) -> usize {
        self.lock().counts.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        self.window
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl CounterStore for MemoryCounters {
    async fn increment(&self, key: &str, window_start: u64) -> Result<u64, BackendError> {
        let mut finished = None;
        let count = {
            let mut window = self.lock();
            if window_start > window.start {
                window.start = window_start;
                finished = Some(std::mem::take(&mut window.counts));
            }
            // A request that read the clock just before the window turned counts in the new one.
            match window.counts.get_mut(key) {
                Some(count) => {
                    *count += 1;
                    *count
                }
                None => {
                    window.counts.insert(key.to_owned(), 1);
                    1
                }
            }
        };
        if let Some(finished) = finished.filter(|counts| !counts.is_empty()) {
            release(finished);
        }
        Ok(count)
    }
}

/// Frees a finished window's counts on a blocking thread when there is a runtime: dropping
/// 100,000 keys takes milliseconds, which one unlucky request would otherwise wait for.
fn release(counts: HashMap<String, u64>) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn_blocking(move || drop(counts));
        }
        Err(_) => drop(counts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_per_key_and_forgets_finished_windows() {
        let counters = MemoryCounters::default();
        for i in 0..1000 {
            counters.increment(&format!("ip:{i}"), 60).await.unwrap();
        }
        assert_eq!(counters.increment("ip:7", 60).await.unwrap(), 2);
        assert_eq!(counters.keys(), 1000);
        // The next window starts from zero and keeps only its own keys.
        assert_eq!(counters.increment("ip:7", 120).await.unwrap(), 1);
        assert_eq!(counters.keys(), 1);
        // A late request of the finished window counts in the current one.
        assert_eq!(counters.increment("ip:7", 60).await.unwrap(), 2);
    }
}
