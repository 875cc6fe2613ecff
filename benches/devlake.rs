//! The DORA routes over a DevLake database (`[dora] source = "devlake"`) at scale: DevLake's
//! domain tables (`tests/data/devlake/domain.sql`, DevLake's own indexes and no others) filled
//! with 1,000,000 deployment-commit rows: by default 500 projects, each with 2 CI/CD scopes and
//! 1,000 deployments over two years (2 commits each: 2,000 rows per project; the shape of
//! `benches/dora.rs`), 400 merged pull requests per project with the dora plugin's
//! `project_pr_metrics`, and an incident after every twentieth successful production deployment
//! with its deployment link. `DEVLAKE_BENCH_ROWS_PER_PROJECT=5000` spreads the same million over
//! 200 busier projects. DevLake indexes no date, so a read costs a project's rows of all time.
//! Measured through the whole router (auth and rate-limit guard included), one request at a time:
//! 1. `dora-metrics` for one project over 30 days;
//! 2. `dora-metrics` for a team of 20 projects over 90 days (2023 and 2021 benchmarks);
//! 3. the widget's `/api/dora/metrics` for one project;
//! 4. `deployment-history` (20 newest) for one project.
//!
//! It prints which index MariaDB/MySQL uses for each table of each read (`EXPLAIN`). Run it with
//!
//!     cargo bench --bench devlake
//!
//! on a MariaDB or MySQL server given by `FAWKES_BENCH_MYSQL_URL` (`mysql://root@127.0.0.1:3306`),
//! else on a private MariaDB it starts (Debian's `mariadb-server`; as root it runs the server as
//! `FAWKES_TEST_PG_USER`, default `fawkes-test`). `DEVLAKE_BENCH_KEEP=1` keeps the generated
//! database (`fawkes_devlake_bench_<rows per project>`) and reuses it on the next run.

#![allow(
    clippy::unwrap_used,
    reason = "a benchmark: a failed unwrap ends the run"
)]

#[path = "common/mod.rs"]
mod common;
#[path = "devlake/generate.rs"]
mod generate;
#[path = "devlake/server.rs"]
mod server;

use std::sync::Arc;
use std::time::Duration;

use fawkes_portal::app::AppState;
use fawkes_portal::clock::ManualClock;
use fawkes_portal::config::Settings;
use fawkes_portal::db::Database;
use fawkes_portal::dora::calendar::Day;
use fawkes_portal::dora::devlake::sql;
use sqlx::mysql::MySqlPool;
use sqlx::{Execute, Row};

/// Projects per team.
const TEAM_SIZE: usize = 20;

/// `EXPLAIN` of each read of a team's metrics (and of one project's history): the index each
/// table is reached by.
async fn explain(pool: &MySqlPool) {
    let from = Day::parse("2024-07-04").unwrap().start_ms();
    let to = Day::parse("2024-12-30").unwrap().end_ms();
    let team: Vec<String> = (0..TEAM_SIZE).map(generate::project_name).collect();
    let ids: Vec<String> = (0..100).map(|i| format!("deploy-{i}")).collect();
    let project = generate::project_name(7);
    let statements = [
        ("activity", sql::activity(&team)),
        ("deployments", sql::prod_deployments(&team, from)),
        ("linked incidents", sql::linked_incidents(&ids)),
        ("restored (2021)", sql::restored_incidents(&team, from, to)),
        ("pull requests", sql::pull_request_changes(&team, from, to)),
        ("history", sql::history(&project, None, 20).1),
    ];
    println!("indexes used (EXPLAIN; team-00, history of {project}):");
    for (name, mut statement) in statements {
        let arguments = statement.take_arguments().unwrap().unwrap();
        let text = format!("EXPLAIN {}", statement.sql().as_str());
        let rows = sqlx::query_with(sqlx::AssertSqlSafe(text), arguments)
            .fetch_all(pool)
            .await
            .unwrap();
        let plan: Vec<String> = rows
            .iter()
            .map(|row| {
                let table: Option<String> = row.try_get("table").unwrap_or_default();
                let key: Option<String> = row.try_get("key").unwrap_or_default();
                format!(
                    "{}: {}",
                    table.unwrap_or_default(),
                    key.unwrap_or_else(|| "-".into())
                )
            })
            .collect();
        println!("  {name:<17} {}", plan.join(", "));
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let (server_url, _private) = match std::env::var("FAWKES_BENCH_MYSQL_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let private = server::Private::start();
            (private.url(), Some(private))
        }
    };
    let keep = std::env::var("DEVLAKE_BENCH_KEEP").as_deref() == Ok("1");
    let shape = generate::Shape {
        rows_per_project: std::env::var("DEVLAKE_BENCH_ROWS_PER_PROJECT")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(2_000),
    };
    let projects = shape.projects();
    let teams = projects / TEAM_SIZE;
    let url = generate::prepare(&server_url, shape).await;
    let pool = MySqlPool::connect(&url).await.unwrap();
    explain(&pool).await;

    let dir = tempfile::TempDir::new().unwrap();
    let mut settings = Settings {
        data_dir: dir.path().display().to_string(),
        ..Settings::default()
    };
    settings.rate_limit.user_per_minute = u64::MAX / 2;
    settings.dora.source = "devlake".into();
    settings.dora.devlake.database_url = url.clone();
    settings.dora.teams = (0..teams)
        .map(|t| {
            let members = (t * TEAM_SIZE..(t + 1) * TEAM_SIZE)
                .map(generate::project_name)
                .collect();
            (format!("team-{t:02}"), members)
        })
        .collect();
    let config = settings.validate().unwrap();
    let db = Database::connect(&config.database).await.unwrap();
    db.migrate().await.unwrap();
    let now = generate::end_day().start_ms() + 12 * 3_600_000;
    let clock = Arc::new(ManualClock::at(Duration::from_millis(now as u64)));
    let state = AppState::with_clock(config, db.clone(), clock).unwrap();
    let client = common::Client::new(state);
    let (month, quarter) = common::month_and_quarter(generate::end_day().plus(-1));
    let mut rng = generate::Rng(42);
    let project = |rng: &mut generate::Rng| generate::project_name(rng.below(projects));
    // Warm the pool and DevLake's buffer pool as a running server would have them.
    for p in 0..projects {
        let p = generate::project_name(p);
        client
            .get(&format!("/api/devlake/dora-metrics?project={p}&{quarter}"))
            .await;
    }

    client
        .measure("dora-metrics, one project, 30 days", 300, |_| {
            format!(
                "/api/devlake/dora-metrics?project={}&{month}",
                project(&mut rng)
            )
        })
        .await;
    for benchmark in ["2023", "2021"] {
        client
            .measure(
                &format!("dora-metrics, one team ({TEAM_SIZE} projects), 90 days, {benchmark}"),
                100,
                |_| {
                    let team = rng.below(teams);
                    format!(
                        "/api/devlake/dora-metrics?team=team-{team:02}&{quarter}&benchmark={benchmark}"
                    )
                },
            )
            .await;
    }
    client
        .measure(
            "/api/dora/metrics (widget), one project, 30 days",
            300,
            |_| format!("/api/dora/metrics?project={}", project(&mut rng)),
        )
        .await;
    client
        .measure("deployment-history, 20 newest", 300, |i| {
            common::history_path(&project(&mut rng), i)
        })
        .await;

    pool.close().await;
    db.close().await;
    if !keep {
        generate::drop(&server_url, &shape.database()).await;
    }
}
