//! The guarded fetcher against a real HTTPS server: what it fetches, and every refusal.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use fawkes_portal::config::Settings;
use fawkes_portal::fetch::{FetchError, Fetched, Fetcher, Lookup, Validators};

use crate::support::https::HttpsServer;

const DOC: &str = "apiVersion: backstage.io/v1alpha1\nkind: Component\n";

async fn conditional(headers: HeaderMap) -> axum::response::Response {
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v == "\"v1\"")
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    (
        [
            (header::ETAG, "\"v1\""),
            (header::LAST_MODIFIED, "Wed, 25 Nov 2026 10:00:00 GMT"),
        ],
        DOC,
    )
        .into_response()
}

fn routes(port_of_self: Arc<std::sync::OnceLock<u16>>) -> Router {
    let port = move || *port_of_self.get().unwrap();
    let p1 = port.clone();
    let p2 = port;
    Router::new()
        .route("/catalog-info.yaml", get(|| async { DOC }))
        .route("/conditional.yaml", get(conditional))
        .route("/missing.yaml", get(|| async { StatusCode::NOT_FOUND }))
        .route(
            "/slow.yaml",
            // Never answers: the fetcher's timeout must.
            get(|| async {
                std::future::pending::<()>().await;
                DOC
            }),
        )
        .route("/big.yaml", get(|| async { "x".repeat(10_000) }))
        .route(
            "/big-stream.yaml",
            get(|| async {
                let chunks = (0..20)
                    .map(|_| Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b'x'; 1000])));
                axum::body::Body::from_stream(futures_util::stream::iter(chunks))
            }),
        )
        .route(
            "/moved.yaml",
            get(move || async move {
                Redirect::temporary(&format!("https://localhost:{}/catalog-info.yaml", p1()))
            }),
        )
        .route(
            "/to-evil.yaml",
            get(move || async move {
                Redirect::temporary(&format!("https://evil.example:{}/catalog-info.yaml", p2()))
            }),
        )
        .route(
            "/to-http.yaml",
            get(|| async { Redirect::temporary("http://localhost/catalog-info.yaml") }),
        )
        .route(
            "/to-metadata.yaml",
            get(|| async { Redirect::temporary("https://169.254.169.254/latest/meta-data") }),
        )
        .route(
            "/loop.yaml",
            get(|| async { Redirect::temporary("/loop.yaml") }),
        )
}

async fn server() -> HttpsServer {
    let port = Arc::new(std::sync::OnceLock::new());
    let server = HttpsServer::start(routes(port.clone())).await;
    port.set(server.port).unwrap();
    server
}

/// Names resolved from a fixed table, like an attacker-controlled DNS zone would.
struct Zone(HashMap<String, Vec<SocketAddr>>);

impl Lookup for Zone {
    fn lookup(
        &self,
        host: String,
    ) -> futures_util::future::BoxFuture<'static, std::io::Result<Vec<SocketAddr>>> {
        let found = self.0.get(&host).cloned();
        Box::pin(async move {
            found.ok_or_else(|| std::io::Error::other(format!("no such host {host}")))
        })
    }
}

fn fetcher(server: &HttpsServer, edit: impl FnOnce(&mut Settings)) -> Fetcher {
    let mut settings = Settings::default();
    server.allow(&mut settings);
    settings.fetch.timeout = "1s".into();
    settings.fetch.max_bytes = 5000;
    edit(&mut settings);
    let config = settings.validate().unwrap();
    let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let zone = Zone(HashMap::from([
        ("localhost".to_owned(), vec![loopback]),
        ("evil.example".to_owned(), vec![loopback]),
    ]));
    Fetcher::with_lookup(&config.fetch, Arc::new(zone)).unwrap()
}

async fn fetch(fetcher: &Fetcher, url: &str) -> Result<Fetched, FetchError> {
    fetcher.get(url, None).await
}

#[tokio::test]
async fn fetches_over_https_from_an_allowed_host() {
    let server = server().await;
    let fetcher = fetcher(&server, |_| {});
    let Fetched::Body {
        final_url, body, ..
    } = fetch(&fetcher, &server.url("/catalog-info.yaml"))
        .await
        .unwrap()
    else {
        panic!("expected a body");
    };
    assert_eq!(body, DOC.as_bytes());
    assert_eq!(final_url.as_str(), server.url("/catalog-info.yaml"));
}

#[tokio::test]
async fn an_unchanged_document_costs_one_304() {
    let server = server().await;
    let fetcher = fetcher(&server, |_| {});
    let Fetched::Body { validators, .. } = fetch(&fetcher, &server.url("/conditional.yaml"))
        .await
        .unwrap()
    else {
        panic!("expected a body");
    };
    assert_eq!(validators.etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        validators.last_modified.as_deref(),
        Some("Wed, 25 Nov 2026 10:00:00 GMT")
    );
    let again = fetcher
        .get(&server.url("/conditional.yaml"), Some(&validators))
        .await
        .unwrap();
    assert_eq!(again, Fetched::NotModified);
    let stale = Validators {
        etag: Some("\"v0\"".into()),
        last_modified: None,
    };
    assert!(matches!(
        fetcher
            .get(&server.url("/conditional.yaml"), Some(&stale))
            .await
            .unwrap(),
        Fetched::Body { .. }
    ));
}

#[tokio::test]
async fn follows_redirects_within_the_allow_list() {
    let server = server().await;
    let fetcher = fetcher(&server, |_| {});
    let Fetched::Body { final_url, .. } =
        fetch(&fetcher, &server.url("/moved.yaml")).await.unwrap()
    else {
        panic!("expected a body");
    };
    assert_eq!(final_url.path(), "/catalog-info.yaml");
}

#[tokio::test]
async fn refusals_say_what_is_wrong() {
    let server = server().await;
    let fetcher = fetcher(&server, |_| {});
    let port = server.port;
    let cases: Vec<(String, FetchError)> = vec![
        (
            format!("http://localhost:{port}/catalog-info.yaml"),
            FetchError::NotHttps,
        ),
        (
            "https://github.example.com/x.yaml".into(),
            FetchError::HostNotAllowed {
                host: "github.example.com".into(),
            },
        ),
        (
            format!("https://localhost:{}/x.yaml", port + 1),
            // Listed for another port: the refused port is named.
            FetchError::HostNotAllowed {
                host: format!("localhost:{}", port + 1),
            },
        ),
        (
            server.url("/missing.yaml"),
            FetchError::Status { status: 404 },
        ),
        (server.url("/slow.yaml"), FetchError::Timeout { secs: 1 }),
        (server.url("/big.yaml"), FetchError::TooLarge { max: 5000 }),
        (
            server.url("/big-stream.yaml"),
            FetchError::TooLarge { max: 5000 },
        ),
        (server.url("/to-http.yaml"), FetchError::NotHttps),
        (server.url("/loop.yaml"), FetchError::TooManyRedirects),
        (
            server.url("/to-metadata.yaml"),
            FetchError::HostNotAllowed {
                host: "169.254.169.254".into(),
            },
        ),
        (
            "not a url".into(),
            FetchError::InvalidUrl("relative URL without a base".into()),
        ),
    ];
    for (url, expected) in cases {
        assert_eq!(fetch(&fetcher, &url).await.unwrap_err(), expected, "{url}");
    }
    assert_eq!(
        FetchError::Status { status: 404 }.to_string(),
        "the source answered 404 Not Found"
    );
    assert_eq!(
        FetchError::TooLarge { max: 5000 }.to_string(),
        "larger than 5000 bytes (fetch.max_bytes)"
    );
}

#[tokio::test]
async fn a_public_name_resolving_to_loopback_is_refused() {
    let server = server().await;
    // evil.example is allow-listed by name, but its DNS points at 127.0.0.1.
    let evil = format!("evil.example:{}", server.port);
    let fetcher = fetcher(&server, |s| s.fetch.allow_hosts = vec![evil.clone()]);
    let error = fetch(&fetcher, &format!("https://{evil}/catalog-info.yaml"))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        FetchError::ForbiddenAddress {
            host: "evil.example".into()
        }
    );
    assert!(
        error
            .to_string()
            .contains("loopback, private or link-local")
    );
}

#[tokio::test]
async fn a_redirect_to_a_name_resolving_to_loopback_is_refused() {
    let server = server().await;
    let port = server.port;
    let fetcher = fetcher(&server, |s| {
        s.fetch.allow_hosts = vec![format!("localhost:{port}"), format!("evil.example:{port}")]
    });
    let error = fetch(&fetcher, &server.url("/to-evil.yaml"))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        FetchError::ForbiddenAddress {
            host: "evil.example".into()
        }
    );
}

#[tokio::test]
async fn loopback_and_private_literals_need_an_entry_naming_them() {
    let server = server().await;
    let port = server.port;
    // Named explicitly: allowed.
    let named = fetcher(&server, |s| {
        s.fetch.allow_hosts = vec![format!("127.0.0.1:{port}")]
    });
    assert!(
        fetch(
            &named,
            &format!("https://127.0.0.1:{port}/catalog-info.yaml")
        )
        .await
        .is_ok()
    );
    // Not named: refused before any connection.
    let unnamed = fetcher(&server, |_| {});
    for url in [
        "https://127.0.0.1/x.yaml",
        "https://10.0.0.8/x.yaml",
        "https://[::1]/x.yaml",
        "https://169.254.169.254/",
    ] {
        assert!(
            matches!(
                fetch(&unnamed, url).await.unwrap_err(),
                FetchError::HostNotAllowed { .. }
            ),
            "{url}"
        );
    }
}

#[test]
fn allow_list_entries_are_validated() {
    let mut settings = Settings::default();
    settings.fetch.allow_hosts = vec!["https://github.com/x".into()];
    let error = settings.validate().unwrap_err().to_string();
    assert!(
        error.contains("fetch.allow_hosts[0]") && error.contains("is not a host or host:port"),
        "{error}"
    );
    let mut settings = Settings::default();
    settings.fetch.extra_ca_file = "/nonexistent/ca.pem".into();
    assert!(
        settings
            .validate()
            .unwrap_err()
            .to_string()
            .contains("fetch.extra_ca_file")
    );
    let mut settings = Settings::default();
    settings.fetch.allow_hosts = vec!["GitHub.com:443".into(), "[::1]:8443".into()];
    let config = settings.validate().unwrap();
    assert_eq!(config.fetch.allow_hosts[0].host, "github.com");
    assert_eq!(config.fetch.allow_hosts[0].port, Some(443));
    assert_eq!(config.fetch.allow_hosts[1].host, "::1");
}

#[tokio::test]
async fn a_ca_certificate_served_as_the_servers_own_is_explained() {
    let port = Arc::new(std::sync::OnceLock::new());
    let server = HttpsServer::start_with_ca_as_server_certificate(routes(port.clone())).await;
    port.set(server.port).unwrap();
    let fetcher = fetcher(&server, |_| {});
    let err = fetch(&fetcher, &server.url("/catalog-info.yaml"))
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("is a CA certificate")
            && message.contains("a server certificate signed by that CA"),
        "{message}"
    );
}
