//! The rules between HTTP and storage: who may post, what a request's parameters mean, which
//! projects a request covers, and the metrics over them.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::benchmark::Benchmark;
use super::calendar::{DAY_MS, Day, Millis, format_timestamp, parse_timestamp};
use super::directory::ProjectDirectory;
use super::metrics::{self, Report, Window};
use super::model::{DeploymentWebhook, IncidentWebhook, InvalidField, PullRequestWebhook};
use super::source::{DoraSource, SourceError, Sources};
use super::store::{DoraStore, HistoryRow};
use crate::clock::Clock;
use crate::db::StoreError;

/// The longest window a metrics request may cover, in days (DevLake's calendar is 400 days).
pub const MAX_WINDOW_DAYS: i64 = 400;
/// The default window: this many days ending today.
pub const DEFAULT_WINDOW_DAYS: i64 = 30;
/// Deployments in a history page by default.
pub const DEFAULT_HISTORY_LIMIT: i64 = 20;
/// The most deployments a history page may ask for.
pub const MAX_HISTORY_LIMIT: i64 = 100;

/// Why a DevLake plugin request failed; `app::errors` gives each its HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum DoraError {
    /// A parameter or body is wrong; the message says which and how.
    #[error("{0}")]
    Invalid(String),
    /// No such project or team; the message names it.
    #[error("{0}")]
    NotFound(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading the facts failed (this server's database, or DevLake's).
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Webhooks are refused: the facts come from DevLake alone (`[dora] source = "devlake"`).
    #[error("{0}")]
    WebhooksOff(String),
    /// The project directory failed.
    #[error("{0}")]
    Internal(anyhow::Error),
}

impl From<InvalidField> for DoraError {
    fn from(err: InvalidField) -> Self {
        DoraError::Invalid(format!("Invalid request body: {err}"))
    }
}

/// `GET /api/devlake/dora-metrics` parameters, as sent.
#[derive(Debug, Clone, Default)]
pub struct MetricsRequest {
    /// `project`: one DevLake project.
    pub project: Option<String>,
    /// `team`: every project of a team.
    pub team: Option<String>,
    /// `startDate`: a date or an RFC 3339 time.
    pub start_date: Option<String>,
    /// `endDate`: a date or an RFC 3339 time; default today.
    pub end_date: Option<String>,
    /// `benchmark`: `2023` or `2021`; default the configured one.
    pub benchmark: Option<String>,
    /// Without `startDate` and `endDate`: the window is this many days ending today (the
    /// dashboard's 7, 30 and 90 days).
    pub last_days: Option<i64>,
}

/// The metrics over the projects a request covers.
#[derive(Debug, Clone)]
pub struct MetricsAnswer {
    /// The project asked for.
    pub project: Option<String>,
    /// The team asked for (or the project's team).
    pub team: Option<String>,
    /// The window's ends as the request gave them: dates, or RFC 3339 times in UTC.
    pub start: String,
    /// See `start`.
    pub end: String,
    /// The benchmark that rated the metrics.
    pub benchmark: Benchmark,
    /// The four metrics, with their trends.
    pub report: Report,
}

/// One page of deployment history.
#[derive(Debug, Clone)]
pub struct HistoryAnswer {
    /// The project.
    pub service: String,
    /// How many deployments it has in the environments asked for.
    pub total: i64,
    /// The newest of them, newest first.
    pub deployments: Vec<HistoryRow>,
}

/// The DevLake plugin's use cases: storing webhooks, computing metrics, listing deployments.
pub struct DoraService {
    store: Arc<dyn DoraStore>,
    source: Arc<dyn DoraSource>,
    takes_webhooks: bool,
    directory: Arc<dyn ProjectDirectory>,
    clock: Arc<dyn Clock>,
    default_benchmark: Benchmark,
}

impl DoraService {
    /// The plugin over `store`, with projects and teams from `directory`, on `clock`, rating by `default_benchmark` when a request names none.
    pub fn new(
        sources: Sources,
        directory: Arc<dyn ProjectDirectory>,
        clock: Arc<dyn Clock>,
        default_benchmark: Benchmark,
    ) -> Self {
        Self {
            store: sources.store,
            source: sources.facts,
            takes_webhooks: sources.takes_webhooks,
            directory,
            clock,
            default_benchmark,
        }
    }

    fn now_ms(&self) -> Millis {
        i64::try_from(self.clock.now().as_millis()).unwrap_or(i64::MAX)
    }

    /// The project named in a webhook's URL, when webhooks are taken.
    fn webhook_project<'a>(&self, project: &'a str) -> Result<&'a str, DoraError> {
        if !self.takes_webhooks {
            return Err(DoraError::WebhooksOff(
                "This server reads DORA data from Apache DevLake ([dora] source = \"devlake\") \
                 and stores no webhooks: post to DevLake's webhook, or set [dora] source = \
                 \"both\""
                    .into(),
            ));
        }
        project_name(project)
    }

    /// Stores a deployment webhook of `project`; answers the deployment's id.
    pub async fn post_deployment(
        &self,
        project: &str,
        body: DeploymentWebhook,
    ) -> Result<String, DoraError> {
        let project = self.webhook_project(project)?;
        let record = body.into_record()?;
        self.store
            .save_deployment(project, &record, self.now_ms())
            .await?;
        Ok(record.id)
    }

    /// Stores an incident webhook of `project`; answers its issue key.
    pub async fn post_incident(
        &self,
        project: &str,
        body: IncidentWebhook,
    ) -> Result<String, DoraError> {
        let project = self.webhook_project(project)?;
        let record = body.into_record()?;
        self.store.save_incident(project, &record).await?;
        Ok(record.issue_key)
    }

    /// Closes incident `issue_key` of `project` now (DevLake's close webhook).
    pub async fn close_incident(&self, project: &str, issue_key: &str) -> Result<(), DoraError> {
        let project = self.webhook_project(project)?;
        if self
            .store
            .close_incident(project, issue_key, self.now_ms())
            .await?
        {
            Ok(())
        } else {
            Err(DoraError::NotFound(format!(
                "Incident '{issue_key}' of project '{project}' not found: post it to \
                 /api/devlake/webhooks/{project}/incidents first"
            )))
        }
    }

    /// Stores a pull-request webhook of `project`; answers its id.
    pub async fn post_pull_request(
        &self,
        project: &str,
        body: PullRequestWebhook,
    ) -> Result<String, DoraError> {
        let project = self.webhook_project(project)?;
        let record = body.into_record()?;
        self.store.save_pull_request(project, &record).await?;
        Ok(record.id)
    }

    /// The four metrics over the request's window, for a project or a team.
    pub async fn metrics(&self, request: MetricsRequest) -> Result<MetricsAnswer, DoraError> {
        Ok(self.compute(request, false).await?.0)
    }

    /// The metrics and, from the same facts, their series over the window (the dashboard's
    /// charts).
    pub async fn dashboard(
        &self,
        request: MetricsRequest,
    ) -> Result<(MetricsAnswer, metrics::Series), DoraError> {
        let (answer, series) = self.compute(request, true).await?;
        Ok((answer, series.unwrap_or_default()))
    }

    async fn compute(
        &self,
        request: MetricsRequest,
        with_series: bool,
    ) -> Result<(MetricsAnswer, Option<metrics::Series>), DoraError> {
        let benchmark = match request.benchmark.as_deref() {
            None => self.default_benchmark,
            Some(text) => Benchmark::parse(text).ok_or_else(|| {
                DoraError::Invalid(format!(
                    "benchmark: '{text}' is not a DORA report we rate by; use 2023 or 2021"
                ))
            })?,
        };
        let today = Day::of(self.now_ms());
        let start_date = match (&request.start_date, &request.end_date, request.last_days) {
            (None, None, Some(days)) if (1..=MAX_WINDOW_DAYS).contains(&days) => {
                Some(today.plus(1 - days).format())
            }
            (None, None, Some(days)) => {
                return Err(DoraError::Invalid(format!(
                    "The window of {days} days is not 1 to {MAX_WINDOW_DAYS} days"
                )));
            }
            _ => request.start_date,
        };
        let period = Period::parse(start_date.as_deref(), request.end_date.as_deref(), today)?;
        let project = non_empty("project", request.project)?;
        let team = non_empty("team", request.team)?;
        let (team, projects) = self.scope(project.as_deref(), team.as_deref()).await?;
        let facts = self
            .source
            .facts_of(&projects, period.window, benchmark == Benchmark::Dora2021)
            .await?;
        let series = with_series.then(|| metrics::series(&facts, &period.window, benchmark));
        let answer = MetricsAnswer {
            project,
            team,
            start: period.start,
            end: period.end,
            benchmark,
            report: metrics::report(&facts, &period.window, benchmark),
        };
        Ok((answer, series))
    }

    /// The projects of `team` (sorted), as the metrics of that team cover them.
    pub async fn projects_of_team(&self, team: &str) -> Result<Vec<String>, DoraError> {
        Ok(self.scope(None, Some(team)).await?.1)
    }

    /// Every team the directory knows, and every project (the directory's and the source's:
    /// webhooks, DevLake, or both).
    pub async fn teams_and_projects(&self) -> Result<(Vec<String>, Vec<String>), DoraError> {
        let teams = self.directory.teams().await.map_err(DoraError::Internal)?;
        let mut projects: BTreeSet<String> = self.source.projects().await?.into_iter().collect();
        projects.extend(
            self.directory
                .projects()
                .await
                .map_err(DoraError::Internal)?,
        );
        Ok((teams, projects.into_iter().collect()))
    }

    /// The team to report and the projects a request covers: one project (its team from the
    /// directory), a team's projects, or every project known.
    async fn scope(
        &self,
        project: Option<&str>,
        team: Option<&str>,
    ) -> Result<(Option<String>, Vec<String>), DoraError> {
        if let Some(project) = project {
            if !self.knows(project).await? {
                return Err(unknown_project(project));
            }
            let team_of = self
                .directory
                .team_of(project)
                .await
                .map_err(DoraError::Internal)?;
            if let Some(team) = team
                && team_of.as_deref() != Some(team)
            {
                return Err(DoraError::NotFound(format!(
                    "Project '{project}' is not in team '{team}'"
                )));
            }
            return Ok((team_of, vec![project.to_owned()]));
        }
        if let Some(team) = team {
            let projects = self
                .directory
                .projects_of(team)
                .await
                .map_err(DoraError::Internal)?;
            let projects = projects.ok_or_else(|| {
                DoraError::NotFound(format!(
                    "Unknown team '{team}': no project belongs to it (teams come from the \
                     catalog or from [dora.teams])"
                ))
            })?;
            return Ok((Some(team.to_owned()), projects));
        }
        let mut all: BTreeSet<String> = self.source.projects().await?.into_iter().collect();
        all.extend(
            self.directory
                .projects()
                .await
                .map_err(DoraError::Internal)?,
        );
        Ok((None, all.into_iter().collect()))
    }

    async fn knows(&self, project: &str) -> Result<bool, DoraError> {
        Ok(self
            .directory
            .has_project(project)
            .await
            .map_err(DoraError::Internal)?
            || self.source.has_project(project).await?)
    }

    /// The newest deployments of `service`, in one environment or all.
    pub async fn history(
        &self,
        service: Option<String>,
        environment: Option<String>,
        limit: Option<String>,
    ) -> Result<HistoryAnswer, DoraError> {
        let service = non_empty("service", service)?.ok_or_else(|| {
            DoraError::Invalid("service is required: the project whose deployments to list".into())
        })?;
        let environments: Option<&[&str]> = match environment.as_deref() {
            None => None,
            Some("prod") => Some(&["PRODUCTION"]),
            Some("staging") => Some(&["STAGING"]),
            Some("dev") => Some(&["DEVELOPMENT", "TESTING"]),
            Some(other) => {
                return Err(DoraError::Invalid(format!(
                    "environment: '{other}' is not one of dev, staging, prod"
                )));
            }
        };
        let limit = match limit.as_deref() {
            None => DEFAULT_HISTORY_LIMIT,
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_HISTORY_LIMIT).contains(n))
                .ok_or_else(|| {
                    DoraError::Invalid(format!(
                        "limit: '{text}' is not a whole number from 1 to {MAX_HISTORY_LIMIT}"
                    ))
                })?,
        };
        if !self.knows(&service).await? {
            return Err(unknown_project(&service));
        }
        let (total, deployments) = self.source.history(&service, environments, limit).await?;
        Ok(HistoryAnswer {
            service,
            total,
            deployments,
        })
    }
}

fn unknown_project(project: &str) -> DoraError {
    DoraError::NotFound(format!(
        "Unknown project '{project}': the DORA data (webhooks posted here, or DevLake's \
         projects) does not have it and no team lists it"
    ))
}

fn project_name(project: &str) -> Result<&str, DoraError> {
    let project = project.trim();
    if project.is_empty() || project.len() > 255 {
        return Err(DoraError::Invalid(
            "The project in the URL must be 1 to 255 characters".into(),
        ));
    }
    Ok(project)
}

fn non_empty(name: &str, value: Option<String>) -> Result<Option<String>, DoraError> {
    match value {
        Some(v) if v.trim().is_empty() => Err(DoraError::Invalid(format!(
            "{name} is empty: give a name or leave the parameter out"
        ))),
        other => Ok(other.map(|v| v.trim().to_owned())),
    }
}

/// A metrics window from `startDate`/`endDate`: dates (whole UTC days, both ends inclusive) or
/// RFC 3339 times; by default the 30 days ending today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// The window.
    pub window: Window,
    /// Its start as the request gave it (or the default's date).
    pub start: String,
    /// Its end as the request gave it (or today's date).
    pub end: String,
}

enum Bound {
    Day(Day),
    Instant(Millis),
}

fn bound(name: &str, text: &str) -> Result<Bound, DoraError> {
    let text = text.trim();
    if let Some(day) = Day::parse(text) {
        return Ok(Bound::Day(day));
    }
    if let Some(ms) = parse_timestamp(text).filter(|_| text.len() > 10) {
        return Ok(Bound::Instant(ms));
    }
    Err(DoraError::Invalid(format!(
        "{name}: '{text}' is not a date (2024-06-01) or an RFC 3339 time (2024-06-01T12:00:00Z)"
    )))
}

impl Period {
    /// The window of `startDate` and `endDate`, with `today` as the default end.
    pub fn parse(start: Option<&str>, end: Option<&str>, today: Day) -> Result<Period, DoraError> {
        let end = match end {
            Some(text) => bound("endDate", text)?,
            None => Bound::Day(today),
        };
        let (to_ms, end_text) = match end {
            Bound::Day(day) => (day.end_ms(), day.format()),
            Bound::Instant(ms) => (ms, format_timestamp(ms)),
        };
        let start = match start {
            Some(text) => bound("startDate", text)?,
            None => Bound::Day(Day::of(to_ms).plus(1 - DEFAULT_WINDOW_DAYS)),
        };
        let (from_ms, start_text) = match start {
            Bound::Day(day) => (day.start_ms(), day.format()),
            Bound::Instant(ms) => (ms, format_timestamp(ms)),
        };
        if from_ms > to_ms {
            return Err(DoraError::Invalid(format!(
                "startDate {start_text} is after endDate {end_text}"
            )));
        }
        if to_ms - from_ms > MAX_WINDOW_DAYS * DAY_MS {
            return Err(DoraError::Invalid(format!(
                "The window {start_text} to {end_text} is longer than {MAX_WINDOW_DAYS} days"
            )));
        }
        Ok(Period {
            window: Window { from_ms, to_ms },
            start: start_text,
            end: end_text,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        Day::parse(text).unwrap()
    }

    #[test]
    fn periods() {
        let today = day("2024-06-30");
        let default = Period::parse(None, None, today).unwrap();
        assert_eq!(
            (default.start.as_str(), default.end.as_str()),
            ("2024-06-01", "2024-06-30")
        );
        assert_eq!(default.window.calendar_days().len(), 30);
        let only_end = Period::parse(None, Some("2024-03-01"), today).unwrap();
        assert_eq!(only_end.start, "2024-02-01");
        let only_start = Period::parse(Some("2024-06-25"), None, today).unwrap();
        assert_eq!(only_start.window, Window::days(day("2024-06-25"), today));
        let instants = Period::parse(
            Some("2024-06-01T12:00:00+02:00"),
            Some("2024-06-02T00:00:00Z"),
            today,
        )
        .unwrap();
        assert_eq!(instants.start, "2024-06-01T10:00:00Z");
        assert_eq!(instants.window.to_ms, day("2024-06-02").start_ms());
        let one_day = Period::parse(Some("2024-06-01"), Some("2024-06-01"), today).unwrap();
        assert_eq!(one_day.window.calendar_days().len(), 1);
        assert!(Period::parse(Some("2023-06-01"), Some("2024-07-04"), today).is_ok());
    }

    #[test]
    fn period_errors() {
        let today = day("2024-06-30");
        let cases = [
            (Some("2024-06-02"), Some("2024-06-01"), "is after endDate"),
            (
                Some("2023-06-01"),
                Some("2024-07-05"),
                "longer than 400 days",
            ),
            (
                Some("June 1st"),
                None,
                "startDate: 'June 1st' is not a date",
            ),
            (
                None,
                Some("2024-02-30"),
                "endDate: '2024-02-30' is not a date",
            ),
            (None, Some("1717200000"), "endDate"),
        ];
        for (start, end, expected) in cases {
            let err = Period::parse(start, end, today).unwrap_err().to_string();
            assert!(err.contains(expected), "{start:?} {end:?}: {err}");
        }
    }
}
