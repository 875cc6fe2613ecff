//! Refresh: changed files are re-read, entities a file no longer lists are removed, uids stay,
//! etags change exactly when the served entity does, and a deleted entity comes back.

use axum::http::StatusCode;
use serde_json::json;

use super::{CatalogApp, WAIT, component};
use crate::support::wait_for;

/// Asks for a refresh of the location of `entity_ref` and waits until location `id` shows one
/// after `before`.
async fn refresh_and_wait(
    c: &CatalogApp,
    entity_ref: &str,
    id: &str,
    before: &serde_json::Value,
) -> serde_json::Value {
    c.wait_past_refresh(before).await;
    let response = c
        .post("/api/catalog/refresh", json!({"entityRef": entity_ref}))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let path = format!("/api/catalog/locations/{id}");
    let refreshed = async || {
        let view = c.get(&path).await.json();
        (view["lastRefreshedAt"] != before["lastRefreshedAt"]).then_some(view)
    };
    wait_for(refreshed, WAIT).await
}

#[tokio::test]
async fn a_refresh_applies_changes_and_removals() {
    let c = CatalogApp::new().await;
    let path = c.write(
        "c.yaml",
        format!(
            "{}---\n{}",
            component("keep", "team-a"),
            component("drop", "team-a")
        ),
    );
    let view = c.register(&path).await;
    let id = view["id"].as_str().unwrap().to_owned();
    let keep = c.entity("component", "keep").await;
    let view2 = refresh_and_wait(&c, "component:default/keep", &id, &view).await;
    let same = c.entity("component", "keep").await;
    assert_eq!(
        same["metadata"]["etag"], keep["metadata"]["etag"],
        "unchanged source, unchanged etag"
    );

    std::fs::write(&path, component("keep", "team-b")).unwrap();
    refresh_and_wait(&c, "component:default/keep", &id, &view2).await;
    let changed = c.entity("component", "keep").await;
    assert_eq!(
        changed["metadata"]["uid"], keep["metadata"]["uid"],
        "uid is stable"
    );
    assert_ne!(changed["metadata"]["etag"], keep["metadata"]["etag"]);
    assert_eq!(changed["spec"]["owner"], "team-b");
    assert_eq!(
        c.get("/api/catalog/entities/by-name/component/default/drop")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let unknown = c
        .post(
            "/api/catalog/refresh",
            json!({"entityRef": "component:default/nope"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.json()["error"],
        "Entity component:default/nope not found"
    );
}

#[tokio::test]
async fn surprise_8_a_deleted_entity_returns_on_the_next_refresh() {
    let c = CatalogApp::new().await;
    let path = c.write(
        "c.yaml",
        format!("{}---\n{}", component("a", "t"), component("b", "t")),
    );
    let view = c.register(&path).await;
    let uid = c.entity("component", "a").await["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    c.delete(&format!("/api/catalog/entities/by-uid/{uid}"))
        .await;
    assert_eq!(
        c.get("/api/catalog/entities/by-name/component/default/a")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Touch the file so the conditional read sees a change.
    std::fs::write(
        &path,
        format!("{}---\n{}\n", component("a", "t"), component("b", "t")),
    )
    .unwrap();
    refresh_and_wait(
        &c,
        "component:default/b",
        view["id"].as_str().unwrap(),
        &view,
    )
    .await;
    let back = c.entity("component", "a").await;
    assert_ne!(
        back["metadata"]["uid"],
        uid.as_str(),
        "a re-created entity gets a new uid"
    );
}

#[tokio::test]
async fn validate_entity_reports_errors_without_storing() {
    let c = CatalogApp::new().await;
    let entity = serde_json::from_str::<serde_json::Value>(&serde_json::to_string(&json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "x"}, "spec": {"type": "service", "lifecycle": "production", "owner": "t"}})).unwrap()).unwrap();
    let ok = c.post("/api/catalog/validate-entity", json!({"entity": entity, "location": "url:https://github.com/a/b/blob/main/catalog-info.yaml"})).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let bad = c.post("/api/catalog/validate-entity", json!({"entity": {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {}}, "location": "url:https://x/y.yaml"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("missing required field 'metadata.name'")
    );
    let bad_location = c
        .post(
            "/api/catalog/validate-entity",
            json!({"entity": entity, "location": "file:/x"}),
        )
        .await;
    assert_eq!(bad_location.status, StatusCode::BAD_REQUEST);
    assert_eq!(c.get("/api/catalog/entities").await.json(), json!([]));
}

/// A location left `processing` by a processing that never finished (a crash, or a stop in the
/// middle) is processed again by the refresh loop at once, unless a live lease says a replica is
/// processing it now.
#[tokio::test]
async fn a_location_left_processing_is_processed_again_unless_a_replica_holds_it() {
    use fawkes_portal::catalog::model::{LocationSpec, LocationType};
    use fawkes_portal::catalog::refresh::processing_lease;
    use fawkes_portal::catalog::service::now_ms;
    use fawkes_portal::catalog::store::NewLocation;

    let c = CatalogApp::new().await;
    let catalog = &c.app.app.state().catalog;
    // Rows as a server that stopped mid-way leaves them, written straight into its database.
    let store = fawkes_portal::catalog::store::open(&c.app.app.state().db);
    let left = |id: &str, path: String| NewLocation {
        id: id.into(),
        spec: LocationSpec {
            kind: LocationType::File,
            target: path,
        },
        now: now_ms(),
    };
    // Registered, and being processed now by another replica: its lease is live.
    let busy = left("busy", c.write("busy.yaml", component("busy", "team-a")));
    assert!(store.create_location(&busy).await.unwrap());
    let leases = c.app.app.state().db.leases();
    let held = leases
        .try_acquire(
            &processing_lease("busy"),
            "another-server/its-run",
            now_ms(),
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert!(held);
    // Registered by a server that stopped before processing it: nothing holds it.
    let stopped = left(
        "stopped",
        c.write("stopped.yaml", component("stopped", "team-a")),
    );
    assert!(store.create_location(&stopped).await.unwrap());
    assert_eq!(catalog.refresh_due().await.unwrap(), 1);
    let view = c.get("/api/catalog/locations/stopped").await.json();
    assert_eq!(view["status"], "ready", "{view}");
    assert_eq!(
        c.names("/api/catalog/entities?filter=kind=component").await,
        ["stopped"]
    );
    let view = c.get("/api/catalog/locations/busy").await.json();
    assert_eq!(
        view["status"], "processing",
        "a processing under way is not repeated"
    );
}
