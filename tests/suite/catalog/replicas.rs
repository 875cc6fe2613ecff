//! Several replicas on one database: each due location is processed by exactly one of them.

use fawkes_portal::app::AppState;
use fawkes_portal::catalog::LocationStatus;
use fawkes_portal::config::Settings;
use fawkes_portal::db::Database;

use super::{WAIT, component};
use crate::support::{TestDb, wait_until};

async fn two_replicas_process_each_due_location_once(db: &Database) {
    let dir = tempfile::TempDir::new().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let mut settings = Settings {
        data_dir: root.join("data").display().to_string(),
        ..Settings::default()
    };
    settings.catalog.file_roots = vec![root.display().to_string()];
    let config = settings.validate().unwrap();
    let a = AppState::new(config.clone(), db.clone()).unwrap();
    let b = AppState::new(config, db.clone()).unwrap();
    let mut ids = Vec::new();
    for i in 0..6 {
        let path = root.join(format!("c{i}.yaml"));
        std::fs::write(&path, component(&format!("svc-{i}"), "team-a")).unwrap();
        let registered = a
            .catalog
            .register("file", &path.display().to_string(), false)
            .await
            .unwrap();
        ids.push(registered.location.id);
    }
    for id in &ids {
        let processed =
            async || a.catalog.location(id).await.unwrap().status != LocationStatus::Processing;
        wait_until(processed, WAIT).await;
    }
    // Made due again through the store, as time passing would.
    let store = fawkes_portal::catalog::store::open(db);
    for round in 0..3 {
        for id in &ids {
            store.schedule_location(id, 0).await.unwrap();
        }
        let (ra, rb) = tokio::join!(a.catalog.refresh_due(), b.catalog.refresh_due());
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert_eq!(
            ra + rb,
            ids.len(),
            "round {round}: a processed {ra}, b {rb}"
        );
        // Nothing is due any more.
        let (ra, rb) = tokio::join!(a.catalog.refresh_due(), b.catalog.refresh_due());
        assert_eq!((ra.unwrap(), rb.unwrap()), (0, 0));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_on_postgres() {
    let Some(test_db) = TestDb::postgres().await else {
        crate::skip_without!("PostgreSQL (FAWKES_TEST_DATABASE_URL)");
    };
    two_replicas_process_each_due_location_once(&test_db.db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_on_sqlite() {
    let test_db = TestDb::sqlite().await;
    two_replicas_process_each_due_location_once(&test_db.db).await;
}
