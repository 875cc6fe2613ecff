//! Running in a cluster: browser callers on other origins (CORS), and the API reference behind a
//! proxy's path prefix.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use fawkes_portal::config::Settings;

use crate::support::TestApp;

const USERINFO: &str = "/api/auth/v1/userinfo";
const PREFIX: &str = "/api/proxy/fawkes-portal";

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
