//! The admin page, for platform engineers (members of `ui.admin_group`, or `ui.admin_users`):
//! locations whose processing failed or reported errors, the rate limits in force, where
//! workspaces run, sign-in and the version. Nothing secret is shown (no URLs with credentials,
//! no tokens, no client secrets).

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::UiState;
use super::page::{Chrome, UiError, VERSION, html};
use super::session::Viewer;
use crate::config::rate_limit::{Backend, FailureMode};
use crate::error::AppError;

pub struct LocationRow {
    pub id: String,
    pub kind: &'static str,
    pub target: String,
    pub status: &'static str,
    pub refreshed: String,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    chrome: Chrome,
    failing: Vec<LocationRow>,
    locations: usize,
    limits: Vec<(&'static str, String)>,
    overrides: Vec<(String, u64)>,
    workspaces: Vec<(&'static str, String)>,
    server: Vec<(&'static str, String)>,
}

/// Epoch milliseconds as "2026-12-06 22:56 UTC".
pub fn time_text(ms: i64) -> String {
    super::workspaces::short_time(&crate::dora::calendar::format_timestamp(ms))
}

pub async fn page(State(ui): State<UiState>, viewer: Viewer) -> Result<Response, UiError> {
    if !viewer.admin {
        return Err(UiError::from(AppError::Forbidden(format!(
            "The admin page is for members of {} (ui.admin_group) and the principals in \
             ui.admin_users",
            ui.config.ui.admin_group
        ))));
    }
    let locations = ui.catalog.locations().await?;
    let failing = locations
        .iter()
        .filter(|l| !l.errors.is_empty() || l.status.as_str() == "failed")
        .map(|l| LocationRow {
            id: l.id.clone(),
            kind: l.spec.kind.as_str(),
            target: l.spec.target.clone(),
            status: l.status.as_str(),
            refreshed: l
                .last_refreshed_at
                .map(time_text)
                .unwrap_or_else(|| "never".into()),
            errors: l.errors.clone(),
        })
        .collect();
    let config = &ui.config;
    let limits = &config.rate_limit;
    let limits_shown = vec![
        ("Users, per minute", limits.user_per_minute.to_string()),
        (
            "Services, per minute",
            limits.service_per_minute.to_string(),
        ),
        (
            "Missing or bad credentials, per client address and minute",
            limits.anonymous_per_minute.to_string(),
        ),
        (
            "Counted in",
            match limits.backend {
                Backend::Memory => "this process (memory)".to_owned(),
                Backend::Redis { .. } => "Redis, shared by every replica".to_owned(),
            },
        ),
        (
            "If the counter store fails",
            match limits.on_backend_failure {
                FailureMode::Open => "serve with per-replica counts (open)".to_owned(),
                FailureMode::Closed => "refuse with 503 (closed)".to_owned(),
            },
        ),
    ];
    let mut overrides: Vec<(String, u64)> = limits
        .overrides
        .iter()
        .map(|(subject, limit)| (subject.clone(), *limit))
        .collect();
    overrides.sort();
    let ws = &config.workspaces;
    let workspaces = vec![
        (
            "Mode",
            match ui.workspaces.driver() {
                "simulated" => "simulated (no cluster configured; nothing runs)".to_owned(),
                other => format!("{other} (DevWorkspaces on the configured cluster)"),
            },
        ),
        ("Che dashboard", ws.che_url.to_string()),
        (
            "Namespace per user",
            ui.workspaces.namespace_template().await,
        ),
        (
            "Running workspaces per user",
            ws.max_running_per_user.to_string(),
        ),
    ];
    let mut providers = Vec::new();
    if ui.oidc.is_some() {
        providers.push("OpenID Connect");
    }
    if ui.github.is_some() {
        providers.push("GitHub");
    }
    if config.ui.guest {
        providers.push("guest");
    }
    let server = vec![
        ("Version", VERSION.to_owned()),
        ("Database", ui.database.to_owned()),
        ("Sign-in", providers.join(", ")),
        (
            "Session lifetime",
            humantime::format_duration(config.ui.session_ttl).to_string(),
        ),
        ("Admin group", config.ui.admin_group.clone()),
    ];
    let page = AdminPage {
        chrome: Chrome::new(&ui, &viewer, "Admin", "admin"),
        failing,
        locations: locations.len(),
        limits: limits_shown,
        overrides,
        workspaces,
        server,
    };
    html(&page)
}
