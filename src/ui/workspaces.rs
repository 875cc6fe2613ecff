//! The workspaces page, as Che's dashboard has it: a launch form (devfile URL, optional name) with
//! quick picks from the configured golden-path devfiles, and the signed-in person's workspaces
//! with their status (followed live while Starting or Stopping), Open, Start, Stop and Delete
//! (confirmed), and the quota ("2 of 3 running"). Every action is the launcher service's.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::UiState;
use super::page::{Chrome, UiError, html, html_with, is_htmx, see_other};
use super::session::{CsrfForm, Viewer};
use crate::config::ui::GoldenPath;
use crate::workspaces::model::{Workspace, WorkspaceStatus};
use crate::workspaces::service::{CreateRequest, Quota};

/// How often the list asks for news while a workspace is Starting or Stopping.
pub const POLL_SECONDS: u32 = 2;

/// One row of the list.
pub struct Row {
    pub id: String,
    pub name: String,
    pub namespace: String,
    pub status: &'static str,
    /// `status-running` and so on, for the badge's colour.
    pub status_class: String,
    pub message: Option<String>,
    pub ide_url: String,
    pub devfile: String,
    pub last_used: String,
    pub last_used_text: String,
    pub can_open: bool,
    pub can_start: bool,
    pub can_stop: bool,
}

/// The list, on its own (the fragment htmx polls) or inside the page.
#[derive(Template)]
#[template(path = "workspaces/list.html")]
pub struct WorkspaceList {
    pub base: std::sync::Arc<str>,
    pub csrf: String,
    pub rows: Vec<Row>,
    pub quota: Quota,
    pub polling: bool,
    pub poll_seconds: u32,
}

#[derive(Template)]
#[template(path = "workspaces/page.html")]
struct WorkspacesPage {
    chrome: Chrome,
    list: WorkspaceList,
    golden_paths: Vec<GoldenPath>,
    notice: Option<String>,
    error: Option<String>,
    devfile_url: String,
    name: String,
}

#[derive(Template)]
#[template(path = "workspaces/confirm_delete.html")]
struct ConfirmDelete {
    chrome: Chrome,
    id: String,
    name: String,
}

/// "2026-12-06T22:56:13.123Z" as "2026-12-06 22:56 UTC".
pub fn short_time(rfc3339: &str) -> String {
    match rfc3339.get(..16) {
        Some(minute) => format!("{} UTC", minute.replace('T', " ")),
        None => rfc3339.to_owned(),
    }
}

fn row(ui: &UiState, workspace: &Workspace) -> Row {
    let status = workspace.status;
    Row {
        id: workspace.id.to_string(),
        name: workspace.name.clone(),
        namespace: workspace.namespace.clone(),
        status: status.as_str(),
        status_class: format!("status-{}", status.as_str().to_lowercase()),
        message: workspace.message.clone(),
        ide_url: ui.workspaces.ide_url(workspace),
        devfile: if workspace.devfile_version.is_empty() {
            workspace.devfile_name.clone()
        } else {
            format!("{} {}", workspace.devfile_name, workspace.devfile_version)
        },
        last_used: workspace.last_used.clone(),
        last_used_text: short_time(&workspace.last_used),
        can_open: status == WorkspaceStatus::Running,
        can_start: matches!(status, WorkspaceStatus::Stopped | WorkspaceStatus::Failed),
        can_stop: matches!(status, WorkspaceStatus::Starting | WorkspaceStatus::Running),
    }
}

/// The viewer's workspaces as the list shows them.
pub async fn workspace_list(ui: &UiState, viewer: &Viewer) -> Result<WorkspaceList, UiError> {
    let workspaces = ui.workspaces.list(viewer.principal(), None).await?;
    let quota = ui.workspaces.quota(&workspaces);
    let polling = workspaces.iter().any(|w| {
        matches!(
            w.status,
            WorkspaceStatus::Starting | WorkspaceStatus::Stopping
        )
    });
    Ok(WorkspaceList {
        base: ui.base.clone(),
        csrf: viewer.session.csrf_token.clone(),
        rows: workspaces.iter().map(|w| row(ui, w)).collect(),
        quota,
        polling,
        poll_seconds: POLL_SECONDS,
    })
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    launched: Option<String>,
}

async fn render_page(
    ui: &UiState,
    viewer: &Viewer,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
    form: (String, String),
) -> Result<Response, UiError> {
    let page = WorkspacesPage {
        chrome: Chrome::new(ui, viewer, "Workspaces", "workspaces"),
        list: workspace_list(ui, viewer).await?,
        golden_paths: ui.config.ui.golden_paths.clone(),
        notice,
        error,
        devfile_url: form.0,
        name: form.1,
    };
    html_with(status, &page)
}

pub async fn page(
    State(ui): State<UiState>,
    viewer: Viewer,
    Query(query): Query<PageQuery>,
) -> Result<Response, UiError> {
    let notice = query
        .launched
        .map(|name| format!("Workspace {name} is starting."));
    render_page(
        &ui,
        &viewer,
        StatusCode::OK,
        notice,
        None,
        Default::default(),
    )
    .await
}

/// The list alone (htmx polls it while a workspace is Starting or Stopping).
pub async fn list(State(ui): State<UiState>, viewer: Viewer) -> Result<Response, UiError> {
    html(&workspace_list(&ui, &viewer).await?)
}

/// Launch a workspace from the form or a quick pick.
pub async fn launch(
    State(ui): State<UiState>,
    viewer: Viewer,
    form: CsrfForm,
) -> Result<Response, UiError> {
    let request = CreateRequest {
        devfile_url: form.get("devfile_url").unwrap_or_default().to_owned(),
        namespace: None,
        name: form.get("name").map(str::to_owned),
    };
    match ui.workspaces.create(viewer.principal(), &request).await {
        Ok(created) => {
            let name: String =
                url::form_urlencoded::byte_serialize(created.workspace.name.as_bytes()).collect();
            Ok(see_other(&ui.link(&format!("/workspaces?launched={name}"))))
        }
        Err(e) => {
            let e = UiError::from(e);
            let form = (request.devfile_url, request.name.unwrap_or_default());
            render_page(&ui, &viewer, e.status, None, Some(e.message), form).await
        }
    }
}

/// After an action: the list for htmx, the page (with any error) otherwise.
async fn after_action(
    ui: &UiState,
    viewer: &Viewer,
    headers: &HeaderMap,
    result: Result<(), UiError>,
) -> Result<Response, UiError> {
    match result {
        Ok(()) if is_htmx(headers) => html(&workspace_list(ui, viewer).await?),
        Ok(()) => Ok(see_other(&ui.link("/workspaces"))),
        Err(e) => {
            let status = e.status;
            render_page(
                ui,
                viewer,
                status,
                None,
                Some(e.message),
                Default::default(),
            )
            .await
        }
    }
}

pub async fn start(
    State(ui): State<UiState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    _form: CsrfForm,
) -> Result<Response, UiError> {
    let result = ui.workspaces.start(viewer.principal(), &id).await;
    after_action(
        &ui,
        &viewer,
        &headers,
        result.map(drop).map_err(UiError::from),
    )
    .await
}

pub async fn stop(
    State(ui): State<UiState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    _form: CsrfForm,
) -> Result<Response, UiError> {
    let result = ui.workspaces.stop(viewer.principal(), &id).await;
    after_action(
        &ui,
        &viewer,
        &headers,
        result.map(drop).map_err(UiError::from),
    )
    .await
}

/// Deletes once confirmed (`confirmed=yes`, sent by the confirmation page or htmx's dialog);
/// otherwise asks.
pub async fn delete(
    State(ui): State<UiState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: CsrfForm,
) -> Result<Response, UiError> {
    if form.get("confirmed") != Some("yes") {
        let workspaces = ui.workspaces.list(viewer.principal(), None).await?;
        let Some(workspace) = workspaces.iter().find(|w| w.id.as_str() == id) else {
            return Err(UiError::from(
                crate::workspaces::service::WorkspaceError::NotFound,
            ));
        };
        let page = ConfirmDelete {
            chrome: Chrome::new(&ui, &viewer, "Delete workspace", "workspaces"),
            id: workspace.id.to_string(),
            name: workspace.name.clone(),
        };
        return html(&page);
    }
    let result = ui.workspaces.delete(viewer.principal(), &id).await;
    after_action(&ui, &viewer, &headers, result.map_err(UiError::from)).await
}
