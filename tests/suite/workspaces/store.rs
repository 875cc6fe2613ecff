//! The simulated driver's store: the same contract on SQLite and PostgreSQL.

use fawkes_portal::db::Database;
use fawkes_portal::workspaces::store::{StoredWorkspace, for_database};

fn row(id: &str, owner: &str, name: &str, at: i64) -> StoredWorkspace {
    StoredWorkspace {
        id: id.into(),
        owner: owner.into(),
        namespace: "tester-workspaces".into(),
        name: name.into(),
        devfile_url: "https://example.com/devfile.yaml".into(),
        devfile_name: "py".into(),
        devfile_version: "1.0.0".into(),
        started: true,
        changed_at_ms: at,
        created_at_ms: at,
        last_used_ms: at,
    }
}

async fn names_are_unique_per_namespace_and_lookups_are_per_owner(db: &Database) {
    let store = for_database(db);
    let a = row(
        "workspace-00000000000a",
        "user:default/tester",
        "py-1",
        1_000,
    );
    assert!(store.insert(&a).await.unwrap());
    assert!(
        !store
            .insert(&row(
                "workspace-00000000000b",
                "user:default/jane",
                "py-1",
                2_000
            ))
            .await
            .unwrap()
    );
    let mut elsewhere = row("workspace-00000000000c", "user:default/jane", "py-1", 3_000);
    elsewhere.namespace = "jane-workspaces".into();
    assert!(store.insert(&elsewhere).await.unwrap());
    assert!(
        store
            .insert(&row(
                "workspace-00000000000d",
                "user:default/tester",
                "py-2",
                500
            ))
            .await
            .unwrap()
    );

    let mine = store.list("user:default/tester").await.unwrap();
    let ids: Vec<&str> = mine.iter().map(|w| w.id.as_str()).collect();
    assert_eq!(ids, ["workspace-00000000000d", "workspace-00000000000a"]);
    assert_eq!(mine[1], a);
    assert_eq!(
        store.find("user:default/tester", &a.id).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(store.find("user:default/jane", &a.id).await.unwrap(), None);
    assert!(!store.delete("user:default/jane", &a.id).await.unwrap());
    assert!(
        !store
            .set_started("user:default/jane", &a.id, false, 9_000)
            .await
            .unwrap()
    );
}

async fn start_and_stop_record_their_times(db: &Database) {
    let store = for_database(db);
    let a = row(
        "workspace-00000000000a",
        "user:default/tester",
        "py-1",
        1_000,
    );
    store.insert(&a).await.unwrap();
    assert!(
        store
            .set_started(&a.owner, &a.id, false, 5_000)
            .await
            .unwrap()
    );
    let stopped = store.find(&a.owner, &a.id).await.unwrap().unwrap();
    assert!(!stopped.started);
    assert_eq!(
        (stopped.changed_at_ms, stopped.last_used_ms),
        (5_000, 1_000)
    );
    assert!(
        store
            .set_started(&a.owner, &a.id, true, 7_000)
            .await
            .unwrap()
    );
    let started = store.find(&a.owner, &a.id).await.unwrap().unwrap();
    assert!(started.started);
    assert_eq!(
        (
            started.changed_at_ms,
            started.last_used_ms,
            started.created_at_ms
        ),
        (7_000, 7_000, 1_000)
    );
    assert!(store.delete(&a.owner, &a.id).await.unwrap());
    assert!(store.list(&a.owner).await.unwrap().is_empty());
    // The name is free again.
    assert!(
        store
            .insert(&row(
                "workspace-00000000000e",
                "user:default/tester",
                "py-1",
                8_000
            ))
            .await
            .unwrap()
    );
}

crate::store_contract!(
    names_are_unique_per_namespace_and_lookups_are_per_owner,
    start_and_stop_record_their_times,
);
