//! The DevLake plugin at scale, on SQLite: generates 1,000 projects in 50 teams with 1,000,000
//! deployments, 3,000,000 deployment commits, 200,000 pull requests and 50,000 incidents (bulk
//! inserts in transactions), then measures, through the whole router (auth and rate-limit guard
//! included), single-threaded:
//! 1. `dora-metrics` for one project over 30 days;
//! 2. `dora-metrics` for a team (20 projects) over 90 days;
//! 3. `deployment-history` (20 newest) for one service;
//! 4. ingestion: deployment webhooks (three commits each) posted one after another.
//!
//! Run it with:
//!
//!     cargo bench --bench dora                     # full scale (a few minutes)
//!     DORA_BENCH_SCALE=0.1 cargo bench --bench dora  # a tenth of the projects
//!
//! `DORA_BENCH_DB=PATH` keeps the generated database at PATH and reuses it on the next run.

#![allow(
    clippy::unwrap_used,
    reason = "a benchmark: a failed unwrap ends the run"
)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, header};
use fawkes_portal::app::AppState;
use fawkes_portal::auth::issuer::TokenSubject;
use fawkes_portal::clock::ManualClock;
use fawkes_portal::config::Settings;
use fawkes_portal::db::Database;
use fawkes_portal::dora::calendar::{DAY_MS, Day, format_timestamp};
use futures_util::StreamExt;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use tower::ServiceExt;

#[path = "common/mod.rs"]
mod common;

const TEAMS: usize = 50;
const DEPLOYMENTS_PER_PROJECT: usize = 1000;
const COMMITS_PER_DEPLOYMENT: usize = 3;
const PULL_REQUESTS_PER_PROJECT: usize = 200;
const INCIDENTS_PER_PROJECT: usize = 50;
const SPAN_DAYS: i64 = 730;
const HOUR: i64 = 3_600_000;

/// xorshift64*: deterministic data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> i64 {
        (self.next() % n) as i64
    }
}

fn end_day() -> Day {
    Day::parse("2024-12-31").unwrap()
}

fn project_name(p: usize) -> String {
    format!("svc-{p:04}")
}

struct Deployment {
    id: String,
    environment: &'static str,
    result: &'static str,
    started: i64,
    finished: i64,
}

/// Inserts every row of `projects` projects, `chunk` projects per transaction.
async fn generate(pool: &SqlitePool, projects: usize) {
    let started = Instant::now();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let first_ms = end_day().start_ms() - SPAN_DAYS * DAY_MS;
    let step = SPAN_DAYS * DAY_MS / DEPLOYMENTS_PER_PROJECT as i64;
    let mut rows = [0usize; 4];
    for chunk in (0..projects).collect::<Vec<_>>().chunks(25) {
        let mut tx = pool.begin().await.unwrap();
        for &p in chunk {
            let project_id = p as i64 + 1;
            sqlx::query("INSERT INTO dora_projects (id, name) VALUES ($1, $2)")
                .bind(project_id)
                .bind(project_name(p))
                .execute(&mut *tx)
                .await
                .unwrap();
            let deployments: Vec<Deployment> = (0..DEPLOYMENTS_PER_PROJECT)
                .map(|d| {
                    let started = first_ms + d as i64 * step + rng.below(step as u64 / 2);
                    let roll = rng.below(100);
                    Deployment {
                        id: format!("deploy-{p}-{d}"),
                        environment: match roll {
                            0..80 => "PRODUCTION",
                            80..90 => "STAGING",
                            _ => "DEVELOPMENT",
                        },
                        result: if rng.below(10) == 0 {
                            "FAILURE"
                        } else {
                            "SUCCESS"
                        },
                        started,
                        finished: started + 60_000 + rng.below(20 * 60_000),
                    }
                })
                .collect();
            let sha = |d: usize, r: usize| format!("{p:04x}{d:05x}{r}");
            for batch in deployments.chunks(400) {
                let mut insert = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO dora_deployments (project_id, id, name, result, environment, \
                     created_ms, started_ms, finished_ms, duration_sec, version, triggered_by, \
                     head_sha, head_message, head_author, received_ms, prod_finished_ms, prod_first_ms) ",
                );
                insert.push_values(batch, |mut row, d| {
                    let d_index: usize = d.id.rsplit('-').next().unwrap().parse().unwrap();
                    let prod = (d.environment == "PRODUCTION" && d.result == "SUCCESS")
                        .then_some(d.finished);
                    row.push_bind(project_id)
                        .push_bind(d.id.clone())
                        .push_bind(format!("deploy {} to {}", sha(d_index, 0), d.environment))
                        .push_bind(d.result)
                        .push_bind(d.environment)
                        .push_bind(d.started)
                        .push_bind(d.started)
                        .push_bind(d.finished)
                        .push_bind((d.finished - d.started) / 1000)
                        .push_bind(format!("v1.{d_index}"))
                        .push_bind("GitHub Push")
                        .push_bind(sha(d_index, 0))
                        .push_bind("feat: a change")
                        .push_bind("dev@example.com")
                        .push_bind(d.finished)
                        .push_bind(prod)
                        .push_bind(prod);
                });
                insert.build().execute(&mut *tx).await.unwrap();
                rows[0] += batch.len();
            }
            for (index, batch) in deployments.chunks(200).enumerate() {
                let mut insert = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO dora_deployment_commits (project_id, deployment_id, repo_url, \
                     commit_sha, commit_msg, name, result, status, environment, created_ms, \
                     started_ms, finished_ms, author, authored_ms, qualifies) ",
                );
                let commits = batch.iter().enumerate().flat_map(|(i, d)| {
                    (0..COMMITS_PER_DEPLOYMENT).map(move |r| (index * 200 + i, r, d))
                });
                insert.push_values(commits, |mut row, (d_index, r, d)| {
                    let qualifies =
                        i32::from(d.environment == "PRODUCTION" && d.result == "SUCCESS");
                    row.push_bind(project_id)
                        .push_bind(d.id.clone())
                        .push_bind(format!("https://github.com/fawkes/svc-{p}-{r}"))
                        .push_bind(sha(d_index, r))
                        .push_bind("feat: a change")
                        .push_bind(format!("deployment for {}", sha(d_index, r)))
                        .push_bind(d.result)
                        .push_bind("DONE")
                        .push_bind(d.environment)
                        .push_bind(d.started)
                        .push_bind(d.started)
                        .push_bind(d.finished)
                        .push_bind("dev@example.com")
                        .push_bind(d.started - (r as i64 + 1) * 3 * HOUR)
                        .push_bind(qualifies);
                });
                insert.build().execute(&mut *tx).await.unwrap();
                rows[1] += batch.len() * COMMITS_PER_DEPLOYMENT;
            }
            // Pull requests merged as the head commit of every fifth deployment.
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO dora_pull_requests (project_id, id, title, pull_request_key, status, \
                 created_ms, merged_ms, merge_commit_sha, first_commit_authored_ms) ",
            );
            let prs = (0..PULL_REQUESTS_PER_PROJECT).map(|k| (k, &deployments[k * 5]));
            let offsets: Vec<i64> = (0..PULL_REQUESTS_PER_PROJECT)
                .map(|_| rng.below(72) * HOUR)
                .collect();
            insert.push_values(prs, |mut row, (k, d)| {
                let merged = d.started - HOUR;
                row.push_bind(project_id)
                    .push_bind(format!("pr-{p}-{k}"))
                    .push_bind("Add the thing")
                    .push_bind(k as i64)
                    .push_bind("MERGED")
                    .push_bind(merged - offsets[k] - HOUR)
                    .push_bind(merged)
                    .push_bind(sha(k * 5, 0))
                    .push_bind(merged - offsets[k] - 5 * HOUR);
            });
            insert.build().execute(&mut *tx).await.unwrap();
            rows[2] += PULL_REQUESTS_PER_PROJECT;
            // Incidents half an hour after every twentieth deployment; most resolved.
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO dora_incidents (project_id, issue_key, title, status, original_status, \
                 created_ms, resolution_ms, lead_time_minutes) ",
            );
            let incidents: Vec<(usize, i64, Option<i64>)> = (0..INCIDENTS_PER_PROJECT)
                .map(|k| {
                    let created = deployments[k * 20 + 3].finished + 30 * 60_000;
                    let resolved =
                        (rng.below(10) > 0).then(|| created + (1 + rng.below(48)) * HOUR / 2);
                    (k, created, resolved)
                })
                .collect();
            insert.push_values(incidents, |mut row, (k, created, resolved)| {
                row.push_bind(project_id)
                    .push_bind(format!("INC-{k}"))
                    .push_bind("Service degraded")
                    .push_bind(if resolved.is_some() {
                        "DONE"
                    } else {
                        "IN_PROGRESS"
                    })
                    .push_bind("open")
                    .push_bind(created)
                    .push_bind(resolved)
                    .push_bind(resolved.map(|r| (r - created) / 60_000));
            });
            insert.build().execute(&mut *tx).await.unwrap();
            rows[3] += INCIDENTS_PER_PROJECT;
        }
        tx.commit().await.unwrap();
    }
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
    let elapsed = started.elapsed();
    let total: usize = rows.iter().sum();
    println!(
        "generated {projects} projects: {} deployments, {} deployment commits, {} pull requests, \
         {} incidents in {elapsed:.1?} ({:.0} rows/s)",
        rows[0],
        rows[1],
        rows[2],
        rows[3],
        total as f64 / elapsed.as_secs_f64()
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let scale: f64 = std::env::var("DORA_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let projects = ((1000.0 * scale) as usize).max(TEAMS);
    let dir = tempfile::TempDir::new().unwrap();
    let db_path = std::env::var("DORA_BENCH_DB")
        .map(PathBuf::from)
        .unwrap_or_else(|_| dir.path().join("dora-bench.db"));
    let reuse = db_path.exists();
    let mut settings = Settings {
        data_dir: dir.path().display().to_string(),
        ..Settings::default()
    };
    settings.database.url = format!("sqlite://{}", db_path.display());

    settings.rate_limit.user_per_minute = u64::MAX / 2;
    settings.rate_limit.service_per_minute = u64::MAX / 2;
    let per_team = projects / TEAMS;
    settings.dora.teams = (0..TEAMS)
        .map(|t| {
            let members = (t * per_team..(t + 1) * per_team)
                .map(project_name)
                .collect();
            (format!("team-{t:02}"), members)
        })
        .collect();
    let config = settings.validate().unwrap();
    let db = Database::connect(&config.database).await.unwrap();
    db.migrate().await.unwrap();
    // WAL checkpoints run off the write connection, as in the server (`App::build`).
    tokio::spawn({
        let db = db.clone();
        async move { db.checkpoint_until(Default::default()).await }
    });
    let Database::Sqlite { pool, .. } = &db else {
        unreachable!("the benchmark runs on SQLite")
    };
    if reuse {
        println!("reusing {}", db_path.display());
    } else {
        generate(pool, projects).await;
    }
    let now = end_day().start_ms() + 12 * HOUR;
    let clock = Arc::new(ManualClock::at(Duration::from_millis(now as u64)));
    let state = AppState::with_clock(config, db.clone(), clock).unwrap();
    let service = common::bearer(&state, &TokenSubject::service("ci-bot").unwrap());
    let client = common::Client::new(state);
    let router = client.router.clone();
    let (month, quarter) = common::month_and_quarter(end_day().plus(-1));
    let mut rng = Rng(42);
    let project = |rng: &mut Rng| project_name(rng.below(projects as u64) as usize);
    let team = |rng: &mut Rng| format!("team-{:02}", rng.below(TEAMS as u64));

    client
        .measure("dora-metrics, one project, 30 days", 300, |_| {
            format!(
                "/api/devlake/dora-metrics?project={}&{month}",
                project(&mut rng)
            )
        })
        .await;
    client
        .measure(
            &format!("dora-metrics, one team ({per_team} projects), 90 days"),
            100,
            |_| {
                format!(
                    "/api/devlake/dora-metrics?team={}&{quarter}",
                    team(&mut rng)
                )
            },
        )
        .await;
    client
        .measure(
            "dora-metrics, one team, 90 days, 2021 benchmark",
            100,
            |_| {
                format!(
                    "/api/devlake/dora-metrics?team={}&{quarter}&benchmark=2021",
                    team(&mut rng)
                )
            },
        )
        .await;
    client
        .measure("deployment-history, 20 newest", 1000, |i| {
            common::history_path(&project(&mut rng), i)
        })
        .await;

    // Ingestion: new deployments of existing projects, three commits each; first one post at a
    // time, then 16 posters at once (as many pipelines would post).
    let post = |i: usize| {
        let p = project_name(i % projects);
        let finished = format_timestamp(now - 10 * HOUR + i as i64 * 1000);
        let commits: Vec<String> = (0..3)
            .map(|r| {
                format!(
                    r#"{{"repoUrl":"https://github.com/fawkes/{p}-{r}","commitSha":"new{i:x}{r}","commitMsg":"fix","commitAuthoredDate":"{finished}","startedDate":"{finished}","finishedDate":"{finished}"}}"#
                )
            })
            .collect();
        let body = format!(
            r#"{{"id":"bench-{i}","version":"v2.{i}","startedDate":"{finished}","finishedDate":"{finished}","deploymentCommits":[{}]}}"#,
            commits.join(",")
        );
        let request = Request::post(format!("/api/devlake/webhooks/{p}/deployments"))
            .header(header::AUTHORIZATION, service.as_str())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        let router = router.clone();
        async move {
            let response = router.oneshot(request).await.unwrap();
            assert_eq!(response.status(), 200);
        }
    };
    let posts = 5000;
    let started = Instant::now();
    for i in 0..posts {
        post(i).await;
    }
    let elapsed = started.elapsed();
    println!(
        "{:<52} n={posts:<6} {:.0} deployments/s ({:.2?} each)",
        "ingestion, deployment webhooks, one at a time",
        posts as f64 / elapsed.as_secs_f64(),
        elapsed / posts as u32
    );
    let started = Instant::now();
    futures_util::stream::iter((posts..2 * posts).map(post))
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
    let elapsed = started.elapsed();
    println!(
        "{:<52} n={posts:<6} {:.0} deployments/s",
        "ingestion, deployment webhooks, 16 at once",
        posts as f64 / elapsed.as_secs_f64(),
    );
    db.close().await;
}
