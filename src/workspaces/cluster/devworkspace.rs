//! A DevWorkspace read back into a [`Workspace`] (its `status.phase`, `status.mainUrl` and
//! `spec.started`), the label selectors our lookups use, and Che's start and stop as JSON patches
//! (che-dashboard `devWorkspaceClient.ts` `changeWorkspaceStatus`, `managePvcStrategy`). The
//! resources themselves are built in [`crate::workspaces::generate`].

use serde_json::{Value, json};

use crate::workspaces::generate::{
    ANNOTATION_DEVFILE_NAME, ANNOTATION_DEVFILE_VERSION, ANNOTATION_OWNER, CHE_LAST_UPDATED,
    DEVWORKSPACE_CONFIG, LABEL_ID, LABEL_OWNER,
};
use crate::workspaces::model::{Owner, Workspace, WorkspaceId, WorkspaceStatus};

/// The DevWorkspace API group.
pub const GROUP: &str = "workspace.devfile.io";
/// The DevWorkspace API version this driver writes.
pub const VERSION: &str = "v1alpha2";

/// The label selector for the owner's workspaces, or one of them.
pub fn selector(owner: &Owner, id: Option<&WorkspaceId>) -> String {
    match id {
        Some(id) => format!("{LABEL_OWNER}={},{LABEL_ID}={id}", owner.label()),
        None => format!("{LABEL_OWNER}={}", owner.label()),
    }
}

/// `/`-separated JSON pointer tokens escaped (`~` as `~0`, `/` as `~1`).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Che's start as one JSON patch: `spec.started = true` and a fresh last-updated time, the
/// `devworkspace-config` attribute added if it is missing, all on condition that the workspace is
/// still at `resource_version` (a workspace deleted meanwhile makes it a 409 Conflict).
pub fn start_patch(current: &Value, now: &str, che_namespace: &str) -> Value {
    let mut ops = vec![
        json!({"op": "replace", "path": "/metadata/resourceVersion",
               "value": current.pointer("/metadata/resourceVersion").cloned().unwrap_or_default()}),
        json!({"op": "replace", "path": "/spec/started", "value": true}),
    ];
    if current.pointer("/metadata/annotations").is_none() {
        ops.push(json!({"op": "add", "path": "/metadata/annotations", "value": {}}));
    }
    let timestamp = format!("/metadata/annotations/{}", escape(CHE_LAST_UPDATED));
    let verb = if current.pointer(&timestamp).is_some() {
        "replace"
    } else {
        "add"
    };
    ops.push(json!({"op": verb, "path": timestamp, "value": now}));
    let config = json!({"name": "devworkspace-config", "namespace": che_namespace});
    match current.pointer("/spec/template/attributes") {
        None => ops.push(json!({"op": "add", "path": "/spec/template/attributes",
                                "value": {DEVWORKSPACE_CONFIG: config}})),
        Some(attributes) if attributes.get(DEVWORKSPACE_CONFIG).is_none() => {
            ops.push(json!({"op": "add",
                "path": format!("/spec/template/attributes/{}", escape(DEVWORKSPACE_CONFIG)),
                "value": config}));
        }
        Some(_) => {}
    }
    Value::Array(ops)
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

/// The status a workspace shows: the operator's phase, corrected by what was last asked of it
/// (`spec.started`), so that a stop or start the operator has not acted on yet never reads as
/// the phase before it.
pub fn status(phase: &str, started: bool, terminating: bool) -> WorkspaceStatus {
    match (phase, started) {
        _ if terminating => WorkspaceStatus::Stopping,
        ("Terminating", _) => WorkspaceStatus::Stopping,
        ("Failing" | "Failed" | "Error", _) => WorkspaceStatus::Failed,
        ("Running", true) => WorkspaceStatus::Running,
        (_, true) => WorkspaceStatus::Starting,
        ("Running" | "Starting" | "Stopping", false) => WorkspaceStatus::Stopping,
        (_, false) => WorkspaceStatus::Stopped,
    }
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
    let status = status(phase, started, terminating);
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
        started,
        terminating,
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
