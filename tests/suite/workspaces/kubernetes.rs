//! The Kubernetes driver against the in-process API server: Che's calls in Che's order, phases,
//! stale phases, patches, Terminating, and every way the cluster can fail. What the objects hold,
//! field for field, is `golden.rs`'s.

use std::sync::Arc;

use fawkes_portal::config::Settings;
use fawkes_portal::workspaces::che::CheSettings;
use fawkes_portal::workspaces::cluster::kube::KubeCluster;
use fawkes_portal::workspaces::cluster::{Cluster, ClusterError};
use fawkes_portal::workspaces::generate::{self, Build};
use fawkes_portal::workspaces::model::{
    NewWorkspace, Owner, Resources, WorkspaceId, WorkspaceStatus,
};
use serde_json::{Value, json};

use super::kube_server::{KubeServer, Trouble, write_kubeconfig};

/// The test user's namespace: Che's default template, `<username>-che`.
pub const NS: &str = "tester-che";

pub fn settings_for(kubeconfig: &std::path::Path, settings: &mut Settings) {
    settings.workspaces.cluster.mode = "kubeconfig".into();
    settings.workspaces.cluster.kubeconfig = kubeconfig.display().to_string();
    settings.workspaces.cluster.timeout = "1s".into();
}

pub async fn driver(kubeconfig: &std::path::Path) -> KubeCluster {
    let mut settings = Settings::default();
    settings_for(kubeconfig, &mut settings);
    let config = settings.validate().unwrap();
    KubeCluster::connect(Arc::new(config.workspaces))
        .await
        .unwrap()
}

pub fn new_workspace(owner: &str, name: &str) -> NewWorkspace {
    let config = Settings::default().validate().unwrap().workspaces;
    let che = CheSettings::new(&config, None);
    let mut new = NewWorkspace {
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
        resources: Resources::default(),
    };
    let build = Build {
        new: &new,
        name,
        namespace: NS,
        che: &che,
        editor: &config.editor,
        editor_image: &config.editor_image,
        routing_class: &config.routing_class,
        parent_sets_storage_type: false,
    };
    let resources = Resources {
        devworkspace: generate::devworkspace(&build),
        editor: generate::editor::template(&build, ""),
    };
    new.resources = resources;
    new
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
async fn a_workspace_is_created_with_ches_calls_in_ches_order() {
    let server = KubeServer::start(&[NS]).await;
    let cluster = driver(&server.kubeconfig).await;
    let new = new_workspace("user:default/tester", "py-ab12");
    let created = cluster.create(&new).await.unwrap();
    assert_eq!(created.status, WorkspaceStatus::Starting);
    assert_eq!(created.id, new.id);
    let log = server.take_log();
    let calls: Vec<&str> = log.iter().map(String::as_str).collect();
    // Created stopped, then its editor template, then Che's start (a JSON patch).
    assert_eq!(
        calls,
        [
            "POST /apis/workspace.devfile.io/v1alpha2/namespaces/tester-che/devworkspaces?",
            "POST /apis/workspace.devfile.io/v1alpha2/namespaces/tester-che/devworkspacetemplates?",
            "PATCH /apis/workspace.devfile.io/v1alpha2/namespaces/tester-che/devworkspaces/py-ab12?",
            "content-type application/json-patch+json",
        ],
        "{log:?}"
    );
    let dw = server.object("devworkspaces", NS, "py-ab12").unwrap();
    assert_eq!(dw["spec"]["started"], true);
    // Both objects passed the CRD schema; the template is owned without blocking its owner's
    // deletion (which would need `update` on devworkspaces/finalizers).
    let dwt = server
        .object("devworkspacetemplates", NS, "che-code-py-ab12")
        .unwrap();
    assert_eq!(
        dwt["metadata"]["ownerReferences"],
        json!([{"apiVersion": "workspace.devfile.io/v1alpha2", "kind": "devworkspace",
                "name": "py-ab12", "uid": dw["metadata"]["uid"]}])
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
    elsewhere.resources.devworkspace["metadata"]["namespace"] = json!("nowhere");
    assert!(
        matches!(cluster.create(&elsewhere).await, Err(ClusterError::NamespaceMissing(ref n)) if n == "nowhere")
    );
}

#[tokio::test]
async fn blocking_the_owners_deletion_is_refused_as_the_api_server_refuses_it() {
    let server = KubeServer::start(&[NS]).await;
    let cluster = driver(&server.kubeconfig).await;
    let mut new = new_workspace("user:default/tester", "py-1");
    // The old layout: blockOwnerDeletion on the editor template's owner reference.
    new.resources.editor["metadata"]["ownerReferences"][0]["blockOwnerDeletion"] = json!(true);
    match cluster.create(&new).await {
        Err(ClusterError::Forbidden {
            verb,
            resource,
            namespace,
        }) => {
            assert_eq!(
                (verb.as_str(), resource.as_str(), namespace.as_deref()),
                (
                    "update",
                    "devworkspaces/finalizers.workspace.devfile.io",
                    Some(NS)
                )
            );
        }
        other => panic!("{other:?}"),
    }
    // Nothing half-made is left behind.
    assert!(server.objects("devworkspaces").is_empty());
    assert!(server.objects("devworkspacetemplates").is_empty());
}

#[tokio::test]
async fn phases_and_what_was_asked_map_to_statuses() {
    let server = KubeServer::start(&[NS]).await;
    let cluster = driver(&server.kubeconfig).await;
    let owner = Owner::new("user:default/tester");
    let created = cluster
        .create(&new_workspace(owner.subject(), "py-1"))
        .await
        .unwrap();
    let running = json!({"phase": "Running", "mainUrl": "https://che.example.com/x/"});
    let cases = [
        (
            true,
            json!({"phase": "Starting", "devworkspaceId": "workspace1a2b"}),
            WorkspaceStatus::Starting,
            None,
        ),
        (true, running.clone(), WorkspaceStatus::Running, None),
        // Stopped, and the operator has not acted yet: never the stale Running.
        (false, running.clone(), WorkspaceStatus::Stopping, None),
        (
            false,
            json!({"phase": "Stopping"}),
            WorkspaceStatus::Stopping,
            None,
        ),
        (
            false,
            json!({"phase": "Stopped"}),
            WorkspaceStatus::Stopped,
            None,
        ),
        // Started again before the operator saw it stop.
        (
            true,
            json!({"phase": "Stopped"}),
            WorkspaceStatus::Starting,
            None,
        ),
        (
            true,
            json!({"phase": "Stopping"}),
            WorkspaceStatus::Starting,
            None,
        ),
        (
            false,
            json!({"phase": "Failing", "message": "Container tools has state CrashLoopBackOff"}),
            WorkspaceStatus::Failed,
            Some("Container tools has state CrashLoopBackOff"),
        ),
        (
            false,
            json!({"phase": "Failed", "message": "couldn't find any merge contribution target component"}),
            WorkspaceStatus::Failed,
            Some("couldn't find any merge contribution target component"),
        ),
        (
            false,
            json!({"phase": "Error"}),
            WorkspaceStatus::Failed,
            Some("the workspace failed to start"),
        ),
        (
            true,
            json!({"phase": "Terminating"}),
            WorkspaceStatus::Stopping,
            None,
        ),
    ];
    for (started, status, expected, message) in cases {
        let workspace = cluster.find(&owner, &created.id).await.unwrap().unwrap();
        cluster
            .set_started(&workspace, started, "2026-11-27T11:00:00.000Z")
            .await
            .unwrap();
        server.set_status(NS, "py-1", status.clone());
        let found = cluster.find(&owner, &created.id).await.unwrap().unwrap();
        assert_eq!(
            (found.status, found.started),
            (expected, started),
            "{status}"
        );
        assert_eq!(found.message.as_deref(), message, "{status}");
    }
    server.set_status(NS, "py-1", running);
    server.take_log();
    let listed = cluster.list(&owner).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].main_url.as_deref(),
        Some("https://che.example.com/x/")
    );
    let log = server.take_log();
    let selector = format!("fawkes.dev%2Fowner%3D{}", owner.label());
    assert_eq!(log.len(), 1, "one label-selected list: {log:?}");
    assert!(
        log[0].starts_with("GET /apis/workspace.devfile.io/v1alpha2/devworkspaces?")
            && log[0].contains(&selector),
        "{log:?}"
    );
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
    cluster
        .set_started(&workspace, false, "2026-11-27T11:00:00.000Z")
        .await
        .unwrap();
    assert_eq!(
        server.object("devworkspaces", NS, "py-1").unwrap()["spec"]["started"],
        false
    );
    let before = server.object("devworkspaces", NS, "py-1").unwrap();
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
    // Every write moved the resourceVersion on.
    let version = |o: &Value| {
        o["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert!(version(&dw) > version(&before));

    // Deletion passes through Terminating while the operator's finalizers run; a start then is
    // refused, and the object is left alone.
    cluster.delete(&workspace).await.unwrap();
    let listed = cluster.list(&owner).await.unwrap();
    assert_eq!(listed[0].status, WorkspaceStatus::Stopping);
    assert!(listed[0].terminating);
    let terminating = server.object("devworkspaces", NS, "py-1").unwrap();
    assert!(matches!(
        cluster.set_started(&listed[0], true, "2026-11-27T13:00:00.000Z").await,
        Err(ClusterError::Terminating(ref n)) if n == "py-1"
    ));
    assert_eq!(
        server.object("devworkspaces", NS, "py-1").unwrap(),
        terminating
    );
    // Once the finalizers are done the workspace is gone, and the garbage collector took the
    // editor template it owned.
    assert_eq!(server.objects("devworkspacetemplates").len(), 1);
    server.finish_deletions();
    assert!(cluster.list(&owner).await.unwrap().is_empty());
    assert!(server.objects("devworkspacetemplates").is_empty());
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
    match cluster.list(&owner).await {
        Err(ClusterError::Forbidden {
            verb,
            resource,
            namespace,
        }) => assert_eq!(
            (verb.as_str(), resource.as_str(), namespace),
            ("list", "devworkspaces.workspace.devfile.io", None)
        ),
        other => panic!("{other:?}"),
    }
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
