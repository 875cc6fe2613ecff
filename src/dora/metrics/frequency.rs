//! Deployment frequency: the value is successful production deployments per week in the window;
//! the level is DevLake's, from median *deployment days* per week, month and six months
//! (`docs/DORA.md`, deployment frequency).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use utoipa::ToSchema;

use super::{Computed, ProjectFacts, Window};
use crate::dora::benchmark::{self, Benchmark, DeploymentDays};
use crate::dora::calendar::Day;
use crate::dora::stats::{fixed, lower_median, ratio, upper_median};

/// What deployment frequency was computed from.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FrequencyDetails {
    /// Successful production deployments that finished in the window.
    pub deployments: i64,
    /// Calendar days in the window.
    pub days: i64,
    /// Days with at least one of those deployments.
    pub deployment_days: i64,
    /// Median deployment days per week (weeks start on Monday; partial weeks count).
    pub median_deployment_days_per_week: Option<i64>,
    /// Median deployment days per calendar month.
    pub median_deployment_days_per_month: Option<i64>,
    /// DevLake's six-month figure; null unless the window touches more than six months.
    pub median_deployment_days_per_six_months: Option<i64>,
}

/// Deployment frequency over `window`: DevLake's median deployment days, rated by `benchmark`.
pub fn deployment_frequency(
    facts: &[ProjectFacts],
    window: &Window,
    benchmark: Benchmark,
) -> Computed<FrequencyDetails> {
    let days = window.calendar_days();
    let calendar: BTreeSet<Day> = days.iter().copied().collect();
    let mut deployments = 0;
    let mut deployed_days = BTreeSet::new();
    for deployment in facts.iter().flat_map(|f| &f.deployments) {
        if window.contains(deployment.finished_ms) {
            deployments += 1;
        }
        let day = Day::of(deployment.finished_ms);
        if calendar.contains(&day) {
            deployed_days.insert(day);
        }
    }
    let medians = deployment_days(&days, &deployed_days);
    let details = FrequencyDetails {
        deployments,
        days: days.len() as i64,
        deployment_days: deployed_days.len() as i64,
        median_deployment_days_per_week: medians.per_week,
        median_deployment_days_per_month: medians.per_month,
        median_deployment_days_per_six_months: medians.per_six_months,
    };
    // No successful production deployment in the window: N/A, as DevLake's dashboard shows it
    // for a window of any length ("N/A. Please check if you have collected deployments."),
    // whatever else the projects deployed.
    if deployments == 0 || days.is_empty() {
        return Computed::empty(details);
    }
    let per_week = ratio(deployments * 7, details.days, 100).unwrap_or_default();
    Computed {
        value: Some(fixed(per_week, 2)),
        performance: benchmark::deployment_frequency(benchmark, medians),
        raw: Some(deployments as f64 * 7.0 / details.days as f64),
        details,
    }
}

/// The medians of deployment days per week, month and six months over the calendar `days`.
pub(crate) fn deployment_days(days: &[Day], deployed: &BTreeSet<Day>) -> DeploymentDays {
    let mut weeks: BTreeMap<Day, i64> = BTreeMap::new();
    let mut months: BTreeMap<Day, i64> = BTreeMap::new();
    for day in days {
        let hit = i64::from(deployed.contains(day));
        *weeks.entry(day.monday()).or_default() += hit;
        *months.entry(day.month_start()).or_default() += hit;
    }
    let mut per_week: Vec<i64> = weeks.values().copied().collect();
    let mut per_month: Vec<i64> = months.values().copied().collect();
    let (per_six_months, months_collected) = six_months(&months);
    DeploymentDays {
        per_week: lower_median(&mut per_week),
        per_month: lower_median(&mut per_month),
        per_six_months,
        months_collected,
    }
}

/// DevLake's six-month figure (`docs/DORA.md`, deployment frequency), quirks included: rolling sums of
/// deployment days (and of months with deployments) over each month and the five before it; the
/// rows kept are every sixth month counting back from the latest within a partition keyed by
/// `year DIV 6`; then the upper median of the sums and the least month count among the rows
/// with `percent_rank >= 0.5`. Both `None` with fewer than two rows kept.
fn six_months(months: &BTreeMap<Day, i64>) -> (Option<i64>, Option<i64>) {
    let rows: Vec<(Day, i64)> = months.iter().map(|(m, d)| (*m, *d)).collect();
    let rolling: Vec<(i64, i64, i64)> = rows
        .iter()
        .enumerate()
        .map(|(i, (month, _))| {
            let span = &rows[i.saturating_sub(5)..=i];
            let days = span.iter().map(|(_, d)| d).sum();
            let deployed_months = span.iter().filter(|(_, d)| *d > 0).count() as i64;
            (month.ymd().0.div_euclid(6), days, deployed_months)
        })
        .collect();
    let mut kept = Vec::new();
    let mut row_number: BTreeMap<i64, usize> = BTreeMap::new();
    for (partition, days, deployed_months) in rolling.iter().rev() {
        let n = row_number.entry(*partition).or_default();
        *n += 1;
        if *n % 6 == 1 {
            kept.push((*days, *deployed_months));
        }
    }
    let mut sums: Vec<i64> = kept.iter().map(|(d, _)| *d).collect();
    let Some(median) = upper_median(&mut sums) else {
        return (None, None);
    };
    // The rows with percent_rank >= 0.5 are exactly those with a sum >= the upper median.
    let collected = kept
        .iter()
        .filter(|(d, _)| *d >= median)
        .map(|(_, m)| *m)
        .min();
    (Some(median), collected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dora::benchmark::Performance;
    use crate::dora::metrics::ProdDeployment;

    fn day(text: &str) -> Day {
        Day::parse(text).unwrap()
    }

    fn at(text: &str, hour: i64) -> i64 {
        day(text).start_ms() + hour * 3_600_000
    }

    fn facts(finished: &[i64]) -> Vec<ProjectFacts> {
        vec![ProjectFacts {
            has_deployments: true,
            deployments: finished
                .iter()
                .enumerate()
                .map(|(i, ms)| ProdDeployment {
                    id: format!("d{i}"),
                    finished_ms: *ms,
                })
                .collect(),
            ..ProjectFacts::default()
        }]
    }

    #[test]
    fn table() {
        let june = Window::days(day("2024-06-01"), day("2024-06-30"));
        // DevLake's dashboard on these facts: Mon 3, Tue 4, Wed 5 (two), Mon 10, Mon 17, Mon 24 June.
        let devlake = [
            at("2024-06-03", 10),
            at("2024-06-04", 10),
            at("2024-06-05", 9),
            at("2024-06-05", 15),
            at("2024-06-10", 10),
            at("2024-06-17", 10),
            at("2024-06-24", 10),
        ];
        // Fawkes: 10 deployments in 7 days.
        let week = Window::days(day("2024-06-03"), day("2024-06-09"));
        let ten: Vec<i64> = (0..10)
            .map(|i| at("2024-06-03", 0) + i * 15 * 3_600_000)
            .collect();
        // A week crossing a month boundary: Mon 29 Jan .. Sun 4 Feb 2024, one deploy a day.
        let cross = Window::days(day("2024-01-29"), day("2024-02-04"));
        let daily: Vec<i64> = (0..7)
            .map(|i| at("2024-01-29", 12) + i * 86_400_000)
            .collect();
        // 200 days (more than six months), one deployment at the start.
        let long = Window::days(day("2024-01-01"), day("2024-07-18"));
        struct Case<'a> {
            name: &'a str,
            window: Window,
            benchmark: Benchmark,
            finished: &'a [i64],
            value: Option<f64>,
            performance: Option<Performance>,
            weekly: Option<i64>,
            monthly: Option<i64>,
        }
        use Benchmark::{Dora2021, Dora2023};
        let cases = [
            Case {
                name: "devlake example 2023",
                window: june,
                benchmark: Dora2023,
                finished: &devlake,
                value: Some(1.63),
                performance: Some(Performance::High),
                weekly: Some(1),
                monthly: Some(6),
            },
            Case {
                name: "devlake example 2021",
                window: june,
                benchmark: Dora2021,
                finished: &devlake,
                value: Some(1.63),
                performance: Some(Performance::High),
                weekly: Some(1),
                monthly: Some(6),
            },
            Case {
                name: "fawkes 10 in 7 days",
                window: week,
                benchmark: Dora2023,
                finished: &ten,
                value: Some(10.0),
                performance: Some(Performance::Elite),
                weekly: Some(6),
                monthly: Some(6),
            },
            Case {
                name: "week across months",
                window: cross,
                benchmark: Dora2023,
                finished: &daily,
                value: Some(7.0),
                performance: Some(Performance::Elite),
                weekly: Some(7),
                monthly: Some(3),
            },
            Case {
                name: "nothing in 30 days is N/A",
                window: june,
                benchmark: Dora2023,
                finished: &[at("2024-01-01", 1)],
                value: None,
                performance: None,
                weekly: Some(0),
                monthly: Some(0),
            },
            Case {
                name: "nothing in 30 days is N/A (2021)",
                window: june,
                benchmark: Dora2021,
                finished: &[at("2024-01-01", 1)],
                value: None,
                performance: None,
                weekly: Some(0),
                monthly: Some(0),
            },
            Case {
                name: "nothing in 200 days is N/A too",
                window: long,
                benchmark: Dora2023,
                finished: &[at("2023-12-31", 1)],
                value: None,
                performance: None,
                weekly: Some(0),
                monthly: Some(0),
            },
            Case {
                name: "one deployment in 200 days is low",
                window: long,
                benchmark: Dora2023,
                finished: &[at("2024-01-02", 1)],
                value: Some(0.04),
                performance: Some(Performance::Low),
                weekly: Some(0),
                monthly: Some(0),
            },
            Case {
                name: "one deployment day in six months is medium (2021)",
                window: long,
                benchmark: Dora2021,
                finished: &[at("2024-01-02", 1)],
                value: Some(0.04),
                performance: Some(Performance::Medium),
                weekly: Some(0),
                monthly: Some(0),
            },
        ];
        for case in cases {
            let got = deployment_frequency(&facts(case.finished), &case.window, case.benchmark);
            assert_eq!(got.value, case.value, "{}", case.name);
            assert_eq!(got.performance, case.performance, "{}", case.name);
            assert_eq!(
                got.details.median_deployment_days_per_week, case.weekly,
                "{}",
                case.name
            );
            assert_eq!(
                got.details.median_deployment_days_per_month, case.monthly,
                "{}",
                case.name
            );
        }
    }

    #[test]
    fn a_project_that_never_deployed_has_no_value() {
        let june = Window::days(day("2024-06-01"), day("2024-06-30"));
        let got = deployment_frequency(&[ProjectFacts::default()], &june, Benchmark::Dora2023);
        assert_eq!((got.value, got.performance, got.raw), (None, None, None));
        assert_eq!(got.details.days, 30);
    }

    #[test]
    fn the_window_ends_are_inclusive_and_deployment_days_are_distinct() {
        let week = Window::days(day("2024-06-03"), day("2024-06-09"));
        let finished = [
            week.from_ms,
            week.to_ms,
            week.to_ms,
            week.from_ms - 1,
            week.to_ms + 1,
        ];
        let got = deployment_frequency(&facts(&finished), &week, Benchmark::Dora2023);
        assert_eq!(got.details.deployments, 3);
        assert_eq!(got.details.deployment_days, 2);
        assert_eq!(got.value, Some(3.0));
    }

    #[test]
    fn six_month_figures_need_more_than_six_months() {
        let june = Window::days(day("2024-06-01"), day("2024-06-30"));
        let medians = deployment_days(&june.calendar_days(), &BTreeSet::new());
        assert_eq!(
            (medians.per_six_months, medians.months_collected),
            (None, None)
        );
        // 13 months, a deployment day in every month: rows Dec-2024 and Jun-2024 kept, both 6.
        let year = Window::days(day("2023-12-01"), day("2024-12-31"));
        let deployed: BTreeSet<Day> = year
            .calendar_days()
            .into_iter()
            .filter(|d| d.ymd().2 == 15)
            .collect();
        let medians = deployment_days(&year.calendar_days(), &deployed);
        assert_eq!(medians.per_six_months, Some(6));
        assert_eq!(medians.months_collected, Some(6));
    }
}
