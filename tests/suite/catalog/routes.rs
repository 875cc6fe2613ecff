//! Backstage's catalog routes beyond entities, and small request edge cases.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{CatalogApp, component};

#[tokio::test]
async fn edge_cases_answer_as_backstage() {
    let c = CatalogApp::new().await;
    let path = c.write("c.yaml", component("svc", "team-a"));
    c.register(&path).await;
    for (url, name) in [
        ("/api/catalog/entities?filter=", "filter"),
        ("/api/catalog/entities?fields=", "fields"),
        ("/api/catalog/entities/by-query?filter=", "filter"),
    ] {
        let response = c.get(url).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{url}");
        assert_eq!(
            response.json()["error"],
            format!("Empty value found for query parameter '{name}'")
        );
    }
    // A repeated parameter may have an empty value; the empty filter is ignored.
    let names = c
        .names("/api/catalog/entities?filter=&filter=kind=component")
        .await;
    assert_eq!(names, ["svc"]);
    let refs = c
        .post(
            "/api/catalog/entities/by-refs",
            json!({"entityRefs": ["component:svc", "component:default/svc", "svc"]}),
        )
        .await
        .json();
    assert_eq!(refs["items"][0], Value::Null);
    assert_eq!(refs["items"][1]["metadata"]["name"], "svc");
    assert_eq!(refs["items"][2], Value::Null);
    for (entity_ref, message) in [
        ("svc", "Entity svc not found"),
        ("Default/SVC", "Entity default/svc not found"),
        ("component:svc", "Entity component:svc not found"),
    ] {
        let response = c
            .post("/api/catalog/refresh", json!({"entityRef": entity_ref}))
            .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{entity_ref}");
        assert_eq!(response.json()["error"], message);
    }
    let upper = c
        .post(
            "/api/catalog/refresh",
            json!({"entityRef": "COMPONENT:default/SVC"}),
        )
        .await;
    assert_eq!(upper.status, StatusCode::OK, "{}", upper.text());
}
