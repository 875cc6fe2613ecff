//! Background tasks (catalog refreshes, location processing, SQLite checkpoints): spawned with a
//! cancellation token, and awaited at shutdown so none is cut off in the middle of a write.

use std::future::Future;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Background tasks: spawned with a cancellation token, awaited at shutdown.
#[derive(Clone, Default)]
pub struct Background {
    tracker: TaskTracker,
    cancel: CancellationToken,
}

impl Background {
    /// Runs `task` until it returns; it must return soon after its token is cancelled.
    pub fn spawn<F, Fut>(&self, task: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.tracker.spawn(task(self.cancel.clone()));
    }

    /// How many tasks are running now.
    pub fn running(&self) -> usize {
        self.tracker.len()
    }

    /// Cancels every task and waits up to `within` for them to return.
    pub async fn stop(&self, within: std::time::Duration) {
        self.cancel.cancel();
        self.tracker.close();
        if tokio::time::timeout(within, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("background tasks did not stop within {}s", within.as_secs());
        }
    }
}
