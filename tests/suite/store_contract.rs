//! Store contract tests: each body runs against SQLite and PostgreSQL (see `store_contract!`).
//! This is the pattern every feature store follows.

use std::time::Duration;

use fawkes_portal::db::Database;

use crate::support::wait_until;

const MINUTE: Duration = Duration::from_secs(60);

async fn a_free_lease_is_taken_and_others_are_refused(db: &Database) {
    let leases = db.leases();
    assert!(
        leases
            .try_acquire("refresh:loc-1", "replica-a", 1_000, MINUTE)
            .await
            .unwrap()
    );
    assert!(
        !leases
            .try_acquire("refresh:loc-1", "replica-b", 2_000, MINUTE)
            .await
            .unwrap()
    );
    let current = leases
        .current("refresh:loc-1", 2_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(current.holder, "replica-a");
    assert_eq!(current.expires_at_ms, 61_000);
    // Other names are independent.
    assert!(
        leases
            .try_acquire("refresh:loc-2", "replica-b", 2_000, MINUTE)
            .await
            .unwrap()
    );
}

async fn the_holder_renews_its_lease(db: &Database) {
    let leases = db.leases();
    assert!(leases.try_acquire("job", "a", 0, MINUTE).await.unwrap());
    assert!(
        leases
            .try_acquire("job", "a", 30_000, MINUTE)
            .await
            .unwrap()
    );
    assert_eq!(
        leases
            .current("job", 30_000)
            .await
            .unwrap()
            .unwrap()
            .expires_at_ms,
        90_000
    );
    // Past the first expiry but within the renewed one, others are still refused.
    assert!(
        !leases
            .try_acquire("job", "b", 70_000, MINUTE)
            .await
            .unwrap()
    );
}

async fn an_expired_lease_passes_to_another_holder(db: &Database) {
    let leases = db.leases();
    assert!(leases.try_acquire("job", "a", 0, MINUTE).await.unwrap());
    assert!(
        leases.current("job", 60_000).await.unwrap().is_none(),
        "expired leases are not current"
    );
    assert!(
        leases
            .try_acquire("job", "b", 60_000, MINUTE)
            .await
            .unwrap()
    );
    assert_eq!(
        leases.current("job", 60_001).await.unwrap().unwrap().holder,
        "b"
    );
}

async fn only_the_holder_releases(db: &Database) {
    let leases = db.leases();
    assert!(leases.try_acquire("job", "a", 0, MINUTE).await.unwrap());
    assert!(!leases.release("job", "b").await.unwrap());
    assert!(!leases.try_acquire("job", "b", 1, MINUTE).await.unwrap());
    assert!(leases.release("job", "a").await.unwrap());
    assert!(leases.current("job", 2).await.unwrap().is_none());
    assert!(leases.try_acquire("job", "b", 2, MINUTE).await.unwrap());
}

async fn concurrent_claims_have_exactly_one_winner(db: &Database) {
    let leases = db.leases();
    let claims = (0..16).map(|i| {
        let leases = leases.clone();
        tokio::spawn(async move {
            leases
                .try_acquire("contended", &format!("replica-{i}"), 5, MINUTE)
                .await
                .unwrap()
        })
    });
    let mut winners = 0;
    for claim in claims {
        winners += usize::from(claim.await.unwrap());
    }
    assert_eq!(winners, 1);
}

crate::store_contract!(
    a_free_lease_is_taken_and_others_are_refused,
    the_holder_renews_its_lease,
    an_expired_lease_passes_to_another_holder,
    only_the_holder_releases,
    concurrent_claims_have_exactly_one_winner,
);

/// SQLite: committed pages reach the database file from the checkpoint task, not from the
/// writer's commits, and the task stops when cancelled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_checkpoints_run_off_the_writer_and_stop_when_cancelled() {
    let dir = tempfile::TempDir::new().unwrap();
    let config = fawkes_portal::config::Config::with_data_dir(dir.path());
    let db = Database::connect(&config.database).await.unwrap();
    db.migrate().await.unwrap();
    let file = dir.path().join("fawkes-portal.db");
    let size = || std::fs::metadata(&file).map_or(0, |m| m.len());
    let before = size();
    let cancel = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn({
        let (db, cancel) = (db.clone(), cancel.clone());
        async move { db.checkpoint_until(cancel).await }
    });
    // The migrations' pages are copied into the database file.
    wait_until(async || size() > before, Duration::from_secs(10)).await;
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .expect("the checkpoint task stops when cancelled")
        .unwrap();
}
