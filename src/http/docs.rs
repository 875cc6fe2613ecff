//! The interactive API reference (Swagger UI, embedded in the binary) at [`DOCS_UI_PATH`]. Every
//! link it follows is relative (the page's assets, the OpenAPI document at `../openapi.json`,
//! the redirect from `/api/docs` to `docs/`), so it works unchanged behind a proxy that serves the
//! API under a path prefix, such as Backstage's `/api/proxy/<name>`; `server.public_base_path`
//! names that prefix in the document's `servers`, so "Try it out" calls go through it too.

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::AppError;

/// Where the interactive API reference lives.
pub const DOCS_UI_PATH: &str = "/api/docs";

/// The OpenAPI document, relative to the docs page (`/api/docs/` → `/api/openapi.json`).
const DOCUMENT: &str = "../openapi.json";

/// The docs page and its assets, under [`DOCS_UI_PATH`].
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let config = Arc::new(utoipa_swagger_ui::Config::new([DOCUMENT]));
    let page = {
        let config = config.clone();
        move || serve(String::new(), config.clone())
    };
    let asset = move |Path(file): Path<String>| serve(file, config.clone());
    Router::new()
        .route(
            DOCS_UI_PATH,
            // Relative, so that `<prefix>/api/docs` leads to `<prefix>/api/docs/`.
            get(|| async { (StatusCode::SEE_OTHER, [(header::LOCATION, "docs/")]) }),
        )
        .route(&format!("{DOCS_UI_PATH}/"), get(page))
        .route(&format!("{DOCS_UI_PATH}/{{*file}}"), get(asset))
}

async fn serve(file: String, config: Arc<utoipa_swagger_ui::Config<'static>>) -> Response {
    match utoipa_swagger_ui::serve(&file, config) {
        Ok(Some(found)) => (
            [(header::CONTENT_TYPE, found.content_type)],
            found.bytes.into_owned(),
        )
            .into_response(),
        Ok(None) => {
            AppError::NotFound(format!("Not found: GET {DOCS_UI_PATH}/{file}")).into_response()
        }
        Err(e) => AppError::Internal(anyhow::anyhow!(
            "cannot render the API reference page {file}: {e}"
        ))
        .into_response(),
    }
}
