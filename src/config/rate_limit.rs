//! `[rate_limit]`: requests per minute per principal, and where the counts are kept.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSettings {
    pub user_per_minute: u64,
    pub service_per_minute: u64,
    /// Requests with missing or invalid credentials, per client address.
    pub anonymous_per_minute: u64,
    /// Requests to public routes (health, readiness, metrics, the API document) and unknown
    /// paths, per client address, counted in each replica.
    pub public_per_minute: u64,
    /// `memory` (this process) or `redis` (shared by every replica).
    pub backend: String,
    pub redis_url: String,
    /// How long one Redis call may take before it counts as a failure.
    pub redis_timeout: String,
    /// When Redis fails: `open` (keep serving, each replica counting on its own) or `closed` (503).
    pub on_backend_failure: String,
    pub overrides: Vec<RateLimitOverride>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitOverride {
    /// A user entity ref (`user:default/jdoe`) or a service subject.
    pub subject: String,
    pub per_minute: u64,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            user_per_minute: 100,
            service_per_minute: 1000,
            anonymous_per_minute: 30,
            public_per_minute: 600,
            backend: "memory".into(),
            redis_url: String::new(),
            redis_timeout: "250ms".into(),
            on_backend_failure: "open".into(),
            overrides: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Redis { url: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureMode {
    Open,
    Closed,
}

#[derive(Debug, Clone)]
pub struct RateLimitConfig {
    pub user_per_minute: u64,
    pub service_per_minute: u64,
    pub anonymous_per_minute: u64,
    pub public_per_minute: u64,
    pub backend: Backend,
    pub redis_timeout: std::time::Duration,
    pub on_backend_failure: FailureMode,
    pub overrides: HashMap<String, u64>,
}

impl RateLimitSettings {
    pub fn validate(&self) -> Result<RateLimitConfig, ConfigError> {
        for (setting, value) in [
            ("rate_limit.user_per_minute", self.user_per_minute),
            ("rate_limit.service_per_minute", self.service_per_minute),
            ("rate_limit.anonymous_per_minute", self.anonymous_per_minute),
            ("rate_limit.public_per_minute", self.public_per_minute),
        ] {
            if value == 0 {
                return Err(ConfigError::new(setting, "must be at least 1"));
            }
        }
        let backend = match self.backend.as_str() {
            "memory" => Backend::Memory,
            "redis" => {
                let url = self.redis_url.trim();
                if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                    return Err(ConfigError::new(
                        "rate_limit.redis_url",
                        "must be a redis:// or rediss:// URL when rate_limit.backend is redis",
                    ));
                }
                Backend::Redis {
                    url: url.to_owned(),
                }
            }
            other => {
                return Err(ConfigError::new(
                    "rate_limit.backend",
                    format!("'{other}' is not one of: memory, redis"),
                ));
            }
        };
        let on_backend_failure = match self.on_backend_failure.as_str() {
            "open" => FailureMode::Open,
            "closed" => FailureMode::Closed,
            other => {
                return Err(ConfigError::new(
                    "rate_limit.on_backend_failure",
                    format!("'{other}' is not one of: open, closed"),
                ));
            }
        };
        let mut overrides = HashMap::new();
        for (i, entry) in self.overrides.iter().enumerate() {
            if entry.subject.trim().is_empty() || entry.per_minute == 0 {
                return Err(ConfigError::new(
                    format!("rate_limit.overrides[{i}]"),
                    "needs a subject and a per_minute of at least 1",
                ));
            }
            overrides.insert(entry.subject.trim().to_owned(), entry.per_minute);
        }
        Ok(RateLimitConfig {
            user_per_minute: self.user_per_minute,
            service_per_minute: self.service_per_minute,
            anonymous_per_minute: self.anonymous_per_minute,
            public_per_minute: self.public_per_minute,
            backend,
            redis_timeout: super::duration("rate_limit.redis_timeout", &self.redis_timeout)?,
            on_backend_failure,
            overrides,
        })
    }
}
