//! The workspace quota under concurrency: N simultaneous creates or starts by one user at a quota
//! of three leave exactly three active; the rest are the usual 403 and create nothing. (The check
//! and the insert were separate steps with the devfile fetch between them: ten simultaneous
//! creates all answered 201.)

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::Backend;
use crate::support::TestResponse;
use crate::workspaces::kube_server::KubeServer;
use crate::workspaces::kubernetes::{NS, settings_for};
use crate::workspaces::simulated::Launcher;

const QUOTA_MESSAGE: &str = "Workspace quota exceeded: 3 of 3 running workspaces";

/// Sends `n` copies of a request at once and returns their responses.
async fn at_once<F, Fut>(n: usize, request: F) -> Vec<TestResponse>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = TestResponse> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(request(i))).collect();
    let mut responses = Vec::new();
    for task in tasks {
        responses.push(task.await.unwrap());
    }
    responses
}

/// Exactly `created` answers are `success`, every other is the quota's 403.
fn assert_split(responses: &[TestResponse], success: StatusCode, created: usize) {
    let ok = responses.iter().filter(|r| r.status == success).count();
    assert_eq!(
        ok,
        created,
        "{:?}",
        responses
            .iter()
            .map(|r| (r.status, r.text()))
            .collect::<Vec<_>>()
    );
    for refused in responses.iter().filter(|r| r.status != success) {
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
        assert_eq!(refused.json(), json!({"error": QUOTA_MESSAGE}));
    }
}

fn active(list: &Value) -> usize {
    list["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| matches!(w["status"].as_str(), Some("Starting" | "Running")))
        .count()
}

async fn simultaneous_creates_and_starts_leave_exactly_the_quota(backend: Backend) {
    let launcher = Arc::new(Launcher::start(backend.with(|_| {})).await);
    let creates = at_once(10, |_| {
        let launcher = launcher.clone();
        async move {
            launcher
                .create(json!({"devfileUrl": "/devfile.yaml"}))
                .await
        }
    })
    .await;
    assert_split(&creates, StatusCode::CREATED, 3);
    let list = launcher.list("").await;
    assert_eq!(
        list["workspaces"].as_array().unwrap().len(),
        3,
        "nothing else was created: {list}"
    );

    // Stop the three, start a fourth, then start the three stopped ones at once: two fit.
    let ids: Vec<String> = creates
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .map(|r| r.json()["workspaceId"].as_str().unwrap().to_owned())
        .collect();
    for id in &ids {
        assert_eq!(launcher.act(id, "stop").await.status, StatusCode::ACCEPTED);
    }
    launcher.clock.advance(Duration::from_secs(60));
    assert_eq!(active(&launcher.list("").await), 0);
    let fourth = launcher
        .create(json!({"devfileUrl": "/devfile.yaml"}))
        .await;
    assert_eq!(fourth.status, StatusCode::CREATED, "{}", fourth.text());
    let ids = Arc::new(ids);
    let starts = at_once(3, |i| {
        let (launcher, ids) = (launcher.clone(), ids.clone());
        async move { launcher.act(&ids[i], "start").await }
    })
    .await;
    assert_split(&starts, StatusCode::ACCEPTED, 2);
    assert_eq!(active(&launcher.list("").await), 3);
}

crate::on_both_databases!(simultaneous_creates_and_starts_leave_exactly_the_quota);

/// The same on Kubernetes: exactly three DevWorkspaces exist after ten simultaneous creates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_creates_on_kubernetes_leave_exactly_the_quota() {
    let server = KubeServer::start(&[NS]).await;
    let kubeconfig = server.kubeconfig.clone();
    let launcher = Arc::new(Launcher::start(move |s| settings_for(&kubeconfig, s)).await);
    let creates = at_once(10, |_| {
        let launcher = launcher.clone();
        async move {
            launcher
                .create(json!({"devfileUrl": "/devfile.yaml"}))
                .await
        }
    })
    .await;
    assert_split(&creates, StatusCode::CREATED, 3);
    assert_eq!(server.objects("devworkspaces").len(), 3);
}
