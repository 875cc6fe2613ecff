//! How the manifests' pieces connect: each overlay's settings as the pod would start with them,
//! the ServiceMonitor component against the Service, the Argo CD Application against an overlay.

use std::path::Path;

use fawkes_portal::config::{Overrides, Settings};
use serde_json::Value;

use super::{OVERLAYS, ROOT, deployment_env, objects, one, render, render_dir, tools};

/// What the pod would start with: the ConfigMap's file plus the container's environment, with
/// made-up values for the Secrets and the key file at a real path.
fn pod_settings(objects: &[Value], key_file: &Path) -> Settings {
    let dir = tempfile::TempDir::new().unwrap();
    let toml = one(objects, "ConfigMap")["data"]["fawkes-portal.toml"]
        .as_str()
        .unwrap()
        .to_owned();
    let file = dir.path().join("fawkes-portal.toml");
    std::fs::write(&file, toml).unwrap();
    let secrets = [
        (
            "database-url",
            "postgres://portal:secret@postgres:5432/portal",
        ),
        ("redis-url", "redis://redis:6379"),
        (
            "static-tokens",
            r#"[{"token": "a-pipeline-token", "subject": "fawkes-pipelines"}]"#,
        ),
    ];
    let mut env = Vec::new();
    for var in deployment_env(one(objects, "Deployment")) {
        let name = var["name"].as_str().unwrap().to_owned();
        let value = if let Some(value) = var["value"].as_str() {
            value.to_owned()
        } else {
            // An optional Secret key is left out (as in a minimal installation), except the
            // static tokens, to see their JSON list read.
            let from = &var["valueFrom"]["secretKeyRef"];
            let key = from["key"].as_str().unwrap();
            if from["optional"] == true && key != "static-tokens" {
                continue;
            }
            secrets
                .iter()
                .find(|(k, _)| *k == key)
                .unwrap()
                .1
                .to_owned()
        };
        let value = match name.as_str() {
            "FAWKES_PORTAL_AUTH__ISSUER__KEY_FILE" => key_file.display().to_string(),
            "FAWKES_PORTAL_CONFIG" => continue,
            _ => value,
        };
        env.push((name, value));
    }
    Settings::load(Some(&file), env, &Overrides::default()).unwrap()
}

#[test]
fn each_overlays_settings_are_valid_and_as_documented() {
    let tools = tools_or_skip!();
    let key = tempfile::Builder::new().suffix(".pem").tempfile().unwrap();
    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    let pem =
        p256::pkcs8::EncodePrivateKey::to_pkcs8_pem(&secret, p256::pkcs8::LineEnding::LF).unwrap();
    std::fs::write(key.path(), pem.as_bytes()).unwrap();
    for overlay in OVERLAYS {
        let objects = objects(&render(&tools, overlay));
        let settings = pod_settings(&objects, key.path());
        let config = settings
            .validate()
            .unwrap_or_else(|e| panic!("{overlay}: {e}"));
        assert_eq!(config.server.listen.to_string(), "0.0.0.0:7007");
        assert_eq!(config.server.public_base_path, "/api/proxy/fawkes-portal");
        assert!(config.auth.backstage.is_some(), "{overlay}");
        assert_eq!(config.auth.static_tokens[0].subject, "fawkes-pipelines");
        let ha = overlay == "ha";
        assert_eq!(
            matches!(
                config.database.url,
                fawkes_portal::config::DatabaseUrl::Postgres(_)
            ),
            ha,
            "{overlay}"
        );
        assert_eq!(
            config.auth.issuer.as_ref().unwrap().key_file.is_some(),
            ha,
            "{overlay}"
        );
    }
}

#[test]
fn the_service_monitor_component_scrapes_the_service() {
    let tools = tools_or_skip!();
    // Kustomize takes only relative paths to other kustomizations: a directory below the repository.
    let dir = tempfile::TempDir::new_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let root = std::fs::canonicalize(ROOT).unwrap();
    let below = std::fs::canonicalize(dir.path()).unwrap();
    let depth = below
        .strip_prefix(&root)
        .expect("the target directory is inside the repository")
        .components()
        .count();
    let up = "../".repeat(depth);
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        format!(
            "resources: [{up}deploy/kubernetes/overlays/ha]\n\
             components: [{up}deploy/kubernetes/components/service-monitor]\n"
        ),
    )
    .unwrap();
    let yaml = render_dir(
        &tools,
        dir.path(),
        &["--load-restrictor", "LoadRestrictionsNone"],
    );
    let objects = objects(&yaml);
    let monitor = one(&objects, "ServiceMonitor");
    let service = one(&objects, "Service");
    let wanted = monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .unwrap();
    for (label, value) in wanted {
        assert_eq!(&service["metadata"]["labels"][label], value, "{label}");
    }
    assert_eq!(
        monitor["spec"]["endpoints"][0]["port"],
        service["spec"]["ports"][0]["name"]
    );
    assert_eq!(monitor["spec"]["endpoints"][0]["path"], "/metrics");
    assert_eq!(
        monitor["metadata"]["namespace"],
        service["metadata"]["namespace"]
    );
}

#[test]
fn the_argo_cd_application_deploys_an_overlay_into_its_namespace() {
    let tools = tools_or_skip!();
    let text = std::fs::read_to_string(
        Path::new(ROOT).join("deploy/kubernetes/argocd/fawkes-portal-application.yaml"),
    )
    .unwrap();
    let app: Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(app["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(app["kind"], "Application");
    let source = &app["spec"]["source"];
    let path = source["path"].as_str().unwrap();
    let overlay = path
        .strip_prefix("deploy/kubernetes/overlays/")
        .expect("an overlay");
    let objects = objects(&render(&tools, overlay));
    let namespace = &one(&objects, "Deployment")["metadata"]["namespace"];
    assert_eq!(&app["spec"]["destination"]["namespace"], namespace);
    for image in source["kustomize"]["images"].as_array().unwrap() {
        let image = image.as_str().unwrap();
        let (name, target) = image.split_once('=').unwrap();
        let base_image =
            one(&objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"]
                .as_str()
                .unwrap();
        assert!(base_image.starts_with(&format!("{name}:")), "{image}");
        assert!(
            !target.ends_with(":latest") && target.contains(':'),
            "{image}"
        );
    }
    assert_eq!(app["spec"]["syncPolicy"]["automated"]["prune"], true);
}
