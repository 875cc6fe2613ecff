//! The DevLake plugin: DORA metrics and deployment history, computed exactly as Apache DevLake's
//! DORA dashboard does, from DevLake-compatible webhooks.
//!
//! - [`model`]: the webhook bodies and the records they become;
//! - [`store`]: where records land, and the per-project facts the metrics read (SQLite, PostgreSQL);
//! - [`source`]: where the metrics' facts come from ([`source::DoraSource`]);
//! - [`metrics`]: the four metrics as pure functions of those facts, over [`stats`] (DevLake's
//!   medians and roundings), [`calendar`] (UTC days, weeks, months) and [`benchmark`] (levels);
//! - [`directory`]: which projects a team has ([`directory::ProjectDirectory`]): the catalog's
//!   components, read through [`directory::CatalogEntities`] (which the composition root
//!   implements over the catalog), with `[dora.teams]` for projects the catalog does not list;
//! - [`service`]: parameters, scopes and rules; [`http`]: the handlers; [`router`]: the routes.

pub mod benchmark;
pub mod calendar;
pub mod directory;
pub mod http;
pub mod metrics;
pub mod model;
pub mod service;
pub mod source;
pub mod stats;
pub mod store;

pub use service::{DoraError, DoraService};
pub use source::Sources;

use std::sync::Arc;

use axum::extract::FromRef;
use utoipa_axum::router::OpenApiRouter;

use crate::db::Database;
use source::WebhookSource;

/// Where webhooks land (`db`) and where the metrics read.
pub fn sources(db: &Database) -> Sources {
    let store = store::open(db);
    Sources {
        facts: Arc::new(WebhookSource(store.clone())),
        store,
    }
}

/// The plugin's routes under `/api/devlake`, and Fawkes' widget route `/api/dora/metrics`.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<DoraService>: FromRef<S>,
{
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(http::post_deployment))
        .routes(routes!(http::post_incident))
        .routes(routes!(http::close_incident))
        .routes(routes!(http::post_pull_request))
        .routes(routes!(http::dora_metrics))
        .routes(routes!(http::deployment_history))
        .routes(routes!(http::widget::widget_metrics))
}
