//! The launcher over HTTP on the simulated driver (the default), with devfiles served over real
//! HTTPS: the lifecycle, naming, the namespace rule, the quota, isolation and every 400.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::routing::get;
use fawkes_portal::auth::issuer::TokenSubject;
use fawkes_portal::clock::ManualClock;
use serde_json::{Value, json};

use crate::support::https::HttpsServer;
use crate::support::{TestApp, TestResponse};

pub const DEVFILE: &str = "schemaVersion: 2.2.2\nmetadata:\n  name: goldenpath-python\n  version: 1.0.0\ncomponents:\n  - name: python\n    container:\n      image: quay.io/devfile/universal-developer-image:ubi8-latest\n";
const INVALID: &str = "schemaVersion: 2.2.2\ncomponents:\n  - name: tools\n    container: {image: a}\n  - name: Python\n    container: {image: b}\n";
const TWO_DEFAULTS: &str = "schemaVersion: 2.2.2\nmetadata: {name: two}\ncomponents:\n  - name: tools\n    container: {image: a}\ncommands:\n  - {id: a, exec: {component: tools, commandLine: a, group: {kind: run, isDefault: true}}}\n  - {id: b, exec: {component: tools, commandLine: b, group: {kind: run, isDefault: true}}}\n";

/// The devfiles our HTTPS server serves.
pub fn devfiles() -> Router {
    Router::new()
        .route("/devfile.yaml", get(|| async { DEVFILE }))
        .route("/invalid.yaml", get(|| async { INVALID }))
        .route("/two-defaults.yaml", get(|| async { TWO_DEFAULTS }))
        .route("/no-name.yaml", get(|| async { "schemaVersion: 2.1.0\n" }))
        .route(
            "/not-yaml.yaml",
            get(|| async { "components: [\n  - name: x\n" }),
        )
        .route(
            "/big.yaml",
            get(|| async { format!("schemaVersion: 2.2.2\n#{}\n", "x".repeat(8192)) }),
        )
        .route(
            "/slow.yaml",
            // Never answers: the fetcher's timeout must.
            get(|| async {
                std::future::pending::<()>().await;
                DEVFILE
            }),
        )
}

pub struct Launcher {
    pub app: TestApp,
    pub devfiles: HttpsServer,
    pub clock: Arc<ManualClock>,
}

impl Launcher {
    pub async fn start(edit: impl FnOnce(&mut fawkes_portal::config::Settings)) -> Launcher {
        let devfiles = HttpsServer::start(devfiles()).await;
        let clock = Arc::new(ManualClock::at(Duration::from_secs(1_800_000_000)));
        let app = TestApp::build_with_clock(
            |s| {
                devfiles.allow(s);
                s.fetch.timeout = "1s".into();
                s.fetch.max_bytes = 4096;
                s.rate_limit.user_per_minute = 10_000;
                edit(s);
            },
            fawkes_portal::app::routes::api_routes(),
            clock.clone(),
        )
        .await;
        Launcher {
            app,
            devfiles,
            clock,
        }
    }

    pub async fn create(&self, body: Value) -> TestResponse {
        self.create_as(body, None).await
    }

    pub async fn create_as(&self, mut body: Value, token: Option<&str>) -> TestResponse {
        if let Some(path) = body["devfileUrl"].as_str().filter(|p| p.starts_with('/')) {
            body["devfileUrl"] = json!(self.devfiles.url(path));
        }
        self.send(
            Method::POST,
            "/api/che-launcher/workspaces",
            Some(body),
            token,
        )
        .await
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> TestResponse {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        };
        self.app.send(request.unwrap()).await
    }

    pub async fn list(&self, query: &str) -> Value {
        let response = self
            .app
            .get(&format!("/api/che-launcher/workspaces{query}"))
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        response.json()
    }

    pub async fn act(&self, id: &str, action: &str) -> TestResponse {
        self.send(
            Method::POST,
            &format!("/api/che-launcher/workspaces/{id}/{action}"),
            None,
            None,
        )
        .await
    }
}

#[tokio::test]
async fn a_simulated_workspace_lives_through_its_lifecycle() {
    let launcher = Launcher::start(|_| {}).await;
    assert_eq!(
        launcher.app.get("/api").await.json()["workspaces"],
        "simulated"
    );
    let created = launcher
        .create(json!({"devfileUrl": "/devfile.yaml"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let body = created.json();
    let id = body["workspaceId"].as_str().unwrap().to_owned();
    let name = body["name"].as_str().unwrap().to_owned();
    assert!(
        id.starts_with("workspace-")
            && id.len() == 22
            && id[10..].bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    // As Che names it: the devfile's metadata.name (a suffix only when the name is taken).
    assert_eq!(name, "goldenpath-python");
    assert_eq!(body["status"], "Starting");
    // Che's default namespace template, <username>-che.
    assert_eq!(body["namespace"], "tester-che");
    assert_eq!(
        body["devfile"],
        json!({"name": "goldenpath-python", "version": "1.0.0"})
    );
    assert_eq!(
        body["ideUrl"],
        format!("https://che.127.0.0.1.nip.io/dashboard/#/ide/tester-che/{name}")
    );
    assert!(body.get("warnings").is_none());

    let listed = launcher.list("").await;
    assert_eq!(listed["total"], 1);
    let item = &listed["workspaces"][0];
    assert_eq!(item["workspaceId"], id.as_str());
    assert_eq!(item["status"], "Starting");
    assert_eq!(item["createdAt"], "2027-01-15T08:00:00.000Z");
    assert_eq!(item["lastUsed"], "2027-01-15T08:00:00.000Z");

    launcher.clock.advance(Duration::from_secs(5));
    assert_eq!(
        launcher.list("").await["workspaces"][0]["status"],
        "Running"
    );
    assert_eq!(launcher.list("?status=Running").await["total"], 1);
    assert_eq!(launcher.list("?status=Stopped").await["total"], 0);

    let stop = launcher.act(&id, "stop").await;
    assert_eq!(stop.status, StatusCode::ACCEPTED);
    assert_eq!(stop.json()["status"], "Stopping");
    assert_eq!(
        launcher.list("").await["workspaces"][0]["status"],
        "Stopping"
    );
    launcher.clock.advance(Duration::from_secs(2));
    assert_eq!(launcher.list("?status=Stopped").await["total"], 1);

    launcher.clock.advance(Duration::from_secs(60));
    let start = launcher.act(&id, "start").await;
    assert_eq!(start.status, StatusCode::ACCEPTED);
    assert_eq!(start.json()["status"], "Starting");
    let item = launcher.list("").await["workspaces"][0].clone();
    assert_eq!(item["status"], "Starting");
    assert_eq!(item["lastUsed"], "2027-01-15T08:01:07.000Z");
    assert_eq!(item["createdAt"], "2027-01-15T08:00:00.000Z");

    let deleted = launcher
        .send(
            Method::DELETE,
            &format!("/api/che-launcher/workspaces/{id}"),
            None,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(deleted.body.is_empty());
    assert_eq!(
        launcher.list("").await,
        json!({"workspaces": [], "total": 0})
    );
    let again = launcher
        .send(
            Method::DELETE,
            &format!("/api/che-launcher/workspaces/{id}"),
            None,
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.json(), json!({"error": "Workspace not found"}));
    for action in ["start", "stop"] {
        assert_eq!(
            launcher.act(&id, action).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            launcher.act("not-an-id", action).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn names_namespaces_and_conflicts() {
    let launcher = Launcher::start(|s| s.workspaces.max_running_per_user = 10).await;
    let created = launcher.create(json!({"devfileUrl": "/devfile.yaml", "name": "my-python-workspace", "namespace": "tester-che"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["name"], "my-python-workspace");
    let taken = launcher
        .create(json!({"devfileUrl": "/devfile.yaml", "name": "my-python-workspace"}))
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert_eq!(
        taken.json(),
        json!({"error": "Workspace with name 'my-python-workspace' already exists"})
    );
    // The devfile's name, then (taken) the name and a suffix, as Che does.
    let first = launcher
        .create(json!({"devfileUrl": "/devfile.yaml"}))
        .await;
    assert_eq!(first.json()["name"], "goldenpath-python");
    let second = launcher
        .create(json!({"devfileUrl": "/devfile.yaml"}))
        .await;
    let suffixed = second.json()["name"].as_str().unwrap().to_owned();
    assert!(
        suffixed.starts_with("goldenpath-python-")
            && suffixed.len() == "goldenpath-python-".len() + 4,
        "{suffixed}"
    );

    // No metadata.name: the URL's last segment plus a suffix (Che's project name).
    let unnamed = launcher
        .create(json!({"devfileUrl": "/no-name.yaml"}))
        .await;
    assert_eq!(unnamed.status, StatusCode::CREATED, "{}", unnamed.text());
    let name = unnamed.json()["name"].as_str().unwrap().to_owned();
    assert!(
        name.starts_with("no-name-yaml-") && name.len() == "no-name-yaml-".len() + 4,
        "{name}"
    );
    assert_eq!(
        unnamed.json()["devfile"],
        json!({"name": name, "version": ""})
    );

    let theirs = launcher
        .create(json!({"devfileUrl": "/devfile.yaml", "namespace": "jane-che"}))
        .await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);
    assert_eq!(
        theirs.json(),
        json!({"error": "Namespace 'jane-che' is not yours: use 'tester-che' (or leave namespace out)"})
    );

    // A service principal has a namespace of its own too, and only that one.
    let service = launcher
        .app
        .issue(&TokenSubject::service("ci-bot").unwrap());
    let by_service = launcher
        .create_as(json!({"devfileUrl": "/devfile.yaml"}), Some(&service))
        .await;
    assert_eq!(
        by_service.status,
        StatusCode::CREATED,
        "{}",
        by_service.text()
    );
    let service_namespace = by_service.json()["namespace"].as_str().unwrap().to_owned();
    assert!(
        service_namespace.starts_with("ci-bot--") && service_namespace.ends_with("-che"),
        "{service_namespace}"
    );
    let elsewhere = launcher
        .create_as(
            json!({"devfileUrl": "/devfile.yaml", "namespace": "tester-che"}),
            Some(&service),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN);
    // The service's workspaces are its own.
    assert_eq!(launcher.list("").await["total"], 4);
}

#[tokio::test]
async fn the_quota_counts_starting_and_running_workspaces() {
    let launcher = Launcher::start(|_| {}).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let created = launcher
            .create(json!({"devfileUrl": "/devfile.yaml"}))
            .await;
        assert_eq!(created.status, StatusCode::CREATED);
        ids.push(created.json()["workspaceId"].as_str().unwrap().to_owned());
    }
    launcher.clock.advance(Duration::from_secs(10));
    let over = launcher
        .create(json!({"devfileUrl": "/devfile.yaml"}))
        .await;
    assert_eq!(over.status, StatusCode::FORBIDDEN);
    assert_eq!(
        over.json(),
        json!({"error": "Workspace quota exceeded: 3 of 3 running workspaces"})
    );

    // Stopping frees a slot; starting it again while at the quota is refused.
    assert_eq!(
        launcher.act(&ids[0], "stop").await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        launcher
            .create(json!({"devfileUrl": "/devfile.yaml"}))
            .await
            .status,
        StatusCode::CREATED
    );
    let start = launcher.act(&ids[0], "start").await;
    assert_eq!(start.status, StatusCode::FORBIDDEN);
    assert_eq!(
        start.json(),
        json!({"error": "Workspace quota exceeded: 3 of 3 running workspaces"})
    );
    // Starting one that already runs is not a second slot.
    assert_eq!(
        launcher.act(&ids[1], "start").await.status,
        StatusCode::ACCEPTED
    );

    // Another user has their own quota.
    let jane = launcher.app.issue(&TokenSubject::user("jane").unwrap());
    assert_eq!(
        launcher
            .create_as(json!({"devfileUrl": "/devfile.yaml"}), Some(&jane))
            .await
            .status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn users_reach_only_their_own_simulated_workspaces() {
    let launcher = Launcher::start(|_| {}).await;
    let id = launcher
        .create(json!({"devfileUrl": "/devfile.yaml"}))
        .await
        .json()["workspaceId"]
        .as_str()
        .unwrap()
        .to_owned();
    let jane = launcher.app.issue(&TokenSubject::user("jane").unwrap());
    let listed = launcher
        .app
        .get_as("/api/che-launcher/workspaces", &jane)
        .await
        .json();
    assert_eq!(listed, json!({"workspaces": [], "total": 0}));
    for (method, path) in [
        (Method::DELETE, format!("/api/che-launcher/workspaces/{id}")),
        (
            Method::POST,
            format!("/api/che-launcher/workspaces/{id}/stop"),
        ),
        (
            Method::POST,
            format!("/api/che-launcher/workspaces/{id}/start"),
        ),
    ] {
        let response = launcher
            .send(method.clone(), &path, None, Some(&jane))
            .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(response.json(), json!({"error": "Workspace not found"}));
    }
    assert_eq!(
        launcher.list("").await["workspaces"][0]["status"],
        "Starting"
    );
}
