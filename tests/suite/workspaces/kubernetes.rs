//! The Kubernetes driver against the in-process API server: resources built as Che builds them,
//! phases, patches, Terminating, and every way the cluster can fail.

use std::sync::Arc;

use fawkes_portal::config::Settings;
use fawkes_portal::workspaces::cluster::kube::KubeCluster;
use fawkes_portal::workspaces::cluster::{Cluster, ClusterError};
use fawkes_portal::workspaces::model::{NewWorkspace, Owner, WorkspaceId, WorkspaceStatus};
use serde_json::{Value, json};

use super::kube_server::{KubeServer, Trouble, write_kubeconfig};

pub const NS: &str = "tester-workspaces";

pub fn settings_for(kubeconfig: &std::path::Path, settings: &mut Settings) {
    settings.workspaces.cluster.mode = "kubeconfig".into();
    settings.workspaces.cluster.kubeconfig = kubeconfig.display().to_string();
    settings.workspaces.cluster.timeout = "1s".into();
}

async fn driver(kubeconfig: &std::path::Path) -> KubeCluster {
    let mut settings = Settings::default();
    settings_for(kubeconfig, &mut settings);
    let config = settings.validate().unwrap();
    KubeCluster::connect(Arc::new(config.workspaces))
        .await
        .unwrap()
}

fn new_workspace(owner: &str, name: &str) -> NewWorkspace {
    NewWorkspace {
        id: WorkspaceId::generate(),
        name: name.into(),
        namespace: NS.into(),
        owner: Owner::new(owner),
        devfile_url: "https://example.com/devfile.yaml".into(),
        devfile_text: "schemaVersion: 2.2.2\n".into(),
        devfile: json!({
            "schemaVersion": "2.2.2", "metadata": {"name": "py"},
            "starterProjects": [{"name": "fastapi", "zip": {"location": "https://x/y.zip"}}],
            "components": [{"name": "tools", "container": {"image": "udi"}}],
        }),
        devfile_name: "py".into(),
        devfile_version: "1.0.0".into(),
        now: "2026-11-27T10:00:00.000Z".into(),
    }
}

/// A DevWorkspace as our driver labels it, for setting up the cluster directly.
pub fn devworkspace(id: &str, name: &str, namespace: &str, owner: &str, started: bool) -> Value {
    json!({
        "apiVersion": "workspace.devfile.io/v1alpha2", "kind": "DevWorkspace",
        "metadata": {
            "name": name, "namespace": namespace, "uid": uuid::Uuid::new_v4().to_string(),
            "creationTimestamp": "2026-11-01T10:00:00Z",
            "labels": {"fawkes.dev/workspace-id": id, "fawkes.dev/owner": Owner::new(owner).label()},
            "annotations": {"fawkes.dev/owner": owner, "fawkes.dev/devfile-name": "py",
                            "fawkes.dev/devfile-version": "1.0.0",
                            "che.eclipse.org/last-updated-timestamp": "2026-11-02T09:30:00.000Z"},
            "finalizers": ["storage.controller.devfile.io"],
        },
        "spec": {"started": started, "routingClass": "che", "template": {}},
    })
}

#[tokio::test]
async fn a_workspace_is_created_as_che_creates_it() {
    let server = KubeServer::start(&[NS]).await;
    let cluster = driver(&server.kubeconfig).await;
    let new = new_workspace("user:default/tester", "py-ab12");
    let created = cluster.create(&new).await.unwrap();
    assert_eq!(created.status, WorkspaceStatus::Starting);
    assert_eq!(created.id, new.id);
    let log: Vec<String> = server.take_log();
    let calls: Vec<&str> = log
        .iter()
        .map(String::as_str)
        .filter(|l| !l.starts_with("content-type"))
        .collect();
    assert_eq!(
        calls,
        [
            "POST /apis/workspace.devfile.io/v1alpha2/namespaces/tester-workspaces/devworkspaces?",
            "POST /apis/workspace.devfile.io/v1alpha2/namespaces/tester-workspaces/devworkspacetemplates?",
            "PATCH /apis/workspace.devfile.io/v1alpha2/namespaces/tester-workspaces/devworkspaces/py-ab12?",
        ],
        "{log:?}"
    );
    assert!(log.contains(&"content-type application/merge-patch+json".to_owned()));

    let dw = server.object("devworkspaces", NS, "py-ab12").unwrap();
    assert_eq!(dw["spec"]["started"], true);
    assert_eq!(dw["spec"]["routingClass"], "che");
    assert_eq!(
        dw["spec"]["contributions"],
        json!([{"name": "editor", "kubernetes": {"name": "che-code-py-ab12"}}])
    );
    let template = &dw["spec"]["template"];
    assert!(template.get("schemaVersion").is_none() && template.get("metadata").is_none());
    assert_eq!(template["components"][0]["name"], "tools");
    assert_eq!(
        template["attributes"]["controller.devfile.io/use-starter-project"],
        "fastapi"
    );
    let annotations = &dw["metadata"]["annotations"];
    assert_eq!(
        annotations["che.eclipse.org/devfile-source"],
        "factory:\n  params: url=https://example.com/devfile.yaml\n"
    );
    assert_eq!(
        annotations["che.eclipse.org/last-updated-timestamp"],
        "2026-11-27T10:00:00.000Z"
    );
    assert_eq!(
        annotations["che.eclipse.org/che-editor"],
        "che-incubator/che-code/latest"
    );
    assert_eq!(
        annotations["che.eclipse.org/devfile"],
        "schemaVersion: 2.2.2\n"
    );
    assert_eq!(
        dw["metadata"]["labels"]["fawkes.dev/workspace-id"],
        new.id.as_str()
    );

    let dwt = server
        .object("devworkspacetemplates", NS, "che-code-py-ab12")
        .unwrap();
    let owner = &dwt["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "DevWorkspace");
    assert_eq!(owner["name"], "py-ab12");
    assert_eq!(owner["uid"], dw["metadata"]["uid"]);
    let main = &dwt["spec"]["components"][1]["container"]["endpoints"][0];
    assert_eq!(main["attributes"]["type"], "main");
    assert_eq!(
        dwt["spec"]["events"]["preStart"],
        json!(["init-container-command"])
    );

    // The name is taken now; a missing namespace is reported as such.
    let again = cluster
        .create(&new_workspace("user:default/tester", "py-ab12"))
        .await;
    assert!(
        matches!(again, Err(ClusterError::NameTaken(ref n)) if n == "py-ab12"),
        "{again:?}"
    );
    let mut elsewhere = new_workspace("user:default/tester", "py-cd34");
    elsewhere.namespace = "nowhere".into();
    assert!(
        matches!(cluster.create(&elsewhere).await, Err(ClusterError::NamespaceMissing(ref n)) if n == "nowhere")
    );
}

#[tokio::test]
async fn phases_map_to_statuses_and_lookups_are_one_label_selected_list() {
    let server = KubeServer::start(&[NS]).await;
    let cluster = driver(&server.kubeconfig).await;
    let owner = Owner::new("user:default/tester");
    let created = cluster
        .create(&new_workspace(owner.subject(), "py-1"))
        .await
        .unwrap();
    server.take_log();
    let cases = [
        (
            json!({"phase": "Starting", "devworkspaceId": "workspace1a2b"}),
            WorkspaceStatus::Starting,
            None,
        ),
        (
            json!({"phase": "Running", "mainUrl": "https://che.example.com/tester/py-1/3100/"}),
            WorkspaceStatus::Running,
            None,
        ),
        (
            json!({"phase": "Stopping"}),
            WorkspaceStatus::Stopping,
            None,
        ),
        (json!({"phase": "Stopped"}), WorkspaceStatus::Stopped, None),
        (
            json!({"phase": "Failing", "message": "Container tools has state CrashLoopBackOff"}),
            WorkspaceStatus::Failed,
            Some("Container tools has state CrashLoopBackOff"),
        ),
        (
            json!({"phase": "Failed", "message": "couldn't find any merge contribution target component"}),
            WorkspaceStatus::Failed,
            Some("couldn't find any merge contribution target component"),
        ),
        (
            json!({"phase": "Error"}),
            WorkspaceStatus::Failed,
            Some("the workspace failed to start"),
        ),
        (
            json!({"phase": "Terminating"}),
            WorkspaceStatus::Stopping,
            None,
        ),
    ];
    for (status, expected, message) in cases {
        server.set_status(NS, "py-1", status.clone());
        let found = cluster.find(&owner, &created.id).await.unwrap().unwrap();
        assert_eq!(found.status, expected, "{status}");
        assert_eq!(found.message.as_deref(), message, "{status}");
    }
    server.set_status(
        NS,
        "py-1",
        json!({"phase": "Running", "mainUrl": "https://che.example.com/x/"}),
    );
    let listed = cluster.list(&owner).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].main_url.as_deref(),
        Some("https://che.example.com/x/")
    );
    assert_eq!(listed[0].last_used, "2026-11-27T10:00:00.000Z");
    let log = server.take_log();
    let selector = format!("fawkes.dev%2Fowner%3D{}", owner.label());
    assert!(
        log.iter()
            .all(|l| l.starts_with("GET /apis/workspace.devfile.io/v1alpha2/devworkspaces?")),
        "{log:?}"
    );
    assert!(log.last().unwrap().contains(&selector), "{log:?}");
    assert!(log[0].contains("fawkes.dev%2Fworkspace-id%3D"), "{log:?}");
}

#[tokio::test]
async fn stop_start_and_delete_as_che_does_them() {
    let server = KubeServer::start(&[NS]).await;
    server.hold_deletions();
    let cluster = driver(&server.kubeconfig).await;
    let owner = Owner::new("user:default/tester");
    let workspace = cluster
        .create(&new_workspace(owner.subject(), "py-1"))
        .await
        .unwrap();
    server.take_log();
    cluster
        .set_started(&workspace, false, "2026-11-27T11:00:00.000Z")
        .await
        .unwrap();
    assert_eq!(
        server.object("devworkspaces", NS, "py-1").unwrap()["spec"]["started"],
        false
    );
    cluster
        .set_started(&workspace, true, "2026-11-27T12:00:00.000Z")
        .await
        .unwrap();
    let dw = server.object("devworkspaces", NS, "py-1").unwrap();
    assert_eq!(dw["spec"]["started"], true);
    assert_eq!(
        dw["metadata"]["annotations"]["che.eclipse.org/last-updated-timestamp"],
        "2026-11-27T12:00:00.000Z"
    );
    let log = server.take_log();
    assert_eq!(
        log.iter()
            .filter(|l| *l == "content-type application/json-patch+json")
            .count(),
        2,
        "{log:?}"
    );

    // Deletion passes through Terminating while the operator's finalizers run.
    cluster.delete(&workspace).await.unwrap();
    let listed = cluster.list(&owner).await.unwrap();
    assert_eq!(listed[0].status, WorkspaceStatus::Stopping);
    server.finish_deletions();
    assert!(cluster.list(&owner).await.unwrap().is_empty());
    assert!(matches!(
        cluster.delete(&workspace).await,
        Err(ClusterError::NotFound)
    ));
}

#[tokio::test]
async fn cluster_failures_are_classified() {
    let server = KubeServer::start(&[NS]).await;
    let cluster = driver(&server.kubeconfig).await;
    let owner = Owner::new("user:default/tester");
    server
        .deny_by_webhook("Unsupported devfile: container tools is marked merge-contribution twice");
    match cluster
        .create(&new_workspace(owner.subject(), "py-1"))
        .await
    {
        Err(ClusterError::Rejected(message)) => assert!(
            message.contains("marked merge-contribution twice"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
    server.trouble(Trouble::Forbidden);
    assert!(matches!(
        cluster.list(&owner).await,
        Err(ClusterError::CredentialsRefused(_))
    ));
    server.trouble(Trouble::Broken);
    assert!(matches!(
        cluster.list(&owner).await,
        Err(ClusterError::Unavailable(_))
    ));
    server.trouble(Trouble::Hang);
    let started = std::time::Instant::now();
    assert!(matches!(
        cluster.list(&owner).await,
        Err(ClusterError::Unavailable(_))
    ));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));

    let dir = tempfile::TempDir::new().unwrap();
    let wrong_token = dir.path().join("wrong-token");
    write_kubeconfig(
        &wrong_token,
        &format!("http://{}", server.addr),
        "not-the-token",
    );
    server.trouble(Trouble::None);
    let refused = driver(&wrong_token).await;
    assert!(matches!(
        refused.list(&owner).await,
        Err(ClusterError::CredentialsRefused(_))
    ));
}
