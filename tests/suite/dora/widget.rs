//! `GET /api/dora/metrics`, Fawkes' DORA widget's route: the widget (`dora-widget.tsx` in Fawkes'
//! `devlake-dashboard.yaml`) reads five objects at the top level of the answer and renders, per
//! metric, `{value} {unit}`, the rating (upper-cased by CSS) and an icon and colour from it.
//! [`render`] does what the widget does with the answer; a missing object would crash the card.

use serde_json::Value;

use super::{app_at, deployment, incident};

/// The widget's five cards: title and the key it reads.
const CARDS: [(&str, &str); 5] = [
    ("Deployment Frequency", "deploymentFrequency"),
    ("Lead Time", "leadTimeForChanges"),
    ("Change Failure Rate", "changeFailureRate"),
    ("MTTR", "meanTimeToRestore"),
    ("Operational Performance", "operationalPerformance"),
];

/// How JavaScript prints a JSON number in JSX (`{value}`): `10`, not `10.0`; null prints nothing.
fn js_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Number(n) => {
            let f = n.as_f64().unwrap();
            if f.fract() == 0.0 {
                format!("{}", f as i64)
            } else {
                format!("{f}")
            }
        }
        other => panic!("the widget renders a number, not {other}"),
    }
}

/// The widget's rendering: per card `(title, "{value} {unit}", RATING, icon)`.
fn render(metrics: &Value) -> Vec<(String, String, String, &'static str)> {
    CARDS
        .iter()
        .map(|(title, key)| {
            let metric = metrics
                .get(key)
                .unwrap_or_else(|| panic!("{key} is missing: the widget's card would crash"));
            let unit = metric["unit"].as_str().expect("unit is a string");
            let rating = match &metric["rating"] {
                Value::Null => String::new(),
                Value::String(r) => {
                    assert!(
                        ["elite", "high", "medium", "low"].contains(&r.as_str()),
                        "{key}: rating {r}"
                    );
                    r.to_uppercase()
                }
                other => panic!("{key}: rating {other}"),
            };
            let icon = match rating.as_str() {
                "ELITE" | "HIGH" => "StatusOK",
                "MEDIUM" => "StatusWarning",
                _ => "StatusError",
            };
            (
                (*title).to_owned(),
                format!("{} {unit}", js_text(&metric["value"])),
                rating,
                icon,
            )
        })
        .collect()
}

#[tokio::test]
async fn the_widget_renders_the_five_metrics_of_a_project() {
    let app = app_at("2024-06-14T12:00:00Z", &[("platform", &["svc"])]).await;
    // Fawkes' scenario: ten deployments in seven days, one of them followed by an incident
    // restored 45 minutes later.
    for i in 0..10 {
        let finished = format!("2024-06-{:02}T{:02}:00:00Z", 8 + i / 2, 9 + (i % 2) * 5);
        app.hook(
            "svc",
            "deployments",
            deployment(&format!("d{i}"), &finished),
        )
        .await;
    }
    app.hook(
        "svc",
        "incidents",
        incident(
            "INC-1",
            "2024-06-10T14:15:00Z",
            Some("2024-06-10T15:20:00Z"),
        ),
    )
    .await;
    let response = app
        .get("/api/dora/metrics?project=svc&startDate=2024-06-08&endDate=2024-06-14")
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    let body = response.json();
    assert_eq!(body["project"], "svc");
    assert_eq!(body["team"], "platform");
    let cards = render(&body);
    let shown: Vec<(&str, &str, &str, &str)> = cards
        .iter()
        .map(|(t, v, r, i)| (t.as_str(), v.as_str(), r.as_str(), *i))
        .collect();
    assert_eq!(
        shown,
        [
            (
                "Deployment Frequency",
                "10 deploys/week",
                "HIGH",
                "StatusOK"
            ),
            // No pull request and no authored dates: no lead time (N/A).
            ("Lead Time", " hours", "", "StatusError"),
            ("Change Failure Rate", "10 percent", "HIGH", "StatusOK"),
            ("MTTR", "1.3 hours", "HIGH", "StatusOK"),
            ("Operational Performance", " percent", "", "StatusError"),
        ]
    );
    let reason = body["operationalPerformance"]["reason"].as_str().unwrap();
    assert!(reason.contains("SLO"), "{reason}");

    // The same numbers as the DevLake plugin's own route.
    let full = app
        .metrics("project=svc&startDate=2024-06-08&endDate=2024-06-14")
        .await;
    for (widget, metric) in [
        ("deploymentFrequency", "deploymentFrequency"),
        ("leadTimeForChanges", "leadTimeForChanges"),
        ("changeFailureRate", "changeFailureRate"),
        ("meanTimeToRestore", "timeToRestoreService"),
    ] {
        assert_eq!(
            body[widget]["value"], full["metrics"][metric]["value"],
            "{widget}"
        );
        assert_eq!(
            body[widget]["rating"],
            full["metrics"][metric]["performance"]
        );
        assert_eq!(body[widget]["unit"], full["metrics"][metric]["unit"]);
    }
}

#[tokio::test]
async fn the_widget_route_has_the_same_defaults_auth_and_errors() {
    let app = app_at("2024-06-30T12:00:00Z", &[]).await;
    app.hook(
        "svc",
        "deployments",
        deployment("d1", "2024-06-20T10:00:00Z"),
    )
    .await;
    // As the widget calls it: only `project`; the last 30 days.
    let body = app.get("/api/dora/metrics?project=svc").await.json();
    assert_eq!(
        (body["startDate"].as_str(), body["endDate"].as_str()),
        (Some("2024-06-01"), Some("2024-06-30"))
    );
    assert_eq!(render(&body)[0].1, "0.23 deploys/week");
    let unknown = app.get("/api/dora/metrics?project=ghost").await;
    assert_eq!(unknown.status, 404);
    let anonymous = app
        .app
        .get_with("/api/dora/metrics?project=svc", None)
        .await;
    assert_eq!(anonymous.status, 401);
}
