//! Fawkes Portal: the backend of the Fawkes internal developer platform's Backstage plugins.
//!
//! Read the modules in this order (see also `docs/ARCHITECTURE.md`):

/// The composition root: builds state, the router and background tasks; serves with graceful shutdown.
pub mod app;
/// Bearer-token authentication: principals, token verification, the built-in issuer.
pub mod auth;
/// Background tasks, stopped and awaited at shutdown.
pub mod background;
/// The software catalog (Backstage-compatible): entities, locations, queries.
pub mod catalog;
/// Command line: `serve`, `migrate`, `config check`.
pub mod cli;
/// The time, injectable so tests can move it.
pub mod clock;
/// Settings: defaults, TOML file, `FAWKES_PORTAL_*` environment, flags; validated once at start.
pub mod config;
/// Database connection (SQLite or PostgreSQL), migrations, readiness, and the shared stores.
pub mod db;
/// The DevLake plugin: DORA metrics and deployment history from DevLake-compatible webhooks.
pub mod dora;
/// The one error type every handler returns, and its mapping to status codes and `{"error": ...}`.
pub mod error;
/// Outbound HTTP with timeouts and size caps.
pub mod fetch;
/// HTTP edge: the route list, middleware stack, extractors and system endpoints.
pub mod http;
/// Kubernetes-style names (DNS-1123 labels), checked alike by several features.
pub mod names;
/// Who a request is from: the verified principal handlers take.
pub mod principal;
/// Per-principal rate limits, counted in process or in Redis.
pub mod rate_limit;
/// Logging setup (text or JSON) and the Prometheus recorder.
pub mod telemetry;
/// The Che launcher: Eclipse Che workspaces from a devfile, as DevWorkspaces or simulated.
pub mod workspaces;
