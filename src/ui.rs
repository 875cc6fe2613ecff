//! The web UI: the portal in a browser, served by the same binary. Pages are rendered on the
//! server (askama templates, compiled into the binary) with small progressive enhancement from
//! htmx (vendored in `assets/ui/vendor`): every page works without JavaScript; with it, the
//! workspace list follows status changes live, confirmations are dialogs and filters refresh
//! in place.
//!
//! The UI is a view over the same services as the API ([`crate::workspaces::Workspaces`],
//! [`crate::dora::DoraService`], [`crate::catalog::Catalog`]): no rule is implemented twice,
//! and errors read as the API's do. A signed-in browser is the same [`crate::principal::Principal`]
//! as a bearer token for that user, with the same rate limits ([`session`]).
//!
//! - [`session`]: the session cookie, the guard in front of signed-in pages, CSRF checks;
//! - [`sign_in`]: the sign-in page, guest, OpenID Connect and GitHub sign-in, sign-out;
//! - [`home`], [`workspaces`], [`dora`] (with [`charts`]), [`admin`], [`catalog`]: the pages;
//! - [`page`]: what every page shares (chrome, errors); [`assets`]: CSS, htmx, icons.

pub(crate) mod admin;
pub mod assets;
pub(crate) mod catalog;
pub(crate) mod charts;
pub(crate) mod dora;
pub(crate) mod home;
pub(crate) mod page;
pub(crate) mod session;
pub(crate) mod sign_in;
pub(crate) mod workspaces;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};

use crate::auth::login::github::GithubLogin;
use crate::auth::login::oidc::OidcLogin;
use crate::auth::session::Sessions;
use crate::clock::Clock;
use crate::config::Config;
use crate::rate_limit::RateLimiter;

/// What the UI's handlers reach: the shared services and the UI's own sign-in machinery.
/// Cheap to clone.
#[derive(Clone)]
pub struct UiState {
    /// The whole configuration (`[ui]`, and what the admin page shows).
    pub config: Arc<Config>,
    /// The path prefix of every link (`ui.public_url`'s path without the trailing `/`; empty
    /// when the portal is served at the root).
    pub base: Arc<str>,
    /// Browser sessions.
    pub sessions: Sessions,
    /// OpenID Connect sign-in, when configured.
    pub oidc: Option<Arc<OidcLogin>>,
    /// GitHub sign-in, when configured.
    pub github: Option<Arc<GithubLogin>>,
    /// The API's rate limiter: a browser spends its principal's budget.
    pub limiter: Arc<RateLimiter>,
    /// The launcher.
    pub workspaces: crate::workspaces::Workspaces,
    /// The DevLake plugin.
    pub dora: Arc<crate::dora::DoraService>,
    /// The catalog.
    pub catalog: crate::catalog::Catalog,
    /// `sqlite` or `postgres`, for the admin page.
    pub database: &'static str,
}

impl UiState {
    /// The UI's state over the features' services and the session store on `db`.
    pub fn new(
        config: Arc<Config>,
        db: &crate::db::Database,
        limiter: Arc<RateLimiter>,
        workspaces: crate::workspaces::Workspaces,
        dora: Arc<crate::dora::DoraService>,
        catalog: crate::catalog::Catalog,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<UiState> {
        let ui = &config.ui;
        let oidc = match &ui.oidc {
            Some(oidc) => Some(Arc::new(OidcLogin::new(oidc.clone(), &config.auth)?)),
            None => None,
        };
        let github = match &ui.github {
            Some(github) => Some(Arc::new(GithubLogin::new(github.clone())?)),
            None => None,
        };
        let base: Arc<str> = ui.public_url.path().trim_end_matches('/').into();
        let sessions = Sessions::new(crate::auth::session::store::open(db), ui.session_ttl, clock);
        Ok(UiState {
            base,
            sessions,
            oidc,
            github,
            limiter,
            workspaces,
            dora,
            catalog,
            database: db.kind(),
            config,
        })
    }

    /// A link to `path` (which starts with `/`) of this site.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Whether `path` (a route template) is one of the UI's, which are not part of the API document.
pub fn is_ui_path(path: &str) -> bool {
    !(path.starts_with("/api") || matches!(path, "/healthz" | "/readyz" | "/metrics"))
}

/// Every UI route; handlers take their [`UiState`] from the app's state (`FromRef`). Signed-in
/// pages sit behind [`session::guard`] and then the principal's `share` of the database pool, as
/// the API's routes do; the sign-in pages and assets do not.
pub fn router<S>(ui: UiState, share: Arc<crate::auth::share::PrincipalShare>) -> Router<S>
where
    UiState: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    let signed_in = Router::new()
        .route("/", get(home::home))
        .route("/sign-out", post(sign_in::sign_out))
        .route(
            "/workspaces",
            get(workspaces::page).post(workspaces::launch),
        )
        .route("/workspaces/list", get(workspaces::list))
        .route("/workspaces/{id}/start", post(workspaces::start))
        .route("/workspaces/{id}/stop", post(workspaces::stop))
        .route("/workspaces/{id}/delete", post(workspaces::delete))
        .route("/dora", get(dora::page))
        .route("/dora/history", get(dora::history_fragment))
        .route("/admin", get(admin::page))
        .merge(catalog::routes())
        .layer(from_fn_with_state(share, crate::auth::share::limit))
        .layer(from_fn_with_state(ui, session::guard));
    Router::new()
        .route("/sign-in", get(sign_in::page))
        .route("/sign-in/guest", post(sign_in::guest))
        .route("/auth/oidc/start", get(sign_in::oidc_start))
        .route("/auth/oidc/callback", get(sign_in::oidc_callback))
        .route("/auth/github/start", get(sign_in::github_start))
        .route("/auth/github/callback", get(sign_in::github_callback))
        .route("/ui/assets/{file}", get(assets::serve))
        .merge(signed_in)
        .layer(axum::middleware::from_fn(security_headers))
}

/// What every UI response may load and be framed by: its own scripts, styles and images only (no
/// inline script or style is used, so none is allowed), forms to this site, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

async fn security_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}
