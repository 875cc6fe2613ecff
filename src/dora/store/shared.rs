//! The one implementation of [`DoraStore`](super::DoraStore), instantiated per sqlx backend by
//! [`dora_store!`] (`sqlite.rs`, `postgres.rs`): the SQL is in [`sql`](super::sql).

/// Implements [`DoraStore`] for a store type (and its sqlx backend) with a `pool` field and an `ids`
/// field ([`ProjectIds`](super::ProjectIds)).
macro_rules! dora_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// `project`'s id, created on `conn` when new; the caller remembers it once committed.
            async fn project_id_or_create(
                &self,
                conn: &mut <$db as sqlx::Database>::Connection,
                project: &str,
            ) -> Result<i64, $crate::db::StoreError> {
                if let Some(id) = self.ids.get(project) {
                    return Ok(id);
                }
                Ok(sqlx::query_scalar($crate::dora::store::sql::UPSERT_PROJECT)
                    .bind(project)
                    .fetch_one(conn)
                    .await?)
            }

            /// `project`'s id, if anything was ever posted for it.
            async fn existing_project_id(
                &self,
                conn: &mut <$db as sqlx::Database>::Connection,
                project: &str,
            ) -> Result<Option<i64>, $crate::db::StoreError> {
                if let Some(id) = self.ids.get(project) {
                    return Ok(Some(id));
                }
                Ok(sqlx::query_scalar($crate::dora::store::sql::PROJECT_ID)
                    .bind(project)
                    .fetch_optional(conn)
                    .await?)
            }

            /// Saves a deployment in a transaction of several statements (any backend, any
            /// project, any number of commits).
            async fn save_deployment_in_transaction(
                &self,
                project: &str,
                record: &$crate::dora::model::DeploymentRecord,
                now_ms: i64,
            ) -> Result<(), $crate::db::StoreError> {
                use $crate::dora::store::sql::*;
                let mut tx = self.writer.begin().await?;
                let project_id = self.project_id_or_create(&mut tx, project).await?;
                let environment = record.environment.as_str();
                for chunk in record.commits.chunks(COMMITS_PER_INSERT) {
                    let mut insert = sqlx::QueryBuilder::new(INSERT_COMMITS);
                    insert.push_values(chunk, |mut row, c| {
                        row.push_bind(project_id)
                            .push_bind(record.id.as_str())
                            .push_bind(c.repo_url.as_str())
                            .push_bind(c.commit_sha.as_str())
                            .push_bind(c.repo_id.as_deref())
                            .push_bind(c.ref_name.as_deref())
                            .push_bind(c.commit_msg.as_deref())
                            .push_bind(c.name.as_str())
                            .push_bind(c.display_title.as_deref())
                            .push_bind(c.result.as_str())
                            .push_bind(c.status.as_str())
                            .push_bind(environment)
                            .push_bind(c.created_ms)
                            .push_bind(c.started_ms)
                            .push_bind(c.finished_ms)
                            .push_bind(c.author.as_deref())
                            .push_bind(c.authored_ms)
                            .push_bind(i32::from(c.qualifies(environment)));
                    });
                    insert.push(ON_COMMIT_CONFLICT);
                    insert.build().execute(&mut *tx).await?;
                }
                let head = &record.commits[0];
                sqlx::query(UPSERT_DEPLOYMENT)
                    .bind(project_id)
                    .bind(&record.id)
                    .bind(&record.name)
                    .bind(&record.display_title)
                    .bind(&record.result)
                    .bind(&record.environment)
                    .bind(&record.original_environment)
                    .bind(record.created_ms)
                    .bind(record.started_ms)
                    .bind(record.finished_ms)
                    .bind(record.duration_sec)
                    .bind(&record.version)
                    .bind(&record.triggered_by)
                    .bind(&head.commit_sha)
                    .bind(&head.commit_msg)
                    .bind(&head.author)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                self.ids.remember(project, project_id);
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl $crate::dora::store::DoraStore for $store {
            async fn save_deployment(
                &self,
                project: &str,
                record: &$crate::dora::model::DeploymentRecord,
                now_ms: i64,
            ) -> Result<(), $crate::db::StoreError> {
                // Each backend decides how (`sqlite.rs`, `postgres.rs`).
                self.write_deployment(project, record, now_ms).await
            }

            async fn save_incident(
                &self,
                project: &str,
                record: &$crate::dora::model::IncidentRecord,
            ) -> Result<(), $crate::db::StoreError> {
                use $crate::dora::store::sql::*;
                let mut tx = self.writer.begin().await?;
                let project_id = self.project_id_or_create(&mut tx, project).await?;
                sqlx::query(UPSERT_INCIDENT)
                    .bind(project_id)
                    .bind(&record.issue_key)
                    .bind(&record.title)
                    .bind(&record.status)
                    .bind(&record.original_status)
                    .bind(record.created_ms)
                    .bind(record.updated_ms)
                    .bind(record.resolution_ms)
                    .bind(record.lead_time_minutes)
                    .bind(&record.url)
                    .bind(&record.description)
                    .bind(&record.priority)
                    .bind(&record.severity)
                    .bind(&record.component)
                    .bind(&record.assignee_name)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                self.ids.remember(project, project_id);
                Ok(())
            }

            async fn close_incident(
                &self,
                project: &str,
                issue_key: &str,
                now_ms: i64,
            ) -> Result<bool, $crate::db::StoreError> {
                let done = sqlx::query($crate::dora::store::sql::CLOSE_INCIDENT)
                    .bind(project)
                    .bind(issue_key)
                    .bind(now_ms)
                    .execute(&self.writer)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn save_pull_request(
                &self,
                project: &str,
                record: &$crate::dora::model::PullRequestRecord,
            ) -> Result<(), $crate::db::StoreError> {
                use $crate::dora::store::sql::*;
                let mut tx = self.writer.begin().await?;
                let project_id = self.project_id_or_create(&mut tx, project).await?;
                sqlx::query(UPSERT_PULL_REQUEST)
                    .bind(project_id)
                    .bind(&record.id)
                    .bind(&record.title)
                    .bind(record.pull_request_key)
                    .bind(&record.status)
                    .bind(&record.url)
                    .bind(&record.author_name)
                    .bind(record.created_ms)
                    .bind(record.merged_ms)
                    .bind(record.closed_ms)
                    .bind(&record.merge_commit_sha)
                    .bind(record.first_commit_authored_ms)
                    .bind(&record.base_ref)
                    .bind(&record.head_ref)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                self.ids.remember(project, project_id);
                Ok(())
            }

            async fn has_project(&self, project: &str) -> Result<bool, $crate::db::StoreError> {
                if self.ids.get(project).is_some() {
                    return Ok(true);
                }
                let mut conn = self.pool.acquire().await?;
                Ok(self.existing_project_id(&mut conn, project).await?.is_some())
            }

            async fn projects(&self) -> Result<Vec<String>, $crate::db::StoreError> {
                Ok(sqlx::query_scalar($crate::dora::store::sql::ALL_PROJECTS)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn facts(
                &self,
                project: &str,
                window: $crate::dora::metrics::Window,
                restored: bool,
            ) -> Result<$crate::dora::metrics::ProjectFacts, $crate::db::StoreError> {
                use $crate::dora::calendar::Day;
                use $crate::dora::metrics::*;
                use $crate::dora::store::sql::*;
                let mut conn = self.pool.acquire().await?;
                let id = self.existing_project_id(&mut conn, project).await?;
                let Some(id) = id else {
                    return Ok(ProjectFacts::default());
                };
                let range = window.since(&window.previous());
                let (deployed, incident): (i64, i64) = sqlx::query_as(ACTIVITY)
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await?;
                let (has_deployments, has_incidents) = (deployed > 0, incident > 0);
                // Deployment days are whole days: load the range's days in full.
                let days = Window::days(Day::of(range.from_ms), Day::of(range.to_ms));
                let rows: Vec<(String, i64, i64)> = sqlx::query_as(PROD_DEPLOYMENTS)
                    .bind(id)
                    .bind(days.from_ms)
                    .bind(days.to_ms)
                    .fetch_all(&mut *conn)
                    .await?;
                let earliest_row = rows.iter().map(|r| r.2).min();
                let deployments = rows
                    .into_iter()
                    .map(|(id, finished_ms, _)| ProdDeployment { id, finished_ms })
                    .collect();
                let mut incidents = Vec::new();
                // Only incidents created after the earliest commit row of these deployments can
                // be linked to one of them.
                if let Some(earliest) = earliest_row.filter(|_| has_incidents) {
                    let rows: Vec<(Option<i64>, Option<String>)> = sqlx::query_as(LINKED_INCIDENTS)
                        .bind(id)
                        .bind(earliest)
                        .fetch_all(&mut *conn)
                        .await?;
                    incidents = rows
                        .into_iter()
                        .filter_map(|(resolution_ms, deployment)| {
                            Some(LinkedIncident {
                                deployment: deployment?,
                                resolution_ms,
                            })
                        })
                        .collect();
                }
                let mut restored_incidents = Vec::new();
                if restored && has_incidents {
                    let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(RESTORED_INCIDENTS)
                        .bind(id)
                        .bind(range.from_ms)
                        .bind(range.to_ms)
                        .fetch_all(&mut *conn)
                        .await?;
                    restored_incidents = rows
                        .into_iter()
                        .map(|(resolution_ms, lead_time_minutes)| RestoredIncident {
                            resolution_ms,
                            lead_time_minutes,
                        })
                        .collect();
                }
                let rows: Vec<(i64, i64, i64, Option<i64>)> = sqlx::query_as(PULL_REQUEST_CHANGES)
                    .bind(id)
                    .bind(range.from_ms)
                    .bind(range.to_ms)
                    .fetch_all(&mut *conn)
                    .await?;
                let mut changes: Vec<Change> = rows
                    .into_iter()
                    .map(|(finished, created, merged, first_commit)| Change::PullRequest {
                        deployed_ms: finished,
                        minutes: pull_request_cycle_minutes(first_commit, created, merged, finished),
                    })
                    .collect();
                // Deployed commits stand in for pull requests in a window without any.
                let covered = |w: &Window| {
                    changes.iter().any(|c| matches!(c, Change::PullRequest { deployed_ms, .. } if w.contains(*deployed_ms)))
                };
                if !(covered(&window) && covered(&window.previous())) {
                    let rows: Vec<(String, i64, i64)> = sqlx::query_as(COMMIT_CHANGES)
                        .bind(id)
                        .bind(range.from_ms)
                        .bind(range.to_ms)
                        .fetch_all(&mut *conn)
                        .await?;
                    changes.extend(rows.into_iter().filter_map(|(sha, finished, authored)| {
                        Some(Change::Commit {
                            deployed_ms: finished,
                            sha,
                            minutes: $crate::dora::stats::ceil_minutes(authored, finished)?,
                        })
                    }));
                }
                Ok(ProjectFacts {
                    has_deployments,
                    has_incidents,
                    deployments,
                    incidents,
                    restored: restored_incidents,
                    changes,
                })
            }

            async fn history(
                &self,
                project: &str,
                environments: Option<&[&str]>,
                limit: i64,
            ) -> Result<(i64, Vec<$crate::dora::store::HistoryRow>), $crate::db::StoreError> {
                use $crate::dora::store::sql::*;
                let mut conn = self.pool.acquire().await?;
                let id = self.existing_project_id(&mut conn, project).await?;
                let Some(id) = id else {
                    return Ok((0, Vec::new()));
                };
                let (total, rows) = match environments {
                    None => {
                        let total: i64 = sqlx::query_scalar(COUNT_ALL)
                            .bind(id)
                            .fetch_one(&mut *conn)
                            .await?;
                        let rows = sqlx::query_as(HISTORY_ALL)
                            .bind(id)
                            .bind(limit)
                            .fetch_all(&mut *conn)
                            .await?;
                        (total, rows)
                    }
                    Some(envs) => {
                        let (first, second) = (envs[0], envs.get(1).copied().unwrap_or(envs[0]));
                        let total: i64 = sqlx::query_scalar(COUNT_IN)
                            .bind(id)
                            .bind(first)
                            .bind(second)
                            .fetch_one(&mut *conn)
                            .await?;
                        let rows = sqlx::query_as(HISTORY_IN)
                            .bind(id)
                            .bind(first)
                            .bind(second)
                            .bind(limit)
                            .fetch_all(&mut *conn)
                            .await?;
                        (total, rows)
                    }
                };
                Ok((total, rows))
            }
        }
    };
}
pub(crate) use dora_store;
