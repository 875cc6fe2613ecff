-- Minimal Apache DevLake domain-layer schema for Fawkes Portal tests and benchmarks (MariaDB 10.11 / MySQL 8).
-- Our own DDL, written from the column lists of DevLake's migration scripts (not DevLake's SQL).
-- Models the schema a fresh DevLake install at apache/incubator-devlake 420e494b (2026-05-05)
-- leaves after its migrations: same column names, types, NULLability, primary keys and the
-- secondary indexes DevLake creates (same index names). Columns no DORA query or
-- deployment-history needs are left out (see SOURCES.md).
-- DevLake's MySQL runs with collation utf8mb4_bin (case-sensitive comparisons), so the tables
-- below set it explicitly.

CREATE TABLE projects (
  name              varchar(255) NOT NULL,
  description       text NULL,
  created_at        datetime(3) NULL,
  updated_at        datetime(3) NULL,
  _raw_data_params  varchar(255) NULL,
  _raw_data_table   varchar(255) NULL,
  _raw_data_id      bigint unsigned NULL,
  _raw_data_remark  longtext NULL,
  PRIMARY KEY (name),
  KEY idx_projects_raw_data_params (_raw_data_params)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- project -> scope rows; `table` is 'cicd_scopes' | 'repos' | 'boards' (and others DORA ignores)
CREATE TABLE project_mapping (
  project_name      varchar(255) NOT NULL,
  `table`           varchar(255) NOT NULL,
  row_id            varchar(255) NOT NULL,
  created_at        datetime(3) NULL,
  updated_at        datetime(3) NULL,
  _raw_data_params  varchar(255) NULL,
  _raw_data_table   varchar(255) NULL,
  _raw_data_id      bigint unsigned NULL,
  _raw_data_remark  longtext NULL,
  PRIMARY KEY (project_name, `table`, row_id),
  KEY idx_project_mapping_raw_data_params (_raw_data_params)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE cicd_scopes (
  id                varchar(255) NOT NULL,
  created_at        datetime(3) NULL,
  updated_at        datetime(3) NULL,
  _raw_data_params  varchar(255) NULL,
  _raw_data_table   varchar(255) NULL,
  _raw_data_id      bigint unsigned NULL,
  _raw_data_remark  longtext NULL,
  name              varchar(255) NULL,
  description       longtext NULL,
  url               varchar(255) NULL,
  created_date      datetime(3) NULL,
  updated_date      datetime(3) NULL,
  PRIMARY KEY (id),
  KEY idx_cicd_scopes_raw_data_params (_raw_data_params)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- one row per deployment (DORA dashboards never read it; deployment-history may)
CREATE TABLE cicd_deployments (
  id                    varchar(255) NOT NULL,
  created_at            datetime(3) NULL,
  updated_at            datetime(3) NULL,
  _raw_data_params      varchar(255) NULL,
  _raw_data_table       varchar(255) NULL,
  _raw_data_id          bigint unsigned NULL,
  _raw_data_remark      longtext NULL,
  cicd_scope_id         varchar(255) NULL,
  result                varchar(100) NULL,
  original_result       varchar(100) NULL,
  status                varchar(100) NULL,
  original_status       varchar(100) NULL,
  environment           varchar(255) NULL,
  original_environment  varchar(255) NULL,
  created_date          datetime(3) NULL,
  queued_date           datetime(3) NULL,
  queued_duration_sec   double NULL,
  started_date          datetime(3) NULL,
  finished_date         datetime(3) NULL,
  duration_sec          double NULL,
  subtask_name          varchar(255) NULL,
  display_title         longtext NULL,
  url                   longtext NULL,
  name                  longtext NULL,   -- varchar(255) before migration 20260217 (DevLake <= v1.0.3-beta)
  PRIMARY KEY (id),
  KEY idx_cicd_deployments_raw_data_params (_raw_data_params),
  KEY idx_cicd_deployments_cicd_scope_id (cicd_scope_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- one row per (deployment, repo, commit): the table every DORA query reads
CREATE TABLE cicd_deployment_commits (
  id                                varchar(255) NOT NULL,
  commit_sha                        varchar(255) NOT NULL,
  created_at                        datetime(3) NULL,
  updated_at                        datetime(3) NULL,
  _raw_data_params                  varchar(255) NULL,
  _raw_data_table                   varchar(255) NULL,
  _raw_data_id                      bigint unsigned NULL,
  _raw_data_remark                  longtext NULL,
  cicd_scope_id                     varchar(255) NULL,
  cicd_deployment_id                varchar(255) NULL,
  name                              varchar(255) NULL,
  result                            varchar(100) NULL,
  original_result                   varchar(100) NULL,
  status                            varchar(100) NULL,
  original_status                   varchar(100) NULL,
  environment                       varchar(255) NULL,
  original_environment              varchar(255) NULL,
  created_date                      datetime(3) NULL,
  queued_date                       datetime(3) NULL,
  queued_duration_sec               double NULL,
  started_date                      datetime(3) NULL,
  finished_date                     datetime(3) NULL,
  duration_sec                      double NULL,
  ref_name                          varchar(255) NULL,
  repo_id                           varchar(255) NULL,
  repo_url                          varchar(500) NULL,  -- NOT NULL varchar(191) until 20240521 re-declared it
  prev_success_deployment_commit_id varchar(255) NULL,
  commit_msg                        longtext NULL,
  subtask_name                      varchar(255) NULL,
  display_title                     longtext NULL,
  url                               longtext NULL,
  PRIMARY KEY (id, commit_sha),
  KEY idx_cicd_deployment_commits_raw_data_params (_raw_data_params),
  KEY idx_cicd_deployment_commits_cicd_scope_id (cicd_scope_id),
  KEY idx_cicd_deployment_commits_repo_url (repo_url)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE repos (
  id                varchar(255) NOT NULL,
  created_at        datetime(3) NULL,
  updated_at        datetime(3) NULL,
  _raw_data_params  varchar(255) NULL,
  _raw_data_table   varchar(255) NULL,
  _raw_data_id      bigint unsigned NULL,
  _raw_data_remark  longtext NULL,
  name              longtext NULL,
  url               longtext NULL,
  PRIMARY KEY (id),
  KEY idx_repos_raw_data_params (_raw_data_params)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- reduced: only what lead time / drill-down read
CREATE TABLE pull_requests (
  id                varchar(255) NOT NULL,
  created_at        datetime(3) NULL,
  updated_at        datetime(3) NULL,
  _raw_data_params  varchar(255) NULL,
  _raw_data_table   varchar(255) NULL,
  _raw_data_id      bigint unsigned NULL,
  _raw_data_remark  longtext NULL,
  base_repo_id      varchar(191) NULL,
  head_repo_id      varchar(191) NULL,
  status            varchar(100) NULL,
  title             longtext NULL,
  url               varchar(255) NULL,
  author_name       varchar(100) NULL,
  author_id         varchar(100) NULL,
  parent_pr_id      varchar(100) NULL,
  pull_request_key  bigint NULL,
  created_date      datetime(3) NULL,
  merged_date       datetime(3) NULL,
  closed_date       datetime(3) NULL,
  merge_commit_sha  varchar(40) NULL,
  PRIMARY KEY (id),
  KEY idx_pull_requests_raw_data_params (_raw_data_params),
  KEY idx_pull_requests_base_repo_id (base_repo_id),
  KEY idx_pull_requests_head_repo_id (head_repo_id),
  KEY idx_pull_requests_parent_pr_id (parent_pr_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- filled by the dora plugin (calculateChangeLeadTime); durations in whole minutes
CREATE TABLE project_pr_metrics (
  id                          varchar(255) NOT NULL,   -- = pull_requests.id
  project_name                varchar(100) NOT NULL,
  created_at                  datetime(3) NULL,
  updated_at                  datetime(3) NULL,
  _raw_data_params            varchar(255) NULL,
  _raw_data_table             varchar(255) NULL,
  _raw_data_id                bigint unsigned NULL,
  _raw_data_remark            longtext NULL,
  first_commit_sha            longtext NULL,
  pr_coding_time              bigint NULL,
  first_review_id             longtext NULL,
  pr_pickup_time              bigint NULL,
  pr_review_time              bigint NULL,
  deployment_commit_id        longtext NULL,           -- = cicd_deployment_commits.id
  pr_deploy_time              bigint NULL,
  pr_cycle_time               bigint NULL,
  first_commit_authored_date  datetime(3) NULL,
  pr_created_date             datetime(3) NULL,
  first_comment_date          datetime(3) NULL,
  pr_merged_date              datetime(3) NULL,
  pr_deployed_date            datetime(3) NULL,
  PRIMARY KEY (id, project_name),
  KEY idx_project_pr_metrics_raw_data_params (_raw_data_params)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE boards (
  id                varchar(255) NOT NULL,
  created_at        datetime(3) NULL,
  updated_at        datetime(3) NULL,
  _raw_data_params  varchar(255) NULL,
  _raw_data_table   varchar(255) NULL,
  _raw_data_id      bigint unsigned NULL,
  _raw_data_remark  longtext NULL,
  name              varchar(255) NULL,
  description       longtext NULL,
  url               varchar(255) NULL,
  created_date      datetime(3) NULL,
  type              varchar(255) NULL,
  PRIMARY KEY (id),
  KEY idx_boards_raw_data_params (_raw_data_params)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE board_issues (
  board_id          varchar(255) NOT NULL,
  issue_id          varchar(255) NOT NULL,
  created_at        datetime(3) NULL,
  updated_at        datetime(3) NULL,
  _raw_data_params  varchar(255) NULL,
  _raw_data_table   varchar(255) NULL,
  _raw_data_id      bigint unsigned NULL,
  _raw_data_remark  longtext NULL,
  PRIMARY KEY (board_id, issue_id),
  KEY idx_board_issues_raw_data_params (_raw_data_params)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- reduced: the columns incidents are built from
CREATE TABLE issues (
  id                varchar(255) NOT NULL,
  created_at        datetime(3) NULL,
  updated_at        datetime(3) NULL,
  _raw_data_params  varchar(255) NULL,
  _raw_data_table   varchar(255) NULL,
  _raw_data_id      bigint unsigned NULL,
  _raw_data_remark  longtext NULL,
  url               varchar(255) NULL,
  issue_key         varchar(255) NULL,
  title             longtext NULL,
  type              varchar(100) NULL,
  original_type     varchar(500) NULL,
  status            varchar(100) NULL,
  original_status   varchar(100) NULL,
  resolution_date   datetime(3) NULL,
  created_date      datetime(3) NULL,
  updated_date      datetime(3) NULL,
  lead_time_minutes bigint NULL,        -- signed: 20240116 re-declared it after 20240115 made it unsigned
  severity          varchar(255) NULL,
  priority          varchar(255) NULL,
  component         varchar(255) NULL,
  PRIMARY KEY (id),
  KEY idx_issues_raw_data_params (_raw_data_params)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- what the DORA dashboards read for incidents (since 2024-08)
CREATE TABLE incidents (
  id                        varchar(255) NOT NULL,   -- same id as the issue it came from
  created_at                datetime(3) NULL,
  updated_at                datetime(3) NULL,
  _raw_data_params          varchar(255) NULL,
  _raw_data_table           varchar(255) NULL,
  _raw_data_id              bigint unsigned NULL,
  _raw_data_remark          longtext NULL,
  url                       varchar(255) NULL,
  incident_key              varchar(255) NULL,
  title                     longtext NULL,
  description               longtext NULL,
  status                    varchar(100) NULL,
  original_status           varchar(100) NULL,
  resolution_date           datetime(3) NULL,
  created_date              datetime(3) NULL,
  updated_date              datetime(3) NULL,
  lead_time_minutes         bigint unsigned NULL,
  original_estimate_minutes bigint NULL,
  time_spent_minutes        bigint NULL,
  time_remaining_minutes    bigint NULL,
  creator_id                varchar(255) NULL,
  creator_name              varchar(255) NULL,
  parent_incident_id        varchar(255) NULL,
  priority                  varchar(255) NULL,
  severity                  varchar(255) NULL,
  urgency                   varchar(255) NULL,
  component                 varchar(255) NULL,
  original_project          varchar(255) NULL,
  `table`                   varchar(255) NULL,       -- 'boards' for issue-derived incidents
  scope_id                  varchar(255) NULL,       -- the board id
  assignee_id               varchar(255) NULL,
  assignee_name             varchar(255) NULL,
  PRIMARY KEY (id),
  KEY idx_incidents_raw_data_params (_raw_data_params),
  KEY idx_table_scope_id (`table`, scope_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- filled by the dora plugin (connectIncidentToDeployment); was project_issue_metrics until 2024-06,
-- hence the old index name
CREATE TABLE project_incident_deployment_relationships (
  id                varchar(255) NOT NULL,   -- = incidents.id
  project_name      varchar(100) NOT NULL,
  created_at        datetime(3) NULL,
  updated_at        datetime(3) NULL,
  _raw_data_params  varchar(255) NULL,
  _raw_data_table   varchar(255) NULL,
  _raw_data_id      bigint unsigned NULL,
  _raw_data_remark  longtext NULL,
  deployment_id     longtext NULL,           -- = cicd_deployment_commits.cicd_deployment_id
  PRIMARY KEY (id, project_name),
  KEY idx_project_issue_metrics_raw_data_params (_raw_data_params)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- optional: commit authored dates (only if a git extractor filled it)
CREATE TABLE commits (
  sha               varchar(40) NOT NULL,
  created_at        datetime(3) NULL,
  updated_at        datetime(3) NULL,
  _raw_data_params  varchar(255) NULL,
  _raw_data_table   varchar(255) NULL,
  _raw_data_id      bigint unsigned NULL,
  _raw_data_remark  longtext NULL,
  message           longtext NULL,
  author_name       varchar(255) NULL,
  author_email      varchar(255) NULL,
  authored_date     datetime(3) NULL,
  author_id         varchar(255) NULL,
  committer_id      varchar(255) NULL,
  PRIMARY KEY (sha),
  KEY idx_commits_raw_data_params (_raw_data_params),
  KEY idx_commits_committer_id (committer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- seeded by the dora plugin's migration 20240223 (rows below: our transcription of its values)
CREATE TABLE dora_benchmarks (
  id           bigint unsigned NOT NULL AUTO_INCREMENT,
  created_at   datetime(3) NULL,
  updated_at   datetime(3) NULL,
  metric       varchar(255) NULL,
  low          varchar(255) NULL,
  medium       varchar(255) NULL,
  high         varchar(255) NULL,
  elite        varchar(255) NULL,
  dora_report  varchar(20) NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT INTO dora_benchmarks (id, metric, low, medium, high, elite, dora_report) VALUES
 (1, 'Deployment frequency', 'Fewer than once per six months(low)', 'Between once per month and once every 6 months(medium)', 'Between once per day and once per month(high)', 'On-demand(elite)', '2021'),
 (2, 'Lead time for changes', 'More than six months(low)', 'Between one week and six months(medium)', 'Less than one week(high)', 'Less than one hour(elite)', '2021'),
 (3, 'Change failure rate', '> 30%(low)', '21%-30%(medium)', '16%-20%(high)', '0-15%(elite)', '2021'),
 (4, 'Time to restore service', 'More than one week(low)', 'Between one day and one week(medium)', 'Less than one day(high)', 'Less than one hour(elite)', '2021'),
 (5, 'Deployment frequency', 'Fewer than once per month(low)', 'Between once per week and once per month(medium)', 'Between once per day and once per week(high)', 'On-demand(elite)', '2023'),
 (6, 'Lead time for changes', 'More than one month(low)', 'Between one week and one month(medium)', 'Between one day and one week(high)', 'Less than one day(elite)', '2023'),
 (7, 'Change failure rate', '> 15%(low)', '10%-15%(medium)', '5%-10%(high)', '0-5%(elite)', '2023'),
 (8, 'Failed deployment recovery time', 'More than one week(low)', 'Between one day and one week(medium)', 'Less than one day(high)', 'Less than one hour(elite)', '2023');
