//! The source contract's bodies about links: incidents to deployments, restored incidents, pull
//! requests to their first deployment.

use fawkes_portal::dora::metrics::{Change, LinkedIncident, RestoredIncident};

use super::{Under, deployment, incident, ms, project, shipped};
use crate::dora::dataset::PullRequest;

pub async fn incidents_link_to_the_last_successful_production_deployment_before_them(
    under: &Under,
) {
    let mut svc = project(
        "svc",
        vec![
            shipped("d1", "a", "2024-06-10T10:00:00Z"),
            deployment("d2", "STAGING", &[("b", "SUCCESS", "2024-06-10T12:00:00Z")]),
            shipped("d3", "c", "2024-06-12T10:00:00Z"),
        ],
    );
    svc.incidents = vec![
        incident("I1", "2024-06-10T11:00:00Z", Some("2024-06-10T13:00:00Z")),
        incident("I2", "2024-06-12T11:00:00Z", None),
        incident("I3", "2024-06-01T00:00:00Z", Some("2024-06-01T01:00:00Z")),
        incident("I4", "2024-06-10T12:30:00Z", None),
    ];
    let mut other = project("other", vec![shipped("o1", "z", "2024-06-11T10:00:00Z")]);
    other.incidents = vec![incident("I9", "2024-06-11T12:00:00Z", None)];
    under.load_projects(vec![svc, other]).await;
    let facts = under.june_facts("svc", false).await;
    let linked = |deployment: &str, resolution: Option<&str>| LinkedIncident {
        deployment: deployment.into(),
        resolution_ms: resolution.map(ms),
    };
    assert_eq!(
        facts.incidents,
        [
            linked("d1", None),
            linked("d1", Some("2024-06-10T13:00:00Z")),
            linked("d3", None),
        ]
    );
    assert!(facts.has_incidents);
    assert!(facts.restored.is_empty(), "only loaded for 2021");
}

pub async fn restored_incidents_carry_their_lead_time(under: &Under) {
    let mut svc = project("svc", vec![shipped("d1", "a", "2024-06-10T10:00:00Z")]);
    let mut given = incident("I2", "2024-06-11T10:00:00Z", Some("2024-06-11T12:00:00Z"));
    given.lead_time_minutes = Some(45);
    svc.incidents = vec![
        incident("I1", "2024-06-10T11:00:00Z", Some("2024-06-10T13:00:59Z")),
        given,
        incident("I3", "2024-04-01T11:00:00Z", Some("2024-04-02T11:00:00Z")),
        incident("I4", "2024-06-12T11:00:00Z", None),
    ];
    under.load_projects(vec![svc]).await;
    let facts = under.june_facts("svc", true).await;
    assert_eq!(
        facts.restored,
        [
            RestoredIncident {
                resolution_ms: ms("2024-06-10T13:00:59Z"),
                lead_time_minutes: Some(120),
            },
            RestoredIncident {
                resolution_ms: ms("2024-06-11T12:00:00Z"),
                lead_time_minutes: Some(45),
            },
        ]
    );
}

pub async fn pull_requests_count_at_their_first_successful_production_deployment(under: &Under) {
    let mut svc = project(
        "svc",
        vec![
            deployment(
                "d1",
                "STAGING",
                &[("aaa", "SUCCESS", "2024-06-05T10:00:00Z")],
            ),
            shipped("d2", "aaa", "2024-06-10T10:00:00Z"),
            shipped("d3", "bbb", "2024-06-12T10:00:00Z"),
            shipped("d4", "bbb", "2024-06-15T10:00:00Z"),
        ],
    );
    let pr = |key: i64, created: &str, merged: Option<&str>, sha: Option<&str>| PullRequest {
        key,
        created: ms(created),
        merged: merged.map(ms),
        merge_sha: sha.map(str::to_owned),
        first_commit: None,
    };
    svc.pull_requests = vec![
        pr(
            1,
            "2024-06-04T08:00:00Z",
            Some("2024-06-04T09:00:30Z"),
            Some("aaa"),
        ),
        PullRequest {
            first_commit: Some(ms("2024-06-11T06:00:00Z")),
            ..pr(
                2,
                "2024-06-11T08:00:00Z",
                Some("2024-06-11T09:00:00Z"),
                Some("bbb"),
            )
        },
        pr(
            3,
            "2024-06-11T08:00:00Z",
            Some("2024-06-11T09:00:00Z"),
            Some("ccc"),
        ),
        pr(4, "2024-06-11T08:00:00Z", None, None),
    ];
    under.load_projects(vec![svc]).await;
    let facts = under.june_facts("svc", false).await;
    // PR 1: created to merged 61 minutes (rounded up), merged to deployed 8,700 minutes (the
    // commit row of d2, its first in production, finished 2024-06-10 10:00).
    // PR 2: coding 120, review 60, deploy 1,500 (first deployed by d3).
    let mut expected = vec![
        Change::PullRequest {
            deployed_ms: ms("2024-06-10T10:00:00Z"),
            minutes: 61 + 8_700,
        },
        Change::PullRequest {
            deployed_ms: ms("2024-06-12T10:00:00Z"),
            minutes: 120 + 60 + 1_500,
        },
    ];
    expected.sort_by_key(|c| format!("{c:?}"));
    assert_eq!(facts.changes, expected);
}
