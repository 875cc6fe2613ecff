//! DevLake's database for tests: a fresh database per test on the MariaDB (or MySQL) server
//! `scripts/test` starts (`FAWKES_TEST_MYSQL_URL`), loaded with DevLake's domain tables
//! (`tests/data/devlake/domain.sql`). A test without the server skips, or fails in CI
//! ([`devlake_db!`]).

use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::{ConnectOptions, Executor};

/// DevLake's domain tables (our DDL; see `tests/data/devlake/SOURCES.md`).
pub const DOMAIN_SQL: &str = include_str!("../../data/devlake/domain.sql");

pub struct DevLakeDb {
    /// A `mysql://` URL of this database, for `[dora.devlake] database_url`.
    pub url: String,
    /// An administrator's pool on this database (to load rows).
    pub pool: MySqlPool,
    name: String,
    server: String,
}

impl DevLakeDb {
    /// A new database with DevLake's domain tables; `None` when no server is configured.
    pub async fn create() -> Option<DevLakeDb> {
        let server = std::env::var("FAWKES_TEST_MYSQL_URL").ok()?;
        let name = format!("devlake_{}", uuid::Uuid::new_v4().simple());
        let admin = MySqlPool::connect(&server)
            .await
            .expect("connect to FAWKES_TEST_MYSQL_URL");
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            )))
            .await
            .unwrap();
        admin.close().await;
        let mut url = url::Url::parse(&server).unwrap();
        url.set_path(&name);
        let url = url.to_string();
        let pool = MySqlPoolOptions::new()
            .max_connections(4)
            .connect(&url)
            .await
            .unwrap();
        let db = DevLakeDb {
            url,
            pool,
            name,
            server,
        };
        db.run_script(DOMAIN_SQL).await;
        Some(db)
    }

    /// Runs `;`-separated statements (no `;` inside them; `--` comments are dropped first).
    pub async fn run_script(&self, script: &str) {
        let mut conn = self.pool.acquire().await.unwrap();
        let code: Vec<&str> = script
            .lines()
            .map(|line| line.split_once("--").map_or(line, |(code, _)| code))
            .collect();
        for statement in code.join("\n").split(';') {
            let text = statement.trim().to_owned();
            if text.is_empty() {
                continue;
            }
            conn.execute(sqlx::AssertSqlSafe(text.clone()))
                .await
                .unwrap_or_else(|e| panic!("{e}: {text}"));
        }
    }

    /// A user that may only read this database; its URL.
    pub async fn reader_url(&self) -> String {
        let user = format!("r{}", &self.name[8..20]);
        self.run_script(&format!(
            "CREATE USER '{user}'@'%' IDENTIFIED BY 'reader-secret'; \
             GRANT SELECT ON `{}`.* TO '{user}'@'%'",
            self.name
        ))
        .await;
        let mut url = url::Url::parse(&self.url).unwrap();
        url.set_username(&user).unwrap();
        url.set_password(Some("reader-secret")).unwrap();
        url.to_string()
    }

    /// Drops the database (and any reader).
    pub async fn drop(self) {
        self.pool.close().await;
        let options: MySqlConnectOptions = self.server.parse().unwrap();
        let mut conn = options.connect().await.unwrap();
        let user = format!("r{}", &self.name[8..20]);
        conn.execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS `{}`",
            self.name
        )))
        .await
        .unwrap();
        conn.execute(sqlx::AssertSqlSafe(format!(
            "DROP USER IF EXISTS '{user}'@'%'"
        )))
        .await
        .unwrap();
    }
}

/// A fresh DevLake database, or skip the test (fail under `FAWKES_TEST_REQUIRE_SERVICES=1`).
#[macro_export]
macro_rules! devlake_db {
    () => {
        match $crate::support::mariadb::DevLakeDb::create().await {
            Some(db) => db,
            None => $crate::skip_without!("MariaDB (FAWKES_TEST_MYSQL_URL)"),
        }
    };
}
