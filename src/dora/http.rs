//! The DevLake plugin's routes: DevLake-compatible webhooks (service principals only; bodies read
//! as DevLake reads them, [`body`]), the DORA metrics, the deployment history, and Fawkes' DORA
//! widget's route ([`widget`]).

pub mod body;
pub mod widget;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::benchmark::Performance;
use super::calendar::format_timestamp;
use super::metrics::{
    ChangeFailureDetails, FrequencyDetails, LeadTimeDetails, Reported, RestoreDetails, Trend,
};
use super::model::{DeploymentWebhook, IncidentWebhook, PullRequestWebhook};
use super::service::{HistoryAnswer, MetricsAnswer, MetricsRequest};
use std::sync::Arc;

use super::DoraService;
use crate::error::{AppError, ErrorBody};
use crate::http::extract::{AppPath, AppQuery};
use crate::principal::Principal;
use body::WebhookBody;

/// The caller of a webhook: a service principal. Users get a 403 saying so.
pub struct WebhookCaller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for WebhookCaller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        if !principal.is_service() {
            return Err(AppError::Forbidden(format!(
                "Only service principals may post DevLake webhooks, and {} is a user: post from \
                 your pipeline with a service token (a Kubernetes service-account token, a static \
                 service token, or `fawkes-portal token issue --service NAME`)",
                principal.subject
            )));
        }
        Ok(WebhookCaller(principal))
    }
}

/// What a webhook stored.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Received {
    pub project: String,
    /// The id (or issue key) of the deployment, incident or pull request created or updated.
    pub id: String,
}

/// Create or update a deployment (DevLake's deployment webhook body).
#[utoipa::path(post, path = "/api/devlake/webhooks/{project}/deployments", tag = "devlake",
    operation_id = "post_devlake_deployment",
    params(("project" = String, Path, description = "The DevLake project (catalog project name)")),
    request_body = DeploymentWebhook,
    responses(
        (status = 200, description = "Stored (created, or updated when the id was posted before)", body = Received),
        (status = 400, description = "A field is missing or malformed; the message names it", body = ErrorBody),
        (status = 403, description = "The caller is a user; webhooks take service tokens", body = ErrorBody),
        (status = 409, description = "Webhooks are off: the facts come from DevLake ([dora] source = \"devlake\")", body = ErrorBody),
    ))]
pub async fn post_deployment(
    State(dora): State<Arc<DoraService>>,
    _caller: WebhookCaller,
    AppPath(project): AppPath<String>,
    WebhookBody(body): WebhookBody<DeploymentWebhook>,
) -> Result<Json<Received>, AppError> {
    let id = dora.post_deployment(&project, body).await?;
    Ok(Json(Received { project, id }))
}

/// Create or update an incident (DevLake's issue webhook body with `type: "INCIDENT"`).
#[utoipa::path(post, path = "/api/devlake/webhooks/{project}/incidents", tag = "devlake",
    operation_id = "post_devlake_incident",
    params(("project" = String, Path, description = "The DevLake project (catalog project name)")),
    request_body = IncidentWebhook,
    responses(
        (status = 200, description = "Stored (created, or updated when the key was posted before)", body = Received),
        (status = 400, description = "A field is missing or malformed; the message names it", body = ErrorBody),
        (status = 403, description = "The caller is a user; webhooks take service tokens", body = ErrorBody),
        (status = 409, description = "Webhooks are off: the facts come from DevLake ([dora] source = \"devlake\")", body = ErrorBody),
    ))]
pub async fn post_incident(
    State(dora): State<Arc<DoraService>>,
    _caller: WebhookCaller,
    AppPath(project): AppPath<String>,
    WebhookBody(body): WebhookBody<IncidentWebhook>,
) -> Result<Json<Received>, AppError> {
    let id = dora.post_incident(&project, body).await?;
    Ok(Json(Received { project, id }))
}

/// Close an incident: status DONE, resolved now unless it already has a resolution date.
#[utoipa::path(post, path = "/api/devlake/webhooks/{project}/incidents/{issueKey}/close",
    tag = "devlake", operation_id = "close_devlake_incident",
    params(
        ("project" = String, Path, description = "The DevLake project"),
        ("issueKey" = String, Path, description = "The incident's issue key"),
    ),
    responses(
        (status = 200, description = "Closed", body = Received),
        (status = 403, description = "The caller is a user; webhooks take service tokens", body = ErrorBody),
        (status = 404, description = "No such incident in this project", body = ErrorBody),
        (status = 409, description = "Webhooks are off: the facts come from DevLake ([dora] source = \"devlake\")", body = ErrorBody),
    ))]
pub async fn close_incident(
    State(dora): State<Arc<DoraService>>,
    _caller: WebhookCaller,
    AppPath((project, issue_key)): AppPath<(String, String)>,
) -> Result<Json<Received>, AppError> {
    dora.close_incident(&project, &issue_key).await?;
    Ok(Json(Received {
        project,
        id: issue_key,
    }))
}

/// Create or update a pull request (DevLake's pull request webhook body), keyed by its
/// `pullRequestKey` as in DevLake.
#[utoipa::path(post, path = "/api/devlake/webhooks/{project}/pull-requests", tag = "devlake",
    operation_id = "post_devlake_pull_request",
    params(("project" = String, Path, description = "The DevLake project (catalog project name)")),
    request_body = PullRequestWebhook,
    responses(
        (status = 200, description = "Stored (created, or updated when the id was posted before)", body = Received),
        (status = 400, description = "A field is missing or malformed; the message names it", body = ErrorBody),
        (status = 403, description = "The caller is a user; webhooks take service tokens", body = ErrorBody),
        (status = 409, description = "Webhooks are off: the facts come from DevLake ([dora] source = \"devlake\")", body = ErrorBody),
    ))]
pub async fn post_pull_request(
    State(dora): State<Arc<DoraService>>,
    _caller: WebhookCaller,
    AppPath(project): AppPath<String>,
    WebhookBody(body): WebhookBody<PullRequestWebhook>,
) -> Result<Json<Received>, AppError> {
    let id = dora.post_pull_request(&project, body).await?;
    Ok(Json(Received { project, id }))
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct MetricsQuery {
    /// A project; its team is reported too. Neither `project` nor `team`: every project.
    project: Option<String>,
    /// A team: all its projects together.
    team: Option<String>,
    /// First day (`2024-06-01`, from 00:00 UTC) or an RFC 3339 time. Default: 29 days before `endDate`.
    start_date: Option<String>,
    /// Last day (`2024-06-30`, to 23:59:59 UTC) or an RFC 3339 time. Default: today (UTC).
    end_date: Option<String>,
    /// The DORA report rating the metrics: `2023` (default) or `2021`.
    benchmark: Option<String>,
}

impl From<MetricsQuery> for MetricsRequest {
    fn from(query: MetricsQuery) -> Self {
        MetricsRequest {
            project: query.project,
            team: query.team,
            start_date: query.start_date,
            end_date: query.end_date,
            benchmark: query.benchmark,
            last_days: None,
        }
    }
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DoraMetrics {
    project: Option<String>,
    team: Option<String>,
    period: Period,
    /// The DORA report the levels come from.
    benchmark: String,
    metrics: Metrics,
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Period {
    start_date: String,
    end_date: String,
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    /// Successful production deployments per week; level from deployment days (DevLake).
    deployment_frequency: Metric<FrequencyDetails>,
    /// Median hours from change to production.
    lead_time_for_changes: Metric<LeadTimeDetails>,
    /// Percent of deployments that caused an incident.
    change_failure_rate: Metric<ChangeFailureDetails>,
    /// Median hours to restore: 2023, failed deployment recovery time; 2021, incident age.
    time_to_restore_service: Metric<RestoreDetails>,
}

/// One metric. `value` and `performance` are null when there is no data (shown as N/A).
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Serialize, ToSchema)]
pub struct Metric<D> {
    value: Option<f64>,
    unit: String,
    /// Against the previous window of the same length; null when either has no value.
    trend: Option<Trend>,
    performance: Option<Performance>,
    /// The counts the value was computed from.
    details: D,
}

fn metric<D>(reported: Reported<D>, unit: &str) -> Metric<D> {
    Metric {
        value: reported.current.value,
        unit: unit.to_owned(),
        trend: reported.trend,
        performance: reported.current.performance,
        details: reported.current.details,
    }
}

impl From<MetricsAnswer> for DoraMetrics {
    fn from(answer: MetricsAnswer) -> Self {
        let report = answer.report;
        DoraMetrics {
            project: answer.project,
            team: answer.team,
            period: Period {
                start_date: answer.start,
                end_date: answer.end,
            },
            benchmark: answer.benchmark.as_str().to_owned(),
            metrics: Metrics {
                deployment_frequency: metric(report.deployment_frequency, "deploys/week"),
                lead_time_for_changes: metric(report.lead_time, "hours"),
                change_failure_rate: metric(report.change_failure_rate, "percent"),
                time_to_restore_service: metric(report.time_to_restore, "hours"),
            },
        }
    }
}

/// The four DORA metrics of a project, a team or everything, computed as Apache DevLake does.
#[utoipa::path(get, path = "/api/devlake/dora-metrics", tag = "devlake",
    operation_id = "get_dora_metrics", params(MetricsQuery),
    responses(
        (status = 200, description = "The metrics", body = DoraMetrics),
        (status = 400, description = "A bad date, a window over 400 days, or an unknown benchmark", body = ErrorBody),
        (status = 404, description = "Unknown project or team", body = ErrorBody),
    ))]
pub async fn dora_metrics(
    State(dora): State<Arc<DoraService>>,
    AppQuery(query): AppQuery<MetricsQuery>,
) -> Result<Json<DoraMetrics>, AppError> {
    let answer = dora.metrics(query.into()).await?;
    Ok(Json(answer.into()))
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// The service (DevLake project). Required.
    service: Option<String>,
    /// `dev`, `staging` or `prod`.
    environment: Option<String>,
    /// How many deployments, 1 to 100. Default 20.
    limit: Option<String>,
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Serialize, ToSchema)]
pub struct DeploymentHistory {
    service: String,
    /// Newest first (by start time).
    deployments: Vec<HistoryItem>,
    /// How many deployments match, beyond those returned.
    total: i64,
}

#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryItem {
    id: String,
    version: Option<String>,
    /// `prod`, `staging` or `dev`.
    environment: String,
    /// The deployment's result, e.g. `SUCCESS` or `FAILURE`.
    status: String,
    start_time: String,
    end_time: String,
    /// Seconds.
    duration: i64,
    triggered_by: Option<String>,
    commit: HistoryCommit,
}

/// The deployment's head commit.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryCommit {
    sha: String,
    message: Option<String>,
    author: Option<String>,
}

impl From<HistoryAnswer> for DeploymentHistory {
    fn from(answer: HistoryAnswer) -> Self {
        let deployments = answer
            .deployments
            .into_iter()
            .map(|row| HistoryItem {
                environment: match row.environment.as_str() {
                    "PRODUCTION" => "prod",
                    "STAGING" => "staging",
                    _ => "dev",
                }
                .to_owned(),
                id: row.id,
                version: row.version,
                status: row.result,
                start_time: format_timestamp(row.started_ms),
                end_time: format_timestamp(row.finished_ms),
                duration: row.duration_sec,
                triggered_by: row.triggered_by,
                commit: HistoryCommit {
                    sha: row.head_sha,
                    message: row.head_message,
                    author: row.head_author,
                },
            })
            .collect();
        DeploymentHistory {
            service: answer.service,
            deployments,
            total: answer.total,
        }
    }
}

/// A service's deployments, newest first.
#[utoipa::path(get, path = "/api/devlake/deployment-history", tag = "devlake",
    operation_id = "get_deployment_history", params(HistoryQuery),
    responses(
        (status = 200, description = "The deployments", body = DeploymentHistory),
        (status = 400, description = "No service, an unknown environment, or a limit outside 1 to 100", body = ErrorBody),
        (status = 404, description = "Unknown service", body = ErrorBody),
    ))]
pub async fn deployment_history(
    State(dora): State<Arc<DoraService>>,
    AppQuery(query): AppQuery<HistoryQuery>,
) -> Result<Json<DeploymentHistory>, AppError> {
    let answer = dora
        .history(query.service, query.environment, query.limit)
        .await?;
    Ok(Json(answer.into()))
}
