//! One set of DORA facts, loaded two ways: as the webhooks a pipeline posts to this server, and as
//! the rows DevLake's webhook plugin and dora plugin leave in DevLake's domain tables for the same
//! posts (project `p` posts through webhook connection `p`'s scopes, `webhook:<n>`; the dora
//! plugin's links are computed here as it computes them). The differential test and the source
//! contract load it both ways and expect the same answers.
//!
//! Commit results are explicit (DevLake gives a commit without one `SUCCESS`, this server the
//! deployment's: a documented difference), and times are distinct where DevLake's ordering would
//! be arbitrary (ties between deployment rows).

use fawkes_portal::dora::calendar::{Day, Millis, format_timestamp};
use fawkes_portal::dora::store::DoraStore;
use serde_json::{Value, json};

use crate::support::mariadb::DevLakeDb;

pub const MINUTE: i64 = 60_000;
const DAY: i64 = 86_400_000;

#[derive(Debug, Clone)]
pub struct Commit {
    pub repo_url: String,
    pub sha: String,
    pub result: String,
    pub started: Millis,
    pub finished: Millis,
}

#[derive(Debug, Clone)]
pub struct Deployment {
    pub id: String,
    pub environment: String,
    pub result: String,
    pub started: Millis,
    pub finished: Millis,
    /// The head commit first: the latest to finish (DevLake's history head).
    pub commits: Vec<Commit>,
}

#[derive(Debug, Clone)]
pub struct Incident {
    pub key: String,
    pub created: Millis,
    pub resolved: Option<Millis>,
    pub lead_time_minutes: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct PullRequest {
    pub key: i64,
    pub created: Millis,
    pub merged: Option<Millis>,
    pub merge_sha: Option<String>,
    pub first_commit: Option<Millis>,
}

#[derive(Debug, Clone, Default)]
pub struct Project {
    pub name: String,
    pub deployments: Vec<Deployment>,
    pub incidents: Vec<Incident>,
    pub pull_requests: Vec<PullRequest>,
}

#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub projects: Vec<Project>,
}

/// xorshift64*: the same data on every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> i64 {
        (self.next() % n) as i64
    }

    /// `true` with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

impl Dataset {
    /// `projects` projects (`svc-0`, `svc-1`, ...) with `days` days of activity from `first`.
    /// The last project only ever deploys to staging or fails.
    pub fn generate(seed: u64, projects: usize, first: Day, days: i64) -> Dataset {
        let mut rng = Rng(seed);
        let start = first.start_ms();
        let projects = (0..projects)
            .map(|p| {
                let staging_only = p + 1 == projects && projects > 1;
                generate_project(&mut rng, p, start, days, staging_only)
            })
            .collect();
        Dataset { projects }
    }

    /// Posts every fact through the webhook routes (`post(project, kind, body)`).
    pub fn webhook_bodies(&self) -> Vec<(String, &'static str, Value)> {
        let mut bodies = Vec::new();
        for project in &self.projects {
            for d in &project.deployments {
                bodies.push((project.name.clone(), "deployments", deployment_body(d)));
            }
            for i in &project.incidents {
                bodies.push((project.name.clone(), "incidents", incident_body(i)));
            }
            for pr in &project.pull_requests {
                bodies.push((project.name.clone(), "pull-requests", pull_request_body(pr)));
            }
        }
        bodies
    }

    /// Stores every fact straight into a webhook store.
    pub async fn save_to(&self, store: &dyn DoraStore) {
        use fawkes_portal::dora::model::{DeploymentWebhook, IncidentWebhook, PullRequestWebhook};
        for (project, kind, body) in self.webhook_bodies() {
            match kind {
                "deployments" => {
                    let record = serde_json::from_value::<DeploymentWebhook>(body)
                        .unwrap()
                        .into_record()
                        .unwrap();
                    store.save_deployment(&project, &record, 0).await.unwrap();
                }
                "incidents" => {
                    let record = serde_json::from_value::<IncidentWebhook>(body)
                        .unwrap()
                        .into_record()
                        .unwrap();
                    store.save_incident(&project, &record).await.unwrap();
                }
                _ => {
                    let record = serde_json::from_value::<PullRequestWebhook>(body)
                        .unwrap()
                        .into_record()
                        .unwrap();
                    store.save_pull_request(&project, &record).await.unwrap();
                }
            }
        }
    }

    /// Writes every fact into DevLake's tables as DevLake would hold them.
    pub async fn write_devlake(&self, db: &DevLakeDb) {
        for (n, project) in self.projects.iter().enumerate() {
            super::devlake_rows::write_project(db, project, n + 1).await;
        }
    }
}

fn generate_project(
    rng: &mut Rng,
    p: usize,
    start: Millis,
    days: i64,
    staging_only: bool,
) -> Project {
    let name = format!("svc-{p}");
    let count = 40 + rng.below(80);
    let step = days * DAY / count;
    let mut deployments: Vec<Deployment> = Vec::new();
    let mut shas: Vec<String> = Vec::new();
    for i in 0..count {
        // Distinct whole seconds everywhere: DevLake's orderings never meet a tie.
        let started = start + i * step + rng.below((step / 2 / 1000) as u64) * 1000;
        let environment = match rng.below(100) {
            _ if staging_only => "STAGING",
            0..75 => "PRODUCTION",
            75..85 => "STAGING",
            85..95 => "TESTING",
            _ => "DEVELOPMENT",
        };
        let result = if staging_only && rng.chance(50) || rng.chance(12) {
            "FAILURE"
        } else {
            "SUCCESS"
        };
        let n_commits = 1 + rng.below(3);
        let mut commits = Vec::new();
        for c in 0..n_commits {
            // A redeployed commit now and then: its changes count at its first deployment only.
            let sha = if !shas.is_empty() && rng.chance(8) {
                shas[rng.below(shas.len() as u64) as usize].clone()
            } else {
                let sha = format!("{:040x}", rng.next() as u128 * 7919 + i as u128);
                shas.push(sha.clone());
                sha
            };
            let commit_result = match rng.below(100) {
                0..8 if !staging_only => "SUCCESS".to_owned(),
                8..14 => "FAILURE".to_owned(),
                // Lowercase is stored as posted and never counts, here and in DevLake.
                14..16 => "success".to_owned(),
                _ => result.to_owned(),
            };
            commits.push(Commit {
                repo_url: format!("https://git.example/{name}/repo-{c}"),
                sha,
                result: commit_result,
                started: started + c * 1000,
                finished: started + (5 + rng.below(40)) * MINUTE + c * 1000,
            });
        }
        commits.sort_by(|a, b| b.finished.cmp(&a.finished).then(a.sha.cmp(&b.sha)));
        let finished = commits[0].finished;
        deployments.push(Deployment {
            id: format!("{name}-d{i}"),
            environment: environment.into(),
            result: result.into(),
            started,
            finished,
            commits,
        });
    }
    let mut incidents = Vec::new();
    for (i, d) in deployments.iter().enumerate() {
        if !rng.chance(18) {
            continue;
        }
        let created = d.finished + (1 + rng.below(600)) * MINUTE + 500;
        let resolved = rng
            .chance(75)
            .then(|| created + (10 + rng.below(5000)) * MINUTE + rng.below(59) * 1000);
        incidents.push(Incident {
            key: format!("INC-{i}"),
            created,
            resolved,
            lead_time_minutes: rng.chance(20).then(|| 1 + rng.below(3000)),
        });
    }
    // An incident before any deployment links to nothing.
    incidents.push(Incident {
        key: "INC-early".into(),
        created: start - DAY,
        resolved: Some(start - DAY + 30 * MINUTE),
        lead_time_minutes: None,
    });
    let mut pull_requests = Vec::new();
    if p % 4 != 3 {
        let mut key = 1;
        for d in &deployments {
            for c in &d.commits {
                if !rng.chance(45) {
                    continue;
                }
                let merged = c.started - (1 + rng.below(3000)) * MINUTE;
                let created = merged - (1 + rng.below(5000)) * MINUTE - rng.below(59) * 1000;
                pull_requests.push(PullRequest {
                    key,
                    created,
                    merged: Some(merged),
                    merge_sha: Some(c.sha.clone()),
                    first_commit: rng.chance(60).then(|| created - rng.below(4000) * MINUTE),
                });
                key += 1;
            }
        }
        // Merged but never deployed, and never merged.
        pull_requests.push(PullRequest {
            key,
            created: start + DAY,
            merged: Some(start + 2 * DAY),
            merge_sha: Some("f".repeat(40)),
            first_commit: None,
        });
        pull_requests.push(PullRequest {
            key: key + 1,
            created: start + DAY,
            merged: None,
            merge_sha: None,
            first_commit: None,
        });
    }
    Project {
        name,
        deployments,
        incidents,
        pull_requests,
    }
}

pub fn deployment_body(d: &Deployment) -> Value {
    let commits: Vec<Value> = d
        .commits
        .iter()
        .map(|c| {
            json!({
                "repoUrl": c.repo_url,
                "commitSha": c.sha,
                "commitMsg": format!("change {}", short(&c.sha)),
                "result": c.result,
                "startedDate": format_timestamp(c.started),
                "finishedDate": format_timestamp(c.finished),
            })
        })
        .collect();
    json!({
        "id": d.id,
        "result": d.result,
        "environment": d.environment,
        "startedDate": format_timestamp(d.started),
        "finishedDate": format_timestamp(d.finished),
        "deploymentCommits": commits,
    })
}

pub fn incident_body(i: &Incident) -> Value {
    let mut body = json!({
        "issueKey": i.key,
        "title": format!("incident {}", i.key),
        "type": "INCIDENT",
        "status": if i.resolved.is_some() { "DONE" } else { "IN_PROGRESS" },
        "originalStatus": "open",
        "createdDate": format_timestamp(i.created),
    });
    if let Some(resolved) = i.resolved {
        body["resolutionDate"] = format_timestamp(resolved).into();
    }
    if let Some(minutes) = i.lead_time_minutes {
        body["leadTimeMinutes"] = minutes.into();
    }
    body
}

pub fn pull_request_body(pr: &PullRequest) -> Value {
    let mut body = json!({
        "id": format!("pr-{}", pr.key),
        "displayTitle": format!("change {}", pr.key),
        "pullRequestKey": pr.key,
        "createdDate": format_timestamp(pr.created),
        "status": if pr.merged.is_some() { "MERGED" } else { "OPEN" },
    });
    if let Some(merged) = pr.merged {
        body["mergedDate"] = format_timestamp(merged).into();
    }
    if let Some(sha) = &pr.merge_sha {
        body["mergeCommitSha"] = sha.clone().into();
    }
    if let Some(first) = pr.first_commit {
        body["firstCommitAuthoredDate"] = format_timestamp(first).into();
    }
    body
}

/// A commit message's short SHA: its first eight characters.
pub fn short(sha: &str) -> &str {
    &sha[..sha.len().min(8)]
}
