//! The launcher's rules: who may use which namespace ([`namespaces`]), naming, the quota
//! ([`usage`]), fetching, flattening and validating the devfile ([`create`]), and isolation (a
//! caller only ever reaches their own workspaces).

mod create;
mod namespaces;
mod usage;

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::WorkspacesConfig;
use crate::principal::Principal;

use super::che::CheCache;
use super::cluster::{ClusterError, ClusterSlot};
use super::devfile::DevfileError;
use super::model::{Owner, Workspace, WorkspaceId, WorkspaceStatus};
use super::store::WorkspaceStore;

pub use create::CheckedRequest;
pub use usage::Quota;

/// A create request, as parsed from the body.
#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    /// The HTTPS URL of the devfile.
    pub devfile_url: String,
    /// The namespace asked for; default the caller's own.
    pub namespace: Option<String>,
    /// The name asked for; default one made from the devfile's name.
    pub name: Option<String>,
}

/// A created workspace, with anything worth telling the user about its devfile.
#[derive(Debug, Clone)]
pub struct Created {
    /// The workspace, starting.
    pub workspace: Workspace,
    /// Accepted devfile quirks worth telling the user.
    pub warnings: Vec<String>,
}

/// Why a launcher request failed; `app::errors` gives each its HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// The devfile URL is not an HTTPS URL.
    #[error("Invalid devfileUrl: {0}")]
    InvalidDevfileUrl(String),
    /// The devfile could not be fetched (refused, unreachable, too large, not found).
    #[error("Cannot fetch the devfile: {0}")]
    Fetch(String),
    /// The devfile is invalid.
    #[error("Invalid devfile: {0}")]
    Devfile(DevfileError),
    /// The devfile's parent cannot be used (unreadable, refused, or an override that does not
    /// apply); the message says why.
    #[error("Cannot use the devfile's parent: {0}")]
    Parent(String),
    /// Another field of the request is invalid; the message says which.
    #[error("{0}")]
    BadRequest(String),
    /// A user asked for a namespace that is not theirs.
    #[error("Namespace '{asked}' is not yours: use '{own}' (or leave namespace out)")]
    NamespaceNotYours {
        /// The namespace asked for.
        asked: String,
        /// The caller's own.
        own: String,
    },
    /// The namespace belongs to another principal.
    #[error(
        "Namespace '{0}' belongs to another user: ask a platform administrator to give your user its own namespace"
    )]
    NamespaceTaken(String),
    /// The workspace is being deleted (Terminating).
    #[error("Workspace '{0}' is being deleted: it cannot be started")]
    Terminating(String),
    /// The owner runs as many workspaces as allowed.
    #[error("Workspace quota exceeded: {used} of {max} running workspaces")]
    Quota {
        /// Workspaces running or starting.
        used: usize,
        /// The most allowed.
        max: u32,
    },
    /// The name is used in the namespace.
    #[error("Workspace with name '{0}' already exists")]
    NameTaken(String),
    /// No such workspace of the caller's.
    #[error("Workspace not found")]
    NotFound,
    /// The cluster failed.
    #[error(transparent)]
    Cluster(ClusterError),
    #[error("{0}")]
    /// The owner's quota lock was not had in time; try again.
    Busy(String),
}

impl From<super::quota::QuotaLockError> for WorkspaceError {
    fn from(err: super::quota::QuotaLockError) -> Self {
        match err {
            super::quota::QuotaLockError::Store(store) => {
                WorkspaceError::Cluster(ClusterError::Store(store))
            }
            busy => WorkspaceError::Busy(format!("Try again: {busy}")),
        }
    }
}

impl From<ClusterError> for WorkspaceError {
    fn from(err: ClusterError) -> Self {
        match err {
            ClusterError::NameTaken(name) => WorkspaceError::NameTaken(name),
            ClusterError::NotFound => WorkspaceError::NotFound,
            ClusterError::NamespaceTaken(ns) => WorkspaceError::NamespaceTaken(ns),
            ClusterError::Terminating(name) => WorkspaceError::Terminating(name),
            other => WorkspaceError::Cluster(other),
        }
    }
}

/// The launcher, over one driver.
#[derive(Clone)]
pub struct Workspaces {
    config: Arc<WorkspacesConfig>,
    cluster: ClusterSlot,
    source: super::source::DevfileSource,
    clock: Arc<dyn Clock>,
    quota: Arc<super::quota::QuotaLocks>,
    che: CheCache,
    /// Namespace claims (and, without a cluster, the simulated workspaces).
    store: Arc<dyn WorkspaceStore>,
}

/// How many names are tried before giving up on a crowded namespace.
const NAME_ATTEMPTS: usize = 5;

impl Workspaces {
    /// The launcher for `config`: the simulated driver on `db` when no cluster is configured.
    pub fn build(
        config: &WorkspacesConfig,
        db: &crate::db::Database,
        fetcher: crate::fetch::Fetcher,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let config = Arc::new(config.clone());
        Ok(Self {
            cluster: ClusterSlot::new(config.clone(), db, clock.clone()),
            che: CheCache::new(config.clone()),
            store: super::store::for_database(db),
            config,
            source: super::source::DevfileSource::new(fetcher),
            clock,
            quota: Arc::new(super::quota::QuotaLocks::new(db.leases())),
        })
    }

    /// Connects to the cluster (if one is configured) and says in the log where workspaces run.
    pub async fn connect(&self) -> anyhow::Result<()> {
        match self.cluster.get().await {
            Ok(_) if self.driver() == "simulated" => tracing::warn!(
                "workspaces are SIMULATED: no Kubernetes cluster is configured (workspaces.cluster.mode = none); \
                 they are kept in the database and nothing runs. Configure [workspaces.cluster] to launch real Che workspaces"
            ),
            Ok(_) => {
                tracing::info!("workspaces are DevWorkspaces on the configured Kubernetes cluster")
            }
            Err(e) => anyhow::bail!("cannot set up the Kubernetes client for workspaces: {e}"),
        }
        Ok(())
    }

    /// `kubernetes` or `simulated`.
    pub fn driver(&self) -> &'static str {
        self.cluster.driver()
    }

    /// The launcher's settings.
    pub fn config(&self) -> &WorkspacesConfig {
        &self.config
    }

    fn now(&self) -> String {
        let ms = i64::try_from(self.clock.now().as_millis()).unwrap_or(i64::MAX);
        super::cluster::simulated::rfc3339(ms)
    }

    /// Checks the request's fields (no network): the URL (HTTPS, no credentials) and the name.
    pub fn check_request(&self, request: &CreateRequest) -> Result<url::Url, WorkspaceError> {
        create::check_request(request)
    }

    /// Creates a workspace from the request: 201's workspace, or why not. The devfile is read,
    /// flattened with its parent and validated before the namespace is claimed or provisioned.
    pub async fn create(
        &self,
        principal: &Principal,
        request: &CreateRequest,
    ) -> Result<Created, WorkspaceError> {
        let url = self.check_request(request)?;
        let owner = Owner::of(principal);
        // Refused early, before the devfile is fetched; checked again under the owner's lock.
        self.check_quota(&owner, None).await?;
        let che = self.che.get(&self.cluster).await;
        let plan = self.namespace_for(principal, request, &che).await?;
        let checked = self.read_devfile(&url, &plan.namespace).await?;
        self.claim_namespace(&plan, che.auto_provision).await?;
        let quota = self.quota.lock(owner.subject()).await?;
        let created = self
            .create_within_quota(&owner, request, &plan.namespace, &checked, &che)
            .await;
        quota.release().await;
        self.created(created, &checked.devfile)
    }

    /// The quota check and the create, under the owner's lock. A name taken in the namespace
    /// gets Che's suffix, unless the request named it.
    async fn create_within_quota(
        &self,
        owner: &Owner,
        request: &CreateRequest,
        namespace: &str,
        checked: &CheckedRequest,
        che: &super::che::CheSettings,
    ) -> Result<Workspace, WorkspaceError> {
        self.check_quota(owner, None).await?;
        let base = super::generate::workspace_name(&checked.devfile.document, &request.devfile_url);
        let mut name = request.name.clone().unwrap_or_else(|| base.clone());
        let mut attempt = 1;
        loop {
            let new = self.prepare(owner, request, namespace, &name, checked, che);
            match self.cluster.get().await?.create(&new).await {
                Err(ClusterError::NameTaken(_))
                    if request.name.is_none() && attempt < NAME_ATTEMPTS =>
                {
                    name = super::generate::with_suffix(&base);
                    attempt += 1;
                }
                other => return Ok(other?),
            }
        }
    }

    fn created(
        &self,
        result: Result<Workspace, WorkspaceError>,
        devfile: &super::devfile::Devfile,
    ) -> Result<Created, WorkspaceError> {
        let workspace = result?;
        tracing::info!(
            workspace = %workspace.id, name = %workspace.name, namespace = %workspace.namespace,
            owner = %workspace.owner.subject(), driver = self.driver(), "workspace created"
        );
        Ok(Created {
            workspace,
            warnings: devfile.warnings.clone(),
        })
    }

    /// The caller's workspaces, optionally only those in `status`.
    pub async fn list(
        &self,
        principal: &Principal,
        status: Option<WorkspaceStatus>,
    ) -> Result<Vec<Workspace>, WorkspaceError> {
        let mut workspaces = self
            .cluster
            .get()
            .await?
            .list(&Owner::of(principal))
            .await?;
        workspaces.retain(|w| status.is_none_or(|s| w.status == s));
        Ok(workspaces)
    }

    async fn own(&self, principal: &Principal, id: &str) -> Result<Workspace, WorkspaceError> {
        let id = WorkspaceId::parse(id).ok_or(WorkspaceError::NotFound)?;
        self.cluster
            .get()
            .await?
            .find(&Owner::of(principal), &id)
            .await?
            .ok_or(WorkspaceError::NotFound)
    }

    /// Starts a stopped workspace; it counts against the quota. The workspace as it is now: a
    /// stopped one reads `Starting` whatever phase the operator last reported.
    pub async fn start(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<Workspace, WorkspaceError> {
        let workspace = self.own(principal, id).await?;
        if workspace.terminating {
            return Err(WorkspaceError::Terminating(workspace.name));
        }
        if workspace.status.is_active() {
            self.cluster
                .get()
                .await?
                .set_started(&workspace, true, &self.now())
                .await?;
            return Ok(as_started(workspace));
        }
        let quota = self.quota.lock(workspace.owner.subject()).await?;
        let started = self.start_within_quota(principal, id).await;
        quota.release().await;
        started
    }

    /// The quota check and the start, under the owner's lock (the workspace read again there).
    async fn start_within_quota(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<Workspace, WorkspaceError> {
        let workspace = self.own(principal, id).await?;
        if workspace.terminating {
            return Err(WorkspaceError::Terminating(workspace.name));
        }
        if !workspace.status.is_active() {
            self.check_quota(&workspace.owner, Some(&workspace.id))
                .await?;
        }
        self.cluster
            .get()
            .await?
            .set_started(&workspace, true, &self.now())
            .await?;
        Ok(as_started(workspace))
    }

    /// Stops a workspace (its storage stays). A started one reads `Stopping`.
    pub async fn stop(&self, principal: &Principal, id: &str) -> Result<Workspace, WorkspaceError> {
        let mut workspace = self.own(principal, id).await?;
        self.cluster
            .get()
            .await?
            .set_started(&workspace, false, &self.now())
            .await?;
        if workspace.started || workspace.status != WorkspaceStatus::Stopped {
            workspace.status = WorkspaceStatus::Stopping;
        }
        workspace.started = false;
        Ok(workspace)
    }

    /// Deletes one of the caller's workspaces.
    pub async fn delete(&self, principal: &Principal, id: &str) -> Result<(), WorkspaceError> {
        let workspace = self.own(principal, id).await?;
        self.cluster.get().await?.delete(&workspace).await?;
        tracing::info!(workspace = %workspace.id, owner = %workspace.owner.subject(), "workspace deleted");
        Ok(())
    }

    /// Where a workspace's IDE is: its main URL once known, else Che's dashboard page for it.
    pub fn ide_url(&self, workspace: &Workspace) -> String {
        if let Some(url) = &workspace.main_url {
            return url.clone();
        }
        let base = self.config.che_url.as_str().trim_end_matches('/');
        format!(
            "{base}/dashboard/#/ide/{}/{}",
            workspace.namespace, workspace.name
        )
    }
}

/// A workspace just started, as the caller should read it: `Starting` unless it was already
/// started and running (never the phase the operator reported before the start).
fn as_started(mut workspace: Workspace) -> Workspace {
    if !workspace.started || workspace.status != WorkspaceStatus::Running {
        workspace.status = WorkspaceStatus::Starting;
    }
    workspace.started = true;
    workspace
}
