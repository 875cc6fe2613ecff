//! Namespaces (`/api/v1/namespaces`: list by label, read, create, merge patch) and CheClusters
//! (`org.eclipse.che/v2`, listed per namespace).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Inner, Shared, matches_selector, not_found, now, status};

/// Stores `namespace` as the server would have made it.
pub(crate) fn add(inner: &mut Inner, mut namespace: Value) {
    let name = namespace["metadata"]["name"].as_str().unwrap().to_owned();
    let version = inner.bump();
    namespace["apiVersion"] = json!("v1");
    namespace["kind"] = json!("Namespace");
    let metadata = &mut namespace["metadata"];
    metadata["uid"] = json!(uuid::Uuid::new_v4().to_string());
    metadata["creationTimestamp"] = now();
    metadata["resourceVersion"] = json!(version);
    metadata["labels"]["kubernetes.io/metadata.name"] = json!(name);
    namespace["status"] = json!({"phase": "Active"});
    inner.namespaces.insert(name, namespace);
}

pub async fn list(
    State(inner): State<Shared>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let inner = inner.lock().unwrap();
    if let Some(denied) = inner.denied("list", "namespaces", "", None) {
        return denied;
    }
    let items: Vec<Value> = inner
        .namespaces
        .values()
        .filter(|n| matches_selector(n, query.get("labelSelector")))
        .cloned()
        .collect();
    axum::Json(json!({"apiVersion": "v1", "kind": "NamespaceList",
                      "metadata": {"resourceVersion": inner.version.to_string()}, "items": items}))
    .into_response()
}

pub async fn read(State(inner): State<Shared>, Path(name): Path<String>) -> Response {
    let inner = inner.lock().unwrap();
    if let Some(denied) = inner.denied("get", "namespaces", "", None) {
        return denied;
    }
    match inner.namespaces.get(&name) {
        Some(namespace) => axum::Json(namespace.clone()).into_response(),
        None => not_found("namespaces", &name),
    }
}

pub async fn create(State(inner): State<Shared>, body: Bytes) -> Response {
    let mut inner = inner.lock().unwrap();
    if let Some(denied) = inner.denied("create", "namespaces", "", None) {
        return denied;
    }
    let Ok(namespace) = serde_json::from_slice::<Value>(&body) else {
        return status(400, "BadRequest", "the body is not JSON".into(), json!({}));
    };
    let name = namespace
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if inner.namespaces.contains_key(&name) {
        return status(
            409,
            "AlreadyExists",
            format!("namespaces \"{name}\" already exists"),
            json!({"name": name, "kind": "namespaces"}),
        );
    }
    add(&mut inner, namespace);
    (
        StatusCode::CREATED,
        axum::Json(inner.namespaces[&name].clone()),
    )
        .into_response()
}

pub async fn patch(
    State(inner): State<Shared>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = inner.lock().unwrap();
    if let Some(denied) = inner.denied("patch", "namespaces", "", None) {
        return denied;
    }
    let Some(mut namespace) = inner.namespaces.get(&name).cloned() else {
        return not_found("namespaces", &name);
    };
    let mut log = std::mem::take(&mut inner.log);
    let applied = super::objects::apply(&mut namespace, &headers, &body, &mut log);
    inner.log = log;
    if let Err(response) = applied {
        return *response;
    }
    namespace["metadata"]["resourceVersion"] = json!(inner.bump());
    inner.namespaces.insert(name, namespace.clone());
    axum::Json(namespace).into_response()
}

pub async fn checlusters(State(inner): State<Shared>, Path(ns): Path<String>) -> Response {
    let inner = inner.lock().unwrap();
    if let Some(denied) = inner.denied("list", "checlusters", "org.eclipse.che", Some(&ns)) {
        return denied;
    }
    let items: Vec<Value> = inner
        .checlusters
        .iter()
        .filter(|c| c.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns.as_str()))
        .cloned()
        .collect();
    axum::Json(
        json!({"apiVersion": "org.eclipse.che/v2", "kind": "CheClusterList",
                      "metadata": {"resourceVersion": inner.version.to_string()}, "items": items}),
    )
    .into_response()
}
