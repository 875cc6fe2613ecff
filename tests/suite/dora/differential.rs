//! The differential test: the same generated facts posted to one server's webhooks and loaded, as
//! DevLake would hold them, into the DevLake tables another server reads (`[dora] source =
//! "devlake"`) give byte-identical answers on every DORA route, over many windows, every
//! project, both teams, all projects and both benchmarks.

use fawkes_portal::dora::calendar::{DAY_MS, Day, format_timestamp};
use serde_json::Value;

use super::dataset::{Dataset, Rng};
use super::{DoraApp, app_with};

const TEAMS: &[(&str, &[&str])] = &[
    ("alpha", &["svc-0", "svc-1", "svc-2"]),
    ("beta", &["svc-3", "svc-4", "svc-5", "svc-6"]),
];

/// Some queries' windows: whole days of several lengths across the data (and around it), a few
/// RFC 3339 instants, and the default (the last 30 days).
fn windows(first: Day, days: i64) -> Vec<String> {
    let mut rng = Rng(0x5eed);
    let mut windows = vec![String::new()];
    for length in [1, 7, 14, 30, 31, 90, 120, 180, 200, 365, 400] {
        for _ in 0..3 {
            let start = first.plus(rng.below((days + 20) as u64) - 10);
            let end = start.plus(length - 1);
            windows.push(format!(
                "&startDate={}&endDate={}",
                start.format(),
                end.format()
            ));
        }
    }
    for _ in 0..4 {
        let from = first.start_ms() + rng.below(days as u64) * DAY_MS + rng.below(86_400) * 1000;
        let to = from + (1 + rng.below(100)) * DAY_MS / 2;
        windows.push(format!(
            "&startDate={}&endDate={}",
            format_timestamp(from),
            format_timestamp(to)
        ));
    }
    windows
}

async fn answer(app: &DoraApp, path: &str) -> (u16, Value) {
    let response = app.get(path).await;
    let body = if response.body.is_empty() {
        Value::Null
    } else {
        response.json()
    };
    (response.status.as_u16(), body)
}

/// What a signed-in user's dashboard page shows from the data: its cards, its charts (with their
/// tables) and the deployment history, without the page's per-session parts.
async fn dashboard(app: &DoraApp, path: &str) -> String {
    let browser = crate::ui::Browser::signed_in_as(&app.app, "user:default/alice").await;
    let page = browser.get(path).await;
    assert_eq!(page.status, 200, "{path}");
    let html = page.text();
    let mut parts = Vec::new();
    for (open, close) in [
        ("data-metric=", "</"),
        ("<figure", "</figure>"),
        ("<section id=\"deployment-history\"", "</section>"),
    ] {
        for piece in html.split(open).skip(1) {
            parts.push(piece.split(close).next().unwrap_or_default().to_owned());
        }
    }
    parts.join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_and_devlake_tables_give_identical_answers() {
    let devlake = crate::devlake_db!();
    let first = Day::parse("2025-01-06").unwrap();
    let days = 420;
    let data = Dataset::generate(18, 7, first, days);
    data.write_devlake(&devlake).await;
    let now = "2026-03-10T12:00:00Z";
    let webhooks = app_with(now, TEAMS, |_| {}).await;
    let url = devlake.url.clone();
    let from_devlake = app_with(now, TEAMS, move |s| {
        s.dora.source = "devlake".into();
        s.dora.devlake.database_url = url;
    })
    .await;
    for (project, kind, body) in data.webhook_bodies() {
        webhooks.hook(&project, kind, body).await;
    }

    let mut scopes: Vec<String> = data
        .projects
        .iter()
        .map(|p| format!("project={}", p.name))
        .collect();
    scopes.extend([
        "team=alpha".to_owned(),
        "team=beta".to_owned(),
        String::new(),
    ]);
    let mut compared = 0;
    // How often each metric had a value: the comparison must cover real numbers.
    let mut with_values = [0; 4];
    let metrics = [
        "deploymentFrequency",
        "leadTimeForChanges",
        "changeFailureRate",
        "timeToRestoreService",
    ];
    for (i, window) in windows(first, days).iter().enumerate() {
        let benchmark = if i % 3 == 0 { "2021" } else { "2023" };
        for scope in &scopes {
            let query = format!("{scope}{window}&benchmark={benchmark}");
            for route in ["/api/devlake/dora-metrics", "/api/dora/metrics"] {
                let path = format!("{route}?{query}");
                let expected = answer(&webhooks, &path).await;
                let got = answer(&from_devlake, &path).await;
                assert_eq!(expected.0, 200, "{path}: {}", expected.1);
                assert_eq!(got, expected, "{path}");
                compared += 1;
                for (n, metric) in metrics.iter().enumerate() {
                    if !expected.1["metrics"][metric]["value"].is_null() {
                        with_values[n] += 1;
                    }
                }
            }
        }
    }
    for project in &data.projects {
        for filter in [
            "",
            "&environment=prod",
            "&environment=staging",
            "&environment=dev",
        ] {
            for limit in ["", "&limit=100", "&limit=3"] {
                let path = format!(
                    "/api/devlake/deployment-history?service={}{filter}{limit}",
                    project.name
                );
                let expected = answer(&webhooks, &path).await;
                assert_eq!(expected.0, 200, "{path}: {}", expected.1);
                assert_eq!(answer(&from_devlake, &path).await, expected, "{path}");
                compared += 1;
            }
        }
    }
    // Unknown names answer alike too.
    for path in [
        "/api/devlake/dora-metrics?project=ghost",
        "/api/devlake/dora-metrics?team=nobody",
        "/api/devlake/deployment-history?service=SVC-0",
    ] {
        let (status, _) = answer(&from_devlake, path).await;
        assert_eq!(status, answer(&webhooks, path).await.0, "{path}");
        assert_eq!(status, 404, "{path}");
    }
    // The web UI's dashboard reads the same service: its cards, charts and history agree.
    for scope in ["scope=project%3Asvc-1", "scope=team%3Abeta", ""] {
        for period in [
            "period=30",
            "period=90",
            "period=custom&start=2025-03-01&end=2025-08-31",
        ] {
            let path = format!("/dora?{scope}&{period}");
            let expected = dashboard(&webhooks, &path).await;
            assert!(expected.contains("data-value="), "{path}: {expected}");
            assert_eq!(dashboard(&from_devlake, &path).await, expected, "{path}");
            compared += 1;
        }
    }
    assert!(compared > 800, "{compared} comparisons");
    for (metric, count) in metrics.iter().zip(with_values) {
        assert!(count > 60, "{metric} had a value in only {count} answers");
    }
    devlake.drop().await;
}
