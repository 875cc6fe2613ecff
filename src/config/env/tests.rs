use serde_json::{Value as Json, json};

use crate::config::{Overrides, Settings};

fn load(pairs: &[(&str, &str)]) -> Result<Json, crate::config::ConfigError> {
    load_with_file(None, pairs)
}

fn load_with_file(
    file: Option<&std::path::Path>,
    pairs: &[(&str, &str)],
) -> Result<Json, crate::config::ConfigError> {
    let env = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
    let settings = Settings::load(file, env, &Overrides::default())?;
    Ok(serde_json::to_value(settings).unwrap())
}

fn at<'a>(settings: &'a Json, path: &str) -> &'a Json {
    path.split('.').fold(settings, |node, key| &node[key])
}

fn variable(path: &str) -> String {
    format!("FAWKES_PORTAL_{}", path.replace('.', "__").to_uppercase())
}

/// Every list setting with an example in each form it takes: (path, comma form or None for lists
/// of tables, JSON form, the list both must give). A list setting added without an example here
/// fails `every_list_setting_is_settable_from_the_environment`.
fn examples() -> Vec<(&'static str, Option<&'static str>, &'static str, Json)> {
    vec![
        (
            "fetch.allow_hosts",
            Some(" github.com, gitlab.internal:8443 ,,"),
            r#"["github.com", "gitlab.internal:8443"]"#,
            json!(["github.com", "gitlab.internal:8443"]),
        ),
        (
            "catalog.file_roots",
            Some("/srv/catalog,/srv/more"),
            r#"["/srv/catalog", "/srv/more"]"#,
            json!(["/srv/catalog", "/srv/more"]),
        ),
        (
            "catalog.allowed_kinds",
            Some("Component,API"),
            r#"["Component","API"]"#,
            json!(["Component", "API"]),
        ),
        (
            "auth.static_tokens",
            None,
            r#"[{"token_env": "CI_TOKEN", "subject": "ci-bot"}]"#,
            json!([{"token": "", "token_env": "CI_TOKEN", "subject": "ci-bot"}]),
        ),
        (
            "rate_limit.overrides",
            None,
            r#"[{"subject": "user:default/jdoe", "per_minute": 500}]"#,
            json!([{"subject": "user:default/jdoe", "per_minute": 500}]),
        ),
        (
            "ui.admin_users",
            Some("user:default/root,user:default/guest"),
            r#"["user:default/root","user:default/guest"]"#,
            json!(["user:default/root", "user:default/guest"]),
        ),
        (
            "ui.oidc.scopes",
            Some("openid,profile,groups"),
            r#"["openid","profile","groups"]"#,
            json!(["openid", "profile", "groups"]),
        ),
        (
            "ui.golden_paths",
            None,
            r#"[{"name": "python", "url": "https://example.com/devfile.yaml"}]"#,
            json!([{"name": "python", "title": "", "description": "", "url": "https://example.com/devfile.yaml"}]),
        ),
        (
            "fetch.credentials",
            None,
            r#"[{"host": "gitlab.internal", "token_env": "GITLAB_TOKEN"}]"#,
            json!([{"host": "gitlab.internal", "token": "", "token_env": "GITLAB_TOKEN", "username": ""}]),
        ),
        (
            "server.cors_origins",
            Some("https://backstage.example.com,http://localhost:3000"),
            r#"["https://backstage.example.com","http://localhost:3000"]"#,
            json!(["https://backstage.example.com", "http://localhost:3000"]),
        ),
    ]
}

/// The paths of every list in `node` (a default `Settings` as JSON).
fn list_paths(node: &Json, prefix: &str, out: &mut Vec<String>) {
    match node {
        Json::Array(_) => out.push(prefix.to_owned()),
        Json::Object(fields) => {
            for (key, child) in fields {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                list_paths(child, &path, out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_list_setting_is_settable_from_the_environment() {
    let mut lists = Vec::new();
    list_paths(
        &serde_json::to_value(Settings::default()).unwrap(),
        "",
        &mut lists,
    );
    let examples = examples();
    for path in &lists {
        assert!(
            examples.iter().any(|(p, ..)| p == path),
            "list setting {path} has no example in config/env/tests.rs"
        );
    }
    for (path, comma, array, expected) in examples {
        assert!(
            lists.iter().any(|p| p == path),
            "{path} is not a list setting"
        );
        let name = variable(path);
        if let Some(comma) = comma {
            let settings = load(&[(&name, comma)]).unwrap();
            assert_eq!(at(&settings, path), &expected, "{name}={comma}");
        }
        let settings = load(&[(&name, array)]).unwrap();
        assert_eq!(at(&settings, path), &expected, "{name}={array}");
        let settings = load(&[(&name, "")]).unwrap();
        assert_eq!(at(&settings, path), &json!([]), "{name} empty");
    }
}

#[test]
fn a_list_from_the_environment_replaces_the_files_list() {
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("portal.toml");
    std::fs::write(
        &file,
        "[fetch]\nallow_hosts = [\"a.example\", \"b.example\", \"c.example\"]\n",
    )
    .unwrap();
    let settings = load_with_file(Some(&file), &[]).unwrap();
    assert_eq!(
        settings["fetch"]["allow_hosts"].as_array().unwrap().len(),
        3
    );
    let settings = load_with_file(
        Some(&file),
        &[("FAWKES_PORTAL_FETCH__ALLOW_HOSTS", "x.example")],
    )
    .unwrap();
    assert_eq!(settings["fetch"]["allow_hosts"], json!(["x.example"]));
}

#[test]
fn validated_lists_from_the_environment_reach_the_config() {
    let dir = tempfile::TempDir::new().unwrap();
    let root = dir.path().display().to_string();
    let env = [
        (
            "FAWKES_PORTAL_FETCH__ALLOW_HOSTS",
            "github.com,10.0.0.12:8443",
        ),
        ("FAWKES_PORTAL_CATALOG__FILE_ROOTS", root.as_str()),
        (
            "FAWKES_PORTAL_AUTH__STATIC_TOKENS",
            r#"[{"token_env": "BACKSTAGE_TOKEN", "subject": "backstage"}]"#,
        ),
        ("BACKSTAGE_TOKEN", "a-static-token-of-backstage"),
    ];
    let config = crate::config::Config::load(
        None,
        env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        &Overrides::default(),
    )
    .unwrap();
    let hosts: Vec<String> = config
        .fetch
        .allow_hosts
        .iter()
        .map(|h| format!("{}:{:?}", h.host, h.port))
        .collect();
    assert_eq!(hosts, ["github.com:None", "10.0.0.12:Some(8443)"]);
    assert_eq!(
        config.catalog.file_roots,
        [std::fs::canonicalize(dir.path()).unwrap()]
    );
    assert_eq!(config.auth.static_tokens[0].subject, "backstage");
    assert_eq!(
        config.auth.static_tokens[0].token,
        "a-static-token-of-backstage"
    );
}

#[test]
fn a_map_of_lists_takes_a_json_object_or_one_variable_per_key() {
    let settings = load(&[(
        "FAWKES_PORTAL_DORA__TEAMS",
        r#"{"platform-team": ["api", "web"], "data": []}"#,
    )])
    .unwrap();
    assert_eq!(
        settings["dora"]["teams"],
        json!({"platform-team": ["api", "web"], "data": []})
    );
    let settings = load(&[("FAWKES_PORTAL_DORA__TEAMS__PAYMENTS", "checkout, ledger")]).unwrap();
    assert_eq!(
        settings["dora"]["teams"],
        json!({"payments": ["checkout", "ledger"]})
    );
    let err = load(&[("FAWKES_PORTAL_DORA__TEAMS", "payments")]).unwrap_err();
    assert_eq!(err.setting, "dora.teams");
    assert!(err.problem.contains("FAWKES_PORTAL_DORA__TEAMS"), "{err}");
}

#[test]
fn scalars_keep_their_commas_and_brackets() {
    let settings = load(&[
        ("FAWKES_PORTAL_SERVER__LISTEN", "[::]:7007"),
        ("FAWKES_PORTAL_LOG__LEVEL", "fawkes_portal=debug,info"),
        ("FAWKES_PORTAL_SERVER__MAX_BODY_BYTES", "2048"),
        ("FAWKES_PORTAL_AUTH__PUBLIC_METRICS", "false"),
    ])
    .unwrap();
    assert_eq!(settings["server"]["listen"], "[::]:7007");
    assert_eq!(settings["log"]["level"], "fawkes_portal=debug,info");
    assert_eq!(settings["server"]["max_body_bytes"], 2048);
    assert_eq!(settings["auth"]["public_metrics"], false);
}

#[test]
fn a_bad_json_list_names_the_variable() {
    let err = load(&[("FAWKES_PORTAL_FETCH__ALLOW_HOSTS", "[\"github.com\"")]).unwrap_err();
    assert_eq!(err.setting, "fetch.allow_hosts");
    assert!(
        err.problem
            .contains("FAWKES_PORTAL_FETCH__ALLOW_HOSTS is not a JSON array"),
        "{err}"
    );
    // A list of tables in the comma form is refused by the setting's type, naming it.
    let err = load(&[("FAWKES_PORTAL_AUTH__STATIC_TOKENS", "abc")]).unwrap_err();
    assert!(err.to_string().contains("static_tokens"), "{err}");
}
