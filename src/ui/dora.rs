//! The DORA dashboard, laid out as DevLake's DORA dashboard and Fawkes' "DORA Performance"
//! widget are: a project or team picker (from the catalog), the period (7, 30 or 90 days, or
//! custom dates) and the benchmark (2023 or 2021); four metric cards (value, unit, level,
//! trend and the previous value); four charts (deployments and median lead time per week,
//! change failure rate per month, time to restore per incident); and the deployment history
//! with an environment filter. Every number is the DevLake service's, computed once.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::UiState;
use super::charts::{Chart, Kind, Point};
use super::page::{Chrome, UiError, html, is_htmx};
use super::session::Viewer;
use crate::dora::benchmark::{Benchmark, Performance};
use crate::dora::calendar::{Day, format_timestamp};
use crate::dora::metrics::{Reported, Series, Trend};
use crate::dora::service::{MetricsAnswer, MetricsRequest};

/// The dashboard's parameters, as the form sends them.
#[derive(Debug, Deserialize, Default, Clone)]
pub struct DashboardQuery {
    /// `team:<name>`, `project:<name>`, or empty for every project.
    pub scope: Option<String>,
    /// `7`, `30`, `90` or `custom`.
    pub period: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub benchmark: Option<String>,
    /// The history's project and environment.
    pub history: Option<String>,
    pub environment: Option<String>,
}

/// One of the four metric cards.
pub struct Card {
    pub key: &'static str,
    pub title: String,
    /// As the API reports it (`null` shows as N/A), for the page and its tests.
    pub raw: Option<f64>,
    pub value: String,
    pub unit: &'static str,
    pub level: &'static str,
    pub level_class: &'static str,
    pub trend: &'static str,
    pub previous: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "dora/chart.html")]
pub struct ChartView {
    pub chart: Chart,
}

/// The deployment history (also a fragment of its own).
#[derive(Template)]
#[template(path = "dora/history.html")]
pub struct HistoryView {
    pub base: std::sync::Arc<str>,
    pub query: DashboardQuery,
    pub projects: Vec<String>,
    pub project: Option<String>,
    pub environment: String,
    pub total: i64,
    pub rows: Vec<HistoryRow>,
    pub error: Option<String>,
}

pub struct HistoryRow {
    pub id: String,
    pub version: String,
    pub environment: &'static str,
    pub status: String,
    pub status_class: &'static str,
    pub started: String,
    pub duration: String,
    pub commit: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "dora/page.html")]
struct DashboardPage {
    chrome: Chrome,
    query: DashboardQuery,
    teams: Vec<String>,
    projects: Vec<String>,
    period: String,
    benchmark: &'static str,
    heading: String,
    window: String,
    cards: Vec<Card>,
    charts: Vec<ChartView>,
    error: Option<String>,
    history: HistoryView,
}

fn level(performance: Option<Performance>) -> (&'static str, &'static str) {
    match performance {
        Some(Performance::Elite) => ("Elite", "level-elite"),
        Some(Performance::High) => ("High", "level-high"),
        Some(Performance::Medium) => ("Medium", "level-medium"),
        Some(Performance::Low) => ("Low", "level-low"),
        None => ("N/A", "level-na"),
    }
}

fn card<D>(
    key: &'static str,
    title: &str,
    unit: &'static str,
    reported: &Reported<D>,
    detail: String,
) -> Card {
    let (level, level_class) = level(reported.current.performance);
    let trend = match reported.trend {
        Some(Trend::Increasing) => "↑ up",
        Some(Trend::Decreasing) => "↓ down",
        Some(Trend::Stable) => "→ stable",
        None => "",
    };
    Card {
        key,
        title: title.to_owned(),
        raw: reported.current.value,
        value: reported
            .current
            .value
            .map_or_else(|| "N/A".to_owned(), |v| v.to_string()),
        unit,
        level,
        level_class,
        trend,
        previous: reported
            .previous
            .map_or_else(|| "N/A".to_owned(), |v| format!("{v} {unit}")),
        detail,
    }
}

fn restore_title(benchmark: Benchmark) -> &'static str {
    match benchmark {
        Benchmark::Dora2023 => "Failed deployment recovery time",
        Benchmark::Dora2021 => "Time to restore service",
    }
}

pub fn cards(answer: &MetricsAnswer) -> Vec<Card> {
    let report = &answer.report;
    let df = &report.deployment_frequency.current.details;
    let lt = &report.lead_time.current.details;
    let cfr = &report.change_failure_rate.current.details;
    let ttr = &report.time_to_restore.current.details;
    vec![
        card(
            "deploymentFrequency",
            "Deployment frequency",
            "deploys/week",
            &report.deployment_frequency,
            format!(
                "{} deployments on {} of {} days",
                df.deployments, df.deployment_days, df.days
            ),
        ),
        card(
            "leadTimeForChanges",
            "Lead time for changes",
            "hours",
            &report.lead_time,
            format!("median of {} changes", lt.changes),
        ),
        card(
            "changeFailureRate",
            "Change failure rate",
            "percent",
            &report.change_failure_rate,
            format!(
                "{} of {} deployments caused an incident",
                cfr.failed_deployments, cfr.deployments
            ),
        ),
        card(
            "timeToRestoreService",
            restore_title(answer.benchmark),
            "hours",
            &report.time_to_restore,
            format!("median of {} restored incidents", ttr.incidents),
        ),
    ]
}

fn short_day(day: Day) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (_, month, dom) = day.ymd();
    let name = MONTHS.get(month as usize - 1).copied().unwrap_or("");
    format!("{name} {dom}")
}

/// The four charts of a series; `has_data` per metric says whether it has any data at all.
fn charts(answer: &MetricsAnswer, series: &Series) -> Vec<ChartView> {
    let report = &answer.report;
    let deployed = report.deployment_frequency.current.value.is_some();
    let weeks: Vec<Point> = series
        .weeks
        .iter()
        .map(|w| Point {
            label: short_day(w.first),
            long_label: format!("Week of {} to {}", w.first.format(), w.last.format()),
            value: deployed.then_some(w.deployments as f64),
            note: String::new(),
        })
        .collect();
    let lead: Vec<Point> = series
        .weeks
        .iter()
        .map(|w| Point {
            label: short_day(w.first),
            long_label: format!("Week of {} to {}", w.first.format(), w.last.format()),
            value: w.lead_time_hours,
            note: format!("{} changes", w.changes),
        })
        .collect();
    let months: Vec<Point> = series
        .months
        .iter()
        .map(|m| Point {
            label: short_day(m.first),
            long_label: format!("{} to {}", m.first.format(), m.last.format()),
            value: m.change_failure_rate,
            note: format!(
                "{} of {} deployments failed",
                m.failed_deployments, m.deployments
            ),
        })
        .collect();
    let restores: Vec<Point> = series
        .restores
        .iter()
        .map(|r| Point {
            label: short_day(Day::of(r.resolved_ms)),
            long_label: format!("Incident resolved {}", format_timestamp(r.resolved_ms)),
            value: r.hours,
            note: r
                .minutes
                .map(|m| format!("{m} minutes"))
                .unwrap_or_default(),
        })
        .collect();
    let total: i64 = series.weeks.iter().map(|w| w.deployments).sum();
    vec![
        Chart::new(
            "chart-deployments",
            "Deployments per week",
            "deployments",
            format!(
                "{total} successful production deployments over {} weeks",
                weeks.len()
            ),
            Kind::Bars,
            &weeks,
            0,
        ),
        Chart::new(
            "chart-lead-time",
            "Median lead time for changes per week",
            "hours",
            "The lower median hours from change to production, week by week".into(),
            Kind::Line,
            &lead,
            1,
        ),
        Chart::new(
            "chart-change-failure",
            "Change failure rate per month",
            "percent",
            "The percentage of deployments that caused an incident, month by month".into(),
            Kind::Bars,
            &months,
            1,
        ),
        Chart::new(
            "chart-restore",
            &format!("{} per incident", restore_title(answer.benchmark)),
            "hours",
            format!("Hours to restore for each of {} incidents", restores.len()),
            Kind::Bars,
            &restores,
            1,
        ),
    ]
    .into_iter()
    .map(|chart| ChartView { chart })
    .collect()
}

/// The service request for the dashboard's parameters.
fn request(query: &DashboardQuery) -> MetricsRequest {
    let (project, team) = match query.scope.as_deref().and_then(|s| s.split_once(':')) {
        Some(("project", name)) => (Some(name.to_owned()), None),
        Some(("team", name)) => (None, Some(name.to_owned())),
        _ => (None, None),
    };
    let custom = query.period.as_deref() == Some("custom");
    let days = match query.period.as_deref() {
        Some("7") => 7,
        Some("90") => 90,
        _ => 30,
    };
    let date = |d: &Option<String>| d.clone().filter(|d| !d.trim().is_empty());
    MetricsRequest {
        project,
        team,
        start_date: if custom { date(&query.start) } else { None },
        end_date: if custom { date(&query.end) } else { None },
        benchmark: query.benchmark.clone().filter(|b| !b.is_empty()),
        last_days: (!custom).then_some(days),
    }
}

/// The history for the dashboard's parameters: the chosen project, else the scope's first.
async fn history(ui: &UiState, query: &DashboardQuery) -> Result<HistoryView, UiError> {
    let scope = request(query);
    let projects = match (&scope.project, &scope.team) {
        (Some(project), _) => vec![project.clone()],
        (None, Some(team)) => ui.dora.projects_of_team(team).await?,
        (None, None) => ui.dora.teams_and_projects().await?.1,
    };
    let project = query
        .history
        .clone()
        .filter(|p| projects.contains(p))
        .or_else(|| projects.first().cloned());
    let environment = query
        .environment
        .clone()
        .filter(|e| matches!(e.as_str(), "prod" | "staging" | "dev"))
        .unwrap_or_default();
    let mut view = HistoryView {
        base: ui.base.clone(),
        query: query.clone(),
        projects,
        project: project.clone(),
        environment: environment.clone(),
        total: 0,
        rows: Vec::new(),
        error: None,
    };
    let Some(project) = project else {
        return Ok(view);
    };
    let environment = (!environment.is_empty()).then_some(environment);
    match ui
        .dora
        .history(Some(project), environment, Some("50".into()))
        .await
    {
        Ok(answer) => {
            view.total = answer.total;
            view.rows = answer
                .deployments
                .into_iter()
                .map(|row| HistoryRow {
                    environment: match row.environment.as_str() {
                        "PRODUCTION" => "prod",
                        "STAGING" => "staging",
                        _ => "dev",
                    },
                    status_class: if row.result == "SUCCESS" {
                        "status-running"
                    } else {
                        "status-failed"
                    },
                    id: row.id,
                    version: row.version.unwrap_or_default(),
                    status: row.result,
                    started: super::workspaces::short_time(&format_timestamp(row.started_ms)),
                    duration: format!("{} s", row.duration_sec),
                    message: row.head_message.unwrap_or_default(),
                    commit: row.head_sha.chars().take(10).collect(),
                })
                .collect();
        }
        Err(e) => view.error = Some(UiError::from(e).message),
    }
    Ok(view)
}

pub async fn page(
    State(ui): State<UiState>,
    viewer: Viewer,
    Query(query): Query<DashboardQuery>,
) -> Result<Response, UiError> {
    let (teams, projects) = ui.dora.teams_and_projects().await?;
    let scope = request(&query);
    let heading = match (&scope.project, &scope.team) {
        (Some(project), _) => format!("Project {project}"),
        (None, Some(team)) => format!("Team {team}"),
        (None, None) => "All projects".to_owned(),
    };
    let (answer, error) = match ui.dora.dashboard(scope).await {
        Ok(answer) => (Some(answer), None),
        Err(e) => (None, Some(UiError::from(e).message)),
    };
    let benchmark = answer
        .as_ref()
        .map_or(Benchmark::default(), |(a, _)| a.benchmark);
    let page = DashboardPage {
        chrome: Chrome::new(&ui, &viewer, "DORA metrics", "dora"),
        teams,
        projects,
        period: query.period.clone().unwrap_or_else(|| "30".into()),
        benchmark: benchmark.as_str(),
        heading,
        window: answer
            .as_ref()
            .map(|(a, _)| format!("{} to {}", a.start, a.end))
            .unwrap_or_default(),
        cards: answer.as_ref().map(|(a, _)| cards(a)).unwrap_or_default(),
        charts: answer
            .as_ref()
            .map(|(a, s)| charts(a, s))
            .unwrap_or_default(),
        error,
        history: history(&ui, &query).await?,
        query,
    };
    html(&page)
}

/// The history alone (htmx swaps it when the environment or project changes).
pub async fn history_fragment(
    State(ui): State<UiState>,
    _viewer: Viewer,
    headers: HeaderMap,
    Query(query): Query<DashboardQuery>,
) -> Result<Response, UiError> {
    if !is_htmx(&headers) {
        let target = format!("/dora?{}", query_string(&query));
        return Ok(super::page::see_other(&ui.link(&target)));
    }
    html(&history(&ui, &query).await?)
}

/// The dashboard's query string for `query`.
pub fn query_string(query: &DashboardQuery) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in [
        ("scope", &query.scope),
        ("period", &query.period),
        ("start", &query.start),
        ("end", &query.end),
        ("benchmark", &query.benchmark),
        ("history", &query.history),
        ("environment", &query.environment),
    ] {
        if let Some(value) = value {
            out.append_pair(key, value);
        }
    }
    out.finish()
}
