//! The web UI in a real browser: `tests/ui/run.mjs` (Playwright driving Debian's Chromium, with
//! axe-core on every page) against the real binary on a throwaway data dir, with an in-process
//! OpenID Connect provider and a devfile served over local HTTPS. Every flow the issue lists:
//! sign in as guest and through the provider, register a location and see its entities, search
//! and open an entity and follow a relation, launch a workspace and watch it turn Running, stop
//! and delete it, the DORA dashboard's values against the API's, sign out. Screenshots land in
//! `target/ui-screenshots`. Needs Node with `tests/ui/node_modules` (`npm ci`) and Chromium
//! (`FAWKES_TEST_CHROMIUM`, default `/usr/bin/chromium`); without them it says so and passes over,
//! unless `FAWKES_TEST_REQUIRE_SERVICES=1`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use serde_json::json;

use crate::support::https::HttpsServer;
use crate::support::oidc::{CLIENT_ID, CLIENT_SECRET, FakeOidc};

const DEVFILE: &str = "schemaVersion: 2.2.2\nmetadata:\n  name: goldenpath-python\n  version: 1.0.0\ncomponents:\n  - name: python\n    container:\n      image: quay.io/devfile/universal-developer-image:ubi8-latest\n";
const BINARY: &str = env!("CARGO_BIN_EXE_fawkes-portal");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `fawkes-portal token issue` with the test's configuration.
fn token(config: &Path, who: &[&str]) -> String {
    let output = std::process::Command::new(BINARY)
        .arg("--config")
        .arg(config)
        .args(["token", "issue"])
        .args(who)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// `days_ago` days before now, at 10:00 UTC, RFC 3339.
fn day(days_ago: i64, hour: i64) -> String {
    let now = jsonwebtoken::get_current_timestamp() as i64 * 1000;
    let day = fawkes_portal::dora::calendar::Day::of(now - days_ago * 86_400_000);
    fawkes_portal::dora::calendar::format_timestamp(day.start_ms() + hour * 3_600_000)
}

/// Feeds the `payments-api` project over the real webhooks: deployments on six of the last
/// thirty days, one with an incident restored two hours later.
async fn feed(base: &str, service_token: &str) {
    let client = reqwest::Client::new();
    for days_ago in [2, 5, 8, 11, 14, 20] {
        let body = json!({
            "id": format!("deploy-{days_ago}"), "result": "SUCCESS", "environment": "PRODUCTION",
            "startedDate": day(days_ago, 9), "finishedDate": day(days_ago, 10),
            "deploymentCommits": [{"repoUrl": "https://github.com/paruff/payments-api",
                "commitSha": format!("c{days_ago}"), "commitMsg": "feat: charge",
                "commitAuthoredDate": day(days_ago, 6),
                "startedDate": day(days_ago, 9), "finishedDate": day(days_ago, 10)}]});
        let response = client
            .post(format!(
                "{base}/api/devlake/webhooks/payments-api/deployments"
            ))
            .bearer_auth(service_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap()
        );
    }
    let incident = json!({"issueKey": "INC-7", "title": "Charges fail", "type": "INCIDENT",
        "status": "DONE", "originalStatus": "closed",
        "createdDate": day(8, 11), "resolutionDate": day(8, 12)});
    let response = client
        .post(format!(
            "{base}/api/devlake/webhooks/payments-api/incidents"
        ))
        .bearer_auth(service_token)
        .json(&incident)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_works_in_a_real_browser_and_every_page_passes_axe() {
    let tests = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ui"));
    let chromium = std::env::var("FAWKES_TEST_CHROMIUM").unwrap_or("/usr/bin/chromium".into());
    if !tests.join("node_modules/playwright-core").is_dir()
        || !tests.join("node_modules/axe-core").is_dir()
        || std::process::Command::new("node")
            .arg("--version")
            .output()
            .is_err()
        || !Path::new(&chromium).exists()
    {
        crate::skip_without!(
            "Node.js with tests/ui/node_modules (npm ci there) and Chromium (FAWKES_TEST_CHROMIUM)"
        );
    }
    let temp = tempfile::TempDir::new().unwrap();
    let root = std::fs::canonicalize(temp.path()).unwrap();
    let catalog = root.join("catalog");
    std::fs::create_dir(&catalog).unwrap();
    let catalog_file = catalog.join("catalog-info.yaml");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/ui/catalog-info.yaml"
        ),
        &catalog_file,
    )
    .unwrap();
    let devfiles =
        HttpsServer::start(Router::new().route("/devfile.yaml", get(|| async { DEVFILE }))).await;
    let provider = FakeOidc::start().await;
    provider.sign_in_as("alice", "Alice Example");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let config = root.join("portal.toml");
    let devfile_url = devfiles.url("/devfile.yaml");
    let settings = format!(
        r#"data_dir = "{data}"
[server]
listen = "127.0.0.1:{port}"
[fetch]
allow_hosts = ["localhost:{devfile_port}"]
extra_ca_file = "{ca}"
[catalog]
file_roots = ["{catalog}"]
[rate_limit]
user_per_minute = 100000
service_per_minute = 100000
[workspaces]
simulated_start_delay = "4s"
simulated_stop_delay = "2s"
[ui]
guest = "on"
admin_users = ["user:default/guest"]
golden_paths = [{{ name = "goldenpath-python", title = "Python", url = "{devfile_url}" }}]
[ui.oidc]
issuer = "{issuer}"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
label = "Sign in with Fake SSO"
"#,
        data = root.join("data").display(),
        devfile_port = devfiles.port,
        ca = devfiles.ca_path(),
        catalog = catalog.display(),
        issuer = provider.issuer,
    );
    std::fs::write(&config, settings).unwrap();
    let log_file = root.join("server.log");
    let mut server = tokio::process::Command::new(BINARY)
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .stdout(std::fs::File::create(&log_file).unwrap())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..300 {
        if let Ok(response) = client.get(format!("{base}/readyz")).send().await
            && response.status().is_success()
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "the server did not become ready on {base}");
    feed(&base, &token(&config, &["--service", "ci-bot"])).await;
    let screenshots: PathBuf = [env!("CARGO_MANIFEST_DIR"), "target", "ui-screenshots"]
        .iter()
        .collect();
    let run = tokio::process::Command::new("node")
        .arg("run.mjs")
        .current_dir(tests)
        .env("BASE_URL", &base)
        .env("DEVFILE_URL", &devfile_url)
        .env("CATALOG_FILE", &catalog_file)
        .env("USER_TOKEN", token(&config, &["--user", "guest"]))
        .env("SCREENSHOTS", &screenshots)
        .env("CHROMIUM", &chromium)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .expect("the browser tests finished within 300s")
        .unwrap();
    let _ = server.start_kill();
    let _ = server.wait().await;
    let log = std::fs::read_to_string(&log_file).unwrap_or_default();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: String = log.lines().rev().take(40).collect::<Vec<_>>().join("\n");
    assert!(
        output.status.success(),
        "browser tests failed:\n{stdout}\n{stderr}\nserver log (last lines, newest first):\n{tail}"
    );
    for step in [
        "sign in as guest",
        "register a location and see its entities",
        "search and open an entity and follow a relation",
        "launch a workspace, watch it run, stop and delete it",
        "the DORA dashboard shows the API values",
        "the admin page",
        "keyboard and a 375 px screen",
        "sign out",
        "sign in through the OpenID Connect provider",
        "accessibility",
    ] {
        assert!(
            stdout.contains(&format!("ok {step}")),
            "{step} did not run:\n{stdout}"
        );
    }
    assert!(screenshots.join("dora.png").is_file());
}
