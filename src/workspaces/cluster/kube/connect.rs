//! Building the client for the configured cluster (in-cluster service account or kubeconfig).

use std::sync::Arc;

use super::KubeCluster;
use crate::config::WorkspacesConfig;
use crate::config::workspaces::ClusterMode;

impl KubeCluster {
    /// A client for the configured cluster (in-cluster service account or kubeconfig).
    pub async fn connect(config: Arc<WorkspacesConfig>) -> anyhow::Result<KubeCluster> {
        crate::fetch::install_crypto_provider();
        let mut kube_config = match &config.cluster {
            ClusterMode::InCluster => kube::Config::incluster()
                .map_err(|e| anyhow::anyhow!("workspaces.cluster.mode is in-cluster, but: {e}"))?,
            ClusterMode::Kubeconfig { path, context } => {
                let options = kube::config::KubeConfigOptions {
                    context: context.clone(),
                    cluster: None,
                    user: None,
                };
                let read = match path {
                    Some(path) => {
                        let file = kube::config::Kubeconfig::read_from(path).map_err(|e| {
                            anyhow::anyhow!("cannot read kubeconfig {}: {e}", path.display())
                        })?;
                        kube::Config::from_custom_kubeconfig(file, &options).await
                    }
                    None => kube::Config::from_kubeconfig(&options).await,
                };
                read.map_err(|e| anyhow::anyhow!("cannot use the kubeconfig: {e}"))?
            }
            ClusterMode::None => anyhow::bail!("no cluster is configured"),
        };
        let timeout = Some(config.cluster_timeout);
        kube_config.connect_timeout = timeout;
        kube_config.read_timeout = timeout;
        kube_config.write_timeout = timeout;
        let client = kube::Client::try_from(kube_config)
            .map_err(|e| anyhow::anyhow!("cannot build the Kubernetes client: {e}"))?;
        Ok(Self::new(client, config))
    }
}
