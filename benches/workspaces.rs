//! The Che launcher's own costs, on this machine.
//!
//!     cargo bench --bench workspaces
//!
//! Measures, in-process and single-threaded:
//! 1. validating the largest test devfile (`devfile::parse`: YAML, schema rules, library rules);
//! 2. our own work on a create, without the devfile fetch and the cluster round trip: checking the
//!    request, validating the (same, largest) devfile, naming, and building the DevWorkspace and its
//!    editor template as Che builds them, as the JSON bodies sent to the API server;
//! 3. `GET /api/che-launcher/workspaces` for a user with 50 workspaces, through the router, against
//!    the in-process Kubernetes API server the tests use (one label-selected list over loopback).

#![allow(
    clippy::unwrap_used,
    reason = "a benchmark: a failed unwrap ends the run"
)]

#[path = "../tests/suite/workspaces/kube_server.rs"]
#[allow(dead_code)]
mod kube_server;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use fawkes_portal::app::{App, AppState};
use fawkes_portal::auth::issuer::TokenSubject;
use fawkes_portal::config::Settings;
use fawkes_portal::db::Database;
use fawkes_portal::principal::Principal;
use fawkes_portal::workspaces::che::CheSettings;
use fawkes_portal::workspaces::devfile;
use fawkes_portal::workspaces::model::Owner;
use fawkes_portal::workspaces::service::{CheckedRequest, CreateRequest};
use serde_json::json;
use tower::ServiceExt;

const FIXTURE: &str = include_str!("../tests/suite/workspaces/fixture-devfile.yaml");

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, samples: &mut [Duration]) {
    let p50 = percentile(samples, 0.50);
    let p99 = percentile(samples, 0.99);
    println!(
        "{name:<64} n={:<6} p50={:>9.2?} p99={:>9.2?}",
        samples.len(),
        p50,
        p99
    );
}

/// The largest devfile of the test data (`tests/data`), or of our own fixture.
fn largest_devfile() -> (String, String) {
    let data = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data"));
    let mut best = ("fixture-devfile.yaml".to_owned(), FIXTURE.to_owned());
    for dir in ["devfile/valid", "fawkes/platform/devfiles"] {
        let Ok(entries) = std::fs::read_dir(data.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            if text.len() > best.1.len() {
                best = (entry.file_name().to_string_lossy().into_owned(), text);
            }
        }
    }
    best
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    // 1. Validation of the largest devfile.
    let (name, text) = largest_devfile();
    devfile::parse(&text).unwrap();
    let mut samples = Vec::with_capacity(5_000);
    for _ in 0..5_000 {
        let started = Instant::now();
        let parsed = devfile::parse(&text).unwrap();
        samples.push(started.elapsed());
        assert!(parsed.name.is_some());
    }
    report(
        &format!("validate largest devfile ({name}, {} bytes)", text.len()),
        &mut samples,
    );

    // 2. A create's own work.
    let server = kube_server::KubeServer::start(&["jdoe-che"]).await;
    let dir = tempfile::TempDir::new().unwrap();
    let mut settings = Settings {
        data_dir: dir.path().display().to_string(),
        ..Settings::default()
    };
    settings.rate_limit.user_per_minute = u64::MAX / 2;
    settings.workspaces.cluster.mode = "kubeconfig".into();
    settings.workspaces.cluster.kubeconfig = server.kubeconfig.display().to_string();
    let config = settings.validate().unwrap();
    let db = Database::connect(&config.database).await.unwrap();
    db.migrate().await.unwrap();
    let state = AppState::new(config, db).unwrap();
    let service = state.workspaces.clone();
    let che = CheSettings::new(&state.config.workspaces, None);
    let principal = Principal::user("user:default/jdoe");
    let owner = Owner::of(&principal);
    let request = CreateRequest {
        devfile_url: "https://raw.githubusercontent.com/paruff/fawkes/main/platform/devfiles/goldenpath-python.yaml".into(),
        namespace: None,
        name: None,
    };
    // The largest devfile again, so the validation inside is the worst case.
    let devfile_text = text.clone();
    let mut samples = Vec::with_capacity(5_000);
    for _ in 0..5_000 {
        let started = Instant::now();
        let url = service.check_request(&request).unwrap();
        let checked = CheckedRequest {
            text: devfile_text.clone(),
            devfile: devfile::parse(&devfile_text).unwrap(),
            parent_sets_storage_type: false,
        };
        let name = fawkes_portal::workspaces::generate::workspace_name(
            &checked.devfile.document,
            url.as_str(),
        );
        let new = service.prepare(&owner, &request, "jdoe-che", &name, &checked, &che);
        let body = serde_json::to_vec(&new.resources.devworkspace).unwrap();
        let template = serde_json::to_vec(&new.resources.editor).unwrap();
        samples.push(started.elapsed());
        assert!(!body.is_empty() && !template.is_empty());
    }
    report(
        "create: our own work (check, validate, name, build bodies)",
        &mut samples,
    );

    // 3. Listing 50 workspaces against the in-process cluster.
    for i in 0..50 {
        let id = format!("workspace-{i:012x}");
        server.insert(
            "devworkspaces",
            json!({
                "apiVersion": "workspace.devfile.io/v1alpha2", "kind": "DevWorkspace",
                "metadata": {
                    "name": format!("py-{i}"), "namespace": "jdoe-che", "uid": format!("uid-{i}"),
                    "creationTimestamp": "2026-11-01T10:00:00Z",
                    "labels": {"fawkes.dev/workspace-id": id, "fawkes.dev/owner": owner.label()},
                    "annotations": {"fawkes.dev/owner": owner.subject(), "fawkes.dev/devfile-name": "py",
                                    "fawkes.dev/devfile-version": "1.0.0",
                                    "che.eclipse.org/last-updated-timestamp": "2026-11-02T09:30:00.000Z"},
                },
                "spec": {"started": true, "routingClass": "che", "template": {"components": [{"name": "tools", "container": {"image": "udi"}}]}},
                "status": {"phase": "Running", "mainUrl": format!("https://che.example.com/jdoe/py-{i}/3100/")},
            }),
        );
    }
    let token = state
        .auth
        .issuer
        .clone()
        .unwrap()
        .issue(
            &TokenSubject::user("jdoe").unwrap(),
            None,
            jsonwebtoken::get_current_timestamp(),
        )
        .unwrap();
    let router = App::new(state, fawkes_portal::app::routes::api_routes()).router();
    let mut samples = Vec::with_capacity(1_000);
    for _ in 0..1_000 {
        let request = Request::get("/api/che-launcher/workspaces")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let started = Instant::now();
        let response = router.clone().oneshot(request).await.unwrap();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        samples.push(started.elapsed());
        assert!(body.starts_with(b"{\"workspaces\":[{"));
    }
    report(
        "GET /api/che-launcher/workspaces, 50 workspaces, in-process cluster",
        &mut samples,
    );
}
