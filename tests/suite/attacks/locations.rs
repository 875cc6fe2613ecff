//! One location must not take unbounded memory and disk: a tree past
//! `[catalog] max_entities_per_location` or `max_bytes_per_location` fails with a clear error in
//! its status, and nothing from that pass is stored (what an earlier pass stored stays). (A
//! 200-file tree with 200,000 entities pushed RSS to 436 MB and the database to 1.5 GB.)

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::Backend;
use crate::catalog::CatalogApp;

/// A file of `n` Components named `<prefix>-<i>`, each with a description of `padding` bytes.
fn components(prefix: &str, n: usize, padding: usize) -> String {
    let description = "x".repeat(padding);
    (0..n)
        .map(|i| {
            format!(
                "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {prefix}-{i}\n  description: '{description}'\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
            )
        })
        .collect()
}

/// A Location file listing `targets`.
fn location(name: &str, targets: &[String]) -> String {
    let list: String = targets.iter().map(|t| format!("    - {t}\n")).collect();
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: {name}\nspec:\n  type: file\n  targets:\n{list}"
    )
}

/// Processes location `id` again now and waits for the result.
async fn refresh(c: &CatalogApp, id: &str) -> Value {
    let catalog = &c.app.app.state().catalog;
    let store = fawkes_portal::catalog::store::open(&c.app.app.state().db);
    store.schedule_location(id, 0).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while catalog.refresh_due().await.unwrap() == 0 {
        assert!(Instant::now() < deadline, "location {id} was not processed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    c.get(&format!("/api/catalog/locations/{id}")).await.json()
}

async fn component_names(c: &CatalogApp) -> usize {
    c.get("/api/catalog/entities?filter=kind=component&fields=metadata.name")
        .await
        .json()
        .as_array()
        .unwrap()
        .len()
}

async fn a_location_past_its_limits_fails_and_stores_nothing_of_that_pass(backend: Backend) {
    let c = CatalogApp::with(backend.with(|s| {
        s.catalog.max_entities_per_location = 50;
        s.catalog.max_bytes_per_location = 64 * 1024;
    }))
    .await;
    // Within the limits: 40 entities in two files.
    let a = c.write("a.yaml", components("a", 20, 100));
    let b = c.write("b.yaml", components("b", 20, 100));
    let root = c.write("root.yaml", location("tree", &[a, b.clone()]));
    let view = c.register(&root).await;
    assert_eq!(view["status"], "ready", "{view}");
    assert_eq!(component_names(&c).await, 40);
    let id = view["id"].as_str().unwrap().to_owned();

    // The tree grows past the entity limit: the read fails, the 40 stay.
    c.write("b.yaml", components("b", 40, 100));
    let view = refresh(&c, &id).await;
    assert_eq!(view["status"], "failed", "{view}");
    let errors = view["errors"].to_string();
    assert!(
        errors.contains("more than 50 entities (catalog.max_entities_per_location)"),
        "{errors}"
    );
    assert_eq!(
        component_names(&c).await,
        40,
        "nothing of the failed pass is stored"
    );

    // Past the byte limit, likewise.
    c.write("b.yaml", components("b", 20, 4000));
    let view = refresh(&c, &id).await;
    assert_eq!(view["status"], "failed", "{view}");
    let errors = view["errors"].to_string();
    assert!(
        errors.contains("more than 65536 bytes (catalog.max_bytes_per_location)"),
        "{errors}"
    );
    assert_eq!(component_names(&c).await, 40);

    // Back within the limits, the location is read again as usual.
    c.write("b.yaml", components("b", 5, 100));
    let view = refresh(&c, &id).await;
    assert_eq!(view["status"], "ready", "{view}");
    assert_eq!(component_names(&c).await, 25);

    // A dry run over the limits is a 400 naming the limit.
    let big = c.write("big.yaml", components("big", 60, 10));
    let dry = c
        .post(
            "/api/catalog/locations?dryRun=true",
            json!({"type": "file", "target": big}),
        )
        .await;
    assert_eq!(
        dry.status,
        axum::http::StatusCode::BAD_REQUEST,
        "{}",
        dry.text()
    );
    assert!(
        dry.text().contains("catalog.max_entities_per_location"),
        "{}",
        dry.text()
    );
}

crate::on_both_databases!(a_location_past_its_limits_fails_and_stores_nothing_of_that_pass);
