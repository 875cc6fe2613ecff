//! A real Backstage backend in front of the server (tests/backstage, installed with `npm ci` by
//! scripts/test): Backstage's auth backend signs a guest in, its proxy forwards the user's token
//! (`credentials: forward`, as deploy/backstage/app-config.fawkes-portal.yaml configures it), and
//! the server verifies that token against Backstage's key set and answers as that user. Forged
//! and expired tokens get 401; a pipeline calls through the proxy with a static external-access
//! token that the server knows as a static token too.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use fawkes_portal::app::App;
use fawkes_portal::config::Settings;
use fawkes_portal::config::auth::StaticTokenSettings;

const PIPELINE_TOKEN: &str = "pipeline-static-token-0123456789";

const CATALOG: &str = "apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: fawkes-demo}
spec: {type: service, lifecycle: production, owner: platform-team}
";

/// A port nothing listens on now, for the Backstage backend (whose base URL the server must
/// know before either starts).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_backstage_proxy_forwards_user_and_service_tokens() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/backstage"));
    if !dir
        .join("node_modules/@backstage/plugin-proxy-backend")
        .is_dir()
        || Command::new("node").arg("--version").output().is_err()
    {
        crate::skip_without!("Node.js with tests/backstage/node_modules (run `npm ci` there)");
    }
    let temp = tempfile::TempDir::new().unwrap();
    let root = std::fs::canonicalize(temp.path()).unwrap();
    let target = root.join("catalog-info.yaml");
    std::fs::write(&target, CATALOG).unwrap();
    let backstage_port = free_port();
    let mut settings = Settings {
        data_dir: root.join("data").display().to_string(),
        ..Settings::default()
    };
    settings.auth.backstage.base_url = format!("http://127.0.0.1:{backstage_port}");
    settings.auth.static_tokens = vec![StaticTokenSettings {
        token: PIPELINE_TOKEN.into(),
        subject: "fawkes-pipelines".into(),
        ..StaticTokenSettings::default()
    }];
    settings.catalog.file_roots = vec![root.display().to_string()];
    let app = App::build(settings.validate().unwrap()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async {
        let _ = stopped.await;
    }));
    let output = tokio::process::Command::new("node")
        .arg("run.mjs")
        .current_dir(dir)
        .env("FAWKES_URL", &base)
        .env("BACKSTAGE_PORT", backstage_port.to_string())
        .env("FAWKES_PORTAL_PIPELINE_TOKEN", PIPELINE_TOKEN)
        .env("CATALOG_TARGET", target.display().to_string())
        .env("LOG_LEVEL", "warn")
        .env_remove("NODE_ENV")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), output)
        .await
        .expect("the Backstage script finished within 120s")
        .unwrap();
    let _ = stop.send(());
    let _ = server.await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the Backstage proxy test failed:\n{stdout}\n{stderr}"
    );
    for step in [
        "guest signs in for a Backstage user token",
        "the user is answered as themself through the proxy",
        "che-launcher workspaces through the proxy",
        "a pipeline posts a deployment with a static external-access token",
        "devlake dora-metrics through the proxy",
        "a catalog route through the proxy",
        "the catalog by ingress path routing",
        "a forged token is refused with 401",
        "an expired token is refused with 401",
    ] {
        assert!(
            stdout.contains(&format!("ok {step}")),
            "{step} did not run:\n{stdout}\n{stderr}"
        );
    }
}
