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

#[test]
fn orphans_are_deleted_by_default_as_in_backstage() {
    let settings = fawkes_portal::config::Settings::default();
    assert_eq!(settings.catalog.orphan_strategy, "delete");
    let mut keep = settings;
    keep.catalog.orphan_strategy = "forget".into();
    assert!(keep.validate().is_err());
}

#[tokio::test]
async fn kept_orphans_are_annotated_and_adopted_again_with_their_uid() {
    let c = CatalogApp::with(|s| s.catalog.orphan_strategy = "keep".into()).await;
    let both = format!(
        "{}---\n{}",
        component("a", "team-a"),
        component("b", "team-a")
    );
    let path = c.write("c.yaml", &both);
    c.register(&path).await;
    let uid = c.entity("component", "b").await["metadata"]["uid"].clone();
    let refresh = async || {
        let r = c
            .post(
                "/api/catalog/refresh",
                json!({"entityRef": "component:default/a"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    };
    let orphan = |want: bool| {
        let c = &c;
        async move {
            let b = c.entity("component", "b").await;
            let is = b["metadata"]["annotations"]["backstage.io/orphan"] == "true";
            (is == want).then_some(b)
        }
    };

    c.write("c.yaml", component("a", "team-a"));
    refresh().await;
    let b = wait_for(async || orphan(true).await, WAIT).await;
    assert_eq!(b["metadata"]["uid"], uid);
    assert_eq!(
        c.names("/api/catalog/entities?filter=metadata.annotations.backstage.io/orphan=true")
            .await,
        ["b"]
    );
    let refresh_orphan = c
        .post(
            "/api/catalog/refresh",
            json!({"entityRef": "component:default/b"}),
        )
        .await;
    assert_eq!(refresh_orphan.status, StatusCode::NOT_FOUND);
    let ancestry = c
        .get("/api/catalog/entities/by-name/component/default/b/ancestry")
        .await
        .json();
    assert_eq!(ancestry["items"].as_array().unwrap().len(), 1);
    assert_eq!(ancestry["items"][0]["parentEntityRefs"], json!([]));

    c.write("c.yaml", &both);
    refresh().await;
    let b = wait_for(async || orphan(false).await, WAIT).await;
    assert_eq!(b["metadata"]["uid"], uid, "adopted again with its uid");

    // An orphan deleted by uid does not come back.
    c.write("c.yaml", component("a", "team-a"));
    refresh().await;
    let b = wait_for(async || orphan(true).await, WAIT).await;
    let id = c.get("/api/catalog/locations").await.json()[0]["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/catalog/locations/{id}");
    let before = c.get(&path).await.json();
    c.wait_past_refresh(&before).await;
    let deleted = c
        .delete(&format!(
            "/api/catalog/entities/by-uid/{}",
            b["metadata"]["uid"].as_str().unwrap()
        ))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    // Its location is processed again (as after any delete), and b stays gone.
    wait_for(
        async || {
            let view = c.get(&path).await.json();
            (view["lastRefreshedAt"] != before["lastRefreshedAt"]).then_some(())
        },
        WAIT,
    )
    .await;
    assert_eq!(
        c.get("/api/catalog/entities/by-name/component/default/b")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
