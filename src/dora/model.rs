//! The DevLake webhook bodies (DevLake's webhook plugin; camelCase, DevLake's required fields and defaults)
//! and the records they become. [`loose`] decodes a body as leniently as DevLake does (any key
//! case, loosely typed values) and names the field that does not fit; times are read exactly as
//! DevLake reads them ([`devlake_time`]); [`DeploymentWebhook::into_record`] and friends apply
//! DevLake's rules and defaults.

pub mod devlake_time;
mod incident;
pub mod loose;
mod pull_request;

pub use incident::{IncidentRecord, IncidentWebhook, incident_lead_time};
pub use pull_request::{PullRequestRecord, PullRequestWebhook};

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
