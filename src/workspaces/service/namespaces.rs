//! Whose namespace: found as Che finds it (a namespace Che prepared for the user, else the
//! template), claimed for the caller in the database, and made ready on the cluster (provisioned
//! with Che's labels and annotation when `autoProvision` is on). See [`crate::workspaces::namespace`].

use super::super::che::CheSettings;
use super::super::namespace;
use super::{CreateRequest, WorkspaceError, Workspaces};
use crate::names::is_dns_label;
use crate::principal::Principal;

/// The caller's namespace and user name.
pub(super) struct NamespacePlan {
    pub namespace: String,
    pub username: String,
}

impl Workspaces {
    /// The template users' namespaces are named by: `workspaces.namespace_template`, else the
    /// CheCluster's, else Che's default. A namespace Che already labelled for a user comes first.
    pub async fn namespace_template(&self) -> String {
        self.che.get(&self.cluster).await.namespace_template.clone()
    }

    /// The caller's namespace; asking for another is refused.
    pub(super) async fn namespace_for(
        &self,
        principal: &Principal,
        request: &CreateRequest,
        che: &CheSettings,
    ) -> Result<NamespacePlan, WorkspaceError> {
        if let Some(asked) = &request.namespace
            && !is_dns_label(asked)
        {
            return Err(WorkspaceError::BadRequest(format!(
                "Invalid namespace '{asked}': it must be a DNS-1123 label (at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit)"
            )));
        }
        let username = namespace::username(principal);
        let prepared = self
            .cluster
            .get()
            .await?
            .labelled_namespace(&username)
            .await?;
        let own = prepared
            .unwrap_or_else(|| namespace::from_template(&che.namespace_template, &username));
        if let Some(asked) = &request.namespace
            && *asked != own
        {
            return Err(WorkspaceError::NamespaceNotYours {
                asked: asked.clone(),
                own,
            });
        }
        Ok(NamespacePlan {
            namespace: own,
            username,
        })
    }

    /// Claims the namespace for the caller (the first principal to use it keeps it) and makes it
    /// ready on the cluster.
    pub(super) async fn claim_namespace(
        &self,
        plan: &NamespacePlan,
        provision: bool,
    ) -> Result<(), WorkspaceError> {
        let at = i64::try_from(self.clock.now().as_millis()).unwrap_or(i64::MAX);
        let owner = self
            .store
            .claim_namespace(&plan.namespace, &plan.username, at)
            .await
            .map_err(|e| WorkspaceError::Cluster(e.into()))?;
        if owner != plan.username {
            tracing::warn!(namespace = %plan.namespace, claimed_by = %owner, asked_by = %plan.username,
                "a namespace claimed by another principal was asked for");
            return Err(WorkspaceError::NamespaceTaken(plan.namespace.clone()));
        }
        self.cluster
            .get()
            .await?
            .prepare_namespace(&plan.namespace, &plan.username, provision)
            .await?;
        Ok(())
    }
}
