//! Home: my workspaces (status, open IDE), my teams' DORA summary over the last 30 days, and
//! what changed lately in the catalog (the entities changed last, and the locations refreshed
//! last with their errors).

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use serde_json::Value;

use super::UiState;
use super::admin::time_text;
use super::catalog::{link_of, text_at};
use super::page::{Chrome, UiError, html};
use super::session::Viewer;
use super::workspaces::{WorkspaceList, workspace_list};
use crate::dora::benchmark::Performance;
use crate::dora::metrics::Reported;
use crate::dora::service::MetricsRequest;

/// Teams summarised on the home page at most.
const MAX_TEAMS: usize = 5;
/// Locations listed at most.
const MAX_LOCATIONS: usize = 8;
/// Changed entities listed at most.
const MAX_ENTITIES: u32 = 10;

pub struct TeamSummary {
    pub team: String,
    pub link: String,
    /// (metric, value with unit, level, level class).
    pub metrics: Vec<(&'static str, String, &'static str, &'static str)>,
}

pub struct RecentEntity {
    pub link: String,
    pub kind: String,
    pub name: String,
    pub changed: String,
}

pub struct RecentLocation {
    pub target: String,
    pub status: &'static str,
    pub refreshed: String,
    pub errors: usize,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    list: WorkspaceList,
    teams: Vec<TeamSummary>,
    teams_error: Option<String>,
    entities: Vec<RecentEntity>,
    recent: Vec<RecentLocation>,
}

fn shown<D>(reported: &Reported<D>, unit: &str) -> (String, &'static str, &'static str) {
    let value = reported
        .current
        .value
        .map_or_else(|| "N/A".to_owned(), |v| format!("{v} {unit}"));
    let (level, class) = match reported.current.performance {
        Some(Performance::Elite) => ("Elite", "level-elite"),
        Some(Performance::High) => ("High", "level-high"),
        Some(Performance::Medium) => ("Medium", "level-medium"),
        Some(Performance::Low) => ("Low", "level-low"),
        None => ("N/A", "level-na"),
    };
    (value, level, class)
}

/// The viewer's teams (groups in the catalog that the DevLake directory knows), summarised.
async fn team_summaries(ui: &UiState, viewer: &Viewer) -> Result<Vec<TeamSummary>, UiError> {
    let groups = ui.catalog.groups_of(&viewer.principal().subject).await?;
    let (known, _) = ui.dora.teams_and_projects().await?;
    let mut summaries = Vec::new();
    for group in groups {
        let name = group.rsplit_once('/').map_or(group.as_str(), |(_, n)| n);
        let Some(team) = known.iter().find(|t| t.eq_ignore_ascii_case(name)) else {
            continue;
        };
        let answer = ui
            .dora
            .metrics(MetricsRequest {
                team: Some(team.clone()),
                last_days: Some(30),
                ..MetricsRequest::default()
            })
            .await?;
        let report = &answer.report;
        let rows = [
            (
                "Deployment frequency",
                shown(&report.deployment_frequency, "deploys/week"),
            ),
            ("Lead time", shown(&report.lead_time, "hours")),
            (
                "Change failure rate",
                shown(&report.change_failure_rate, "percent"),
            ),
            ("Time to restore", shown(&report.time_to_restore, "hours")),
        ];
        let link: String =
            url::form_urlencoded::byte_serialize(format!("team:{team}").as_bytes()).collect();
        summaries.push(TeamSummary {
            link: ui.link(&format!("/dora?scope={link}")),
            team: team.clone(),
            metrics: rows
                .into_iter()
                .map(|(name, (value, level, class))| (name, value, level, class))
                .collect(),
        });
        if summaries.len() == MAX_TEAMS {
            break;
        }
    }
    Ok(summaries)
}

pub async fn home(State(ui): State<UiState>, viewer: Viewer) -> Result<Response, UiError> {
    let (teams, teams_error) = match team_summaries(&ui, &viewer).await {
        Ok(teams) => (teams, None),
        Err(e) => (Vec::new(), Some(e.message)),
    };
    let mut locations = ui.catalog.locations().await?;
    locations.sort_by_key(|l| std::cmp::Reverse(l.last_refreshed_at.unwrap_or(l.created_at)));
    let recent = locations
        .iter()
        .take(MAX_LOCATIONS)
        .map(|l| RecentLocation {
            target: l.spec.target.clone(),
            status: l.status.as_str(),
            refreshed: l
                .last_refreshed_at
                .map(time_text)
                .unwrap_or_else(|| "not yet".into()),
            errors: l.errors.len(),
        })
        .collect();
    let entities = ui
        .catalog
        .recently_changed(MAX_ENTITIES)
        .await?
        .into_iter()
        .filter_map(|changed| {
            let entity: Value = serde_json::from_str(&changed.body).ok()?;
            let kind = text_at(&entity, "kind")?.to_owned();
            let name = text_at(&entity, "metadata.name")?.to_owned();
            Some(RecentEntity {
                link: link_of(&ui.base, &entity),
                name: text_at(&entity, "metadata.title").map_or(name, str::to_owned),
                kind,
                changed: time_text(changed.changed_at_ms),
            })
        })
        .collect();
    let page = HomePage {
        chrome: Chrome::new(&ui, &viewer, "Home", "home"),
        list: workspace_list(&ui, &viewer).await?,
        teams,
        teams_error,
        entities,
        recent,
    };
    html(&page)
}
