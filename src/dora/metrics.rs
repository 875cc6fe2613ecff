//! The four DORA metrics as pure functions of the facts a store loads for a window (and the
//! window before it, for the trend). Each computation follows Apache DevLake's DORA dashboard
//! (`docs/DORA.md`); where this server differs on purpose, the function says so.

mod failure;
mod frequency;
mod lead_time;
mod series;

use serde::Serialize;
use utoipa::ToSchema;

pub use failure::{
    ChangeFailureDetails, RestoreDetails, change_failure_rate, restore_times, time_to_restore,
};
pub use frequency::{FrequencyDetails, deployment_frequency};
pub use lead_time::{LeadTimeDetails, lead_time, pull_request_cycle_minutes};
pub use series::{MonthPoint, RestorePoint, Series, WeekPoint, series};

use super::benchmark::{Benchmark, Performance};
use super::calendar::{DAY_MS, Day, Millis};

/// A time window, both ends inclusive, in epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The first millisecond.
    pub from_ms: Millis,
    /// The last millisecond.
    pub to_ms: Millis,
}

impl Window {
    /// Whole days `first..=last` (UTC), from 00:00:00.000 to 23:59:59.999.
    pub fn days(first: Day, last: Day) -> Window {
        Window {
            from_ms: first.start_ms(),
            to_ms: last.end_ms(),
        }
    }

    /// Whether `ms` falls in the window.
    pub fn contains(&self, ms: Millis) -> bool {
        (self.from_ms..=self.to_ms).contains(&ms)
    }

    /// The window of the same length that ends just before this one starts.
    pub fn previous(&self) -> Window {
        let length = self.to_ms - self.from_ms + 1;
        Window {
            from_ms: self.from_ms - length,
            to_ms: self.from_ms - 1,
        }
    }

    /// From the start of `earlier` to the end of this window.
    pub fn since(&self, earlier: &Window) -> Window {
        Window {
            from_ms: earlier.from_ms.min(self.from_ms),
            to_ms: self.to_ms,
        }
    }

    /// DevLake's calendar days of a window (`docs/DORA.md`, the window): `date(to - k days)` for k = 0..399
    /// while `to - k days > from`; ascending. For whole-day windows, every day of the window.
    pub fn calendar_days(&self) -> Vec<Day> {
        let mut days: Vec<Day> = (0..400)
            .map(|k| self.to_ms - k * DAY_MS)
            .take_while(|t| *t > self.from_ms)
            .map(Day::of)
            .collect();
        days.reverse();
        days
    }
}

/// A successful production deployment of one project (`docs/DORA.md`): it has at least one commit
/// row with result SUCCESS in PRODUCTION; it happened at the latest finish among those rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProdDeployment {
    /// The deployment's id.
    pub id: String,
    /// When its last successful production commit row finished (epoch ms).
    pub finished_ms: Millis,
}

/// An incident linked to the project's last successful production deployment before it was
/// created (`docs/DORA.md`). Unlinked incidents are not loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedIncident {
    /// The id of the deployment it is linked to.
    pub deployment: String,
    /// When it was resolved (epoch ms), if it was.
    pub resolution_ms: Option<Millis>,
}

/// An incident resolved at `resolution_ms`, for the 2021 median time to restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoredIncident {
    /// When it was resolved (epoch ms).
    pub resolution_ms: Millis,
    /// Its lead time in minutes, as stored.
    pub lead_time_minutes: Option<i64>,
}

/// A change and when the deployment that shipped it finished (`docs/DORA.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A merged pull request, with DevLake's cycle time in minutes.
    /// A merged pull request, with DevLake's cycle time in minutes.
    PullRequest {
        /// When the deployment finished (epoch ms).
        deployed_ms: Millis,
        /// DevLake's cycle time.
        minutes: i64,
    },
    /// A deployed commit with an authored date: minutes from authoring to deployment.
    Commit {
        /// When the deployment finished (epoch ms).
        deployed_ms: Millis,
        /// The commit.
        sha: String,
        /// Minutes from authoring to deployment.
        minutes: i64,
    },
}

/// What a source loads for one project, or for several DevLake projects read together (each
/// shared deployment, incident and change once), over the report's time range (the window and
/// the one before it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectFacts {
    /// Whether the project has ever received a deployment (else no deployment frequency).
    pub has_deployments: bool,
    /// Whether the project has ever received an incident (else no change failure rate).
    pub has_incidents: bool,
    /// Successful production deployments in the time range.
    pub deployments: Vec<ProdDeployment>,
    /// Incidents linked to one of those deployments.
    pub incidents: Vec<LinkedIncident>,
    /// Loaded for the 2021 benchmark only.
    pub restored: Vec<RestoredIncident>,
    /// Changes shipped in the time range: pull requests, else (in a window without any) deployed commits.
    pub changes: Vec<Change>,
}

/// Whether a metric moved against the previous window of the same length.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    Increasing,
    Stable,
    Decreasing,
}

/// `increasing`/`decreasing` when the value moved by more than 5% of the previous value, else
/// `stable`; `None` when either window has no value.
pub fn trend(current: Option<f64>, previous: Option<f64>) -> Option<Trend> {
    let (current, previous) = (current?, previous?);
    let change = current - previous;
    Some(if change.abs() <= 0.05 * previous.abs() {
        Trend::Stable
    } else if change > 0.0 {
        Trend::Increasing
    } else {
        Trend::Decreasing
    })
}

/// One metric for one window: the displayed value and level, the unrounded value the trend
/// compares, and the counts it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Computed<D> {
    /// The value as displayed (DevLake's rounding); `None` is N/A.
    pub value: Option<f64>,
    /// Its performance level under the report's benchmark; `None` is N/A.
    pub performance: Option<Performance>,
    /// The unrounded value, which the trend compares.
    pub raw: Option<f64>,
    /// The counts it came from.
    pub details: D,
}

impl<D> Computed<D> {
    /// No value (N/A), only the counts.
    pub fn empty(details: D) -> Self {
        Computed {
            value: None,
            performance: None,
            raw: None,
            details,
        }
    }
}

/// A metric with its trend against the previous window.
#[derive(Debug, Clone, PartialEq)]
pub struct Reported<D> {
    /// The metric over the window.
    pub current: Computed<D>,
    /// How it moved against the previous window; `None` when either has no value.
    pub trend: Option<Trend>,
    /// The previous window's displayed value (the dashboard shows what the trend compares to).
    pub previous: Option<f64>,
}

/// The four metrics for a window, computed over every project in `facts` together.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Deployment frequency.
    pub deployment_frequency: Reported<FrequencyDetails>,
    /// Lead time for changes.
    pub lead_time: Reported<LeadTimeDetails>,
    /// Change failure rate.
    pub change_failure_rate: Reported<ChangeFailureDetails>,
    /// Failed deployment recovery time (2023) or median time to restore service (2021).
    pub time_to_restore: Reported<RestoreDetails>,
}

fn reported<D>(compute: impl Fn(&Window) -> Computed<D>, window: &Window) -> Reported<D> {
    let current = compute(window);
    let previous = compute(&window.previous());
    Reported {
        trend: trend(current.raw, previous.raw),
        previous: previous.value,
        current,
    }
}

/// Computes the report; `facts` must cover `window` and the one before it.
pub fn report(facts: &[ProjectFacts], window: &Window, benchmark: Benchmark) -> Report {
    Report {
        deployment_frequency: reported(|w| deployment_frequency(facts, w, benchmark), window),
        lead_time: reported(|w| lead_time(facts, w, benchmark), window),
        change_failure_rate: reported(|w| change_failure_rate(facts, w, benchmark), window),
        time_to_restore: reported(|w| time_to_restore(facts, w, benchmark), window),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        Day::parse(text).unwrap()
    }

    #[test]
    fn calendar_days_of_whole_day_windows_and_of_instants() {
        let june = Window::days(day("2024-06-01"), day("2024-06-30"));
        let days = june.calendar_days();
        assert_eq!(days.len(), 30);
        assert_eq!(days[0], day("2024-06-01"));
        assert_eq!(days[29], day("2024-06-30"));
        // DevLake's verified window: 2024-05-31T23:59:59Z .. 2024-06-30T23:59:59Z is June.
        let devlake = Window {
            from_ms: day("2024-05-31").start_ms() + 86_399_000,
            to_ms: day("2024-06-30").start_ms() + 86_399_000,
        };
        assert_eq!(devlake.calendar_days(), days);
        // Noon to noon over a week: the seven days after the start day.
        let noon = 12 * 3_600_000;
        let week = Window {
            from_ms: day("2024-06-01").start_ms() + noon,
            to_ms: day("2024-06-08").start_ms() + noon,
        };
        assert_eq!(week.calendar_days().len(), 7);
        assert_eq!(week.calendar_days()[0], day("2024-06-02"));
    }

    #[test]
    fn the_previous_window_has_the_same_length_and_ends_before() {
        let june = Window::days(day("2024-06-01"), day("2024-06-30"));
        assert_eq!(
            june.previous(),
            Window::days(day("2024-05-02"), day("2024-05-31"))
        );
        assert_eq!(
            june.since(&june.previous()),
            Window::days(day("2024-05-02"), day("2024-06-30"))
        );
    }

    #[test]
    fn trends_need_a_move_of_more_than_five_percent() {
        let cases = [
            (Some(10.0), Some(10.0), Some(Trend::Stable)),
            (Some(10.5), Some(10.0), Some(Trend::Stable)),
            (Some(10.6), Some(10.0), Some(Trend::Increasing)),
            (Some(9.4), Some(10.0), Some(Trend::Decreasing)),
            (Some(1.0), Some(0.0), Some(Trend::Increasing)),
            (Some(0.0), Some(0.0), Some(Trend::Stable)),
            (None, Some(1.0), None),
            (Some(1.0), None, None),
        ];
        for (current, previous, expected) in cases {
            assert_eq!(
                trend(current, previous),
                expected,
                "{current:?} vs {previous:?}"
            );
        }
    }
}
