//! Processing errors reach the `status.items` of the Location entity concerned, where Backstage's
//! entity page shows them, and leave with the next clean processing.

use axum::http::StatusCode;
use serde_json::json;

use super::{CatalogApp, WAIT, component};
use crate::support::wait_for;

#[tokio::test]
async fn processing_errors_are_status_items_of_the_location_entity() {
    let c = CatalogApp::new().await;
    c.write(
        "bad.yaml",
        format!(
            "{}---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {{title: nameless}}\nspec: {{type: service, lifecycle: production, owner: team-a}}\n",
            component("good", "team-a")
        ),
    );
    let root = c.write(
        "root.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: outer}\nspec: {targets: [./missing.yaml, ./bad.yaml]}\n",
    );
    let view = c.register(&root).await;
    let outer = c.entity("location", "outer").await;
    let items = outer["status"]["items"].as_array().expect("status.items");
    assert_eq!(items.len(), 2, "{outer}");
    let missing = format!("{}/./missing.yaml", c.root.display());
    assert_eq!(
        items[0],
        json!({
            "type": "backstage.io/catalog-processing",
            "level": "error",
            "message": format!("NotFoundError: Unable to read file, no matching files found for {missing}"),
            "error": {"name": "NotFoundError", "message": format!("Unable to read file, no matching files found for {missing}")},
        })
    );
    assert_eq!(items[1]["error"]["name"], "Error");
    assert_eq!(
        items[1]["message"],
        "Error: Invalid bad.yaml (document 2): missing required field 'metadata.name'"
    );
    // The other entities are clean: no status key at all, as Backstage serves them.
    let generated = view["entityRef"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    assert!(
        c.entity("location", generated)
            .await
            .get("status")
            .is_none()
    );
    assert!(c.entity("component", "good").await.get("status").is_none());

    // Fixed files: the next processing clears the status.
    c.write("missing.yaml", component("found", "team-a"));
    c.write("bad.yaml", component("good", "team-a"));
    let refresh = c
        .post(
            "/api/catalog/refresh",
            json!({"entityRef": "location:default/outer"}),
        )
        .await;
    assert_eq!(refresh.status, StatusCode::OK);
    let cleared = wait_for(
        async || {
            let outer = c.entity("location", "outer").await;
            outer.get("status").is_none().then_some(outer)
        },
        WAIT,
    )
    .await;
    assert_eq!(cleared["metadata"]["name"], "outer");
    assert_eq!(c.entity("component", "found").await["kind"], "Component");
}
