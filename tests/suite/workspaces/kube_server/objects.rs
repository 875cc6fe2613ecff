//! DevWorkspaces and DevWorkspaceTemplates: create, read, list, patch (the object and its status),
//! delete with finalizers, and garbage collection of what an object owned.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{GROUP, Inner, Shared, matches_selector, not_found, now, schema, status};

type Key = (String, String, String);

fn kind(plural: &str) -> &'static str {
    if plural == "devworkspaces" {
        "DevWorkspace"
    } else {
        "DevWorkspaceTemplate"
    }
}

fn qualified(plural: &str) -> String {
    format!("{plural}.{GROUP}")
}

fn list_body(plural: &str, version: u64, items: Vec<Value>) -> Response {
    axum::Json(json!({
        "apiVersion": "workspace.devfile.io/v1alpha2", "kind": format!("{}List", kind(plural)),
        "metadata": {"resourceVersion": version.to_string()}, "items": items,
    }))
    .into_response()
}

pub async fn list_all(
    State(inner): State<Shared>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let inner = inner.lock().unwrap();
    if let Some(denied) = inner.denied("list", "devworkspaces", GROUP, None) {
        return denied;
    }
    let items = inner
        .objects
        .iter()
        .filter(|((p, _, _), o)| {
            p == "devworkspaces" && matches_selector(o, query.get("labelSelector"))
        })
        .map(|(_, o)| o.clone())
        .collect();
    list_body("devworkspaces", inner.version, items)
}

pub async fn list_namespaced(
    State(inner): State<Shared>,
    Path((ns, plural)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let inner = inner.lock().unwrap();
    if let Some(denied) = inner.denied("list", &plural, GROUP, Some(&ns)) {
        return denied;
    }
    let items = inner
        .objects
        .iter()
        .filter(|((p, n, _), o)| {
            *p == plural && *n == ns && matches_selector(o, query.get("labelSelector"))
        })
        .map(|(_, o)| o.clone())
        .collect();
    list_body(&plural, inner.version, items)
}

/// 422 Invalid, as the API server answers a schema violation.
fn invalid(plural: &str, name: &str, problems: Vec<(String, String)>) -> Response {
    let message = problems
        .iter()
        .map(|(f, m)| format!("{f}: {m}"))
        .collect::<Vec<_>>()
        .join(", ");
    let causes: Vec<Value> = problems
        .iter()
        .map(|(f, m)| json!({"reason": "FieldValueInvalid", "message": m, "field": f}))
        .collect();
    status(
        422,
        "Invalid",
        format!("{}.{GROUP} \"{name}\" is invalid: {message}", kind(plural)),
        json!({"name": name, "group": GROUP, "kind": kind(plural), "causes": causes}),
    )
}

pub async fn create(
    State(inner): State<Shared>,
    Path((ns, plural)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let mut inner = inner.lock().unwrap();
    if let Some(denied) = inner.denied("create", &plural, GROUP, Some(&ns)) {
        return denied;
    }
    let Ok(mut object) = serde_json::from_slice::<Value>(&body) else {
        return status(400, "BadRequest", "the body is not JSON".into(), json!({}));
    };
    if !inner.namespaces.contains_key(&ns) {
        return status(
            404,
            "NotFound",
            format!("namespaces \"{ns}\" not found"),
            json!({"name": ns, "kind": "namespaces"}),
        );
    }
    if object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .is_some_and(|n| n != ns)
    {
        return status(
            400,
            "BadRequest",
            "the namespace of the provided object does not match the namespace sent on the request"
                .into(),
            json!({}),
        );
    }
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    // OwnerReferencesPermissionEnforcement: blocking the owner's deletion needs `update` on its
    // finalizers.
    let blocks = object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|r| r.get("blockOwnerDeletion") == Some(&Value::Bool(true)));
    if blocks
        && let Some(reason) = inner.refusal("update", "devworkspaces/finalizers", GROUP, Some(&ns))
    {
        return status(
            403,
            "Forbidden",
            format!(
                "{} \"{name}\" is forbidden: cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on: {reason}",
                qualified(&plural)
            ),
            json!({"name": name, "group": GROUP, "kind": plural}),
        );
    }
    if plural == "devworkspaces"
        && let Some(denial) = &inner.webhook_denial
    {
        return status(
            403,
            "Forbidden",
            format!(
                "admission webhook \"validate.devworkspace-controller.svc\" denied the request: {denial}"
            ),
            json!({}),
        );
    }
    let key = (plural.clone(), ns.clone(), name.clone());
    if inner.objects.contains_key(&key) {
        return status(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", qualified(&plural)),
            json!({"name": name, "group": GROUP, "kind": plural}),
        );
    }
    // The status subresource: a create carries no status.
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
    }
    let version = inner.bump();
    let metadata = &mut object["metadata"];
    metadata["namespace"] = json!(ns);
    metadata["uid"] = json!(uuid::Uuid::new_v4().to_string());
    metadata["creationTimestamp"] = now();
    metadata["resourceVersion"] = json!(version);
    metadata["generation"] = json!(1);
    if plural == "devworkspaces" {
        // The DevWorkspace Operator's finalizers.
        metadata["finalizers"] = json!(["storage.controller.devfile.io"]);
    }
    let problems = schema::problems(&plural, &object);
    if !problems.is_empty() {
        return invalid(&plural, &name, problems);
    }
    inner.objects.insert(key, object.clone());
    (StatusCode::CREATED, axum::Json(object)).into_response()
}

pub async fn read(
    State(inner): State<Shared>,
    Path((ns, plural, name)): Path<(String, String, String)>,
) -> Response {
    let inner = inner.lock().unwrap();
    if let Some(denied) = inner.denied("get", &plural, GROUP, Some(&ns)) {
        return denied;
    }
    match inner.objects.get(&(plural.clone(), ns, name.clone())) {
        Some(object) => axum::Json(object.clone()).into_response(),
        None => not_found(&qualified(&plural), &name),
    }
}

/// `patch` applied to `object` as its content type says: merge or JSON patch (415 for others).
pub(crate) fn apply(
    object: &mut Value,
    headers: &HeaderMap,
    body: &Bytes,
    log: &mut Vec<String>,
) -> Result<(), Box<Response>> {
    let refuse = |code: u16, reason: &str, message: String| {
        Box::new(status(code, reason, message, json!({})))
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    log.push(format!("content-type {content_type}"));
    let Ok(patch) = serde_json::from_slice::<Value>(body) else {
        return Err(refuse(400, "BadRequest", "the patch is not JSON".into()));
    };
    match content_type.as_str() {
        "application/merge-patch+json" => {
            json_patch::merge(object, &patch);
            Ok(())
        }
        "application/json-patch+json" => {
            let ops = serde_json::from_value::<json_patch::Patch>(patch)
                .map_err(|_| refuse(400, "BadRequest", "not a JSON patch".into()))?;
            json_patch::patch(object, &ops).map_err(|e| {
                refuse(
                    422,
                    "Invalid",
                    format!("the JSON patch does not apply: {e}"),
                )
            })
        }
        other => Err(refuse(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json (not {other})"
            ),
        )),
    }
}

/// A write of `updated` over `current`: a stale `resourceVersion` is a 409 Conflict; identity
/// fields stay; the version moves on.
fn write(inner: &mut Inner, key: &Key, current: &Value, mut updated: Value) -> Response {
    let (plural, _, name) = key;
    if updated.pointer("/metadata/resourceVersion") != current.pointer("/metadata/resourceVersion")
    {
        return status(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                qualified(plural)
            ),
            json!({"name": name, "group": GROUP, "kind": plural}),
        );
    }
    for field in [
        "uid",
        "creationTimestamp",
        "namespace",
        "name",
        "deletionTimestamp",
    ] {
        updated["metadata"][field] = current["metadata"][field].clone();
    }
    if updated.get("spec") != current.get("spec") {
        let generation = current
            .pointer("/metadata/generation")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        updated["metadata"]["generation"] = json!(generation + 1);
    }
    if updated["metadata"]["deletionTimestamp"].is_null()
        && let Some(map) = updated["metadata"].as_object_mut()
    {
        map.remove("deletionTimestamp");
    }
    let problems = schema::problems(plural, &updated);
    if !problems.is_empty() {
        return invalid(plural, name, problems);
    }
    updated["metadata"]["resourceVersion"] = json!(inner.bump());
    inner.objects.insert(key.clone(), updated.clone());
    axum::Json(updated).into_response()
}

pub async fn patch(
    State(inner): State<Shared>,
    Path((ns, plural, name)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = inner.lock().unwrap();
    if let Some(denied) = inner.denied("patch", &plural, GROUP, Some(&ns)) {
        return denied;
    }
    let key = (plural.clone(), ns, name.clone());
    let Some(current) = inner.objects.get(&key).cloned() else {
        return not_found(&qualified(&plural), &name);
    };
    let mut updated = current.clone();
    if let Err(response) = apply(&mut updated, &headers, &body, &mut inner.log) {
        return *response;
    }
    // The status subresource: the object's endpoint leaves the status as it was.
    match current.get("status") {
        Some(old) => updated["status"] = old.clone(),
        None => {
            if let Some(map) = updated.as_object_mut() {
                map.remove("status");
            }
        }
    }
    write(&mut inner, &key, &current, updated)
}

pub async fn patch_status(
    State(inner): State<Shared>,
    Path((ns, plural, name)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = inner.lock().unwrap();
    if let Some(denied) = inner.denied("patch", &format!("{plural}/status"), GROUP, Some(&ns)) {
        return denied;
    }
    let key = (plural.clone(), ns, name.clone());
    let Some(current) = inner.objects.get(&key).cloned() else {
        return not_found(&qualified(&plural), &name);
    };
    let mut patched = current.clone();
    if let Err(response) = apply(&mut patched, &headers, &body, &mut inner.log) {
        return *response;
    }
    // Only the status changes through the status subresource.
    let mut updated = current.clone();
    updated["status"] = patched.get("status").cloned().unwrap_or(Value::Null);
    updated["metadata"]["resourceVersion"] = patched["metadata"]["resourceVersion"].clone();
    write(&mut inner, &key, &current, updated)
}

/// Removes an object and, as the garbage collector does, everything it owned.
pub(crate) fn remove(inner: &mut Inner, key: &Key) {
    let Some(object) = inner.objects.remove(key) else {
        return;
    };
    let uid = object.pointer("/metadata/uid").cloned();
    let owned: Vec<Key> = inner
        .objects
        .iter()
        .filter(|(_, o)| {
            o.pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|refs| refs.iter().any(|r| r.get("uid") == uid.as_ref()))
        })
        .map(|(k, _)| k.clone())
        .collect();
    for key in owned {
        remove(inner, &key);
    }
}

pub async fn delete(
    State(inner): State<Shared>,
    Path((ns, plural, name)): Path<(String, String, String)>,
) -> Response {
    let mut inner = inner.lock().unwrap();
    if let Some(denied) = inner.denied("delete", &plural, GROUP, Some(&ns)) {
        return denied;
    }
    let hold = inner.hold_deletions;
    let key = (plural.clone(), ns, name.clone());
    let Some(object) = inner.objects.get(&key).cloned() else {
        return not_found(&qualified(&plural), &name);
    };
    let pending = object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if hold && pending {
        let version = inner.bump();
        let stored = inner.objects.get_mut(&key).unwrap();
        if stored.pointer("/metadata/deletionTimestamp").is_none() {
            stored["metadata"]["deletionTimestamp"] = now();
            stored["status"]["phase"] = json!("Terminating");
            stored["metadata"]["resourceVersion"] = json!(version);
        }
        return axum::Json(stored.clone()).into_response();
    }
    let uid = object["metadata"]["uid"].clone();
    remove(&mut inner, &key);
    axum::Json(json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "details": {"name": name, "group": GROUP, "kind": plural, "uid": uid},
    }))
    .into_response()
}
