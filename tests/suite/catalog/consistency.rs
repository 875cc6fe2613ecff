//! A list streamed page by page (kept answers off, as on PostgreSQL or for an answer too large to
//! keep) shows one state of the catalog: a change committed between two of its pages aborts it,
//! never mixing the entities before the change with those after.

use axum::http::StatusCode;
use fawkes_portal::catalog::entities::{EntityList, Listing};
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::{CatalogApp, WAIT};
use crate::attacks::Backend;
use crate::support::wait_for;

/// 750 components (`c<first>` on) of type `kind`: two such files make two pages of a streamed
/// list.
fn components(first: usize, kind: &str) -> String {
    (first..first + 750)
        .map(|i| {
            format!(
                "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: c{i:04}\nspec:\n  type: {kind}\n  lifecycle: production\n  owner: team-a\n"
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

/// The whole streamed answer of `GET /entities`, or `None` when it was aborted.
async fn streamed(list: Listing) -> Option<Vec<u8>> {
    let Listing::Stream(mut chunks) = list else {
        panic!("with kept answers off, a list is streamed");
    };
    let mut body = Vec::new();
    while let Some(chunk) = chunks.next().await {
        body.extend_from_slice(&chunk.ok()?);
    }
    Some(body)
}

async fn a_streamed_list_never_mixes_two_states(backend: Backend) {
    let c = CatalogApp::with(backend.with(|s| s.catalog.kept_answers_bytes = 0)).await;
    let path = c.write("changing.yaml", components(0, "old"));
    let view = c.register(&path).await;
    c.register(&c.write("steady.yaml", components(750, "old")))
        .await;
    let id = view["id"].as_str().unwrap().to_owned();
    let catalog = c.app.app.state().catalog.clone();

    // The first page is read; then half the entities change before the second is.
    let Listing::Stream(mut chunks) = catalog.list(EntityList::default()).await.unwrap() else {
        panic!("with kept answers off, a list is streamed");
    };
    let first = chunks.next().await.unwrap().unwrap();
    assert!(first.starts_with(b"[{"), "the first page");
    std::fs::write(&path, components(0, "new")).unwrap();
    c.wait_past_refresh(&view).await;
    let refresh = c
        .post(
            "/api/catalog/refresh",
            json!({"entityRef": "component:default/c0000"}),
        )
        .await;
    assert_eq!(refresh.status, StatusCode::OK, "{}", refresh.text());
    let location = format!("/api/catalog/locations/{id}");
    wait_for(
        async || {
            let now = c.get(&location).await.json();
            (now["status"] == "ready" && now["lastRefreshedAt"] != view["lastRefreshedAt"])
                .then_some(())
        },
        WAIT,
    )
    .await;
    assert_eq!(c.entity("component", "c0749").await["spec"]["type"], "new");
    let rest = streamed(Listing::Stream(chunks)).await;
    assert!(
        rest.is_none(),
        "a list whose pages straddle a change is aborted, not sent as {} bytes of two states",
        rest.map_or(0, |r| r.len())
    );

    // With nothing changing, the same list is whole, and of one state.
    let whole = streamed(catalog.list(EntityList::default()).await.unwrap())
        .await
        .expect("no change, no abort");
    let entities: Vec<Value> = serde_json::from_slice(&whole).unwrap();
    assert_eq!(
        entities.len(),
        1502,
        "1,500 components and two Location entities"
    );
    for entity in entities.iter().filter(|e| e["kind"] == "Component") {
        let name = entity["metadata"]["name"].as_str().unwrap();
        let changed = name < "c0750";
        assert_eq!(
            entity["spec"]["type"],
            if changed { "new" } else { "old" },
            "{name}"
        );
    }
}

crate::on_both_databases!(a_streamed_list_never_mixes_two_states);
