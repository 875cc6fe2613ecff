//! `url` locations over real HTTPS (an in-process server with its own CA): the Fawkes catalog
//! served as its GitHub layout, relative targets, conditional re-reads, and the guard's refusals.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{CatalogApp, WAIT, component, relations};
use crate::support::https::HttpsServer;
use crate::support::testdata;
use crate::support::wait_until;

/// Files served by path, counting requests and answering `If-None-Match` with 304.
#[derive(Clone, Default)]
pub(super) struct Files {
    pub(super) files: Arc<Mutex<HashMap<String, String>>>,
    gets: Arc<AtomicUsize>,
    not_modified: Arc<AtomicUsize>,
}

async fn serve(State(files): State<Files>, uri: Uri, headers: HeaderMap) -> Response {
    files.gets.fetch_add(1, Ordering::SeqCst);
    let Some(body) = files.files.lock().unwrap().get(uri.path()).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{}\"", body.len());
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        files.not_modified.fetch_add(1, Ordering::SeqCst);
        return StatusCode::NOT_MODIFIED.into_response();
    }
    ([(header::ETAG, etag)], body).into_response()
}

pub(super) async fn start(files: &Files) -> HttpsServer {
    HttpsServer::start(Router::new().fallback(serve).with_state(files.clone())).await
}

pub(super) async fn app_for(server: &HttpsServer) -> CatalogApp {
    let allow_hosts = vec![format!("localhost:{}", server.port)];
    let ca = server.ca_path();
    CatalogApp::with(move |s| {
        s.fetch.allow_hosts = allow_hosts;
        s.fetch.extra_ca_file = ca;
    })
    .await
}

#[tokio::test]
async fn the_fawkes_catalog_served_over_https_ingests() {
    let fawkes = testdata().join("fawkes");
    let files = Files::default();
    let server = start(&files).await;
    let base = server.url("/paruff/fawkes/blob/main/");
    for entry in [
        "catalog-info.yaml",
        "services/location.yaml",
        "templates/location.yaml",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain(
        std::fs::read_dir(fawkes.join("services"))
            .unwrap()
            .map(|e| {
                format!(
                    "services/{}/catalog-info.yaml",
                    e.unwrap().file_name().to_str().unwrap()
                )
            }),
    )
    .chain(
        ["python-service", "java-service", "nodejs-service"]
            .map(|t| format!("templates/{t}/template.yaml")),
    ) {
        if let Ok(text) = std::fs::read_to_string(fawkes.join(&entry)) {
            let text = text.replace("https://github.com/paruff/fawkes/blob/main/", &base);
            files
                .files
                .lock()
                .unwrap()
                .insert(format!("/paruff/fawkes/blob/main/{entry}"), text);
        }
    }
    let c = app_for(&server).await;
    let target = format!("{base}services/location.yaml");
    let response = c
        .post(
            "/api/catalog/locations",
            json!({"type": "url", "target": target}),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    let view = c
        .wait_processed(response.json()["location"]["id"].as_str().unwrap())
        .await;
    let errors: Vec<&str> = view["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    for name in ["cloud-provider", "data-quality", "rag"] {
        assert!(
            errors.iter().any(
                |e| e.contains(&format!("services/{name}/catalog-info.yaml"))
                    && e.contains("no matching files found")
            ),
            "{name}: {errors:#?}"
        );
    }
    assert_eq!(
        c.names("/api/catalog/entities?filter=kind=component")
            .await
            .len(),
        20
    );

    // The root catalog: relative targets in templates/location.yaml resolve against their parent.
    let root = format!("{base}catalog-info.yaml");
    let response = c
        .post(
            "/api/catalog/locations",
            json!({"type": "url", "target": root}),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    let view = c
        .wait_processed(response.json()["location"]["id"].as_str().unwrap())
        .await;
    assert_eq!(view["status"], "ready", "{view}");
    // templates/location.yaml repeats the Location entity that lists it (fawkes-templates): that is
    // reported, and (as in Backstage, which ignores it) its targets are not followed.
    let errors = view["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e.as_str().unwrap().ends_with(
            "entity location:default/fawkes-templates is defined more than once in this location"
        )),
        "{view}"
    );
    // Entities of services/location.yaml stay with the location registered first.
    assert!(
        errors.iter().any(|e| e
            .as_str()
            .unwrap()
            .starts_with("component:default/dora-metrics is already provided by the location")),
        "{view}"
    );
    let system = c.entity("system", "fawkes-platform").await;
    assert!(
        relations(&system).contains(&"partOf -> domain:default/platform-engineering".to_owned())
    );
    let annotations = &system["metadata"]["annotations"];
    assert_eq!(
        annotations["backstage.io/managed-by-location"],
        format!("url:{root}")
    );
}

#[tokio::test]
async fn an_unchanged_source_costs_one_304_and_no_writes() {
    let files = Files::default();
    let server = start(&files).await;
    files
        .files
        .lock()
        .unwrap()
        .insert("/c.yaml".into(), component("svc", "team-a"));
    let c = app_for(&server).await;
    let target = server.url("/c.yaml");
    let response = c
        .post(
            "/api/catalog/locations",
            json!({"type": "url", "target": target}),
        )
        .await;
    let id = response.json()["location"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = c.wait_processed(&id).await;
    let entity = c.entity("component", "svc").await;
    let gets = files.gets.load(Ordering::SeqCst);
    c.wait_past_refresh(&before).await;
    c.post(
        "/api/catalog/refresh",
        json!({"entityRef": "component:default/svc"}),
    )
    .await;
    let path = format!("/api/catalog/locations/{id}");
    let refreshed =
        async || c.get(&path).await.json()["lastRefreshedAt"] != before["lastRefreshedAt"];
    wait_until(refreshed, WAIT).await;
    assert_eq!(files.gets.load(Ordering::SeqCst), gets + 1, "one request");
    assert_eq!(files.not_modified.load(Ordering::SeqCst), 1, "answered 304");
    assert_eq!(c.entity("component", "svc").await, entity);
}

#[tokio::test]
async fn a_location_moved_while_it_is_processed_keeps_the_new_target_s_entities() {
    let files = Files::default();
    // The old target's nested file answers only when the test lets it.
    let gate = Arc::new(tokio::sync::Notify::new());
    let slow_gate = gate.clone();
    let slow = axum::routing::get(move || {
        let gate = slow_gate.clone();
        async move {
            gate.notified().await;
            component("late", "team-a")
        }
    });
    let server = HttpsServer::start(
        Router::new()
            .route("/slow.yaml", slow)
            .fallback(serve)
            .with_state(files.clone()),
    )
    .await;
    let root = format!(
        "{}---\napiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: more\nspec:\n  targets: [./slow.yaml]\n",
        component("old", "team-a")
    );
    files
        .files
        .lock()
        .unwrap()
        .insert("/root.yaml".into(), root);
    files
        .files
        .lock()
        .unwrap()
        .insert("/new.yaml".into(), component("new", "team-a"));
    let c = app_for(&server).await;
    let registered = c
        .post(
            "/api/catalog/locations",
            json!({"type": "url", "target": server.url("/root.yaml")}),
        )
        .await;
    let id = registered.json()["location"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/catalog/locations/{id}");
    let moved = c
        .put(
            &path,
            json!({"type": "url", "target": server.url("/new.yaml")}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
    c.wait_processed(&id).await;
    assert_eq!(
        c.names("/api/catalog/entities?filter=kind=component").await,
        ["new"]
    );
    // The first processing, still reading the old target, now ends: it must not store it.
    gate.notify_one();
    let background = c.app.app.background();
    wait_until(async || background.running() == 0, WAIT).await;
    assert_eq!(
        c.names("/api/catalog/entities?filter=kind=component").await,
        ["new"]
    );
    let view = c.get(&path).await.json();
    assert_eq!(view["target"], server.url("/new.yaml").as_str());
    assert_eq!(
        (view["status"].as_str(), &view["errors"]),
        (Some("ready"), &json!([]))
    );
}

#[tokio::test]
async fn the_guard_refuses_plain_http_and_unlisted_hosts() {
    let c = CatalogApp::new().await;
    let http = c
        .post(
            "/api/catalog/locations",
            json!({"type": "url", "target": "http://github.com/a/b/blob/main/c.yaml"}),
        )
        .await;
    assert_eq!(http.status, StatusCode::BAD_REQUEST);
    assert!(
        http.json()["error"]
            .as_str()
            .unwrap()
            .contains("URL must be HTTPS"),
        "{}",
        http.text()
    );
    let host = c
        .post(
            "/api/catalog/locations",
            json!({"type": "url", "target": "https://evil.example/c.yaml"}),
        )
        .await;
    assert_eq!(host.status, StatusCode::BAD_REQUEST);
    assert!(
        host.json()["error"]
            .as_str()
            .unwrap()
            .contains("host 'evil.example' is not allowed (fetch.allow_hosts)"),
        "{}",
        host.text()
    );
    let local = c
        .post(
            "/api/catalog/locations",
            json!({"type": "url", "target": "https://127.0.0.1/c.yaml"}),
        )
        .await;
    assert_eq!(local.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn placeholders_resolve_beside_their_file_and_a_failing_one_drops_only_its_entity() {
    let files = Files::default();
    let server = start(&files).await;
    let api = "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: checkout-api}\nspec:\n  type: openapi\n  lifecycle: production\n  owner: team-a\n  definition:\n    $text: ./openapi.yaml\n";
    let broken = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: broken\n  annotations: {$json: ./missing.json}\nspec: {type: service, lifecycle: production, owner: team-a}\n";
    let params = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: with-json}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n  settings: {$json: ../shared/settings.json}\n  schema: {$ref: '#/definitions/x'}\n";
    for (path, body) in [
        (
            "/r/catalog-info.yaml",
            "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: root}\nspec: {targets: [./dir/apis.yaml]}\n".to_owned(),
        ),
        ("/r/dir/apis.yaml", format!("{api}---\n{broken}---\n{params}")),
        ("/r/dir/openapi.yaml", "openapi: 3.0.0\ninfo: {title: Checkout}\n".to_owned()),
        ("/r/shared/settings.json", r#"{"retries": 3}"#.to_owned()),
    ] {
        files.files.lock().unwrap().insert(path.into(), body);
    }
    let c = app_for(&server).await;
    let response = c
        .post(
            "/api/catalog/locations",
            json!({"type": "url", "target": server.url("/r/catalog-info.yaml")}),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    let view = c
        .wait_processed(response.json()["location"]["id"].as_str().unwrap())
        .await;
    let api = c.entity("api", "checkout-api").await;
    assert_eq!(
        api["spec"]["definition"],
        "openapi: 3.0.0\ninfo: {title: Checkout}\n"
    );
    let with_json = c.entity("component", "with-json").await;
    assert_eq!(with_json["spec"]["settings"], json!({"retries": 3}));
    assert_eq!(
        with_json["spec"]["schema"],
        json!({"$ref": "#/definitions/x"})
    );
    let missing = c
        .get("/api/catalog/entities/by-name/component/default/broken")
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let errors = view["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{view}");
    let error = errors[0].as_str().unwrap();
    assert!(
        error.contains("(document 2): InputError: Processor PlaceholderProcessor threw an error while preprocessing; caused by Error: Placeholder $json could not read location ./missing.json, NotFoundError"),
        "{error}"
    );
}

#[tokio::test]
async fn hosts_without_an_integration_get_a_view_url_only() {
    let files = Files::default();
    let server = start(&files).await;
    files
        .files
        .lock()
        .unwrap()
        .insert("/o/r/blob/main/c.yaml".into(), component("svc", "team-a"));
    let c = app_for(&server).await;
    let target = server.url("/o/r/blob/main/c.yaml");
    let response = c
        .post(
            "/api/catalog/locations",
            json!({"type": "url", "target": target}),
        )
        .await;
    let view = c
        .wait_processed(response.json()["location"]["id"].as_str().unwrap())
        .await;
    let generated = view["entityRef"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    for entity in [
        c.entity("component", "svc").await,
        c.entity("location", generated).await,
    ] {
        let annotations = entity["metadata"]["annotations"].as_object().unwrap();
        let mut keys: Vec<&str> = annotations.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "backstage.io/managed-by-location",
                "backstage.io/managed-by-origin-location",
                "backstage.io/view-url"
            ],
            "{entity}"
        );
        assert_eq!(annotations["backstage.io/view-url"], target.as_str());
    }
}

#[tokio::test]
async fn the_fawkes_templates_over_https_resolve_their_yaml_placeholders() {
    let fawkes = testdata().join("fawkes");
    let files = Files::default();
    let server = start(&files).await;
    let base = server.url("/paruff/fawkes/blob/main/");
    let mut entries = vec!["templates/location.yaml".to_owned()];
    for t in ["python-service", "java-service", "nodejs-service"] {
        entries.push(format!("templates/{t}/template.yaml"));
    }
    for p in ["service-info", "repo-config", "deployment-config"] {
        entries.push(format!("templates/defaults/parameters/{p}.yaml"));
    }
    for entry in entries {
        let text = std::fs::read_to_string(fawkes.join(&entry)).unwrap();
        let text = text.replace("https://github.com/paruff/fawkes/blob/main/", &base);
        files
            .files
            .lock()
            .unwrap()
            .insert(format!("/paruff/fawkes/blob/main/{entry}"), text);
    }
    let c = app_for(&server).await;
    let response = c
        .post(
            "/api/catalog/locations",
            json!({"type": "url", "target": format!("{base}templates/location.yaml")}),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    let view = c
        .wait_processed(response.json()["location"]["id"].as_str().unwrap())
        .await;
    assert_eq!(view["errors"], json!([]), "{view}");
    assert_eq!(
        c.names("/api/catalog/entities?filter=kind=template").await,
        ["java-service", "nodejs-service", "python-service"]
    );
    let python = c.entity("template", "python-service").await;
    assert_eq!(
        python["spec"]["parameters"][2]["title"], "Deployment Configuration",
        "{python}"
    );
    assert_eq!(
        relations(&python),
        ["ownedBy -> group:default/platform-team"]
    );
    // Ancestry: template -> fawkes-templates -> the generated Location.
    let ancestry = c
        .get("/api/catalog/entities/by-name/template/default/nodejs-service/ancestry")
        .await
        .json();
    assert_eq!(
        ancestry["items"][0]["parentEntityRefs"],
        json!(["location:default/fawkes-templates"])
    );
    assert_eq!(
        ancestry["items"][1]["parentEntityRefs"],
        json!([view["entityRef"]])
    );
}
