//! Tokens that are valid in every way but their time claims.

use axum::http::StatusCode;
use fawkes_portal::config::Settings;
use serde_json::json;

use crate::support::TestApp;
use crate::support::keys::{JwksServer, TestKey};

fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

/// A token issued a day from now is refused as documented (`auth.leeway` covers `iat`); one
/// issued within the leeway is accepted, since clocks drift.
#[tokio::test]
async fn a_token_issued_in_the_future_is_refused_beyond_the_leeway() {
    let key = TestKey::es256("backstage-key-1");
    let server = JwksServer::start(&[&key]).await;
    let base = server.base.clone();
    let app = TestApp::build(
        move |s: &mut Settings| s.auth.backstage.base_url = base,
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    let token = |iat: i64| {
        key.sign(
            Some("vnd.backstage.user"),
            &json!({
                "iss": format!("{}/api/auth", server.base), "sub": "user:default/jdoe",
                "aud": "backstage", "iat": iat, "exp": now() + 2 * 86_400,
            }),
        )
    };
    let future = app
        .get_as("/api/auth/v1/userinfo", &token(now() + 86_400))
        .await;
    assert_eq!(future.status, StatusCode::UNAUTHORIZED, "{}", future.text());
    let message = future.json()["error"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("Token issued in the future") && message.contains("auth.leeway"),
        "{message}"
    );
    let skewed = app
        .get_as("/api/auth/v1/userinfo", &token(now() + 20))
        .await;
    assert_eq!(skewed.status, StatusCode::OK, "{}", skewed.text());
}
