//! The launcher's rules: who may use which namespace, naming, the quota, fetching and validating
//! the devfile, and isolation (a caller only ever reaches their own workspaces).

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::WorkspacesConfig;
use crate::names::is_dns_label;
use crate::principal::Principal;

use super::cluster::{ClusterError, ClusterSlot};
use super::devfile::{self, Devfile, DevfileError};
use super::model::{
    NewWorkspace, Owner, Workspace, WorkspaceId, WorkspaceStatus, generated_name, to_dns_label,
};

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

/// Workspaces counting against the quota, and the most allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Workspaces starting or running.
    pub used: usize,
    /// `workspaces.max_running_per_user`.
    pub max: u32,
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
}

/// How many generated names are tried before giving up on a crowded namespace.
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

    /// The namespace a user's workspaces go to by default.
    pub fn own_namespace(&self, principal: &Principal) -> Option<String> {
        let user = principal.user_name()?;
        let template = &self.config.namespace_template;
        let room = 63usize.saturating_sub(template.len() - "{user}".len());
        let mut label = to_dns_label(user, room);
        if label.is_empty() {
            label = "user".into();
        }
        Some(template.replace("{user}", &label))
    }

    /// Checks the request's fields (no network): the URL, the namespace rule and the name.
    pub fn check_request(
        &self,
        principal: &Principal,
        request: &CreateRequest,
    ) -> Result<(url::Url, String), WorkspaceError> {
        let url = url::Url::parse(request.devfile_url.trim()).map_err(|e| {
            WorkspaceError::InvalidDevfileUrl(format!(
                "'{}' is not a URL ({e})",
                request.devfile_url
            ))
        })?;
        if url.scheme() != "https" {
            return Err(WorkspaceError::InvalidDevfileUrl(
                "URL must be HTTPS".into(),
            ));
        }
        let namespace = match (&request.namespace, self.own_namespace(principal)) {
            (Some(asked), _) if !is_dns_label(asked) => {
                return Err(WorkspaceError::BadRequest(format!(
                    "Invalid namespace '{asked}': it must be a DNS-1123 label (at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit)"
                )));
            }
            (Some(asked), Some(own)) if *asked != own => {
                return Err(WorkspaceError::NamespaceNotYours {
                    asked: asked.clone(),
                    own,
                });
            }
            (Some(asked), _) => asked.clone(),
            (None, Some(own)) => own,
            (None, None) => {
                return Err(WorkspaceError::BadRequest(
                    "namespace is required: a service principal has no default namespace".into(),
                ));
            }
        };
        if let Some(name) = &request.name
            && !is_dns_label(name)
        {
            return Err(WorkspaceError::BadRequest(format!(
                "Invalid name '{name}': it must be a DNS-1123 label (at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit)"
            )));
        }
        Ok((url, namespace))
    }

    async fn check_quota(
        &self,
        owner: &Owner,
        except: Option<&WorkspaceId>,
    ) -> Result<(), WorkspaceError> {
        let workspaces = self.cluster.get().await?.list(owner).await?;
        let quota = self.quota(workspaces.iter().filter(|w| Some(&w.id) != except));
        if quota.used >= quota.max as usize {
            return Err(WorkspaceError::Quota {
                used: quota.used,
                max: quota.max,
            });
        }
        Ok(())
    }

    /// How much of the quota these workspaces (one owner's) use: those starting or running.
    pub fn quota<'a>(&self, workspaces: impl IntoIterator<Item = &'a Workspace>) -> Quota {
        Quota {
            used: workspaces
                .into_iter()
                .filter(|w| w.status.is_active())
                .count(),
            max: self.config.max_running_per_user,
        }
    }

    /// Fetches the devfile under the guard and validates it.
    async fn fetch_devfile(&self, url: &url::Url) -> Result<(String, Devfile), WorkspaceError> {
        let text = self.source.text(url).await?;
        let devfile = devfile::parse(&text).map_err(WorkspaceError::Devfile)?;
        Ok((text, devfile))
    }

    /// Creates a workspace from the request: 201's workspace, or why not.
    pub async fn create(
        &self,
        principal: &Principal,
        request: &CreateRequest,
    ) -> Result<Created, WorkspaceError> {
        let (url, namespace) = self.check_request(principal, request)?;
        let owner = Owner::of(principal);
        // Refused early, before the devfile is fetched; checked again under the owner's lock.
        self.check_quota(&owner, None).await?;
        let (text, devfile) = self.fetch_devfile(&url).await?;
        let new = self.prepare(&owner, request, namespace, &url, text, &devfile);
        let quota = self.quota.lock(owner.subject()).await?;
        let created = self.create_within_quota(new, request.name.is_none()).await;
        quota.release().await;
        self.created(created, &devfile)
    }

    /// The quota check and the create, under the owner's lock.
    async fn create_within_quota(
        &self,
        mut new: NewWorkspace,
        rename: bool,
    ) -> Result<Workspace, WorkspaceError> {
        self.check_quota(&new.owner, None).await?;
        for _ in 1..NAME_ATTEMPTS {
            match self.cluster.get().await?.create(&new).await {
                Err(ClusterError::NameTaken(_)) if rename => {
                    new.name = generated_name(&new.devfile_name);
                }
                other => return Ok(other?),
            }
        }
        Ok(self.cluster.get().await?.create(&new).await?)
    }

    fn created(
        &self,
        result: Result<Workspace, WorkspaceError>,
        devfile: &Devfile,
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

    /// Our own work on a create once the devfile is here: naming and the new workspace's record.
    pub fn prepare(
        &self,
        owner: &Owner,
        request: &CreateRequest,
        namespace: String,
        url: &url::Url,
        text: String,
        devfile: &Devfile,
    ) -> NewWorkspace {
        let devfile_name = devfile.name.clone().unwrap_or_else(|| "workspace".into());
        let name = request
            .name
            .clone()
            .unwrap_or_else(|| generated_name(&devfile_name));
        NewWorkspace {
            id: WorkspaceId::generate(),
            name,
            namespace,
            owner: owner.clone(),
            devfile_url: url.to_string(),
            devfile_text: text,
            devfile: devfile.document.clone(),
            devfile_name,
            devfile_version: devfile.version.clone().unwrap_or_default(),
            now: self.now(),
        }
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

    /// Starts a stopped workspace; it counts against the quota.
    pub async fn start(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<Workspace, WorkspaceError> {
        let workspace = self.own(principal, id).await?;
        if workspace.status.is_active() {
            self.cluster
                .get()
                .await?
                .set_started(&workspace, true, &self.now())
                .await?;
            return Ok(workspace);
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
        if !workspace.status.is_active() {
            self.check_quota(&workspace.owner, Some(&workspace.id))
                .await?;
        }
        self.cluster
            .get()
            .await?
            .set_started(&workspace, true, &self.now())
            .await?;
        Ok(workspace)
    }

    /// Stops a workspace (its storage stays).
    pub async fn stop(&self, principal: &Principal, id: &str) -> Result<Workspace, WorkspaceError> {
        let workspace = self.own(principal, id).await?;
        self.cluster
            .get()
            .await?
            .set_started(&workspace, false, &self.now())
            .await?;
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
