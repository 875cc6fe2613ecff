//! Backstage's catalog routes beyond entities: `onConflict` on registration, locations by query,
//! analyze-location, the health probes, and small request edge cases.

use axum::http::StatusCode;
use base64::Engine;
use serde_json::{Value, json};

use super::urls::{Files, app_for, start};
use super::{CatalogApp, component};

#[tokio::test]
async fn on_conflict_refresh_answers_the_registered_location_and_processes_it_again() {
    let c = CatalogApp::new().await;
    let path = c.write("c.yaml", component("svc", "team-a"));
    let first = c.register(&path).await;
    let body = json!({"type": "file", "target": path});
    let again = c.post("/api/catalog/locations", body.clone()).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
    let rejected = c
        .post("/api/catalog/locations?onConflict=reject", body.clone())
        .await;
    assert_eq!(rejected.status, StatusCode::CONFLICT);
    // A change to the file shows through onConflict=refresh (the next scheduled refresh is
    // minutes away).
    c.write(
        "c.yaml",
        format!(
            "{}---\n{}",
            component("svc", "team-a"),
            component("svc-two", "team-a")
        ),
    );
    let refreshed = c
        .post("/api/catalog/locations?onConflict=refresh", body.clone())
        .await;
    assert_eq!(
        refreshed.status,
        StatusCode::CREATED,
        "{}",
        refreshed.text()
    );
    let json = refreshed.json();
    assert_eq!(json["location"]["id"], first["id"]);
    assert_eq!(json["entities"], json!([]));
    crate::support::wait_until(
        async || {
            c.get("/api/catalog/entities/by-name/component/default/svc-two")
                .await
                .status
                == StatusCode::OK
        },
        super::WAIT,
    )
    .await;
    let bad = c
        .post("/api/catalog/locations?onConflict=merge", body.clone())
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.json()["error"],
        "request/query/onConflict must be equal to one of the allowed values: refresh, reject"
    );
    let empty = c.post("/api/catalog/locations?onConflict=", body).await;
    assert_eq!(
        empty.json()["error"],
        "Empty value found for query parameter 'onConflict'"
    );
}

#[tokio::test]
async fn locations_by_query_filter_page_and_count() {
    let c = CatalogApp::new().await;
    let mut ids = Vec::new();
    for name in ["a", "b", "c"] {
        let path = c.write(&format!("{name}.yaml"), component(name, "team-a"));
        ids.push(c.register(&path).await["id"].as_str().unwrap().to_owned());
    }
    let c_id = ids[2].clone();
    ids.sort();
    let all = c
        .post("/api/catalog/locations/by-query", json!({}))
        .await
        .json();
    assert_eq!(all["totalItems"], 3);
    assert_eq!(all["pageInfo"], json!({}));
    let first = &all["items"][0];
    assert_eq!(first["id"], ids[0].as_str());
    let mut keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["entityRef", "id", "target", "type"]);

    let prefix = c.root.join("B.YAML").display().to_string();
    let query = json!({"$any": [{"target": {"$hasPrefix": prefix}}, {"id": c_id}]});
    let page = c
        .post(
            "/api/catalog/locations/by-query",
            json!({"query": query, "limit": 1}),
        )
        .await
        .json();
    assert_eq!(page["totalItems"], 2, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let cursor = page["pageInfo"]["nextCursor"].as_str().unwrap().to_owned();
    let decoded: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(&cursor)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(decoded["limit"], 1);
    assert_eq!(decoded["afterId"], page["items"][0]["id"]);
    let next = c
        .post("/api/catalog/locations/by-query", json!({"cursor": cursor}))
        .await
        .json();
    assert_eq!(next["items"].as_array().unwrap().len(), 1);
    assert_eq!(next["pageInfo"], json!({}));
    assert_ne!(next["items"][0]["id"], page["items"][0]["id"]);

    for (body, error) in [
        (json!({"limit": 0}), "Limit must be a positive integer >= 1"),
        (
            json!({"query": {"foo": "x"}}),
            "Invalid filter predicate, expected key to be 'id', 'type', 'target', or 'entityRef', got 'foo'",
        ),
        (json!({"cursor": ""}), "Cursor cannot be empty"),
        (
            json!({"cursor": "not base64!"}),
            "Malformed cursor, unknown encoding",
        ),
    ] {
        let response = c.post("/api/catalog/locations/by-query", body).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST);
        assert_eq!(response.json()["error"], error);
    }
}

#[tokio::test]
async fn analyze_location_finds_the_catalog_file_or_proposes_a_component() {
    let files = Files::default();
    let server = start(&files).await;
    files.files.lock().unwrap().insert(
        "/acme/with-file/blob/main/catalog-info.yaml".into(),
        component("with-file", "team-a"),
    );
    let c = app_for(&server).await;
    let found = c
        .post(
            "/api/catalog/analyze-location",
            json!({"location": {"type": "url", "target": server.url("/acme/with-file")}, "extra": 1}),
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text());
    let found = found.json();
    let target = server.url("/acme/with-file/blob/main/catalog-info.yaml");
    assert_eq!(found["generateEntities"], json!([]));
    assert_eq!(
        found["existingEntityFiles"][0]["location"],
        json!({"type": "url", "target": target})
    );
    assert_eq!(found["existingEntityFiles"][0]["isRegistered"], false);
    assert_eq!(
        found["existingEntityFiles"][0]["entity"]["metadata"]["name"],
        "with-file"
    );

    let none = c
        .post(
            "/api/catalog/analyze-location",
            json!({"location": {"type": "url", "target": server.url("/acme/no-file/tree/dev")}}),
        )
        .await
        .json();
    assert_eq!(none["existingEntityFiles"], json!([]));
    assert_eq!(
        none["generateEntities"],
        json!([{"entity": {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": "no-file"}, "spec": {"type": "other", "lifecycle": "unknown"}}, "fields": []}])
    );
    let bad = c
        .post(
            "/api/catalog/analyze-location",
            json!({"location": {"type": "url", "target": "not a url"}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.json()["error"],
        "The given location.target is not a URL"
    );
}

#[tokio::test]
async fn analyze_location_reads_a_named_file_and_refuses_other_kinds_and_unsafe_names() {
    let files = Files::default();
    let server = start(&files).await;
    files.files.lock().unwrap().insert(
        "/acme/nested/blob/main/deploy/catalog.yaml".into(),
        component("nested", "team-a"),
    );
    let c = app_for(&server).await;
    let analyze = |location: Value, filename: Option<&str>| {
        let mut body = json!({ "location": location });
        if let Some(filename) = filename {
            body["catalogFilename"] = json!(filename);
        }
        c.post("/api/catalog/analyze-location", body)
    };
    let repo = json!({"type": "url", "target": server.url("/acme/nested")});

    let found = analyze(repo.clone(), Some("deploy/catalog.yaml")).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text());
    let found = found.json();
    assert_eq!(
        found["existingEntityFiles"][0]["location"]["target"],
        json!(server.url("/acme/nested/blob/main/deploy/catalog.yaml"))
    );
    assert_eq!(
        found["existingEntityFiles"][0]["entity"]["metadata"]["name"],
        "nested"
    );

    let file = analyze(json!({"type": "file", "target": "/etc/passwd"}), None).await;
    assert_eq!(file.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        file.json()["error"],
        "Invalid location type 'file': only url locations can be analyzed"
    );

    let long = "a".repeat(256);
    for name in [
        "",
        "/etc/passwd",
        "../other/catalog-info.yaml",
        "deploy/./catalog.yaml",
        &long,
    ] {
        let refused = analyze(repo.clone(), Some(name)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{name}");
        assert_eq!(
            refused.json()["error"],
            format!("Invalid catalogFilename '{name}': a relative path inside the repository"),
        );
    }
}

#[tokio::test]
async fn backstage_health_probes_answer_without_a_token() {
    let c = CatalogApp::new().await;
    for path in [
        "/.backstage/health/v1/liveness",
        "/.backstage/health/v1/readiness",
    ] {
        let response = c.app.get_with(path, None).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{path}: {}",
            response.text()
        );
        assert_eq!(response.json(), json!({"status": "ok"}));
    }
}

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
