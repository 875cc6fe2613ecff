//! Configuration layers (file < environment < flags) and start-up errors that name the setting.

use std::io::Write;

use fawkes_portal::config::{Config, DatabaseUrl, Overrides, Settings};

fn file(contents: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    file.write_all(contents.as_bytes()).unwrap();
    file
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

const FILE: &str = r#"
data_dir = "/var/lib/fawkes"
[server]
listen = "0.0.0.0:8080"
max_body_bytes = 4096
[database]
url = "postgres://portal:s3cret@db.internal:5432/portal"
"#;

#[test]
fn the_file_sets_values() {
    let file = file(FILE);
    let config = Config::load(Some(file.path()), env(&[]), &Overrides::default()).unwrap();
    assert_eq!(config.server.listen.to_string(), "0.0.0.0:8080");
    assert_eq!(config.server.max_body_bytes, 4096);
    assert_eq!(config.data_dir.display().to_string(), "/var/lib/fawkes");
    assert_eq!(
        config.database.url,
        DatabaseUrl::Postgres("postgres://portal:s3cret@db.internal:5432/portal".into())
    );
}

#[test]
fn the_environment_overrides_the_file_and_flags_override_both() {
    let file = file(FILE);
    let vars = env(&[
        ("FAWKES_PORTAL_SERVER__LISTEN", "127.0.0.1:9000"),
        ("FAWKES_PORTAL_SERVER__MAX_BODY_BYTES", "8192"),
        ("FAWKES_PORTAL_DATA_DIR", "/srv/env"),
        ("FAWKES_PORTAL_CONFIG", "/ignored/as/a/setting.toml"),
        ("UNRELATED", "x"),
    ]);
    let config = Config::load(Some(file.path()), vars.clone(), &Overrides::default()).unwrap();
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:9000");
    assert_eq!(config.server.max_body_bytes, 8192);
    assert_eq!(config.data_dir.display().to_string(), "/srv/env");

    let flags = Overrides {
        listen: Some("127.0.0.1:9999".into()),
        data_dir: Some("/srv/flag".into()),
        log_format: Some("json".into()),
    };
    let config = Config::load(Some(file.path()), vars, &flags).unwrap();
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:9999");
    assert_eq!(config.data_dir.display().to_string(), "/srv/flag");
}

#[test]
fn sqlite_defaults_to_the_data_dir() {
    let config = Config::load(
        None,
        env(&[("FAWKES_PORTAL_DATA_DIR", "/tmp/x")]),
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(
        config.database.url,
        DatabaseUrl::Sqlite("/tmp/x/fawkes-portal.db".into())
    );
}

fn load_error(toml: &str, vars: &[(&str, &str)]) -> String {
    let file = file(toml);
    Config::load(Some(file.path()), env(vars), &Overrides::default())
        .unwrap_err()
        .to_string()
}

#[test]
fn a_bad_address_names_the_setting() {
    let error = load_error("[server]\nlisten = \"localhost\"\n", &[]);
    assert_eq!(
        error,
        "invalid configuration: server.listen: 'localhost' is not an address with a port, such as 127.0.0.1:7007"
    );
}

#[test]
fn a_bad_environment_value_names_the_setting() {
    let error = load_error("", &[("FAWKES_PORTAL_SERVER__MAX_BODY_BYTES", "lots")]);
    assert!(error.contains("server.max_body_bytes"), "{error}");
}

#[test]
fn a_wrongly_typed_file_value_names_the_setting() {
    let error = load_error("[server]\nmax_body_bytes = \"big\"\n", &[]);
    assert!(error.contains("server.max_body_bytes"), "{error}");
}

#[test]
fn an_unknown_setting_is_named() {
    let error = load_error("[server]\nlisen = \"127.0.0.1:1\"\n", &[]);
    assert!(error.contains("lisen"), "{error}");
    assert!(error.contains("unknown setting"), "{error}");
}

#[test]
fn a_bad_duration_names_the_setting() {
    let error = load_error("[server]\nshutdown_timeout = \"soon\"\n", &[]);
    assert!(
        error.starts_with(
            "invalid configuration: server.shutdown_timeout: 'soon' is not a duration"
        ),
        "{error}"
    );
}

#[test]
fn a_bad_log_format_names_the_setting() {
    let error = load_error("[log]\nformat = \"xml\"\n", &[]);
    assert_eq!(
        error,
        "invalid configuration: log.format: 'xml' is not one of: text, json"
    );
}

#[test]
fn invalid_toml_is_reported_with_its_file() {
    let error = load_error("[server\nlisten = 1", &[]);
    assert!(error.contains("not valid TOML"), "{error}");
}

#[test]
fn a_missing_file_is_reported() {
    let error = Config::load(
        Some("/nonexistent/portal.toml".as_ref()),
        env(&[]),
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("/nonexistent/portal.toml does not exist"),
        "{error}"
    );
}

#[test]
fn the_redacted_view_hides_the_database_password() {
    let file = file(FILE);
    let settings = Settings::load(Some(file.path()), env(&[]), &Overrides::default()).unwrap();
    let shown = settings.to_redacted_toml();
    assert!(
        shown.contains("postgres://portal:***@db.internal:5432/portal"),
        "{shown}"
    );
    assert!(!shown.contains("s3cret"));
}

#[test]
fn the_example_file_is_valid_and_documents_every_setting() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/fawkes-portal.example.toml"
    );
    let example = std::fs::read_to_string(path).unwrap();
    let settings = Settings::load(Some(path.as_ref()), env(&[]), &Overrides::default()).unwrap();
    settings.validate().unwrap();
    // Every key of the full settings tree appears in the example.
    let all = toml::Value::try_from(Settings::default()).unwrap();
    let mut missing = Vec::new();
    collect_keys(&all, "", &mut |key| {
        let leaf = key.rsplit('.').next().unwrap();
        if !example
            .lines()
            .any(|l| l.trim_start().starts_with(&format!("{leaf} =")))
        {
            missing.push(key.to_owned());
        }
    });
    assert!(
        missing.is_empty(),
        "settings missing from the example file: {missing:?}"
    );
}

fn collect_keys(value: &toml::Value, prefix: &str, found: &mut dyn FnMut(&str)) {
    if let toml::Value::Table(table) = value {
        for (key, child) in table {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match child {
                toml::Value::Table(_) => collect_keys(child, &path, found),
                _ => found(&path),
            }
        }
    }
}

/// `database.sqlite_synchronous = "full"` reaches every SQLite connection (NORMAL, the default,
/// loses nothing when the process dies; FULL also survives an OS crash or power loss).
#[tokio::test]
async fn sqlite_synchronous_is_applied_to_every_connection() {
    use fawkes_portal::db::Database;
    for (setting, expected) in [("normal", 1i64), ("full", 2)] {
        let dir = tempfile::TempDir::new().unwrap();
        let mut settings = Settings {
            data_dir: dir.path().display().to_string(),
            ..Settings::default()
        };
        settings.database.sqlite_synchronous = setting.into();
        let config = settings.validate().unwrap();
        let db = Database::connect(&config.database).await.unwrap();
        let Database::Sqlite { pool, writer } = &db else {
            panic!("SQLite is the default")
        };
        for connections in [pool, writer] {
            let level: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(connections)
                .await
                .unwrap();
            assert_eq!(level, expected, "{setting}");
        }
        db.close().await;
    }
    let mut settings = Settings::default();
    settings.database.sqlite_synchronous = "extra".into();
    let err = settings.validate().unwrap_err();
    assert_eq!(err.setting, "database.sqlite_synchronous");
}
