//! The in-process API server's own rules, as the driver meets them: a write with a stale
//! resourceVersion is a 409 Conflict, and a status is written only through the status subresource.

use serde_json::{Value, json};

use super::kube_server::{KubeServer, TOKEN};
use super::kubernetes::{NS, driver, new_workspace};
use fawkes_portal::workspaces::cluster::Cluster;
use fawkes_portal::workspaces::model::Owner;

#[tokio::test]
async fn a_write_with_a_stale_resource_version_is_a_conflict() {
    let server = KubeServer::start(&[NS]).await;
    let cluster = driver(&server.kubeconfig).await;
    let owner = Owner::new("user:default/tester");
    let workspace = cluster
        .create(&new_workspace(owner.subject(), "py-1"))
        .await
        .unwrap();
    let object = server.object("devworkspaces", NS, "py-1").unwrap();
    // Another client (the operator) writes meanwhile.
    server.set_status(NS, "py-1", json!({"phase": "Running"}));
    let client = reqwest::Client::new();
    let url = format!(
        "http://{}/apis/workspace.devfile.io/v1alpha2/namespaces/{NS}/devworkspaces/py-1",
        server.addr
    );
    let stale = json!({"metadata": {"resourceVersion": object["metadata"]["resourceVersion"]},
                       "spec": {"started": false}});
    let response = client
        .patch(&url)
        .bearer_auth(TOKEN)
        .header("content-type", "application/merge-patch+json")
        .body(stale.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["reason"], "Conflict");
    // Through the object's endpoint, a status is not written; through the status subresource it is.
    let response = client
        .patch(&url)
        .bearer_auth(TOKEN)
        .header("content-type", "application/merge-patch+json")
        .body(json!({"status": {"phase": "Failed"}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        server.object("devworkspaces", NS, "py-1").unwrap()["status"]["phase"],
        "Running"
    );
    let response = client
        .patch(format!("{url}/status"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/merge-patch+json")
        .body(json!({"status": {"phase": "Failed"}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        server.object("devworkspaces", NS, "py-1").unwrap()["status"]["phase"],
        "Failed"
    );
    // The driver's start reads first, so it is not refused.
    cluster
        .set_started(&workspace, true, "2026-11-27T12:00:00.000Z")
        .await
        .unwrap();
}
