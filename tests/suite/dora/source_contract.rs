//! The source contract: each body runs against every [`DoraSource`], the webhook store's (SQLite)
//! and DevLake's tables (MariaDB), loaded with the same facts (see [`Dataset`]), and expects the
//! same answers (`webhooks::<name>` and `devlake::<name>`).

use std::sync::Arc;
use std::time::Duration;

use fawkes_portal::config::dora::DevLakeConfig;
use fawkes_portal::dora::calendar::{Day, Millis, parse_timestamp};
use fawkes_portal::dora::devlake::DevLakeSource;
use fawkes_portal::dora::metrics::{ProdDeployment, ProjectFacts, Window};
use fawkes_portal::dora::source::{DoraSource, WebhookSource};
use fawkes_portal::dora::store::DoraStore;

use super::dataset::{Commit, Dataset, Deployment, Incident, Project};
use crate::support::TestDb;
use crate::support::mariadb::DevLakeDb;

/// A source under test and what it reads.
pub struct Under {
    pub source: Arc<dyn DoraSource>,
    store: Option<(Arc<dyn DoraStore>, TestDb)>,
    devlake: Option<DevLakeDb>,
}

impl Under {
    pub async fn webhooks() -> Under {
        let db = TestDb::sqlite().await;
        let store = fawkes_portal::dora::store::open(&db.db);
        Under {
            source: Arc::new(WebhookSource(store.clone())),
            store: Some((store, db)),
            devlake: None,
        }
    }

    pub async fn devlake() -> Option<Under> {
        let db = DevLakeDb::create().await?;
        let source = DevLakeSource::connect_lazy(&DevLakeConfig {
            url: db.url.clone(),
            max_connections: 4,
            timeout: Duration::from_secs(10),
        })
        .unwrap();
        Some(Under {
            source: Arc::new(source),
            store: None,
            devlake: Some(db),
        })
    }

    pub async fn load(&self, data: &Dataset) {
        if let Some((store, _)) = &self.store {
            data.save_to(store.as_ref()).await;
        }
        if let Some(db) = &self.devlake {
            data.write_devlake(db).await;
        }
    }

    /// Loads `projects` (see [`Under::load`]).
    pub async fn load_projects(&self, projects: Vec<Project>) {
        self.load(&Dataset { projects }).await;
    }

    /// The facts of `project` in June 2024 (see [`june`]), sorted.
    pub async fn june_facts(&self, project: &str, restored: bool) -> ProjectFacts {
        facts_sorted(self.source.facts(project, june(), restored).await.unwrap())
    }

    pub async fn finish(self) {
        if let Some(db) = self.devlake {
            db.drop().await;
        }
    }
}

mod links;

use links::{
    incidents_link_to_the_last_successful_production_deployment_before_them,
    pull_requests_count_at_their_first_successful_production_deployment,
    restored_incidents_carry_their_lead_time,
};

/// Runs each named `async fn(&Under)` as `webhooks::<name>` and `devlake::<name>`.
macro_rules! source_contract {
    ($($name:ident),* $(,)?) => {
        mod webhooks {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let under = super::Under::webhooks().await;
                    super::$name(&under).await;
                    under.finish().await;
                }
            )*
        }
        mod devlake {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(under) = super::Under::devlake().await else {
                        $crate::skip_without!("MariaDB (FAWKES_TEST_MYSQL_URL)");
                    };
                    super::$name(&under).await;
                    under.finish().await;
                }
            )*
        }
    };
}

source_contract!(
    projects_are_known_by_their_exact_names,
    deployments_are_successful_production_rows_at_their_latest_finish,
    incidents_link_to_the_last_successful_production_deployment_before_them,
    restored_incidents_carry_their_lead_time,
    pull_requests_count_at_their_first_successful_production_deployment,
    history_lists_finished_deployments_newest_first,
    unknown_projects_have_no_facts,
);

pub fn ms(text: &str) -> Millis {
    parse_timestamp(text).unwrap()
}

pub fn june() -> Window {
    Window::days(
        Day::parse("2024-06-01").unwrap(),
        Day::parse("2024-06-30").unwrap(),
    )
}

/// A deployment of `commits` (sha, result, finished), each started five minutes before it
/// finished, the latest to finish first.
pub fn deployment(id: &str, environment: &str, commits: &[(&str, &str, &str)]) -> Deployment {
    let mut commits: Vec<Commit> = commits
        .iter()
        .map(|(sha, result, finished)| Commit {
            repo_url: "https://git.example/repo".into(),
            sha: (*sha).into(),
            result: (*result).into(),
            started: ms(finished) - 300_000,
            finished: ms(finished),
        })
        .collect();
    commits.sort_by(|a, b| b.finished.cmp(&a.finished).then(a.sha.cmp(&b.sha)));
    Deployment {
        id: id.into(),
        environment: environment.into(),
        result: "SUCCESS".into(),
        started: commits.iter().map(|c| c.started).min().unwrap(),
        finished: commits[0].finished,
        commits,
    }
}

/// A successful production deployment of one commit.
pub fn shipped(id: &str, sha: &str, finished: &str) -> Deployment {
    deployment(id, "PRODUCTION", &[(sha, "SUCCESS", finished)])
}

pub fn incident(key: &str, created: &str, resolved: Option<&str>) -> Incident {
    Incident {
        key: key.into(),
        created: ms(created),
        resolved: resolved.map(ms),
        lead_time_minutes: None,
    }
}

pub fn project(name: &str, deployments: Vec<Deployment>) -> Project {
    Project {
        name: name.into(),
        deployments,
        ..Project::default()
    }
}

pub fn facts_sorted(mut facts: ProjectFacts) -> ProjectFacts {
    facts
        .deployments
        .sort_by(|a, b| (&a.id, a.finished_ms).cmp(&(&b.id, b.finished_ms)));
    facts
        .incidents
        .sort_by(|a, b| (&a.deployment, a.resolution_ms).cmp(&(&b.deployment, b.resolution_ms)));
    facts
        .restored
        .sort_by_key(|r| (r.resolution_ms, r.lead_time_minutes));
    facts.changes.sort_by_key(|c| format!("{c:?}"));
    facts
}

async fn projects_are_known_by_their_exact_names(under: &Under) {
    let one = |name: &str| {
        project(
            name,
            vec![shipped(&format!("{name}-d"), "a1", "2024-06-10T10:00:00Z")],
        )
    };
    under.load_projects(vec![one("svc"), one("Svc-Two")]).await;
    let source = &under.source;
    assert_eq!(source.projects().await.unwrap(), ["Svc-Two", "svc"]);
    assert!(source.has_project("svc").await.unwrap());
    assert!(source.has_project("Svc-Two").await.unwrap());
    assert!(!source.has_project("SVC").await.unwrap());
    assert!(!source.has_project("ghost").await.unwrap());
}

async fn deployments_are_successful_production_rows_at_their_latest_finish(under: &Under) {
    let svc = project(
        "svc",
        vec![
            deployment(
                "d1",
                "PRODUCTION",
                &[
                    ("c1", "SUCCESS", "2024-06-10T10:00:00Z"),
                    ("c2", "FAILURE", "2024-06-10T10:30:00Z"),
                ],
            ),
            deployment(
                "d2",
                "PRODUCTION",
                &[
                    ("c3", "SUCCESS", "2024-06-11T11:00:00Z"),
                    ("c4", "SUCCESS", "2024-06-11T11:20:00.250Z"),
                ],
            ),
            deployment(
                "d3",
                "STAGING",
                &[("c5", "SUCCESS", "2024-06-12T10:00:00Z")],
            ),
            deployment(
                "d4",
                "PRODUCTION",
                &[("c6", "success", "2024-06-13T10:00:00Z")],
            ),
            deployment(
                "d5",
                "PRODUCTION",
                &[("c7", "FAILURE", "2024-06-14T10:00:00Z")],
            ),
            shipped("d6", "c8", "2024-08-01T10:00:00Z"),
            // Rows before the range do not matter when the latest is in it...
            deployment(
                "d7",
                "PRODUCTION",
                &[
                    ("c9", "SUCCESS", "2024-04-25T10:00:00Z"),
                    ("c10", "SUCCESS", "2024-05-10T10:00:00Z"),
                ],
            ),
            // ...and a latest row after the range takes the deployment out of it.
            deployment(
                "d8",
                "PRODUCTION",
                &[
                    ("c11", "SUCCESS", "2024-05-20T10:00:00Z"),
                    ("c12", "SUCCESS", "2024-07-02T10:00:00Z"),
                ],
            ),
        ],
    );
    under.load_projects(vec![svc]).await;
    let facts = under.june_facts("svc", false).await;
    let expected = [
        ("d1", "2024-06-10T10:00:00Z"),
        ("d2", "2024-06-11T11:20:00.250Z"),
        ("d7", "2024-05-10T10:00:00Z"),
    ]
    .map(|(id, at)| ProdDeployment {
        id: id.into(),
        finished_ms: ms(at),
    });
    assert_eq!(facts.deployments, expected);
    assert!(facts.has_deployments);
}

async fn history_lists_finished_deployments_newest_first(under: &Under) {
    let mut failed = deployment(
        "d4",
        "DEVELOPMENT",
        &[("s4", "FAILURE", "2024-06-13T10:00:00Z")],
    );
    failed.result = "FAILURE".into();
    let svc = project(
        "svc",
        vec![
            deployment(
                "d1",
                "PRODUCTION",
                &[
                    ("s1a", "SUCCESS", "2024-06-10T10:00:00Z"),
                    ("s1b", "SUCCESS", "2024-06-10T10:02:00Z"),
                ],
            ),
            deployment(
                "d2",
                "STAGING",
                &[("s2", "SUCCESS", "2024-06-11T10:00:00Z")],
            ),
            deployment(
                "d3",
                "TESTING",
                &[("s3", "SUCCESS", "2024-06-12T10:00:00Z")],
            ),
            failed,
        ],
    );
    under.load_projects(vec![svc]).await;
    let source = &under.source;
    let (total, rows) = source.history("svc", None, 10).await.unwrap();
    assert_eq!(total, 4);
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["d4", "d3", "d2", "d1"]);
    let d1 = &rows[3];
    assert_eq!(
        (d1.environment.as_str(), d1.result.as_str()),
        ("PRODUCTION", "SUCCESS")
    );
    assert_eq!(d1.started_ms, ms("2024-06-10T09:55:00Z"));
    assert_eq!(d1.finished_ms, ms("2024-06-10T10:02:00Z"));
    assert_eq!(d1.duration_sec, 420);
    // The head commit: the latest to finish.
    assert_eq!(d1.head_sha, "s1b");
    assert_eq!(d1.head_message.as_deref(), Some("change s1b"));
    assert_eq!(
        (d1.version.as_ref(), d1.triggered_by.as_ref()),
        (None, None)
    );
    assert_eq!(rows[0].result, "FAILURE");

    let (total, rows) = source
        .history("svc", Some(&["DEVELOPMENT", "TESTING"]), 1)
        .await
        .unwrap();
    assert_eq!((total, rows.len(), rows[0].id.as_str()), (2, 1, "d4"));
    let (total, rows) = source
        .history("svc", Some(&["PRODUCTION"]), 10)
        .await
        .unwrap();
    assert_eq!((total, rows[0].id.as_str()), (1, "d1"));
}

async fn unknown_projects_have_no_facts(under: &Under) {
    under
        .load_projects(vec![project(
            "svc",
            vec![shipped("d1", "a", "2024-06-10T10:00:00Z")],
        )])
        .await;
    let source = &under.source;
    assert_eq!(
        source.facts("ghost", june(), true).await.unwrap(),
        ProjectFacts::default()
    );
    assert_eq!(
        source.history("ghost", None, 10).await.unwrap(),
        (0, vec![])
    );
}
