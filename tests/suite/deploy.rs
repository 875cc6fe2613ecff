//! The Kubernetes manifests (deploy/kubernetes) as a cluster would get them: each overlay rendered
//! with `kubectl kustomize`, every object validated offline against the Kubernetes schemas
//! (`kubernetes-validate`, installed by scripts/test into target/test-venv with kubectl itself),
//! and the invariants the operators rely on: non-root, read-only root, probes, pinned images, RBAC
//! equal to the README's list, one replica on a volume or several spread out, valid settings.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const OVERLAYS: [&str; 2] = ["single", "ha"];
/// The oldest Kubernetes the manifests target (k8s-openapi's feature), and the newest schemas.
const VERSIONS: [&str; 2] = ["1.33.0", "1.37.0"];

struct Tools {
    kubectl: PathBuf,
    validate: PathBuf,
}

/// kubectl and kubernetes-validate from scripts/test's venv (or the environment).
fn tools() -> Option<Tools> {
    let venv = Path::new(ROOT).join("target/test-venv/bin");
    let find = |var: &str, name: &str| -> Option<PathBuf> {
        let path = std::env::var_os(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| venv.join(name));
        path.is_file().then_some(path)
    };
    Some(Tools {
        kubectl: find("FAWKES_KUBECTL", "kubectl")?,
        validate: find("FAWKES_KUBERNETES_VALIDATE", "kubernetes-validate")?,
    })
}

macro_rules! tools_or_skip {
    () => {
        match tools() {
            Some(tools) => tools,
            None => crate::skip_without!(
                "kubectl and kubernetes-validate (scripts/test installs them in target/test-venv)"
            ),
        }
    };
}

mod wiring;

fn render_dir(tools: &Tools, dir: &Path, extra: &[&str]) -> String {
    let output = Command::new(&tools.kubectl)
        .arg("kustomize")
        .args(extra)
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "kubectl kustomize {}: {}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn render(tools: &Tools, overlay: &str) -> String {
    render_dir(
        tools,
        &Path::new(ROOT)
            .join("deploy/kubernetes/overlays")
            .join(overlay),
        &[],
    )
}

fn objects(yaml: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(yaml)
        .unwrap()
        .into_iter()
        .filter(|o| !o.is_null())
        .collect()
}

fn of_kind<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["kind"] == kind).collect()
}

fn one<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    let found = of_kind(objects, kind);
    assert_eq!(found.len(), 1, "one {kind}");
    found[0]
}

/// Runs kubernetes-validate on `yaml`; returns its output, asserting success for every version.
fn validate(tools: &Tools, yaml: &str) -> String {
    let file = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    std::fs::write(file.path(), yaml).unwrap();
    let mut all = String::new();
    for version in VERSIONS {
        let output = Command::new(&tools.validate)
            .args(["--strict", "-k", version])
            .arg(file.path())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "Kubernetes {version}: {text}");
        all.push_str(&text);
    }
    all
}

#[test]
fn every_overlay_renders_and_validates_against_the_kubernetes_schemas() {
    let tools = tools_or_skip!();
    for overlay in OVERLAYS {
        let yaml = render(&tools, overlay);
        let report = validate(&tools, &yaml);
        let passed = report.matches(" passed for resource ").count();
        assert_eq!(
            passed,
            objects(&yaml).len() * VERSIONS.len(),
            "{overlay}: every object checked against a schema:\n{report}"
        );
    }
    // The Ingress that gives Backstage's /api/catalog to us.
    let ingress =
        std::fs::read_to_string(Path::new(ROOT).join("deploy/backstage/ingress-catalog.yaml"))
            .unwrap();
    let report = validate(&tools, &ingress);
    assert!(report.contains("passed for resource ingress/"), "{report}");
}

#[test]
fn the_validator_is_not_a_rubber_stamp() {
    let tools = tools_or_skip!();
    let yaml = render(&tools, "single").replacen("replicas: 1", "replicas: one", 1);
    let file = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    std::fs::write(file.path(), yaml).unwrap();
    let output = Command::new(&tools.validate)
        .arg("--strict")
        .arg(file.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("spec.replicas"));
}

#[test]
fn pods_run_non_root_read_only_with_probes_limits_and_pinned_images() {
    let tools = tools_or_skip!();
    for overlay in OVERLAYS {
        let objects = objects(&render(&tools, overlay));
        let deployment = one(&objects, "Deployment");
        let pod = &deployment["spec"]["template"]["spec"];
        let context = &pod["securityContext"];
        assert_eq!(context["runAsNonRoot"], true, "{overlay}");
        assert!(context["runAsUser"].as_u64().unwrap() > 0, "{overlay}");
        assert_eq!(context["seccompProfile"]["type"], "RuntimeDefault");
        for container in pod["containers"].as_array().unwrap() {
            let security = &container["securityContext"];
            assert_eq!(security["readOnlyRootFilesystem"], true, "{overlay}");
            assert_eq!(security["allowPrivilegeEscalation"], false, "{overlay}");
            assert_eq!(security["capabilities"]["drop"], serde_json::json!(["ALL"]));
            assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
            assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
            for kind in ["requests", "limits"] {
                let resources = &container["resources"][kind];
                assert!(
                    resources["cpu"].is_string() && resources["memory"].is_string(),
                    "{overlay}: {kind}"
                );
            }
            let image = container["image"].as_str().unwrap();
            let tag = image.rsplit_once(':').map(|(_, tag)| tag).unwrap_or("");
            assert!(
                !tag.is_empty() && tag != "latest" && !tag.contains('/'),
                "{overlay}: image {image} must name a version"
            );
            // The only writable paths are volumes.
            let mounts: BTreeSet<&str> = container["volumeMounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["mountPath"].as_str().unwrap())
                .collect();
            assert!(mounts.contains("/var/lib/fawkes-portal") && mounts.contains("/tmp"));
        }
        let service = one(&objects, "Service");
        assert_eq!(service["spec"]["ports"][0]["port"], 7007);
        let selector = &service["spec"]["selector"];
        assert_eq!(
            selector, &deployment["spec"]["selector"]["matchLabels"],
            "{overlay}: the Service selects the pods"
        );
        let budget = one(&objects, "PodDisruptionBudget");
        assert_eq!(&budget["spec"]["selector"]["matchLabels"], selector);
        assert_eq!(
            pod["serviceAccountName"],
            one(&objects, "ServiceAccount")["metadata"]["name"]
        );
    }
}

/// The README's table of the Kubernetes permissions the Che driver needs, between
/// `<!-- rbac -->` and `<!-- /rbac -->`: (API group, resource, verb) triples.
fn documented_permissions() -> BTreeSet<(String, String, String)> {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let start = readme
        .find("<!-- rbac -->")
        .expect("README has <!-- rbac -->");
    let end = readme
        .find("<!-- /rbac -->")
        .expect("README has <!-- /rbac -->");
    let mut found = BTreeSet::new();
    for row in readme[start..end].lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        if cells.len() < 3 || cells[0] == "API group" || cells[0].starts_with("---") {
            continue;
        }
        let unquote = |cell: &str| cell.trim_matches('`').to_owned();
        // The core API group's name is empty; the table says `(core)`.
        let group = if cells[0] == "(core)" {
            String::new()
        } else {
            unquote(cells[0])
        };
        for verb in cells[2].split(',') {
            found.insert((group.clone(), unquote(cells[1]), unquote(verb.trim())));
        }
    }
    assert!(!found.is_empty(), "the README's permission table is empty");
    found
}

#[test]
fn the_rbac_grants_exactly_the_documented_permissions() {
    let tools = tools_or_skip!();
    let documented = documented_permissions();
    for overlay in OVERLAYS {
        let objects = objects(&render(&tools, overlay));
        let mut granted = BTreeSet::new();
        for role in of_kind(&objects, "ClusterRole")
            .into_iter()
            .chain(of_kind(&objects, "Role"))
        {
            for rule in role["rules"].as_array().unwrap() {
                let list = |key: &str| -> Vec<String> {
                    rule[key]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap().to_owned())
                        .collect()
                };
                for group in list("apiGroups") {
                    for resource in list("resources") {
                        for verb in list("verbs") {
                            assert_ne!(verb, "*", "no wildcard verbs");
                            granted.insert((group.clone(), resource.clone(), verb));
                        }
                    }
                }
            }
        }
        assert_eq!(
            granted, documented,
            "{overlay}: RBAC differs from the README"
        );
        // Granted to the server's own service account.
        let account = one(&objects, "ServiceAccount")["metadata"].clone();
        for binding in of_kind(&objects, "ClusterRoleBinding")
            .into_iter()
            .chain(of_kind(&objects, "RoleBinding"))
        {
            let subject = &binding["subjects"][0];
            assert_eq!(subject["kind"], "ServiceAccount");
            assert_eq!(subject["name"], account["name"]);
            assert_eq!(subject["namespace"], account["namespace"]);
        }
    }
}

fn deployment_env(deployment: &Value) -> Vec<Value> {
    deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .clone()
}

fn env_named<'a>(env: &'a [Value], name: &str) -> Option<&'a Value> {
    env.iter().find(|e| e["name"] == name)
}

#[test]
fn single_is_one_replica_on_a_volume_and_ha_several_spread_on_shared_services() {
    let tools = tools_or_skip!();
    let single = objects(&render(&tools, "single"));
    let deployment = one(&single, "Deployment");
    assert_eq!(deployment["spec"]["replicas"], 1);
    assert_eq!(deployment["spec"]["strategy"]["type"], "Recreate");
    let claim = one(&single, "PersistentVolumeClaim");
    let data = deployment["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "data")
        .unwrap();
    assert_eq!(
        data["persistentVolumeClaim"]["claimName"],
        claim["metadata"]["name"]
    );
    assert!(data.get("emptyDir").is_none());

    let ha = objects(&render(&tools, "ha"));
    let deployment = one(&ha, "Deployment");
    assert!(deployment["spec"]["replicas"].as_u64().unwrap() >= 2);
    let pod = &deployment["spec"]["template"]["spec"];
    assert!(pod["affinity"]["podAntiAffinity"].is_object());
    assert!(of_kind(&ha, "PersistentVolumeClaim").is_empty());
    assert_eq!(one(&ha, "PodDisruptionBudget")["spec"]["minAvailable"], 1);
    let env = deployment_env(deployment);
    for (name, key) in [
        ("FAWKES_PORTAL_DATABASE__URL", "database-url"),
        ("FAWKES_PORTAL_RATE_LIMIT__REDIS_URL", "redis-url"),
    ] {
        let from = &env_named(&env, name).unwrap()["valueFrom"]["secretKeyRef"];
        assert_eq!(from["key"], key);
        assert_eq!(from["optional"], false, "{name} is required");
    }
    assert_eq!(
        env_named(&env, "FAWKES_PORTAL_RATE_LIMIT__BACKEND").unwrap()["value"],
        "redis"
    );
    let key = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "issuer-key")
        .unwrap();
    assert_eq!(key["secret"]["optional"], false);
}
