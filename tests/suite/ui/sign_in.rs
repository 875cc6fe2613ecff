//! Signing in and out: the guest (and when it is on), OpenID Connect with PKCE against an
//! in-process provider, GitHub OAuth against an in-process GitHub, the cookies' attributes,
//! login CSRF, one-time states, expiry and sign-out.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{StatusCode, header};
use fawkes_portal::clock::ManualClock;
use fawkes_portal::config::Settings;

use super::{Browser, csrf};
use crate::support::TestApp;
use crate::support::github::FakeGithub;
use crate::support::oidc::{FakeOidc, Misbehaviour};

fn location(response: &crate::support::TestResponse) -> String {
    response.header("location").to_owned()
}

#[tokio::test]
async fn pages_send_strangers_to_the_sign_in_page_and_fragments_tell_htmx() {
    let app = TestApp::new().await;
    let browser = Browser::new(&app);
    let home = browser.get("/workspaces?x=1").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&home), "/sign-in?next=%2Fworkspaces%3Fx%3D1");
    let fragment = browser
        .request(
            axum::http::Method::GET,
            "/workspaces/list",
            None,
            &[("hx-request", "true")],
        )
        .await;
    assert_eq!(fragment.status, StatusCode::UNAUTHORIZED);
    assert_eq!(fragment.header("hx-redirect"), "/sign-in?next=%2F");
    let page = browser.get("/sign-in").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Enter as guest"), "{}", page.text());
    assert!(page.text().contains("local use only"));
    assert!(
        !page.text().contains("Sign in with GitHub"),
        "no provider is configured"
    );
}

#[tokio::test]
async fn the_guest_signs_in_with_a_session_cookie_and_out_again() {
    let app = TestApp::new().await;
    let browser = Browser::new(&app);
    let signed_in = browser.sign_in_guest().await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.text()
    );
    assert_eq!(location(&signed_in), "/");
    let cookie = signed_in
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("fawkes_session="))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let home = browser.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    let text = home.text();
    assert!(text.contains("Welcome, Guest"), "{text}");
    assert!(text.contains("Guest, local use only"));
    assert_eq!(home.header("cache-control"), "no-store");
    // The session is the guest's principal, with the same rate-limit headers as the API.
    assert!(home.headers.contains_key("x-ratelimit-limit"));

    let token = browser.csrf().await;
    let refused = browser.post("/sign-out", &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "no CSRF token");
    assert!(refused.text().contains("CSRF check failed"));
    let out = browser.post("/sign-out", &[("_csrf", &token)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&out), "/sign-in");
    assert!(browser.cookie("fawkes_session").is_none());
    // The old cookie is dead on the server too.
    let old = Browser::new(&app);
    let stale = signed_in
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .find_map(|v| v.to_str().unwrap().strip_prefix("fawkes_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    old.set_cookie("fawkes_session", &stale);
    assert_eq!(old.get("/").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_guest_form_needs_its_token_and_guest_sign_in_can_be_off() {
    let app = TestApp::new().await;
    let browser = Browser::new(&app);
    browser.get("/sign-in").await;
    let forged = browser
        .post("/sign-in/guest", &[("_csrf", "made-up-token-1234567890")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(browser.cookie("fawkes_session").is_none());
    let no_cookie = Browser::new(&app)
        .post("/sign-in/guest", &[("_csrf", "x")])
        .await;
    assert_eq!(no_cookie.status, StatusCode::FORBIDDEN);

    let off = TestApp::build(
        |s| s.ui.guest = "off".into(),
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    let browser = Browser::new(&off);
    let page = browser.get("/sign-in").await;
    assert!(!page.text().contains("Enter as guest"));
    assert!(page.text().contains("No sign-in method is configured"));
    let token = browser.cookie("fawkes_presession").unwrap();
    let refused = browser.post("/sign-in/guest", &[("_csrf", &token)]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.text().contains("Guest sign-in is off"));
}

#[test]
fn guest_is_on_by_default_only_on_loopback_without_a_provider() {
    let config = |edit: &dyn Fn(&mut Settings)| {
        let mut settings = Settings::default();
        edit(&mut settings);
        settings.validate().unwrap().ui
    };
    assert!(config(&|_| {}).guest);
    assert!(!config(&|s| s.server.listen = "0.0.0.0:7007".into()).guest);
    assert!(
        !config(&|s| {
            s.ui.github.client_id = "id".into();
            s.ui.github.client_secret = "secret".into();
        })
        .guest
    );
    assert!(
        config(&|s| {
            s.server.listen = "0.0.0.0:7007".into();
            s.ui.guest = "on".into();
        })
        .guest
    );
    let mut settings = Settings::default();
    settings.server.listen = "0.0.0.0:7007".into();
    settings.ui.oidc.issuer = "https://sso.example.com".into();
    settings.ui.oidc.client_id = "portal".into();
    let err = settings.validate().unwrap_err();
    assert_eq!(err.setting, "ui.public_url", "{err}");
    settings.ui.public_url = "https://portal.example.com/fawkes".into();
    let ui = settings.validate().unwrap().ui;
    assert_eq!(ui.public_url.as_str(), "https://portal.example.com/fawkes/");
    settings.ui.oidc.issuer = "http://sso.example.com".into();
    assert_eq!(settings.validate().unwrap_err().setting, "ui.oidc.issuer");
}

#[tokio::test]
async fn cookies_are_secure_over_https() {
    let app = TestApp::build(
        |s| s.ui.public_url = "https://portal.example.com/".into(),
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    let browser = Browser::new(&app);
    let signed_in = browser.sign_in_guest().await;
    let cookie = signed_in.header("set-cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
    let proxied = TestApp::new().await;
    let browser = Browser::new(&proxied).with_header("x-forwarded-proto", "https");
    assert!(
        browser
            .sign_in_guest()
            .await
            .header("set-cookie")
            .contains("; Secure")
    );
}

#[tokio::test]
async fn a_session_expires_after_its_lifetime() {
    let clock = Arc::new(ManualClock::at(Duration::from_secs(1_800_000_000)));
    let app = TestApp::build_with_clock(
        |s| s.ui.session_ttl = "1h".into(),
        fawkes_portal::app::routes::api_routes(),
        clock.clone(),
    )
    .await;
    let browser = Browser::new(&app);
    browser.sign_in_guest().await;
    assert_eq!(browser.get("/").await.status, StatusCode::OK);
    clock.advance(Duration::from_secs(59 * 60));
    assert_eq!(browser.get("/workspaces").await.status, StatusCode::OK);
    clock.advance(Duration::from_secs(61));
    let expired = browser.get("/workspaces").await;
    assert_eq!(expired.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&expired), "/sign-in?next=%2Fworkspaces");
}

/// Follows a sign-in through the real provider over HTTP: the portal's redirect to the
/// provider, the provider's redirect back, and the callback.
async fn round_trip(browser: &Browser<'_>, start: &str) -> crate::support::TestResponse {
    let started = browser.get(start).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.text());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let provider = client.get(location(&started)).send().await.unwrap();
    assert!(provider.status().is_redirection(), "{}", provider.status());
    let back = url::Url::parse(provider.headers()["location"].to_str().unwrap()).unwrap();
    browser
        .get(&format!(
            "{}?{}",
            back.path(),
            back.query().unwrap_or_default()
        ))
        .await
}

#[tokio::test]
async fn openid_connect_signs_in_with_pkce_and_a_verified_id_token() {
    let provider = FakeOidc::start().await;
    let app = TestApp::build(
        |s| provider.configure(s),
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    let browser = Browser::new(&app);
    let page = browser.get("/sign-in?next=/dora").await;
    assert!(page.text().contains("Sign in with Fake SSO"));
    assert!(
        !page.text().contains("Enter as guest"),
        "a provider turns the guest off"
    );
    provider.sign_in_as("Alice", "Alice Example");
    let back = round_trip(&browser, "/auth/oidc/start?next=/dora").await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.text());
    assert_eq!(location(&back), "/dora");
    let asked = provider.last_authorization();
    assert_eq!(asked["code_challenge_method"], "S256");
    assert_eq!(
        asked["redirect_uri"],
        "http://127.0.0.1:7007/auth/oidc/callback"
    );
    assert_eq!(asked["scope"], "openid profile email");
    assert!(asked["nonce"].len() >= 32 && asked["state"].len() >= 32);
    let home = browser.get("/").await;
    assert!(
        home.text().contains("Welcome, Alice Example"),
        "{}",
        home.text()
    );
    assert!(home.text().contains("user:default/alice"));
    assert!(!home.text().contains("Guest, local use only"));
    // The browser is the same principal a bearer token for alice is.
    let session = browser.cookie("fawkes_session").unwrap();
    let found = app
        .app
        .state()
        .ui
        .sessions
        .find(&session)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.principal.subject, "user:default/alice");
    assert_eq!(found.provider, "oidc");
}

#[tokio::test]
async fn openid_connect_refuses_what_does_not_prove_the_user() {
    let provider = FakeOidc::start().await;
    let app = TestApp::build(
        |s| provider.configure(s),
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    for (how, status, message) in [
        (
            Misbehaviour::WrongNonce,
            401,
            "the nonce does not match this sign-in",
        ),
        (Misbehaviour::WrongAudience, 401, "for another client"),
        (Misbehaviour::Expired, 401, "it has expired"),
        (Misbehaviour::Deny, 400, "access_denied The user said no"),
    ] {
        provider.misbehave(Some(how));
        let browser = Browser::new(&app);
        let back = round_trip(&browser, "/auth/oidc/start").await;
        assert_eq!(back.status.as_u16(), status, "{how:?}: {}", back.text());
        assert!(back.text().contains(message), "{how:?}: {}", back.text());
        assert!(browser.cookie("fawkes_session").is_none(), "{how:?}");
    }
    provider.misbehave(None);
    // A callback in another browser than the one that started the sign-in is refused (login
    // CSRF), and a state is good for one callback only.
    let browser = Browser::new(&app);
    let started = browser.get("/auth/oidc/start").await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let provider_answer = client.get(location(&started)).send().await.unwrap();
    let back = url::Url::parse(provider_answer.headers()["location"].to_str().unwrap()).unwrap();
    let callback = format!("{}?{}", back.path(), back.query().unwrap());
    let elsewhere = Browser::new(&app).get(&callback).await;
    assert_eq!(elsewhere.status, StatusCode::BAD_REQUEST);
    assert!(elsewhere.text().contains("not started in this browser"));
    let login = browser.cookie("fawkes_login").unwrap();
    assert_eq!(browser.get(&callback).await.status, StatusCode::SEE_OTHER);
    let again = Browser::new(&app);
    again.set_cookie("fawkes_login", &login);
    let replay = again.get(&callback).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert!(replay.text().contains("expired or was already used"));
}

#[tokio::test]
async fn an_unreachable_provider_is_a_message_not_a_crash() {
    let provider = FakeOidc::start().await;
    let issuer = provider.issuer.clone();
    drop(provider);
    let app = TestApp::build(
        |s| {
            s.ui.oidc.issuer = issuer;
            s.ui.oidc.client_id = "portal".into();
        },
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    let started = Browser::new(&app).get("/auth/oidc/start").await;
    assert_eq!(started.status, StatusCode::BAD_GATEWAY);
    assert!(
        started
            .text()
            .contains("The sign-in provider is unavailable"),
        "{}",
        started.text()
    );
}

#[tokio::test]
async fn github_signs_in_by_login_as_backstage_does() {
    let github = FakeGithub::start().await;
    let dir = tempfile::TempDir::new().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let users = root.join("users.yaml");
    std::fs::write(
        &users,
        "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: octo-cat\nspec:\n  memberOf: []\n",
    )
    .unwrap();
    let roots = vec![root.display().to_string()];
    let app = TestApp::build(
        |s| {
            github.configure(s);
            s.catalog.file_roots = roots;
        },
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    let browser = Browser::new(&app);
    assert!(
        browser
            .get("/sign-in")
            .await
            .text()
            .contains("Sign in with GitHub")
    );
    // GitHub knows Octo-Cat, the catalog does not: refused, as Backstage's resolver refuses.
    github.sign_in_as("Octo-Cat", Some("The Octocat"));
    let unknown = round_trip(&browser, "/auth/github/start?next=/workspaces").await;
    assert_eq!(
        unknown.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        unknown.text()
    );
    assert!(
        unknown
            .text()
            .contains("unable to resolve user identity: the catalog has no User entity named"),
        "{}",
        unknown.text()
    );
    assert!(browser.cookie("fawkes_session").is_none());
    let registered = app
        .call(
            axum::http::Method::POST,
            "/api/catalog/locations",
            "application/json",
            serde_json::json!({"type": "file", "target": users.display().to_string()}).to_string(),
        )
        .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.text()
    );
    crate::support::wait::wait_until(
        async || {
            app.get("/api/catalog/entities/by-name/user/default/octo-cat")
                .await
                .status
                == StatusCode::OK
        },
        Duration::from_secs(10),
    )
    .await;
    github.sign_in_as("Octo-Cat", Some("The Octocat"));
    let back = round_trip(&browser, "/auth/github/start?next=/workspaces").await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.text());
    assert_eq!(location(&back), "/workspaces");
    let session = browser.cookie("fawkes_session").unwrap();
    let found = app
        .app
        .state()
        .ui
        .sessions
        .find(&session)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.principal.subject, "user:default/octo-cat");
    assert_eq!(found.display_name, "The Octocat");
    let page = browser.get("/workspaces").await;
    assert!(page.text().contains("The Octocat"));
    // A wrong client secret is GitHub's 200 with an error, shown as a refusal.
    let wrong = TestApp::build(
        |s| {
            github.configure(s);
            s.ui.github.client_secret = "wrong".into();
        },
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    let refused = round_trip(&Browser::new(&wrong), "/auth/github/start").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(
        refused.text().contains("incorrect_client_credentials"),
        "{}",
        refused.text()
    );
    // Backstage's dangerouslyAllowSignInWithoutUserInCatalog: anyone GitHub authenticates.
    let open = TestApp::build(
        |s| {
            github.configure(s);
            s.ui.github.allow_sign_in_without_user_entity = true;
        },
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    let open_browser = Browser::new(&open);
    let admitted = round_trip(&open_browser, "/auth/github/start").await;
    assert_eq!(
        admitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        admitted.text()
    );
    assert!(open_browser.cookie("fawkes_session").is_some());
    let _ = csrf;
}
