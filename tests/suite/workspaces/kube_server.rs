//! An in-process Kubernetes API server for DevWorkspaces and DevWorkspaceTemplates, speaking the
//! real wire protocol: 201 on create, `Status` bodies for 409 AlreadyExists and 404 NotFound,
//! label-selected lists (per namespace and across them), merge and JSON patches (415 for others),
//! deletion that passes through Terminating while finalizers are pending, bearer-token checks.
//! Tests drive workspaces through phases, and make the server refuse credentials, deny by
//! admission webhook, fail or hang.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

pub const TOKEN: &str = "fake-cluster-token";
const GROUP: &str = "workspace.devfile.io";

/// How the server misbehaves, when asked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trouble {
    None,
    /// 403 Forbidden from RBAC on every call.
    Forbidden,
    /// 500 on every call.
    Broken,
    /// Never answers.
    Hang,
}

#[derive(Default)]
struct Inner {
    /// (plural, namespace, name) → object.
    objects: BTreeMap<(String, String, String), Value>,
    namespaces: Vec<String>,
    trouble: Option<Trouble>,
    /// Deny DevWorkspace creation as the DevWorkspace Operator's admission webhook does.
    webhook_denial: Option<String>,
    /// Keep deleted DevWorkspaces Terminating (as DWO's finalizers do) until `finish_deletions`.
    hold_deletions: bool,
    /// Every request: "METHOD path?query".
    log: Vec<String>,
    next_version: u64,
}

#[derive(Clone)]
pub struct KubeServer {
    inner: Arc<Mutex<Inner>>,
    pub addr: SocketAddr,
    _dir: Arc<tempfile::TempDir>,
    pub kubeconfig: PathBuf,
}

impl KubeServer {
    /// Serves on 127.0.0.1 with `namespaces` existing.
    pub async fn start(namespaces: &[&str]) -> KubeServer {
        let inner = Arc::new(Mutex::new(Inner {
            namespaces: namespaces.iter().map(|s| (*s).to_owned()).collect(),
            ..Inner::default()
        }));
        let base = "/apis/workspace.devfile.io/v1alpha2";
        let app = Router::new()
            .route(&format!("{base}/devworkspaces"), get(list_all))
            .route(
                &format!("{base}/namespaces/{{ns}}/{{plural}}"),
                get(list_namespaced).post(create),
            )
            .route(
                &format!("{base}/namespaces/{{ns}}/{{plural}}/{{name}}"),
                get(read).patch(patch).delete(delete),
            )
            .with_state(inner.clone())
            .layer(axum::middleware::from_fn_with_state(inner.clone(), gate));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        let dir = tempfile::TempDir::new().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        write_kubeconfig(&kubeconfig, &format!("http://{addr}"), TOKEN);
        KubeServer {
            inner,
            addr,
            _dir: Arc::new(dir),
            kubeconfig,
        }
    }

    pub fn trouble(&self, trouble: Trouble) {
        self.inner.lock().unwrap().trouble = Some(trouble);
    }

    pub fn deny_by_webhook(&self, message: &str) {
        self.inner.lock().unwrap().webhook_denial = Some(message.to_owned());
    }

    pub fn hold_deletions(&self) {
        self.inner.lock().unwrap().hold_deletions = true;
    }

    /// The finalizers are done: Terminating objects go away.
    pub fn finish_deletions(&self) {
        let mut inner = self.inner.lock().unwrap();
        inner
            .objects
            .retain(|_, o| o.pointer("/metadata/deletionTimestamp").is_none());
    }

    /// Sets a DevWorkspace's status as the DevWorkspace Operator would.
    pub fn set_status(&self, namespace: &str, name: &str, status: Value) {
        let mut inner = self.inner.lock().unwrap();
        let key = (
            "devworkspaces".to_owned(),
            namespace.to_owned(),
            name.to_owned(),
        );
        let object = inner.objects.get_mut(&key).expect("no such DevWorkspace");
        object["status"] = status;
    }

    /// One stored object.
    pub fn object(&self, plural: &str, namespace: &str, name: &str) -> Option<Value> {
        let inner = self.inner.lock().unwrap();
        let key = (plural.to_owned(), namespace.to_owned(), name.to_owned());
        inner.objects.get(&key).cloned()
    }

    /// Every stored object of a kind.
    pub fn objects(&self, plural: &str) -> Vec<Value> {
        let inner = self.inner.lock().unwrap();
        inner
            .objects
            .iter()
            .filter(|((p, _, _), _)| p == plural)
            .map(|(_, o)| o.clone())
            .collect()
    }

    /// Adds an object as another client would (e.g. someone else's workspace).
    pub fn insert(&self, plural: &str, object: Value) {
        let mut inner = self.inner.lock().unwrap();
        let ns = object["metadata"]["namespace"].as_str().unwrap().to_owned();
        let name = object["metadata"]["name"].as_str().unwrap().to_owned();
        inner.objects.insert((plural.to_owned(), ns, name), object);
    }

    /// The requests seen so far, then forgets them.
    pub fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut self.inner.lock().unwrap().log)
    }
}

pub fn write_kubeconfig(path: &std::path::Path, server: &str, token: &str) {
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {server}\n\
         contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n\
         current-context: fake\nusers:\n- name: fake\n  user:\n    token: {token}\n"
    );
    std::fs::write(path, text).unwrap();
}

type Shared = Arc<Mutex<Inner>>;

fn status(code: u16, reason: &str, message: String, details: Value) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "details": details, "code": code,
    });
    (StatusCode::from_u16(code).unwrap(), axum::Json(body)).into_response()
}

fn not_found(plural: &str, name: &str) -> Response {
    status(
        404,
        "NotFound",
        format!("{plural}.{GROUP} \"{name}\" not found"),
        json!({"name": name, "group": GROUP, "kind": plural}),
    )
}

async fn gate(
    State(inner): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (trouble, authorized) = {
        let mut inner = inner.lock().unwrap();
        let uri = request.uri();
        inner.log.push(format!(
            "{} {}{}",
            request.method(),
            uri.path(),
            uri.query().map(|q| format!("?{q}")).unwrap_or_default()
        ));
        let authorized = request
            .headers()
            .get(header::AUTHORIZATION)
            .is_some_and(|v| v.to_str().ok() == Some(&format!("Bearer {TOKEN}")));
        (inner.trouble.unwrap_or(Trouble::None), authorized)
    };
    if !authorized {
        return status(401, "Unauthorized", "Unauthorized".into(), json!({}));
    }
    match trouble {
        Trouble::None => next.run(request).await,
        Trouble::Forbidden => status(
            403,
            "Forbidden",
            "devworkspaces.workspace.devfile.io is forbidden: User \"system:serviceaccount:fawkes:portal\" cannot list resource \"devworkspaces\"".into(),
            json!({"group": GROUP, "kind": "devworkspaces"}),
        ),
        Trouble::Broken => status(500, "InternalError", "etcdserver: request timed out".into(), json!({})),
        Trouble::Hang => std::future::pending().await,
    }
}

/// `a=b,c=d` and `a` (exists) terms, as the API server reads them.
fn matches_selector(object: &Value, selector: Option<&String>) -> bool {
    let Some(selector) = selector else {
        return true;
    };
    let labels = object.pointer("/metadata/labels");
    selector.split(',').filter(|t| !t.is_empty()).all(|term| {
        let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        match term.split_once('=') {
            Some((k, v)) => label(k.trim_end_matches('=')) == Some(v),
            None => label(term).is_some(),
        }
    })
}

fn list_body(plural: &str, items: Vec<Value>) -> Response {
    let kind = if plural == "devworkspaces" {
        "DevWorkspaceList"
    } else {
        "DevWorkspaceTemplateList"
    };
    axum::Json(json!({
        "apiVersion": "workspace.devfile.io/v1alpha2", "kind": kind,
        "metadata": {"resourceVersion": "1"}, "items": items,
    }))
    .into_response()
}

async fn list_all(
    State(inner): State<Shared>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let inner = inner.lock().unwrap();
    let items = inner
        .objects
        .iter()
        .filter(|((p, _, _), o)| {
            p == "devworkspaces" && matches_selector(o, query.get("labelSelector"))
        })
        .map(|(_, o)| o.clone())
        .collect();
    list_body("devworkspaces", items)
}

async fn list_namespaced(
    State(inner): State<Shared>,
    Path((ns, plural)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let inner = inner.lock().unwrap();
    let items = inner
        .objects
        .iter()
        .filter(|((p, n, _), o)| {
            *p == plural && *n == ns && matches_selector(o, query.get("labelSelector"))
        })
        .map(|(_, o)| o.clone())
        .collect();
    list_body(&plural, items)
}

async fn create(
    State(inner): State<Shared>,
    Path((ns, plural)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let mut inner = inner.lock().unwrap();
    let Ok(mut object) = serde_json::from_slice::<Value>(&body) else {
        return status(400, "BadRequest", "the body is not JSON".into(), json!({}));
    };
    if !inner.namespaces.contains(&ns) {
        return status(
            404,
            "NotFound",
            format!("namespaces \"{ns}\" not found"),
            json!({"name": ns, "kind": "namespaces"}),
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
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let key = (plural.clone(), ns.clone(), name.clone());
    if inner.objects.contains_key(&key) {
        return status(
            409,
            "AlreadyExists",
            format!("{plural}.{GROUP} \"{name}\" already exists"),
            json!({"name": name, "group": GROUP, "kind": plural}),
        );
    }
    inner.next_version += 1;
    let metadata = &mut object["metadata"];
    metadata["namespace"] = json!(ns);
    metadata["uid"] = json!(uuid::Uuid::new_v4().to_string());
    metadata["creationTimestamp"] =
        json!(humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string());
    metadata["resourceVersion"] = json!(inner.next_version.to_string());
    metadata["generation"] = json!(1);
    if plural == "devworkspaces" {
        // The DevWorkspace Operator's finalizers.
        metadata["finalizers"] = json!(["storage.controller.devfile.io"]);
    }
    inner.objects.insert(key, object.clone());
    (StatusCode::CREATED, axum::Json(object)).into_response()
}

async fn read(
    State(inner): State<Shared>,
    Path((ns, plural, name)): Path<(String, String, String)>,
) -> Response {
    let inner = inner.lock().unwrap();
    match inner.objects.get(&(plural.clone(), ns, name.clone())) {
        Some(object) => axum::Json(object.clone()).into_response(),
        None => not_found(&plural, &name),
    }
}

async fn patch(
    State(inner): State<Shared>,
    Path((ns, plural, name)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = inner.lock().unwrap();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    inner.log.push(format!("content-type {content_type}"));
    let Some(object) = inner.objects.get_mut(&(plural.clone(), ns, name.clone())) else {
        return not_found(&plural, &name);
    };
    let Ok(patch) = serde_json::from_slice::<Value>(&body) else {
        return status(400, "BadRequest", "the patch is not JSON".into(), json!({}));
    };
    match content_type.as_str() {
        "application/merge-patch+json" => json_patch::merge(object, &patch),
        "application/json-patch+json" => {
            let Ok(ops) = serde_json::from_value::<json_patch::Patch>(patch) else {
                return status(400, "BadRequest", "not a JSON patch".into(), json!({}));
            };
            if let Err(e) = json_patch::patch(object, &ops) {
                return status(
                    422,
                    "Invalid",
                    format!("the JSON patch does not apply: {e}"),
                    json!({}),
                );
            }
        }
        other => {
            return status(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json (not {other})"
                ),
                json!({}),
            );
        }
    }
    axum::Json(object.clone()).into_response()
}

async fn delete(
    State(inner): State<Shared>,
    method: Method,
    Path((ns, plural, name)): Path<(String, String, String)>,
) -> Response {
    assert_eq!(method, Method::DELETE);
    let mut inner = inner.lock().unwrap();
    let hold = inner.hold_deletions;
    let key = (plural.clone(), ns, name.clone());
    let Some(object) = inner.objects.get_mut(&key) else {
        return not_found(&plural, &name);
    };
    if hold
        && object
            .pointer("/metadata/finalizers")
            .is_some_and(|f| f.as_array().is_some_and(|a| !a.is_empty()))
    {
        object["metadata"]["deletionTimestamp"] =
            json!(humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string());
        object["status"]["phase"] = json!("Terminating");
        return axum::Json(object.clone()).into_response();
    }
    let uid = object["metadata"]["uid"].clone();
    inner.objects.remove(&key);
    axum::Json(json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "details": {"name": name, "group": GROUP, "kind": plural, "uid": uid},
    }))
    .into_response()
}
