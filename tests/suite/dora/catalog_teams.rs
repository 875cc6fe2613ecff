//! Projects and teams from the catalog: a Component is a project (named by its
//! `devlake.apache.org/project-name` annotation, else its name), its team is the
//! `app.fawkes.idp/team` label, else the `devlake.apache.org/team` annotation, else its owner;
//! `[dora.teams]` serves projects the catalog does not list.

use fawkes_portal::catalog::model::{LocationSpec, LocationType};
use fawkes_portal::catalog::store::NewLocation;
use serde_json::{Value, json};

use super::{DoraApp, app_at, deployment};

fn component(name: &str, owner: &str, labels: Value, annotations: Value) -> Value {
    json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
        "metadata": {"name": name, "namespace": "default", "labels": labels, "annotations": annotations},
        "spec": {"type": "service", "lifecycle": "production", "owner": owner}})
}

/// Makes `entities` the catalog's one location: its file is written, and the app's catalog
/// processes it now, as its refresh loop would.
async fn catalog(app: &DoraApp, entities: &[Value]) {
    let state = app.app.app.state();
    let documents: Vec<String> = entities.iter().map(Value::to_string).collect();
    let path = app.catalog_root().join("all.yaml");
    std::fs::write(&path, documents.join("\n---\n")).unwrap();
    let spec = LocationSpec {
        kind: LocationType::File,
        target: path.display().to_string(),
    };
    let store = fawkes_portal::catalog::store::open(&state.db);
    if store.location_by_spec(&spec).await.unwrap().is_none() {
        let location = NewLocation {
            id: "loc".into(),
            spec,
            now: 0,
        };
        assert!(store.create_location(&location).await.unwrap());
    }
    state.catalog.process_location("loc", None).await;
    let location = state.catalog.location("loc").await.unwrap();
    assert!(location.errors.is_empty(), "{:?}", location.errors);
}

#[tokio::test]
async fn projects_and_teams_come_from_the_catalog_then_the_configuration() {
    let app = app_at(
        "2024-07-01T12:00:00Z",
        &[("legacy", &["old-svc"]), ("elsewhere", &["checkout"])],
    )
    .await;
    catalog(
        &app,
        &[
            component("checkout", "group:default/payments", json!({}), json!({})),
            component(
                "web",
                "group:default/payments",
                json!({"app.fawkes.idp/team": "frontend"}),
                json!({"devlake.apache.org/team": "ignored-label-wins"}),
            ),
            component(
                "ledger-svc",
                "payments",
                json!({}),
                json!({"devlake.apache.org/project-name": "ledger", "devlake.apache.org/team": "finance"}),
            ),
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Group",
                "metadata": {"name": "payments", "namespace": "default"},
                "spec": {"type": "team", "children": []}}),
        ],
    )
    .await;
    app.hook(
        "checkout",
        "deployments",
        deployment("d1", "2024-06-30T10:00:00Z"),
    )
    .await;

    // The owner's name is the team; the catalog wins over [dora.teams] for a project it lists.
    let checkout = app.metrics("project=checkout").await;
    assert_eq!(checkout["team"], "payments");
    assert_eq!(
        checkout["metrics"]["deploymentFrequency"]["details"]["deployments"],
        1
    );
    let payments = app.metrics("team=payments").await;
    assert_eq!(payments["team"], "payments");
    assert_eq!(
        payments["metrics"]["deploymentFrequency"]["details"]["deployments"],
        1
    );
    // The label wins over the annotation and the owner.
    assert_eq!(app.metrics("project=web").await["team"], "frontend");
    // The annotation names the project; a project with no data yet is known, its values N/A.
    let ledger = app.metrics("team=finance").await;
    assert_eq!(
        ledger["metrics"]["deploymentFrequency"]["value"],
        Value::Null
    );
    assert_eq!(app.metrics("project=ledger").await["team"], "finance");
    assert_eq!(
        app.get("/api/devlake/dora-metrics?project=ledger-svc")
            .await
            .status,
        404
    );
    // A Group is not a project.
    assert_eq!(
        app.get("/api/devlake/dora-metrics?project=payments")
            .await
            .status,
        404
    );
    // [dora.teams] serves what the catalog does not list; its claim on `checkout` is overruled.
    assert_eq!(app.metrics("project=old-svc").await["team"], "legacy");
    assert_eq!(
        app.get("/api/devlake/dora-metrics?team=elsewhere")
            .await
            .status,
        404
    );

    // A catalog change shows at once: `web` moves team, `checkout` leaves the catalog.
    catalog(
        &app,
        &[component(
            "web",
            "group:default/payments",
            json!({"app.fawkes.idp/team": "storefront"}),
            json!({}),
        )],
    )
    .await;
    assert_eq!(app.metrics("project=web").await["team"], "storefront");
    assert_eq!(
        app.get("/api/devlake/dora-metrics?team=frontend")
            .await
            .status,
        404
    );
    // `checkout` still has its deployment (the store knows it) and [dora.teams] places it now.
    assert_eq!(app.metrics("project=checkout").await["team"], "elsewhere");
}
