//! Incidents: DevLake's incident webhook body and the record it becomes, and an incident's lead time.

use serde::Deserialize;
use utoipa::ToSchema;

use super::{InvalidField, WebhookTime, invalid, one_of, required};
use crate::dora::calendar::Millis;

/// `POST /api/devlake/webhooks/{project}/incidents`: DevLake's issue body for an incident.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IncidentWebhook {
    /// The incident's key; posting it again updates the incident.
    pub issue_key: String,
    pub title: String,
    /// `TODO`, `IN_PROGRESS` or `DONE`.
    pub status: String,
    /// The status in the source system.
    pub original_status: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_date: WebhookTime,
    /// `INCIDENT` (the default here; other issue types are refused).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// When service was restored; without it the incident is unresolved.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolution_date: Option<WebhookTime>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_date: Option<WebhookTime>,
    /// Minutes from creation to resolution; computed from the dates when absent or 0.
    pub lead_time_minutes: Option<i64>,
    pub url: Option<String>,
    pub description: Option<String>,
    pub epic_key: Option<String>,
    pub story_point: Option<f64>,
    pub parent_issue_key: Option<String>,
    pub priority: Option<String>,
    pub severity: Option<String>,
    pub component: Option<String>,
    pub original_estimate_minutes: Option<i64>,
    pub time_spent_minutes: Option<i64>,
    pub time_remaining_minutes: Option<i64>,
    pub creator_id: Option<String>,
    pub creator_name: Option<String>,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
}

/// An incident as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRecord {
    /// The incident's key in its tracker, unique per project.
    pub issue_key: String,
    /// Its title.
    pub title: String,
    /// `TODO`, `IN_PROGRESS` or `DONE` (DevLake's statuses).
    pub status: String,
    /// The status as the tracker names it.
    pub original_status: String,
    /// When it was created (epoch ms).
    pub created_ms: Millis,
    /// When it was last updated (epoch ms), when given.
    pub updated_ms: Option<Millis>,
    /// When it was resolved (epoch ms), once it is.
    pub resolution_ms: Option<Millis>,
    /// Minutes from creation to resolution, as given or computed at close.
    pub lead_time_minutes: Option<i64>,
    /// Its page in the tracker.
    pub url: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// Its priority, as the tracker names it.
    pub priority: Option<String>,
    /// Its severity, as the tracker names it.
    pub severity: Option<String>,
    /// The component it concerns.
    pub component: Option<String>,
    /// Who it is assigned to.
    pub assignee_name: Option<String>,
}

impl IncidentWebhook {
    /// Checks the body's rules and makes the record to store; the error names the field.
    pub fn into_record(self) -> Result<IncidentRecord, InvalidField> {
        let issue_key = required("issueKey", &self.issue_key)?;
        let title = required("title", &self.title)?;
        let original_status = required("originalStatus", &self.original_status)?;
        one_of("status", &self.status, &["TODO", "IN_PROGRESS", "DONE"])?;
        if let Some(kind) = self.kind.as_deref().filter(|k| *k != "INCIDENT") {
            return Err(invalid(
                "type",
                format!("'{kind}' is not INCIDENT; this endpoint takes incidents only"),
            ));
        }
        if let Some(minutes) = self.lead_time_minutes.filter(|m| *m < 0) {
            return Err(invalid("leadTimeMinutes", format!("{minutes} is negative")));
        }
        let created_ms = self.created_date.0;
        let resolution_ms = self.resolution_date.map(|t| t.0);
        Ok(IncidentRecord {
            issue_key,
            title,
            status: self.status,
            original_status,
            created_ms,
            updated_ms: self.updated_date.map(|t| t.0),
            lead_time_minutes: incident_lead_time(
                self.lead_time_minutes,
                created_ms,
                resolution_ms,
            ),
            resolution_ms,
            url: self.url,
            description: self.description,
            priority: self.priority,
            severity: self.severity,
            component: self.component,
            assignee_name: self.assignee_name,
        })
    }
}

/// DevLake's rule: a given non-zero lead time wins; else whole minutes from creation to
/// resolution (truncated), when resolved.
pub fn incident_lead_time(
    given: Option<i64>,
    created_ms: Millis,
    resolution_ms: Option<Millis>,
) -> Option<i64> {
    given
        .filter(|m| *m != 0)
        .or_else(|| resolution_ms.map(|r| (r - created_ms).div_euclid(60_000)))
}
