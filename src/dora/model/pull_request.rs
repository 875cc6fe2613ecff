//! Pull requests: DevLake's pull request webhook body and the record it becomes.

use serde::Deserialize;
use utoipa::ToSchema;

use super::{InvalidField, WebhookTime, invalid, one_of, required};
use crate::dora::calendar::Millis;

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
