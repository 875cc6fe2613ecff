//! The catalog store contract, on SQLite and PostgreSQL.

use fawkes_portal::catalog::filter::Filter;
use fawkes_portal::catalog::model::{LocationSpec, LocationStatus, LocationType};
use fawkes_portal::catalog::relations::relations_of;
use fawkes_portal::catalog::stitch::processed_hash;
use fawkes_portal::catalog::store::{
    self, DefaultOrder, LocationResult, NewLocation, ProcessedEntity, RowQuery,
};
use fawkes_portal::db::Database;
use serde_json::{Value, json};

fn entity(kind: &str, name: &str, spec: Value) -> ProcessedEntity {
    let value = json!({"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": {"name": name, "namespace": "default"}, "spec": spec});
    let processed = value.to_string();
    ProcessedEntity {
        entity_ref: format!("{}:default/{name}", kind.to_lowercase()),
        hash: processed_hash(&processed),
        relations: relations_of(value.as_object().unwrap()).unwrap(),
        processed,
    }
}

async fn location(store: &dyn store::CatalogStore, id: &str) {
    let spec = LocationSpec {
        kind: LocationType::File,
        target: format!("/x/{id}.yaml"),
    };
    assert!(
        store
            .create_location(&NewLocation {
                id: id.into(),
                spec: spec.clone(),
                now: 1
            })
            .await
            .unwrap()
    );
    assert!(
        !store
            .create_location(&NewLocation {
                id: format!("{id}-again"),
                spec,
                now: 2
            })
            .await
            .unwrap(),
        "same type and target"
    );
}

fn names(rows: &[store::EntityRow]) -> Vec<String> {
    rows.iter()
        .map(|r| {
            serde_json::from_str::<Value>(&r.body).unwrap()["metadata"]["name"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

async fn replacing_inserts_updates_removes_and_reports_conflicts(db: &Database) {
    let store = store::open(db);
    location(&*store, "l1").await;
    location(&*store, "l2").await;
    let first = store
        .replace_entities(
            "l1",
            vec![
                entity("Component", "a", json!({"owner": "g"})),
                entity("Group", "g", json!({})),
            ],
        )
        .await
        .unwrap();
    assert_eq!((first.inserted, first.updated, first.removed), (2, 0, 0));
    let group = store.by_refs(&["group:default/g".into()]).await.unwrap();
    let group: Value = serde_json::from_str(&group[0].1).unwrap();
    assert_eq!(
        group["relations"],
        json!([{"type": "ownerOf", "targetRef": "component:default/a"}])
    );
    let same = store
        .replace_entities(
            "l1",
            vec![
                entity("Component", "a", json!({"owner": "g"})),
                entity("Group", "g", json!({})),
            ],
        )
        .await
        .unwrap();
    assert_eq!((same.inserted, same.updated, same.removed), (0, 0, 0));
    let conflict = store
        .replace_entities("l2", vec![entity("Component", "a", json!({}))])
        .await
        .unwrap();
    assert_eq!(
        conflict.conflicts,
        vec![("component:default/a".to_owned(), "/x/l1.yaml".to_owned())]
    );
    let changed = store
        .replace_entities("l1", vec![entity("Group", "g", json!({"type": "team"}))])
        .await
        .unwrap();
    assert_eq!(
        (changed.inserted, changed.updated, changed.removed),
        (0, 1, 1)
    );
    let group: Value =
        serde_json::from_str(&store.by_refs(&["group:default/g".into()]).await.unwrap()[0].1)
            .unwrap();
    assert_eq!(
        group["relations"],
        json!([]),
        "the reverse edge left with its originator"
    );
    assert_eq!(
        store
            .owner_location("group:default/g")
            .await
            .unwrap()
            .as_deref(),
        Some("l1")
    );
    assert!(store.delete_location("l1").await.unwrap());
    assert!(!store.delete_location("l1").await.unwrap());
    assert!(
        store
            .by_refs(&["group:default/g".into()])
            .await
            .unwrap()
            .is_empty()
    );
}

/// Names of the entities `filter` matches, by entity ref.
async fn matching(store: &dyn store::CatalogStore, filter: &str) -> Vec<String> {
    let query = RowQuery::new(Filter::parse(&[filter.into()]).unwrap());
    names(&store.query(&query).await.unwrap())
}

/// No entity has a value for `key`: no search row outlives its entity.
async fn assert_no_facet(store: &dyn store::CatalogStore, key: &str) {
    let facet = store.facet(key, &Filter::default()).await.unwrap();
    assert!(facet.is_empty(), "{key}: {facet:?}");
}

async fn relations_follow_changes_across_locations(db: &Database) {
    let store = store::open(db);
    location(&*store, "teams").await;
    location(&*store, "apps").await;
    let group = |kind: &str| entity("Group", "g", json!({"type": kind, "children": []}));
    store
        .replace_entities("teams", vec![group("team")])
        .await
        .unwrap();
    store
        .replace_entities(
            "apps",
            vec![entity(
                "Component",
                "a",
                json!({"owner": "g", "type": "service"}),
            )],
        )
        .await
        .unwrap();
    let served = |body: &str| serde_json::from_str::<Value>(body).unwrap()["relations"].clone();
    let owner_of = json!([{"type": "ownerOf", "targetRef": "component:default/a"}]);
    let g = store.by_refs(&["group:default/g".into()]).await.unwrap();
    assert_eq!(
        served(&g[0].1),
        owner_of,
        "a peer in another location gains the edge"
    );
    // The group changes: it is stored again with the edge the component keeps in the database.
    let changed = store
        .replace_entities("teams", vec![group("department")])
        .await
        .unwrap();
    assert_eq!((changed.inserted, changed.updated), (0, 1));
    let g = store.by_refs(&["group:default/g".into()]).await.unwrap();
    assert_eq!(served(&g[0].1), owner_of);
    assert_eq!(
        matching(&*store, "relations.ownerof=component:default/a").await,
        ["g"]
    );
    assert_eq!(matching(&*store, "spec.type=department").await, ["g"]);
    assert!(
        matching(&*store, "spec.type=team").await.is_empty(),
        "old search rows are gone"
    );
    // The component goes: the edge leaves the group, and no search row outlives its entity.
    store.replace_entities("apps", vec![]).await.unwrap();
    let g = store.by_refs(&["group:default/g".into()]).await.unwrap();
    assert_eq!(served(&g[0].1), json!([]));
    assert!(
        matching(&*store, "relations.ownerof=component:default/a")
            .await
            .is_empty()
    );
    assert_no_facet(&*store, "relations.ownerOf").await;
    assert_no_facet(&*store, "spec.owner").await;
    let uid = store
        .query(&RowQuery::new(Filter::default()))
        .await
        .unwrap()[0]
        .uid
        .clone();
    store.delete_entity(&uid).await.unwrap();
    assert_no_facet(&*store, "kind").await;
    store
        .replace_entities("teams", vec![group("team")])
        .await
        .unwrap();
    assert!(store.delete_location("teams").await.unwrap());
    assert_no_facet(&*store, "kind").await;
}

async fn queries_filter_order_page_and_count(db: &Database) {
    let store = store::open(db);
    location(&*store, "l").await;
    let entities: Vec<ProcessedEntity> = (0..7)
        .map(|i| {
            entity(
                "Component",
                &format!("c{i}"),
                json!({"type": if i % 2 == 0 { "even" } else { "odd" }}),
            )
        })
        .collect();
    store.replace_entities("l", entities.clone()).await.unwrap();
    let mut query = RowQuery::new(Filter::parse(&["spec.type=EVEN".into()]).unwrap());
    assert_eq!(store.count(&query).await.unwrap(), 4);
    query.order = vec![("metadata.name".into(), true)];
    assert_eq!(
        names(&store.query(&query).await.unwrap()),
        ["c6", "c4", "c2", "c0"]
    );
    query.limit = Some(2);
    let page = store.query(&query).await.unwrap();
    query.after = Some((page[1].sort_value.clone(), page[1].uid.clone()));
    let second = store.query(&query).await.unwrap();
    assert_eq!(names(&second), ["c2", "c0"]);
    // Backwards from the second page's first row: the first page, nearest first.
    query.after = Some((second[0].sort_value.clone(), second[0].uid.clone()));
    query.backwards = true;
    assert_eq!(names(&store.query(&query).await.unwrap()), ["c4", "c6"]);
    query.backwards = false;
    let mut all = RowQuery::new(Filter::default());
    all.default_order = DefaultOrder::EntityRef;
    all.offset = 5;
    assert_eq!(names(&store.query(&all).await.unwrap()), ["c5", "c6"]);
    all.offset = 0;
    all.full_text = Some(("3".into(), vec!["metadata.name".into()]));
    assert_eq!(names(&store.query(&all).await.unwrap()), ["c3"]);
    let facet = store.facet("spec.type", &Filter::default()).await.unwrap();
    assert_eq!(facet, vec![("even".to_owned(), 4), ("odd".to_owned(), 3)]);
    // Walking the matches by uid, two at a time: the same pages whether every match is looked up
    // or the uid index is walked (the plan once a filter is known to match many entities).
    let looked_up = uid_pages(&*store, "spec.type=even", false).await;
    assert_eq!(looked_up.len(), 2);
    assert_eq!(uid_pages(&*store, "spec.type=even", true).await, looked_up);
    let mut even: Vec<String> = looked_up.concat();
    even.sort();
    assert_eq!(even, ["c0", "c2", "c4", "c6"]);
    assert_eq!(
        uid_pages(&*store, "spec.type=odd,kind=component", true).await,
        uid_pages(&*store, "spec.type=odd,kind=component", false).await
    );
}

/// The names on each page of `filter`'s matches in uid order, pages of two, by keyset.
async fn uid_pages(
    store: &dyn store::CatalogStore,
    filter: &str,
    many_matches: bool,
) -> Vec<Vec<String>> {
    let mut query = RowQuery::new(Filter::parse(&[filter.into()]).unwrap());
    query.default_order = DefaultOrder::Uid;
    query.limit = Some(2);
    query.many_matches = many_matches;
    let mut pages = Vec::new();
    loop {
        let page = store.query(&query).await.unwrap();
        let Some(last) = page.last() else {
            return pages;
        };
        query.after = Some((last.sort_value.clone(), last.uid.clone()));
        pages.push(names(&page));
    }
}

async fn locations_keep_status_errors_and_validators(db: &Database) {
    let store = store::open(db);
    location(&*store, "l").await;
    let mut validators = fawkes_portal::catalog::read::Validators::new();
    validators.insert(
        "file:/x/l.yaml".into(),
        fawkes_portal::catalog::read::FileValidators {
            etag: Some("\"e\"".into()),
            last_modified: None,
        },
    );
    let result = LocationResult {
        status: LocationStatus::Ready,
        errors: vec!["oops".into()],
        validators: Some(validators.clone()),
        refreshed_at: 10,
        next_refresh_at: 20,
    };
    store.finish_location("l", &result).await.unwrap();
    let l = store.location("l").await.unwrap().unwrap();
    assert_eq!(
        (l.status, l.errors.clone(), l.last_refreshed_at),
        (LocationStatus::Ready, vec!["oops".to_owned()], Some(10))
    );
    assert_eq!(store.location_validators("l").await.unwrap(), validators);
    assert!(store.due_locations(19, 10).await.unwrap().is_empty());
    assert_eq!(store.due_locations(20, 10).await.unwrap().len(), 1);
    store
        .finish_location(
            "l",
            &LocationResult {
                validators: None,
                ..result
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store.location_validators("l").await.unwrap(),
        validators,
        "None keeps the stored validators"
    );
    assert_eq!(store.locations().await.unwrap().len(), 1);
    // Processing again (an entity deleted by uid, onConflict=refresh): due now, every file read
    // again, the status and errors kept until that processing ends.
    store.reprocess_location("l", 15).await.unwrap();
    assert!(store.location_validators("l").await.unwrap().is_empty());
    assert_eq!(store.due_locations(15, 10).await.unwrap().len(), 1);
    let l = store.location("l").await.unwrap().unwrap();
    assert_eq!(
        (l.status, l.errors.clone()),
        (LocationStatus::Ready, vec!["oops".to_owned()])
    );
    // Moving a location: to a free target (validators forgotten), onto a taken one, or nowhere.
    location(&*store, "other").await;
    let spec = |target: &str| LocationSpec {
        kind: LocationType::Url,
        target: target.into(),
    };
    let moved = spec("https://example.com/c.yaml");
    assert_eq!(
        store.update_location("l", &moved, 30).await.unwrap(),
        Some(true)
    );
    let l = store.location("l").await.unwrap().unwrap();
    assert_eq!((l.spec, l.status), (moved, LocationStatus::Processing));
    assert!(store.location_validators("l").await.unwrap().is_empty());
    let taken = LocationSpec {
        kind: LocationType::File,
        target: "/x/other.yaml".into(),
    };
    assert_eq!(
        store.update_location("l", &taken, 31).await.unwrap(),
        Some(false)
    );
    assert_eq!(
        store
            .update_location("nope", &spec("https://e.com/x"), 32)
            .await
            .unwrap(),
        None
    );
}

/// Counts follow every change at once (SQLite keeps recent counts until the catalog changes).
async fn counts_follow_every_change(db: &Database) {
    let store = store::open(db);
    location(&*store, "l").await;
    let even = |n: usize| -> Vec<ProcessedEntity> {
        (0..n)
            .map(|i| entity("Component", &format!("c{i}"), json!({"type": "even"})))
            .collect()
    };
    let query = RowQuery::new(Filter::parse(&["spec.type=even".into()]).unwrap());
    store.replace_entities("l", even(3)).await.unwrap();
    assert_eq!(store.count(&query).await.unwrap(), 3);
    assert_eq!(store.count(&query).await.unwrap(), 3);
    store.replace_entities("l", even(5)).await.unwrap();
    assert_eq!(store.count(&query).await.unwrap(), 5);
    let uid = store.query(&query).await.unwrap()[0].uid.clone();
    store.delete_entity(&uid).await.unwrap();
    assert_eq!(store.count(&query).await.unwrap(), 4);
    assert!(store.delete_location("l").await.unwrap());
    assert_eq!(store.count(&query).await.unwrap(), 0);
}

/// Catalog rows as the catalog wrote them before migration 0006, when search and relation rows
/// named their entity by uid.
const ROWS_BEFORE_ENTITY_IDS: &[&str] = &[
    "INSERT INTO catalog_locations (id, type, target, status, created_at, next_refresh_at) \
     VALUES ('l', 'file', '/x/l.yaml', 'ready', 1, 1)",
    r#"INSERT INTO catalog_entities (uid, entity_ref, location_id, processed_hash, processed, body, etag) VALUES
     ('u-a', 'component:default/svc-a', 'l', 'h-a',
      '{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"Svc-A","namespace":"default"},"spec":{"owner":"team-b"}}',
      '{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"etag":"e-a","name":"Svc-A","namespace":"default","uid":"u-a"},"relations":[{"targetRef":"group:default/team-b","type":"ownedBy"}],"spec":{"owner":"team-b"}}',
      'e-a'),
     ('u-b', 'group:default/team-b', 'l', 'h-b',
      '{"apiVersion":"backstage.io/v1alpha1","kind":"Group","metadata":{"name":"team-b","namespace":"default"},"spec":{"type":"team","children":[]}}',
      '{"apiVersion":"backstage.io/v1alpha1","kind":"Group","metadata":{"etag":"e-b","name":"team-b","namespace":"default","uid":"u-b"},"relations":[{"targetRef":"component:default/svc-a","type":"ownerOf"}],"spec":{"children":[],"type":"team"}}',
      'e-b')"#,
    "INSERT INTO catalog_relations (originator_uid, source_ref, type, target_ref) VALUES \
     ('u-a', 'component:default/svc-a', 'ownedBy', 'group:default/team-b'), \
     ('u-a', 'group:default/team-b', 'ownerOf', 'component:default/svc-a')",
    "INSERT INTO catalog_search (entity_uid, key, value, original_value) VALUES \
     ('u-a', 'kind', 'component', 'Component'), ('u-a', 'metadata.name', 'svc-a', 'Svc-A'), \
     ('u-a', 'spec.owner', 'team-b', 'team-b'), \
     ('u-a', 'relations.ownedby', 'group:default/team-b', 'group:default/team-b'), \
     ('u-b', 'kind', 'group', 'Group'), ('u-b', 'metadata.name', 'team-b', 'team-b'), \
     ('u-b', 'relations.ownerof', 'component:default/svc-a', 'component:default/svc-a')",
];

/// Migration 0006 (integer entity ids in search and relation rows) keeps every entity, search
/// row and relation of a database written before it, and the catalog goes on working on them.
async fn the_entity_id_migration_keeps_every_row(db: &Database) {
    for statement in ROWS_BEFORE_ENTITY_IDS {
        match db {
            Database::Sqlite { writer, .. } => {
                sqlx::query(*statement).execute(writer).await.unwrap();
            }
            Database::Postgres(pool) => {
                sqlx::query(*statement).execute(pool).await.unwrap();
            }
        }
    }
    db.migrate().await.unwrap();
    let kept_originals = "SELECT COUNT(*) FROM catalog_search WHERE original_value IS NOT NULL";
    let kept_originals: i64 = match db {
        Database::Sqlite { writer, .. } => {
            sqlx::query_scalar(kept_originals).fetch_one(writer).await
        }
        Database::Postgres(pool) => sqlx::query_scalar(kept_originals).fetch_one(pool).await,
    }
    .unwrap();
    assert_eq!(
        kept_originals, 3,
        "only Svc-A, Component and Group differ from their lower case"
    );
    let store = store::open(db);
    assert_eq!(matching(&*store, "metadata.name=svc-a").await, ["Svc-A"]);
    assert_eq!(
        matching(&*store, "kind=group,spec.owner").await,
        Vec::<String>::new()
    );
    assert_eq!(
        matching(&*store, "relations.ownerof=component:default/svc-a").await,
        ["team-b"]
    );
    let facet = store
        .facet("metadata.name", &Filter::default())
        .await
        .unwrap();
    assert_eq!(facet, [("Svc-A".to_owned(), 1), ("team-b".to_owned(), 1)]);
    let kinds = store.facet("kind", &Filter::default()).await.unwrap();
    assert_eq!(
        kinds,
        [("Component".to_owned(), 1), ("Group".to_owned(), 1)]
    );
    // New entities get ids of their own, and relations reach the migrated ones.
    location(&*store, "apps").await;
    let inserted = store
        .replace_entities(
            "apps",
            vec![entity("Component", "c", json!({"owner": "team-b"}))],
        )
        .await
        .unwrap();
    assert_eq!(inserted.inserted, 1);
    let mut owned = matching(&*store, "relations.ownerof").await;
    owned.sort();
    assert_eq!(owned, ["team-b"]);
    let team = store
        .by_refs(&["group:default/team-b".into()])
        .await
        .unwrap();
    let team: Value = serde_json::from_str(&team[0].1).unwrap();
    assert_eq!(
        team["relations"],
        json!([
            {"type": "ownerOf", "targetRef": "component:default/c"},
            {"type": "ownerOf", "targetRef": "component:default/svc-a"}
        ])
    );
    // Deleting a migrated entity takes its rows and the edges it gave others with it.
    store.delete_entity("u-a").await.unwrap();
    assert!(matching(&*store, "metadata.name=svc-a").await.is_empty());
    assert_eq!(
        matching(&*store, "relations.ownerof=component:default/c").await,
        ["team-b"]
    );
    assert!(
        matching(&*store, "relations.ownerof=component:default/svc-a")
            .await
            .is_empty()
    );
    assert!(store.delete_location("l").await.unwrap());
    let kinds = store.facet("kind", &Filter::default()).await.unwrap();
    assert_eq!(kinds, [("Component".to_owned(), 1)]);
}

/// A read made of several statements (a streamed list's pages) sees one state of the catalog: a
/// replace committed between its pages is not seen, while a plain query sees it at once.
async fn a_snapshot_sees_one_state_across_a_replace(db: &Database) {
    let store = store::open(db);
    location(&*store, "l").await;
    let generation = |g: &str| -> Vec<ProcessedEntity> {
        (0..6)
            .map(|i| entity("Component", &format!("c{i}"), json!({"type": g})))
            .collect()
    };
    store
        .replace_entities("l", generation("old"))
        .await
        .unwrap();
    let types = |rows: &[store::EntityRow]| -> Vec<String> {
        rows.iter()
            .map(|r| serde_json::from_str::<Value>(&r.body).unwrap()["spec"]["type"].to_string())
            .collect()
    };
    let mut query = RowQuery::new(Filter::default());
    query.default_order = DefaultOrder::Uid;
    query.limit = Some(3);
    let mut snapshot = store.snapshot().await.unwrap();
    let first = snapshot.query(&query).await.unwrap();
    assert_eq!(types(&first), ["\"old\""; 3]);
    // Every entity changes, and the last three give way to others.
    let mut next = generation("new");
    next.truncate(3);
    next.extend((6..9).map(|i| entity("Component", &format!("c{i}"), json!({"type": "new"}))));
    store.replace_entities("l", next.clone()).await.unwrap();
    query.after = Some((None, first[2].uid.clone()));
    let second = snapshot.query(&query).await.unwrap();
    let mut seen = [names(&first), names(&second)].concat();
    seen.sort();
    assert_eq!(
        seen,
        ["c0", "c1", "c2", "c3", "c4", "c5"],
        "the snapshot's state"
    );
    assert_eq!(types(&second), ["\"old\""; 3]);
    drop(snapshot);
    let now = store
        .query(&RowQuery::new(Filter::default()))
        .await
        .unwrap();
    assert_eq!(
        names(&now),
        ["c0", "c1", "c2", "c6", "c7", "c8"],
        "by entity ref"
    );
    assert_eq!(types(&now), ["\"new\""; 6]);
}

/// Each entity's `changed_at` (the home page's "recently changed entities") moves when it is
/// added and when what is served for it changes, its relations included, never on a refresh
/// that changes nothing; Location entities are left out.
async fn recently_changed_follows_served_changes(db: &Database) {
    let store = store::open(db);
    location(&*store, "l1").await;
    location(&*store, "l2").await;
    let changed = async |store: &dyn store::CatalogStore| {
        store
            .recently_changed(10)
            .await
            .unwrap()
            .into_iter()
            .map(|(body, at)| {
                let body: Value = serde_json::from_str(&body).unwrap();
                (body["metadata"]["name"].as_str().unwrap().to_owned(), at)
            })
            .collect::<Vec<_>>()
    };
    // Later changes must get a later time: wait until the clock has moved past `at`.
    let after = async |at: i64| {
        let now = || {
            let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
            i64::try_from(since.unwrap().as_millis()).unwrap()
        };
        crate::support::wait_until(async || now() > at, std::time::Duration::from_secs(5)).await;
    };
    let generation = |owner: &str| {
        vec![
            entity("Component", "a", json!({"owner": owner})),
            entity("Component", "b", json!({"owner": "g"})),
            entity("Location", "generated", json!({"targets": ["./a.yaml"]})),
        ]
    };
    store.replace_entities("l1", generation("g")).await.unwrap();
    let first = changed(&*store).await;
    let mut names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    assert_eq!(names, ["a", "b"], "Location entities are left out");
    let added = first.iter().map(|(_, at)| *at).max().unwrap();
    after(added).await;

    store.replace_entities("l1", generation("g")).await.unwrap();
    assert_eq!(changed(&*store).await, first, "nothing changed");

    store.replace_entities("l1", generation("h")).await.unwrap();
    let second = changed(&*store).await;
    assert_eq!(second[0].0, "a", "{second:?}");
    assert!(second[0].1 > added);
    assert_eq!(
        second[1],
        first.iter().find(|(n, _)| n == "b").unwrap().clone()
    );
    after(second[0].1).await;

    // c in another location depends on b: b's served relations change.
    store
        .replace_entities(
            "l2",
            vec![entity(
                "Component",
                "c",
                json!({"owner": "g", "dependsOn": ["component:default/b"]}),
            )],
        )
        .await
        .unwrap();
    let third = changed(&*store).await;
    let b = third.iter().find(|(n, _)| n == "b").unwrap();
    assert!(b.1 > second[0].1, "b's relations changed: {third:?}");
    assert!(third[..2].iter().any(|(n, _)| n == "c"), "{third:?}");
}

/// The version a snapshot reads moves with every committed change to entities and with nothing
/// else: pages read in separate transactions at one version saw one state of the catalog.
async fn the_stored_version_moves_with_every_change_and_only_then(db: &Database) {
    let store = store::open(db);
    location(&*store, "l").await;
    let version = async || store.snapshot().await.unwrap().version().await.unwrap();
    let before = version().await;
    let entities = vec![
        entity(
            "Component",
            "a",
            json!({"type": "service", "owner": "team-a"}),
        ),
        entity("Component", "b", json!({"type": "service"})),
    ];
    store.replace_entities("l", entities.clone()).await.unwrap();
    let inserted = version().await;
    assert_ne!(inserted, before, "an insert");
    store.replace_entities("l", entities.clone()).await.unwrap();
    assert_eq!(
        version().await,
        inserted,
        "the same entities again change nothing"
    );

    let mut open = store.snapshot().await.unwrap();
    assert_eq!(open.version().await.unwrap(), inserted);
    store
        .replace_entities("l", entities[..1].to_vec())
        .await
        .unwrap();
    let removed = version().await;
    assert_ne!(removed, inserted, "a removal");
    assert_eq!(
        open.version().await.unwrap(),
        inserted,
        "an open snapshot keeps its state"
    );
    drop(open);

    let changed = vec![entity(
        "Component",
        "a",
        json!({"type": "website", "owner": "team-a"}),
    )];
    store.replace_entities("l", changed).await.unwrap();
    let updated = version().await;
    assert_ne!(updated, removed, "an update");
    let body = &store
        .by_refs(&["component:default/a".into()])
        .await
        .unwrap()[0]
        .1;
    let uid = serde_json::from_str::<Value>(body).unwrap()["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    store.delete_entity(&uid).await.unwrap();
    let deleted = version().await;
    assert_ne!(deleted, updated, "a delete by uid");
    store.delete_entity(&uid).await.unwrap();
    assert_eq!(
        version().await,
        deleted,
        "deleting an unknown uid changes nothing"
    );
    assert!(store.delete_location("l").await.unwrap());
    assert_ne!(version().await, deleted, "a location's deletion");
}

mod migrations {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_keeps_every_row_through_the_entity_id_migration() {
        let test_db = crate::support::TestDb::sqlite_before(6).await;
        super::the_entity_id_migration_keeps_every_row(&test_db.db).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_keeps_every_row_through_the_entity_id_migration() {
        let Some(test_db) = crate::support::TestDb::postgres_before(6).await else {
            crate::skip_without!("PostgreSQL (FAWKES_TEST_DATABASE_URL)");
        };
        super::the_entity_id_migration_keeps_every_row(&test_db.db).await;
    }
}

crate::store_contract!(
    a_snapshot_sees_one_state_across_a_replace,
    recently_changed_follows_served_changes,
    the_stored_version_moves_with_every_change_and_only_then,
    counts_follow_every_change,
    replacing_inserts_updates_removes_and_reports_conflicts,
    relations_follow_changes_across_locations,
    queries_filter_order_page_and_count,
    locations_keep_status_errors_and_validators,
);
