//! Parent devfiles over HTTP: fetched through the guarded fetcher (by `uri` and by `id` from a
//! registry) or read from the cluster (`kubernetes`), flattened and then validated, refused with a
//! reason when they cannot be used (missing, too large, on a host not allowed, a parent of their
//! own, a cycle, a bad override); 2.0.0 plugin components accepted.

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::Path;
use axum::http::{Method, StatusCode};
use axum::routing::get;
use serde_json::{Value, json};

use super::kube_server::KubeServer;
use super::kubernetes::settings_for;
use crate::support::https::HttpsServer;
use crate::support::{TestApp, TestResponse};

const PARENT: &str = "schemaVersion: 2.2.2\nmetadata: {name: stack}\nprojects:\n  - name: project\n    git: {remotes: {origin: https://github.com/che-samples/web-nodejs-sample.git}}\ncomponents:\n  - name: nodejs\n    container: {image: quay.io/devfile/universal-developer-image:ubi8-latest}\n";

/// A child of `parent` (YAML for the `parent:` mapping) whose command runs in the parent's
/// `nodejs` component.
fn child(parent: &str) -> String {
    format!(
        "schemaVersion: 2.2.2\nmetadata: {{name: child}}\nparent: {parent}\ncommands:\n  - id: hello\n    exec: {{component: nodejs, commandLine: echo hello}}\n"
    )
}

/// Serves `/{name}` from a table the test fills in; `PORT` in a file becomes the server's port.
async fn serve(files: Vec<(&'static str, String)>) -> HttpsServer {
    let port = Arc::new(OnceLock::<u16>::new());
    let port_in = port.clone();
    let files = Arc::new(files);
    let server = HttpsServer::start(Router::new().route(
        "/{*name}",
        get(move |Path(name): Path<String>| {
            let files = files.clone();
            let port = *port_in.get().unwrap();
            async move {
                match files.iter().find(|(n, _)| *n == name) {
                    Some((_, text)) => (StatusCode::OK, text.replace("PORT", &port.to_string())),
                    None => (StatusCode::NOT_FOUND, String::new()),
                }
            }
        }),
    ))
    .await;
    port.set(server.port).unwrap();
    server
}

async fn app(
    files: &HttpsServer,
    edit: impl FnOnce(&mut fawkes_portal::config::Settings),
) -> TestApp {
    TestApp::build(
        |s| {
            files.allow(s);
            s.fetch.max_bytes = 4096;
            s.workspaces.max_running_per_user = 50;
            edit(s);
        },
        fawkes_portal::app::routes::api_routes(),
    )
    .await
}

async fn create(app: &TestApp, url: String) -> TestResponse {
    app.call(
        Method::POST,
        "/api/che-launcher/workspaces",
        "application/json",
        json!({"devfileUrl": url}).to_string(),
    )
    .await
}

fn error(response: &TestResponse) -> String {
    response.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn parents_by_uri_and_by_registry_id_are_flattened_before_validation() {
    let files = serve(vec![
        ("stack.yaml", PARENT.into()),
        ("registry/devfiles/nodejs", PARENT.into()),
        (
            "by-uri.yaml",
            child("{uri: 'https://localhost:PORT/stack.yaml'}"),
        ),
        (
            "by-id.yaml",
            child("{id: nodejs, registryUrl: 'https://localhost:PORT/registry'}"),
        ),
        ("no-registry.yaml", child("{id: nodejs}")),
        (
            "orphan.yaml",
            child("{uri: 'https://localhost:PORT/missing.yaml'}"),
        ),
        // What the portal validated before: the command's component is only in the parent.
        (
            "unresolved.yaml",
            child("{uri: 'https://localhost:PORT/stack.yaml'}").replace("parent:", "x-parent:"),
        ),
    ])
    .await;
    let app = app(&files, |_| {}).await;
    for path in ["/by-uri.yaml", "/by-id.yaml"] {
        let created = create(&app, files.url(path)).await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{path}: {}",
            created.text()
        );
    }
    let refused = create(&app, files.url("/no-registry.yaml")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error(&refused),
        "Cannot use the devfile's parent: parent.id 'nodejs' needs parent.registryUrl: the DevWorkspace Operator has no default registry"
    );
    let orphan = create(&app, files.url("/orphan.yaml")).await;
    assert_eq!(orphan.status, StatusCode::BAD_REQUEST);
    assert!(
        error(&orphan)
            .starts_with("Cannot use the devfile's parent: cannot read https://localhost:")
            && error(&orphan).ends_with("/missing.yaml: the source answered 404 Not Found"),
        "{}",
        orphan.text()
    );
    let unresolved = create(&app, files.url("/unresolved.yaml")).await;
    assert_eq!(
        unresolved.status,
        StatusCode::BAD_REQUEST,
        "{}",
        unresolved.text()
    );
}

#[tokio::test]
async fn a_parent_that_cannot_be_used_is_refused_with_the_reason() {
    let big = format!("{PARENT}# {}\n", "x".repeat(5000));
    let files = serve(vec![
        ("stack.yaml", PARENT.into()),
        ("big.yaml", big),
        ("grandparent.yaml", child("{uri: 'https://localhost:PORT/stack.yaml'}")),
        ("nested.yaml", child("{uri: 'https://localhost:PORT/grandparent.yaml'}")),
        ("self.yaml", child("{uri: 'https://localhost:PORT/self.yaml'}")),
        ("a.yaml", child("{uri: 'https://localhost:PORT/b.yaml'}")),
        ("b.yaml", child("{uri: 'https://localhost:PORT/a.yaml'}")),
        ("too-big.yaml", child("{uri: 'https://localhost:PORT/big.yaml'}")),
        ("elsewhere.yaml", child("{uri: 'https://github.example.com/stack.yaml'}")),
        ("userinfo.yaml", child("{uri: 'https://u:p@localhost:PORT/stack.yaml'}")),
        (
            "bad-override.yaml",
            child("{uri: 'https://localhost:PORT/stack.yaml', components: [{name: python, container: {image: x}}]}"),
        ),
        ("twice.yaml", child("{uri: 'https://localhost:PORT/stack.yaml'}").replace("commands:", "components:\n  - {name: nodejs, container: {image: y}}\ncommands:")),
    ])
    .await;
    let app = app(&files, |_| {}).await;
    let cases = [
        (
            "/nested.yaml",
            "has a parent of its own: parents containing plugins or parents are not supported (DevWorkspace Operator)",
        ),
        (
            "/self.yaml",
            "self.yaml is the devfile itself: a parent cycle",
        ),
        (
            "/a.yaml",
            "b.yaml leads back to a devfile already read: a parent cycle",
        ),
        ("/too-big.yaml", "larger than 4096 bytes (fetch.max_bytes)"),
        (
            "/elsewhere.yaml",
            "host 'github.example.com' is not allowed (fetch.allow_hosts)",
        ),
        ("/userinfo.yaml", "may not carry credentials"),
        (
            "/bad-override.yaml",
            "Some Components do not override any existing element: python.",
        ),
        (
            "/twice.yaml",
            "Some Components are already defined in parent: nodejs.",
        ),
    ];
    for (path, expected) in cases {
        let refused = create(&app, files.url(path)).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            refused.text()
        );
        let message = error(&refused);
        assert!(
            message.starts_with("Cannot use the devfile's parent: ") && message.contains(expected),
            "{path}: {message}"
        );
    }
    // Nothing was created.
    assert_eq!(
        app.get("/api/che-launcher/workspaces").await.json()["total"],
        0
    );
}

#[tokio::test]
async fn a_devfile_2_0_0_with_plugins_launches() {
    let plugin = "schemaVersion: 2.0.0\nmetadata: {name: with-plugin}\ncomponents:\n  - name: tools\n    container: {image: quay.io/devfile/universal-developer-image:ubi8-latest, memoryLimit: 2Gi}\n  - name: java\n    plugin: {id: redhat/java/latest, registryUrl: 'https://registry.example.com'}\ncommands:\n  - id: build\n    exec: {component: tools, commandLine: mvn package}\n";
    let files = serve(vec![("plugin.yaml", plugin.into())]).await;
    let server = KubeServer::start(&[]).await;
    let app = app(&files, |s| settings_for(&server.kubeconfig, s)).await;
    let created = create(&app, files.url("/plugin.yaml")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    // The DevWorkspace (checked against the CRD) keeps the plugin for the operator to resolve.
    let dw = server
        .object("devworkspaces", "tester-che", "with-plugin")
        .unwrap();
    assert_eq!(
        dw["spec"]["template"]["components"][1]["plugin"]["id"],
        "redhat/java/latest"
    );
}

#[tokio::test]
async fn a_kubernetes_parent_is_read_from_the_cluster_where_the_operator_may_read_it() {
    let files = serve(vec![
        ("same.yaml", child("{kubernetes: {name: stack}}")),
        (
            "shared.yaml",
            child("{kubernetes: {name: stack, namespace: shared}}"),
        ),
        (
            "private.yaml",
            child("{kubernetes: {name: stack, namespace: private}}"),
        ),
    ])
    .await;
    let server = KubeServer::start(&["tester-che", "shared", "private"]).await;
    let spec: Value = serde_saphyr::from_str(PARENT).unwrap();
    let spec = fawkes_portal::workspaces::devfile::flatten::content(&spec);
    for (namespace, annotations) in [
        ("tester-che", json!({})),
        (
            "shared",
            json!({"controller.devfile.io/allow-import-from": "*"}),
        ),
        ("private", json!({})),
    ] {
        server.insert(
            "devworkspacetemplates",
            json!({"apiVersion": "workspace.devfile.io/v1alpha2", "kind": "DevWorkspaceTemplate",
                   "metadata": {"name": "stack", "namespace": namespace, "annotations": annotations},
                   "spec": spec}),
        );
    }
    let app = app(&files, |s| settings_for(&server.kubeconfig, s)).await;
    let same = create(&app, files.url("/same.yaml")).await;
    assert_eq!(same.status, StatusCode::CREATED, "{}", same.text());
    let dw = server
        .object("devworkspaces", "tester-che", "child")
        .unwrap();
    assert_eq!(
        dw["spec"]["template"]["parent"],
        json!({"kubernetes": {"name": "stack"}})
    );
    // Shared with every namespace: usable (a taken name gets Che's suffix).
    let shared = create(&app, files.url("/shared.yaml")).await;
    assert_eq!(shared.status, StatusCode::CREATED, "{}", shared.text());
    // Not shared: as the operator says, not found.
    let private = create(&app, files.url("/private.yaml")).await;
    assert_eq!(private.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error(&private),
        "Cannot use the devfile's parent: DevWorkspaceTemplate private/stack not found"
    );

    // Without a cluster there is no DevWorkspaceTemplate to read.
    let simulated = self::app(&files, |_| {}).await;
    let refused = create(&simulated, files.url("/same.yaml")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        error(&refused).contains("only a Kubernetes cluster holds"),
        "{}",
        refused.text()
    );
}
