//! The Kubernetes driver: workspaces are `workspace.devfile.io/v1alpha2` DevWorkspaces, run by the
//! DevWorkspace Operator, created as Che creates them: the DevWorkspace stopped, then its che-code
//! DevWorkspaceTemplate owned by it, then `spec.started = true`. Our labels carry the workspace id
//! and a hash of the owner, so every lookup is one label-selected list across namespaces.
//!
//! A cluster that cannot be reached (or does not answer within `workspaces.cluster.timeout`) is
//! [`ClusterError::Unavailable`]; 401/403 on our own credentials is
//! [`ClusterError::CredentialsRefused`]; an admission webhook's or schema's refusal is
//! [`ClusterError::Rejected`] with the cluster's message.

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams,
};
use serde_json::{Value, json};

use super::devworkspace::{self as dw, GROUP, VERSION};
use super::{Cluster, ClusterError};
use crate::config::WorkspacesConfig;
use crate::config::workspaces::ClusterMode;
use crate::workspaces::model::{NewWorkspace, Owner, Workspace, WorkspaceId};

/// Workspaces as DevWorkspaces on a Kubernetes cluster with the DevWorkspace Operator, as Che's dashboard makes them.
pub struct KubeCluster {
    client: kube::Client,
    workspaces: ApiResource,
    templates: ApiResource,
    config: Arc<WorkspacesConfig>,
}

impl KubeCluster {
    /// A client for the configured cluster (in-cluster service account or kubeconfig).
    pub async fn connect(config: Arc<WorkspacesConfig>) -> anyhow::Result<KubeCluster> {
        crate::fetch::install_crypto_provider();
        let mut kube_config = match &config.cluster {
            ClusterMode::InCluster => kube::Config::incluster()
                .map_err(|e| anyhow::anyhow!("workspaces.cluster.mode is in-cluster, but: {e}"))?,
            ClusterMode::Kubeconfig { path, context } => {
                let options = kube::config::KubeConfigOptions {
                    context: context.clone(),
                    cluster: None,
                    user: None,
                };
                let read = match path {
                    Some(path) => {
                        let file = kube::config::Kubeconfig::read_from(path).map_err(|e| {
                            anyhow::anyhow!("cannot read kubeconfig {}: {e}", path.display())
                        })?;
                        kube::Config::from_custom_kubeconfig(file, &options).await
                    }
                    None => kube::Config::from_kubeconfig(&options).await,
                };
                read.map_err(|e| anyhow::anyhow!("cannot use the kubeconfig: {e}"))?
            }
            ClusterMode::None => anyhow::bail!("no cluster is configured"),
        };
        let timeout = Some(config.cluster_timeout);
        kube_config.connect_timeout = timeout;
        kube_config.read_timeout = timeout;
        kube_config.write_timeout = timeout;
        let client = kube::Client::try_from(kube_config)
            .map_err(|e| anyhow::anyhow!("cannot build the Kubernetes client: {e}"))?;
        Ok(Self::new(client, config))
    }

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

    /// Runs one API call under the configured timeout.
    async fn call<T>(
        &self,
        what: &str,
        namespace: &str,
        call: impl Future<Output = kube::Result<T>>,
    ) -> Result<T, ClusterError> {
        let timeout = self.config.cluster_timeout;
        match tokio::time::timeout(timeout, call).await {
            Ok(result) => result.map_err(|e| classify(e, what, namespace)),
            Err(_) => Err(ClusterError::Unavailable(format!(
                "{what}: no answer within {}",
                humantime::format_duration(timeout)
            ))),
        }
    }

    async fn list_selected(&self, selector: &str) -> Result<Vec<Workspace>, ClusterError> {
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &self.workspaces);
        let params = ListParams::default().labels(selector);
        let list = self
            .call("list DevWorkspaces", "", api.list(&params))
            .await?;
        let mut workspaces: Vec<Workspace> = list
            .items
            .iter()
            .filter_map(|item| dw::workspace(&to_value(item)))
            .collect();
        workspaces.sort_by(|a, b| (&a.created_at, &a.name).cmp(&(&b.created_at, &b.name)));
        Ok(workspaces)
    }
}

fn to_value(object: &DynamicObject) -> Value {
    serde_json::to_value(object).unwrap_or(Value::Null)
}

fn from_value(value: Value) -> Result<DynamicObject, ClusterError> {
    serde_json::from_value(value).map_err(|e| ClusterError::Other(e.into()))
}

/// Sorts a client error into what the caller can tell the user.
fn classify(err: kube::Error, what: &str, namespace: &str) -> ClusterError {
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
                    ClusterError::NamespaceMissing(namespace.to_owned())
                }
                (404, _) => ClusterError::NotFound,
                (403, _) if message.contains("admission webhook") => {
                    ClusterError::Rejected(message)
                }
                (401 | 403, _) => ClusterError::CredentialsRefused(format!("{what}: {message}")),
                (400 | 422, _) => ClusterError::Rejected(message),
                (code, reason) if code >= 500 || code == 429 => {
                    ClusterError::Unavailable(format!("{what}: {code} {reason}: {message}"))
                }
                (code, reason) => ClusterError::Other(anyhow::anyhow!(
                    "{what}: unexpected answer {code} {reason}: {message}"
                )),
            }
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            ClusterError::Unavailable(format!("{what}: {err}"))
        }
        other => ClusterError::Other(anyhow::anyhow!("{what}: {other}")),
    }
}

#[async_trait]
impl Cluster for KubeCluster {
    fn driver(&self) -> &'static str {
        "kubernetes"
    }

    async fn create(&self, new: &NewWorkspace) -> Result<Workspace, ClusterError> {
        let ns = &new.namespace;
        let workspaces = self.in_namespace(&self.workspaces, ns);
        let body = from_value(dw::devworkspace(new, &self.config))?;
        let created = self
            .call(
                "create DevWorkspace",
                ns,
                workspaces.create(&PostParams::default(), &body),
            )
            .await
            .map_err(|e| match e {
                ClusterError::NameTaken(_) => ClusterError::NameTaken(new.name.clone()),
                other => other,
            })?;
        let uid = created.metadata.uid.clone().unwrap_or_default();
        let template = from_value(dw::editor_template(new, &uid, &self.config))?;
        let templates = self.in_namespace(&self.templates, ns);
        match self
            .call(
                "create DevWorkspaceTemplate",
                ns,
                templates.create(&PostParams::default(), &template),
            )
            .await
        {
            Ok(_) | Err(ClusterError::NameTaken(_)) => {}
            Err(err) => {
                // Leave nothing half-made behind.
                let _ = self
                    .call(
                        "delete DevWorkspace",
                        ns,
                        workspaces.delete(&new.name, &DeleteParams::background()),
                    )
                    .await;
                return Err(err);
            }
        }
        let start = Patch::Merge(json!({"spec": {"started": true}}));
        let started = self
            .call(
                "start DevWorkspace",
                ns,
                workspaces.patch(&new.name, &PatchParams::default(), &start),
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
        let patch = if started {
            dw::start_patch(now)
        } else {
            dw::stop_patch()
        };
        let patch: json_patch::Patch =
            serde_json::from_value(patch).map_err(|e| ClusterError::Other(e.into()))?;
        let api = self.in_namespace(&self.workspaces, &workspace.namespace);
        self.call(
            if started {
                "start DevWorkspace"
            } else {
                "stop DevWorkspace"
            },
            &workspace.namespace,
            api.patch(
                &workspace.name,
                &PatchParams::default(),
                &Patch::Json::<()>(patch),
            ),
        )
        .await?;
        Ok(())
    }

    async fn delete(&self, workspace: &Workspace) -> Result<(), ClusterError> {
        let api = self.in_namespace(&self.workspaces, &workspace.namespace);
        self.call(
            "delete DevWorkspace",
            &workspace.namespace,
            api.delete(&workspace.name, &DeleteParams::background()),
        )
        .await?;
        Ok(())
    }
}
