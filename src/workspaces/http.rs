//! `/api/che-launcher/workspaces`: thin handlers over [`Workspaces`](super::Workspaces).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{Workspace, WorkspaceStatus};
use super::service::{CreateRequest, Workspaces};
use crate::error::{AppError, ErrorBody};
use crate::http::extract::{AppJson, AppQuery};
use crate::principal::Principal;

/// What to launch.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWorkspaceBody {
    /// HTTPS URL of a devfile (2.0.0 to 2.3.x); GitHub and GitLab `blob` URLs are read as raw files.
    #[schema(
        example = "https://raw.githubusercontent.com/paruff/fawkes/main/platform/devfiles/goldenpath-python.yaml"
    )]
    devfile_url: String,
    /// Kubernetes namespace; default (and the only one allowed): the caller's own, as Che finds it
    /// (a namespace Che prepared for the user, else Che's namespace template).
    namespace: Option<String>,
    /// A DNS-1123 label; default: the devfile's `metadata.name` (`generateName` plus `-` and 4
    /// random characters, or a suffix when the name is taken, as in Che).
    name: Option<String>,
}

/// The devfile a workspace was made from.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Serialize, ToSchema)]
pub struct DevfileInfo {
    name: String,
    version: String,
}

/// A workspace as the caller sees it.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceView {
    #[schema(example = "workspace-3f9a0c1b2d4e")]
    workspace_id: String,
    name: String,
    namespace: String,
    status: WorkspaceStatus,
    /// Why it failed (status `Failed` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    /// The IDE: the workspace's main URL once known, else its page in Che's dashboard.
    ide_url: String,
    devfile: DevfileInfo,
    /// RFC 3339.
    created_at: String,
    /// RFC 3339: the last start (Che's `che.eclipse.org/last-updated-timestamp`).
    last_used: String,
    /// Accepted devfile quirks worth knowing (create only), e.g. several default commands.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

impl WorkspaceView {
    fn new(service: &Workspaces, workspace: Workspace) -> WorkspaceView {
        WorkspaceView {
            ide_url: service.ide_url(&workspace),
            workspace_id: workspace.id.to_string(),
            name: workspace.name,
            namespace: workspace.namespace,
            status: workspace.status,
            message: workspace.message,
            devfile: DevfileInfo {
                name: workspace.devfile_name,
                version: workspace.devfile_version,
            },
            created_at: workspace.created_at,
            last_used: workspace.last_used,
            warnings: Vec::new(),
        }
    }
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceList {
    workspaces: Vec<WorkspaceView>,
    total: usize,
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only workspaces in this status: Starting, Running, Stopping, Stopped or Failed.
    status: Option<String>,
}

/// Creates a workspace from a devfile and starts it.
#[utoipa::path(post, path = "/api/che-launcher/workspaces", tag = "che-launcher",
    operation_id = "create_workspace", request_body = CreateWorkspaceBody,
    responses(
        (status = 201, description = "Created and starting", body = WorkspaceView),
        (status = 400, description = "Bad URL, unreadable or invalid devfile, bad name or namespace", body = ErrorBody),
        (status = 403, description = "Not your namespace (or another user's), or the quota is reached", body = ErrorBody),
        (status = 409, description = "The name is taken in the namespace", body = ErrorBody),
        (status = 502, description = "The cluster refused our credentials, or forbids the portal an action it needs", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is unavailable", body = ErrorBody),
    ))]
pub async fn create_workspace(
    State(service): State<Workspaces>,
    principal: Principal,
    AppJson(body): AppJson<CreateWorkspaceBody>,
) -> Result<(StatusCode, Json<WorkspaceView>), AppError> {
    let request = CreateRequest {
        devfile_url: body.devfile_url,
        namespace: body.namespace,
        name: body.name,
    };
    let created = service.create(&principal, &request).await?;
    let mut view = WorkspaceView::new(&service, created.workspace);
    view.warnings = created.warnings;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The caller's workspaces.
#[utoipa::path(get, path = "/api/che-launcher/workspaces", tag = "che-launcher",
    operation_id = "list_workspaces", params(ListQuery),
    responses(
        (status = 200, description = "The caller's workspaces", body = WorkspaceList),
        (status = 400, description = "Unknown status filter", body = ErrorBody),
        (status = 502, description = "The cluster refused our credentials", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is unavailable", body = ErrorBody),
    ))]
pub async fn list_workspaces(
    State(service): State<Workspaces>,
    principal: Principal,
    AppQuery(query): AppQuery<ListQuery>,
) -> Result<Json<WorkspaceList>, AppError> {
    let status = query
        .status
        .as_deref()
        .map(str::parse::<WorkspaceStatus>)
        .transpose()
        .map_err(AppError::BadRequest)?;
    let workspaces = service.list(&principal, status).await?;
    let workspaces: Vec<WorkspaceView> = workspaces
        .into_iter()
        .map(|w| WorkspaceView::new(&service, w))
        .collect();
    Ok(Json(WorkspaceList {
        total: workspaces.len(),
        workspaces,
    }))
}

/// Deletes one of the caller's workspaces.
#[utoipa::path(delete, path = "/api/che-launcher/workspaces/{workspaceId}", tag = "che-launcher",
    operation_id = "delete_workspace",
    params(("workspaceId" = String, Path, description = "The workspace's id")),
    responses(
        (status = 204, description = "Deleted (the cluster may take a moment to clean up)"),
        (status = 404, description = "No such workspace of the caller's", body = ErrorBody),
        (status = 502, description = "The cluster refused our credentials", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is unavailable", body = ErrorBody),
    ))]
pub async fn delete_workspace(
    State(service): State<Workspaces>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    service.delete(&principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts one of the caller's stopped workspaces (as Che does: `spec.started`); counts against the quota.
#[utoipa::path(post, path = "/api/che-launcher/workspaces/{workspaceId}/start", tag = "che-launcher",
    operation_id = "start_workspace",
    params(("workspaceId" = String, Path, description = "The workspace's id")),
    responses(
        (status = 202, description = "Starting", body = WorkspaceView),
        (status = 403, description = "The quota is reached", body = ErrorBody),
        (status = 404, description = "No such workspace of the caller's", body = ErrorBody),
        (status = 409, description = "The workspace is being deleted", body = ErrorBody),
        (status = 502, description = "The cluster refused our credentials", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is unavailable", body = ErrorBody),
    ))]
pub async fn start_workspace(
    State(service): State<Workspaces>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<WorkspaceView>), AppError> {
    let workspace = service.start(&principal, &id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(WorkspaceView::new(&service, workspace)),
    ))
}

/// Stops one of the caller's workspaces; its storage stays.
#[utoipa::path(post, path = "/api/che-launcher/workspaces/{workspaceId}/stop", tag = "che-launcher",
    operation_id = "stop_workspace",
    params(("workspaceId" = String, Path, description = "The workspace's id")),
    responses(
        (status = 202, description = "Stopping", body = WorkspaceView),
        (status = 404, description = "No such workspace of the caller's", body = ErrorBody),
        (status = 502, description = "The cluster refused our credentials", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is unavailable", body = ErrorBody),
    ))]
pub async fn stop_workspace(
    State(service): State<Workspaces>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<WorkspaceView>), AppError> {
    let workspace = service.stop(&principal, &id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(WorkspaceView::new(&service, workspace)),
    ))
}
