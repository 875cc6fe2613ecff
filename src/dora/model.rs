//! The DevLake webhook bodies (DevLake's webhook plugin; camelCase, DevLake's required fields and defaults)
//! and the records they become. [`loose`] decodes a body as leniently as DevLake does (any key
//! case, loosely typed values) and names the field that does not fit; times are read exactly as
//! DevLake reads them ([`devlake_time`]); [`DeploymentWebhook::into_record`] and friends apply
//! DevLake's rules and defaults.

pub mod devlake_time;
pub mod loose;

use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;

use super::calendar::Millis;

/// A time in one of the forms DevLake accepts (see [`devlake_time`]); text only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookTime(pub Millis);

impl<'de> Deserialize<'de> for WebhookTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = WebhookTime;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a time string such as \"2024-06-01T12:00:00Z\"")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<WebhookTime, E> {
                devlake_time::parse(text)
                    .map(WebhookTime)
                    .map_err(E::custom)
            }
        }
        // `deserialize_str`: a time is never coerced from a number (see `loose`).
        deserializer.deserialize_str(Visitor)
    }
}

/// A body rule broken: which field, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InvalidField {
    /// The body field, as the webhook names it (`deploymentCommits[0].commitSha`).
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> InvalidField {
    InvalidField {
        field: field.into(),
        problem: problem.into(),
    }
}

fn required(field: &str, value: &str) -> Result<String, InvalidField> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    Ok(value.to_owned())
}

fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<(), InvalidField> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("'{value}' is not one of {}", allowed.join(", ")),
        ))
    }
}

/// DevLake's deployment environments (exact case).
pub const ENVIRONMENTS: &[&str] = &["PRODUCTION", "STAGING", "TESTING", "DEVELOPMENT"];
/// The environment DORA metrics count.
pub const PRODUCTION: &str = "PRODUCTION";
/// The result DORA metrics count.
pub const SUCCESS: &str = "SUCCESS";

/// `POST /api/devlake/webhooks/{project}/deployments`: DevLake's deployment body, plus the
/// optional `version`, `triggeredBy` and, per commit, `commitAuthor` and `commitAuthoredDate`.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentWebhook {
    /// The deployment's id; posting it again updates the deployment.
    pub id: String,
    pub display_title: Option<String>,
    /// Default `SUCCESS`. Commits without a result of their own take this one.
    pub result: Option<String>,
    /// `PRODUCTION` (default), `STAGING`, `TESTING` or `DEVELOPMENT`.
    pub environment: Option<String>,
    pub original_environment: Option<String>,
    /// Default `deploy <sha,...> to <environment>`.
    pub name: Option<String>,
    /// Default: `startedDate`.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created_date: Option<WebhookTime>,
    #[schema(value_type = String, format = DateTime)]
    pub started_date: WebhookTime,
    #[schema(value_type = String, format = DateTime)]
    pub finished_date: WebhookTime,
    /// At least one.
    pub deployment_commits: Vec<DeploymentCommitWebhook>,
    /// The version deployed, e.g. `v1.2.3` (an addition to DevLake's body).
    pub version: Option<String>,
    /// What started the deployment, e.g. `GitHub Push` (an addition to DevLake's body).
    pub triggered_by: Option<String>,
}

/// One commit (per repository) a deployment shipped.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentCommitWebhook {
    pub repo_url: String,
    pub commit_sha: String,
    pub repo_id: Option<String>,
    pub ref_name: Option<String>,
    pub commit_msg: Option<String>,
    pub display_title: Option<String>,
    /// Default `deployment for <sha>`.
    pub name: Option<String>,
    /// Default: the deployment's result (DevLake defaults to `SUCCESS`).
    pub result: Option<String>,
    /// Default `DONE`.
    pub status: Option<String>,
    /// Default: the deployment's `createdDate`.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created_date: Option<WebhookTime>,
    #[schema(value_type = String, format = DateTime)]
    pub started_date: WebhookTime,
    #[schema(value_type = String, format = DateTime)]
    pub finished_date: WebhookTime,
    /// The commit's author (an addition to DevLake's body).
    pub commit_author: Option<String>,
    /// When the commit was authored: lead time for projects without pull requests.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub commit_authored_date: Option<WebhookTime>,
}

/// A deployment as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentRecord {
    /// The deployment's id in its CI/CD system, unique per project.
    pub id: String,
    /// Its name (made from the commits and environment when the body gives none).
    pub name: String,
    /// A title for people.
    pub display_title: Option<String>,
    /// `SUCCESS` (the default), `FAILURE`, ... (DevLake's results).
    pub result: String,
    /// One of [`ENVIRONMENTS`] (`PRODUCTION` when the body gives none).
    pub environment: String,
    /// The environment as the CI/CD system names it, when given.
    pub original_environment: Option<String>,
    /// When it was created (epoch ms; its start when the body gives none).
    pub created_ms: Millis,
    /// When it started (epoch ms).
    pub started_ms: Millis,
    /// When it finished (epoch ms).
    pub finished_ms: Millis,
    /// Whole seconds from start to finish.
    pub duration_sec: i64,
    /// The version deployed, when the body gives it.
    pub version: Option<String>,
    /// Who or what triggered it, when the body says.
    pub triggered_by: Option<String>,
    /// The commits, the first being the deployment's head commit.
    pub commits: Vec<CommitRecord>,
}

/// One commit a deployment shipped to one repository (DevLake's `cicd_deployment_commits` row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRecord {
    /// The repository's URL.
    pub repo_url: String,
    /// The commit shipped.
    pub commit_sha: String,
    /// The repository's id in DevLake, when given.
    pub repo_id: Option<String>,
    /// The branch or tag deployed, when given.
    pub ref_name: Option<String>,
    /// The commit message, when given.
    pub commit_msg: Option<String>,
    /// A title for people.
    pub display_title: Option<String>,
    /// The row's name (`deployment for <sha>` when the body gives none).
    pub name: String,
    /// The result for this commit (the deployment's when the body gives none).
    pub result: String,
    /// DevLake's status (`DONE` when the body gives none).
    pub status: String,
    /// When the row was created (epoch ms; the deployment's when the body gives none).
    pub created_ms: Millis,
    /// When this commit's deployment started (epoch ms).
    pub started_ms: Millis,
    /// When it finished (epoch ms).
    pub finished_ms: Millis,
    /// The commit's author, when given.
    pub author: Option<String>,
    /// When the commit was authored (epoch ms), when given: lead time without pull requests.
    pub authored_ms: Option<Millis>,
}

impl CommitRecord {
    /// Whether this row counts for DORA: result SUCCESS in PRODUCTION (`docs/DORA.md`, which deployments count).
    pub fn qualifies(&self, environment: &str) -> bool {
        self.result == SUCCESS && environment == PRODUCTION
    }
}

impl DeploymentWebhook {
    /// Checks the body's rules and makes the record to store; the error names the field.
    pub fn into_record(self) -> Result<DeploymentRecord, InvalidField> {
        let id = required("id", &self.id)?;
        if self.deployment_commits.is_empty() {
            return Err(invalid(
                "deploymentCommits",
                "must list at least one commit",
            ));
        }
        let environment = self.environment.unwrap_or_else(|| PRODUCTION.into());
        one_of("environment", &environment, ENVIRONMENTS)?;
        let result = self.result.unwrap_or_else(|| SUCCESS.into());
        let created_ms = self.created_date.unwrap_or(self.started_date).0;
        let mut commits = Vec::with_capacity(self.deployment_commits.len());
        for (i, commit) in self.deployment_commits.into_iter().enumerate() {
            let field = |name: &str| format!("deploymentCommits[{i}].{name}");
            let commit_sha = required(&field("commitSha"), &commit.commit_sha)?;
            commits.push(CommitRecord {
                repo_url: required(&field("repoUrl"), &commit.repo_url)?,
                name: commit
                    .name
                    .unwrap_or_else(|| format!("deployment for {commit_sha}")),
                commit_sha,
                repo_id: commit.repo_id,
                ref_name: commit.ref_name,
                commit_msg: commit.commit_msg,
                display_title: commit.display_title,
                result: commit.result.unwrap_or_else(|| result.clone()),
                status: commit.status.unwrap_or_else(|| "DONE".into()),
                created_ms: commit.created_date.map_or(created_ms, |t| t.0),
                started_ms: commit.started_date.0,
                finished_ms: commit.finished_date.0,
                author: commit.commit_author,
                authored_ms: commit.commit_authored_date.map(|t| t.0),
            });
        }
        let name = self.name.unwrap_or_else(|| {
            let shas: Vec<&str> = commits.iter().map(|c| c.commit_sha.as_str()).collect();
            format!("deploy {} to {environment}", shas.join(","))
        });
        Ok(DeploymentRecord {
            id,
            name,
            display_title: self.display_title,
            result,
            environment,
            original_environment: self.original_environment,
            created_ms,
            started_ms: self.started_date.0,
            finished_ms: self.finished_date.0,
            duration_sec: (self.finished_date.0 - self.started_date.0) / 1000,
            version: self.version,
            triggered_by: self.triggered_by,
            commits,
        })
    }
}

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

/// `POST /api/devlake/webhooks/{project}/pull-requests`: DevLake's pull request body, plus the
/// optional `firstCommitAuthoredDate`.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PullRequestWebhook {
    /// Required but, as in DevLake, not the pull request's identity: `pullRequestKey` is.
    pub id: String,
    pub display_title: String,
    /// The pull request's number (not 0); posting it again updates the pull request.
    pub pull_request_key: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_date: WebhookTime,
    /// `OPEN`, `CLOSED` or `MERGED`.
    pub status: Option<String>,
    pub original_status: Option<String>,
    /// When merged; only merged pull requests are changes.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub merged_date: Option<WebhookTime>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_date: Option<WebhookTime>,
    /// The commit the merge produced: the deployment that ships it ships the pull request.
    pub merge_commit_sha: Option<String>,
    /// When the pull request's first commit was authored (coding time; an addition to DevLake's body).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_commit_authored_date: Option<WebhookTime>,
    pub base_repo_id: Option<String>,
    pub head_repo_id: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub author_name: Option<String>,
    pub author_id: Option<String>,
    pub merged_by_name: Option<String>,
    pub merged_by_id: Option<String>,
    pub parent_pr_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub component: Option<String>,
    pub head_ref: Option<String>,
    pub base_ref: Option<String>,
    pub base_commit_sha: Option<String>,
    pub head_commit_sha: Option<String>,
    pub additions: Option<i64>,
    pub deletions: Option<i64>,
    pub is_draft: Option<bool>,
}

/// A pull request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestRecord {
    /// The decimal `pullRequestKey`: a project's pull requests are keyed by it, as in DevLake.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its number in the repository.
    pub pull_request_key: i64,
    /// `OPEN`, `MERGED` or `CLOSED`, when given.
    pub status: Option<String>,
    /// Its page on the code host.
    pub url: Option<String>,
    /// Its author.
    pub author_name: Option<String>,
    /// When it was opened (epoch ms).
    pub created_ms: Millis,
    /// When it was merged (epoch ms), if it was.
    pub merged_ms: Option<Millis>,
    /// When it was closed (epoch ms), if it was.
    pub closed_ms: Option<Millis>,
    /// The merge commit: how a deployment is linked to the pull request.
    pub merge_commit_sha: Option<String>,
    /// When its first commit was authored (epoch ms): where its cycle time starts.
    pub first_commit_authored_ms: Option<Millis>,
    /// The branch it merges into.
    pub base_ref: Option<String>,
    /// The branch it merges from.
    pub head_ref: Option<String>,
}

impl PullRequestWebhook {
    /// Checks the body's rules and makes the record to store; the error names the field.
    pub fn into_record(self) -> Result<PullRequestRecord, InvalidField> {
        if let Some(status) = &self.status {
            one_of("status", status, &["OPEN", "CLOSED", "MERGED"])?;
        }
        required("id", &self.id)?;
        if self.pull_request_key == 0 {
            return Err(invalid("pullRequestKey", "must not be 0"));
        }
        Ok(PullRequestRecord {
            id: self.pull_request_key.to_string(),
            title: required("displayTitle", &self.display_title)?,
            pull_request_key: self.pull_request_key,
            status: self.status,
            url: self.url,
            author_name: self.author_name,
            created_ms: self.created_date.0,
            merged_ms: self.merged_date.map(|t| t.0),
            closed_ms: self.closed_date.map(|t| t.0),
            merge_commit_sha: self
                .merge_commit_sha
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
            first_commit_authored_ms: self.first_commit_authored_date.map(|t| t.0),
            base_ref: self.base_ref,
            head_ref: self.head_ref,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(body: serde_json::Value) -> Result<DeploymentRecord, String> {
        serde_json::from_value::<DeploymentWebhook>(body)
            .map_err(|e| e.to_string())?
            .into_record()
            .map_err(|e| e.to_string())
    }

    #[test]
    fn deployment_defaults_follow_devlake_except_the_commit_result() {
        let record = deployment(serde_json::json!({
            "id": "d1",
            "result": "FAILURE",
            "startedDate": "2024-06-01T10:00:00Z",
            "finishedDate": "2024-06-01T10:05:30Z",
            "deploymentCommits": [
                {"repoUrl": "https://git/x", "commitSha": "abc", "startedDate": "2024-06-01 10:00",
                 "finishedDate": "2024-06-01 10:05"},
                {"repoUrl": "https://git/y", "commitSha": "def", "result": "SUCCESS",
                 "startedDate": "2024-06-01 10:00", "finishedDate": "2024-06-01 10:05"}
            ]
        }))
        .unwrap();
        assert_eq!(record.environment, "PRODUCTION");
        assert_eq!(record.name, "deploy abc,def to PRODUCTION");
        assert_eq!(record.created_ms, record.started_ms);
        assert_eq!(record.duration_sec, 330);
        assert_eq!(record.commits[0].result, "FAILURE");
        assert_eq!(record.commits[0].status, "DONE");
        assert_eq!(record.commits[0].name, "deployment for abc");
        assert!(!record.commits[0].qualifies(&record.environment));
        assert!(record.commits[1].qualifies(&record.environment));
    }

    #[test]
    fn deployment_rule_errors_name_the_field() {
        let base = serde_json::json!({
            "id": "d1", "startedDate": "2024-06-01T10:00:00Z", "finishedDate": "2024-06-01T10:05:00Z",
            "deploymentCommits": [{"repoUrl": "r", "commitSha": "s",
                "startedDate": "2024-06-01T10:00:00Z", "finishedDate": "2024-06-01T10:05:00Z"}]
        });
        let with = |path: &[&str], value: serde_json::Value| {
            let mut body = base.clone();
            let mut target = &mut body;
            for key in &path[..path.len() - 1] {
                target = match key.parse::<usize>() {
                    Ok(i) => &mut target[i],
                    Err(_) => &mut target[*key],
                };
            }
            target[path[path.len() - 1]] = value;
            deployment(body).unwrap_err()
        };
        let cases = [
            (with(&["id"], " ".into()), "id: must not be empty"),
            (
                with(&["deploymentCommits"], serde_json::json!([])),
                "deploymentCommits: must list",
            ),
            (
                with(&["environment"], "prod".into()),
                "environment: 'prod' is not one of",
            ),
            (
                with(&["deploymentCommits", "0", "commitSha"], "".into()),
                "deploymentCommits[0].commitSha",
            ),
            (
                with(&["deploymentCommits", "0", "repoUrl"], "".into()),
                "deploymentCommits[0].repoUrl",
            ),
            (
                with(&["startedDate"], "yesterday".into()),
                "'yesterday' is not a time DevLake accepts",
            ),
        ];
        for (error, expected) in cases {
            assert!(error.contains(expected), "{error:?} lacks {expected:?}");
        }
    }

    #[test]
    fn incident_lead_time_follows_devlake() {
        assert_eq!(incident_lead_time(Some(30), 0, Some(600_000)), Some(30));
        assert_eq!(incident_lead_time(Some(0), 0, Some(659_999)), Some(10));
        assert_eq!(incident_lead_time(None, 0, None), None);
    }
}
