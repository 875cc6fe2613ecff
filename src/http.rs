//! The HTTP edge. [`api_routes`] is the one list of routes; [`router`] wraps it in the middleware
//! stack. Every route is added through `utoipa_axum::routes!`, which puts it in the OpenAPI document
//! too, so the router cannot serve an undocumented route (the only exception is the documentation
//! UI itself, under [`DOCS_UI_PATH`]); `tests/suite/openapi.rs` checks both directions.

pub mod envelope;
pub mod extract;
pub mod observe;
pub mod openapi;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::error::AppError;
use openapi::{ApiDoc, OpenApiJson};

/// Where the interactive API reference (Swagger UI, served from the binary) lives.
pub const DOCS_UI_PATH: &str = "/api/docs";

/// Every documented route of the server.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(crate::app::system::healthz))
        .routes(routes!(crate::app::system::readyz))
        .routes(routes!(crate::app::system::metrics))
        .routes(routes!(crate::app::system::api_index))
        .routes(routes!(crate::app::system::openapi_json))
        .routes(routes!(crate::auth::http::jwks))
        .routes(routes!(crate::auth::http::userinfo))
        .routes(routes!(
            crate::workspaces::http::create_workspace,
            crate::workspaces::http::list_workspaces
        ))
        .routes(routes!(crate::workspaces::http::delete_workspace))
        .routes(routes!(crate::workspaces::http::start_workspace))
        .routes(routes!(crate::workspaces::http::stop_workspace))
        .routes(routes!(crate::dora::http::post_deployment))
        .routes(routes!(crate::dora::http::post_incident))
        .routes(routes!(crate::dora::http::close_incident))
        .routes(routes!(crate::dora::http::post_pull_request))
        .routes(routes!(crate::dora::http::dora_metrics))
        .routes(routes!(crate::dora::http::deployment_history))
        .merge(crate::catalog::http::routes())
}

/// The OpenAPI document as served for `config`: every route, with the guarded ones marked.
pub fn openapi(config: &crate::config::Config) -> utoipa::openapi::OpenApi {
    let (_, mut doc) = api_routes().split_for_parts();
    crate::auth::document(&mut doc, &config.auth);
    doc
}

/// The complete application over [`api_routes`].
pub fn router(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    build(api_routes(), state)
}

/// Wraps `api` in the documentation UI, the 404 fallback and the middleware, outermost first:
/// observe (request id, log line, metrics, 500 logging) → panic catcher → JSON error bodies →
/// guard (authentication and rate limits) → request timeout → body size limit → handler.
pub fn build(api: OpenApiRouter<AppState>, state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    let (api, mut doc) = api.split_for_parts();
    crate::auth::document(&mut doc, &state.config.auth);
    let json = serde_json::to_vec(&doc).expect("the OpenAPI document serialises");
    let docs_ui = utoipa_swagger_ui::SwaggerUi::new(DOCS_UI_PATH)
        .config(utoipa_swagger_ui::Config::new(["/api/openapi.json"]));
    let server = &state.config.server;
    let middleware = ServiceBuilder::new()
        .layer(from_fn(observe::observe))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(from_fn(envelope::json_errors))
        .layer(from_fn_with_state(state.clone(), crate::auth::guard::guard))
        .layer(from_fn_with_state(
            server.request_timeout,
            envelope::timeout,
        ))
        .layer(DefaultBodyLimit::max(server.max_body_bytes));
    let router = api
        .merge(Router::from(docs_ui))
        .fallback(envelope::not_found)
        .layer(axum::Extension(OpenApiJson(json.into())))
        .layer(middleware)
        .with_state(state);
    (router, doc)
}

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let detail = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown panic".into());
    axum::response::IntoResponse::into_response(AppError::Internal(anyhow::anyhow!(
        "handler panicked: {detail}"
    )))
}
