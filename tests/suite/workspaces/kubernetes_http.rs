//! The Kubernetes driver through HTTP: creation from a served devfile, isolation between users,
//! starting and stopping as the user sees it, and cluster trouble as 503/502 bodies that never
//! leak internals (an RBAC refusal says which permission is missing).

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use fawkes_portal::auth::issuer::TokenSubject;
use serde_json::{Value, json};

use super::kube_server::{KubeServer, Trouble, write_kubeconfig};
use super::kubernetes::{NS, devworkspace, settings_for};
use crate::support::TestApp;

async fn app_on(kubeconfig: &std::path::Path) -> TestApp {
    let path = kubeconfig.to_owned();
    TestApp::build(
        move |s| settings_for(&path, s),
        fawkes_portal::app::routes::api_routes(),
    )
    .await
}

#[tokio::test]
async fn over_http_cluster_trouble_is_503_or_502_and_never_leaks() {
    let dir = tempfile::TempDir::new().unwrap();
    let unreachable = dir.path().join("unreachable");
    // Nothing listens on port 9 of 127.0.0.1 (discard, never served in CI containers).
    write_kubeconfig(&unreachable, "http://127.0.0.1:9", "t");
    let app = app_on(&unreachable).await;
    let response = app.get("/api/che-launcher/workspaces").await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response.json(),
        json!({"error": "Kubernetes API unavailable"})
    );

    let server = KubeServer::start(&[NS]).await;
    let app = app_on(&server.kubeconfig).await;
    for (trouble, status, message) in [
        (Trouble::Hang, 503, "Kubernetes API unavailable"),
        (Trouble::Broken, 503, "Kubernetes API unavailable"),
        (
            Trouble::Forbidden,
            502,
            "Kubernetes API forbids the portal to list devworkspaces.workspace.devfile.io cluster-wide: an administrator must grant it (docs/CHE.md lists the permissions the portal needs)",
        ),
    ] {
        server.trouble(trouble);
        for (method, path) in [
            (Method::GET, "/api/che-launcher/workspaces".to_owned()),
            (
                Method::DELETE,
                "/api/che-launcher/workspaces/workspace-0123456789ab".to_owned(),
            ),
            (
                Method::POST,
                "/api/che-launcher/workspaces/workspace-0123456789ab/stop".to_owned(),
            ),
        ] {
            let response = app
                .send(
                    Request::builder()
                        .method(method.clone())
                        .uri(&path)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await;
            assert_eq!(
                response.status.as_u16(),
                status,
                "{trouble:?} {method} {path}"
            );
            assert_eq!(
                response.json(),
                json!({"error": message}),
                "{trouble:?} {method} {path}"
            );
        }
    }
    assert_eq!(app.get("/api").await.json()["workspaces"], "kubernetes");
}

#[tokio::test]
async fn over_http_users_reach_only_their_own_workspaces() {
    let server = KubeServer::start(&[NS, "jane-che"]).await;
    let app = app_on(&server.kubeconfig).await;
    let mine = "workspace-00000000000a";
    let janes = "workspace-00000000000b";
    server.insert(
        "devworkspaces",
        devworkspace(mine, "mine", NS, "user:default/tester", true),
    );
    server.insert(
        "devworkspaces",
        devworkspace(janes, "janes", "jane-che", "user:default/jane", true),
    );
    let listed = app.get("/api/che-launcher/workspaces").await;
    assert_eq!(listed.status, StatusCode::OK);
    let body = listed.json();
    assert_eq!(body["total"], 1);
    assert_eq!(body["workspaces"][0]["workspaceId"], mine);
    assert_eq!(body["workspaces"][0]["status"], "Starting");
    assert_eq!(body["workspaces"][0]["createdAt"], "2026-11-01T10:00:00Z");
    assert_eq!(
        body["workspaces"][0]["lastUsed"],
        "2026-11-02T09:30:00.000Z"
    );
    assert_eq!(
        body["workspaces"][0]["ideUrl"],
        "https://che.127.0.0.1.nip.io/dashboard/#/ide/tester-che/mine"
    );

    for (method, suffix) in [
        (Method::DELETE, ""),
        (Method::POST, "/stop"),
        (Method::POST, "/start"),
    ] {
        let path = format!("/api/che-launcher/workspaces/{janes}{suffix}");
        let response = app
            .send(
                Request::builder()
                    .method(method.clone())
                    .uri(&path)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(response.json(), json!({"error": "Workspace not found"}));
    }
    assert_eq!(
        server.object("devworkspaces", "jane-che", "janes").unwrap()["spec"]["started"],
        true
    );

    let jane = app.issue(&TokenSubject::user("jane").unwrap());
    let theirs = app
        .get_as("/api/che-launcher/workspaces", &jane)
        .await
        .json();
    assert_eq!(theirs["workspaces"][0]["workspaceId"], janes);

    // The owner stops, starts and deletes; the API reports the transition.
    let stop = app
        .send(
            Request::post(format!("/api/che-launcher/workspaces/{mine}/stop"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(stop.status, StatusCode::ACCEPTED);
    assert_eq!(stop.json()["status"], "Stopping");
    // Started again before the operator reports anything: Starting, never the stale Running.
    server.set_status(NS, "mine", json!({"phase": "Running"}));
    let restart = app
        .send(
            Request::post(format!("/api/che-launcher/workspaces/{mine}/start"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(restart.status, StatusCode::ACCEPTED);
    assert_eq!(restart.json()["status"], "Starting");
    let again = app
        .send(
            Request::post(format!("/api/che-launcher/workspaces/{mine}/stop"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(again.json()["status"], "Stopping");
    server.set_status(NS, "mine", json!({"phase": "Stopped"}));
    let stopped = app
        .get("/api/che-launcher/workspaces?status=Stopped")
        .await
        .json();
    assert_eq!(stopped["total"], 1);
    let start = app
        .send(
            Request::post(format!("/api/che-launcher/workspaces/{mine}/start"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(start.status, StatusCode::ACCEPTED);
    assert_eq!(start.json()["status"], "Starting");
    let delete = app
        .send(
            Request::delete(format!("/api/che-launcher/workspaces/{mine}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(delete.status, StatusCode::NO_CONTENT);
    assert!(server.object("devworkspaces", NS, "mine").is_none());
}

#[tokio::test]
async fn over_http_a_devfile_becomes_a_devworkspace() {
    let server = KubeServer::start(&[NS]).await;
    let devfiles = crate::support::https::HttpsServer::start(super::simulated::devfiles()).await;
    let kubeconfig = server.kubeconfig.clone();
    let app = TestApp::build(
        |s| {
            settings_for(&kubeconfig, s);
            devfiles.allow(s);
        },
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    let create = |body: Value| {
        app.call(
            Method::POST,
            "/api/che-launcher/workspaces",
            "application/json",
            body.to_string(),
        )
    };
    let url = devfiles.url("/devfile.yaml");
    let created = create(json!({"devfileUrl": url, "name": "my-python"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let body = created.json();
    assert_eq!(body["status"], "Starting");
    assert_eq!(
        body["devfile"],
        json!({"name": "goldenpath-python", "version": "1.0.0"})
    );
    let dw = server.object("devworkspaces", NS, "my-python").unwrap();
    assert_eq!(
        dw["metadata"]["labels"]["fawkes.dev/workspace-id"],
        body["workspaceId"]
    );
    assert_eq!(
        dw["metadata"]["annotations"]["che.eclipse.org/devfile"],
        super::simulated::DEVFILE
    );
    assert_eq!(server.objects("devworkspacetemplates").len(), 1);

    let taken = create(json!({"devfileUrl": url, "name": "my-python"})).await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert_eq!(
        taken.json(),
        json!({"error": "Workspace with name 'my-python' already exists"})
    );

    // Once the operator reports the main URL, it is the IDE's URL.
    server.set_status(
        NS,
        "my-python",
        json!({"phase": "Running", "mainUrl": "https://che.example.com/tester/my-python/3100/"}),
    );
    let listed = app.get("/api/che-launcher/workspaces").await.json();
    assert_eq!(
        listed["workspaces"][0]["ideUrl"],
        "https://che.example.com/tester/my-python/3100/"
    );
    assert_eq!(listed["workspaces"][0]["status"], "Running");

    server.deny_by_webhook("container tools is marked merge-contribution twice");
    let denied = create(json!({"devfileUrl": url})).await;
    assert_eq!(denied.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        denied.json(),
        json!({"error": "The cluster refused the workspace: admission webhook \"validate.devworkspace-controller.svc\" denied the request: container tools is marked merge-contribution twice"})
    );

    // Credentials in the URL are refused before anything is fetched or stored.
    let secret = url.replacen("https://", "https://user:secret@", 1);
    let refused = create(json!({"devfileUrl": secret})).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.json()["error"]
            .as_str()
            .unwrap()
            .contains("may not carry credentials"),
        "{}",
        refused.text()
    );
    assert!(
        server
            .objects("devworkspaces")
            .iter()
            .all(|dw| !dw.to_string().contains("secret"))
    );
}
