//! Every way a create request can be wrong, accepted quirks, the Fawkes golden-path devfiles, and
//! what the server says about workspaces at start.

use axum::Router;
use axum::http::{Method, StatusCode};
use axum::routing::get;
use serde_json::{Value, json};

use super::simulated::Launcher;
use crate::support::TestApp;
use crate::support::https::HttpsServer;

#[tokio::test]
async fn every_bad_request_says_what_to_fix() {
    let launcher = Launcher::start(|_| {}).await;
    let port = launcher.devfiles.port;
    let cases: Vec<(Value, String)> = vec![
        (json!({"devfileUrl": format!("http://localhost:{port}/devfile.yaml")}), "Invalid devfileUrl: URL must be HTTPS".into()),
        (json!({"devfileUrl": "not a url"}), "Invalid devfileUrl: 'not a url' is not a URL (relative URL without a base)".into()),
        (json!({"devfileUrl": "https://evil.example/devfile.yaml"}), "Invalid devfileUrl: host 'evil.example' is not allowed (fetch.allow_hosts)".into()),
        (json!({"devfileUrl": "/missing.yaml"}), format!("Cannot fetch the devfile: https://localhost:{port}/missing.yaml: the source answered 404 Not Found")),
        (json!({"devfileUrl": "/slow.yaml"}), format!("Cannot fetch the devfile: https://localhost:{port}/slow.yaml: no answer within 1s (fetch.timeout)")),
        (json!({"devfileUrl": "/big.yaml"}), format!("Cannot fetch the devfile: https://localhost:{port}/big.yaml: larger than 4096 bytes (fetch.max_bytes)")),
        (json!({"devfileUrl": "/invalid.yaml"}), "Invalid devfile: components[1].name 'Python' must match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$".into()),
        (json!({"devfileUrl": "/devfile.yaml", "name": "My_Workspace"}), "Invalid name 'My_Workspace': it must be a DNS-1123 label (at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit)".into()),
        (json!({"devfileUrl": "/devfile.yaml", "name": "x".repeat(64)}), format!("Invalid name '{}': it must be a DNS-1123 label (at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit)", "x".repeat(64))),
        (json!({"devfileUrl": "/devfile.yaml", "namespace": "Not/A/Namespace"}), "Invalid namespace 'Not/A/Namespace': it must be a DNS-1123 label (at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit)".into()),
    ];
    for (body, message) in cases {
        let response = launcher.create(body.clone()).await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            response.text()
        );
        assert_eq!(response.json(), json!({"error": message}), "{body}");
    }
    let not_yaml = launcher
        .create(json!({"devfileUrl": "/not-yaml.yaml"}))
        .await;
    assert_eq!(not_yaml.status, StatusCode::BAD_REQUEST);
    assert!(
        not_yaml.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("Invalid devfile: not YAML: "),
        "{}",
        not_yaml.text()
    );

    let missing = launcher
        .send(
            Method::POST,
            "/api/che-launcher/workspaces",
            Some(json!({"name": "x"})),
            None,
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(
        missing.json()["error"]
            .as_str()
            .unwrap()
            .contains("missing field `devfileUrl`"),
        "{}",
        missing.text()
    );
    let unknown = launcher
        .create(json!({"devfileUrl": "/devfile.yaml", "devfile": "x"}))
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(
        unknown.json()["error"]
            .as_str()
            .unwrap()
            .contains("unknown field `devfile`"),
        "{}",
        unknown.text()
    );
    let filter = launcher
        .app
        .get("/api/che-launcher/workspaces?status=Sleeping")
        .await;
    assert_eq!(filter.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        filter.json(),
        json!({"error": "Invalid status 'Sleeping': use one of Starting, Running, Stopping, Stopped, Failed"})
    );
    assert_eq!(launcher.list("").await["total"], 0);
}

#[tokio::test]
async fn accepted_quirks_come_back_as_warnings() {
    let launcher = Launcher::start(|_| {}).await;
    let created = launcher
        .create(json!({"devfileUrl": "/two-defaults.yaml"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(
        created.json()["warnings"],
        json!([
            "command group run has several default commands (a, b); Che accepts this and uses the first"
        ])
    );
}

#[tokio::test]
async fn the_fawkes_golden_path_devfiles_launch() {
    let dir = crate::support::testdata().join("fawkes/platform/devfiles");
    let router = Router::new()
        .route(
            "/goldenpath-python.yaml",
            get({
                let t = std::fs::read_to_string(dir.join("goldenpath-python.yaml")).unwrap();
                move || async move { t }
            }),
        )
        .route(
            "/goldenpath-ai.yaml",
            get({
                let t = std::fs::read_to_string(dir.join("goldenpath-ai.yaml")).unwrap();
                move || async move { t }
            }),
        );
    let server = HttpsServer::start(router).await;
    let app = TestApp::build(
        |s| server.allow(s),
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    for file in ["goldenpath-python", "goldenpath-ai"] {
        let body = json!({"devfileUrl": server.url(&format!("/{file}.yaml"))});
        let response = app
            .call(
                Method::POST,
                "/api/che-launcher/workspaces",
                "application/json",
                body.to_string(),
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::CREATED,
            "{file}: {}",
            response.text()
        );
        assert_eq!(
            response.json()["devfile"],
            json!({"name": file, "version": "1.0.0"})
        );
    }
}

#[tokio::test]
async fn the_start_up_log_says_plainly_that_workspaces_are_simulated() {
    let logs = crate::support::logs::captured();
    let dir = tempfile::TempDir::new().unwrap();
    let config = fawkes_portal::config::Config::with_data_dir(dir.path());
    let _app = fawkes_portal::app::App::build(config).await.unwrap();
    let lines = logs.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("workspaces are SIMULATED: no Kubernetes cluster is configured")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn a_bad_kubeconfig_stops_the_server_at_start() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut settings = crate::support::settings(&dir);
    settings.workspaces.cluster.mode = "kubeconfig".into();
    settings.workspaces.cluster.kubeconfig = dir.path().join("missing").display().to_string();
    let config = settings.validate().unwrap();
    let error = fawkes_portal::app::App::build(config)
        .await
        .err()
        .expect("refused");
    let message = format!("{error:#}");
    assert!(
        message.contains("cannot read kubeconfig") && message.contains("missing"),
        "{message}"
    );
}
