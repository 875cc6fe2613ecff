//! The metrics over time, for the dashboard's charts (as DevLake's DORA dashboard draws them):
//! deployments and the median lead time per week, the change failure rate per month, and the
//! time to restore of each incident. Every point is the same metric function run on its part of
//! the window (a Monday week, a calendar month, clipped to the window), so a chart can never
//! disagree with the numbers the API reports.

use super::{
    ProjectFacts, Window, change_failure_rate, deployment_frequency, lead_time, restore_times,
};
use crate::dora::benchmark::Benchmark;
use crate::dora::calendar::{Day, Millis};
use crate::dora::stats::{fixed, hours_tenths};

/// One week (from its Monday, or the window's first day) of the window.
#[derive(Debug, Clone, PartialEq)]
pub struct WeekPoint {
    /// Its first day in the window.
    pub first: Day,
    /// Its last day in the window.
    pub last: Day,
    /// Successful production deployments that finished in the week.
    pub deployments: i64,
    /// The lower median lead time, in whole minutes, of the changes deployed in the week.
    pub lead_time_minutes: Option<i64>,
    /// The same in hours, rounded as the metric is.
    pub lead_time_hours: Option<f64>,
    /// Changes deployed in the week.
    pub changes: i64,
}

/// One calendar month of the window.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthPoint {
    /// Its first day in the window.
    pub first: Day,
    /// Its last day in the window.
    pub last: Day,
    /// Successful production deployments that finished in the month.
    pub deployments: i64,
    /// Of those, deployments with an incident linked to them.
    pub failed_deployments: i64,
    /// Percent, as the metric reports it; `None` when it is N/A.
    pub change_failure_rate: Option<f64>,
}

/// One restored incident.
#[derive(Debug, Clone, PartialEq)]
pub struct RestorePoint {
    /// When it was resolved (epoch milliseconds).
    pub resolved_ms: Millis,
    /// Whole minutes; `None` when the incident's times are unknown (2021).
    pub minutes: Option<i64>,
    /// The same in hours, rounded as the metric is.
    pub hours: Option<f64>,
}

/// The metrics over a window, for charts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// Week by week, in order.
    pub weeks: Vec<WeekPoint>,
    /// Month by month, in order.
    pub months: Vec<MonthPoint>,
    /// In order of resolution.
    pub restores: Vec<RestorePoint>,
}

/// The parts of `window` that start at each `start` of its days (a week's Monday, a month's
/// first day), clipped to the window.
fn parts(window: &Window, start: impl Fn(Day) -> Day) -> Vec<(Day, Day, Window)> {
    let mut parts: Vec<(Day, Day, Window)> = Vec::new();
    let (first, last) = (Day::of(window.from_ms), Day::of(window.to_ms));
    let mut day = first;
    while day <= last {
        match parts.last_mut() {
            Some((part_start, part_last, part)) if start(day) == start(*part_start) => {
                *part_last = day;
                part.to_ms = day.end_ms().min(window.to_ms);
            }
            _ => parts.push((
                day,
                day,
                Window {
                    from_ms: day.start_ms().max(window.from_ms),
                    to_ms: day.end_ms().min(window.to_ms),
                },
            )),
        }
        day = day.plus(1);
    }
    parts
}

/// The series of `window`; `facts` must cover it.
pub fn series(facts: &[ProjectFacts], window: &Window, benchmark: Benchmark) -> Series {
    let weeks = parts(window, Day::monday)
        .into_iter()
        .map(|(first, last, week)| {
            let lead = lead_time(facts, &week, benchmark);
            WeekPoint {
                first,
                last,
                deployments: deployment_frequency(facts, &week, benchmark)
                    .details
                    .deployments,
                lead_time_minutes: lead.details.median_minutes,
                lead_time_hours: lead.value,
                changes: lead.details.changes,
            }
        })
        .collect();
    let months = parts(window, Day::month_start)
        .into_iter()
        .map(|(first, last, month)| {
            let rate = change_failure_rate(facts, &month, benchmark);
            MonthPoint {
                first,
                last,
                deployments: rate.details.deployments,
                failed_deployments: rate.details.failed_deployments,
                change_failure_rate: rate.value,
            }
        })
        .collect();
    let mut restores: Vec<RestorePoint> = restore_times(facts, window, benchmark)
        .into_iter()
        .map(|(resolved_ms, minutes)| RestorePoint {
            resolved_ms,
            minutes,
            hours: minutes.map(|m| fixed(hours_tenths(m), 1)),
        })
        .collect();
    restores.sort_by_key(|r| r.resolved_ms);
    Series {
        weeks,
        months,
        restores,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dora::metrics::{Change, LinkedIncident, ProdDeployment, report};

    fn day(text: &str) -> Day {
        Day::parse(text).unwrap()
    }

    fn at(text: &str, hour: i64) -> Millis {
        day(text).start_ms() + hour * 3_600_000
    }

    #[test]
    fn weeks_and_months_are_clipped_to_the_window() {
        // 2024-06-01 is a Saturday; 2024-07-03 a Wednesday.
        let window = Window::days(day("2024-06-01"), day("2024-07-03"));
        let series = series(&[], &window, Benchmark::Dora2023);
        let weeks: Vec<(String, String)> = series
            .weeks
            .iter()
            .map(|w| (w.first.format(), w.last.format()))
            .collect();
        assert_eq!(
            weeks.first().unwrap(),
            &("2024-06-01".into(), "2024-06-02".into())
        );
        assert_eq!(weeks[1], ("2024-06-03".into(), "2024-06-09".into()));
        assert_eq!(
            weeks.last().unwrap(),
            &("2024-07-01".into(), "2024-07-03".into())
        );
        assert_eq!(weeks.len(), 6);
        let months: Vec<(String, String)> = series
            .months
            .iter()
            .map(|m| (m.first.format(), m.last.format()))
            .collect();
        assert_eq!(
            months,
            [
                ("2024-06-01".into(), "2024-06-30".into()),
                ("2024-07-01".into(), "2024-07-03".into())
            ]
        );
    }

    #[test]
    fn the_points_add_up_to_the_report() {
        let window = Window::days(day("2024-06-01"), day("2024-06-30"));
        let deployments: Vec<ProdDeployment> = (0..12)
            .map(|i| ProdDeployment {
                id: format!("d{i}"),
                finished_ms: at("2024-06-03", 10) + i * 2 * 86_400_000,
            })
            .collect();
        let changes = deployments
            .iter()
            .enumerate()
            .map(|(i, d)| Change::Commit {
                deployed_ms: d.finished_ms,
                sha: format!("c{i}"),
                minutes: 60 * (i as i64 + 1),
            })
            .collect();
        let facts = vec![ProjectFacts {
            has_deployments: true,
            has_incidents: true,
            incidents: vec![
                LinkedIncident {
                    deployment: "d1".into(),
                    resolution_ms: Some(at("2024-06-05", 12)),
                },
                LinkedIncident {
                    deployment: "d4".into(),
                    resolution_ms: Some(at("2024-06-12", 10)),
                },
            ],
            deployments,
            changes,
            ..ProjectFacts::default()
        }];
        let series = series(&facts, &window, Benchmark::Dora2023);
        let report = report(&facts, &window, Benchmark::Dora2023);
        let weekly: i64 = series.weeks.iter().map(|w| w.deployments).sum();
        assert_eq!(
            weekly,
            report.deployment_frequency.current.details.deployments
        );
        assert_eq!(weekly, 12);
        let june = &series.months[0];
        assert_eq!(june.deployments, 12);
        assert_eq!(june.failed_deployments, 2);
        assert_eq!(
            june.change_failure_rate,
            report.change_failure_rate.current.value
        );
        assert_eq!(series.restores.len(), 2);
        // d1 finished 2024-06-05 10:00, restored 12:00: 120 minutes.
        assert_eq!(series.restores[0].minutes, Some(120));
        assert_eq!(series.restores[0].hours, Some(2.0));
        assert_eq!(series.restores[1].minutes, Some(1440));
        // The first week (Mon 3rd to Sun 9th) deployed on the 3rd, 5th, 7th and 9th: lead times
        // 60, 120, 180, 240; the lower median is 120.
        let first_full = series
            .weeks
            .iter()
            .find(|w| w.first == day("2024-06-03"))
            .unwrap();
        assert_eq!(first_full.deployments, 4);
        assert_eq!(first_full.lead_time_minutes, Some(120));
    }
}
