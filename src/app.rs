//! The composition root: [`App::build`] opens the database, applies migrations and wires state and
//! routes; [`App::serve`] runs until a shutdown signal, then drains in-flight requests (bounded by
//! `server.shutdown_timeout`), stops background tasks and closes the database.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use utoipa_axum::router::OpenApiRouter;

use crate::config::Config;
use crate::db::{Database, DbError};

/// What every handler can reach. Cheap to clone: a few `Arc`s and a pool handle.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Database,
}

/// Background tasks: spawned with a cancellation token, awaited at shutdown.
#[derive(Clone, Default)]
pub struct Background {
    tracker: TaskTracker,
    cancel: CancellationToken,
}

impl Background {
    /// Runs `task` until it returns; it must return soon after its token is cancelled.
    pub fn spawn<F, Fut>(&self, task: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.tracker.spawn(task(self.cancel.clone()));
    }

    async fn stop(&self, within: std::time::Duration) {
        self.cancel.cancel();
        self.tracker.close();
        if tokio::time::timeout(within, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("background tasks did not stop within {}s", within.as_secs());
        }
    }
}

pub struct App {
    state: AppState,
    router: Router,
    background: Background,
}

impl App {
    /// Opens and migrates the database, then builds the router. Fails with an operator-readable
    /// error if the database cannot be opened or migrated.
    pub async fn build(config: Config) -> Result<App, DbError> {
        let db = Database::connect(&config.database).await?;
        db.migrate().await?;
        Ok(Self::with_database(config, db))
    }

    /// Builds the app over an already opened (and migrated) database.
    pub fn with_database(config: Config, db: Database) -> App {
        Self::with_routes(config, db, crate::http::api_routes())
    }

    /// Builds the app serving `routes` (normally [`crate::http::api_routes`]; tests add their own).
    pub fn with_routes(config: Config, db: Database, routes: OpenApiRouter<AppState>) -> App {
        let state = AppState {
            config: Arc::new(config),
            db,
        };
        let (router, _) = crate::http::build(routes, state.clone());
        App {
            state,
            router,
            background: Background::default(),
        }
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The complete router, for serving or for in-process tests.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    pub fn background(&self) -> &Background {
        &self.background
    }

    /// Serves on `listener` until `shutdown` resolves, then shuts down gracefully.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let grace = self.state.config.server.shutdown_timeout;
        let stopping = Arc::new(tokio::sync::Notify::new());
        let notify = stopping.clone();
        let server = axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: no new connections; waiting for in-flight requests");
            notify.notify_one();
        })
        .into_future();
        tokio::pin!(server);
        let result = tokio::select! {
            result = &mut server => result,
            () = stopping.notified() => match tokio::time::timeout(grace, &mut server).await {
                Ok(result) => result,
                Err(_) => {
                    tracing::warn!("in-flight requests still running after {}s; closing them", grace.as_secs());
                    Ok(())
                }
            },
        };
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
