//! The one list of routes: [`api_routes`] merges every feature's `router()`, each adding its
//! routes through `utoipa_axum::routes!`, which puts them in the OpenAPI document too, so the
//! router cannot serve an undocumented route (the only exception is the documentation UI itself,
//! under [`DOCS_UI_PATH`]); `tests/suite/openapi.rs` checks both directions. [`build`] wraps them
//! in the middleware stack.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use super::{AppState, system};
use crate::error::AppError;
use crate::http::openapi::{ApiDoc, OpenApiJson};
use crate::http::{cors, docs, envelope, observe, openapi};

/// Every documented route of the server.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(system::router())
        .merge(crate::auth::router())
        .merge(crate::workspaces::router())
        .merge(crate::dora::router())
        .merge(crate::catalog::router())
}

/// The OpenAPI document as served for `config`: every route, with the guarded ones marked.
pub fn openapi(config: &crate::config::Config) -> utoipa::openapi::OpenApi {
    let (_, mut doc) = api_routes().split_for_parts();
    crate::auth::document(&mut doc, &config.auth);
    openapi::servers(&mut doc, &config.server.public_base_path);
    doc
}

/// Wraps `api` in the documentation UI, the 404 fallback and the middleware, outermost first:
/// observe (request id, log line, metrics, 500 logging) → CORS (answers preflights) → panic catcher →
/// JSON error bodies →
/// guard (authentication and rate limits) → request timeout → the principal's share of the
/// database pool → body size limit → handler; and adds the web UI (`crate::ui`) beside it, whose
/// own guard takes the session cookie (then the same share of the pool; no CORS: its pages are
/// for the portal's own origin).
pub fn build(api: OpenApiRouter<AppState>, state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    let (api, mut doc) = api.split_for_parts();
    crate::auth::document(&mut doc, &state.config.auth);
    openapi::servers(&mut doc, &state.config.server.public_base_path);
    let json = serde_json::to_vec(&doc).expect("the OpenAPI document serialises");
    let server = &state.config.server;
    // One share per principal of the database pool, for the API and the web UI alike.
    let share = std::sync::Arc::new(crate::auth::share::PrincipalShare::new(
        state.config.database.per_principal,
    ));
    let middleware = ServiceBuilder::new()
        .layer(from_fn(observe::observe))
        .option_layer(cors::layer(&server.cors))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(from_fn(envelope::json_errors))
        .layer(from_fn_with_state(
            state.auth.clone(),
            crate::auth::guard::guard,
        ))
        .layer(from_fn_with_state(
            server.request_timeout,
            envelope::timeout,
        ))
        .layer(from_fn_with_state(share.clone(), crate::auth::share::limit))
        .layer(DefaultBodyLimit::max(server.max_body_bytes));
    let mut router = api
        .merge(docs::routes())
        .fallback(envelope::not_found)
        .layer(axum::Extension(OpenApiJson(json.into())))
        .layer(middleware);
    if state.config.ui.enabled {
        // The web UI has its own guard (the session cookie, not a bearer token) and HTML errors,
        // and shares the rest of the stack.
        let ui_middleware = ServiceBuilder::new()
            .layer(from_fn(observe::observe))
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(from_fn_with_state(
                server.request_timeout,
                envelope::timeout,
            ))
            .layer(DefaultBodyLimit::max(server.max_body_bytes));
        router = router.merge(crate::ui::router(state.ui.clone(), share).layer(ui_middleware));
    }
    (router.with_state(state), doc)
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
