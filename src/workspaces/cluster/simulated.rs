//! The simulated driver: workspaces in the database, for trying the launcher without a cluster.
//! The status follows from `started`, the time of the last start or stop, and the configured
//! delays: `Starting` becomes `Running` after `start_delay`, `Stopping` becomes `Stopped` after
//! `stop_delay`. Deriving it on read needs no background task and holds across replicas.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

use super::{Cluster, ClusterError};
use crate::clock::Clock;
use crate::workspaces::model::{NewWorkspace, Owner, Workspace, WorkspaceId, WorkspaceStatus};
use crate::workspaces::store::{StoredWorkspace, WorkspaceStore};

/// Workspaces kept in the database when no cluster is configured: `Starting` turns `Running` after the start delay, `Stopping` turns `Stopped` after the stop delay; nothing really runs.
pub struct SimulatedCluster {
    store: Arc<dyn WorkspaceStore>,
    clock: Arc<dyn Clock>,
    start_delay: Duration,
    stop_delay: Duration,
}

impl SimulatedCluster {
    /// The simulated driver over `store`, on `clock`, with the delays a start and a stop take.
    pub fn new(
        store: Arc<dyn WorkspaceStore>,
        clock: Arc<dyn Clock>,
        start_delay: Duration,
        stop_delay: Duration,
    ) -> Self {
        Self {
            store,
            clock,
            start_delay,
            stop_delay,
        }
    }

    fn now_ms(&self) -> i64 {
        i64::try_from(self.clock.now().as_millis()).unwrap_or(i64::MAX)
    }

    fn workspace(&self, row: StoredWorkspace, now_ms: i64) -> Workspace {
        let elapsed = Duration::from_millis(u64::try_from(now_ms - row.changed_at_ms).unwrap_or(0));
        let status = match (row.started, elapsed) {
            (true, e) if e >= self.start_delay => WorkspaceStatus::Running,
            (true, _) => WorkspaceStatus::Starting,
            (false, e) if e >= self.stop_delay => WorkspaceStatus::Stopped,
            (false, _) => WorkspaceStatus::Stopping,
        };
        Workspace {
            id: WorkspaceId::stored(row.id),
            name: row.name,
            namespace: row.namespace,
            owner: Owner::new(row.owner),
            status,
            started: row.started,
            terminating: false,
            message: None,
            main_url: None,
            devfile_name: row.devfile_name,
            devfile_version: row.devfile_version,
            created_at: rfc3339(row.created_at_ms),
            last_used: rfc3339(row.last_used_ms),
        }
    }
}

/// Epoch milliseconds as RFC 3339 with milliseconds.
pub fn rfc3339(ms: i64) -> String {
    let time = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_millis(time).to_string()
}

fn parse_ms(rfc3339: &str) -> Option<i64> {
    let time = humantime::parse_rfc3339_weak(rfc3339).ok()?;
    let since = time.duration_since(SystemTime::UNIX_EPOCH).ok()?;
    i64::try_from(since.as_millis()).ok()
}

#[async_trait]
impl Cluster for SimulatedCluster {
    fn driver(&self) -> &'static str {
        "simulated"
    }

    async fn create(&self, new: &NewWorkspace) -> Result<Workspace, ClusterError> {
        let now = self.now_ms();
        let row = StoredWorkspace {
            id: new.id.to_string(),
            owner: new.owner.subject().to_owned(),
            namespace: new.namespace.clone(),
            name: new.name.clone(),
            devfile_url: new.devfile_url.clone(),
            devfile_name: new.devfile_name.clone(),
            devfile_version: new.devfile_version.clone(),
            started: true,
            changed_at_ms: now,
            created_at_ms: now,
            last_used_ms: now,
        };
        if !self.store.insert(&row).await? {
            return Err(ClusterError::NameTaken(new.name.clone()));
        }
        Ok(self.workspace(row, now))
    }

    async fn list(&self, owner: &Owner) -> Result<Vec<Workspace>, ClusterError> {
        let now = self.now_ms();
        let rows = self.store.list(owner.subject()).await?;
        Ok(rows
            .into_iter()
            .map(|row| self.workspace(row, now))
            .collect())
    }

    async fn find(
        &self,
        owner: &Owner,
        id: &WorkspaceId,
    ) -> Result<Option<Workspace>, ClusterError> {
        let now = self.now_ms();
        let row = self.store.find(owner.subject(), id.as_str()).await?;
        Ok(row.map(|row| self.workspace(row, now)))
    }

    async fn set_started(
        &self,
        workspace: &Workspace,
        started: bool,
        now: &str,
    ) -> Result<(), ClusterError> {
        let at = parse_ms(now).unwrap_or_else(|| self.now_ms());
        let found = self
            .store
            .set_started(
                workspace.owner.subject(),
                workspace.id.as_str(),
                started,
                at,
            )
            .await?;
        if found {
            Ok(())
        } else {
            Err(ClusterError::NotFound)
        }
    }

    async fn template(
        &self,
        _namespace: &str,
        name: &str,
    ) -> Result<Option<serde_json::Value>, ClusterError> {
        Err(ClusterError::Rejected(format!(
            "parent.kubernetes names the DevWorkspaceTemplate '{name}', which only a Kubernetes cluster holds (workspaces.cluster.mode is none)"
        )))
    }

    async fn che_cluster(
        &self,
        _namespace: &str,
    ) -> Result<Option<serde_json::Value>, ClusterError> {
        Ok(None)
    }

    /// No cluster, no labelled namespaces: the template decides.
    async fn labelled_namespace(&self, _username: &str) -> Result<Option<String>, ClusterError> {
        Ok(None)
    }

    /// Nothing to provision; ownership is the store's claim.
    async fn prepare_namespace(
        &self,
        _namespace: &str,
        _username: &str,
        _provision: bool,
    ) -> Result<(), ClusterError> {
        Ok(())
    }

    async fn delete(&self, workspace: &Workspace) -> Result<(), ClusterError> {
        let found = self
            .store
            .delete(workspace.owner.subject(), workspace.id.as_str())
            .await?;
        if found {
            Ok(())
        } else {
            Err(ClusterError::NotFound)
        }
    }
}
