//! The Che settings a workspace is built with: what `[workspaces]` sets, else what the CheCluster
//! says (read from the cluster when the portal may: `list` on `checlusters` in
//! `workspaces.che_namespace`), else Che's own defaults. Che's dashboard reads the same CheCluster
//! fields (`dashboard-backend` `serverConfigApi`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::cluster::ClusterSlot;
use super::namespace::CHE_DEFAULT_TEMPLATE;
use crate::config::WorkspacesConfig;

/// How long a CheCluster read is used before it is read again.
const CACHE_FOR: Duration = Duration::from_secs(60);
/// Che operator's default `openVSXURL` (`CHE_DEFAULT_SPEC_COMPONENTS_PLUGINREGISTRY_OPENVSXURL`).
const CHE_DEFAULT_OPENVSX: &str = "https://open-vsx.org";
/// Che operator's default dev component (`CHE_DEFAULT_SPEC_DEVENVIRONMENTS_DEFAULTCOMPONENTS`).
const CHE_DEFAULT_IMAGE: &str = "quay.io/devfile/universal-developer-image:ubi9-latest";

/// Everything a workspace is built with that Che takes from its CheCluster.
#[derive(Debug, Clone, PartialEq)]
pub struct CheSettings {
    /// `defaultNamespace.template`.
    pub namespace_template: String,
    /// `defaultNamespace.autoProvision`: create, label and annotate users' namespaces.
    pub auto_provision: bool,
    /// Where the CheCluster is; the `devworkspace-config` attribute names it.
    pub che_namespace: String,
    /// `controller.devfile.io/storage-type` when the devfile sets none.
    pub storage_type: Option<String>,
    /// Given to a devfile without components (and without a parent).
    pub default_components: Vec<Value>,
    /// `CHE_DASHBOARD_URL`: the dashboard's origin.
    pub dashboard_url: String,
    /// `CHE_PLUGIN_REGISTRY_URL` (`status.pluginRegistryURL`).
    pub plugin_registry_url: String,
    /// `CHE_PLUGIN_REGISTRY_INTERNAL_URL`.
    pub plugin_registry_internal_url: String,
    /// `OPENVSX_REGISTRY_URL` (`components.pluginRegistry.openVSXURL`).
    pub openvsx_url: String,
    /// `CLUSTER_CONSOLE_URL` and `CLUSTER_CONSOLE_TITLE`, when there is a console (OpenShift).
    pub cluster_console: Option<(String, String)>,
}

impl CheSettings {
    /// The settings from `config`, with `checluster` (if it could be read) where `config` is silent.
    pub fn new(config: &WorkspacesConfig, checluster: Option<&Value>) -> CheSettings {
        let text = |pointer: &str| {
            checluster
                .and_then(|c| c.pointer(pointer))
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let components = match &config.default_component_image {
            Some(image) => vec![udi(image)],
            None => checluster
                .and_then(|c| c.pointer("/spec/devEnvironments/defaultComponents"))
                .and_then(Value::as_array)
                .filter(|c| !c.is_empty())
                .cloned()
                .unwrap_or_else(|| vec![udi(CHE_DEFAULT_IMAGE)]),
        };
        let template = config
            .namespace_template
            .clone()
            .or_else(|| text("/spec/devEnvironments/defaultNamespace/template"))
            .filter(|t| crate::names::check_namespace_template(t).is_ok())
            .unwrap_or_else(|| CHE_DEFAULT_TEMPLATE.to_owned());
        let auto_provision = config.auto_provision.unwrap_or_else(|| {
            checluster
                .and_then(|c| c.pointer("/spec/devEnvironments/defaultNamespace/autoProvision"))
                .and_then(Value::as_bool)
                .unwrap_or(true)
        });
        let origin = config.che_url.origin().ascii_serialization();
        CheSettings {
            namespace_template: template,
            auto_provision,
            che_namespace: config.che_namespace.clone(),
            storage_type: config
                .storage_type
                .clone()
                .or_else(|| text("/spec/devEnvironments/storage/pvcStrategy")),
            default_components: components,
            dashboard_url: origin,
            plugin_registry_url: config
                .plugin_registry_url
                .clone()
                .or_else(|| text("/status/pluginRegistryURL"))
                .unwrap_or_default(),
            plugin_registry_internal_url: config.plugin_registry_internal_url.clone(),
            openvsx_url: config
                .openvsx_url
                .clone()
                .or_else(|| text("/spec/components/pluginRegistry/openVSXURL"))
                .unwrap_or_else(|| CHE_DEFAULT_OPENVSX.to_owned()),
            cluster_console: config.cluster_console.clone(),
        }
    }
}

fn udi(image: &str) -> Value {
    json!({"name": "universal-developer-image", "container": {"image": image}})
}

/// Settings and when they were read.
type Read = Option<(Instant, Arc<CheSettings>)>;

/// The settings, the CheCluster read at most once a minute.
#[derive(Clone)]
pub struct CheCache {
    config: Arc<WorkspacesConfig>,
    last: Arc<Mutex<Read>>,
}

impl CheCache {
    /// Nothing read yet: the first [`CheCache::get`] reads the CheCluster.
    pub fn new(config: Arc<WorkspacesConfig>) -> CheCache {
        CheCache {
            config,
            last: Arc::new(Mutex::new(None)),
        }
    }

    /// The current settings. A CheCluster that cannot be read (no permission, not installed,
    /// the cluster unavailable) leaves the configured values and Che's defaults.
    pub async fn get(&self, cluster: &ClusterSlot) -> Arc<CheSettings> {
        let mut last = self.last.lock().await;
        if let Some((at, settings)) = last.as_ref()
            && at.elapsed() < CACHE_FOR
        {
            return settings.clone();
        }
        let checluster = match cluster.get().await {
            Ok(driver) => match driver.che_cluster(&self.config.che_namespace).await {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!(error = %e, namespace = %self.config.che_namespace,
                        "cannot read the CheCluster; using [workspaces] settings and Che's defaults");
                    None
                }
            },
            Err(_) => None,
        };
        let settings = Arc::new(CheSettings::new(&self.config, checluster.as_ref()));
        *last = Some((Instant::now(), settings.clone()));
        settings
    }
}
