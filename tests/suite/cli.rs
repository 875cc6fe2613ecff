//! The binary as an operator uses it: help, version, config check, migrate, serve and stop.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::support::wait_for;

const BIN: &str = env!("CARGO_BIN_EXE_fawkes-portal");

fn portal(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("FAWKES_PORTAL_CONFIG")
        .env("RUST_LOG", "info")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn version_and_help() {
    let version = portal(&["--version"]);
    assert!(version.status.success());
    assert_eq!(
        stdout(&version).trim(),
        format!("fawkes-portal {}", env!("CARGO_PKG_VERSION"))
    );
    let help = stdout(&portal(&["--help"]));
    for command in ["serve", "migrate", "config"] {
        assert!(help.contains(command), "{help}");
    }
    let serve_help = stdout(&portal(&["serve", "--help"]));
    for flag in ["--listen", "--data-dir", "--config", "--log-format"] {
        assert!(serve_help.contains(flag), "{serve_help}");
    }
    assert!(stdout(&portal(&["config", "check", "--help"])).contains("secrets redacted"));
    assert!(stdout(&portal(&["migrate", "--help"])).contains("migrations"));
}

#[test]
fn config_check_prints_effective_settings_with_secrets_redacted() {
    let output = Command::new(BIN)
        .args(["config", "check"])
        .env(
            "FAWKES_PORTAL_DATABASE__URL",
            "postgres://portal:topsecret@db:5432/portal",
        )
        .env("FAWKES_PORTAL_SERVER__LISTEN", "0.0.0.0:9000")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let shown = stdout(&output);
    assert!(shown.starts_with("# configuration is valid"), "{shown}");
    assert!(shown.contains("listen = \"0.0.0.0:9000\""), "{shown}");
    assert!(
        shown.contains("postgres://portal:***@db:5432/portal"),
        "{shown}"
    );
    assert!(!shown.contains("topsecret"));
}

#[test]
fn a_bad_setting_stops_start_up_with_a_message_naming_it() {
    let dir = tempfile::TempDir::new().unwrap();
    let config = dir.path().join("portal.toml");
    std::fs::write(&config, "[server]\nshutdown_timeout = \"forever\"\n").unwrap();
    let output = portal(&["--config", config.to_str().unwrap(), "serve"]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.starts_with(
            "error: invalid configuration: server.shutdown_timeout: 'forever' is not a duration"
        ),
        "{message}"
    );
    assert!(!message.contains("panicked"), "{message}");
}

#[test]
fn an_unopenable_database_stops_start_up_with_a_message() {
    let dir = tempfile::TempDir::new().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    // The data directory would have to be created inside a regular file.
    let data_dir = blocker.join("data");
    let output = portal(&[
        "serve",
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("cannot create the data directory"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn migrate_creates_the_sqlite_database() {
    let dir = tempfile::TempDir::new().unwrap();
    let data_dir = dir.path().join("state");
    let output = portal(&["migrate", "--data-dir", data_dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(data_dir.join("fawkes-portal.db").is_file());
    let log = stdout(&output);
    assert!(log.contains("migrations applied"), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "no terminal colours when the output is not a terminal: {log:?}"
    );
    // Running it again is harmless.
    assert!(
        portal(&["migrate", "--data-dir", data_dir.to_str().unwrap()])
            .status
            .success()
    );
}

/// Starts `serve` on a free port and returns the child and its address, read from its JSON log.
fn spawn_server(data_dir: &std::path::Path) -> (Child, String) {
    let (child, started) = spawn_server_with(data_dir, &[]);
    (child, started["address"].as_str().unwrap().to_owned())
}

/// As [`spawn_server`] with more environment, returning the start-up log event.
fn spawn_server_with(
    data_dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (Child, serde_json::Value) {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--data-dir",
        ])
        .arg(data_dir)
        .env_remove("FAWKES_PORTAL_CONFIG")
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        let event: serde_json::Value = serde_json::from_str(&line).expect("log lines are JSON");
        if event["address"].is_string() {
            break event;
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, started)
}

#[tokio::test]
async fn one_start_up_line_says_where_what_and_how() {
    let dir = tempfile::TempDir::new().unwrap();
    let (mut child, started) = spawn_server_with(
        dir.path(),
        &[
            (
                "FAWKES_PORTAL_AUTH__STATIC_TOKENS",
                r#"[{"token_env": "CLI_TEST_TOKEN", "subject": "ci-bot"}]"#,
            ),
            ("CLI_TEST_TOKEN", "a-static-token-for-the-cli-test"),
        ],
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    wait_for_exit(&mut child, Duration::from_secs(10)).await;
    let address = started["address"].as_str().unwrap();
    let db = dir.path().join("fawkes-portal.db");
    let message = started["message"].as_str().unwrap_or_default();
    assert_eq!(
        message,
        format!(
            "listening on http://{address}; database sqlite {}; \
             tokens from built-in issuer, static tokens; workspaces simulated",
            db.display()
        ),
        "{started}"
    );
    assert!(!message.contains("a-static-token"), "no secret in the log");
}

/// Waits until the server process exits, and returns how.
async fn wait_for_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    wait_for(async || child.try_wait().unwrap(), within).await
}

#[tokio::test]
async fn serve_answers_on_the_embedded_default_and_stops_on_sigterm() {
    fawkes_portal::fetch::install_crypto_provider();
    let dir = tempfile::TempDir::new().unwrap();
    let (mut child, address) = spawn_server(dir.path());
    let health = reqwest::get(format!("http://{address}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert!(health.headers().contains_key("x-request-id"));
    let ready = reqwest::get(format!("http://{address}/readyz"))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    assert!(
        dir.path().join("fawkes-portal.db").is_file(),
        "SQLite file in the data dir"
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = wait_for_exit(&mut child, Duration::from_secs(10)).await;
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn a_busy_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let dir = tempfile::TempDir::new().unwrap();
    let output = portal(&[
        "serve",
        "--listen",
        &address,
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains(&format!("cannot listen on {address} (server.listen)")),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn a_token_from_token_issue_is_accepted_by_the_running_server() {
    fawkes_portal::fetch::install_crypto_provider();
    let dir = tempfile::TempDir::new().unwrap();
    let (mut child, address) = spawn_server(dir.path());
    let data_dir = dir.path().to_str().unwrap();
    let issued = portal(&[
        "token",
        "issue",
        "--user",
        "jdoe",
        "--ttl",
        "10m",
        "--data-dir",
        data_dir,
    ]);
    assert!(issued.status.success(), "{}", stderr(&issued));
    let token = stdout(&issued).trim().to_owned();
    let client = reqwest::Client::new();
    let response = client
        .get(format!("http://{address}/api/auth/v1/userinfo"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-ratelimit-limit"], "100");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["subject"], "user:default/jdoe");

    let service = portal(&[
        "token",
        "issue",
        "--service",
        "ci-bot",
        "--data-dir",
        data_dir,
    ]);
    let token = stdout(&service).trim().to_owned();
    let response = client
        .get(format!("http://{address}/api/auth/v1/userinfo"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-ratelimit-limit"], "1000");

    let unauthenticated = client
        .get(format!("http://{address}/api/auth/v1/userinfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    wait_for_exit(&mut child, Duration::from_secs(10)).await;
}

#[test]
fn token_issue_explains_its_refusals() {
    let dir = tempfile::TempDir::new().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let bad_ttl = portal(&[
        "token",
        "issue",
        "--user",
        "jdoe",
        "--ttl",
        "soon",
        "--data-dir",
        data_dir,
    ]);
    assert_eq!(bad_ttl.status.code(), Some(1));
    assert!(
        stderr(&bad_ttl).contains("--ttl 'soon' is not a duration"),
        "{}",
        stderr(&bad_ttl)
    );
    let too_long = portal(&[
        "token",
        "issue",
        "--service",
        "ci",
        "--ttl",
        "365d",
        "--data-dir",
        data_dir,
    ]);
    assert!(
        stderr(&too_long).contains("auth.issuer.max_ttl"),
        "{}",
        stderr(&too_long)
    );
    let neither = portal(&["token", "issue", "--data-dir", data_dir]);
    assert_eq!(neither.status.code(), Some(2));
    let disabled = Command::new(BIN)
        .args(["token", "issue", "--user", "jdoe", "--data-dir", data_dir])
        .env("FAWKES_PORTAL_AUTH__ISSUER__ENABLED", "false")
        .output()
        .unwrap();
    assert!(
        stderr(&disabled).contains("the built-in issuer is disabled"),
        "{}",
        stderr(&disabled)
    );
}
