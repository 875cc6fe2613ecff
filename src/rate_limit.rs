//! Per-principal rate limits over fixed one-minute windows (aligned to the wall-clock minute, so
//! `X-RateLimit-Reset` is the exact moment the budget refills). Counting is one atomic increment
//! per request, so under any concurrency exactly `limit` requests are admitted per window and
//! `Remaining` never goes up within one. Counts live in this process ([`memory`]) or in Redis
//! ([`redis`]), shared by every replica. If Redis fails, the limiter either keeps serving with each
//! replica counting on its own (`open`, the default) or answers 503 (`closed`); it never fails a
//! request with a 500 because of Redis.

pub mod memory;
pub mod redis;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use crate::clock::Clock;
use crate::config::RateLimitConfig;
use crate::config::rate_limit::{Backend, FailureMode};
use crate::principal::{Principal, PrincipalKind};

/// The window every limit is counted over.
pub const WINDOW_SECS: u64 = 60;

/// Where counts are kept.
#[async_trait]
pub trait CounterStore: Send + Sync + 'static {
    /// Adds one to `key`'s count in the window starting at `window_start` (epoch seconds) and
    /// returns the new count.
    async fn increment(&self, key: &str, window_start: u64) -> Result<u64, BackendError>;
    /// Whether the store answers now (readiness, when a failing store refuses requests).
    async fn ping(&self) -> Result<(), BackendError> {
        Ok(())
    }
}

/// A counter store failed; the message says how.
#[derive(Debug, thiserror::Error)]
#[error("rate-limit backend failed: {0}")]
pub struct BackendError(pub String);

/// Limiting cannot be done and the configuration says to refuse (fail-closed). The 503 still
/// carries the `X-RateLimit-*` headers: the bucket's limit, nothing remaining, and the window's
/// end; and `Retry-After` of [`Unavailable::RETRY_AFTER`] seconds.
#[derive(Debug, thiserror::Error)]
#[error("Rate limiting is unavailable; try again shortly")]
pub struct Unavailable {
    /// The bucket's requests per minute.
    pub limit: u64,
    /// Epoch seconds at which the current window ends.
    pub reset: u64,
}

impl Unavailable {
    /// The backend is tried again about every second.
    pub const RETRY_AFTER: u64 = 1;
}

/// Whose budget a request spends.
#[derive(Debug, Clone, Copy)]
pub enum Bucket<'a> {
    /// An authenticated caller's requests.
    Principal(&'a Principal),
    /// Requests with missing or invalid credentials, by client address.
    Anonymous(Option<IpAddr>),
}

/// The outcome for one request, and the numbers for its `X-RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// The bucket's requests per minute.
    pub limit: u64,
    /// Requests left in this window.
    pub remaining: u64,
    /// Epoch seconds at which the window resets.
    pub reset: u64,
    /// Seconds until then (at least 1).
    pub retry_after: u64,
}

/// Admits or refuses each request against its bucket's budget for the current minute.
pub struct RateLimiter {
    config: RateLimitConfig,
    store: Arc<dyn CounterStore>,
    /// Counts in process while a shared backend fails and the mode is `open`.
    fallback: memory::MemoryCounters,
    /// Counts of public routes, always in process: probes and scrapes never wait for, or fail
    /// with, a shared backend.
    public: memory::MemoryCounters,
    clock: Arc<dyn Clock>,
    last_warning: AtomicU64,
}

impl RateLimiter {
    /// The limiter `config` describes, counting in process or in Redis, on `clock`.
    pub fn from_config(
        config: &RateLimitConfig,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<RateLimiter> {
        let store: Arc<dyn CounterStore> = match &config.backend {
            Backend::Memory => Arc::new(memory::MemoryCounters::default()),
            Backend::Redis { url } => {
                Arc::new(redis::RedisCounters::new(url, config.redis_timeout)?)
            }
        };
        Ok(Self::with_store(config, store, clock))
    }

    /// The limiter over a given counter store (tests pass one that fails).
    pub fn with_store(
        config: &RateLimitConfig,
        store: Arc<dyn CounterStore>,
        clock: Arc<dyn Clock>,
    ) -> RateLimiter {
        RateLimiter {
            config: config.clone(),
            store,
            fallback: memory::MemoryCounters::default(),
            public: memory::MemoryCounters::default(),
            clock,
            last_warning: AtomicU64::new(0),
        }
    }

    /// Requests per minute for a bucket: a per-subject override, else the kind's default.
    pub fn limit(&self, bucket: Bucket<'_>) -> u64 {
        match bucket {
            Bucket::Principal(principal) => self
                .config
                .overrides
                .get(&principal.subject)
                .copied()
                .unwrap_or(match principal.kind {
                    PrincipalKind::User => self.config.user_per_minute,
                    PrincipalKind::Service => self.config.service_per_minute,
                }),
            Bucket::Anonymous(_) => self.config.anonymous_per_minute,
        }
    }

    /// Counts one request against `bucket` and says whether it may proceed.
    pub async fn check(&self, bucket: Bucket<'_>) -> Result<Decision, Unavailable> {
        let limit = self.limit(bucket);
        let key = match bucket {
            Bucket::Principal(p) if p.kind == PrincipalKind::User => format!("user:{}", p.subject),
            Bucket::Principal(p) => format!("service:{}", p.subject),
            Bucket::Anonymous(Some(ip)) => format!("ip:{ip}"),
            Bucket::Anonymous(None) => "ip:unknown".to_owned(),
        };
        let now = self.clock.now().as_secs();
        let window_start = now - now % WINDOW_SECS;
        let count = match self.store.increment(&key, window_start).await {
            Ok(count) => count,
            Err(err) => {
                self.report(&err, now);
                if self.config.on_backend_failure == FailureMode::Closed {
                    return Err(Unavailable {
                        limit,
                        reset: window_start + WINDOW_SECS,
                    });
                }
                self.fallback
                    .increment(&key, window_start)
                    .await
                    .unwrap_or(1)
            }
        };
        let reset = window_start + WINDOW_SECS;
        let allowed = count <= limit;
        if !allowed {
            metrics::counter!("rate_limited_requests_total", "bucket" => bucket_label(bucket))
                .increment(1);
        }
        Ok(Decision {
            allowed,
            limit,
            remaining: limit.saturating_sub(count),
            reset,
            retry_after: (reset - now).max(1),
        })
    }

    /// Counts one request to a public route (or an unknown path) against its client address's
    /// `rate_limit.public_per_minute`, in this process.
    pub async fn check_public(&self, address: Option<IpAddr>) -> Decision {
        let limit = self.config.public_per_minute;
        let key = address.map_or_else(|| "public:unknown".to_owned(), |ip| format!("public:{ip}"));
        let now = self.clock.now().as_secs();
        let window_start = now - now % WINDOW_SECS;
        let count = self.public.increment(&key, window_start).await.unwrap_or(1);
        let reset = window_start + WINDOW_SECS;
        let allowed = count <= limit;
        if !allowed {
            metrics::counter!("rate_limited_requests_total", "bucket" => "public").increment(1);
        }
        Decision {
            allowed,
            limit,
            remaining: limit.saturating_sub(count),
            reset,
            retry_after: (reset - now).max(1),
        }
    }

    /// Whether guarded requests can be served: with `on_backend_failure = closed`, only while
    /// the shared backend answers (every guarded request is refused otherwise).
    pub async fn ready(&self) -> Result<(), String> {
        if self.config.on_backend_failure != FailureMode::Closed {
            return Ok(());
        }
        self.store.ping().await.map_err(|e| {
            format!("the rate-limit backend is unavailable and rate_limit.on_backend_failure = closed refuses every guarded request ({e})")
        })
    }

    /// Counts every backend failure; warns at most once a minute.
    fn report(&self, err: &BackendError, now: u64) {
        metrics::counter!("rate_limit_backend_errors_total").increment(1);
        let last = self.last_warning.load(Ordering::Relaxed);
        if now >= last + 60
            && self
                .last_warning
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let mode = match self.config.on_backend_failure {
                FailureMode::Open => "serving with per-replica limits (on_backend_failure = open)",
                FailureMode::Closed => "refusing requests with 503 (on_backend_failure = closed)",
            };
            tracing::warn!(error = %err, "rate-limit backend unavailable; {mode}");
        }
    }
}

fn bucket_label(bucket: Bucket<'_>) -> &'static str {
    match bucket {
        Bucket::Principal(p) if p.kind == PrincipalKind::User => "user",
        Bucket::Principal(_) => "service",
        Bucket::Anonymous(_) => "anonymous",
    }
}
