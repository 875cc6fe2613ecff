//! A location whose processing a crash cut short is processed again within one refresh tick of
//! the next start (it waited 15 minutes in `processing`, with no entities, although the restarted
//! server knew that nothing was processing it).

use std::time::{Duration, Instant};

use fawkes_portal::app::App;
use fawkes_portal::catalog::LocationStatus;
use fawkes_portal::catalog::model::{LocationSpec, LocationType};
use fawkes_portal::catalog::refresh::processing_lease;
use fawkes_portal::catalog::service::now_ms;
use fawkes_portal::catalog::store::NewLocation;
use fawkes_portal::config::Settings;
use fawkes_portal::db::Database;
use fawkes_portal::db::lease::instance_id;

use super::Backend;
use crate::catalog::component;

async fn a_location_cut_short_by_a_crash_is_processed_on_the_first_tick(backend: Backend) {
    let dir = tempfile::TempDir::new().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let mut settings = Settings {
        data_dir: root.join("data").display().to_string(),
        ..Settings::default()
    };
    settings.catalog.file_roots = vec![root.display().to_string()];
    backend.apply(&mut settings);
    let config = settings.validate().unwrap();
    // A data directory that lasts between runs keeps the server's name (with PostgreSQL too).
    std::fs::create_dir_all(&config.data_dir).unwrap();

    // What the previous run left: three locations registered (so `processing`), with leases.
    let db = Database::connect(&config.database).await.unwrap();
    db.migrate().await.unwrap();
    let store = fawkes_portal::catalog::store::open(&db);
    let leases = db.leases();
    let this_server = instance_id(&config.data_dir);
    let minute = Duration::from_secs(60);
    for (id, holder, until) in [
        // This server's previous run held it when it was killed.
        ("crashed", format!("{this_server}/previous-run"), now_ms()),
        // Another server held it, and its lease has run out.
        (
            "expired",
            "another-server/its-run".to_owned(),
            now_ms() - 120_000,
        ),
        // Another server is processing it right now.
        ("busy", "busy-server/its-run".to_owned(), now_ms()),
    ] {
        let path = root.join(format!("{id}.yaml"));
        std::fs::write(&path, component(id, "team-a")).unwrap();
        let spec = LocationSpec {
            kind: LocationType::File,
            target: path.display().to_string(),
        };
        let new = NewLocation {
            id: id.into(),
            spec,
            now: now_ms() - 60_000,
        };
        assert!(store.create_location(&new).await.unwrap());
        assert!(
            leases
                .try_acquire(&processing_lease(id), &holder, until, minute)
                .await
                .unwrap()
        );
    }
    db.close().await;

    let started = Instant::now();
    let app = App::build(config).await.unwrap();
    let store = fawkes_portal::catalog::store::open(&app.state().db);
    let store = &store;
    let status =
        |id: &'static str| async move { store.location(id).await.unwrap().unwrap().status };
    while status("crashed").await == LocationStatus::Processing
        || status("expired").await == LocationStatus::Processing
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still processing {:?} after start",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The loop's first tick runs at start; allow for a slow machine, far below 15 minutes.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status("crashed").await, LocationStatus::Ready);
    assert_eq!(status("expired").await, LocationStatus::Ready);
    assert_eq!(
        status("busy").await,
        LocationStatus::Processing,
        "a live lease of another server is left alone"
    );
    app.state().db.close().await;
}

crate::on_both_databases!(a_location_cut_short_by_a_crash_is_processed_on_the_first_tick);
