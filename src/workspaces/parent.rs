//! A devfile's `parent:` resolved the way the DevWorkspace Operator resolves it
//! (`pkg/library/flatten`), so that what is validated is what will run:
//!
//! - `uri`: an absolute HTTPS URL, read through the guarded fetcher (allow-list, SSRF guard, size
//!   cap, timeout), like the devfile itself;
//! - `id`: `<registryUrl>/devfiles/<id>` (the operator has no default registry, so `registryUrl`
//!   is required), through the same fetcher;
//! - `kubernetes`: a DevWorkspaceTemplate read from the cluster, in the workspace's namespace
//!   unless another is named, and then only if the template allows it
//!   (`controller.devfile.io/allow-import-from`).
//!
//! What is read may be a devfile (checked against its own version's schema), a DevWorkspace or a
//! DevWorkspaceTemplate. A parent may not have a parent or plugins of its own (the operator
//! refuses both); a parent that leads back to a devfile already read is named a cycle.

use serde_json::Value;

use super::cluster::{Cluster, ClusterError};
use super::devfile::{self, flatten};
use super::service::WorkspaceError;
use super::source::DevfileSource;

/// Where a parent comes from, as a key for cycle detection and for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    Url(url::Url),
    Template { namespace: String, name: String },
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Url(url) => write!(f, "{url}"),
            Location::Template { namespace, name } => {
                write!(f, "DevWorkspaceTemplate {namespace}/{name}")
            }
        }
    }
}

/// What a parent lookup needs.
pub struct Parents<'a> {
    /// Reads `uri` and `id` parents through the guarded fetcher.
    pub source: &'a DevfileSource,
    /// Reads `kubernetes` parents.
    pub cluster: &'a dyn Cluster,
    /// The workspace's namespace: where a `kubernetes` parent without a namespace is looked up.
    pub namespace: &'a str,
}

fn refused(message: impl Into<String>) -> WorkspaceError {
    WorkspaceError::Parent(message.into())
}

impl Parents<'_> {
    /// `document` flattened with its parent (itself when it has none), ready for devfile/library's
    /// rules. `url` is where `document` was read.
    pub async fn flat(&self, document: &Value, url: &url::Url) -> Result<Value, WorkspaceError> {
        let Some(parent) = document.get("parent") else {
            return Ok(document.clone());
        };
        let visited = [Location::Url(url.clone())];
        let location = self.location(parent)?;
        if visited.contains(&location) {
            return Err(refused(format!(
                "{location} is the devfile itself: a parent cycle"
            )));
        }
        let content = self.content(&location).await?;
        if let Some(grandparent) = content.get("parent") {
            let next = self.location(grandparent).ok();
            if next.is_some_and(|n| visited.contains(&n) || n == location) {
                return Err(refused(format!(
                    "{location} leads back to a devfile already read: a parent cycle"
                )));
            }
            return Err(refused(format!(
                "{location} has a parent of its own: parents containing plugins or parents are not supported (DevWorkspace Operator)"
            )));
        }
        let plugins = content.get("components").and_then(Value::as_array);
        if plugins
            .into_iter()
            .flatten()
            .any(|c| c.get("plugin").is_some())
        {
            return Err(refused(format!(
                "{location} has plugin components: parents containing plugins or parents are not supported (DevWorkspace Operator)"
            )));
        }
        flatten::flatten(document, &flatten::content(&content))
            .map_err(|e| refused(format!("{location}: {e}")))
    }

    fn location(&self, parent: &Value) -> Result<Location, WorkspaceError> {
        let text = |key: &str| parent.get(key).and_then(Value::as_str).map(str::trim);
        if let Some(uri) = text("uri") {
            let url = url::Url::parse(uri).map_err(|_| {
                refused(format!(
                    "parent.uri '{uri}' must be an absolute https URL (the DevWorkspace Operator reads it as it is written)"
                ))
            })?;
            return Ok(Location::Url(url));
        }
        if let Some(id) = text("id") {
            let registry = text("registryUrl").filter(|r| !r.is_empty()).ok_or_else(|| {
                refused(format!(
                    "parent.id '{id}' needs parent.registryUrl: the DevWorkspace Operator has no default registry"
                ))
            })?;
            let mut url = url::Url::parse(registry)
                .map_err(|_| refused(format!("parent.registryUrl '{registry}' is not a URL")))?;
            let path = format!("{}/devfiles/{id}", url.path().trim_end_matches('/'));
            url.set_path(&path);
            return Ok(Location::Url(url));
        }
        if let Some(reference) = parent.get("kubernetes") {
            let name = reference
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let namespace = reference
                .get("namespace")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .unwrap_or(self.namespace);
            return Ok(Location::Template {
                namespace: namespace.to_owned(),
                name: name.to_owned(),
            });
        }
        Err(refused("parent names no uri, id or kubernetes reference"))
    }

    /// The content (devfile body) at `location`.
    async fn content(&self, location: &Location) -> Result<Value, WorkspaceError> {
        match location {
            Location::Url(url) => {
                let text = self.source.parent_text(url).await?;
                let options = serde_saphyr::options! { strict_booleans: true };
                let read: Value = serde_saphyr::from_str_with_options(&text, options)
                    .map_err(|_| refused(format!("{location} is not YAML")))?;
                if read.get("schemaVersion").is_some() {
                    return devfile::read(&text)
                        .map_err(|e| refused(format!("{location} is not a valid devfile: {e}")));
                }
                match read.get("kind").and_then(Value::as_str) {
                    Some("DevWorkspace") => {
                        Ok(read.pointer("/spec/template").cloned().unwrap_or_default())
                    }
                    Some("DevWorkspaceTemplate") => {
                        Ok(read.get("spec").cloned().unwrap_or_default())
                    }
                    _ => Err(refused(format!(
                        "{location} holds no devfile, DevWorkspace or DevWorkspaceTemplate"
                    ))),
                }
            }
            Location::Template { namespace, name } => {
                let template = match self.cluster.template(namespace, name).await {
                    Ok(template) => template,
                    Err(ClusterError::Rejected(reason)) => return Err(refused(reason)),
                    Err(other) => return Err(other.into()),
                };
                let allowed = template
                    .as_ref()
                    .is_some_and(|t| importable(t, self.namespace));
                match template {
                    Some(t) if allowed => Ok(t.get("spec").cloned().unwrap_or_default()),
                    // As the operator: a template not shared with this namespace is not found.
                    _ => Err(refused(format!("{location} not found"))),
                }
            }
        }
    }
}

/// Whether a DevWorkspace in `namespace` may import `template` (DevWorkspace Operator's rule).
fn importable(template: &Value, namespace: &str) -> bool {
    if template
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        == Some(namespace)
    {
        return true;
    }
    let allowed = template
        .pointer("/metadata/annotations/controller.devfile.io~1allow-import-from")
        .and_then(Value::as_str)
        .unwrap_or_default();
    allowed == "*" || allowed.split(',').any(|n| n.trim() == namespace)
}
