//! Deployment history from DevLake: finished `cicd_deployments` of the project's CI/CD scopes,
//! each with its head commit (its latest-finishing commit row).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sqlx::Row;
use sqlx::mysql::MySqlRow;

use super::{DevLakeSource, sql};
use crate::dora::calendar::Millis;
use crate::dora::store::HistoryRow;

impl DevLakeSource {
    /// The project's newest `limit` finished deployments in `environments`, and how many there
    /// are in all.
    pub(super) async fn load_history(
        &self,
        project: &str,
        environments: Option<&[&str]>,
        limit: i64,
    ) -> Result<(i64, Vec<HistoryRow>), sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        let (count, page) = sql::history(project, environments, limit);
        let total: i64 = count.fetch_one(&mut *conn).await?.try_get(0)?;
        let page = page.fetch_all(&mut *conn).await?;
        // The head commit of each deployment: its latest-finishing commit row (ties: the least
        // SHA), read per scope through the scope's index.
        let mut by_scope: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for row in &page {
            let scope: Option<String> = row.try_get(1)?;
            by_scope
                .entry(scope.unwrap_or_default())
                .or_default()
                .push(row.try_get(0)?);
        }
        let mut heads: HashMap<String, Head> = HashMap::new();
        for (scope, ids) in &by_scope {
            let wanted: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
            for row in sql::deployment_commits(scope, ids)
                .fetch_all(&mut *conn)
                .await?
            {
                let head = Head::read(&row)?;
                if !wanted.contains(head.deployment.as_str()) {
                    continue;
                }
                match heads.get(&head.deployment) {
                    Some(best) if !head.beats(best) => {}
                    _ => {
                        heads.insert(head.deployment.clone(), head);
                    }
                }
            }
        }
        let mut rows = Vec::with_capacity(page.len());
        for row in &page {
            let id: String = row.try_get(0)?;
            let started_ms: Millis = row.try_get(4)?;
            let finished_ms: Millis = row.try_get(5)?;
            let duration: Option<f64> = row.try_get(6)?;
            let head = heads.remove(&id);
            rows.push(HistoryRow {
                version: None,
                environment: row.try_get::<Option<String>, _>(2)?.unwrap_or_default(),
                result: row.try_get::<Option<String>, _>(3)?.unwrap_or_default(),
                started_ms,
                finished_ms,
                duration_sec: duration.map_or((finished_ms - started_ms) / 1000, |d| d as i64),
                triggered_by: row.try_get(7)?,
                head_sha: head.as_ref().map(|h| h.sha.clone()).unwrap_or_default(),
                head_message: head.as_ref().and_then(|h| h.message.clone()),
                head_author: head.and_then(|h| h.author),
                id,
            });
        }
        Ok((total, rows))
    }
}

/// A deployment's candidate head commit.
struct Head {
    deployment: String,
    sha: String,
    message: Option<String>,
    author: Option<String>,
    finished_ms: Option<Millis>,
}

impl Head {
    fn read(row: &MySqlRow) -> Result<Head, sqlx::Error> {
        Ok(Head {
            deployment: row.try_get::<Option<String>, _>(0)?.unwrap_or_default(),
            sha: row.try_get(1)?,
            message: row.try_get(2)?,
            author: row.try_get(3)?,
            finished_ms: row.try_get(4)?,
        })
    }

    fn beats(&self, other: &Head) -> bool {
        (self.finished_ms, std::cmp::Reverse(&self.sha))
            > (other.finished_ms, std::cmp::Reverse(&other.sha))
    }
}
