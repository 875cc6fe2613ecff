//! The catalog: registration and its errors, entity queries with Backstage's exact semantics,
//! nested locations, refresh, bad input, and the store contract on both databases.

mod bad_input;
mod conformance;
mod consistency;
mod fawkes;
mod lineage;
mod locations;
mod queries;
mod refresh;
mod replicas;
mod routes;
mod status;
mod store;
mod templates;
mod urls;

use std::path::PathBuf;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::{TestApp, TestResponse, wait_for, wait_until};

/// How long a test waits for the catalog to finish something before it fails.
pub const WAIT: Duration = Duration::from_secs(15);

/// An app whose `catalog.file_roots` is a fresh directory, for fixture files.
pub struct CatalogApp {
    pub app: TestApp,
    pub root: PathBuf,
    _dir: TempDir,
}

impl CatalogApp {
    pub async fn new() -> CatalogApp {
        Self::with(|_| {}).await
    }

    pub async fn with(edit: impl FnOnce(&mut fawkes_portal::config::Settings)) -> CatalogApp {
        let dir = TempDir::new().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let root_text = root.display().to_string();
        let app = TestApp::build(
            move |s| {
                s.catalog.file_roots = vec![root_text];
                s.rate_limit.user_per_minute = 1_000_000;
                edit(s);
            },
            fawkes_portal::app::routes::api_routes(),
        )
        .await;
        CatalogApp {
            app,
            root,
            _dir: dir,
        }
    }

    /// Writes `content` to `name` below the root and returns its absolute path.
    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> String {
        let path = self.root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path.display().to_string()
    }

    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.app
            .call(Method::POST, path, "application/json", body.to_string())
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> TestResponse {
        self.app
            .call(Method::PUT, path, "application/json", body.to_string())
            .await
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.app.get(path).await
    }

    pub async fn delete(&self, path: &str) -> TestResponse {
        self.app
            .call(Method::DELETE, path, "application/json", "")
            .await
    }

    /// Registers a file location and waits until it is processed; returns its view.
    pub async fn register(&self, path: &str) -> Value {
        let response = self
            .post(
                "/api/catalog/locations",
                json!({"type": "file", "target": path}),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        let id = response.json()["location"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        self.wait_processed(&id).await
    }

    /// Waits until the location is no longer `processing`, and returns it.
    pub async fn wait_processed(&self, id: &str) -> Value {
        let path = format!("/api/catalog/locations/{id}");
        let processed = async || {
            let view = self.get(&path).await.json();
            (view["status"] != "processing").then_some(view)
        };
        wait_for(processed, WAIT).await
    }

    /// Waits until the wall clock is past the location's `lastRefreshedAt` (millisecond
    /// resolution), so that its next refresh shows a different time.
    pub async fn wait_past_refresh(&self, view: &Value) {
        let text = view["lastRefreshedAt"].as_str().expect("refreshed");
        let at = fawkes_portal::dora::calendar::parse_timestamp(text).expect("an RFC 3339 time");
        wait_until(
            async || fawkes_portal::catalog::service::now_ms() > at,
            WAIT,
        )
        .await;
    }

    /// `metadata.name`s of `GET path` (an array of entities).
    pub async fn names(&self, path: &str) -> Vec<String> {
        let response = self.get(path).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        let mut names: Vec<String> = response
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["metadata"]["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    }

    /// The entity `kind/name` in the default namespace.
    pub async fn entity(&self, kind: &str, name: &str) -> Value {
        let response = self
            .get(&format!(
                "/api/catalog/entities/by-name/{kind}/default/{name}"
            ))
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        response.json()
    }
}

/// A Component document.
pub fn component(name: &str, owner: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: production\n  owner: {owner}\n"
    )
}

/// Relations of `entity` as `type -> targetRef` strings.
pub fn relations(entity: &Value) -> Vec<String> {
    entity["relations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} -> {}",
                r["type"].as_str().unwrap(),
                r["targetRef"].as_str().unwrap()
            )
        })
        .collect()
}
