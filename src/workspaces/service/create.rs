//! A create's own steps: the request's fields, the devfile read, flattened with its parent and
//! validated, and the new workspace's record with its resources built as Che builds them.

use serde_json::Value;

use super::super::che::CheSettings;
use super::super::devfile::{self, Devfile};
use super::super::generate::{self, Build, STORAGE_TYPE};
use super::super::model::{NewWorkspace, Owner, Resources, WorkspaceId};
use super::super::parent::Parents;
use super::{CreateRequest, WorkspaceError, Workspaces};
use crate::names::is_dns_label;

/// A devfile ready to become a workspace.
pub struct CheckedRequest {
    /// The devfile's text as fetched.
    pub text: String,
    /// The devfile, validated flat (with its parent).
    pub devfile: Devfile,
    /// Its parent sets `controller.devfile.io/storage-type` (Che then leaves the devfile's out).
    pub parent_sets_storage_type: bool,
}

/// The request's fields (no network): an HTTPS URL without credentials, and a DNS-label name.
pub(super) fn check_request(request: &CreateRequest) -> Result<url::Url, WorkspaceError> {
    let url = url::Url::parse(request.devfile_url.trim()).map_err(|e| {
        WorkspaceError::InvalidDevfileUrl(format!("'{}' is not a URL ({e})", request.devfile_url))
    })?;
    if url.scheme() != "https" {
        return Err(WorkspaceError::InvalidDevfileUrl(
            "URL must be HTTPS".into(),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Never stored, never shown in the workspace's annotations.
        return Err(WorkspaceError::InvalidDevfileUrl(
            "the URL may not carry credentials (user:password@): a platform administrator configures a token for the host ([[fetch.credentials]])".into(),
        ));
    }
    if let Some(name) = &request.name
        && !is_dns_label(name)
    {
        return Err(WorkspaceError::BadRequest(format!(
            "Invalid name '{name}': it must be a DNS-1123 label (at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit)"
        )));
    }
    Ok(url)
}

impl Workspaces {
    /// Fetches the devfile under the guard, checks it against its version's schema, flattens it
    /// with its parent (read into `namespace`'s view of the cluster) and runs devfile/library's
    /// rules on the flat devfile.
    pub(super) async fn read_devfile(
        &self,
        url: &url::Url,
        namespace: &str,
    ) -> Result<CheckedRequest, WorkspaceError> {
        let text = self.source.text(url).await?;
        let document = devfile::read(&text).map_err(WorkspaceError::Devfile)?;
        let cluster = self.cluster.get().await?;
        let parents = Parents {
            source: &self.source,
            cluster: cluster.as_ref(),
            namespace,
        };
        let flat = parents.flat(&document, url).await?;
        let own = |doc: &Value| {
            doc.get("attributes")
                .and_then(|a| a.get(STORAGE_TYPE))
                .is_some()
        };
        let parent_sets_storage_type =
            document.get("parent").is_some() && own(&flat) && !own(&document);
        let devfile = devfile::finish(document, &flat).map_err(WorkspaceError::Devfile)?;
        Ok(CheckedRequest {
            text,
            devfile,
            parent_sets_storage_type,
        })
    }

    /// Our own work on a create once the devfile is here: the new workspace's record and its
    /// resources.
    pub fn prepare(
        &self,
        owner: &Owner,
        request: &CreateRequest,
        namespace: &str,
        name: &str,
        checked: &CheckedRequest,
        che: &CheSettings,
    ) -> NewWorkspace {
        let devfile = &checked.devfile;
        let devfile_name = devfile.name.clone().unwrap_or_else(|| name.to_owned());
        let mut new = NewWorkspace {
            id: WorkspaceId::generate(),
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            owner: owner.clone(),
            devfile_url: request.devfile_url.trim().to_owned(),
            devfile_text: checked.text.clone(),
            devfile: devfile.document.clone(),
            devfile_name,
            devfile_version: devfile.version.clone().unwrap_or_default(),
            now: self.now(),
            resources: Resources::default(),
        };
        let build = Build {
            new: &new,
            name,
            namespace,
            che,
            editor: &self.config.editor,
            editor_image: &self.config.editor_image,
            routing_class: &self.config.routing_class,
            parent_sets_storage_type: checked.parent_sets_storage_type,
        };
        let resources = Resources {
            devworkspace: generate::devworkspace(&build),
            editor: generate::editor::template(&build, ""),
        };
        new.resources = resources;
        new
    }
}
