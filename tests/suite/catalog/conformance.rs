//! Conformance with the real `@backstage/catalog-client` (tests/conformance, installed with
//! `npm ci` by scripts/test): a Node script drives the server over HTTP through the client's own
//! calls. Skipped with a notice when Node or `tests/conformance/node_modules` is missing.

use std::path::Path;
use std::process::Command;

use fawkes_portal::app::App;
use fawkes_portal::auth::issuer::TokenSubject;
use fawkes_portal::config::Settings;

const FIXTURE: &str = "apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: svc-a, tags: [java]}
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: svc-b}
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: svc-c}
spec: {type: website, lifecycle: experimental, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: broken-location}
spec: {type: file, target: ./nowhere.yaml}
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_catalog_client_works_against_the_server() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance"));
    if !dir.join("node_modules/@backstage/catalog-client").is_dir()
        || Command::new("node").arg("--version").output().is_err()
    {
        crate::skip_without!("Node.js with tests/conformance/node_modules (run `npm ci` there)");
    }
    let temp = tempfile::TempDir::new().unwrap();
    let root = std::fs::canonicalize(temp.path()).unwrap();
    let target = root.join("catalog-info.yaml");
    std::fs::write(&target, FIXTURE).unwrap();
    let mut settings = Settings {
        data_dir: root.join("data").display().to_string(),
        ..Settings::default()
    };
    settings.catalog.file_roots = vec![root.display().to_string()];
    settings.rate_limit.service_per_minute = 1_000_000;
    let app = App::build(settings.validate().unwrap()).await.unwrap();
    let token = app
        .state()
        .auth
        .issuer
        .as_ref()
        .unwrap()
        .issue(
            &TokenSubject::service("conformance").unwrap(),
            None,
            jsonwebtoken::get_current_timestamp(),
        )
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async {
        let _ = stopped.await;
    }));
    let output = tokio::process::Command::new("node")
        .arg("run.mjs")
        .current_dir(dir)
        .env("BASE_URL", &base)
        .env("TOKEN", &token)
        .env("TARGET", target.display().to_string())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(60), output)
        .await
        .expect("the conformance script finished within 60s")
        .unwrap();
    let _ = stop.send(());
    let _ = server.await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "conformance failed:\n{stdout}\n{stderr}"
    );
    for step in [
        "addLocation",
        "getEntityByRef",
        "getEntities with filters and fields",
        "getEntitiesByRefs",
        "queryEntities with cursor pages",
        "getEntityFacets",
        "getLocationByRef",
        "refreshEntity",
        "validateEntity",
        "getEntityAncestors",
        "entity with status.items",
        "addLocation with onConflict",
        "queryLocations",
        "analyzeLocation",
        "removeLocationById",
    ] {
        assert!(
            stdout.contains(&format!("ok {step}")),
            "{step} did not run:\n{stdout}"
        );
    }
}
