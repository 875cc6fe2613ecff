//! DevLake's domain tables filled by SQL alone (a table of the numbers 0..999 cross-joined; the
//! same rows on every run), as DevLake's webhook and dora plugins would have left them:
//! 1,000,000 `cicd_deployment_commits` over the two years before 2024-12-31, 2 commit rows per
//! deployment, in projects of [`Shape::rows_per_project`] rows each, 2 CI/CD scopes per project,
//! 75% to production, 90% successful; merged pull requests for 2 in 5 deployments, linked by
//! `project_pr_metrics`; an incident half an hour after every twentieth deployment (90%
//! resolved), linked to it.

use std::time::Instant;

use fawkes_portal::dora::calendar::Day;
use sqlx::Executor;
use sqlx::mysql::MySqlPool;

const ROWS: i64 = 1_000_000;

/// How the million rows are spread.
#[derive(Clone, Copy)]
pub struct Shape {
    /// Deployment-commit rows per project (2 per deployment).
    pub rows_per_project: i64,
}

impl Shape {
    pub fn projects(self) -> usize {
        (ROWS / self.rows_per_project) as usize
    }

    fn deployments_per_project(self) -> i64 {
        self.rows_per_project / 2
    }

    pub fn database(self) -> String {
        format!("fawkes_devlake_bench_{}", self.rows_per_project)
    }
}

const DOMAIN_SQL: &str = include_str!("../../tests/data/devlake/domain.sql");

pub fn end_day() -> Day {
    Day::parse("2024-12-31").unwrap()
}

pub fn project_name(p: usize) -> String {
    format!("proj-{p:03}")
}

/// xorshift64*: the same queries on every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n as u64) as usize
    }
}

fn database_url(server: &str, database: &str) -> String {
    let mut url = url::Url::parse(server).unwrap();
    url.set_path(database);
    url.to_string()
}

async fn run(pool: &MySqlPool, script: &str) {
    let code: Vec<&str> = script
        .lines()
        .map(|line| line.split_once("--").map_or(line, |(code, _)| code))
        .collect();
    for statement in code.join("\n").split(';') {
        let statement = statement.trim();
        if !statement.is_empty() {
            pool.execute(sqlx::AssertSqlSafe(statement.to_owned()))
                .await
                .unwrap_or_else(|e| panic!("{e}: {statement}"));
        }
    }
}

/// The generated database on `server` (reused when it is complete); its URL.
pub async fn prepare(server: &str, shape: Shape) -> String {
    let database = &shape.database();
    let admin = MySqlPool::connect(server).await.unwrap();
    let url = database_url(server, database);
    // `bench_done` is created last: its presence says the database is complete.
    let complete: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT CAST(COUNT(*) AS SIGNED) FROM information_schema.tables \
         WHERE table_schema = '{database}' AND table_name = 'bench_done'"
    )))
    .fetch_one(&admin)
    .await
    .unwrap();
    if complete > 0 {
        println!("reusing the database {database}");
        return url;
    }
    run(
        &admin,
        &format!(
            "DROP DATABASE IF EXISTS `{database}`; \
             CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        ),
    )
    .await;
    admin.close().await;
    let pool = MySqlPool::connect(&url).await.unwrap();
    let started = Instant::now();
    run(&pool, DOMAIN_SQL).await;
    run(&pool, &fill(shape)).await;
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cicd_deployment_commits")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, ROWS);
    println!(
        "generated {database}: {rows} deployment commits of {} projects ({} each) in {:.0?}",
        shape.projects(),
        shape.rows_per_project,
        started.elapsed()
    );
    pool.close().await;
    url
}

pub async fn drop(server: &str, database: &str) {
    let admin = MySqlPool::connect(server).await.unwrap();
    run(&admin, &format!("DROP DATABASE IF EXISTS `{database}`")).await;
    admin.close().await;
}

/// The statements that fill the tables.
fn fill(shape: Shape) -> String {
    let per = shape.deployments_per_project();
    // Seconds between a project's deployments: two years over their number.
    let step = 730 * 86_400 / per;
    let projects = shape.projects();
    let digits = "(SELECT 0 n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 \
                  UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 \
                  UNION ALL SELECT 8 UNION ALL SELECT 9)";
    let raw = "CONCAT('{\"ConnectionId\":1,\"ScopeId\":\"', scope, '\"}'), '_raw_webhook_api', d";
    format!(
        "CREATE TABLE bench_numbers (n INT PRIMARY KEY);
         INSERT INTO bench_numbers SELECT a.n + 10 * b.n + 100 * c.n FROM {digits} a, {digits} b, {digits} c;
         CREATE TABLE bench_deployments (d INT PRIMARY KEY, p INT, scope VARCHAR(32),
           started DATETIME(3), finished DATETIME(3), environment VARCHAR(16), result VARCHAR(16));
         INSERT INTO bench_deployments
           SELECT d, d DIV {per}, CONCAT('webhook:', (d DIV {per}) * 2 + MOD(d, 2) + 1), started,
             started + INTERVAL (60 + MOD(d * 31, 1200)) SECOND,
             CASE WHEN MOD(d * 37, 100) < 75 THEN 'PRODUCTION' WHEN MOD(d * 37, 100) < 85 THEN 'STAGING'
                  WHEN MOD(d * 37, 100) < 95 THEN 'TESTING' ELSE 'DEVELOPMENT' END,
             CASE WHEN MOD(d * 53, 100) < 90 THEN 'SUCCESS' ELSE 'FAILURE' END
           FROM (SELECT x.n * 1000 + y.n AS d,
                   TIMESTAMP '2023-01-01 00:00:00' + INTERVAL (MOD(x.n * 1000 + y.n, {per}) * {step}
                     + MOD((x.n * 1000 + y.n) * 7919, {half})) SECOND AS started
                 FROM bench_numbers x, bench_numbers y WHERE x.n < 500) g;
         INSERT INTO projects (name, created_at) SELECT CONCAT('proj-', LPAD(n, 3, '0')), NOW(3)
           FROM bench_numbers WHERE n < {projects};
         INSERT INTO cicd_scopes (id, name, url)
           SELECT CONCAT('webhook:', n + 1), CONCAT('fawkes/service-', n + 1),
             CONCAT('https://github.com/fawkes/service-', n + 1)
           FROM bench_numbers WHERE n < {projects} * 2;
         INSERT INTO project_mapping (project_name, `table`, row_id)
           SELECT CONCAT('proj-', LPAD(n DIV 2, 3, '0')), t.name, CONCAT('webhook:', n + 1)
           FROM bench_numbers,
             (SELECT 'cicd_scopes' name UNION ALL SELECT 'repos' UNION ALL SELECT 'boards') t
           WHERE n < {projects} * 2;
         {chunked}
         INSERT INTO boards (id) SELECT CONCAT('webhook:', n + 1) FROM bench_numbers
           WHERE n < {projects} * 2;
         INSERT INTO incidents (id, incident_key, title, status, original_status, created_date,
             resolution_date, lead_time_minutes, `table`, scope_id, _raw_data_params)
           SELECT CONCAT(scope, ':INC-', d), CONCAT('INC-', d), 'Service degraded',
             IF(MOD(d, 10) = 3, 'IN_PROGRESS', 'DONE'), 'open',
             finished + INTERVAL 30 MINUTE,
             IF(MOD(d, 10) = 3, NULL, finished + INTERVAL (30 + 30 * MOD(d * 17, 48)) MINUTE),
             IF(MOD(d, 10) = 3, 0, 30 * MOD(d * 17, 48)), 'boards', scope, scope
           FROM bench_deployments
           WHERE MOD(d, 20) = 3 AND environment = 'PRODUCTION' AND result = 'SUCCESS';
         INSERT INTO project_incident_deployment_relationships (id, project_name, deployment_id)
           SELECT CONCAT(scope, ':INC-', d), CONCAT('proj-', LPAD(p, 3, '0')), CONCAT('deploy-', d)
           FROM bench_deployments
           WHERE MOD(d, 20) = 3 AND environment = 'PRODUCTION' AND result = 'SUCCESS';
         INSERT INTO pull_requests (id, base_repo_id, head_repo_id, status, title, url,
             author_name, pull_request_key, created_date, merged_date, merge_commit_sha,
             _raw_data_params)
           SELECT CONCAT(scope, ':', d), scope, scope, 'MERGED', CONCAT('Change ', d),
             CONCAT('https://github.com/fawkes/pulls/', d), 'dev', d,
             started - INTERVAL (1 + MOD(d * 13, 72)) HOUR - INTERVAL 1 HOUR,
             started - INTERVAL 1 HOUR, SHA1(CONCAT(d, '-0')), scope
           FROM bench_deployments WHERE MOD(d, 5) < 2;
         INSERT INTO project_pr_metrics (id, project_name, deployment_commit_id, pr_cycle_time,
             pr_created_date, pr_merged_date, pr_deployed_date)
           SELECT CONCAT(scope, ':', d), CONCAT('proj-', LPAD(p, 3, '0')),
             CONCAT(scope, ':deploy-', d, ':', LEFT(SHA1('repo0'), 16), ':', SHA1(CONCAT(d, '-0'))),
             TIMESTAMPDIFF(MINUTE, started - INTERVAL (1 + MOD(d * 13, 72)) HOUR - INTERVAL 1 HOUR,
               finished),
             started - INTERVAL (1 + MOD(d * 13, 72)) HOUR - INTERVAL 1 HOUR,
             started - INTERVAL 1 HOUR, finished
           FROM bench_deployments
           WHERE MOD(d, 5) < 2 AND environment = 'PRODUCTION' AND result = 'SUCCESS';
         DROP TABLE bench_deployments;
         DROP TABLE bench_numbers;
         ANALYZE TABLE projects, project_mapping, cicd_scopes, cicd_deployments,
           cicd_deployment_commits, incidents, project_incident_deployment_relationships,
           pull_requests, project_pr_metrics;
         CREATE TABLE bench_done (done INT)",
        half = step / 2,
        chunked = chunked(CHUNKED, raw, ROWS / 2),
    )
}

/// The deployment and deployment-commit rows, 50,000 deployments per statement: one
/// transaction each, so DevLake's server keeps no undo log the size of the whole table.
fn chunked(template: &str, raw: &str, deployments: i64) -> String {
    (0..deployments)
        .step_by(50_000)
        .map(|lo| {
            template
                .replace("{raw}", raw)
                .replace("{lo}", &lo.to_string())
                .replace("{hi}", &(lo + 49_999).to_string())
        })
        .collect()
}

const CHUNKED: &str = "         INSERT INTO cicd_deployments (id, cicd_scope_id, result, original_result, status,
             environment, original_environment, created_date, started_date, finished_date,
             duration_sec, name, display_title, url, _raw_data_params, _raw_data_table, _raw_data_id)
           SELECT CONCAT('deploy-', d), scope, result, result, 'DONE', environment, environment,
             started, started, finished, TIMESTAMPDIFF(SECOND, started, finished),
             CONCAT('deploy to ', environment), CONCAT('Release ', d),
             CONCAT('https://ci.example/runs/', d), {raw}
           FROM bench_deployments WHERE d BETWEEN {lo} AND {hi};
         INSERT INTO cicd_deployment_commits (id, commit_sha, cicd_scope_id, cicd_deployment_id,
             name, result, original_result, status, original_status, environment,
             original_environment, created_date, started_date, finished_date, duration_sec,
             ref_name, repo_id, repo_url, commit_msg, display_title, url,
             _raw_data_params, _raw_data_table, _raw_data_id)
           SELECT CONCAT(scope, ':deploy-', d, ':', LEFT(SHA1(CONCAT('repo', k.n)), 16), ':',
               SHA1(CONCAT(d, '-', k.n))),
             SHA1(CONCAT(d, '-', k.n)), scope, CONCAT('deploy-', d),
             CONCAT('deployment for ', SHA1(CONCAT(d, '-', k.n))), result, result, 'DONE', 'done',
             environment, environment, started, started, finished + INTERVAL k.n SECOND,
             TIMESTAMPDIFF(SECOND, started, finished), 'refs/heads/main', CONCAT(scope, '-', k.n),
             CONCAT('https://github.com/fawkes/service-', p, '-', k.n), 'feat: a change',
             CONCAT('Release ', d), CONCAT('https://ci.example/runs/', d), {raw}
           FROM bench_deployments, (SELECT 0 n UNION ALL SELECT 1) k WHERE d BETWEEN {lo} AND {hi};
";
