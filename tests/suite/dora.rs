//! The DevLake plugin through HTTP (webhooks, metrics, history), its store on both databases, and
//! properties of its medians and rates.

mod catalog_teams;
mod dataset;
mod devlake_rows;
mod devlake_source;
mod differential;
mod history;
mod metrics_api;
mod properties;
mod source_contract;
mod store;
mod webhook_compat;
mod webhooks;
mod widget;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, header};
use fawkes_portal::auth::issuer::TokenSubject;
use fawkes_portal::clock::ManualClock;
use fawkes_portal::config::Settings;
use serde_json::{Value, json};

use crate::support::{TestApp, TestResponse};

/// An app whose clock reads `now` (RFC 3339), with `[dora.teams]` set to `teams`.
pub async fn app_at(now: &str, teams: &[(&str, &[&str])]) -> DoraApp {
    app_with(now, teams, |_| {}).await
}

/// As [`app_at`], with more settings changed by `edit` (e.g. `[dora] source`).
pub async fn app_with(
    now: &str,
    teams: &[(&str, &[&str])],
    edit: impl FnOnce(&mut Settings),
) -> DoraApp {
    let ms = fawkes_portal::dora::calendar::parse_timestamp(now).unwrap();
    let teams: Vec<(String, Vec<String>)> = teams
        .iter()
        .map(|(t, ps)| {
            (
                (*t).to_owned(),
                ps.iter().map(|p| (*p).to_owned()).collect(),
            )
        })
        .collect();
    let catalog_root = tempfile::TempDir::new().unwrap();
    let root = std::fs::canonicalize(catalog_root.path()).unwrap();
    let app = TestApp::build_with_clock(
        move |s: &mut Settings| {
            s.catalog.file_roots = vec![root.display().to_string()];
            s.dora.teams = teams.into_iter().collect();
            s.rate_limit.user_per_minute = 100_000;
            s.rate_limit.service_per_minute = 100_000;
            edit(s);
        },
        fawkes_portal::app::routes::api_routes(),
        Arc::new(ManualClock::at(Duration::from_millis(ms as u64))),
    )
    .await;
    let service = app.issue(&TokenSubject::service("ci-bot").unwrap());
    DoraApp {
        app,
        service,
        catalog_root,
    }
}

pub async fn app() -> DoraApp {
    app_at("2024-07-01T12:00:00Z", &[]).await
}

pub struct DoraApp {
    pub app: TestApp,
    /// A service token (webhooks take service principals only).
    pub service: String,
    /// A directory below `catalog.file_roots`, for catalog files.
    catalog_root: tempfile::TempDir,
}

impl DoraApp {
    /// The (canonical) directory catalog files may be written to.
    pub fn catalog_root(&self) -> std::path::PathBuf {
        std::fs::canonicalize(self.catalog_root.path()).unwrap()
    }

    /// POSTs `body` as JSON with `token`.
    pub async fn post_as(&self, token: &str, path: &str, body: &str) -> TestResponse {
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(body.to_owned()))
            .unwrap();
        self.app.send(request).await
    }

    /// POSTs `body` to a project's webhook as the service; asserts 200.
    pub async fn hook(&self, project: &str, kind: &str, body: Value) {
        let path = format!("/api/devlake/webhooks/{project}/{kind}");
        let response = self.post_as(&self.service, &path, &body.to_string()).await;
        assert_eq!(response.status, 200, "{path}: {}", response.text());
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.app.get(path).await
    }

    /// `GET /api/devlake/dora-metrics?<query>`, asserting 200.
    pub async fn metrics(&self, query: &str) -> Value {
        let response = self
            .get(&format!("/api/devlake/dora-metrics?{query}"))
            .await;
        assert_eq!(response.status, 200, "{query}: {}", response.text());
        response.json()
    }
}

/// A deployment body with one commit `sha-<id>` in `repo`, started five minutes before it finished.
pub fn deployment(id: &str, finished: &str) -> Value {
    let finished_ms = fawkes_portal::dora::calendar::parse_timestamp(finished).unwrap();
    let started = fawkes_portal::dora::calendar::format_timestamp(finished_ms - 300_000);
    json!({
        "id": id,
        "startedDate": started,
        "finishedDate": finished,
        "deploymentCommits": [{
            "repoUrl": "https://github.com/fawkes/api",
            "commitSha": format!("sha-{id}"),
            "commitMsg": format!("change {id}"),
            "startedDate": started,
            "finishedDate": finished,
        }]
    })
}

pub fn incident(key: &str, created: &str, resolved: Option<&str>) -> Value {
    let mut body = json!({
        "issueKey": key,
        "title": format!("incident {key}"),
        "type": "INCIDENT",
        "status": if resolved.is_some() { "DONE" } else { "IN_PROGRESS" },
        "originalStatus": "open",
        "createdDate": created,
    });
    if let Some(resolved) = resolved {
        body["resolutionDate"] = resolved.into();
    }
    body
}
