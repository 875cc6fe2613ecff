//! The che-code editor as Che's dashboard creates it: Che's editor definition
//! `che-incubator/che-code/latest` (che-operator `editors-definitions/che-code-latest.yaml`,
//! 37847c475aefe3cab52743aa5e34ac8f478d34e2) made a DevWorkspaceTemplate by the devworkspace
//! generator (`generate.ts`: the editor devfile without `schemaVersion` and `metadata`, named
//! `<editor name>-<workspace name>`), then given by the dashboard (`devWorkspaceClient.ts`
//! `createDevWorkspaceTemplate`, `helpers.ts` `getDevWorkspaceTemplateFromResources`):
//! an owner reference to the workspace (`{apiVersion, kind: devworkspace, name, uid}`, no
//! `blockOwnerDeletion`), the `managed` update policy with the editor's URL on the dashboard's
//! editors API, and the dashboard's environment in every container.

use serde_json::{Value, json};

use super::Build;

/// The editor definition's `metadata.name`.
pub const EDITOR_NAME: &str = "che-code";
/// The runtime description's image in the definition (the operator replaces only the injector's;
/// the contribution is merged into the user's container, whose image wins).
const RUNTIME_IMAGE: &str = "quay.io/devfile/universal-developer-image:latest";
/// Where the dashboard reads an editor definition by id (`DevfileRegistries/const.ts`
/// `EDITOR_DEVFILE_API_QUERY`): the template's `che.eclipse.org/plugin-registry-url`.
const EDITOR_DEVFILE_API_QUERY: &str =
    "http://127.0.0.1:8080/dashboard/api/editors/devfile?che-editor=";
/// Che's dashboard updates a `managed` editor template when the editor definition changes.
pub const COMPONENTS_UPDATE_POLICY: &str = "che.eclipse.org/components-update-policy";
/// Where the dashboard reads the editor definition again.
pub const PLUGIN_REGISTRY_URL: &str = "che.eclipse.org/plugin-registry-url";

/// The template's name for workspace `name`.
pub fn template_name(name: &str) -> String {
    format!("{EDITOR_NAME}-{name}")
}

/// The editor definition's body (what becomes the template's `spec`).
fn definition(injector_image: &str) -> Value {
    let redirect = |n: u16| {
        json!({"name": format!("code-redirect-{n}"), "targetPort": 13130 + n, "exposure": "public",
               "protocol": "https", "attributes": {"discoverable": false, "urlRewriteSupported": false}})
    };
    json!({
        "commands": [
            {"id": "init-container-command", "apply": {"component": "che-code-injector"}},
            {"id": "init-che-code-command", "exec": {
                "component": "che-code-runtime-description",
                "commandLine": "nohup /checode/entrypoint-volume.sh > /checode/entrypoint-logs.txt 2>&1 &"}},
        ],
        "events": {"preStart": ["init-container-command"], "postStart": ["init-che-code-command"]},
        "components": [
            {"name": "che-code-injector", "container": {
                "image": injector_image, "command": ["/entrypoint-init-container.sh"],
                "volumeMounts": [{"name": "checode", "path": "/checode"}],
                "memoryLimit": "256Mi", "memoryRequest": "32Mi", "cpuLimit": "500m", "cpuRequest": "30m"}},
            {"name": "che-code-runtime-description",
             "container": {
                "image": RUNTIME_IMAGE,
                "memoryLimit": "1024Mi", "memoryRequest": "256Mi", "cpuLimit": "500m", "cpuRequest": "30m",
                "volumeMounts": [{"name": "checode", "path": "/checode"}],
                "endpoints": [
                    {"name": "che-code", "attributes": {"type": "main", "cookiesAuthEnabled": true,
                     "discoverable": false, "urlRewriteSupported": true},
                     "targetPort": 3100, "exposure": "public", "secure": true, "protocol": "https"},
                    redirect(1), redirect(2), redirect(3),
                ]},
             "attributes": {"app.kubernetes.io/component": "che-code-runtime",
                            "app.kubernetes.io/part-of": "che-code.eclipse.org",
                            "controller.devfile.io/container-contribution": true}},
            {"name": "checode", "volume": {}},
        ],
        "attributes": {"version": null},
    })
}

/// The dashboard's environment (`addEnvVarsToContainers`), appended to each container's own
/// (without earlier values of the same names), in the dashboard's order.
fn add_environment(spec: &mut Value, build: &Build) {
    let che = build.che;
    let mut env = vec![
        json!({"name": "CHE_DASHBOARD_URL", "value": che.dashboard_url}),
        json!({"name": "CHE_PLUGIN_REGISTRY_URL", "value": che.plugin_registry_url}),
        json!({"name": "CHE_PLUGIN_REGISTRY_INTERNAL_URL", "value": che.plugin_registry_internal_url}),
    ];
    if let Some((url, title)) = &che.cluster_console {
        env.push(json!({"name": "CLUSTER_CONSOLE_URL", "value": url}));
        env.push(json!({"name": "CLUSTER_CONSOLE_TITLE", "value": title}));
    }
    env.push(json!({"name": "OPENVSX_REGISTRY_URL", "value": che.openvsx_url}));
    let names: Vec<Value> = env.iter().map(|e| e["name"].clone()).collect();
    let components = spec.get_mut("components").and_then(Value::as_array_mut);
    for container in components
        .into_iter()
        .flatten()
        .filter_map(|c| c.get_mut("container"))
    {
        let mut own: Vec<Value> = container
            .get("env")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        own.retain(|e| !names.contains(&e["name"]));
        own.extend(env.iter().cloned());
        container["env"] = Value::Array(own);
    }
}

/// The editor's DevWorkspaceTemplate, owned by the DevWorkspace `uid`.
pub fn template(build: &Build, uid: &str) -> Value {
    let mut spec = definition(build.editor_image);
    add_environment(&mut spec, build);
    json!({
        "apiVersion": super::API_VERSION,
        "kind": "DevWorkspaceTemplate",
        "metadata": {
            "name": template_name(build.name),
            "namespace": build.namespace,
            "annotations": {
                COMPONENTS_UPDATE_POLICY: "managed",
                PLUGIN_REGISTRY_URL: format!("{EDITOR_DEVFILE_API_QUERY}{}", build.editor),
            },
            "ownerReferences": [{
                "apiVersion": super::API_VERSION,
                "kind": "devworkspace",
                "name": build.name,
                "uid": uid,
            }],
        },
        "spec": spec,
    })
}
