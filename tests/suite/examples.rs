//! The README's offline quick start: examples/catalog registered as a file location, and
//! examples/devfile served by examples/serve-devfile (its own CA and server certificate) and
//! launched as a workspace.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use axum::http::{Method, StatusCode};
use fawkes_portal::config::Settings;
use serde_json::json;

use crate::support::{TestApp, wait_until};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[tokio::test]
async fn the_example_catalog_registers_offline() {
    let catalog = std::fs::canonicalize(Path::new(ROOT).join("examples/catalog")).unwrap();
    let root = catalog.display().to_string();
    let app = TestApp::build(
        move |s: &mut Settings| s.catalog.file_roots = vec![root],
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    let target = catalog.join("catalog-info.yaml").display().to_string();
    let registered = app
        .call(
            Method::POST,
            "/api/catalog/locations",
            "application/json",
            json!({"type": "file", "target": target}).to_string(),
        )
        .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.text()
    );
    let wanted = ["checkout", "payments", "payments-api"];
    // The nested locations are processed in the background: wait until every entity is there.
    let path = "/api/catalog/entities?filter=relations.ownedBy=group:default/platform-team";
    let all_there = async || {
        let found = app.get(path).await.json();
        let names: Vec<String> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["metadata"]["name"].as_str().unwrap().to_owned())
            .collect();
        wanted.iter().all(|w| names.iter().any(|n| n == w))
    };
    wait_until(all_there, Duration::from_secs(15)).await;
    let api = app
        .get("/api/catalog/entities/by-name/api/default/payments-api")
        .await
        .json();
    let relations = api["relations"].to_string();
    assert!(
        relations.contains("component:default/payments"),
        "{relations}"
    );
}

/// A free loopback port (the script binds it itself).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_devfile_server_script_is_trusted_by_its_ca_and_the_devfile_launches() {
    for tool in ["openssl", "python3"] {
        if Command::new(tool).arg("--help").output().is_err() {
            crate::skip_without!(format!("{tool} (examples/serve-devfile needs it)"));
        }
    }
    let tls = tempfile::TempDir::new().unwrap();
    let port = free_port();
    let mut server = Command::new("bash")
        .arg(Path::new(ROOT).join("examples/serve-devfile"))
        .env("PORT", port.to_string())
        .env("TLS_DIR", tls.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let serving = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.starts_with("serving on"));
    std::thread::spawn(move || lines.for_each(drop));
    let ca = tls.path().join("ca.pem").display().to_string();
    let app = TestApp::build(
        move |s: &mut Settings| {
            s.fetch.allow_hosts = vec![format!("localhost:{port}")];
            s.fetch.extra_ca_file = ca;
        },
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    let created = app
        .call(
            Method::POST,
            "/api/che-launcher/workspaces",
            "application/json",
            json!({"devfileUrl": format!("https://localhost:{port}/devfile.yaml")}).to_string(),
        )
        .await;
    let _ = server.kill();
    let _ = server.wait();
    assert!(serving, "the script did not start serving");
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["devfile"]["name"], "python-demo");
}
