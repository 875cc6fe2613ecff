//! The guarded fetcher across two HTTPS servers on one host: an allow-list entry's port holds on
//! every redirect hop, a URL may not carry credentials, and configured credentials reach only
//! their own `host:port`.

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::http::{HeaderMap, header};
use axum::response::Redirect;
use axum::routing::get;
use fawkes_portal::config::Settings;
use fawkes_portal::config::fetch::CredentialSettings;
use fawkes_portal::fetch::{FetchError, Fetched, Fetcher};

use crate::support::https::HttpsServer;

/// The `Authorization` header the server saw, as the body.
async fn echo(headers: HeaderMap) -> String {
    headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Server A (redirects to B) and server B, both on `localhost`.
async fn servers() -> (HttpsServer, HttpsServer) {
    let b = HttpsServer::start(Router::new().route("/doc.yaml", get(echo))).await;
    let b_port = Arc::new(OnceLock::new());
    b_port.set(b.port).unwrap();
    let to_b = b_port.clone();
    let a = HttpsServer::start(
        Router::new()
            .route("/doc.yaml", get(echo))
            .route(
                "/to-b.yaml",
                get(move || async move {
                    Redirect::temporary(&format!(
                        "https://localhost:{}/doc.yaml",
                        to_b.get().unwrap()
                    ))
                }),
            )
            .route(
                "/to-userinfo.yaml",
                get(move || async move {
                    Redirect::temporary(&format!(
                        "https://user:secret@localhost:{}/doc.yaml",
                        b_port.get().unwrap()
                    ))
                }),
            ),
    )
    .await;
    (a, b)
}

/// A fetcher trusting both servers' CAs, with `edit` applied to its settings.
fn fetcher(a: &HttpsServer, b: &HttpsServer, edit: impl FnOnce(&mut Settings)) -> Fetcher {
    let bundle = tempfile::Builder::new().suffix(".pem").tempfile().unwrap();
    let pems = [a.ca_path(), b.ca_path()].map(|p| std::fs::read_to_string(p).unwrap());
    std::fs::write(bundle.path(), pems.concat()).unwrap();
    let mut settings = Settings::default();
    settings.fetch.extra_ca_file = bundle.path().display().to_string();
    settings.fetch.allow_hosts = vec![format!("localhost:{}", a.port)];
    settings.fetch.timeout = "2s".into();
    edit(&mut settings);
    let config = settings.validate().unwrap();
    Fetcher::new(&config.fetch).unwrap()
}

async fn body(fetcher: &Fetcher, url: &str) -> Result<String, FetchError> {
    match fetcher.get(url, None).await? {
        Fetched::Body { body, .. } => Ok(String::from_utf8(body.to_vec()).unwrap()),
        Fetched::NotModified => panic!("not modified"),
    }
}

#[tokio::test]
async fn the_allow_list_port_holds_on_every_redirect_hop() {
    let (a, b) = servers().await;
    let only_a = fetcher(&a, &b, |_| {});
    assert_eq!(body(&only_a, &a.url("/doc.yaml")).await.unwrap(), "");
    // The redirect stays on `localhost`, but on a port no entry allows.
    assert_eq!(
        body(&only_a, &a.url("/to-b.yaml")).await.unwrap_err(),
        FetchError::HostNotAllowed {
            host: format!("localhost:{}", b.port)
        }
    );
    let both = fetcher(&a, &b, |s| {
        s.fetch.allow_hosts.push(format!("localhost:{}", b.port));
    });
    assert_eq!(body(&both, &a.url("/to-b.yaml")).await.unwrap(), "");
}

#[tokio::test]
async fn a_url_with_credentials_is_refused_on_any_hop() {
    let (a, b) = servers().await;
    let both = fetcher(&a, &b, |s| {
        s.fetch.allow_hosts.push(format!("localhost:{}", b.port));
    });
    let with_userinfo = format!("https://user:secret@localhost:{}/doc.yaml", a.port);
    assert_eq!(
        body(&both, &with_userinfo).await.unwrap_err(),
        FetchError::CredentialsInUrl
    );
    assert_eq!(
        body(&both, &a.url("/to-userinfo.yaml")).await.unwrap_err(),
        FetchError::CredentialsInUrl
    );
    assert!(
        FetchError::CredentialsInUrl
            .to_string()
            .contains("[[fetch.credentials]]")
    );
}

#[tokio::test]
async fn configured_credentials_reach_only_their_own_host_and_port() {
    let (a, b) = servers().await;
    let a_entry = format!("localhost:{}", a.port);
    let with_token = fetcher(&a, &b, |s| {
        s.fetch.allow_hosts.push(format!("localhost:{}", b.port));
        s.fetch.credentials = vec![CredentialSettings {
            host: a_entry.clone(),
            token: "s3cret".into(),
            ..CredentialSettings::default()
        }];
    });
    assert_eq!(
        body(&with_token, &a.url("/doc.yaml")).await.unwrap(),
        "Bearer s3cret"
    );
    // Redirected to another port of the same host: the token stays behind.
    assert_eq!(body(&with_token, &a.url("/to-b.yaml")).await.unwrap(), "");

    let basic = fetcher(&a, &b, |s| {
        s.fetch.credentials = vec![CredentialSettings {
            host: a_entry.clone(),
            token: "t0ken".into(),
            username: "deployer".into(),
            ..CredentialSettings::default()
        }];
    });
    // base64("deployer:t0ken")
    assert_eq!(
        body(&basic, &a.url("/doc.yaml")).await.unwrap(),
        "Basic ZGVwbG95ZXI6dDBrZW4="
    );
}

#[test]
fn credential_entries_are_validated() {
    let problem = |edit: fn(&mut CredentialSettings)| {
        let mut settings = Settings::default();
        let mut credential = CredentialSettings {
            host: "github.com".into(),
            token: "t".into(),
            ..CredentialSettings::default()
        };
        edit(&mut credential);
        settings.fetch.credentials = vec![credential];
        settings.validate().unwrap_err().to_string()
    };
    assert!(problem(|c| c.host = "gitlab.internal".into()).contains("is not on fetch.allow_hosts"),);
    assert!(problem(|c| c.token_env = "X".into()).contains("not both"));
    assert!(problem(|c| c.token = String::new()).contains("set token or token_env"));
    assert!(
        problem(|c| {
            c.token = String::new();
            c.token_env = "FAWKES_TEST_UNSET_TOKEN_VARIABLE".into();
        })
        .contains("fetch.credentials[0].token_env")
    );
    let mut settings = Settings::default();
    settings.fetch.credentials = vec![CredentialSettings {
        host: "github.com".into(),
        token: "t".into(),
        ..CredentialSettings::default()
    }];
    assert!(!settings.to_redacted_toml().contains("token = \"t\""));
}
