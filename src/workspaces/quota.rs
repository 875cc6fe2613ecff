//! One owner's quota check and the create or start it allows run under that owner's lock, so
//! `workspaces.max_running_per_user` holds under any concurrency: ten simultaneous creates at a
//! quota of three leave exactly three. The lock is an in-process mutex (requests of this replica
//! queue without touching the database) and a lease row in the database (replicas sharing
//! PostgreSQL, in either driver), released as soon as the change is made.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OwnedMutexGuard;

use crate::db::lease::LeaseStore;

/// How long a lease outlives a replica that died holding it.
const LEASE_TTL: Duration = Duration::from_secs(30);
/// How long a create or start waits for another replica's change for the same owner.
const WAIT: Duration = Duration::from_secs(10);
/// Pause between two tries for a lease another replica holds.
const RETRY: Duration = Duration::from_millis(20);
/// Past this many owners, the mutexes nobody holds are forgotten.
const PRUNE_AT: usize = 1024;

/// Another replica kept the owner's lock for longer than [`WAIT`], or the database failed.
#[derive(Debug, thiserror::Error)]
pub enum QuotaLockError {
    /// Another replica held the lock past the wait.
    #[error("another change to this user's workspaces is still under way")]
    Busy,
    /// The lease could not be read or written.
    #[error(transparent)]
    Store(#[from] crate::db::StoreError),
}

/// Every owner's lock.
pub struct QuotaLocks {
    local: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    leases: Arc<dyn LeaseStore>,
}

/// Held while an owner's quota is checked and used; [`QuotaGuard::release`] gives it back.
pub struct QuotaGuard {
    lease: Option<(String, String, Arc<dyn LeaseStore>)>,
    _local: OwnedMutexGuard<()>,
}

impl QuotaLocks {
    /// Locks held in this process and as leases in `leases`.
    pub fn new(leases: Arc<dyn LeaseStore>) -> QuotaLocks {
        QuotaLocks {
            local: Mutex::new(HashMap::new()),
            leases,
        }
    }

    /// Waits for `owner`'s lock (the owner's subject).
    pub async fn lock(&self, owner: &str) -> Result<QuotaGuard, QuotaLockError> {
        let mutex = {
            let mut local = self
                .local
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if local.len() >= PRUNE_AT {
                local.retain(|_, m| Arc::strong_count(m) > 1);
            }
            local.entry(owner.to_owned()).or_default().clone()
        };
        let local = tokio::time::timeout(WAIT, mutex.lock_owned())
            .await
            .map_err(|_| QuotaLockError::Busy)?;
        let name = format!("workspaces:quota:{owner}");
        let holder = uuid::Uuid::new_v4().to_string();
        let deadline = tokio::time::Instant::now() + WAIT;
        while !self
            .leases
            .try_acquire(&name, &holder, now_ms(), LEASE_TTL)
            .await?
        {
            if tokio::time::Instant::now() >= deadline {
                return Err(QuotaLockError::Busy);
            }
            tokio::time::sleep(RETRY).await;
        }
        Ok(QuotaGuard {
            lease: Some((name, holder, self.leases.clone())),
            _local: local,
        })
    }
}

impl QuotaGuard {
    /// Gives the lock back once the change is made (or refused).
    pub async fn release(mut self) {
        if let Some((name, holder, leases)) = self.lease.take()
            && let Err(e) = leases.release(&name, &holder).await
        {
            tracing::warn!(error = %e, lease = %name, "releasing a workspace quota lease failed; it expires by itself");
        }
    }
}

impl Drop for QuotaGuard {
    /// A request dropped half-way (the client left) still gives the lease back.
    fn drop(&mut self) {
        if let Some((name, holder, leases)) = self.lease.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = leases.release(&name, &holder).await;
            });
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
