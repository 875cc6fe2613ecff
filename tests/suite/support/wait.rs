//! Waiting for a condition, never for a fixed time: a test polls what it waits for, and fails
//! with a clear message if it does not come within a generous bound.

use std::time::{Duration, Instant};

/// Polls `condition` until it holds; fails the test if it still does not after `timeout`. Polls
/// start 5 ms apart and back off to 100 ms.
pub async fn wait_until(mut condition: impl AsyncFnMut() -> bool, timeout: Duration) {
    wait_for(async || condition().await.then_some(()), timeout).await;
}

/// Polls `probe` until it gives a value, and returns it; fails the test after `timeout`.
pub async fn wait_for<T>(mut probe: impl AsyncFnMut() -> Option<T>, timeout: Duration) -> T {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "still waiting after {timeout:?} for what the test expects"
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}
