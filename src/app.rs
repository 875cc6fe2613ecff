//! The composition root, the one module that knows every feature: [`AppState`] holds each
//! feature's state (handlers take only theirs, through axum's `FromRef`), [`routes`] lists every
//! feature's router and wraps them in the middleware, [`errors`] maps every feature's errors to
//! [`AppError`](crate::error::AppError). [`App::build`] opens the database, applies migrations
//! and wires it all; [`App::serve`] runs until a shutdown signal, then drains in-flight requests
//! (bounded by `server.shutdown_timeout`), stops background tasks and closes the database.

pub mod errors;
pub mod routes;
pub mod system;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use tokio::net::TcpListener;
use utoipa_axum::router::OpenApiRouter;

use crate::auth::Auth;
use crate::background::Background;
use crate::catalog::Catalog;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::db::Database;
use crate::dora::DoraService;
use crate::dora::directory::{CatalogEntities, CatalogProjects, ConfiguredTeams};
use crate::fetch::Fetcher;
use crate::workspaces::Workspaces;

/// How long the DevLake plugin uses the catalog's projects and teams before reading them again.
const PROJECTS_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(30);

/// Every feature's state. Cheap to clone: a few `Arc`s and a pool handle. Handlers never take it
/// whole: each takes the sub-state it needs (`State<Catalog>`, `State<Workspaces>`, ...), which
/// `FromRef` (derived) cuts from it.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// The validated settings.
    pub config: Arc<Config>,
    /// The database handle.
    pub db: Database,
    /// Token verification, rate limits and the built-in issuer.
    pub auth: Auth,
    /// The Che launcher.
    pub workspaces: Workspaces,
    /// The DevLake plugin: webhooks, DORA metrics, deployment history.
    pub dora: Arc<DoraService>,
    /// The software catalog.
    pub catalog: Catalog,
    /// Background tasks (shared with [`App`], which stops them at shutdown).
    pub background: Background,
    /// The web UI's state (sessions, sign-in providers, the services it shows).
    pub ui: crate::ui::UiState,
}

impl AppState {
    /// Wires every feature from `config` over an opened (and migrated) database.
    pub fn new(config: Config, db: Database) -> anyhow::Result<AppState> {
        Self::with_clock(config, db, Arc::new(SystemClock))
    }

    /// As [`AppState::new`], on `clock` (tests move time by hand).
    pub fn with_clock(
        config: Config,
        db: Database,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<AppState> {
        let auth = Auth::new(&config, clock.clone())?;
        let config = Arc::new(config);
        let fetcher = Fetcher::new(&config.fetch)?;
        let workspaces =
            Workspaces::build(&config.workspaces, &db, fetcher.clone(), clock.clone())?;
        let background = Background::default();
        let catalog = Catalog::new(
            crate::catalog::store::open(&db),
            db.leases(),
            &config.catalog,
            fetcher,
            background.clone(),
            &crate::db::lease::instance_id(&config.data_dir),
        );
        let dora = Arc::new(DoraService::new(
            crate::dora::sources(&config.dora, &db)?,
            Arc::new(CatalogProjects::new(
                Arc::new(catalog.clone()),
                ConfiguredTeams::new(config.dora.teams.clone()),
                PROJECTS_MAX_AGE,
            )),
            clock.clone(),
            config.dora.default_benchmark,
        ));
        let ui = crate::ui::UiState::new(
            config.clone(),
            &db,
            auth.limiter.clone(),
            workspaces.clone(),
            dora.clone(),
            catalog.clone(),
            clock,
        )?;
        Ok(AppState {
            config,
            db,
            auth,
            workspaces,
            dora,
            catalog,
            background,
            ui,
        })
    }
}

/// The DevLake plugin reads projects and teams from the catalog's service.
#[async_trait::async_trait]
impl CatalogEntities for Catalog {
    fn version(&self) -> Option<u64> {
        Catalog::version(self)
    }

    async fn values_of(&self, keys: &[&str]) -> anyhow::Result<Vec<(String, String, String)>> {
        Ok(Catalog::values_of(self, keys).await?)
    }
}

/// The server: every feature's state, the complete router, and the background tasks it stops at shutdown.
pub struct App {
    state: AppState,
    router: Router,
    background: Background,
}

impl App {
    /// Opens and migrates the database, then wires state and routes. Fails with an
    /// operator-readable error if the database cannot be opened or migrated, or a key file is bad.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let db = Database::connect(&config.database).await?;
        db.migrate().await?;
        let state = AppState::new(config, db)?;
        state.workspaces.connect().await?;
        state.catalog.start_refresh_loop();
        let db = state.db.clone();
        state
            .background
            .spawn(move |cancel| async move { db.checkpoint_until(cancel).await });
        Ok(App::new(state, routes::api_routes()))
    }

    /// The app over `state`, serving `routes` (normally [`routes::api_routes`]; tests add
    /// their own).
    pub fn new(state: AppState, routes: OpenApiRouter<AppState>) -> App {
        let (router, _) = routes::build(routes, state.clone());
        App {
            background: state.background.clone(),
            state,
            router,
        }
    }

    /// Every feature's state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The complete router, for serving or for in-process tests.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// The background tasks, stopped at shutdown.
    pub fn background(&self) -> &Background {
        &self.background
    }

    /// Serves on `listener` until `shutdown` resolves, then shuts down gracefully: no new
    /// connections, requests in progress finish (up to `server.shutdown_timeout`), background
    /// tasks stop and the database closes.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let server = &self.state.config.server;
        let grace = server.shutdown_timeout;
        let config = crate::http::server::ServeConfig {
            limits: crate::http::server::connections::Limits {
                header_read_timeout: server.header_read_timeout,
                keep_alive_timeout: server.keep_alive_timeout,
                max_connections: server.max_connections,
            },
            max_header_bytes: server.max_header_bytes,
            grace,
        };
        let result = crate::http::server::serve(listener, self.router, config, shutdown).await;
        self.background.stop(grace).await;
        self.state.db.close().await;
        tracing::info!("stopped");
        result
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
