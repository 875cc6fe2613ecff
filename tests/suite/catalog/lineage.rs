//! Where entities come from: their ancestry (the Location entities that led to them), and what
//! happens when an entity is deleted by uid while its file still lists it.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{CatalogApp, WAIT, component};
use crate::support::wait_for;

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

#[tokio::test]
async fn an_entity_deleted_by_uid_comes_back_while_its_file_lists_it() {
    let c = CatalogApp::new().await;
    let path = c.write("c.yaml", component("svc", "team-a"));
    c.register(&path).await;
    let uid = c.entity("component", "svc").await["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    let deleted = c
        .delete(&format!("/api/catalog/entities/by-uid/{uid}"))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    // Backstage processes the parent again at once: the entity is back, with a new uid, without
    // any refresh asked for (and although the file did not change).
    let back = wait_for(
        async || {
            let r = c
                .get("/api/catalog/entities/by-name/component/default/svc")
                .await;
            (r.status == StatusCode::OK).then(|| r.json())
        },
        WAIT,
    )
    .await;
    assert_ne!(back["metadata"]["uid"], uid);
}
