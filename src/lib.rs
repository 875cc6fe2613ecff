//! Fawkes Portal: the backend of the Fawkes internal developer platform's Backstage plugins.
//!
//! Three layers, each importing only the ones below it (`tests/architecture.rs` checks it; the
//! map is `docs/ARCHITECTURE.md`):
//! - the composition root, [`app`] (and [`cli`], which runs it): the only module that knows every
//!   feature;
//! - the web UI, [`ui`]: pages over the features' public services (it renders, the services
//!   rule), imported by no feature;
//! - the features, [`auth`], [`catalog`], [`dora`], [`workspaces`]: each owns its router, state,
//!   service (the rules) and store, and imports no other feature;
//! - shared modules below them: settings, the database handle, errors, the HTTP extractors, the
//!   guarded fetcher, the clock, background tasks, rate limits, telemetry.

// The composition root.

/// Builds every feature's state, lists the routes, maps errors; serves with graceful shutdown.
pub mod app;
/// Command line: `serve`, `migrate`, `config check`, `token issue`.
pub mod cli;

// Features.

/// Bearer-token authentication: token verification, the guard, the built-in issuer.
pub mod auth;
/// The software catalog (Backstage-compatible): entities, locations, queries.
pub mod catalog;
/// The DevLake plugin: DORA metrics and deployment history from DevLake-compatible webhooks.
pub mod dora;
/// The Che launcher: Eclipse Che workspaces from a devfile, as DevWorkspaces or simulated.
pub mod workspaces;

// The web UI: pages over the features' services, below the composition root.

/// The web UI: server-rendered pages over the same services as the API, with browser sign-in.
pub mod ui;

// Shared modules.

/// Background tasks, stopped and awaited at shutdown.
pub mod background;
/// The time, injectable so tests can move it.
pub mod clock;
/// Settings: defaults, TOML file, `FAWKES_PORTAL_*` environment, flags; validated once at start.
pub mod config;
/// The database handle (SQLite or PostgreSQL), migrations, readiness, and leases.
pub mod db;
/// The one error type every handler returns, and its status codes and `{"error": ...}` body.
pub mod error;
/// The guarded fetcher: outbound HTTP with an allow-list, SSRF guard, timeouts and size caps.
pub mod fetch;
/// What every feature's HTTP side shares: extractors, the error envelope, observation.
pub mod http;
/// Kubernetes-style names (DNS-1123 labels), checked alike by several features.
pub mod names;
/// Who a request is from: the verified principal handlers take.
pub mod principal;
/// Per-principal rate limits, counted in process or in Redis.
pub mod rate_limit;
/// Logging setup (text or JSON) and the Prometheus recorder.
pub mod telemetry;
