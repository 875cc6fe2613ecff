//! The DevLake plugin: DORA metrics and deployment history, computed exactly as Apache DevLake's
//! DORA dashboard does, from DevLake-compatible webhooks, from a running DevLake's database, or
//! both.
//!
//! - [`model`]: the webhook bodies (decoded as loosely as DevLake does) and the records they become;
//! - [`store`]: where records land, and the per-project facts the metrics read (SQLite, PostgreSQL);
//! - [`source`]: where the metrics' facts come from: the store, [`devlake`] (DevLake's domain
//!   tables on MySQL or MariaDB, read-only), or both;
//! - [`metrics`]: the four metrics as pure functions of those facts, over [`stats`] (DevLake's
//!   medians and roundings), [`calendar`] (UTC days, weeks, months) and [`benchmark`] (levels);
//! - [`directory`]: which projects a team has ([`directory::ProjectDirectory`]): the catalog's
//!   components, read through [`directory::CatalogEntities`] (which the composition root
//!   implements over the catalog), with `[dora.teams]` for projects the catalog does not list;
//! - [`service`]: parameters, scopes and rules; [`http`]: the handlers; [`router`]: the routes.

pub mod benchmark;
pub mod calendar;
pub mod devlake;
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

use crate::config::DoraConfig;
use crate::config::dora::Source;
use crate::db::Database;
use source::{BothSources, DoraSource, WebhookSource};

/// Where webhooks land (`db`) and where the metrics read, as `[dora] source` says. DevLake's
/// database is connected on first use.
pub fn sources(config: &DoraConfig, db: &Database) -> anyhow::Result<Sources> {
    let store = store::open(db);
    let webhooks: Arc<dyn DoraSource> = Arc::new(WebhookSource(store.clone()));
    let facts: Arc<dyn DoraSource> = match (config.source, &config.devlake) {
        (Source::DevLake, Some(devlake)) => {
            Arc::new(devlake::DevLakeSource::connect_lazy(devlake)?)
        }
        (Source::Both, Some(devlake)) => Arc::new(BothSources {
            devlake: Arc::new(devlake::DevLakeSource::connect_lazy(devlake)?),
            webhooks,
        }),
        _ => webhooks,
    };
    Ok(Sources {
        store,
        facts,
        takes_webhooks: config.source.takes_webhooks(),
    })
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
