//! `[workspaces]`: the Che launcher. Where workspaces run (a Kubernetes cluster with the DevWorkspace
//! Operator, or simulated in the database when no cluster is configured), the Che dashboard's URL,
//! the per-user namespace and quota, and the editor. Devfile fetching uses the shared `[fetch]`.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkspacesSettings {
    /// Che's external URL; workspaces' IDE links point into its dashboard until a main URL is known.
    pub che_url: String,
    /// Che's `defaultNamespace.template` (`<username>`, `<userid>`; `{user}` as `<username>`).
    /// Empty: the CheCluster's, read from the cluster when the portal may, else Che's default
    /// `<username>-che`.
    pub namespace_template: String,
    /// Create, label and annotate a user's namespace as Che does. Unset: the CheCluster's
    /// `defaultNamespace.autoProvision` (Che's default: true).
    pub auto_provision: Option<bool>,
    /// Where the CheCluster is (the DevWorkspace's `controller.devfile.io/devworkspace-config`
    /// attribute names this namespace).
    pub che_namespace: String,
    /// `controller.devfile.io/storage-type` when the devfile sets none: `common`, `per-user`,
    /// `per-workspace`, `ephemeral` or `async`. Empty: the CheCluster's `storage.pvcStrategy`.
    pub storage_type: String,
    /// The dev container a devfile without components gets. Empty: the CheCluster's
    /// `defaultComponents`, else Che's universal developer image.
    pub default_component_image: String,
    /// Environment Che's dashboard gives the editor's containers. Empty registry URLs: the
    /// CheCluster's (`status.pluginRegistryURL`, `components.pluginRegistry.openVSXURL`, else
    /// https://open-vsx.org); the console pair is injected only when set (OpenShift).
    pub plugin_registry_url: String,
    pub plugin_registry_internal_url: String,
    pub openvsx_url: String,
    pub cluster_console_url: String,
    pub cluster_console_title: String,
    /// Starting or running workspaces one user may have.
    pub max_running_per_user: u32,
    /// Che's editor id, recorded on each workspace (`che.eclipse.org/che-editor`).
    pub editor: String,
    /// The che-code image the editor contribution (a DevWorkspaceTemplate) injects.
    pub editor_image: String,
    /// `spec.routingClass` of created DevWorkspaces.
    pub routing_class: String,
    /// Simulated driver: how long a workspace stays `Starting`, and `Stopping`.
    pub simulated_start_delay: String,
    pub simulated_stop_delay: String,
    pub cluster: ClusterSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSettings {
    /// `none` (simulated workspaces), `in-cluster` (the pod's service account) or `kubeconfig`.
    pub mode: String,
    /// With `kubeconfig`: the file; empty means `$KUBECONFIG` or `~/.kube/config`.
    pub kubeconfig: String,
    /// With `kubeconfig`: the context; empty means the current one.
    pub context: String,
    /// How long one Kubernetes API call may take before the cluster counts as unavailable.
    pub timeout: String,
}

impl Default for WorkspacesSettings {
    fn default() -> Self {
        Self {
            che_url: "https://che.127.0.0.1.nip.io".into(),
            namespace_template: String::new(),
            auto_provision: None,
            che_namespace: "eclipse-che".into(),
            storage_type: String::new(),
            default_component_image: String::new(),
            plugin_registry_url: String::new(),
            plugin_registry_internal_url: String::new(),
            openvsx_url: String::new(),
            cluster_console_url: String::new(),
            cluster_console_title: String::new(),
            max_running_per_user: 3,
            editor: "che-incubator/che-code/latest".into(),
            editor_image: "quay.io/che-incubator/che-code:latest".into(),
            routing_class: "che".into(),
            simulated_start_delay: "5s".into(),
            simulated_stop_delay: "2s".into(),
            cluster: ClusterSettings::default(),
        }
    }
}

impl Default for ClusterSettings {
    fn default() -> Self {
        Self {
            mode: "none".into(),
            kubeconfig: String::new(),
            context: String::new(),
            timeout: "10s".into(),
        }
    }
}

/// Which cluster, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterMode {
    /// No cluster: the simulated driver.
    None,
    InCluster,
    Kubeconfig {
        path: Option<PathBuf>,
        context: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub struct WorkspacesConfig {
    pub che_url: url::Url,
    /// `None`: the CheCluster's, else Che's default.
    pub namespace_template: Option<String>,
    pub auto_provision: Option<bool>,
    pub che_namespace: String,
    pub storage_type: Option<String>,
    pub default_component_image: Option<String>,
    pub plugin_registry_url: Option<String>,
    pub plugin_registry_internal_url: String,
    pub openvsx_url: Option<String>,
    /// `(url, title)`.
    pub cluster_console: Option<(String, String)>,
    pub max_running_per_user: u32,
    pub editor: String,
    pub editor_image: String,
    pub routing_class: String,
    pub simulated_start_delay: Duration,
    pub simulated_stop_delay: Duration,
    pub cluster: ClusterMode,
    pub cluster_timeout: Duration,
}

impl WorkspacesSettings {
    pub fn validate(&self) -> Result<WorkspacesConfig, ConfigError> {
        let che_url = url::Url::parse(self.che_url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| {
                ConfigError::new(
                    "workspaces.che_url",
                    format!(
                        "'{}' is not an http(s) URL such as https://che.example.com",
                        self.che_url
                    ),
                )
            })?;
        let template = self.namespace_template.trim();
        let namespace_template = if template.is_empty() {
            None
        } else {
            crate::names::check_namespace_template(template)
                .map_err(|problem| ConfigError::new("workspaces.namespace_template", problem))?;
            Some(template.to_owned())
        };
        let storage_type = match self.storage_type.trim() {
            "" => None,
            t if STORAGE_TYPES.contains(&t) => Some(t.to_owned()),
            other => {
                return Err(ConfigError::new(
                    "workspaces.storage_type",
                    format!("'{other}' is not one of: {}", STORAGE_TYPES.join(", ")),
                ));
            }
        };
        if !crate::names::is_dns_label(self.che_namespace.trim()) {
            return Err(ConfigError::new(
                "workspaces.che_namespace",
                format!("'{}' is not a namespace name", self.che_namespace),
            ));
        }
        let cluster_console = match (
            self.cluster_console_url.trim(),
            self.cluster_console_title.trim(),
        ) {
            ("", "") => None,
            (url, title) => Some((url.to_owned(), title.to_owned())),
        };
        if self.max_running_per_user == 0 {
            return Err(ConfigError::new(
                "workspaces.max_running_per_user",
                "must be at least 1",
            ));
        }
        for (setting, value) in [
            ("workspaces.editor", &self.editor),
            ("workspaces.editor_image", &self.editor_image),
            ("workspaces.routing_class", &self.routing_class),
        ] {
            if value.trim().is_empty() {
                return Err(ConfigError::new(setting, "must not be empty"));
            }
        }
        let non_empty = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
        let cluster = match self.cluster.mode.as_str() {
            "none" => ClusterMode::None,
            "in-cluster" => ClusterMode::InCluster,
            "kubeconfig" => ClusterMode::Kubeconfig {
                path: non_empty(&self.cluster.kubeconfig).map(PathBuf::from),
                context: non_empty(&self.cluster.context),
            },
            other => {
                return Err(ConfigError::new(
                    "workspaces.cluster.mode",
                    format!("'{other}' is not one of: none, in-cluster, kubeconfig"),
                ));
            }
        };
        Ok(WorkspacesConfig {
            che_url,
            namespace_template,
            auto_provision: self.auto_provision,
            che_namespace: self.che_namespace.trim().to_owned(),
            storage_type,
            default_component_image: non_empty(&self.default_component_image),
            plugin_registry_url: non_empty(&self.plugin_registry_url),
            plugin_registry_internal_url: self.plugin_registry_internal_url.trim().to_owned(),
            openvsx_url: non_empty(&self.openvsx_url),
            cluster_console,
            max_running_per_user: self.max_running_per_user,
            editor: self.editor.trim().to_owned(),
            editor_image: self.editor_image.trim().to_owned(),
            routing_class: self.routing_class.trim().to_owned(),
            simulated_start_delay: zero_or_duration(
                "workspaces.simulated_start_delay",
                &self.simulated_start_delay,
            )?,
            simulated_stop_delay: zero_or_duration(
                "workspaces.simulated_stop_delay",
                &self.simulated_stop_delay,
            )?,
            cluster,
            cluster_timeout: super::duration("workspaces.cluster.timeout", &self.cluster.timeout)?,
        })
    }
}

/// Che's storage strategies (`controller.devfile.io/storage-type`).
pub const STORAGE_TYPES: &[&str] = &["common", "per-user", "per-workspace", "ephemeral", "async"];

fn zero_or_duration(setting: &str, value: &str) -> Result<Duration, ConfigError> {
    if matches!(value.trim(), "0" | "0s") {
        return Ok(Duration::ZERO);
    }
    super::duration(setting, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(edit: impl FnOnce(&mut WorkspacesSettings)) -> String {
        let mut settings = WorkspacesSettings::default();
        edit(&mut settings);
        let err = settings.validate().expect_err("refused");
        format!("{}: {}", err.setting, err.problem)
    }

    #[test]
    fn defaults_are_simulated_with_fawkes_settings() {
        let config = WorkspacesSettings::default().validate().unwrap();
        assert_eq!(config.cluster, ClusterMode::None);
        assert_eq!(config.max_running_per_user, 3);
        assert_eq!(
            config.namespace_template, None,
            "the CheCluster's, else Che's"
        );
        assert_eq!(config.che_namespace, "eclipse-che");
        assert_eq!(config.simulated_start_delay, Duration::from_secs(5));
    }

    #[test]
    fn every_bad_setting_is_named() {
        assert!(
            problem(|s| s.che_url = "che.example.com".into()).starts_with("workspaces.che_url:")
        );
        assert!(
            problem(|s| s.namespace_template = "workspaces".into())
                .contains("must contain <username>")
        );
        assert!(problem(|s| s.namespace_template = "<username>_ws".into()).contains("DNS label"));
        assert!(
            problem(|s| s.storage_type = "shared".into()).starts_with("workspaces.storage_type")
        );
        assert!(
            problem(|s| s.max_running_per_user = 0).starts_with("workspaces.max_running_per_user")
        );
        assert!(problem(|s| s.editor_image = " ".into()).starts_with("workspaces.editor_image"));
        assert!(
            problem(|s| s.cluster.mode = "k8s".into())
                .contains("not one of: none, in-cluster, kubeconfig")
        );
        assert!(
            problem(|s| s.cluster.timeout = "soon".into())
                .starts_with("workspaces.cluster.timeout")
        );
        assert!(
            problem(|s| s.simulated_stop_delay = "x".into())
                .starts_with("workspaces.simulated_stop_delay")
        );
    }

    #[test]
    fn kubeconfig_mode_takes_a_path_and_context() {
        let mut settings = WorkspacesSettings::default();
        settings.cluster.mode = "kubeconfig".into();
        settings.cluster.context = "prod".into();
        settings.simulated_start_delay = "0s".into();
        let config = settings.validate().unwrap();
        assert_eq!(
            config.cluster,
            ClusterMode::Kubeconfig {
                path: None,
                context: Some("prod".into())
            }
        );
        assert_eq!(config.simulated_start_delay, Duration::ZERO);
    }
}
