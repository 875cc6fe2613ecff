//! Running in a cluster: replicas sharing one signing key from a mounted Secret (and needing no
//! data directory on a database elsewhere), browser callers on other origins (CORS), and the API
//! reference behind a proxy's path prefix.

use std::io::Write;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use fawkes_portal::app::App;
use fawkes_portal::auth::issuer::TokenSubject;
use fawkes_portal::config::Settings;
use p256::pkcs8::{EncodePrivateKey, LineEnding};

use crate::support::TestApp;

const USERINFO: &str = "/api/auth/v1/userinfo";
const PREFIX: &str = "/api/proxy/fawkes-portal";

fn key_file(pem: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".pem").tempfile().unwrap();
    file.write_all(pem.as_bytes()).unwrap();
    file
}

fn pkcs8_key() -> String {
    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    secret.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
}

async fn replica(key: &tempfile::NamedTempFile) -> TestApp {
    let path = key.path().display().to_string();
    TestApp::build(
        move |s: &mut Settings| s.auth.issuer.key_file = path,
        fawkes_portal::app::routes::api_routes(),
    )
    .await
}

#[tokio::test]
async fn replicas_with_one_key_file_accept_each_others_tokens() {
    let key = key_file(&pkcs8_key());
    let (a, b) = (replica(&key).await, replica(&key).await);
    let token = a.issue(&TokenSubject::user("jdoe").unwrap());
    let answer = b.get_as(USERINFO, &token).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["subject"], "user:default/jdoe");
    let jwks = |app: &TestApp| {
        app.app
            .state()
            .auth
            .issuer
            .as_ref()
            .unwrap()
            .jwks()
            .to_string()
    };
    assert_eq!(jwks(&a), jwks(&b), "one key set");

    // Replicas each with a key of their own do not.
    let own = TestApp::new().await;
    assert_eq!(
        own.get_as(USERINFO, &token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_sec1_key_from_openssl_ecparam_works_too() {
    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    let sec1 = secret.to_sec1_pem(LineEnding::LF).unwrap();
    assert!(sec1.starts_with("-----BEGIN EC PRIVATE KEY-----"));
    let key = key_file(&sec1);
    let app = replica(&key).await;
    let token = app.issue(&TokenSubject::service("ci-bot").unwrap());
    assert_eq!(
        app.get_as(USERINFO, &token).await.json()["subject"],
        "ci-bot"
    );
}

#[tokio::test]
async fn with_a_key_file_and_the_database_elsewhere_the_data_dir_is_never_created() {
    let scratch = tempfile::TempDir::new().unwrap();
    let key = key_file(&pkcs8_key());
    let data_dir = scratch.path().join("not-here");
    let mut settings = Settings {
        data_dir: data_dir.display().to_string(),
        ..Settings::default()
    };
    // A database outside the data directory, as PostgreSQL is.
    settings.database.url = format!("sqlite://{}", scratch.path().join("db.sqlite").display());
    settings.auth.issuer.key_file = key.path().display().to_string();
    let app = App::build(settings.validate().unwrap()).await.unwrap();
    let issuer = app.state().auth.issuer.as_ref().unwrap();
    assert!(
        issuer
            .issue(&TokenSubject::user("jdoe").unwrap(), None, 0)
            .is_ok()
    );
    assert!(!data_dir.exists(), "the data dir was created");
}

#[test]
fn a_missing_or_bad_key_file_stops_start_up_naming_the_setting() {
    let mut settings = Settings::default();
    settings.auth.issuer.key_file = "/nonexistent/issuer.pem".into();
    let err = settings.validate().unwrap_err();
    assert_eq!(err.setting, "auth.issuer.key_file");

    let bad = key_file("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    let dir = tempfile::TempDir::new().unwrap();
    let mut settings = Settings::default();
    settings.auth.issuer.key_file = bad.path().display().to_string();
    let config = settings.validate().unwrap();
    let err = fawkes_portal::auth::issuer::BuiltInIssuer::load_or_create(
        dir.path(),
        config.auth.issuer.as_ref().unwrap(),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("auth.issuer.key_file") && err.contains("not a P-256 private key"),
        "{err}"
    );
}

fn preflight(origin: &str) -> Request<Body> {
    Request::builder()
        .method(Method::OPTIONS)
        .uri("/api/catalog/entities")
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn configured_origins_get_cors_answers_even_to_refusals() {
    let app = TestApp::build(
        |s: &mut Settings| s.server.cors_origins = vec!["https://backstage.example.com".into()],
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    let answer = app
        .send_anonymous(preflight("https://backstage.example.com"))
        .await;
    assert!(answer.status.is_success(), "{}", answer.status);
    assert_eq!(
        answer.header("access-control-allow-origin"),
        "https://backstage.example.com"
    );
    assert!(
        answer
            .header("access-control-allow-headers")
            .contains("authorization")
    );
    assert!(
        answer
            .header("access-control-allow-methods")
            .contains("POST")
    );

    // A refused call still says which origin may read it, and exposes the rate-limit headers.
    let refused = app
        .send_anonymous(
            Request::get(USERINFO)
                .header(header::ORIGIN, "https://backstage.example.com")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.header("access-control-allow-origin"),
        "https://backstage.example.com"
    );
    let exposed = refused.header("access-control-expose-headers").to_owned();
    assert!(
        exposed.contains("x-ratelimit-remaining") && exposed.contains("retry-after"),
        "{exposed}"
    );

    // Another origin gets no permission.
    let other = app.send_anonymous(preflight("https://evil.example")).await;
    assert!(other.headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn without_origins_there_are_no_cors_headers() {
    let app = TestApp::new().await;
    let answer = app
        .send_anonymous(preflight("https://backstage.example.com"))
        .await;
    assert!(answer.headers.get("access-control-allow-origin").is_none());
}

/// Resolves `link` against the page at `page` (both as the browser sees them).
fn resolve(page: &str, link: &str) -> String {
    url::Url::parse(page)
        .unwrap()
        .join(link)
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn the_api_reference_works_behind_a_path_prefix() {
    let app = TestApp::build(
        |s: &mut Settings| s.server.public_base_path = format!("{PREFIX}/"),
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    // The proxy strips the prefix; every link the browser follows must keep it.
    let outside = format!("https://backstage.example.com{PREFIX}");
    let redirect = app.get("/api/docs").await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER);
    let page_url = resolve(&format!("{outside}/api/docs"), redirect.header("location"));
    assert_eq!(page_url, format!("{outside}/api/docs/"));

    let page = app.get("/api/docs/").await.text();
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
    ] {
        assert!(page.contains(&format!("./{asset}")), "{asset} is relative");
        assert_eq!(
            app.get(&format!("/api/docs/{asset}")).await.status,
            StatusCode::OK
        );
    }
    let init = app.get("/api/docs/swagger-initializer.js").await.text();
    assert!(init.contains("\"../openapi.json\""), "{init}");
    assert_eq!(
        resolve(&page_url, "../openapi.json"),
        format!("{outside}/api/openapi.json")
    );

    // "Try it out" calls go to the server the document names: the prefix.
    let doc = app.get("/api/openapi.json").await.json();
    assert_eq!(doc["servers"][0]["url"], PREFIX);
    let index = app.get("/api").await.json();
    assert_eq!(index["links"]["docs"], format!("{PREFIX}/api/docs/"));
    assert_eq!(
        index["links"]["openapi"],
        format!("{PREFIX}/api/openapi.json")
    );

    // Without a prefix, the document names no server (clients use the one they called).
    let plain = TestApp::new().await;
    assert!(
        plain
            .get("/api/openapi.json")
            .await
            .json()
            .get("servers")
            .is_none()
    );
}
