//! The threat model in one place: each module attacks the server the way an outsider or an
//! ordinary signed-in user would (issue #12), and checks the control that stops it. The threats,
//! controls and settings are listed in `docs/SECURITY.md`. Attacks that reach storage run on
//! SQLite and on PostgreSQL ([`on_both_databases!`]).

mod connections;
mod database;
mod files;
mod locations;
mod queries;
mod quota;
mod rate_limits;
mod recovery;
mod slowloris;
mod tokens;

use fawkes_portal::config::Settings;

use crate::support::TestDb;

/// Where an attacked app keeps its data: SQLite in its data directory, or a fresh PostgreSQL
/// database (dropped after the test).
pub enum Backend {
    Sqlite,
    Postgres(TestDb),
}

impl Backend {
    /// Points `settings` at this backend.
    pub fn apply(&self, settings: &mut Settings) {
        if let Backend::Postgres(db) = self {
            settings.database.url = db.url.clone().expect("a PostgreSQL test database");
        }
    }

    /// A settings edit pointing at this backend, then applying `edit`.
    pub fn with(&self, edit: impl FnOnce(&mut Settings)) -> impl FnOnce(&mut Settings) {
        let url = match self {
            Backend::Postgres(db) => db.url.clone(),
            Backend::Sqlite => None,
        };
        move |settings| {
            if let Some(url) = url {
                settings.database.url = url;
            }
            edit(settings);
        }
    }
}

/// Runs each named `async fn(Backend)` as two tests, `sqlite::<name>` and `postgres::<name>`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::attacks::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::support::TestDb::postgres().await else {
                        $crate::skip_without!("PostgreSQL (FAWKES_TEST_DATABASE_URL)");
                    };
                    super::$name($crate::attacks::Backend::Postgres(db)).await;
                }
            )*
        }
    };
}
