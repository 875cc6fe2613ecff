//! Where entities come from: their ancestry (the Location entities that led to them).

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{CatalogApp, component};

/// A registered file with a Location entity `outer` listing `nested.yaml`, whose Location entity
/// `inner` lists `c.yaml`, which holds the component `svc`.
fn three_levels(c: &CatalogApp) -> String {
    c.write("c.yaml", component("svc", "team-a"));
    c.write(
        "nested.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: inner}\nspec: {targets: [./c.yaml]}\n",
    );
    c.write(
        "root.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: outer}\nspec: {target: ./nested.yaml}\n",
    )
}

#[tokio::test]
async fn ancestry_walks_up_to_the_generated_location() {
    let c = CatalogApp::new().await;
    let root = three_levels(&c);
    let view = c.register(&root).await;
    assert_eq!(view["errors"], json!([]), "{view}");
    let generated = view["entityRef"].as_str().unwrap().to_owned();
    let response = c
        .get("/api/catalog/entities/by-name/Component/Default/SVC/ancestry")
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let body = response.json();
    assert_eq!(body["rootEntityRef"], "component:default/svc");
    let items: Vec<(String, Value)> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["entity"]["metadata"]["name"].as_str().unwrap().to_owned(),
                i["parentEntityRefs"].clone(),
            )
        })
        .collect();
    let generated_name = generated.rsplit('/').next().unwrap().to_owned();
    assert_eq!(
        items,
        [
            ("svc".to_owned(), json!(["location:default/inner"])),
            ("inner".to_owned(), json!(["location:default/outer"])),
            ("outer".to_owned(), json!([generated])),
            (generated_name, json!([])),
        ]
    );
    // Served entities, uid and relations included.
    assert!(body["items"][0]["entity"]["metadata"]["uid"].is_string());
    let missing = c
        .get("/api/catalog/entities/by-name/component/default/nope/ancestry")
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json()["error"],
        "No such entity component:default/nope"
    );
}
