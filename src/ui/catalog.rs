//! The catalog pages.

use axum::Router;

use super::UiState;

pub fn routes<S>() -> Router<S>
where
    UiState: axum::extract::FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
}
