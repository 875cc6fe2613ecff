//! The DevWorkspace and its editor DevWorkspaceTemplate, built as Che's dashboard builds them
//! (as Che's dashboard makes them), and a DevWorkspace read back into a [`Workspace`] (its `status.phase` and `status.mainUrl`).

use serde_json::{Value, json};

use crate::config::WorkspacesConfig;
use crate::workspaces::model::{NewWorkspace, Owner, Workspace, WorkspaceId, WorkspaceStatus};

/// The DevWorkspace API group.
pub const GROUP: &str = "workspace.devfile.io";
/// The DevWorkspace API version this driver writes.
pub const VERSION: &str = "v1alpha2";
/// `apiVersion` of DevWorkspaces and DevWorkspaceTemplates.
pub const API_VERSION: &str = "workspace.devfile.io/v1alpha2";

/// Our labels: every lookup is one label-selected list.
pub const LABEL_ID: &str = "fawkes.dev/workspace-id";
/// The owner's label (a hash of the subject: labels are at most 63 characters).
pub const LABEL_OWNER: &str = "fawkes.dev/owner";
/// The owner's subject in full (the label holds a hash of it).
pub const ANNOTATION_OWNER: &str = "fawkes.dev/owner";
/// The devfile's `metadata.name`.
pub const ANNOTATION_DEVFILE_NAME: &str = "fawkes.dev/devfile-name";
/// The devfile's `metadata.version`.
pub const ANNOTATION_DEVFILE_VERSION: &str = "fawkes.dev/devfile-version";
/// Che's annotations.
pub const CHE_LAST_UPDATED: &str = "che.eclipse.org/last-updated-timestamp";
/// The devfile as fetched, as Che keeps it.
pub const CHE_DEVFILE: &str = "che.eclipse.org/devfile";
/// Where the devfile came from, as Che records it.
pub const CHE_DEVFILE_SOURCE: &str = "che.eclipse.org/devfile-source";
/// The editor, as Che records it.
pub const CHE_EDITOR: &str = "che.eclipse.org/che-editor";
/// Che keeps the original devfile on the workspace; larger ones would crowd the 256 KiB
/// annotation budget, so they are left out.
const MAX_DEVFILE_ANNOTATION: usize = 64 * 1024;

/// The editor template's name for workspace `name`: `che-code-<name>`, cut to 63 characters.
pub fn editor_template_name(name: &str) -> String {
    let mut full = format!("che-code-{name}");
    full.truncate(63);
    full.trim_end_matches('-').to_owned()
}

/// The label selector for the owner's workspaces, or one of them.
pub fn selector(owner: &Owner, id: Option<&WorkspaceId>) -> String {
    match id {
        Some(id) => format!("{LABEL_OWNER}={},{LABEL_ID}={id}", owner.label()),
        None => format!("{LABEL_OWNER}={}", owner.label()),
    }
}

fn labels(new: &NewWorkspace) -> Value {
    json!({
        LABEL_ID: new.id.as_str(),
        LABEL_OWNER: new.owner.label(),
        "kubernetes.io/metadata.name": new.name,
    })
}

/// The DevWorkspace for `new`, created stopped (Che starts it once the editor template exists).
pub fn devworkspace(new: &NewWorkspace, config: &WorkspacesConfig) -> Value {
    let mut template = new.devfile.clone();
    if let Some(map) = template.as_object_mut() {
        map.remove("schemaVersion");
        map.remove("metadata");
        let starter = map
            .get("starterProjects")
            .and_then(|s| s.get(0))
            .and_then(|s| s.get("name"))
            .cloned();
        if let Some(starter) = starter {
            let attributes = map.entry("attributes").or_insert_with(|| json!({}));
            if let Some(attributes) = attributes.as_object_mut() {
                attributes.insert("controller.devfile.io/use-starter-project".into(), starter);
            }
        }
    }
    let mut annotations = json!({
        ANNOTATION_OWNER: new.owner.subject(),
        ANNOTATION_DEVFILE_NAME: new.devfile_name,
        ANNOTATION_DEVFILE_VERSION: new.devfile_version,
        CHE_DEVFILE_SOURCE: format!("factory:\n  params: url={}\n", new.devfile_url),
        CHE_LAST_UPDATED: new.now,
        CHE_EDITOR: config.editor,
    });
    if new.devfile_text.len() <= MAX_DEVFILE_ANNOTATION {
        annotations[CHE_DEVFILE] = Value::String(new.devfile_text.clone());
    }
    json!({
        "apiVersion": API_VERSION,
        "kind": "DevWorkspace",
        "metadata": {
            "name": new.name,
            "namespace": new.namespace,
            "labels": labels(new),
            "annotations": annotations,
        },
        "spec": {
            "started": false,
            "routingClass": config.routing_class,
            "template": template,
            "contributions": [
                {"name": "editor", "kubernetes": {"name": editor_template_name(&new.name)}}
            ],
        },
    })
}

/// The che-code editor as a DevWorkspaceTemplate owned by the workspace `uid` (as Che's dashboard does), so
/// Kubernetes removes it with the workspace.
pub fn editor_template(new: &NewWorkspace, uid: &str, config: &WorkspacesConfig) -> Value {
    let image = &config.editor_image;
    let redirect = |n: u16| {
        json!({"name": format!("code-redirect-{n}"), "targetPort": 13130 + n, "exposure": "public",
               "protocol": "http", "attributes": {"discoverable": false, "urlRewriteSupported": false}})
    };
    json!({
        "apiVersion": API_VERSION,
        "kind": "DevWorkspaceTemplate",
        "metadata": {
            "name": editor_template_name(&new.name),
            "namespace": new.namespace,
            "labels": labels(new),
            "ownerReferences": [{
                "apiVersion": API_VERSION, "kind": "DevWorkspace", "name": new.name, "uid": uid,
                "blockOwnerDeletion": true,
            }],
        },
        "spec": {
            "components": [
                {"name": "che-code-injector", "container": {
                    "image": image, "command": ["/entrypoint-init-container.sh"],
                    "volumeMounts": [{"name": "checode", "path": "/checode"}],
                    "memoryLimit": "256Mi", "memoryRequest": "32Mi", "cpuLimit": "500m", "cpuRequest": "30m"}},
                {"name": "che-code-runtime-description",
                 "attributes": {"app.kubernetes.io/component": "che-code-runtime",
                                "app.kubernetes.io/part-of": "che-code.eclipse.org",
                                "controller.devfile.io/container-contribution": true},
                 "container": {
                    "image": image, "command": ["/checode/entrypoint-volume.sh"],
                    "env": [{"name": "CODE_HOST", "value": "0.0.0.0"}],
                    "volumeMounts": [{"name": "checode", "path": "/checode"}],
                    "endpoints": [
                        {"name": "che-code", "targetPort": 3100, "exposure": "public", "secure": false,
                         "protocol": "https", "attributes": {"type": "main", "cookiesAuthEnabled": true,
                         "discoverable": false, "urlRewriteSupported": true}},
                        redirect(1), redirect(2), redirect(3),
                    ]}},
                {"name": "checode", "volume": {"ephemeral": true}},
            ],
            "commands": [{"id": "init-container-command", "apply": {"component": "che-code-injector"}}],
            "events": {"preStart": ["init-container-command"]},
        },
    })
}

/// Che's start: `spec.started = true` and a fresh last-updated timestamp, as a JSON patch.
pub fn start_patch(now: &str) -> Value {
    json!([
        {"op": "replace", "path": "/spec/started", "value": true},
        {"op": "add", "path": "/metadata/annotations/che.eclipse.org~1last-updated-timestamp", "value": now},
    ])
}

/// Che's stop, as a JSON patch.
pub fn stop_patch() -> Value {
    json!([{"op": "replace", "path": "/spec/started", "value": false}])
}

fn text<'v>(value: &'v Value, pointer: &str) -> Option<&'v str> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A DevWorkspace read back; `None` if it lacks our labels (not ours to show).
pub fn workspace(object: &Value) -> Option<Workspace> {
    let metadata = object.get("metadata")?;
    let label = |key: &str| metadata.get("labels")?.get(key)?.as_str();
    let annotation = |key: &str| metadata.get("annotations")?.get(key)?.as_str();
    let id = WorkspaceId::parse(label(LABEL_ID)?)?;
    let owner = Owner::new(annotation(ANNOTATION_OWNER)?);
    let started = object.pointer("/spec/started").and_then(Value::as_bool) == Some(true);
    let phase = text(object, "/status/phase").unwrap_or_default();
    let terminating = metadata
        .get("deletionTimestamp")
        .is_some_and(|v| !v.is_null());
    let status = match phase {
        _ if terminating => WorkspaceStatus::Stopping,
        "Running" => WorkspaceStatus::Running,
        "Starting" => WorkspaceStatus::Starting,
        "Stopping" | "Terminating" => WorkspaceStatus::Stopping,
        "Stopped" => WorkspaceStatus::Stopped,
        "Failing" | "Failed" | "Error" => WorkspaceStatus::Failed,
        _ if started => WorkspaceStatus::Starting,
        _ => WorkspaceStatus::Stopped,
    };
    let message = (status == WorkspaceStatus::Failed).then(|| {
        text(object, "/status/message")
            .unwrap_or("the workspace failed to start")
            .to_owned()
    });
    let created_at = text(object, "/metadata/creationTimestamp")
        .unwrap_or_default()
        .to_owned();
    Some(Workspace {
        id,
        name: metadata.get("name")?.as_str()?.to_owned(),
        namespace: metadata.get("namespace")?.as_str()?.to_owned(),
        owner,
        status,
        message,
        main_url: text(object, "/status/mainUrl").map(str::to_owned),
        devfile_name: annotation(ANNOTATION_DEVFILE_NAME)
            .unwrap_or_default()
            .to_owned(),
        devfile_version: annotation(ANNOTATION_DEVFILE_VERSION)
            .unwrap_or_default()
            .to_owned(),
        last_used: annotation(CHE_LAST_UPDATED).map_or_else(|| created_at.clone(), str::to_owned),
        created_at,
    })
}
