//! Namespaces over HTTP: one per principal, never shared (simulated, where only the template and
//! the database's claims decide); on a cluster, found as Che finds them (a namespace labelled for
//! the user, else the CheCluster's template, read from the cluster when the portal may),
//! provisioned as Che provisions them, never another user's; and the other settings read from the
//! CheCluster.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};

use fawkes_portal::auth::issuer::TokenSubject;

use super::kube_server::KubeServer;
use super::kubernetes::settings_for;
use super::simulated::Launcher;
use crate::support::https::HttpsServer;
use crate::support::{TestApp, TestResponse};

struct Cluster {
    server: KubeServer,
    devfiles: HttpsServer,
    app: TestApp,
}

impl Cluster {
    async fn start(
        namespaces: &[&str],
        edit: impl FnOnce(&KubeServer, &mut fawkes_portal::config::Settings),
    ) -> Cluster {
        let server = KubeServer::start(namespaces).await;
        let devfiles = HttpsServer::start(super::simulated::devfiles()).await;
        let app = TestApp::build(
            |s| {
                settings_for(&server.kubeconfig, s);
                devfiles.allow(s);
                edit(&server, s);
            },
            fawkes_portal::app::routes::api_routes(),
        )
        .await;
        Cluster {
            server,
            devfiles,
            app,
        }
    }

    async fn create(&self, body: Value) -> TestResponse {
        let mut body = body;
        body["devfileUrl"] = json!(self.devfiles.url("/devfile.yaml"));
        self.app
            .call(
                Method::POST,
                "/api/che-launcher/workspaces",
                "application/json",
                body.to_string(),
            )
            .await
    }
}

fn labels(namespace: &Value) -> (Option<&str>, Option<&str>, Option<&str>) {
    let label = |k: &str| {
        namespace
            .pointer("/metadata/labels")
            .and_then(|l| l.get(k))
            .and_then(Value::as_str)
    };
    let user = namespace
        .pointer("/metadata/annotations")
        .and_then(|a| a.get("che.eclipse.org/username"))
        .and_then(Value::as_str);
    (
        label("app.kubernetes.io/part-of"),
        label("app.kubernetes.io/component"),
        user,
    )
}

const CHE: (Option<&str>, Option<&str>) = (Some("che.eclipse.org"), Some("workspaces-namespace"));

#[tokio::test]
async fn a_users_namespace_is_provisioned_as_che_provisions_it() {
    let cluster = Cluster::start(&[], |_, _| {}).await;
    let created = cluster.create(json!({})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["namespace"], "tester-che");
    let namespace = cluster.server.namespace("tester-che").expect("provisioned");
    let (part_of, component, user) = labels(&namespace);
    assert_eq!((part_of, component, user), (CHE.0, CHE.1, Some("tester")));
    assert!(
        cluster
            .server
            .object("devworkspaces", "tester-che", "goldenpath-python")
            .is_some()
    );

    // A plain namespace an administrator made at that name is labelled and annotated, as Che does.
    let cluster = Cluster::start(&["tester-che"], |_, _| {}).await;
    assert_eq!(cluster.create(json!({})).await.status, StatusCode::CREATED);
    let namespace = cluster.server.namespace("tester-che").unwrap();
    assert_eq!(labels(&namespace), (CHE.0, CHE.1, Some("tester")));
}

#[tokio::test]
async fn a_namespace_che_prepared_for_the_user_is_found_by_its_labels() {
    let cluster = Cluster::start(&[], |server, _| {
        for (name, user) in [("alpha-space", "jane"), ("workspaces-of-tester", "tester")] {
            server.add_namespace(json!({"metadata": {"name": name,
                "labels": {"app.kubernetes.io/part-of": "che.eclipse.org",
                           "app.kubernetes.io/component": "workspaces-namespace"},
                "annotations": {"che.eclipse.org/username": user}}}));
        }
    })
    .await;
    let created = cluster.create(json!({})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["namespace"], "workspaces-of-tester");
    // Nothing was provisioned at the template's name.
    assert!(cluster.server.namespace("tester-che").is_none());
    let theirs = cluster.create(json!({"namespace": "alpha-space"})).await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_namespace_annotated_for_another_user_is_refused() {
    let cluster = Cluster::start(&[], |server, _| {
        server.add_namespace(json!({"metadata": {"name": "tester-che",
            "annotations": {"che.eclipse.org/username": "mallory"}}}));
    })
    .await;
    let refused = cluster.create(json!({})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.json(),
        json!({"error": "Namespace 'tester-che' belongs to another user: ask a platform administrator to give your user its own namespace"})
    );
    assert!(cluster.server.objects("devworkspaces").is_empty());
    assert_eq!(
        labels(&cluster.server.namespace("tester-che").unwrap()).2,
        Some("mallory")
    );
}

#[tokio::test]
async fn the_checlusters_settings_are_read_from_the_cluster() {
    let cluster = Cluster::start(&[], |server, _| {
        server.add_checluster(json!({
            "apiVersion": "org.eclipse.che/v2", "kind": "CheCluster",
            "metadata": {"name": "eclipse-che", "namespace": "eclipse-che"},
            "spec": {
                "components": {"pluginRegistry": {"openVSXURL": "https://vsx.fawkes.idp"}},
                "devEnvironments": {
                    "defaultNamespace": {"template": "che-<username>", "autoProvision": true},
                    "storage": {"pvcStrategy": "per-user"},
                },
            },
            "status": {"pluginRegistryURL": "https://che.fawkes.idp/plugin-registry/v3"},
        }));
    })
    .await;
    let created = cluster.create(json!({})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["namespace"], "che-tester");
    let dw = cluster
        .server
        .object("devworkspaces", "che-tester", "goldenpath-python")
        .unwrap();
    assert_eq!(
        dw["spec"]["template"]["attributes"]["controller.devfile.io/storage-type"],
        "per-user"
    );
    let dwt = cluster
        .server
        .object(
            "devworkspacetemplates",
            "che-tester",
            "che-code-goldenpath-python",
        )
        .unwrap();
    let env = &dwt["spec"]["components"][0]["container"]["env"];
    assert_eq!(
        env[1],
        json!({"name": "CHE_PLUGIN_REGISTRY_URL", "value": "https://che.fawkes.idp/plugin-registry/v3"})
    );
    assert_eq!(
        env[3],
        json!({"name": "OPENVSX_REGISTRY_URL", "value": "https://vsx.fawkes.idp"})
    );
    // The configured template wins over the CheCluster's.
    let configured = Cluster::start(&[], |server, s| {
        server.add_checluster(
            json!({"metadata": {"name": "c", "namespace": "eclipse-che"},
            "spec": {"devEnvironments": {"defaultNamespace": {"template": "che-<username>"}}}}),
        );
        s.workspaces.namespace_template = "{user}-workspaces".into();
    })
    .await;
    assert_eq!(
        configured.create(json!({})).await.json()["namespace"],
        "tester-workspaces"
    );
}

#[tokio::test]
async fn without_permissions_che_falls_back_as_che_does_and_says_what_is_missing() {
    // May not read the CheCluster or list namespaces: Che's default template decides.
    let cluster = Cluster::start(&[], |server, _| {
        server.forbid("list", "checlusters");
        server.forbid("list", "namespaces");
    })
    .await;
    let created = cluster.create(json!({})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["namespace"], "tester-che");

    // May not create namespaces: the 502 names the permission.
    let cluster = Cluster::start(&[], |server, _| server.forbid("create", "namespaces")).await;
    let refused = cluster.create(json!({})).await;
    assert_eq!(refused.status, StatusCode::BAD_GATEWAY);
    assert_eq!(
        refused.json(),
        json!({"error": "Kubernetes API forbids the portal to create namespaces cluster-wide: an administrator must grant it (docs/CHE.md lists the permissions the portal needs)"})
    );

    // Provisioning off: a namespace nobody made is the administrator's to make.
    let cluster = Cluster::start(&[], |_, s| s.workspaces.auto_provision = Some(false)).await;
    let missing = cluster.create(json!({})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        missing.json(),
        json!({"error": "Namespace 'tester-che' does not exist on the cluster: ask a platform administrator to create it"})
    );
}

#[tokio::test]
async fn a_terminating_workspace_cannot_be_started() {
    let cluster = Cluster::start(&[], |server, _| server.hold_deletions()).await;
    let created = cluster.create(json!({})).await;
    let id = created.json()["workspaceId"].as_str().unwrap().to_owned();
    let path = format!("/api/che-launcher/workspaces/{id}");
    let send = |method: Method, path: String| {
        cluster.app.send(
            Request::builder()
                .method(method)
                .uri(path)
                .body(Body::empty())
                .unwrap(),
        )
    };
    assert_eq!(
        send(Method::DELETE, path.clone()).await.status,
        StatusCode::NO_CONTENT
    );
    let before = cluster
        .server
        .object("devworkspaces", "tester-che", "goldenpath-python")
        .unwrap();
    let start = send(Method::POST, format!("{path}/start")).await;
    assert_eq!(start.status, StatusCode::CONFLICT);
    assert_eq!(
        start.json(),
        json!({"error": "Workspace 'goldenpath-python' is being deleted: it cannot be started"})
    );
    assert_eq!(
        cluster
            .server
            .object("devworkspaces", "tester-che", "goldenpath-python")
            .unwrap(),
        before
    );
    let listed = cluster.app.get("/api/che-launcher/workspaces").await.json();
    assert_eq!(listed["workspaces"][0]["status"], "Stopping");
}

/// Issue #12 item 3: entity refs that made one namespace now each have their own, stable one.
#[tokio::test]
async fn distinct_users_never_share_a_namespace() {
    let launcher =
        Launcher::start(|s| s.workspaces.namespace_template = "{user}-workspaces".into()).await;
    let mut namespaces = std::collections::BTreeMap::new();
    for user in [
        "john-doe",
        "john.doe",
        "john_doe",
        "John-Doe",
        "user:team-a/john-doe",
    ] {
        let token = launcher.app.issue(&TokenSubject::user(user).unwrap());
        for _ in 0..2 {
            let created = launcher
                .create_as(json!({"devfileUrl": "/devfile.yaml"}), Some(&token))
                .await;
            assert_eq!(
                created.status,
                StatusCode::CREATED,
                "{user}: {}",
                created.text()
            );
            let namespace = created.json()["namespace"].as_str().unwrap().to_owned();
            // Stable: the same user, the same namespace.
            assert_eq!(
                namespaces.entry(user).or_insert(namespace.clone()),
                &namespace
            );
        }
    }
    let distinct: std::collections::BTreeSet<&String> = namespaces.values().collect();
    assert_eq!(distinct.len(), 5, "{namespaces:?}");
    // A user whose name is already a plain DNS label keeps the seed's form.
    assert_eq!(namespaces["john-doe"], "john-doe-workspaces");
    assert!(
        namespaces["john.doe"].starts_with("john-doe--"),
        "{namespaces:?}"
    );
    // Nobody may ask for someone else's.
    let dotted = launcher.app.issue(&TokenSubject::user("john.doe").unwrap());
    let refused = launcher
        .create_as(
            json!({"devfileUrl": "/devfile.yaml", "namespace": "john-doe-workspaces"}),
            Some(&dotted),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

/// A namespace another principal claimed first (a changed template, a hash collision) is refused
/// whatever the template says, and nothing is created in it.
#[tokio::test]
async fn a_namespace_claimed_by_another_principal_is_refused() {
    let launcher = Launcher::start(|_| {}).await;
    let store = fawkes_portal::workspaces::store::for_database(&launcher.app.app.state().db);
    assert_eq!(
        store
            .claim_namespace("tester-che", "someone-else", 0)
            .await
            .unwrap(),
        "someone-else"
    );
    let refused = launcher
        .create(json!({"devfileUrl": "/devfile.yaml"}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.json(),
        json!({"error": "Namespace 'tester-che' belongs to another user: ask a platform administrator to give your user its own namespace"})
    );
    assert_eq!(launcher.list("").await["total"], 0);
    // The first claim stays.
    assert_eq!(
        store
            .claim_namespace("tester-che", "tester", 1)
            .await
            .unwrap(),
        "someone-else"
    );
}
