//! Counts in Redis, shared by every replica: `INCR` plus `EXPIRE` in one transaction per request.
//! Calls are bounded by `rate_limit.redis_timeout`; after a failure Redis is left alone for a
//! second, so an outage costs requests no waiting.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{BackendError, CounterStore, WINDOW_SECS};

const BACKOFF: Duration = Duration::from_secs(1);

/// Counts in Redis, shared by every replica.
pub struct RedisCounters {
    connection: ConnectionManager,
    timeout: Duration,
    started: Instant,
    /// Milliseconds since `started` before which Redis is not tried again.
    skip_until_ms: AtomicU64,
}

impl RedisCounters {
    /// Does not connect yet: the server starts (and serves) even while Redis is down.
    pub fn new(url: &str, timeout: Duration) -> anyhow::Result<RedisCounters> {
        let client = redis::Client::open(url).map_err(|e| {
            anyhow::anyhow!(
                "rate_limit.redis_url: {}",
                crate::config::redact_url(&e.to_string())
            )
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| anyhow::anyhow!("cannot set up the Redis connection: {e}"))?;
        Ok(RedisCounters {
            connection,
            timeout,
            started: Instant::now(),
            skip_until_ms: AtomicU64::new(0),
        })
    }

    fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}

#[async_trait]
impl CounterStore for RedisCounters {
    async fn increment(&self, key: &str, window_start: u64) -> Result<u64, BackendError> {
        if self.elapsed_ms() < self.skip_until_ms.load(Ordering::Relaxed) {
            return Err(BackendError(
                "Redis failed recently; not retrying yet".into(),
            ));
        }
        let key = format!("fawkes-portal:rate:{key}:{window_start}");
        let mut connection = self.connection.clone();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .incr(&key, 1u64)
            .expire(&key, (2 * WINDOW_SECS) as i64)
            .ignore();
        let call = pipe.query_async::<(u64,)>(&mut connection);
        let result = match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok((count,))) => return Ok(count),
            Ok(Err(err)) => BackendError(err.to_string()),
            Err(_) => BackendError(format!("no answer within {}ms", self.timeout.as_millis())),
        };
        self.skip_until_ms.store(
            self.elapsed_ms() + BACKOFF.as_millis() as u64,
            Ordering::Relaxed,
        );
        Err(result)
    }

    async fn ping(&self) -> Result<(), BackendError> {
        let mut connection = self.connection.clone();
        let ping = redis::cmd("PING");
        let call = ping.query_async::<String>(&mut connection);
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => Err(BackendError(err.to_string())),
            Err(_) => Err(BackendError(format!(
                "no answer within {}ms",
                self.timeout.as_millis()
            ))),
        }
    }
}
