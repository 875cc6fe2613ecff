//! The session store's contract, on SQLite and PostgreSQL: sessions found until they expire and
//! gone when ended, only the token's hash stored, expired rows swept, sign-ins under way taken
//! once (also when two callbacks race).

use fawkes_portal::auth::session::store::{LoginRow, SessionRow, open};
use fawkes_portal::db::Database;

fn session(hash: &str, expires_at_ms: i64) -> SessionRow {
    SessionRow {
        token_hash: hash.into(),
        subject: "user:default/alice".into(),
        display_name: "Alice".into(),
        provider: "oidc".into(),
        csrf_token: format!("csrf-{hash}"),
        created_at_ms: 1_000,
        expires_at_ms,
    }
}

fn login(state: &str, expires_at_ms: i64) -> LoginRow {
    LoginRow {
        state: state.into(),
        provider: "oidc".into(),
        verifier: format!("verifier-{state}"),
        nonce: format!("nonce-{state}"),
        return_to: "/dora".into(),
        expires_at_ms,
    }
}

async fn sessions_are_found_until_they_expire_or_end(db: &Database) {
    let store = open(db);
    store.create(&session("h1", 10_000), 1_000).await.unwrap();
    store.create(&session("h2", 20_000), 1_000).await.unwrap();
    let found = store.find("h1", 9_999).await.unwrap().unwrap();
    assert_eq!(found, session("h1", 10_000));
    assert!(store.find("h1", 10_000).await.unwrap().is_none(), "expired");
    assert!(store.find("nope", 0).await.unwrap().is_none());
    assert!(store.delete("h2").await.unwrap());
    assert!(!store.delete("h2").await.unwrap());
    assert!(store.find("h2", 1_000).await.unwrap().is_none());
}

async fn a_new_session_sweeps_expired_ones(db: &Database) {
    let store = open(db);
    store.create(&session("old", 5_000), 1_000).await.unwrap();
    store.create(&session("new", 50_000), 6_000).await.unwrap();
    // Swept, not merely hidden: deleting finds nothing.
    assert!(!store.delete("old").await.unwrap());
    assert!(store.find("new", 6_000).await.unwrap().is_some());
}

async fn a_sign_in_state_is_taken_once(db: &Database) {
    let store = open(db);
    store.save_login(&login("s1", 10_000), 1_000).await.unwrap();
    store.save_login(&login("s2", 2_000), 1_000).await.unwrap();
    assert!(
        store.take_login("s2", 2_000).await.unwrap().is_none(),
        "expired"
    );
    assert_eq!(
        store.take_login("s1", 5_000).await.unwrap(),
        Some(login("s1", 10_000))
    );
    assert!(
        store.take_login("s1", 5_000).await.unwrap().is_none(),
        "used"
    );
    // Two callbacks racing with the same state: exactly one gets it.
    store
        .save_login(&login("race", 100_000), 5_000)
        .await
        .unwrap();
    let takers = (0..8).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.take_login("race", 6_000).await.unwrap() })
    });
    let mut winners = 0;
    for taker in takers {
        winners += usize::from(taker.await.unwrap().is_some());
    }
    assert_eq!(winners, 1);
}

crate::store_contract!(
    sessions_are_found_until_they_expire_or_end,
    a_new_session_sweeps_expired_ones,
    a_sign_in_state_is_taken_once,
);

/// The service stores a hash of the cookie's token, never the token.
#[tokio::test]
async fn only_the_tokens_hash_is_stored() {
    let test_db = crate::support::TestDb::sqlite().await;
    let sessions = fawkes_portal::auth::session::Sessions::new(
        open(&test_db.db),
        std::time::Duration::from_secs(60),
        std::sync::Arc::new(fawkes_portal::clock::SystemClock),
    );
    let (token, session) = sessions
        .start(
            fawkes_portal::principal::Principal::user("user:default/bob"),
            "Bob",
            "github",
        )
        .await
        .unwrap();
    let Database::Sqlite { pool, .. } = &test_db.db else {
        unreachable!()
    };
    let stored: Vec<(String,)> = sqlx::query_as("SELECT token_hash FROM auth_sessions")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].0, token);
    assert!(!stored[0].0.contains(&token));
    assert_eq!(sessions.find(&token).await.unwrap(), Some(session.clone()));
    assert!(
        sessions.find(&stored[0].0).await.unwrap().is_none(),
        "the hash is no cookie"
    );
    assert!(session.csrf_matches(&session.csrf_token));
    assert!(!session.csrf_matches("") && !session.csrf_matches("other"));
}
