//! Namespaces as Che finds and provisions them (che-server `KubernetesNamespaceFactory`,
//! `KubernetesNamespace.prepare`), and the CheCluster as Che's dashboard reads it.

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams,
};
use serde_json::{Value, json};

use super::{KubeCluster, to_value};
use crate::workspaces::cluster::ClusterError;
use crate::workspaces::namespace::{LABELS, USERNAME_ANNOTATION};

const NAMESPACES: &str = "namespaces";
const CHECLUSTERS: &str = "checlusters.org.eclipse.che";

fn selector() -> String {
    LABELS
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn owner(namespace: &Value) -> Option<&str> {
    namespace
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(USERNAME_ANNOTATION))
        .and_then(Value::as_str)
}

impl KubeCluster {
    pub(super) async fn read_che_cluster(
        &self,
        namespace: &str,
    ) -> Result<Option<Value>, ClusterError> {
        let resource = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("org.eclipse.che", "v2", "CheCluster"),
            "checlusters",
        );
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), namespace, &resource);
        match self
            .call(
                "list",
                CHECLUSTERS,
                Some(namespace),
                api.list(&ListParams::default()),
            )
            .await
        {
            Ok(list) => Ok(list.items.first().map(to_value)),
            // Che not installed (no such resource) or the namespace absent.
            Err(ClusterError::NotFound | ClusterError::NamespaceMissing(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Che's lookup: namespaces with Che's labels whose annotation names `username`; the first
    /// by name.
    pub(super) async fn find_labelled_namespace(
        &self,
        username: &str,
    ) -> Result<Option<String>, ClusterError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let params = ListParams::default().labels(&selector());
        let list = match self.call("list", NAMESPACES, None, api.list(&params)).await {
            Ok(list) => list,
            Err(ClusterError::Forbidden { .. }) => {
                // As che-server: without the permission, the template decides.
                tracing::warn!(
                    "may not list namespaces: a user's namespace comes from the template"
                );
                return Ok(None);
            }
            Err(other) => return Err(other),
        };
        let mut names: Vec<String> = list
            .items
            .iter()
            .map(to_value)
            .filter(|n| owner(n) == Some(username))
            .filter_map(|n| {
                n.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect();
        names.sort();
        Ok(names.into_iter().next())
    }

    pub(super) async fn prepare(
        &self,
        name: &str,
        username: &str,
        provision: bool,
    ) -> Result<(), ClusterError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let found = match self.call("get", NAMESPACES, None, api.get_opt(name)).await {
            Ok(found) => found.map(|n| to_value(&n)),
            Err(ClusterError::Forbidden { .. }) if !provision => {
                tracing::warn!(
                    namespace = name,
                    "may not read namespaces: its owner is not checked on the cluster"
                );
                return Ok(());
            }
            Err(other) => return Err(other),
        };
        let labels: serde_json::Map<String, Value> = LABELS
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        match found {
            Some(namespace) => {
                match owner(&namespace) {
                    Some(other) if other != username => {
                        return Err(ClusterError::NamespaceTaken(name.to_owned()));
                    }
                    _ => {}
                }
                let labelled = LABELS.iter().all(|(k, v)| {
                    namespace
                        .pointer("/metadata/labels")
                        .and_then(|l| l.get(*k))
                        .and_then(Value::as_str)
                        == Some(*v)
                });
                if provision && (!labelled || owner(&namespace).is_none()) {
                    let patch = json!({"metadata": {"labels": labels,
                        "annotations": {USERNAME_ANNOTATION: username}}});
                    self.call(
                        "patch",
                        NAMESPACES,
                        None,
                        api.patch(name, &PatchParams::default(), &Patch::Merge(&patch)),
                    )
                    .await?;
                }
                Ok(())
            }
            None if provision => {
                let namespace: Namespace = serde_json::from_value(json!({
                    "apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": name, "labels": labels,
                                 "annotations": {USERNAME_ANNOTATION: username}},
                }))
                .map_err(|e| ClusterError::Other(e.into()))?;
                match self
                    .call(
                        "create",
                        NAMESPACES,
                        None,
                        api.create(&PostParams::default(), &namespace),
                    )
                    .await
                {
                    Ok(_) => Ok(()),
                    // Made meanwhile (another replica, Che): whose is it?
                    Err(ClusterError::NameTaken(_)) => {
                        let again = self.call("get", NAMESPACES, None, api.get(name)).await?;
                        match owner(&to_value(&again)) {
                            Some(other) if other != username => {
                                Err(ClusterError::NamespaceTaken(name.to_owned()))
                            }
                            _ => Ok(()),
                        }
                    }
                    Err(other) => Err(other),
                }
            }
            None => Err(ClusterError::NamespaceMissing(name.to_owned())),
        }
    }
}
