//! Registering locations: the answer's shape, validation errors, 409, dry runs, deletion, file
//! root escapes, nested locations, cycles and conflicts.

use axum::http::StatusCode;
use serde_json::json;

use super::{CatalogApp, component, relations};

const GROUP: &str = "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n";

#[tokio::test]
async fn registering_answers_201_with_the_spec_and_backstage_shapes_then_ingests() {
    let c = CatalogApp::new().await;
    let path = c.write(
        "svc/catalog-info.yaml",
        format!("{}---\n{GROUP}", component("svc", "team-a")),
    );
    let response = c
        .post(
            "/api/catalog/locations",
            json!({"type": "file", "target": path}),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    let body = response.json();
    let id = body["locationId"].as_str().unwrap().to_owned();
    assert_eq!(body["status"], "processing");
    assert_eq!(body["type"], "file");
    assert_eq!(body["target"], path);
    assert_eq!(body["location"]["id"], id.as_str());
    assert!(
        body["location"]["entityRef"]
            .as_str()
            .unwrap()
            .starts_with("location:default/generated-")
    );
    // Surprise 1: entities are processed asynchronously; the answer lists none.
    assert_eq!(body["entities"], json!([]));
    let view = c.wait_processed(&id).await;
    assert_eq!(view["status"], "ready");
    assert_eq!(view["errors"], json!([]));
    assert!(view["lastRefreshedAt"].is_string());

    let svc = c.entity("component", "svc").await;
    assert_eq!(svc["metadata"]["namespace"], "default");
    assert_eq!(
        svc["metadata"]["annotations"]["backstage.io/managed-by-location"],
        format!("file:{path}")
    );
    assert_eq!(
        svc["metadata"]["annotations"]["backstage.io/managed-by-origin-location"],
        format!("file:{path}")
    );
    assert_eq!(relations(&svc), vec!["ownedBy -> group:default/team-a"]);
    // Surprise 7: the reverse edge is on the group.
    let group = c.entity("group", "team-a").await;
    assert_eq!(relations(&group), vec!["ownerOf -> component:default/svc"]);
    // The generated Location entity is listed too.
    let location_ref = body["location"]["entityRef"].as_str().unwrap();
    let name = location_ref.rsplit('/').next().unwrap();
    assert_eq!(c.entity("location", name).await["spec"]["target"], path);

    let list = c.get("/api/catalog/locations").await.json();
    assert_eq!(list[0]["data"]["id"], id.as_str());
    let by_entity = c
        .get("/api/catalog/locations/by-entity/component/default/svc")
        .await;
    assert_eq!(by_entity.json()["id"], id.as_str());
    assert_eq!(
        c.get("/api/catalog/locations/by-entity/component/default/nope")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn invalid_entities_are_a_400_naming_the_document_and_field() {
    let c = CatalogApp::new().await;
    let path = c.write(
        "catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  title: x\n",
    );
    let response = c
        .post(
            "/api/catalog/locations",
            json!({"type": "file", "target": path}),
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        response.json()["error"],
        "Invalid catalog-info.yaml: missing required field 'metadata.name'"
    );

    let path = c.write("two.yaml", format!("{}---\n{}", component("a", "t"), "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: b\nspec:\n  type: service\n  lifecycle: x\n"));
    let response = c
        .post(
            "/api/catalog/locations",
            json!({"type": "file", "target": path}),
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        response.json()["error"],
        "Invalid two.yaml (document 2): missing required field 'spec.owner'"
    );
    assert_eq!(
        c.get("/api/catalog/locations").await.json(),
        json!([]),
        "nothing was registered"
    );

    let bad_type = c
        .post(
            "/api/catalog/locations",
            json!({"type": "ftp", "target": "x"}),
        )
        .await;
    assert_eq!(bad_type.status, StatusCode::BAD_REQUEST);
    assert!(bad_type.json()["error"].as_str().unwrap().contains("'ftp'"));
    let unknown_field = c
        .post(
            "/api/catalog/locations",
            json!({"type": "file", "target": path, "x": 1}),
        )
        .await;
    assert_eq!(unknown_field.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_same_location_twice_is_409_and_dry_run_stores_nothing() {
    let c = CatalogApp::new().await;
    let path = c.write("c.yaml", component("svc", "team-a"));
    let dry = c
        .post(
            "/api/catalog/locations?dryRun=true",
            json!({"type": "file", "target": path}),
        )
        .await;
    assert_eq!(dry.status, StatusCode::CREATED, "{}", dry.text());
    let body = dry.json();
    assert_eq!(body["exists"], false);
    let kinds: Vec<&str> = body["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["Location", "Component"]);
    assert_eq!(c.get("/api/catalog/entities").await.json(), json!([]));
    assert_eq!(c.get("/api/catalog/locations").await.json(), json!([]));

    c.register(&path).await;
    let again = c
        .post(
            "/api/catalog/locations",
            json!({"type": "file", "target": path}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        again.json()["error"],
        format!("Location file:{path} already exists")
    );
    let dry = c
        .post(
            "/api/catalog/locations?dryRun=true",
            json!({"type": "file", "target": path}),
        )
        .await;
    assert_eq!(dry.json()["exists"], true);
}

#[tokio::test]
async fn deleting_a_location_removes_its_entities_and_nested_ones_at_once() {
    let c = CatalogApp::new().await;
    c.write("nested/c.yaml", component("inner", "team-a"));
    let root = c.write("root.yaml", format!("{}---\n{GROUP}---\napiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: more\nspec:\n  targets: [./nested/c.yaml]\n", component("outer", "team-a")));
    let view = c.register(&root).await;
    assert_eq!(view["errors"], json!([]));
    assert_eq!(
        relations(&c.entity("group", "team-a").await),
        vec![
            "ownerOf -> component:default/inner",
            "ownerOf -> component:default/outer"
        ]
    );
    let id = view["id"].as_str().unwrap();
    assert_eq!(
        c.delete(&format!("/api/catalog/locations/{id}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(c.get("/api/catalog/entities").await.json(), json!([]));
    let missing = c.delete(&format!("/api/catalog/locations/{id}")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json()["error"],
        format!("Found no location with ID {id}")
    );
    assert_eq!(
        c.get(&format!("/api/catalog/locations/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_location_moved_to_another_target_serves_that_target_s_entities() {
    let c = CatalogApp::new().await;
    let old = c.write(
        "old.yaml",
        format!("{}---\n{GROUP}", component("legacy", "team-a")),
    );
    let new = c.write("new.yaml", component("fresh", "team-a"));
    let taken = c.write("taken.yaml", GROUP);
    let view = c.register(&old).await;
    let id = view["id"].as_str().unwrap().to_owned();
    let path = format!("/api/catalog/locations/{id}");
    let moved = c.put(&path, json!({"type": "file", "target": new})).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
    assert_eq!(moved.json()["id"], id.as_str());
    assert_eq!(moved.json()["target"], new.as_str());
    let view = c.wait_processed(&id).await;
    assert_eq!(view["status"], "ready", "{view}");
    assert_eq!(view["errors"], json!([]));
    let names = c
        .names("/api/catalog/entities?filter=kind=component,kind=group")
        .await;
    assert_eq!(names, ["fresh"], "the old target's entities are gone");
    let location = c
        .get("/api/catalog/locations/by-entity/component/default/fresh")
        .await;
    assert_eq!(location.json()["id"], id.as_str());
    // The same target again changes nothing.
    let same = c.put(&path, json!({"type": "file", "target": new})).await;
    assert_eq!(same.status, StatusCode::OK);
    assert_eq!(same.json()["status"], "ready", "not processed again");
    // Another location's target is a conflict; a bad target or body a 400; nothing changes.
    c.register(&taken).await;
    let conflict = c.put(&path, json!({"type": "file", "target": taken})).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert_eq!(
        conflict.json()["error"],
        format!("Location file:{taken} already exists")
    );
    let invalid = c.write(
        "invalid.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {}\n",
    );
    let bad = c
        .put(&path, json!({"type": "file", "target": invalid}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text().contains("metadata.name"), "{}", bad.text());
    let bad = c.put(&path, json!({"type": "ftp", "target": new})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad = c
        .put(&path, json!({"type": "file", "target": new, "extra": 1}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(c.get(&path).await.json()["target"], new.as_str());
    let missing = c
        .put(
            "/api/catalog/locations/nope",
            json!({"type": "file", "target": new}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["error"], "Found no location with ID nope");
}

#[tokio::test]
async fn peers_lose_reverse_relations_when_the_other_side_goes() {
    let c = CatalogApp::new().await;
    let group = c.write("group.yaml", GROUP);
    c.register(&group).await;
    let svc = c.write("svc.yaml", component("svc", "team-a"));
    let view = c.register(&svc).await;
    assert_eq!(
        relations(&c.entity("group", "team-a").await),
        vec!["ownerOf -> component:default/svc"]
    );
    let etag = c.entity("group", "team-a").await["metadata"]["etag"].clone();
    c.delete(&format!(
        "/api/catalog/locations/{}",
        view["id"].as_str().unwrap()
    ))
    .await;
    let after = c.entity("group", "team-a").await;
    assert_eq!(relations(&after), Vec::<String>::new());
    assert_ne!(
        after["metadata"]["etag"], etag,
        "the served entity changed, so its etag did"
    );
}

#[tokio::test]
async fn file_targets_cannot_leave_the_roots() {
    let c = CatalogApp::new().await;
    let outside = tempfile::TempDir::new().unwrap();
    let secret = outside.path().join("secret.yaml");
    std::fs::write(&secret, component("x", "y")).unwrap();
    let dotdot = format!(
        "{}/../{}/secret.yaml",
        c.root.display(),
        outside.path().file_name().unwrap().to_str().unwrap()
    );
    let link = c.root.join("link.yaml");
    std::os::unix::fs::symlink(&secret, &link).unwrap();
    for target in [
        secret.display().to_string(),
        dotdot,
        link.display().to_string(),
    ] {
        let response = c
            .post(
                "/api/catalog/locations",
                json!({"type": "file", "target": target}),
            )
            .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{target}");
        assert!(
            response.json()["error"]
                .as_str()
                .unwrap()
                .contains("outside the directories in catalog.file_roots"),
            "{}",
            response.text()
        );
    }
    let relative = c
        .post(
            "/api/catalog/locations",
            json!({"type": "file", "target": "c.yaml"}),
        )
        .await;
    assert!(
        relative.json()["error"]
            .as_str()
            .unwrap()
            .contains("absolute path")
    );
    let missing = c
        .post(
            "/api/catalog/locations",
            json!({"type": "file", "target": format!("{}/none.yaml", c.root.display())}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(
        missing.json()["error"]
            .as_str()
            .unwrap()
            .contains("no matching files found")
    );

    // A nested Location pointing outside is an error on the location, not a read.
    let root = c.write("root.yaml", format!("apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: escape\nspec:\n  type: file\n  target: ../{}/secret.yaml\n", outside.path().file_name().unwrap().to_str().unwrap()));
    let view = c.register(&root).await;
    assert!(
        view["errors"][0]
            .as_str()
            .unwrap()
            .contains("outside the directories"),
        "{view}"
    );
    assert_eq!(
        c.get("/api/catalog/entities/by-name/component/default/x")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn file_locations_are_refused_without_roots() {
    let app = crate::support::TestApp::new().await;
    let response = app
        .call(
            axum::http::Method::POST,
            "/api/catalog/locations",
            "application/json",
            json!({"type": "file", "target": "/etc/passwd"}).to_string(),
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(
        response.json()["error"]
            .as_str()
            .unwrap()
            .contains("catalog.file_roots")
    );
}

#[tokio::test]
async fn cycles_end_with_an_error_and_conflicts_stay_with_the_first_location() {
    let c = CatalogApp::new().await;
    let loc = |name: &str, target: &str| {
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: {name}\nspec:\n  target: ./{target}\n"
        )
    };
    c.write(
        "b.yaml",
        format!("{}---\n{}", loc("b", "a.yaml"), component("from-b", "t")),
    );
    let a = c.write("a.yaml", loc("a", "b.yaml"));
    let view = c.register(&a).await;
    assert_eq!(view["status"], "ready");
    let errors = view["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{view}");
    assert!(errors[0].as_str().unwrap().contains("a cycle"), "{view}");
    c.entity("component", "from-b").await;

    let first = c.write("first.yaml", component("shared", "team-a"));
    c.register(&first).await;
    let second = c.write("second.yaml", component("shared", "team-b"));
    let view = c.register(&second).await;
    assert_eq!(
        view["errors"][0],
        format!(
            "component:default/shared is already provided by the location {first}; it stays with that location"
        )
    );
    assert_eq!(
        c.entity("component", "shared").await["spec"]["owner"],
        "team-a"
    );
}

#[tokio::test]
async fn missing_nested_targets_are_errors_on_the_location_and_optional_ones_are_skipped() {
    let c = CatalogApp::new().await;
    c.write("here.yaml", component("here", "t"));
    let root = c.write("root.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: r\nspec:\n  targets: [./here.yaml, ./gone.yaml]\n---\napiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: opt\nspec:\n  presence: optional\n  target: ./maybe.yaml\n");
    let view = c.register(&root).await;
    assert_eq!(view["status"], "ready");
    let errors = view["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{view}");
    assert!(
        errors[0]
            .as_str()
            .unwrap()
            .contains("no matching files found"),
        "{view}"
    );
    c.entity("component", "here").await;
}
