//! An in-process Kubernetes API server for what the portal touches, speaking the real wire
//! protocol and checking what a real server checks:
//!
//! - DevWorkspaces and DevWorkspaceTemplates ([`objects`]): 201 on create, `Status` bodies (409
//!   AlreadyExists, 404 NotFound, 409 Conflict, 422 Invalid with causes, 403 Forbidden naming the
//!   verb and resource), label-selected lists per namespace and across them, merge and JSON
//!   patches (415 for others); `resourceVersion` bumped on every write and a write carrying a stale
//!   one refused; the `status` subresource (status only through it, never through the object);
//!   every object checked against the real CRD schema ([`schema`]); deletion through Terminating
//!   while finalizers are pending; owned objects garbage-collected once their owner is gone; and
//!   OwnerReferencesPermissionEnforcement (`blockOwnerDeletion` needs `update` on the owner's
//!   `finalizers`, which the portal's identity is not given).
//! - Namespaces and CheClusters ([`namespaces`]).
//!
//! The portal never watches, so there is no watch. Tests drive workspaces through phases, and make
//! the server refuse credentials or actions, deny by admission webhook, fail or hang.

#[path = "kube_server/namespaces.rs"]
mod namespaces;
#[path = "kube_server/objects.rs"]
mod objects;
#[path = "kube_server/schema.rs"]
pub mod schema;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

pub const TOKEN: &str = "fake-cluster-token";
pub const GROUP: &str = "workspace.devfile.io";
/// Who the portal is to this server (in RBAC messages).
const USER: &str = "system:serviceaccount:fawkes:fawkes-portal";

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
pub(crate) struct Inner {
    /// (plural, namespace, name) → object.
    objects: BTreeMap<(String, String, String), Value>,
    namespaces: BTreeMap<String, Value>,
    checlusters: Vec<Value>,
    trouble: Option<Trouble>,
    /// Deny DevWorkspace creation as the DevWorkspace Operator's admission webhook does.
    webhook_denial: Option<String>,
    /// Keep deleted DevWorkspaces Terminating (as DWO's finalizers do) until `finish_deletions`.
    hold_deletions: bool,
    /// `(verb, resource)` pairs RBAC refuses, e.g. `("list", "namespaces")`.
    forbidden: Vec<(String, String)>,
    /// Every request: "METHOD path?query", and the content type of patches.
    log: Vec<String>,
    version: u64,
}

impl Inner {
    /// The next `resourceVersion`, as the store hands them out: one counter for every write.
    fn bump(&mut self) -> String {
        self.version += 1;
        self.version.to_string()
    }

    /// RBAC: `None` if allowed, else the message of the 403 the server sends.
    fn refusal(
        &self,
        verb: &str,
        resource: &str,
        group: &str,
        namespace: Option<&str>,
    ) -> Option<String> {
        let finalizers = resource.ends_with("/finalizers");
        let refused = finalizers
            || self
                .forbidden
                .iter()
                .any(|(v, r)| v == verb && r == resource);
        if !refused {
            return None;
        }
        let scope = match namespace {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".into(),
        };
        let qualified = if group.is_empty() {
            resource.to_owned()
        } else {
            format!("{resource}.{group}")
        };
        Some(format!(
            "{qualified} is forbidden: User \"{USER}\" cannot {verb} resource \"{resource}\" in API group \"{group}\" {scope}"
        ))
    }

    /// RBAC: `None` if allowed, else the 403 the server sends.
    fn denied(
        &self,
        verb: &str,
        resource: &str,
        group: &str,
        namespace: Option<&str>,
    ) -> Option<Response> {
        let message = self.refusal(verb, resource, group, namespace)?;
        Some(status(
            403,
            "Forbidden",
            message,
            json!({"group": group, "kind": resource}),
        ))
    }
}

pub(crate) type Shared = Arc<Mutex<Inner>>;

#[derive(Clone)]
pub struct KubeServer {
    inner: Shared,
    pub addr: SocketAddr,
    _dir: Arc<tempfile::TempDir>,
    pub kubeconfig: PathBuf,
}

impl KubeServer {
    /// Serves on 127.0.0.1 with `namespaces` existing (plain, as an administrator makes them).
    pub async fn start(namespaces: &[&str]) -> KubeServer {
        // Reading and compiling the CRDs' schemas takes a while: not inside a request.
        tokio::task::spawn_blocking(schema::load).await.unwrap();
        let inner: Shared = Arc::new(Mutex::new(Inner::default()));
        for ns in namespaces {
            namespaces::add(
                &mut inner.lock().unwrap(),
                json!({"metadata": {"name": ns}}),
            );
        }
        let base = "/apis/workspace.devfile.io/v1alpha2";
        let app = Router::new()
            .route(&format!("{base}/devworkspaces"), get(objects::list_all))
            .route(
                &format!("{base}/namespaces/{{ns}}/{{plural}}"),
                get(objects::list_namespaced).post(objects::create),
            )
            .route(
                &format!("{base}/namespaces/{{ns}}/{{plural}}/{{name}}"),
                get(objects::read)
                    .patch(objects::patch)
                    .delete(objects::delete),
            )
            .route(
                &format!("{base}/namespaces/{{ns}}/{{plural}}/{{name}}/status"),
                get(objects::read).patch(objects::patch_status),
            )
            .route(
                "/api/v1/namespaces",
                get(namespaces::list).post(namespaces::create),
            )
            .route(
                "/api/v1/namespaces/{name}",
                get(namespaces::read).patch(namespaces::patch),
            )
            .route(
                "/apis/org.eclipse.che/v2/namespaces/{ns}/checlusters",
                get(namespaces::checlusters),
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

    /// RBAC refuses `verb` on `resource` (a plural, e.g. `namespaces`) from now on.
    pub fn forbid(&self, verb: &str, resource: &str) {
        self.inner
            .lock()
            .unwrap()
            .forbidden
            .push((verb.into(), resource.into()));
    }

    pub fn hold_deletions(&self) {
        self.inner.lock().unwrap().hold_deletions = true;
    }

    /// The finalizers are done: Terminating objects go, and what they owned after them.
    pub fn finish_deletions(&self) {
        let mut inner = self.inner.lock().unwrap();
        let terminating: Vec<_> = inner
            .objects
            .iter()
            .filter(|(_, o)| o.pointer("/metadata/deletionTimestamp").is_some())
            .map(|(k, _)| k.clone())
            .collect();
        for key in terminating {
            objects::remove(&mut inner, &key);
        }
    }

    /// Sets a DevWorkspace's status as the DevWorkspace Operator does: through the status
    /// subresource (a write: a new resourceVersion), with the workspace id the operator derives
    /// from the uid (`workspace` and the uid's first three groups) unless `status` names one.
    pub fn set_status(&self, namespace: &str, name: &str, mut status: Value) {
        let mut inner = self.inner.lock().unwrap();
        let version = inner.bump();
        let key = (
            "devworkspaces".to_owned(),
            namespace.to_owned(),
            name.to_owned(),
        );
        let object = inner.objects.get_mut(&key).expect("no such DevWorkspace");
        if status.get("devworkspaceId").is_none() {
            let uid = object["metadata"]["uid"].as_str().unwrap_or_default();
            let id: String = uid.split('-').take(3).collect();
            status["devworkspaceId"] = json!(format!("workspace{id}"));
        }
        object["status"] = status;
        object["metadata"]["resourceVersion"] = json!(version);
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
    pub fn insert(&self, plural: &str, mut object: Value) {
        let mut inner = self.inner.lock().unwrap();
        let ns = object["metadata"]["namespace"].as_str().unwrap().to_owned();
        let name = object["metadata"]["name"].as_str().unwrap().to_owned();
        let version = inner.bump();
        let metadata = &mut object["metadata"];
        metadata["resourceVersion"] = json!(version);
        if metadata.get("uid").is_none() {
            metadata["uid"] = json!(uuid::Uuid::new_v4().to_string());
        }
        inner.objects.insert((plural.to_owned(), ns, name), object);
    }

    /// A namespace object, if it exists.
    pub fn namespace(&self, name: &str) -> Option<Value> {
        self.inner.lock().unwrap().namespaces.get(name).cloned()
    }

    /// Adds a namespace as an administrator (or Che) would.
    pub fn add_namespace(&self, namespace: Value) {
        namespaces::add(&mut self.inner.lock().unwrap(), namespace);
    }

    /// Installs a CheCluster (in its `metadata.namespace`).
    pub fn add_checluster(&self, checluster: Value) {
        self.inner.lock().unwrap().checlusters.push(checluster);
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

pub(crate) fn status(code: u16, reason: &str, message: String, details: Value) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "details": details, "code": code,
    });
    (StatusCode::from_u16(code).unwrap(), axum::Json(body)).into_response()
}

pub(crate) fn not_found(resource: &str, name: &str) -> Response {
    status(
        404,
        "NotFound",
        format!("{resource} \"{name}\" not found"),
        json!({"name": name, "kind": resource}),
    )
}

pub(crate) fn now() -> Value {
    json!(humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string())
}

async fn gate(
    axum::extract::State(inner): axum::extract::State<Shared>,
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
            format!(
                "devworkspaces.workspace.devfile.io is forbidden: User \"{USER}\" cannot list resource \"devworkspaces\" in API group \"workspace.devfile.io\" at the cluster scope"
            ),
            json!({"group": GROUP, "kind": "devworkspaces"}),
        ),
        Trouble::Broken => status(
            500,
            "InternalError",
            "etcdserver: request timed out".into(),
            json!({}),
        ),
        Trouble::Hang => std::future::pending().await,
    }
}

/// `a=b,c=d` and `a` (exists) terms, as the API server reads them.
pub(crate) fn matches_selector(object: &Value, selector: Option<&String>) -> bool {
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
