//! The DevWorkspace and editor DevWorkspaceTemplate the portal creates, field for field, against
//! what Che's dashboard creates for the same devfile and user (`tests/data/che/golden`: the
//! expected objects were written from che-dashboard's and the devworkspace generator's code, step
//! by step; its README traces every field). One case per behaviour: a plain devfile, a parent
//! devfile, no components, a storage-type attribute, `generateName`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::http::{Method, StatusCode};
use axum::routing::get;
use fawkes_portal::clock::ManualClock;
use fawkes_portal::workspaces::model::Owner;
use serde_json::{Value, json};

use super::kube_server::KubeServer;
use super::kubernetes::settings_for;
use crate::support::TestApp;
use crate::support::https::HttpsServer;

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/che/golden")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Fawkes' CheCluster, as far as a workspace is concerned (platform/apps/eclipse-che).
fn fawkes_checluster() -> Value {
    json!({
        "apiVersion": "org.eclipse.che/v2", "kind": "CheCluster",
        "metadata": {"name": "eclipse-che", "namespace": "eclipse-che"},
        "spec": {"devEnvironments": {
            "defaultEditor": "che-incubator/che-code/latest",
            "defaultComponents": [{"name": "universal-developer-image", "container": {
                "image": "quay.io/devfile/universal-developer-image:ubi8-latest",
                "memoryLimit": "4Gi", "memoryRequest": "1Gi", "cpuLimit": "2", "cpuRequest": "500m"}}],
            "defaultNamespace": {"template": "che-<username>", "autoProvision": true},
            "storage": {"pvcStrategy": "per-user"},
        }},
        "status": {"pluginRegistryURL": "https://che.127.0.0.1.nip.io/plugin-registry/v3"},
    })
}

/// The server-set fields a created object gets, which no client chooses.
fn without_server_fields(mut object: Value) -> Value {
    if let Some(metadata) = object["metadata"].as_object_mut() {
        for field in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "generation",
            "finalizers",
        ] {
            metadata.remove(field);
        }
    }
    object
}

fn yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap()
}

async fn case(name: &str, checluster: Option<Value>) {
    let dir = golden().join(name);
    let server = KubeServer::start(&[]).await;
    if let Some(checluster) = checluster.clone() {
        server.add_checluster(checluster);
    }
    // Serves the case's files; a devfile's PARENT_URL becomes the served parent's URL.
    let port = Arc::new(std::sync::OnceLock::<u16>::new());
    let port_of_files = port.clone();
    let files = HttpsServer::start(Router::new().route(
        "/{case}/{file}",
        get(
            move |UrlPath((case, file)): UrlPath<(String, String)>| async move {
                let parent = format!(
                    "https://localhost:{}/{case}/nodejs-stack.devfile.yaml",
                    port_of_files.get().unwrap()
                );
                read(&golden().join(case).join(file)).replace("PARENT_URL", &parent)
            },
        ),
    ))
    .await;
    port.set(files.port).unwrap();
    let devfile_url = files.url(&format!("/{name}/devfile.yaml"));
    let parent_url = files.url(&format!("/{name}/nodejs-stack.devfile.yaml"));
    let served = read(&dir.join("devfile.yaml")).replace("PARENT_URL", &parent_url);
    let clock = Arc::new(ManualClock::at(Duration::from_secs(1_800_000_000)));
    let app = TestApp::build_with_clock(
        |s| {
            settings_for(&server.kubeconfig, s);
            files.allow(s);
        },
        fawkes_portal::app::routes::api_routes(),
        clock,
    )
    .await;
    let created = app
        .call(
            Method::POST,
            "/api/che-launcher/workspaces",
            "application/json",
            json!({"devfileUrl": devfile_url}).to_string(),
        )
        .await;
    assert_eq!(
        created.status,
        StatusCode::CREATED,
        "{name}: {}",
        created.text()
    );
    let body = created.json();
    let workspace = body["name"].as_str().unwrap().to_owned();
    let namespace = body["namespace"].as_str().unwrap().to_owned();
    if name == "generate-name" {
        // generateName `python-`, then `-` and 4 random characters (generateName.ts).
        let suffix = workspace.strip_prefix("python--").unwrap_or_default();
        assert!(
            suffix.len() == 4
                && suffix
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "{workspace}"
        );
    }

    let mut dw = server
        .object("devworkspaces", &namespace, &workspace)
        .unwrap();
    let uid = dw["metadata"]["uid"].as_str().unwrap().to_owned();
    // Che keeps the devfile as YAML (the dashboard re-dumps it; we keep the text as fetched):
    // the same document either way.
    let kept = dw["metadata"]["annotations"]["che.eclipse.org/devfile"].take();
    assert_eq!(
        yaml(kept.as_str().unwrap()),
        yaml(&served),
        "{name}: che.eclipse.org/devfile"
    );
    dw["metadata"]["annotations"]["che.eclipse.org/devfile"] = json!("<devfile>");
    let dwt = server
        .object(
            "devworkspacetemplates",
            &namespace,
            &format!("che-code-{workspace}"),
        )
        .unwrap();

    let registry = if checluster.is_some() {
        "https://che.127.0.0.1.nip.io/plugin-registry/v3"
    } else {
        ""
    };
    let substitute = |text: String| -> Value {
        let text = text
            .replace("<devfile-url>", &devfile_url)
            .replace("<parent-url>", &parent_url)
            .replace("<workspace-id>", body["workspaceId"].as_str().unwrap())
            .replace("<owner-label>", &Owner::new("user:default/tester").label())
            .replace("<name>", &workspace)
            .replace("<namespace>", &namespace)
            .replace("<uid>", &uid)
            .replace("<plugin-registry-url>", registry);
        serde_json::from_str(&text).unwrap()
    };
    let expected_dw = substitute(read(&dir.join("devworkspace.json")));
    let expected_dwt = substitute(read(&golden().join("editor.json")));
    assert_eq!(
        without_server_fields(dw),
        expected_dw,
        "{name}: DevWorkspace"
    );
    assert_eq!(
        without_server_fields(dwt),
        expected_dwt,
        "{name}: DevWorkspaceTemplate"
    );
}

#[tokio::test]
async fn a_plain_devfile_becomes_what_che_creates() {
    case("plain", None).await;
}

#[tokio::test]
async fn a_devfile_with_a_parent_becomes_what_che_creates() {
    case("parent", None).await;
}

#[tokio::test]
async fn a_devfile_without_components_gets_ches_default_component() {
    case("no-components", Some(fawkes_checluster())).await;
}

#[tokio::test]
async fn a_storage_type_attribute_and_lifted_annotations_as_che_makes_them() {
    case("storage-type", None).await;
}

#[tokio::test]
async fn generate_name_names_the_workspace_as_che_names_it() {
    case("generate-name", None).await;
}
