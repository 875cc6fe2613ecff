//! Every signed-in page and fragment: status and key content, the launcher's flows through
//! forms (launch, live status, start, stop, delete with confirmation, errors as the API words
//! them), CSRF refusals, isolation between users, the shared rate limit, the admin page and the
//! embedded assets.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{Method, StatusCode};
use axum::routing::get;
use fawkes_portal::clock::ManualClock;

use super::Browser;
use crate::support::TestApp;
use crate::support::https::HttpsServer;

const DEVFILE: &str = "schemaVersion: 2.2.2\nmetadata:\n  name: goldenpath-python\n  version: 1.0.0\ncomponents:\n  - name: python\n    container:\n      image: quay.io/devfile/universal-developer-image:ubi8-latest\n";

struct Portal {
    app: TestApp,
    devfiles: HttpsServer,
    clock: Arc<ManualClock>,
}

async fn portal(edit: impl FnOnce(&mut fawkes_portal::config::Settings)) -> Portal {
    let devfiles =
        HttpsServer::start(Router::new().route("/devfile.yaml", get(|| async { DEVFILE }))).await;
    let clock = Arc::new(ManualClock::at(Duration::from_secs(1_800_000_000)));
    let app = TestApp::build_with_clock(
        |s| {
            devfiles.allow(s);
            s.rate_limit.user_per_minute = 10_000;
            s.ui.golden_paths[0].url = devfiles.url("/devfile.yaml");
            edit(s);
        },
        fawkes_portal::app::routes::api_routes(),
        clock.clone(),
    )
    .await;
    Portal {
        app,
        devfiles,
        clock,
    }
}

/// Launches a workspace through the page's form; returns its id.
async fn launch(portal: &Portal, browser: &Browser<'_>, name: &str) -> String {
    let token = browser.csrf().await;
    let url = portal.devfiles.url("/devfile.yaml");
    let launched = browser
        .post(
            "/workspaces",
            &[("_csrf", &token), ("devfile_url", &url), ("name", name)],
        )
        .await;
    assert_eq!(
        launched.status,
        StatusCode::SEE_OTHER,
        "{}",
        launched.text()
    );
    assert_eq!(
        launched.header("location"),
        format!("/workspaces?launched={name}")
    );
    let page = browser
        .get(&format!("/workspaces?launched={name}"))
        .await
        .text();
    assert!(page.contains(&format!("Workspace {name} is starting.")));
    let marker = "data-workspace=\"";
    let at = page.find(marker).unwrap() + marker.len();
    page[at..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_launcher_page_launches_follows_and_removes_a_workspace() {
    let portal = portal(|_| {}).await;
    let browser = Browser::signed_in_as(&portal.app, "user:default/alice").await;
    let page = browser.get("/workspaces").await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    for expected in [
        "Create a workspace",
        "Python (FastAPI, Django, CLI)",
        "AI / ML (TensorFlow, Jupyter)",
        "0 of 3 running",
        "No workspaces yet",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    let id = launch(&portal, &browser, "alice-ws").await;
    // Starting: the list asks htmx to poll it; its fragment is the same list.
    let htmx = Browser::signed_in_as(&portal.app, "user:default/alice")
        .await
        .with_header("hx-request", "true");
    let list = htmx.get("/workspaces/list").await;
    assert_eq!(list.status, StatusCode::OK);
    let list = list.text();
    assert!(list.starts_with("<section id=\"workspace-list\""), "{list}");
    assert!(list.contains("data-status=\"Starting\""));
    assert!(list.contains("hx-trigger=\"every 2s\""));
    assert!(list.contains("1 of 3 running"));
    assert!(!list.contains("Open IDE"));
    portal.clock.advance(Duration::from_secs(6));
    let list = htmx.get("/workspaces/list").await.text();
    assert!(list.contains("data-status=\"Running\""), "{list}");
    assert!(!list.contains("hx-trigger"), "no polling once settled");
    assert!(list.contains("Open IDE"));
    // Che's default namespace template, `<username>-che`.
    assert!(
        list.contains("/dashboard/#/ide/alice-che/alice-ws"),
        "{list}"
    );

    // Stop and start through forms; with htmx the answer is the list.
    let stopped = htmx
        .post(
            &format!("/workspaces/{id}/stop"),
            &[("_csrf", &htmx.csrf().await)],
        )
        .await;
    let token = browser.csrf().await;
    assert_eq!(stopped.status, StatusCode::OK);
    assert!(stopped.text().contains("data-status=\"Stopping\""));
    portal.clock.advance(Duration::from_secs(3));
    let started = browser
        .post(&format!("/workspaces/{id}/start"), &[("_csrf", &token)])
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER);
    assert_eq!(started.header("location"), "/workspaces");

    // Delete asks first (without JavaScript, a page), then deletes.
    let ask = browser
        .post(&format!("/workspaces/{id}/delete"), &[("_csrf", &token)])
        .await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(ask.text().contains("Delete workspace alice-ws?"));
    assert!(browser.get("/workspaces").await.text().contains(&id));
    let deleted = browser
        .post(
            &format!("/workspaces/{id}/delete"),
            &[("_csrf", &token), ("confirmed", "yes")],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert!(!browser.get("/workspaces").await.text().contains(&id));
}

#[tokio::test]
async fn launch_errors_show_the_apis_message_and_keep_the_input() {
    let portal = portal(|s| s.workspaces.max_running_per_user = 1).await;
    let browser = Browser::signed_in_as(&portal.app, "user:default/alice").await;
    let token = browser.csrf().await;
    let refused = browser
        .post(
            "/workspaces",
            &[
                ("_csrf", &token),
                ("devfile_url", "http://example.com/d.yaml"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let text = refused.text();
    assert!(
        text.contains("Invalid devfileUrl: URL must be HTTPS"),
        "{text}"
    );
    assert!(text.contains("value=\"http://example.com/d.yaml\""));
    launch(&portal, &browser, "first").await;
    let url = portal.devfiles.url("/devfile.yaml");
    let over = browser
        .post("/workspaces", &[("_csrf", &token), ("devfile_url", &url)])
        .await;
    assert_eq!(over.status, StatusCode::FORBIDDEN);
    assert!(
        over.text()
            .contains("Workspace quota exceeded: 1 of 1 running workspaces")
    );
    // The golden path quick pick launches the configured devfile.
    let portal = self::portal(|_| {}).await;
    let browser = Browser::signed_in_as(&portal.app, "user:default/bob").await;
    let page = browser.get("/workspaces").await.text();
    assert!(page.contains(&portal.devfiles.url("/devfile.yaml")));
    let token = super::csrf(&page);
    let picked = browser
        .post(
            "/workspaces",
            &[
                ("_csrf", &token),
                ("devfile_url", &portal.devfiles.url("/devfile.yaml")),
            ],
        )
        .await;
    assert_eq!(picked.status, StatusCode::SEE_OTHER);
    // Named as Che names it: the devfile's name, with a suffix only when that is taken.
    assert_eq!(
        picked.header("location"),
        "/workspaces?launched=goldenpath-python"
    );
}

#[tokio::test]
async fn every_form_post_needs_the_sessions_csrf_token() {
    let portal = portal(|_| {}).await;
    let browser = Browser::signed_in_as(&portal.app, "user:default/alice").await;
    let id = launch(&portal, &browser, "csrf-ws").await;
    let other = Browser::signed_in_as(&portal.app, "user:default/alice").await;
    let others_token = other.csrf().await;
    let url = portal.devfiles.url("/devfile.yaml");
    for path in [
        "/workspaces".to_owned(),
        format!("/workspaces/{id}/start"),
        format!("/workspaces/{id}/stop"),
        format!("/workspaces/{id}/delete"),
        "/sign-out".to_owned(),
    ] {
        for token in ["", "forged", others_token.as_str()] {
            let response = browser
                .post(
                    &path,
                    &[
                        ("_csrf", token),
                        ("devfile_url", &url),
                        ("confirmed", "yes"),
                    ],
                )
                .await;
            assert_eq!(
                response.status,
                StatusCode::FORBIDDEN,
                "{path} with '{token}'"
            );
            assert!(response.text().contains("CSRF check failed"));
        }
    }
    // Nothing happened: one workspace, still there, still signed in.
    let page = browser.get("/workspaces").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("1 of 3 running"));
    // htmx sends the token as a header.
    let token = browser.csrf().await;
    let by_header = browser
        .request(
            Method::POST,
            &format!("/workspaces/{id}/stop"),
            Some(&[]),
            &[("x-csrf-token", &token), ("hx-request", "true")],
        )
        .await;
    assert_eq!(by_header.status, StatusCode::OK);
}

#[tokio::test]
async fn one_user_never_sees_or_touches_anothers_workspaces() {
    let portal = portal(|_| {}).await;
    let alice = Browser::signed_in_as(&portal.app, "user:default/alice").await;
    let id = launch(&portal, &alice, "alice-secret-ws").await;
    let bob = Browser::signed_in_as(&portal.app, "user:default/bob").await;
    let bob_htmx = Browser::signed_in_as(&portal.app, "user:default/bob")
        .await
        .with_header("hx-request", "true");
    for (who, path) in [
        (&bob, "/"),
        (&bob, "/workspaces"),
        (&bob, "/workspaces/list"),
        (&bob_htmx, "/workspaces/list"),
        (&bob, "/dora"),
        (&bob_htmx, "/dora/history"),
    ] {
        let response = who.get(path).await;
        assert!(response.status.is_success(), "{path}: {}", response.status);
        let text = response.text();
        assert!(
            !text.contains("alice-secret-ws") && !text.contains(&id),
            "{path}: {text}"
        );
    }
    assert!(
        bob.get("/workspaces")
            .await
            .text()
            .contains("0 of 3 running")
    );
    let token = bob.csrf().await;
    for action in ["start", "stop", "delete"] {
        let response = bob
            .post(
                &format!("/workspaces/{id}/{action}"),
                &[("_csrf", &token), ("confirmed", "yes")],
            )
            .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{action}");
        assert!(response.text().contains("Workspace not found"));
        assert!(!response.text().contains("alice-secret-ws"));
    }
    let unconfirmed = bob
        .post(&format!("/workspaces/{id}/delete"), &[("_csrf", &token)])
        .await;
    assert_eq!(unconfirmed.status, StatusCode::NOT_FOUND);
    assert!(
        alice
            .get("/workspaces")
            .await
            .text()
            .contains("alice-secret-ws")
    );
}

#[tokio::test]
async fn a_browser_and_a_token_of_the_same_user_share_one_rate_limit() {
    let app = TestApp::build(
        |s| s.rate_limit.user_per_minute = 4,
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    // `app.token` is user:default/tester's; so is this browser.
    let browser = Browser::signed_in_as(&app, "user:default/tester").await;
    assert_eq!(
        app.get("/api/auth/v1/userinfo").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/auth/v1/userinfo").await.status,
        StatusCode::OK
    );
    let page = browser.get("/workspaces").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("x-ratelimit-limit"), "4");
    assert_eq!(page.header("x-ratelimit-remaining"), "1");
    assert_eq!(browser.get("/").await.status, StatusCode::OK);
    let limited = browser.get("/dora").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        limited
            .text()
            .contains("Rate limit exceeded: 4 requests per minute")
    );
    assert!(limited.headers.contains_key("retry-after"));
    assert_eq!(
        app.get("/api/auth/v1/userinfo").await.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the API shares the budget"
    );
    // Another user is unaffected.
    let other = Browser::signed_in_as(&app, "user:default/other").await;
    assert_eq!(other.get("/").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_admin_page_is_for_admins_and_shows_no_secrets() {
    let app = TestApp::build(
        |s| {
            s.ui.admin_users = vec!["user:default/root".into()];
            s.ui.public_url = "http://127.0.0.1:7007".into();
            s.ui.github.client_id = "Iv1.abc".into();
            s.ui.github.client_secret = "github-secret-value".into();
            s.ui.guest = "on".into();
            s.auth.static_tokens = vec![fawkes_portal::config::auth::StaticTokenSettings {
                token: "static-token-value".into(),
                subject: "ci-bot".into(),
                ..Default::default()
            }];
            s.rate_limit.overrides = vec![fawkes_portal::config::rate_limit::RateLimitOverride {
                subject: "ci-bot".into(),
                per_minute: 5000,
            }];
        },
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    let user = Browser::signed_in_as(&app, "user:default/alice").await;
    assert!(
        !user.get("/").await.text().contains("/admin\""),
        "no Admin link"
    );
    let refused = user.get("/admin").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.text().contains("group:default/platform-team"));
    let admin = Browser::signed_in_as(&app, "user:default/root").await;
    assert!(admin.get("/").await.text().contains(">Admin</a>"));
    let page = admin.get("/admin").await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    for expected in [
        "Locations with errors",
        "All 0 registered locations processed without errors",
        "Rate limits in force",
        "this process (memory)",
        "ci-bot",
        "5000 per minute",
        "simulated (no cluster configured; nothing runs)",
        "GitHub, guest",
        "sqlite",
        env!("CARGO_PKG_VERSION"),
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    for secret in ["github-secret-value", "static-token-value"] {
        assert!(!text.contains(secret), "{secret} shown");
    }
}

#[tokio::test]
async fn assets_are_embedded_compressed_and_revalidated() {
    let app = TestApp::new().await;
    let browser = Browser::new(&app).with_header("accept-encoding", "gzip, br");
    let js = browser.get("/ui/assets/htmx.min.js").await;
    assert_eq!(js.status, StatusCode::OK);
    assert_eq!(js.header("content-encoding"), "gzip");
    assert_eq!(js.header("content-type"), "text/javascript; charset=utf-8");
    let etag = js.header("etag").to_owned();
    let again = browser
        .request(
            Method::GET,
            "/ui/assets/htmx.min.js",
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let plain = Browser::new(&app).get("/ui/assets/htmx.min.js").await;
    assert!(plain.headers.get("content-encoding").is_none());
    assert!(plain.text().starts_with("var htmx="));
    assert_ne!(plain.header("etag"), etag);
    assert_eq!(
        Browser::new(&app).get("/ui/assets/app.css").await.status,
        StatusCode::OK
    );
    assert_eq!(
        Browser::new(&app).get("/ui/assets/nope.js").await.status,
        StatusCode::NOT_FOUND
    );
    // The JavaScript budget: under 60 KB gzipped in all.
    let shipped: usize = fawkes_portal::ui::assets::javascript()
        .iter()
        .map(|(_, bytes)| bytes)
        .sum();
    assert!(shipped > 10_000 && shipped < 60 * 1024, "{shipped} bytes");
}

#[tokio::test]
async fn pages_load_nothing_from_elsewhere() {
    let app = TestApp::build(
        |s| s.ui.admin_users = vec!["user:default/root".into()],
        fawkes_portal::app::routes::api_routes(),
    )
    .await;
    let signed_in = Browser::signed_in_as(&app, "user:default/root").await;
    let stranger = Browser::new(&app);
    for path in ["/", "/workspaces", "/dora", "/admin", "/sign-in"] {
        let browser = if path == "/sign-in" {
            &stranger
        } else {
            &signed_in
        };
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            page.header("content-security-policy")
                .contains("script-src 'self'"),
            "{path}"
        );
        let text = page.text();
        assert!(text.starts_with("<!doctype html>"), "{path}");
        assert!(text.contains("<html lang=\"en\">"));
        for attribute in ["src=\"", "href=\""] {
            for piece in text.split(attribute).skip(1) {
                let target = piece.split('"').next().unwrap();
                assert!(
                    !target.starts_with("http") && !target.starts_with("//"),
                    "{path} loads {target}"
                );
            }
        }
    }
}
