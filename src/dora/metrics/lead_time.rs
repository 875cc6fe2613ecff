//! Lead time for changes: the lower median, in minutes, over the changes whose deployment finished
//! in the window (`docs/DORA.md`, lead time for changes). Per project, the changes are its merged pull requests when it
//! has any in the window, else its deployed commits that carry an authored date.

use std::collections::BTreeSet;

use serde::Serialize;
use utoipa::ToSchema;

use super::{Change, Computed, ProjectFacts, Window};
use crate::dora::benchmark::{self, Benchmark};
use crate::dora::stats::{ceil_minutes, fixed, hours_tenths, lower_median};

/// What lead time for changes was computed from.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LeadTimeDetails {
    /// Changes deployed in the window (pull requests plus commits).
    pub changes: i64,
    /// Of those, merged pull requests (their DevLake cycle time).
    pub pull_requests: i64,
    /// Of those, deployed commits (authored to deployed), for projects without pull requests.
    pub commits: i64,
    /// The lower median in whole minutes.
    pub median_minutes: Option<i64>,
}

/// Lead time for changes over `window`: the median of the changes' minutes, rated by `benchmark`.
pub fn lead_time(
    facts: &[ProjectFacts],
    window: &Window,
    benchmark: Benchmark,
) -> Computed<LeadTimeDetails> {
    let mut minutes = Vec::new();
    let mut details = LeadTimeDetails::default();
    for project in facts {
        let pull_requests: Vec<i64> = project
            .changes
            .iter()
            .filter_map(|change| match change {
                Change::PullRequest {
                    deployed_ms,
                    minutes,
                } if window.contains(*deployed_ms) => Some(*minutes),
                _ => None,
            })
            .collect();
        if pull_requests.is_empty() {
            let mut seen = BTreeSet::new();
            for change in &project.changes {
                if let Change::Commit {
                    deployed_ms,
                    sha,
                    minutes: m,
                } = change
                    && window.contains(*deployed_ms)
                    && seen.insert(sha.as_str())
                {
                    minutes.push(*m);
                    details.commits += 1;
                }
            }
        } else {
            details.pull_requests += pull_requests.len() as i64;
            minutes.extend(pull_requests);
        }
    }
    details.changes = details.pull_requests + details.commits;
    details.median_minutes = lower_median(&mut minutes);
    let Some(median) = details.median_minutes else {
        return Computed::empty(details);
    };
    Computed {
        value: Some(fixed(hours_tenths(median), 1)),
        performance: Some(benchmark::lead_time(benchmark, median)),
        raw: Some(median as f64),
        details,
    }
}

/// DevLake's pull-request cycle time (`docs/DORA.md`): the sum of the parts that are known and not
/// negative, each rounded up to whole minutes: first commit authored to PR created (coding), PR
/// created to merged (pickup and review), merged to deployed.
pub fn pull_request_cycle_minutes(
    first_commit_authored_ms: Option<i64>,
    created_ms: i64,
    merged_ms: i64,
    deployed_ms: i64,
) -> i64 {
    let coding = first_commit_authored_ms.and_then(|first| ceil_minutes(first, created_ms));
    let review = ceil_minutes(created_ms, merged_ms);
    let deploy = ceil_minutes(merged_ms, deployed_ms);
    [coding, review, deploy].into_iter().flatten().sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dora::benchmark::Performance;
    use crate::dora::calendar::Day;

    fn at(text: &str, hour: i64, minute: i64) -> i64 {
        Day::parse(text).unwrap().start_ms() + hour * 3_600_000 + minute * 60_000
    }

    fn pr(deployed_ms: i64, minutes: i64) -> Change {
        Change::PullRequest {
            deployed_ms,
            minutes,
        }
    }

    fn commit(deployed_ms: i64, sha: &str, minutes: i64) -> Change {
        Change::Commit {
            deployed_ms,
            sha: sha.into(),
            minutes,
        }
    }

    fn project(changes: Vec<Change>) -> ProjectFacts {
        ProjectFacts {
            changes,
            ..ProjectFacts::default()
        }
    }

    #[test]
    fn table() {
        let june = Window::days(
            Day::parse("2024-06-01").unwrap(),
            Day::parse("2024-06-30").unwrap(),
        );
        let mid = at("2024-06-15", 12, 0);
        use Benchmark::{Dora2021, Dora2023};
        use Performance::{Elite, High, Medium};
        type Case = (
            &'static str,
            Benchmark,
            Vec<ProjectFacts>,
            Option<f64>,
            Option<Performance>,
            i64,
        );
        let cases: Vec<Case> = vec![
            (
                "devlake [1000,2000,3000,4000]",
                Dora2023,
                vec![project(vec![
                    pr(mid, 1000),
                    pr(mid, 2000),
                    pr(mid, 3000),
                    pr(mid, 4000),
                ])],
                Some(33.3),
                Some(High),
                4,
            ),
            (
                "devlake example, 2021",
                Dora2021,
                vec![project(vec![
                    pr(mid, 1000),
                    pr(mid, 2000),
                    pr(mid, 3000),
                    pr(mid, 4000),
                ])],
                Some(33.3),
                Some(High),
                4,
            ),
            (
                "fawkes: committed 09:00, deployed 13:15",
                Dora2023,
                vec![project(vec![commit(at("2024-06-10", 13, 15), "a1", 255)])],
                Some(4.3),
                Some(Elite),
                1,
            ),
            (
                "fawkes, 2021: over an hour is high",
                Dora2021,
                vec![project(vec![commit(at("2024-06-10", 13, 15), "a1", 255)])],
                Some(4.3),
                Some(High),
                1,
            ),
            (
                "one value",
                Dora2023,
                vec![project(vec![pr(mid, 59)])],
                Some(1.0),
                Some(Elite),
                1,
            ),
            (
                "ties",
                Dora2023,
                vec![project(vec![
                    pr(mid, 5),
                    pr(mid, 5),
                    pr(mid, 9),
                    pr(mid, 9),
                ])],
                Some(0.1),
                Some(Elite),
                4,
            ),
            (
                "outside the window",
                Dora2023,
                vec![project(vec![
                    pr(june.from_ms - 1, 5),
                    pr(june.to_ms + 1, 5),
                ])],
                None,
                None,
                0,
            ),
            (
                "pull requests win over commits in a project",
                Dora2023,
                vec![project(vec![pr(mid, 20_000), commit(mid, "c", 1)])],
                Some(333.3),
                Some(Medium),
                1,
            ),
            (
                "a commit counts once",
                Dora2023,
                vec![project(vec![
                    commit(mid, "c", 10),
                    commit(mid, "c", 10),
                    commit(mid, "d", 30),
                ])],
                Some(0.2),
                Some(Elite),
                2,
            ),
            (
                "a team mixes its projects' kinds",
                Dora2023,
                vec![
                    project(vec![pr(mid, 100)]),
                    project(vec![commit(mid, "c", 300), commit(mid, "d", 500)]),
                ],
                Some(5.0),
                Some(Elite),
                3,
            ),
        ];
        for (name, benchmark, facts, value, performance, changes) in cases {
            let got = lead_time(&facts, &june, benchmark);
            assert_eq!(got.value, value, "{name}");
            assert_eq!(got.performance, performance, "{name}");
            assert_eq!(got.details.changes, changes, "{name}");
        }
    }

    #[test]
    fn cycle_time_sums_the_known_parts_rounded_up() {
        let created = at("2024-06-01", 10, 0);
        let merged = created + 90 * 60_000 + 1;
        let deployed = merged + 30 * 60_000;
        assert_eq!(
            pull_request_cycle_minutes(Some(created - 60_000), created, merged, deployed),
            1 + 91 + 30
        );
        assert_eq!(
            pull_request_cycle_minutes(None, created, merged, deployed),
            91 + 30
        );
        // A first commit after the PR was opened is a negative part, left out.
        assert_eq!(
            pull_request_cycle_minutes(Some(created + 1), created, merged, deployed),
            91 + 30
        );
        // Deployed before the merge (clock skew): that part is left out too.
        assert_eq!(
            pull_request_cycle_minutes(None, created, merged, merged - 1),
            91
        );
    }
}
