//! `GET /api/dora/metrics`: the route Fawkes' DORA widget (`dora-widget.tsx` in Fawkes'
//! `platform/apps/backstage/plugins/devlake-dashboard.yaml`) calls, an alias over the same service
//! as `/api/devlake/dora-metrics`, in the shape the widget reads: five objects at the top level,
//! each `{value, unit, rating}` with `rating` one of `elite`, `high`, `medium`, `low` (or null
//! when there is no value, N/A).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::MetricsQuery;
use crate::dora::DoraService;
use crate::dora::benchmark::Performance;
use crate::dora::metrics::Reported;
use crate::error::{AppError, ErrorBody};
use crate::http::extract::AppQuery;

/// Why `operationalPerformance` has no value.
pub const OPERATIONAL_PERFORMANCE_NA: &str = "N/A: operational performance (DORA's reliability \
     metric) is measured against a service's reliability targets (SLOs for availability, latency, \
     error rate); neither DevLake nor these webhooks carry SLO data, and DORA defines no levels for it";

/// The widget's metrics for a project (or a team, or everything), over the last 30 days unless
/// `startDate`/`endDate` say otherwise.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WidgetMetrics {
    project: Option<String>,
    team: Option<String>,
    start_date: String,
    end_date: String,
    /// Successful production deployments per week.
    deployment_frequency: WidgetMetric,
    /// Median hours from change to production.
    lead_time_for_changes: WidgetMetric,
    /// Percent of deployments that caused an incident.
    change_failure_rate: WidgetMetric,
    /// Median hours to restore (2023: failed deployment recovery time).
    mean_time_to_restore: WidgetMetric,
    /// Always N/A (`value` and `rating` null), with the reason.
    operational_performance: WidgetMetric,
}

/// One metric as the widget reads it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WidgetMetric {
    /// Null when there is no data (N/A).
    value: Option<f64>,
    unit: String,
    /// `elite`, `high`, `medium` or `low`; null with the value.
    rating: Option<Performance>,
    /// Why there is no value, when that is not for want of data.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

fn metric<D>(reported: Reported<D>, unit: &str) -> WidgetMetric {
    WidgetMetric {
        value: reported.current.value,
        unit: unit.to_owned(),
        rating: reported.current.performance,
        reason: None,
    }
}

/// Fawkes' DORA widget's five metrics (an alias of `/api/devlake/dora-metrics` in the widget's
/// shape; the same authentication and rate limits).
#[utoipa::path(get, path = "/api/dora/metrics", tag = "devlake",
    operation_id = "get_dora_widget_metrics", params(MetricsQuery),
    responses(
        (status = 200, description = "The metrics", body = WidgetMetrics),
        (status = 400, description = "A bad date, a window over 400 days, or an unknown benchmark", body = ErrorBody),
        (status = 404, description = "Unknown project or team", body = ErrorBody),
    ))]
pub async fn widget_metrics(
    State(dora): State<Arc<DoraService>>,
    AppQuery(query): AppQuery<MetricsQuery>,
) -> Result<Json<WidgetMetrics>, AppError> {
    let answer = dora.metrics(query.into()).await?;
    let report = answer.report;
    Ok(Json(WidgetMetrics {
        project: answer.project,
        team: answer.team,
        start_date: answer.start,
        end_date: answer.end,
        deployment_frequency: metric(report.deployment_frequency, "deploys/week"),
        lead_time_for_changes: metric(report.lead_time, "hours"),
        change_failure_rate: metric(report.change_failure_rate, "percent"),
        mean_time_to_restore: metric(report.time_to_restore, "hours"),
        operational_performance: WidgetMetric {
            value: None,
            unit: "percent".into(),
            rating: None,
            reason: Some(OPERATIONAL_PERFORMANCE_NA.into()),
        },
    }))
}
