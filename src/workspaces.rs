//! The Che launcher: developers create, list, start, stop and delete Eclipse Che workspaces from a
//! devfile URL (`/api/che-launcher/workspaces`).
//!
//! - [`devfile`]: our own devfile validation (schema rules per `schemaVersion`, devfile/library's rules);
//! - [`model`]: ids, names, owners, statuses;
//! - [`service`]: the rules (namespace, naming, quota, isolation) over a [`cluster::Cluster`];
//!   [`quota`]: the per-owner lock the quota is checked and used under;
//! - [`cluster`]: the drivers: Kubernetes DevWorkspaces ([`cluster::kube`]) or simulated in the
//!   database ([`cluster::simulated`], over [`store`]) when no cluster is configured;
//! - [`http`]: the handlers.

pub mod che;
pub mod cluster;
pub mod devfile;
pub mod generate;
pub mod http;
pub mod model;
pub mod namespace;
pub mod parent;
pub mod quota;
pub mod service;
pub mod source;
pub mod store;

pub use service::Workspaces;

use axum::extract::FromRef;
use utoipa_axum::router::OpenApiRouter;

/// The launcher's routes under `/api/che-launcher`.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Workspaces: FromRef<S>,
{
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(http::create_workspace, http::list_workspaces))
        .routes(routes!(http::delete_workspace))
        .routes(routes!(http::start_workspace))
        .routes(routes!(http::stop_workspace))
}
