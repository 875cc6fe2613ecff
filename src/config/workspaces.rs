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
    /// The namespace a user's workspaces live in; `{user}` is the user name made a DNS label.
    pub namespace_template: String,
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
            namespace_template: "{user}-workspaces".into(),
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
    pub namespace_template: String,
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
        if !template.contains("{user}") {
            return Err(ConfigError::new(
                "workspaces.namespace_template",
                format!("'{template}' must contain {{user}}, e.g. {{user}}-workspaces"),
            ));
        }
        let sample = template.replace("{user}", "u");
        if !crate::names::is_dns_label(&sample) {
            return Err(ConfigError::new(
                "workspaces.namespace_template",
                format!(
                    "'{template}' must make a DNS label (lowercase letters, digits and '-') once {{user}} is filled in"
                ),
            ));
        }
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
            namespace_template: template.to_owned(),
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
        assert_eq!(config.namespace_template, "{user}-workspaces");
        assert_eq!(config.simulated_start_delay, Duration::from_secs(5));
    }

    #[test]
    fn every_bad_setting_is_named() {
        assert!(
            problem(|s| s.che_url = "che.example.com".into()).starts_with("workspaces.che_url:")
        );
        assert!(
            problem(|s| s.namespace_template = "workspaces".into()).contains("must contain {user}")
        );
        assert!(problem(|s| s.namespace_template = "{user}_ws".into()).contains("DNS label"));
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
