//! The OpenAPI document: valid 3.1 by an independent validator, and in step with the router.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use fawkes_portal::http::DOCS_UI_PATH;

use crate::support::TestApp;

fn document() -> serde_json::Value {
    let config = fawkes_portal::config::Config::with_data_dir(std::path::Path::new("./data"));
    serde_json::to_value(fawkes_portal::app::routes::openapi(&config)).unwrap()
}

fn documented_paths(doc: &serde_json::Value) -> BTreeSet<String> {
    doc["paths"].as_object().unwrap().keys().cloned().collect()
}

/// The paths the router really serves. axum does not list its routes, but its `Debug` output
/// names every registered path as `RouteId(n): "/path"`, which is enough to compare.
fn served_paths<S>(router: &axum::Router<S>) -> BTreeSet<String> {
    let debug = format!("{router:?}");
    // Only the routes proper; the fallback router registers catch-all paths of its own.
    let routes = debug.split("fallback_router:").next().unwrap();
    let mut paths = BTreeSet::new();
    let mut rest = routes;
    while let Some(at) = rest.find("RouteId(") {
        rest = &rest[at..];
        let Some(open) = rest.find("): \"") else {
            break;
        };
        let tail = &rest[open + 4..];
        let end = tail.find('"').unwrap();
        paths.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    paths
}

#[test]
fn every_served_route_is_documented_and_every_documented_route_is_served() {
    let (router, doc) = fawkes_portal::app::routes::api_routes().split_for_parts();
    let documented = documented_paths(&serde_json::to_value(&doc).unwrap());
    let served = served_paths(&router);
    assert!(
        served.contains("/healthz"),
        "route listing could not be read: {served:?}"
    );
    assert_eq!(served, documented);
}

#[tokio::test]
async fn the_full_router_serves_only_documented_routes_besides_the_docs_and_web_ui() {
    let app = TestApp::new().await;
    let doc = document();
    // The full router: check through HTTP that every documented operation is answered by a route
    // (not by the 404 fallback or a 405), and that the docs UI is the only addition.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let request = axum::http::Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(path)
                .body(axum::body::Body::empty())
                .unwrap();
            let response = app.send(request).await;
            // A route may answer 404 itself (e.g. an unknown id); the fallback's says "Not found: ".
            let fallback = response.status == StatusCode::NOT_FOUND
                && response.json()["error"]
                    .as_str()
                    .is_some_and(|e| e.starts_with("Not found: "));
            assert!(!fallback, "{method} {path}: {}", response.text());
            assert_ne!(
                response.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
        }
    }
    let state = app.app.state().clone();
    let (full, _) =
        fawkes_portal::app::routes::build(fawkes_portal::app::routes::api_routes(), state);
    let served = served_paths(&full);
    let extra: Vec<_> = served
        .difference(&documented_paths(&doc))
        .cloned()
        .collect();
    assert!(
        extra
            .iter()
            .all(|p| p.starts_with(DOCS_UI_PATH) || fawkes_portal::ui::is_ui_path(p)),
        "undocumented routes: {extra:?}"
    );
    assert!(
        extra.iter().any(|p| p == "/workspaces"),
        "the web UI is served"
    );
}

#[tokio::test]
async fn the_document_is_served_and_describes_the_bearer_scheme() {
    let app = TestApp::new().await;
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status, StatusCode::OK);
    let doc = response.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(doc, document());
    // Guarded routes declare the bearer scheme and the guard's answers; public ones do not.
    let userinfo = &doc["paths"]["/api/auth/v1/userinfo"]["get"];
    assert_eq!(userinfo["security"], serde_json::json!([{"bearer": []}]));
    assert!(userinfo["responses"]["401"].is_object() && userinfo["responses"]["429"].is_object());
    assert!(doc["paths"]["/healthz"]["get"].get("security").is_none());
}

#[tokio::test]
async fn the_docs_ui_works_offline_from_the_binary() {
    let app = TestApp::new().await;
    assert_eq!(app.get("/api/docs").await.status, StatusCode::SEE_OTHER);
    let page = app.get("/api/docs/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("swagger-ui"));
    let init = app.get("/api/docs/swagger-initializer.js").await;
    assert_eq!(init.status, StatusCode::OK);
    assert!(
        init.text().contains("\"../openapi.json\""),
        "{}",
        init.text()
    );
    let bundle = app.get("/api/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status, StatusCode::OK);
    assert!(bundle.body.len() > 100_000, "the UI bundle is embedded");
    assert!(
        !page.text().contains("https://"),
        "the page loads nothing from the network"
    );
}

#[test]
fn the_document_is_valid_openapi_3_1_by_an_independent_validator() {
    let Ok(validator) = std::env::var("FAWKES_OPENAPI_VALIDATOR") else {
        crate::skip_without!("the OpenAPI validator (FAWKES_OPENAPI_VALIDATOR)");
    };
    let file = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    std::fs::write(file.path(), serde_json::to_vec_pretty(&document()).unwrap()).unwrap();
    let output = std::process::Command::new(&validator)
        .arg(file.path())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "the validator refused the document:\n{text}"
    );
    assert!(text.contains("OK"), "{text}");
}

#[test]
fn the_validator_is_not_a_rubber_stamp() {
    let Ok(validator) = std::env::var("FAWKES_OPENAPI_VALIDATOR") else {
        crate::skip_without!("the OpenAPI validator (FAWKES_OPENAPI_VALIDATOR)");
    };
    let mut doc = document();
    doc["paths"]["/healthz"]["get"]["responses"] =
        serde_json::json!({"200": {"content": "nonsense"}});
    let file = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(&doc).unwrap()).unwrap();
    let output = std::process::Command::new(&validator)
        .arg(file.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
}
