//! The statements the DevLake source runs on DevLake's domain tables (MySQL 8 or MariaDB; `?`
//! placeholders), each built and bound by one function. The metrics' statements take a list of
//! projects or of deployment ids; lists are padded to a few lengths so that each connection
//! prepares few texts. They read only columns DevLake has
//! had since v1.0.1 and reach rows through DevLake's own indexes (see docs/DORA.md):
//! `project_mapping`'s primary key (`project_name`, `table`, `row_id`),
//! `idx_cicd_deployment_commits_cicd_scope_id`, `idx_cicd_deployments_cicd_scope_id`,
//! `idx_table_scope_id` on `incidents`, `idx_pull_requests_base_repo_id`, and the primary keys of
//! `incidents`, `project_pr_metrics`, `cicd_deployment_commits`, `cicd_scopes` and `commits`.
//! The one read without an index is DevLake's too: the incidents linked to given deployments,
//! one pass over `project_incident_deployment_relationships` (its `deployment_id` is an
//! unindexed text; the table has a row per linked incident).
//!
//! Strings DevLake compares (`SUCCESS`, `PRODUCTION`, project names, `project_mapping.table`)
//! are compared byte for byte, as DevLake's `utf8mb4_bin` database does, whatever the server's
//! collation: each such test is an indexable `=` plus the same test on `CAST(... AS BINARY)`.
//! Times are DevLake's UTC `DATETIME`s, read as epoch milliseconds and compared with
//! `YYYY-MM-DD HH:MM:SS.fff` texts ([`datetime`]).

use sqlx::MySql;
use sqlx::mysql::MySqlArguments;
use sqlx::query::Query;

use crate::dora::calendar::{Day, Millis};

/// A statement with its values bound, ready to run.
pub type Statement = Query<'static, MySql, MySqlArguments>;

/// `ms` as the `DATETIME(3)` text DevLake's columns compare with.
pub(crate) fn datetime(ms: Millis) -> String {
    let day = Day::of(ms);
    let in_day = ms - day.start_ms();
    let (h, m, s, f) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    format!("{} {h:02}:{m:02}:{s:02}.{f:03}", day.format())
}

/// The project, bound twice: `name = ? AND CAST(name AS BINARY) = ?`.
fn for_project(sql: &'static str, project: &str) -> Statement {
    sqlx::query(sql)
        .bind(project.to_owned())
        .bind(project.to_owned())
}

/// How many values a list of `n` binds: `n` rounded up to a power of two (at least 8), the last
/// value repeated, so that a few statement texts (each prepared once per connection) serve every
/// length.
fn padded(n: usize) -> usize {
    n.max(8).next_power_of_two()
}

/// `n` placeholders for a list of `n` values, padded (see [`padded`]).
fn marks(n: usize) -> String {
    vec!["?"; padded(n)].join(", ")
}

/// Binds `values`, padded (see [`padded`]).
fn bind_list(mut query: Statement, values: &[String]) -> Statement {
    let last = values.last().cloned().unwrap_or_default();
    for value in values {
        query = query.bind(value.clone());
    }
    for _ in values.len()..padded(values.len()) {
        query = query.bind(last.clone());
    }
    query
}

/// The condition "`pm` is a `project_mapping` row of one of `n` projects" (byte for byte):
/// [`bind_projects`] binds it.
fn of_projects(n: usize) -> String {
    let marks = marks(n);
    format!("pm.project_name IN ({marks}) AND CAST(pm.project_name AS BINARY) IN ({marks})")
}

/// Binds the projects of one [`of_projects`] condition.
fn bind_projects(query: Statement, projects: &[String]) -> Statement {
    bind_list(bind_list(query, projects), projects)
}

/// Whether a project exists (its name bound twice).
pub const PROJECT: &str = "SELECT CAST(1 AS SIGNED) FROM projects \
     WHERE name = ? AND CAST(name AS BINARY) = ? LIMIT 1";

pub(crate) fn project(name: &str) -> Statement {
    for_project(PROJECT, name)
}

/// Every project's name.
pub const PROJECTS: &str = "SELECT name FROM projects";

pub(crate) fn projects() -> Statement {
    sqlx::query(PROJECTS)
}

/// Whether the projects have any deployment commit row, and any incident, of their scopes.
pub fn activity(projects: &[String]) -> Statement {
    let of_projects = of_projects(projects.len());
    let sql = format!(
        "SELECT \
         CAST(EXISTS (SELECT 1 FROM project_mapping pm \
           JOIN cicd_deployment_commits c ON c.cicd_scope_id = pm.row_id \
           WHERE {of_projects} \
           AND pm.`table` = 'cicd_scopes' AND CAST(pm.`table` AS BINARY) = 'cicd_scopes') AS SIGNED), \
         CAST(EXISTS (SELECT 1 FROM project_mapping pm \
           JOIN incidents i ON i.`table` = pm.`table` AND i.scope_id = pm.row_id \
           WHERE {of_projects}) AS SIGNED)"
    );
    // Only placeholders are formatted into the text.
    let query = sqlx::query(sqlx::AssertSqlSafe(sql));
    bind_projects(bind_projects(query, projects), projects)
}

/// The projects' successful production deployments that have such a commit row finished at or
/// after `from`: id and latest finish (a deployment is one `cicd_deployment_id` however many of
/// the projects map its CI/CD scope, as DevLake's dashboard groups them). A deployment finishes
/// at its latest such row, so rows before `from` cannot move it into the range; the caller
/// applies the range's end once it has merged the statements a team is split into (a
/// deployment's rows may sit in scopes of two of them).
pub fn prod_deployments(projects: &[String], from_ms: Millis) -> Statement {
    let of_projects = of_projects(projects.len());
    let sql = format!(
        "SELECT c.cicd_deployment_id, \
         TIMESTAMPDIFF(MICROSECOND, '1970-01-01', MAX(c.finished_date)) DIV 1000 \
         FROM cicd_deployment_commits c \
         WHERE c.cicd_scope_id IN (SELECT pm.row_id FROM project_mapping pm \
           WHERE {of_projects} \
           AND pm.`table` = 'cicd_scopes' AND CAST(pm.`table` AS BINARY) = 'cicd_scopes') \
         AND CAST(c.result AS BINARY) = 'SUCCESS' AND CAST(c.environment AS BINARY) = 'PRODUCTION' \
         AND c.finished_date >= ? \
         GROUP BY c.cicd_deployment_id"
    );
    // Only placeholders are formatted into the text.
    bind_projects(sqlx::query(sqlx::AssertSqlSafe(sql)), projects).bind(datetime(from_ms))
}

/// The most deployment ids one [`linked_incidents`] statement binds.
pub const MAX_IDS: usize = 4096;

/// The incidents the dora plugin linked to deployments `ids` (at most [`MAX_IDS`]), under any
/// project name and whatever board they belong to, as DevLake's dashboard finds them: the
/// deployment each is linked to and its resolution. `deployment_id` has no index: one pass over
/// the link table.
pub fn linked_incidents(ids: &[String]) -> Statement {
    let sql = format!(
        "SELECT r.deployment_id, \
         TIMESTAMPDIFF(MICROSECOND, '1970-01-01', i.resolution_date) DIV 1000 \
         FROM project_incident_deployment_relationships r \
         JOIN incidents i ON i.id = r.id \
         WHERE CAST(r.deployment_id AS BINARY) IN ({})",
        marks(ids.len())
    );
    // Only placeholders are formatted into the text.
    bind_list(sqlx::query(sqlx::AssertSqlSafe(sql)), ids)
}

/// The incidents of the projects' boards resolved in the range, with their id (an incident of a
/// board two projects map is one incident) and their own lead time (2021's median time to
/// restore).
pub fn restored_incidents(projects: &[String], from_ms: Millis, to_ms: Millis) -> Statement {
    let of_projects = of_projects(projects.len());
    let sql = format!(
        "SELECT i.id, \
         TIMESTAMPDIFF(MICROSECOND, '1970-01-01', i.resolution_date) DIV 1000, \
         CAST(i.lead_time_minutes AS SIGNED) \
         FROM project_mapping pm \
         JOIN incidents i ON i.`table` = pm.`table` AND i.scope_id = pm.row_id \
         WHERE {of_projects} \
         AND i.resolution_date BETWEEN ? AND ?"
    );
    // Only placeholders are formatted into the text.
    bind_projects(sqlx::query(sqlx::AssertSqlSafe(sql)), projects)
        .bind(datetime(from_ms))
        .bind(datetime(to_ms))
}

/// Merged pull requests of the projects' repositories with the cycle time the dora plugin
/// computed (any project name) and the finish of the deployment commit row it linked them to.
/// The joins run in the order written: the repositories' pull request ids from their index
/// alone, their metrics, the deployment's finish, and only for those deployed in the range the
/// pull request's own row (whether it was merged), so most rows are never read.
pub fn pull_request_changes(projects: &[String], from_ms: Millis, to_ms: Millis) -> Statement {
    let of_projects = of_projects(projects.len());
    let sql = format!(
        "SELECT STRAIGHT_JOIN ids.id, ppm.pr_cycle_time, \
         TIMESTAMPDIFF(MICROSECOND, '1970-01-01', c.finished_date) DIV 1000 \
         FROM project_mapping pm \
         JOIN pull_requests ids ON ids.base_repo_id = pm.row_id \
         JOIN project_pr_metrics ppm ON ppm.id = ids.id \
         JOIN cicd_deployment_commits c ON c.id = ppm.deployment_commit_id \
         JOIN pull_requests p ON p.id = ids.id \
         WHERE {of_projects} \
         AND pm.`table` = 'repos' AND CAST(pm.`table` AS BINARY) = 'repos' \
         AND ppm.pr_cycle_time IS NOT NULL \
         AND c.finished_date BETWEEN ? AND ? \
         AND p.merged_date IS NOT NULL"
    );
    // Only placeholders are formatted into the text.
    bind_projects(sqlx::query(sqlx::AssertSqlSafe(sql)), projects)
        .bind(datetime(from_ms))
        .bind(datetime(to_ms))
}

/// Deployment history: how many finished deployments (`cicd_deployments`) the project's CI/CD
/// scopes have, in every environment.
pub const HISTORY_COUNT_ALL: &str = "SELECT COUNT(*) FROM project_mapping pm \
     JOIN cicd_deployments d ON d.cicd_scope_id = pm.row_id \
     WHERE pm.project_name = ? AND CAST(pm.project_name AS BINARY) = ? \
     AND pm.`table` = 'cicd_scopes' AND CAST(pm.`table` AS BINARY) = 'cicd_scopes' \
     AND d.finished_date IS NOT NULL";
/// As [`HISTORY_COUNT_ALL`], in one or two environments.
pub const HISTORY_COUNT_IN: &str = "SELECT COUNT(*) FROM project_mapping pm \
     JOIN cicd_deployments d ON d.cicd_scope_id = pm.row_id \
     WHERE pm.project_name = ? AND CAST(pm.project_name AS BINARY) = ? \
     AND pm.`table` = 'cicd_scopes' AND CAST(pm.`table` AS BINARY) = 'cicd_scopes' \
     AND d.finished_date IS NOT NULL AND CAST(d.environment AS BINARY) IN (?, ?)";
/// The newest page of the history, in every environment, with the name of each deployment's
/// CI/CD scope (`triggeredBy`).
pub const HISTORY_ALL: &str = "SELECT d.id, d.cicd_scope_id, d.environment, d.result, \
     TIMESTAMPDIFF(MICROSECOND, '1970-01-01', COALESCE(d.started_date, d.created_date, d.finished_date)) DIV 1000 AS started, \
     TIMESTAMPDIFF(MICROSECOND, '1970-01-01', d.finished_date) DIV 1000, d.duration_sec, s.name \
     FROM project_mapping pm \
     JOIN cicd_deployments d ON d.cicd_scope_id = pm.row_id \
     LEFT JOIN cicd_scopes s ON s.id = d.cicd_scope_id \
     WHERE pm.project_name = ? AND CAST(pm.project_name AS BINARY) = ? \
     AND pm.`table` = 'cicd_scopes' AND CAST(pm.`table` AS BINARY) = 'cicd_scopes' \
     AND d.finished_date IS NOT NULL \
     ORDER BY started DESC, CAST(d.id AS BINARY) DESC LIMIT ?";
/// As [`HISTORY_ALL`], in one or two environments.
pub const HISTORY_IN: &str = "SELECT d.id, d.cicd_scope_id, d.environment, d.result, \
     TIMESTAMPDIFF(MICROSECOND, '1970-01-01', COALESCE(d.started_date, d.created_date, d.finished_date)) DIV 1000 AS started, \
     TIMESTAMPDIFF(MICROSECOND, '1970-01-01', d.finished_date) DIV 1000, d.duration_sec, s.name \
     FROM project_mapping pm \
     JOIN cicd_deployments d ON d.cicd_scope_id = pm.row_id \
     LEFT JOIN cicd_scopes s ON s.id = d.cicd_scope_id \
     WHERE pm.project_name = ? AND CAST(pm.project_name AS BINARY) = ? \
     AND pm.`table` = 'cicd_scopes' AND CAST(pm.`table` AS BINARY) = 'cicd_scopes' \
     AND d.finished_date IS NOT NULL AND CAST(d.environment AS BINARY) IN (?, ?) \
     ORDER BY started DESC, CAST(d.id AS BINARY) DESC LIMIT ?";

/// The history's total and newest `limit` rows, in every environment or in one or two.
pub fn history(project: &str, environments: Option<&[&str]>, limit: i64) -> (Statement, Statement) {
    match environments {
        None => (
            for_project(HISTORY_COUNT_ALL, project),
            for_project(HISTORY_ALL, project).bind(limit),
        ),
        Some(envs) => {
            let (first, second) = (envs[0], envs.get(1).copied().unwrap_or(envs[0]));
            let bind = |sql| {
                for_project(sql, project)
                    .bind(first.to_owned())
                    .bind(second.to_owned())
            };
            (bind(HISTORY_COUNT_IN), bind(HISTORY_IN).bind(limit))
        }
    }
}

/// The commit rows of deployments `ids` in scope `scope_id` (through the scope's index:
/// `cicd_deployment_id` has none), with the author from `commits` when DevLake cloned the repo.
pub(crate) fn deployment_commits(scope_id: &str, ids: &[String]) -> Statement {
    let placeholders = marks(ids.len());
    let sql = format!(
        "SELECT c.cicd_deployment_id, c.commit_sha, c.commit_msg, cm.author_name, \
         TIMESTAMPDIFF(MICROSECOND, '1970-01-01', c.finished_date) DIV 1000 \
         FROM cicd_deployment_commits c LEFT JOIN commits cm ON cm.sha = c.commit_sha \
         WHERE c.cicd_scope_id = ? AND c.cicd_deployment_id IN ({placeholders})"
    );
    // Only placeholders are formatted into the text.
    bind_list(
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(scope_id.to_owned()),
        ids,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_are_utc_with_milliseconds() {
        let day = Day::parse("2024-06-01").unwrap();
        assert_eq!(datetime(day.start_ms()), "2024-06-01 00:00:00.000");
        assert_eq!(datetime(day.end_ms()), "2024-06-01 23:59:59.999");
        assert_eq!(
            datetime(day.start_ms() + 13 * 3_600_000 + 5 * 60_000 + 7_042),
            "2024-06-01 13:05:07.042"
        );
    }
}
