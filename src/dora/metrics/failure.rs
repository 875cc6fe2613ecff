//! Change failure rate (`docs/DORA.md`) and the time to restore service: 2023's failed deployment
//! recovery time and 2021's median time to restore (`docs/DORA.md`).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use utoipa::ToSchema;

use super::{Computed, ProjectFacts, Window};
use crate::dora::benchmark::{self, Benchmark};
use crate::dora::stats::{fixed, hours_tenths, lower_median, ratio, truncated_minutes};

/// What the change failure rate was computed from.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeFailureDetails {
    /// Successful production deployments that finished in the window.
    pub deployments: i64,
    /// Of those, deployments with at least one incident linked to them.
    pub failed_deployments: i64,
    /// Incidents linked to the window's deployments.
    pub incidents: i64,
}

/// What the time to restore service was computed from.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestoreDetails {
    /// Incidents in the sample: 2023, incidents of the window's deployments resolved in the
    /// window; 2021, incidents resolved in the window.
    pub incidents: i64,
    /// The lower median in whole minutes.
    pub median_minutes: Option<i64>,
}

/// Deployment ids (per project) of the window's deployments, with their finish time.
fn window_deployments<'a>(project: &'a ProjectFacts, window: &Window) -> BTreeMap<&'a str, i64> {
    project
        .deployments
        .iter()
        .filter(|d| window.contains(d.finished_ms))
        .map(|d| (d.id.as_str(), d.finished_ms))
        .collect()
}

/// Deployments in the window with at least one linked incident, over all deployments in the
/// window. `None` while the projects have never received an incident (unlike DevLake, which
/// checks the whole database), or without deployments in the window.
pub fn change_failure_rate(
    facts: &[ProjectFacts],
    window: &Window,
    benchmark: Benchmark,
) -> Computed<ChangeFailureDetails> {
    let mut details = ChangeFailureDetails::default();
    for project in facts {
        let deployments = window_deployments(project, window);
        let mut failed = BTreeSet::new();
        for incident in &project.incidents {
            if deployments.contains_key(incident.deployment.as_str()) {
                details.incidents += 1;
                failed.insert(incident.deployment.as_str());
            }
        }
        details.deployments += deployments.len() as i64;
        details.failed_deployments += failed.len() as i64;
    }
    let rate = ratio(details.failed_deployments, details.deployments, 10_000)
        .filter(|_| facts.iter().any(|f| f.has_incidents));
    let Some(basis_points) = rate else {
        return Computed::empty(details);
    };
    Computed {
        // MySQL rounds the rate to four decimals first, then the percentage to one.
        value: Some(fixed((basis_points + 5) / 10, 1)),
        performance: Some(benchmark::change_failure_rate(benchmark, basis_points)),
        raw: Some(basis_points as f64),
        details,
    }
}

/// One incident's time to restore, in whole minutes, by when it was resolved: 2023, from the
/// finish of the window deployment it is linked to to its resolution in the window; 2021, its
/// own lead time (created to resolved; unknown when the store has none) if resolved in the window.
pub fn restore_times(
    facts: &[ProjectFacts],
    window: &Window,
    benchmark: Benchmark,
) -> Vec<(i64, Option<i64>)> {
    match benchmark {
        Benchmark::Dora2023 => {
            let mut times = Vec::new();
            for project in facts {
                let deployments = window_deployments(project, window);
                for incident in &project.incidents {
                    let finished = deployments.get(incident.deployment.as_str());
                    if let (Some(finished), Some(resolved)) = (finished, incident.resolution_ms)
                        && window.contains(resolved)
                    {
                        times.push((resolved, Some(truncated_minutes(*finished, resolved))));
                    }
                }
            }
            times
        }
        Benchmark::Dora2021 => facts
            .iter()
            .flat_map(|f| &f.restored)
            .filter(|i| window.contains(i.resolution_ms))
            .map(|i| (i.resolution_ms, i.lead_time_minutes))
            .collect(),
    }
}

/// 2023: the lower median of whole minutes from a window deployment's finish to the resolution
/// (in the window) of an incident linked to it. 2021: the lower median of the incidents' own
/// lead time (created to resolved) over incidents resolved in the window.
pub fn time_to_restore(
    facts: &[ProjectFacts],
    window: &Window,
    benchmark: Benchmark,
) -> Computed<RestoreDetails> {
    let times = restore_times(facts, window, benchmark);
    let median = match benchmark {
        Benchmark::Dora2023 => {
            let mut minutes: Vec<i64> = times.iter().filter_map(|(_, m)| *m).collect();
            let count = minutes.len() as i64;
            (count, lower_median(&mut minutes))
        }
        Benchmark::Dora2021 => {
            // NULL lead times stay in DevLake's ranking and sort first.
            let mut minutes: Vec<Option<i64>> = times.iter().map(|(_, m)| *m).collect();
            minutes.sort_unstable();
            let count = minutes.len() as i64;
            let median = minutes
                .get(minutes.len().saturating_sub(1) / 2)
                .copied()
                .flatten();
            (count, median)
        }
    };
    let details = RestoreDetails {
        incidents: median.0,
        median_minutes: median.1,
    };
    let Some(minutes) = details.median_minutes else {
        return Computed::empty(details);
    };
    Computed {
        value: Some(fixed(hours_tenths(minutes), 1)),
        performance: Some(benchmark::time_to_restore(minutes)),
        raw: Some(minutes as f64),
        details,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dora::benchmark::Performance;
    use crate::dora::calendar::Day;
    use crate::dora::metrics::{LinkedIncident, ProdDeployment, RestoredIncident};

    fn at(text: &str, hour: i64, minute: i64) -> i64 {
        Day::parse(text).unwrap().start_ms() + hour * 3_600_000 + minute * 60_000
    }

    fn june() -> Window {
        Window::days(
            Day::parse("2024-06-01").unwrap(),
            Day::parse("2024-06-30").unwrap(),
        )
    }

    /// `n` deployments on successive June days at 10:00, the first `failed` with an incident.
    fn deployments(n: i64, failed: i64) -> ProjectFacts {
        ProjectFacts {
            has_deployments: true,
            has_incidents: true,
            deployments: (0..n)
                .map(|i| ProdDeployment {
                    id: format!("d{i}"),
                    finished_ms: at("2024-06-01", 10, 0) + i * 86_400_000,
                })
                .collect(),
            incidents: (0..failed)
                .map(|i| LinkedIncident {
                    deployment: format!("d{i}"),
                    resolution_ms: None,
                })
                .collect(),
            ..ProjectFacts::default()
        }
    }

    #[test]
    fn change_failure_rate_table() {
        use Benchmark::{Dora2021, Dora2023};
        use Performance::{Elite, High, Low, Medium};
        let mut two_incidents_one_deployment = deployments(4, 1);
        two_incidents_one_deployment.incidents.push(LinkedIncident {
            deployment: "d0".into(),
            resolution_ms: None,
        });
        let no_incident_ever = ProjectFacts {
            has_incidents: false,
            ..deployments(5, 0)
        };
        let cases = [
            (
                "devlake 2 of 7",
                Dora2023,
                vec![deployments(7, 2)],
                Some(28.6),
                Some(Low),
            ),
            (
                "devlake 2 of 7, 2021",
                Dora2021,
                vec![deployments(7, 2)],
                Some(28.6),
                Some(Medium),
            ),
            (
                "fawkes 2 of 20",
                Dora2023,
                vec![deployments(20, 2)],
                Some(10.0),
                Some(High),
            ),
            (
                "fawkes 2 of 20, 2021",
                Dora2021,
                vec![deployments(20, 2)],
                Some(10.0),
                Some(Elite),
            ),
            (
                "none failed",
                Dora2023,
                vec![deployments(3, 0)],
                Some(0.0),
                Some(Elite),
            ),
            (
                "a deployment with two incidents counts once",
                Dora2023,
                vec![two_incidents_one_deployment],
                Some(25.0),
                Some(Low),
            ),
            (
                "1 of 3 rounds to 33.3",
                Dora2023,
                vec![deployments(3, 1)],
                Some(33.3),
                Some(Low),
            ),
            (
                "no deployments in the window",
                Dora2023,
                vec![deployments(0, 0)],
                None,
                None,
            ),
            (
                "no incident ever received",
                Dora2023,
                vec![no_incident_ever],
                None,
                None,
            ),
            (
                "a team sums its projects",
                Dora2023,
                vec![deployments(10, 1), deployments(10, 0)],
                Some(5.0),
                Some(Elite),
            ),
        ];
        for (name, benchmark, facts, value, performance) in cases {
            let got = change_failure_rate(&facts, &june(), benchmark);
            assert_eq!(got.value, value, "{name}");
            assert_eq!(got.performance, performance, "{name}");
        }
    }

    #[test]
    fn recovery_time_table() {
        let deployed = at("2024-06-10", 14, 0);
        let project = |resolutions: &[Option<i64>]| ProjectFacts {
            has_deployments: true,
            has_incidents: true,
            deployments: vec![ProdDeployment {
                id: "d".into(),
                finished_ms: deployed,
            }],
            incidents: resolutions
                .iter()
                .map(|r| LinkedIncident {
                    deployment: "d".into(),
                    resolution_ms: *r,
                })
                .collect(),
            ..ProjectFacts::default()
        };
        let minutes = |m: i64| Some(deployed + m * 60_000);
        let cases = [
            // DevLake's dashboard on these facts: 480 and 1440 minutes, a third incident unresolved.
            (
                "devlake",
                project(&[minutes(480), minutes(1440), None]),
                Some(8.0),
                Some(Performance::High),
            ),
            // Fawkes: incident at 14:00 after a deployment at 14:00, resolved at 14:45.
            (
                "fawkes",
                project(&[minutes(45)]),
                Some(0.8),
                Some(Performance::Elite),
            ),
            (
                "truncated minutes",
                project(&[Some(deployed + 59 * 60_000 + 59_999)]),
                Some(1.0),
                Some(Performance::Elite),
            ),
            ("unresolved only", project(&[None]), None, None),
            (
                "resolved after the window",
                project(&[Some(june().to_ms + 1)]),
                None,
                None,
            ),
            (
                "one week is low",
                project(&[minutes(10_080)]),
                Some(168.0),
                Some(Performance::Low),
            ),
        ];
        for (name, facts, value, performance) in cases {
            let got = time_to_restore(&[facts], &june(), Benchmark::Dora2023);
            assert_eq!(got.value, value, "{name}");
            assert_eq!(got.performance, performance, "{name}");
        }
    }

    #[test]
    fn median_time_to_restore_2021() {
        let restored = |items: &[(i64, Option<i64>)]| ProjectFacts {
            restored: items
                .iter()
                .map(|(at, minutes)| RestoredIncident {
                    resolution_ms: *at,
                    lead_time_minutes: *minutes,
                })
                .collect(),
            ..ProjectFacts::default()
        };
        let inside = at("2024-06-05", 0, 0);
        let cases = [
            // DevLake's dashboard on these facts: lead times [360, 60] -> 60 minutes, "1.0(high)".
            (
                "devlake",
                restored(&[(inside, Some(360)), (inside, Some(60))]),
                Some(1.0),
                Some(Performance::High),
            ),
            (
                "nulls rank first",
                restored(&[
                    (inside, None),
                    (inside, None),
                    (inside, Some(10)),
                    (inside, Some(20)),
                    (inside, Some(30)),
                ]),
                Some(0.2),
                Some(Performance::Elite),
            ),
            (
                "a null median",
                restored(&[(inside, None), (inside, Some(10))]),
                None,
                None,
            ),
            (
                "resolved outside",
                restored(&[(june().from_ms - 1, Some(10))]),
                None,
                None,
            ),
        ];
        for (name, facts, value, performance) in cases {
            let got = time_to_restore(&[facts], &june(), Benchmark::Dora2021);
            assert_eq!(got.value, value, "{name}");
            assert_eq!(got.performance, performance, "{name}");
        }
    }
}
