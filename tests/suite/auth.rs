//! Authentication: every kind of token, with real keys and key sets served over HTTP, and every
//! refusal with its status, message and challenge.

use axum::http::StatusCode;
use fawkes_portal::auth::issuer::TokenSubject;
use fawkes_portal::config::Settings;
use fawkes_portal::config::auth::StaticTokenSettings;
use serde_json::{Value, json};

use crate::support::keys::{JwksServer, TestKey, hs256, unsigned};
use crate::support::{TestApp, TestResponse};

const USERINFO: &str = "/api/auth/v1/userinfo";
const USER_TYP: &str = "vnd.backstage.user";

fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

/// Claims as Backstage's auth backend issues them for `user:default/jdoe`.
fn backstage_claims(server: &JwksServer) -> Value {
    json!({
        "iss": format!("{}/api/auth", server.base),
        "sub": "user:default/jdoe",
        "ent": ["user:default/jdoe", "group:default/team-a"],
        "aud": "backstage",
        "iat": now(),
        "exp": now() + 3600,
    })
}

async fn backstage_app(server: &JwksServer, refetch: &str) -> TestApp {
    let base = server.base.clone();
    let refetch = refetch.to_owned();
    TestApp::build(
        move |s: &mut Settings| {
            s.auth.backstage.base_url = base;
            s.auth.jwks_refetch_interval = refetch;
        },
        fawkes_portal::app::routes::api_routes(),
    )
    .await
}

fn assert_refused(response: &TestResponse, message: &str, token: &str) {
    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        response.text()
    );
    assert_eq!(response.json(), json!({"error": message}));
    assert_eq!(
        response.header("www-authenticate"),
        r#"Bearer realm="fawkes-portal", error="invalid_token""#
    );
    assert!(!response.text().contains(token), "the token is not echoed");
}

#[tokio::test]
async fn a_backstage_user_token_is_accepted() {
    let key = TestKey::es256("backstage-key-1");
    let server = JwksServer::start(&[&key]).await;
    let app = backstage_app(&server, "30s").await;
    let response = app
        .get_as(
            USERINFO,
            &key.sign(Some(USER_TYP), &backstage_claims(&server)),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json()["type"], "user");
    assert_eq!(response.json()["subject"], "user:default/jdoe");
    assert_eq!(response.json()["userName"], "jdoe");
    // A token without `typ` but with Backstage's audience is the legacy form, also accepted.
    let legacy = app
        .get_as(USERINFO, &key.sign(None, &backstage_claims(&server)))
        .await;
    assert_eq!(legacy.status, StatusCode::OK, "{}", legacy.text());
}

#[tokio::test]
async fn backstage_token_refusals() {
    let key = TestKey::es256("backstage-key-1");
    let impostor = TestKey::es256("backstage-key-1");
    let server = JwksServer::start(&[&key]).await;
    let app = backstage_app(&server, "30s").await;
    let claims = backstage_claims(&server);
    let with = |patch: Value| {
        let mut c = claims.clone();
        for (k, v) in patch.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let cases: Vec<(String, String)> = vec![
        (key.sign(Some(USER_TYP), &with(json!({"exp": now() - 3600}))), "Token expired".into()),
        (key.sign(Some(USER_TYP), &with(json!({"nbf": now() + 3600}))), "Token not yet valid".into()),
        (
            key.sign(Some(USER_TYP), &with(json!({"iss": "https://evil.example.com/api/auth"}))),
            "Token issuer 'https://evil.example.com/api/auth' is not trusted".into(),
        ),
        (
            key.sign(Some(USER_TYP), &with(json!({"aud": "catalog"}))),
            "Token audience is wrong: this token is not meant for this API".into(),
        ),
        (impostor.sign(Some(USER_TYP), &claims), "Token signature is invalid".into()),
        (
            TestKey::es256("never-published").sign(Some(USER_TYP), &claims),
            "Token was signed by an unknown key (kid 'never-published')".into(),
        ),
        (
            key.sign(Some("vnd.backstage.limited-user"), &json!({"sub": "user:default/jdoe", "iat": now(), "exp": now() + 60})),
            "Limited user tokens are not accepted; use a full Backstage user token".into(),
        ),
        (
            unsigned(&json!({"alg": "none", "typ": USER_TYP, "kid": "backstage-key-1"}), &claims),
            "Unsupported token algorithm 'none'".into(),
        ),
        (
            // HMAC "signed" with the public key as the secret must never verify against it.
            hs256("backstage-key-1", key.jwk.to_string().as_bytes(), &claims),
            "Unsupported token algorithm 'HS256'".into(),
        ),
        (
            key.sign(Some(USER_TYP), &with(json!({"sub": "group:default/team-a"}))),
            "Invalid token: the subject 'group:default/team-a' is not a user entity ref such as user:default/jdoe".into(),
        ),
        (
            key.sign(Some("vnd.backstage.plugin"), &claims),
            "Invalid token: Backstage plugin tokens are not accepted; send a user token".into(),
        ),
        ("not-a-jwt".into(), "Malformed token: not a JWT (expected three dot-separated parts)".into()),
        ("a.b.c".into(), "Malformed token: the header is not base64url".into()),
    ];
    for (token, message) in cases {
        let response = app.get_as(USERINFO, &token).await;
        assert_refused(&response, &message, &token);
    }
}

#[tokio::test]
async fn missing_and_non_bearer_credentials_get_a_plain_challenge() {
    let app = TestApp::new().await;
    for (authorization, message) in [
        (
            None,
            "Missing credentials: send `Authorization: Bearer <token>`",
        ),
        (
            Some("Basic dXNlcjpwYXNz"),
            "The Authorization header must be `Bearer <token>`",
        ),
        (
            Some("Bearer"),
            "The Authorization header must be `Bearer <token>`",
        ),
        (
            Some("Bearer    "),
            "The Authorization header must be `Bearer <token>`",
        ),
    ] {
        let response = app.get_with(USERINFO, authorization).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.json(),
            json!({"error": message}),
            "{authorization:?}"
        );
        assert_eq!(
            response.header("www-authenticate"),
            r#"Bearer realm="fawkes-portal""#
        );
    }
}

#[tokio::test]
async fn public_routes_need_no_token() {
    let app = TestApp::new().await;
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/api",
        "/api/openapi.json",
        "/api/auth/.well-known/jwks.json",
        "/api/docs/",
    ] {
        let response = app.get_with(path, None).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        // Only the client address's public budget (rate_limit.public_per_minute) is spent.
        assert_eq!(response.header("x-ratelimit-limit"), "600", "{path}");
    }
}

#[tokio::test]
async fn metrics_can_be_made_private() {
    let app = TestApp::build(
        |s| s.auth.public_metrics = false,
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    assert_eq!(
        app.get_with("/metrics", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.get("/metrics").await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_key_id_refetches_the_key_set_once_keys_rotate() {
    let old = TestKey::es256("2026-11-a");
    let new = TestKey::es256("2026-11-b");
    let server = JwksServer::start(&[&old]).await;
    let app = backstage_app(&server, "0s").await;
    let claims = backstage_claims(&server);
    assert_eq!(
        app.get_as(USERINFO, &old.sign(Some(USER_TYP), &claims))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(server.fetches(), 1);

    // Backstage rotates: the new key appears in the set, tokens signed with it start arriving.
    server.publish(&[&old, &new]);
    let response = app
        .get_as(USERINFO, &new.sign(Some(USER_TYP), &claims))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(server.fetches(), 2);
    // Known keys are served from the cache.
    let again = old.sign(Some(USER_TYP), &json!({"iat": now(), "jti": "other", "exp": now() + 60, "sub": "user:default/jdoe", "iss": claims["iss"], "aud": "backstage"}));
    assert_eq!(app.get_as(USERINFO, &again).await.status, StatusCode::OK);
    assert_eq!(server.fetches(), 2);
}

#[tokio::test]
async fn unknown_key_ids_cannot_drive_key_set_fetches() {
    let key = TestKey::es256("k1");
    let server = JwksServer::start(&[&key]).await;
    let app = backstage_app(&server, "1h").await;
    let claims = backstage_claims(&server);
    assert_eq!(
        app.get_as(USERINFO, &key.sign(Some(USER_TYP), &claims))
            .await
            .status,
        StatusCode::OK
    );
    for i in 0..5 {
        let junk = TestKey::es256(&format!("junk-{i}")).sign(Some(USER_TYP), &claims);
        assert_eq!(
            app.get_as(USERINFO, &junk).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        server.fetches(),
        1,
        "at most one fetch per auth.jwks_refetch_interval"
    );
}

#[tokio::test]
async fn an_unreachable_key_set_is_503_not_401() {
    let key = TestKey::es256("k1");
    let server = JwksServer::start(&[&key]).await;
    let app = backstage_app(&server, "0s").await;
    server.stop().await;
    let response = app
        .get_as(
            USERINFO,
            &key.sign(Some(USER_TYP), &backstage_claims(&server)),
        )
        .await;
    assert_eq!(
        response.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        response.text()
    );
    let error = response.json()["error"].as_str().unwrap().to_owned();
    assert!(
        error.starts_with("Cannot verify the token right now"),
        "{error}"
    );
}

#[tokio::test]
async fn a_verified_token_is_cached_until_it_expires() {
    let key = TestKey::es256("k1");
    let server = JwksServer::start(&[&key]).await;
    let app = backstage_app(&server, "0s").await;
    let token = key.sign(Some(USER_TYP), &backstage_claims(&server));
    assert_eq!(app.get_as(USERINFO, &token).await.status, StatusCode::OK);
    server.stop().await;
    // The issuer is gone, but this token was verified already.
    assert_eq!(app.get_as(USERINFO, &token).await.status, StatusCode::OK);
}

async fn kubernetes_app(server: &JwksServer) -> TestApp {
    let issuer = server.base.clone();
    TestApp::build(
        move |s: &mut Settings| s.auth.kubernetes.issuer = issuer,
        fawkes_portal::app::routes::api_routes(),
    )
    .await
}

fn service_account_claims(server: &JwksServer, audience: &str) -> Value {
    json!({
        "iss": server.base,
        "sub": "system:serviceaccount:backstage:backstage-sa",
        "aud": [audience],
        "iat": now(), "nbf": now(), "exp": now() + 3600,
        "kubernetes.io": {"namespace": "backstage", "serviceaccount": {"name": "backstage-sa", "uid": "5a1b"}},
    })
}

#[tokio::test]
async fn a_kubernetes_service_account_token_for_our_audience_is_a_service() {
    let key = TestKey::rs256("cluster-key");
    let server = JwksServer::start(&[&key]).await;
    let app = kubernetes_app(&server).await;
    let token = key.sign(None, &service_account_claims(&server, "fawkes-portal"));
    let response = app.get_as(USERINFO, &token).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json()["type"], "service");
    assert_eq!(
        response.json()["subject"],
        "system:serviceaccount:backstage:backstage-sa"
    );
}

#[tokio::test]
async fn a_service_account_token_for_the_cluster_itself_is_refused_with_how_to_mint_one() {
    let key = TestKey::rs256("cluster-key");
    let server = JwksServer::start(&[&key]).await;
    let app = kubernetes_app(&server).await;
    let token = key.sign(
        None,
        &service_account_claims(&server, "https://kubernetes.default.svc.cluster.local"),
    );
    let response = app.get_as(USERINFO, &token).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    let error = response.json()["error"].as_str().unwrap().to_owned();
    assert!(
        error.contains(
            "kubectl create token <service-account> -n <namespace> --audience fawkes-portal"
        ),
        "{error}"
    );
}

fn static_token(token: &str, subject: &str) -> StaticTokenSettings {
    StaticTokenSettings {
        token: token.into(),
        subject: subject.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn static_service_tokens() {
    let app = TestApp::build(
        |s: &mut Settings| {
            s.auth.static_tokens = vec![static_token("s3cr3t-ci-token-value", "ci-bot")]
        },
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    let response = app.get_as(USERINFO, "s3cr3t-ci-token-value").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json()["type"], "service");
    assert_eq!(response.json()["subject"], "ci-bot");
    assert_refused(
        &app.get_as(USERINFO, "s3cr3t-ci-token-valuX").await,
        "Malformed token: not a JWT (expected three dot-separated parts)",
        "s3cr3t-ci-token-valuX",
    );
}

#[test]
fn static_token_rules_follow_backstage() {
    let check = |tokens: Vec<StaticTokenSettings>| {
        let mut settings = Settings::default();
        settings.auth.static_tokens = tokens;
        settings.validate_with_env(&|name| {
            (name == "CI_TOKEN").then(|| "from-the-environment".to_owned())
        })
    };
    let short = check(vec![static_token("short", "ci")])
        .unwrap_err()
        .to_string();
    assert!(
        short.contains("auth.static_tokens[0].token") && short.contains("at least 8"),
        "{short}"
    );
    assert!(check(vec![static_token("has white space", "ci")]).is_err());
    assert!(
        check(vec![static_token("long-enough-token", "ci bot")])
            .unwrap_err()
            .to_string()
            .contains("subject")
    );
    let twice = check(vec![
        static_token("long-enough-token", "a"),
        static_token("long-enough-token", "b"),
    ]);
    assert!(
        twice
            .unwrap_err()
            .to_string()
            .contains("the same token is configured twice")
    );
    let from_env = StaticTokenSettings {
        token_env: "CI_TOKEN".into(),
        subject: "ci".into(),
        ..Default::default()
    };
    let config = check(vec![from_env]).unwrap();
    assert_eq!(config.auth.static_tokens[0].token, "from-the-environment");
    let unset = StaticTokenSettings {
        token_env: "NOT_SET".into(),
        subject: "ci".into(),
        ..Default::default()
    };
    assert!(
        check(vec![unset])
            .unwrap_err()
            .to_string()
            .contains("NOT_SET is not set")
    );
}

#[tokio::test]
async fn built_in_issuer_tokens_for_users_and_services() {
    let app = TestApp::new().await;
    let user = app
        .get_as(USERINFO, &app.issue(&TokenSubject::user("jdoe").unwrap()))
        .await;
    assert_eq!(user.json()["subject"], "user:default/jdoe");
    let service = app
        .get_as(
            USERINFO,
            &app.issue(&TokenSubject::service("ci-bot").unwrap()),
        )
        .await;
    assert_eq!(service.json()["type"], "service");
    assert_eq!(service.json()["subject"], "ci-bot");

    let jwks = app
        .get_with("/api/auth/.well-known/jwks.json", None)
        .await
        .json();
    assert_eq!(jwks["keys"][0]["alg"], "ES256");
    assert_eq!(jwks["keys"][0]["kty"], "EC");
    assert!(jwks["keys"][0].get("d").is_none(), "no private part");
}

#[tokio::test]
async fn a_kid_from_another_issuers_key_set_is_refused() {
    // Backstage's token, but naming (and signed with) a key of the built-in issuer.
    let key = TestKey::es256("k1");
    let server = JwksServer::start(&[&key]).await;
    let app = backstage_app(&server, "0s").await;
    let ours = app.issue(&TokenSubject::user("jdoe").unwrap());
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ours.split('.').next().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let kid = header["kid"].as_str().unwrap();
    let mut claims = backstage_claims(&server);
    claims["sub"] = json!("user:default/jdoe");
    let forged = unsigned(
        &json!({"alg": "ES256", "typ": USER_TYP, "kid": kid}),
        &claims,
    );
    let response = app.get_as(USERINFO, &forged).await;
    assert_refused(
        &response,
        &format!("Token was signed by an unknown key (kid '{kid}')"),
        &forged,
    );
}

#[tokio::test]
async fn with_the_issuer_disabled_its_keys_and_tokens_are_gone() {
    let enabled = TestApp::new().await;
    let token = enabled.issue(&TokenSubject::user("jdoe").unwrap());
    let app = TestApp::build(
        |s: &mut Settings| s.auth.issuer.enabled = false,
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    let jwks = app.get_with("/api/auth/.well-known/jwks.json", None).await;
    assert_eq!(jwks.status, StatusCode::NOT_FOUND);
    assert_refused(
        &app.get_as(USERINFO, &token).await,
        "Token issuer 'fawkes-portal' is not trusted",
        &token,
    );
}

#[test]
fn the_signing_key_is_private_and_survives_restarts() {
    let dir = tempfile::TempDir::new().unwrap();
    let config = fawkes_portal::config::Config::with_data_dir(dir.path());
    let issuer_config = config.auth.issuer.unwrap();
    let first =
        fawkes_portal::auth::issuer::BuiltInIssuer::load_or_create(dir.path(), &issuer_config)
            .unwrap();
    let second =
        fawkes_portal::auth::issuer::BuiltInIssuer::load_or_create(dir.path(), &issuer_config)
            .unwrap();
    assert_eq!(first.kid(), second.kid());
    let path = dir.path().join(fawkes_portal::auth::issuer::KEY_FILE);
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn token_lifetimes_are_bounded() {
    let dir = tempfile::TempDir::new().unwrap();
    let config = fawkes_portal::config::Config::with_data_dir(dir.path());
    let issuer = fawkes_portal::auth::issuer::BuiltInIssuer::load_or_create(
        dir.path(),
        config.auth.issuer.as_ref().unwrap(),
    )
    .unwrap();
    let user = TokenSubject::user("jdoe").unwrap();
    let too_long = issuer
        .issue(
            &user,
            Some(std::time::Duration::from_secs(90 * 24 * 3600)),
            0,
        )
        .unwrap_err();
    assert!(too_long.contains("auth.issuer.max_ttl"), "{too_long}");
    assert!(TokenSubject::user("j doe").is_err());
    assert!(TokenSubject::user("group:default/x").is_err());
    assert_eq!(
        TokenSubject::user("user:team/jdoe").unwrap(),
        TokenSubject::User("user:team/jdoe".into())
    );
}
