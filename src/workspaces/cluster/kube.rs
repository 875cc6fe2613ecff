//! The Kubernetes driver: workspaces are `workspace.devfile.io/v1alpha2` DevWorkspaces, run by the
//! DevWorkspace Operator, created as Che's dashboard creates them: the DevWorkspace stopped, then
//! its che-code DevWorkspaceTemplate owned by it, then started with Che's patch. Our labels carry
//! the workspace id and a hash of the owner, so every lookup is one label-selected list across
//! namespaces. Namespaces and the CheCluster: [`namespaces`].
//!
//! A cluster that cannot be reached (or does not answer within `workspaces.cluster.timeout`) is
//! [`ClusterError::Unavailable`]; 401 is [`ClusterError::CredentialsRefused`]; an RBAC 403 is
//! [`ClusterError::Forbidden`] with the verb and resource the server named; an admission webhook's
//! or schema's refusal is [`ClusterError::Rejected`] with the cluster's message.

mod connect;
mod namespaces;

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams,
};
use serde_json::Value;

use super::devworkspace::{self as dw, GROUP, VERSION};
use super::{Cluster, ClusterError};
use crate::config::WorkspacesConfig;
use crate::workspaces::model::{NewWorkspace, Owner, Workspace, WorkspaceId};

const DEVWORKSPACES: &str = "devworkspaces.workspace.devfile.io";
const TEMPLATES: &str = "devworkspacetemplates.workspace.devfile.io";

/// Workspaces as DevWorkspaces on a Kubernetes cluster with the DevWorkspace Operator, as Che's dashboard makes them.
pub struct KubeCluster {
    client: kube::Client,
    workspaces: ApiResource,
    templates: ApiResource,
    config: Arc<WorkspacesConfig>,
}

impl KubeCluster {
    /// The driver over `client` (tests give one pointed at an in-process API server).
    pub fn new(client: kube::Client, config: Arc<WorkspacesConfig>) -> KubeCluster {
        let resource = |kind: &str, plural: &str| {
            ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(GROUP, VERSION, kind), plural)
        };
        KubeCluster {
            client,
            workspaces: resource("DevWorkspace", "devworkspaces"),
            templates: resource("DevWorkspaceTemplate", "devworkspacetemplates"),
            config,
        }
    }

    fn in_namespace(&self, resource: &ApiResource, namespace: &str) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), namespace, resource)
    }

    /// Runs one API call (`verb` on `resource`, in `namespace` or cluster-wide) under the
    /// configured timeout.
    async fn call<T>(
        &self,
        verb: &str,
        resource: &str,
        namespace: Option<&str>,
        call: impl Future<Output = kube::Result<T>>,
    ) -> Result<T, ClusterError> {
        let timeout = self.config.cluster_timeout;
        match tokio::time::timeout(timeout, call).await {
            Ok(result) => result.map_err(|e| classify(e, verb, resource, namespace)),
            Err(_) => Err(ClusterError::Unavailable(format!(
                "{verb} {resource}: no answer within {}",
                humantime::format_duration(timeout)
            ))),
        }
    }

    async fn list_selected(&self, selector: &str) -> Result<Vec<Workspace>, ClusterError> {
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &self.workspaces);
        let params = ListParams::default().labels(selector);
        let list = self
            .call("list", DEVWORKSPACES, None, api.list(&params))
            .await?;
        let mut workspaces: Vec<Workspace> = list
            .items
            .iter()
            .filter_map(|item| dw::workspace(&to_value(item)))
            .collect();
        workspaces.sort_by(|a, b| (&a.created_at, &a.name).cmp(&(&b.created_at, &b.name)));
        Ok(workspaces)
    }

    /// The workspace's DevWorkspace as it is now; a deleted one is [`ClusterError::Terminating`].
    async fn current(&self, workspace: &Workspace) -> Result<Value, ClusterError> {
        let ns = workspace.namespace.as_str();
        let api = self.in_namespace(&self.workspaces, ns);
        let object = self
            .call("get", DEVWORKSPACES, Some(ns), api.get(&workspace.name))
            .await?;
        let object = to_value(&object);
        if object
            .pointer("/metadata/deletionTimestamp")
            .is_some_and(|v| !v.is_null())
        {
            return Err(ClusterError::Terminating(workspace.name.clone()));
        }
        Ok(object)
    }

    async fn json_patch(&self, workspace: &Workspace, patch: Value) -> Result<(), ClusterError> {
        let patch: json_patch::Patch =
            serde_json::from_value(patch).map_err(|e| ClusterError::Other(e.into()))?;
        let ns = workspace.namespace.as_str();
        let api = self.in_namespace(&self.workspaces, ns);
        self.call(
            "patch",
            DEVWORKSPACES,
            Some(ns),
            api.patch(
                &workspace.name,
                &PatchParams::default(),
                &Patch::Json::<()>(patch),
            ),
        )
        .await?;
        Ok(())
    }
}

pub(super) fn to_value<T: serde::Serialize>(object: &T) -> Value {
    serde_json::to_value(object).unwrap_or(Value::Null)
}

fn from_value(value: Value) -> Result<DynamicObject, ClusterError> {
    serde_json::from_value(value).map_err(|e| ClusterError::Other(e.into()))
}

/// The verb and resource an RBAC refusal names: `... cannot <verb> resource "<resource>" in API
/// group "<group>" ...` (the API server's wording; also in OwnerReferencesPermissionEnforcement's).
fn forbidden_action(message: &str) -> Option<(String, String)> {
    message.match_indices("cannot ").find_map(|(at, _)| {
        let rest = &message[at + "cannot ".len()..];
        let (verb, rest) = rest.split_once(' ')?;
        let rest = rest.strip_prefix("resource \"")?;
        let (resource, rest) = rest.split_once('"')?;
        let group = rest
            .strip_prefix(" in API group \"")
            .and_then(|g| g.split_once('"'))
            .map(|(g, _)| g)
            .filter(|g| !g.is_empty());
        Some(match group {
            Some(group) => (verb.to_owned(), format!("{resource}.{group}")),
            None => (verb.to_owned(), resource.to_owned()),
        })
    })
}

/// Sorts a client error into what the caller can tell the user.
fn classify(err: kube::Error, verb: &str, resource: &str, namespace: Option<&str>) -> ClusterError {
    match err {
        kube::Error::Api(status) => {
            let message = status.message.clone();
            match (status.code, status.reason.as_str()) {
                (409, "AlreadyExists") => ClusterError::NameTaken(
                    status
                        .details
                        .as_ref()
                        .map(|d| d.name.clone())
                        .unwrap_or_default(),
                ),
                (404, _) if message.starts_with("namespaces ") => {
                    ClusterError::NamespaceMissing(namespace.unwrap_or_default().to_owned())
                }
                (404, _) => ClusterError::NotFound,
                (403, _) if message.contains("admission webhook") => {
                    ClusterError::Rejected(message)
                }
                (403, _) => {
                    let (verb, resource) = forbidden_action(&message)
                        .unwrap_or_else(|| (verb.to_owned(), resource.to_owned()));
                    tracing::error!(%verb, %resource, ?namespace, %message, "Kubernetes API forbids the portal's identity");
                    ClusterError::Forbidden {
                        verb,
                        resource,
                        namespace: namespace.map(str::to_owned),
                    }
                }
                (401, _) => {
                    ClusterError::CredentialsRefused(format!("{verb} {resource}: {message}"))
                }
                (409, _) => {
                    ClusterError::Other(anyhow::anyhow!("{verb} {resource}: conflict: {message}"))
                }
                (400 | 422, _) => ClusterError::Rejected(message),
                (code, reason) if code >= 500 || code == 429 => ClusterError::Unavailable(format!(
                    "{verb} {resource}: {code} {reason}: {message}"
                )),
                (code, reason) => ClusterError::Other(anyhow::anyhow!(
                    "{verb} {resource}: unexpected answer {code} {reason}: {message}"
                )),
            }
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            ClusterError::Unavailable(format!("{verb} {resource}: {err}"))
        }
        other => ClusterError::Other(anyhow::anyhow!("{verb} {resource}: {other}")),
    }
}

/// Whether `err` is a stale-resourceVersion conflict (a write's precondition failed).
fn is_conflict(err: &ClusterError) -> bool {
    matches!(err, ClusterError::Other(e) if e.to_string().contains(": conflict: "))
}

#[async_trait]
impl Cluster for KubeCluster {
    fn driver(&self) -> &'static str {
        "kubernetes"
    }

    async fn create(&self, new: &NewWorkspace) -> Result<Workspace, ClusterError> {
        let ns = new.namespace.as_str();
        let workspaces = self.in_namespace(&self.workspaces, ns);
        let body = from_value(new.resources.devworkspace.clone())?;
        let created = self
            .call(
                "create",
                DEVWORKSPACES,
                Some(ns),
                workspaces.create(&PostParams::default(), &body),
            )
            .await
            .map_err(|e| match e {
                ClusterError::NameTaken(_) => ClusterError::NameTaken(new.name.clone()),
                other => other,
            })?;
        let created = to_value(&created);
        let uid = created
            .pointer("/metadata/uid")
            .cloned()
            .unwrap_or_default();
        let mut editor = new.resources.editor.clone();
        if let Some(owner) = editor.pointer_mut("/metadata/ownerReferences/0") {
            owner["uid"] = uid;
        }
        let templates = self.in_namespace(&self.templates, ns);
        match self
            .call(
                "create",
                TEMPLATES,
                Some(ns),
                templates.create(&PostParams::default(), &from_value(editor)?),
            )
            .await
        {
            Ok(_) => {}
            Err(err) => {
                // Leave nothing half-made behind.
                let _ = self
                    .call(
                        "delete",
                        DEVWORKSPACES,
                        Some(ns),
                        workspaces.delete(&new.name, &DeleteParams::background()),
                    )
                    .await;
                return Err(err);
            }
        }
        let patch = dw::start_patch(&created, &new.now, &self.config.che_namespace);
        let patch: json_patch::Patch =
            serde_json::from_value(patch).map_err(|e| ClusterError::Other(e.into()))?;
        let started = self
            .call(
                "patch",
                DEVWORKSPACES,
                Some(ns),
                workspaces.patch(
                    &new.name,
                    &PatchParams::default(),
                    &Patch::Json::<()>(patch),
                ),
            )
            .await?;
        dw::workspace(&to_value(&started)).ok_or_else(|| {
            ClusterError::Other(anyhow::anyhow!("the created DevWorkspace lacks our labels"))
        })
    }

    async fn list(&self, owner: &Owner) -> Result<Vec<Workspace>, ClusterError> {
        self.list_selected(&dw::selector(owner, None)).await
    }

    async fn find(
        &self,
        owner: &Owner,
        id: &WorkspaceId,
    ) -> Result<Option<Workspace>, ClusterError> {
        let found = self.list_selected(&dw::selector(owner, Some(id))).await?;
        // The selector names a hash of the owner; the annotation must name the owner itself.
        Ok(found.into_iter().find(|w| &w.owner == owner))
    }

    async fn set_started(
        &self,
        workspace: &Workspace,
        started: bool,
        now: &str,
    ) -> Result<(), ClusterError> {
        if !started {
            return self.json_patch(workspace, dw::stop_patch()).await;
        }
        // Conditional on the version read: a deletion between the read and the patch is a
        // conflict, and the second read then finds the workspace Terminating.
        for attempt in 0..2 {
            let current = self.current(workspace).await?;
            let patch = dw::start_patch(&current, now, &self.config.che_namespace);
            match self.json_patch(workspace, patch).await {
                Err(e) if attempt == 0 && is_conflict(&e) => continue,
                other => return other,
            }
        }
        Err(ClusterError::Terminating(workspace.name.clone()))
    }

    async fn delete(&self, workspace: &Workspace) -> Result<(), ClusterError> {
        let ns = workspace.namespace.as_str();
        let api = self.in_namespace(&self.workspaces, ns);
        self.call(
            "delete",
            DEVWORKSPACES,
            Some(ns),
            api.delete(&workspace.name, &DeleteParams::background()),
        )
        .await?;
        Ok(())
    }

    async fn template(&self, namespace: &str, name: &str) -> Result<Option<Value>, ClusterError> {
        let api = self.in_namespace(&self.templates, namespace);
        let found = self
            .call("get", TEMPLATES, Some(namespace), api.get_opt(name))
            .await?;
        Ok(found.map(|t| to_value(&t)))
    }

    async fn che_cluster(&self, namespace: &str) -> Result<Option<Value>, ClusterError> {
        self.read_che_cluster(namespace).await
    }

    async fn labelled_namespace(&self, username: &str) -> Result<Option<String>, ClusterError> {
        self.find_labelled_namespace(username).await
    }

    async fn prepare_namespace(
        &self,
        namespace: &str,
        username: &str,
        provision: bool,
    ) -> Result<(), ClusterError> {
        self.prepare(namespace, username, provision).await
    }
}
