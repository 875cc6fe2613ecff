//! The quota: how many of an owner's workspaces are starting or running, against
//! `workspaces.max_running_per_user`.

use super::super::model::{Owner, Workspace, WorkspaceId};
use super::{WorkspaceError, Workspaces};

/// Workspaces counting against the quota, and the most allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Workspaces starting or running.
    pub used: usize,
    /// `workspaces.max_running_per_user`.
    pub max: u32,
}

impl Workspaces {
    /// Refuses when the owner's workspaces (but `except`) already use the whole quota.
    pub(super) async fn check_quota(
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
}
