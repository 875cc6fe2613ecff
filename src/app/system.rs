//! Public system endpoints: liveness, readiness, metrics, the API index and the OpenAPI document.

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use crate::config::Config;
use crate::db::Database;
use crate::error::{AppError, ErrorBody};
use crate::http::openapi::OpenApiJson;
use crate::workspaces::Workspaces;

/// The system routes (served without a token: see `auth::PUBLIC_PATHS`).
pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(api_index))
        .routes(routes!(openapi_json))
        .routes(routes!(backstage_liveness))
        .routes(routes!(backstage_readiness))
}

/// How long readiness waits for the database before it reports it unreachable.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` while the process serves requests.
    status: &'static str,
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
pub struct Ready {
    /// `ready`.
    status: &'static str,
    /// `sqlite` or `postgres`.
    database: &'static str,
}

/// Liveness: the process is up and serving.
#[utoipa::path(get, path = "/healthz", tag = "system", operation_id = "get_health",
    responses((status = 200, description = "The server is alive", body = Health)))]
pub async fn healthz() -> axum::Json<Health> {
    axum::Json(Health { status: "ok" })
}

/// Readiness: 200 only when the database answers and all migrations are applied, and, with
/// `rate_limit.on_backend_failure = closed`, the rate-limit backend answers (else every guarded
/// request would be a 503, so the replica is taken out of rotation instead).
#[utoipa::path(get, path = "/readyz", tag = "system", operation_id = "get_readiness",
    responses(
        (status = 200, description = "Ready to serve traffic", body = Ready),
        (status = 503, description = "Not ready; the error says why", body = ErrorBody),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Result<axum::Json<Ready>, AppError> {
    let ready = match state.db.check_ready(READY_TIMEOUT).await {
        Ok(()) => state.auth.limiter.ready().await,
        Err(reason) => Err(reason),
    };
    match ready {
        Ok(()) => Ok(axum::Json(Ready {
            status: "ready",
            database: state.db.kind(),
        })),
        Err(reason) => Err(AppError::Unavailable(format!("Not ready: {reason}"))),
    }
}

/// Backstage's health answer: `{"status": "ok"}`, or `{"message", "status": "error"}`.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
pub struct BackstageHealth {
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    /// `ok` or `error`.
    status: &'static str,
}

fn backstage_health(status: StatusCode, message: Option<String>) -> Response {
    let body = BackstageHealth {
        status: if message.is_some() { "error" } else { "ok" },
        message,
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        serde_json::to_string(&body).unwrap_or_default(),
    )
        .into_response()
}

/// Backstage's liveness probe (the path its Helm chart probes): the process is up and serving.
#[utoipa::path(get, path = "/.backstage/health/v1/liveness", tag = "system", operation_id = "get_backstage_liveness",
    responses((status = 200, description = "The server is alive", body = BackstageHealth)))]
pub async fn backstage_liveness() -> Response {
    backstage_health(StatusCode::OK, None)
}

/// Backstage's readiness probe: ready as `/readyz` is, in Backstage's words.
#[utoipa::path(get, path = "/.backstage/health/v1/readiness", tag = "system", operation_id = "get_backstage_readiness",
    responses(
        (status = 200, description = "Ready to serve traffic", body = BackstageHealth),
        (status = 503, description = "Not ready; the message says why", body = BackstageHealth),
    ))]
pub async fn backstage_readiness(State(state): State<AppState>) -> Response {
    match readyz(State(state)).await {
        Ok(_) => backstage_health(StatusCode::OK, None),
        Err(e) => backstage_health(StatusCode::SERVICE_UNAVAILABLE, Some(e.to_string())),
    }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "system", operation_id = "get_metrics",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub async fn metrics(State(db): State<Database>) -> Response {
    let stats = db.pool_stats();
    let backend = db.kind();
    metrics::gauge!("db_pool_connections", "state" => "open", "backend" => backend)
        .set(f64::from(stats.open));
    metrics::gauge!("db_pool_connections", "state" => "idle", "backend" => backend)
        .set(stats.idle as f64);
    metrics::gauge!("db_pool_max_connections", "backend" => backend).set(f64::from(stats.max));
    let body = crate::telemetry::prometheus().render();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
pub struct ApiIndex {
    name: &'static str,
    version: &'static str,
    description: &'static str,
    /// Where to find the rest.
    links: Links,
    /// Where Che workspaces run: `kubernetes` (DevWorkspaces on the configured cluster) or
    /// `simulated` (no cluster configured: kept in the database, nothing really runs).
    workspaces: &'static str,
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Serialize, ToSchema)]
/// Each under `server.public_base_path` when one is set.
pub struct Links {
    openapi: String,
    docs: String,
    health: String,
    ready: String,
    metrics: String,
}

/// What this server is, and where its documentation lives.
#[utoipa::path(get, path = "/api", tag = "system", operation_id = "get_api_index",
    responses((status = 200, description = "Name, version and links", body = ApiIndex)))]
pub async fn api_index(
    State(workspaces): State<Workspaces>,
    State(config): State<Arc<Config>>,
) -> axum::Json<ApiIndex> {
    let link = |path: &str| format!("{}{path}", config.server.public_base_path);
    axum::Json(ApiIndex {
        name: "fawkes-portal",
        version: env!("CARGO_PKG_VERSION"),
        description: "Backend of the Fawkes Backstage plugins: catalog, Che launcher, DevLake DORA metrics",
        links: Links {
            openapi: link("/api/openapi.json"),
            docs: link("/api/docs/"),
            health: link("/healthz"),
            ready: link("/readyz"),
            metrics: link("/metrics"),
        },
        workspaces: workspaces.driver(),
    })
}

/// This API's OpenAPI 3.1 document, generated from the code.
#[utoipa::path(get, path = "/api/openapi.json", tag = "system", operation_id = "get_openapi",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
pub async fn openapi_json(Extension(doc): Extension<OpenApiJson>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        doc.0,
    )
        .into_response()
}
