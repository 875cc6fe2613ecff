//! Where workspaces run. [`Cluster`] is the seam: [`kube::KubeCluster`] keeps them as
//! DevWorkspaces on Kubernetes, [`simulated::SimulatedCluster`] in the database when no cluster is
//! configured. Both answer the same use cases, scoped to the owner.

pub mod devworkspace;
pub mod kube;
pub mod simulated;

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use tokio::sync::OnceCell;

use super::model::{NewWorkspace, Owner, Workspace, WorkspaceId};
use crate::clock::Clock;
use crate::config::WorkspacesConfig;
use crate::config::workspaces::ClusterMode;
use crate::db::{Database, StoreError};

/// What a driver can fail with. Messages of the 5xx kinds are for the log only.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The name is already used in the namespace.
    #[error("name '{0}' is taken")]
    NameTaken(String),
    /// The workspace disappeared between lookup and action.
    #[error("workspace not found")]
    NotFound,
    /// The namespace does not exist on the cluster.
    #[error("namespace '{0}' does not exist")]
    NamespaceMissing(String),
    /// The cluster refused the resource itself (admission webhook, schema); the message is the
    /// cluster's, for the user.
    #[error("{0}")]
    Rejected(String),
    /// The API server cannot be reached, or did not answer in time.
    #[error("Kubernetes API unavailable: {0}")]
    Unavailable(String),
    /// The API server refused our own credentials (401).
    #[error("Kubernetes API refused our credentials: {0}")]
    CredentialsRefused(String),
    /// RBAC forbids our identity an action (403): the verb and resource the server named.
    #[error("Kubernetes API forbids {verb} on {resource}{}", scope(.namespace))]
    Forbidden {
        /// What we tried (`create`, `list`, ...).
        verb: String,
        /// The resource, with its API group (`devworkspaces.workspace.devfile.io`).
        resource: String,
        /// Where, or cluster-wide.
        namespace: Option<String>,
    },
    /// The workspace is being deleted (Terminating): it cannot be started.
    #[error("workspace '{0}' is being deleted")]
    Terminating(String),
    /// The namespace is another user's (its `che.eclipse.org/username` names someone else).
    #[error("namespace '{0}' belongs to another user")]
    NamespaceTaken(String),
    /// The simulated driver's database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else (logged, never shown).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// ` in namespace 'x'` or ` cluster-wide`.
pub fn scope(namespace: &Option<String>) -> String {
    match namespace {
        Some(ns) => format!(" in namespace '{ns}'"),
        None => " cluster-wide".into(),
    }
}

/// Where workspaces run: the launcher's use cases, each scoped to the owner.
#[async_trait]
pub trait Cluster: Send + Sync + 'static {
    /// `kubernetes` or `simulated`, for `GET /api` and the logs.
    fn driver(&self) -> &'static str;
    /// Creates and starts the workspace.
    async fn create(&self, new: &NewWorkspace) -> Result<Workspace, ClusterError>;
    /// The owner's workspaces, oldest first.
    async fn list(&self, owner: &Owner) -> Result<Vec<Workspace>, ClusterError>;
    /// One of the owner's workspaces; `None` if it does not exist or is someone else's.
    async fn find(
        &self,
        owner: &Owner,
        id: &WorkspaceId,
    ) -> Result<Option<Workspace>, ClusterError>;
    /// Starts or stops it (Che's `spec.started`); `now` (RFC 3339) becomes its last-used time on
    /// start.
    async fn set_started(
        &self,
        workspace: &Workspace,
        started: bool,
        now: &str,
    ) -> Result<(), ClusterError>;
    /// Deletes it (the cluster may take a moment to clean up).
    async fn delete(&self, workspace: &Workspace) -> Result<(), ClusterError>;
    /// A DevWorkspaceTemplate (a devfile's `parent.kubernetes`), as the cluster holds it.
    async fn template(&self, namespace: &str, name: &str) -> Result<Option<Value>, ClusterError>;
    /// The CheCluster in `namespace`, if there is one and we may read it.
    async fn che_cluster(&self, namespace: &str) -> Result<Option<Value>, ClusterError>;
    /// The namespace Che prepared for `username` (labelled as Che's workspaces namespace and
    /// annotated with the user name), if any; the first by name when there are several.
    async fn labelled_namespace(&self, username: &str) -> Result<Option<String>, ClusterError>;
    /// Makes `namespace` ready for `username`'s workspaces: refuses it if it names another user;
    /// with `provision`, creates it or adds Che's labels and annotation, as Che does.
    async fn prepare_namespace(
        &self,
        namespace: &str,
        username: &str,
        provision: bool,
    ) -> Result<(), ClusterError>;
}

/// The configured driver. The simulated one is ready at once; the Kubernetes client is built on
/// first use ([`App::build`](crate::app::App::build) does it at start, so a bad kubeconfig stops
/// the server with a message).
#[derive(Clone)]
pub struct ClusterSlot {
    config: Arc<WorkspacesConfig>,
    cell: Arc<OnceCell<Arc<dyn Cluster>>>,
}

impl ClusterSlot {
    /// The driver `config` names: the simulated one over `db` and `clock` when no cluster is configured, else a Kubernetes client built on first use.
    pub fn new(config: Arc<WorkspacesConfig>, db: &Database, clock: Arc<dyn Clock>) -> Self {
        let cell = OnceCell::new();
        if config.cluster == ClusterMode::None {
            let simulated = simulated::SimulatedCluster::new(
                crate::workspaces::store::for_database(db),
                clock,
                config.simulated_start_delay,
                config.simulated_stop_delay,
            );
            let _ = cell.set(Arc::new(simulated) as Arc<dyn Cluster>);
        }
        Self {
            config,
            cell: Arc::new(cell),
        }
    }

    /// `simulated` without a configured cluster, else `kubernetes`.
    pub fn driver(&self) -> &'static str {
        if self.config.cluster == ClusterMode::None {
            "simulated"
        } else {
            "kubernetes"
        }
    }

    /// The driver, connecting to the cluster the first time.
    pub async fn get(&self) -> Result<&Arc<dyn Cluster>, ClusterError> {
        self.cell
            .get_or_try_init(|| async {
                let cluster = kube::KubeCluster::connect(self.config.clone()).await?;
                Ok::<_, anyhow::Error>(Arc::new(cluster) as Arc<dyn Cluster>)
            })
            .await
            .map_err(|e| ClusterError::Unavailable(format!("{e:#}")))
    }
}
