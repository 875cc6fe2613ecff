//! Serving the router on a listener, HTTP/1.1 and HTTP/2 (hyper-util's auto builder), with
//! limits no client can wait out: the header-read and keep-alive timeouts and the connection cap
//! of [`connections`], a bounded request head, and JSON bodies on the errors hyper makes itself
//! ([`io`]). Shutdown stops accepting, lets requests in progress finish (up to the grace period)
//! and then closes what is left.

pub mod connections;
pub mod io;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use connections::{Limits, Registry};

/// Files kept for everything but connections (database, key and data files, the listener).
const RESERVED_FILES: u64 = 256;

/// What [`serve`] needs to know from `[server]`.
#[derive(Debug, Clone, Copy)]
pub struct ServeConfig {
    /// The connection limits.
    pub limits: Limits,
    /// `server.max_header_bytes`.
    pub max_header_bytes: usize,
    /// How long requests in progress may take to finish once shutdown begins.
    pub grace: Duration,
}

/// Serves `router` on `listener` until `shutdown` resolves, then shuts down gracefully.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = Limits {
        max_connections: allowed_connections(config.limits.max_connections),
        ..config.limits
    };
    let registry = Registry::new(limits);
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .max_buf_size(config.max_header_bytes.max(8192));
    builder
        .http2()
        .max_header_list_size(u32::try_from(config.max_header_bytes).unwrap_or(u32::MAX));
    let builder = Arc::new(builder);
    let stopping = CancellationToken::new();
    let closing = CancellationToken::new();
    let tasks = TaskTracker::new();
    {
        let (registry, stop) = (registry.clone(), closing.clone());
        tasks.spawn(async move { registry.sweep_until(stop).await });
    }
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // wait a moment rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = registry.admit() => slot,
        };
        // Without TCP_NODELAY a response written in several pieces (a streamed list) waits for
        // the client's delayed ACK: 40 ms per request.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY on a connection");
        }
        let (builder, router) = (builder.clone(), router.clone());
        let (stopping, closing) = (stopping.clone(), closing.clone());
        let max_header_bytes = config.max_header_bytes;
        tasks.spawn(async move {
            let conn = slot.conn.clone();
            let io = TokioIo::new(io::Watched::new(stream, conn.clone(), max_header_bytes));
            let service =
                hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                    let in_flight = conn.request_started();
                    request.extensions_mut().insert(ConnectInfo(remote));
                    let router = router.clone();
                    async move {
                        let response = router
                            .oneshot(request.map(Body::new))
                            .await
                            .unwrap_or_else(|never: Infallible| match never {});
                        Ok::<_, Infallible>(response.map(|body| {
                            Body::new(WhileSent {
                                body,
                                _in_flight: in_flight,
                            })
                        }))
                    }
                });
            let connection = builder.serve_connection(io, service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = slot.conn.close.cancelled() => {}
                () = closing.cancelled() => {}
                () = stopping.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    tokio::select! {
                        _ = connection.as_mut() => {}
                        () = closing.cancelled() => {}
                    }
                }
            }
            drop(slot);
        });
    }
    tracing::info!("shutting down: no new connections; waiting for in-flight requests");
    drop(listener);
    stopping.cancel();
    tasks.close();
    let open = registry.len();
    if tokio::time::timeout(config.grace, wait_for_connections(&registry))
        .await
        .is_err()
    {
        tracing::warn!(
            "in-flight requests still running after {}s; closing them",
            config.grace.as_secs()
        );
    }
    closing.cancel();
    tasks.wait().await;
    tracing::debug!(open, "connections closed");
    Ok(())
}

async fn wait_for_connections(registry: &Registry) {
    while !registry.is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A response body that marks its request finished when dropped (sent, or abandoned).
struct WhileSent {
    body: Body,
    _in_flight: connections::InFlight,
}

impl hyper::body::Body for WhileSent {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::Body::size_hint(&self.body)
    }
}

/// `wanted` connections, or fewer when the process may not open that many files: the soft limit
/// is raised to the hard one first (as Go's runtime does), and what stays short is said once.
fn allowed_connections(wanted: usize) -> usize {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if let (Some(current), Some(hard)) = (limit.current, limit.maximum)
        && current < hard
    {
        limit.current = Some(hard);
        if setrlimit(Resource::Nofile, limit).is_err() {
            limit.current = Some(current);
        }
    }
    let Some(files) = limit.current else {
        return wanted;
    };
    let room = usize::try_from(files.saturating_sub(RESERVED_FILES)).unwrap_or(usize::MAX);
    if room < wanted {
        tracing::warn!(
            "server.max_connections is {wanted} but this process may open only {files} files; serving at most {room} connections (raise the limit: ulimit -n, or LimitNOFILE= under systemd)"
        );
        return room.max(1);
    }
    wanted
}
