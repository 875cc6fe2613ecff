//! The DORA report benchmarks DevLake ships (its `dora_benchmarks` table) and its cut-offs for
//! each metric (`docs/DORA.md`): which performance level a value earns.

use serde::Serialize;
use utoipa::ToSchema;

/// Which report rates the metrics: a setting (`[dora] default_benchmark`) and a request parameter,
/// so the type lives with the settings; its cut-offs are below.
pub use crate::config::dora::Benchmark;

/// A performance level; `null` in responses when DevLake would show "N/A".
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Performance {
    Elite,
    High,
    Medium,
    Low,
}

/// The median deployment days DevLake rates deployment frequency by (`docs/DORA.md`, deployment frequency).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeploymentDays {
    /// Median deployment days per week (weeks start on Monday).
    pub per_week: Option<i64>,
    /// Median deployment days per calendar month.
    pub per_month: Option<i64>,
    /// The six-month figure (upper median; `None` when the window touches at most six months).
    pub per_six_months: Option<i64>,
    /// DevLake's `is_collected`: `None` makes a would-be "low" an "N/A".
    pub months_collected: Option<i64>,
}

/// Deployment frequency from median deployment days: 2023 elite >= 5 days a week, high >= 1 a
/// week, medium >= 1 a month, else low; 2021 elite >= 5 a week, high >= 1 a month, medium >= 1 per
/// six months, else low. "Low" needs the six-month figures DevLake checks; without them, N/A.
pub fn deployment_frequency(benchmark: Benchmark, days: DeploymentDays) -> Option<Performance> {
    let at_least = |value: Option<i64>, min: i64| value.is_some_and(|v| v >= min);
    match benchmark {
        Benchmark::Dora2023 => {
            if at_least(days.per_week, 5) {
                Some(Performance::Elite)
            } else if at_least(days.per_week, 1) {
                Some(Performance::High)
            } else if at_least(days.per_month, 1) {
                Some(Performance::Medium)
            } else {
                days.months_collected.map(|_| Performance::Low)
            }
        }
        Benchmark::Dora2021 => {
            if at_least(days.per_week, 5) {
                Some(Performance::Elite)
            } else if at_least(days.per_month, 1) {
                Some(Performance::High)
            } else if at_least(days.per_six_months, 1) {
                Some(Performance::Medium)
            } else {
                days.per_six_months.map(|_| Performance::Low)
            }
        }
    }
}

const HOUR: i64 = 60;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;

/// Lead time for changes from the median minutes: 2023 elite < 1 day, high < 1 week, medium < 30
/// days; 2021 elite < 1 hour, high < 1 week, medium < 180 days; else low.
pub fn lead_time(benchmark: Benchmark, minutes: i64) -> Performance {
    let (elite, high, medium) = match benchmark {
        Benchmark::Dora2023 => (DAY, WEEK, 30 * DAY),
        Benchmark::Dora2021 => (HOUR, WEEK, 180 * DAY),
    };
    below(minutes, elite, high, medium)
}

/// Change failure rate from the rate in basis points (MySQL's four-decimal division): 2023 elite
/// <= 5%, high <= 10%, medium <= 15%; 2021 elite <= 15%, high <= 20%, medium <= 30%; else low.
pub fn change_failure_rate(benchmark: Benchmark, basis_points: i64) -> Performance {
    let (elite, high, medium) = match benchmark {
        Benchmark::Dora2023 => (500, 1000, 1500),
        Benchmark::Dora2021 => (1500, 2000, 3000),
    };
    if basis_points <= elite {
        Performance::Elite
    } else if basis_points <= high {
        Performance::High
    } else if basis_points <= medium {
        Performance::Medium
    } else {
        Performance::Low
    }
}

/// Failed deployment recovery time (2023) and median time to restore (2021), from the median
/// minutes; both reports: elite < 1 hour, high < 1 day, medium < 1 week, else low.
pub fn time_to_restore(minutes: i64) -> Performance {
    below(minutes, HOUR, DAY, WEEK)
}

fn below(value: i64, elite: i64, high: i64, medium: i64) -> Performance {
    if value < elite {
        Performance::Elite
    } else if value < high {
        Performance::High
    } else if value < medium {
        Performance::Medium
    } else {
        Performance::Low
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Benchmark::{Dora2021, Dora2023};
    use Performance::{Elite, High, Low, Medium};

    #[test]
    fn lead_time_cut_offs() {
        let cases = [
            (Dora2023, 0, Elite),
            (Dora2023, 1439, Elite),
            (Dora2023, 1440, High),
            (Dora2023, 2000, High),
            (Dora2023, 10_080, Medium),
            (Dora2023, 43_199, Medium),
            (Dora2023, 43_200, Low),
            (Dora2021, 59, Elite),
            (Dora2021, 60, High),
            (Dora2021, 10_079, High),
            (Dora2021, 10_080, Medium),
            (Dora2021, 259_199, Medium),
            (Dora2021, 259_200, Low),
        ];
        for (benchmark, minutes, expected) in cases {
            assert_eq!(
                lead_time(benchmark, minutes),
                expected,
                "{benchmark:?} {minutes}"
            );
        }
    }

    #[test]
    fn change_failure_rate_cut_offs() {
        let cases = [
            (Dora2023, 0, Elite),
            (Dora2023, 500, Elite),
            (Dora2023, 501, High),
            (Dora2023, 1000, High),
            (Dora2023, 1500, Medium),
            (Dora2023, 1501, Low),
            (Dora2023, 2857, Low),
            (Dora2021, 1500, Elite),
            (Dora2021, 2000, High),
            (Dora2021, 2857, Medium),
            (Dora2021, 3001, Low),
        ];
        for (benchmark, bp, expected) in cases {
            assert_eq!(
                change_failure_rate(benchmark, bp),
                expected,
                "{benchmark:?} {bp}"
            );
        }
    }

    #[test]
    fn time_to_restore_cut_offs() {
        for (minutes, expected) in [
            (59, Elite),
            (60, High),
            (1439, High),
            (1440, Medium),
            (10_080, Low),
        ] {
            assert_eq!(time_to_restore(minutes), expected, "{minutes}");
        }
    }

    #[test]
    fn deployment_frequency_levels_and_not_available() {
        let days = |week, month, six, collected| DeploymentDays {
            per_week: Some(week),
            per_month: Some(month),
            per_six_months: six,
            months_collected: collected,
        };
        let cases = [
            (Dora2023, days(5, 20, None, None), Some(Elite)),
            (Dora2023, days(1, 6, None, None), Some(High)),
            (Dora2023, days(0, 2, None, None), Some(Medium)),
            (Dora2023, days(0, 0, None, None), None),
            (Dora2023, days(0, 0, Some(0), Some(0)), Some(Low)),
            (Dora2021, days(5, 20, None, None), Some(Elite)),
            (Dora2021, days(1, 6, None, None), Some(High)),
            (Dora2021, days(0, 0, Some(3), Some(2)), Some(Medium)),
            (Dora2021, days(0, 0, Some(0), Some(0)), Some(Low)),
            (Dora2021, days(0, 0, None, None), None),
        ];
        for (benchmark, days, expected) in cases {
            assert_eq!(
                deployment_frequency(benchmark, days),
                expected,
                "{benchmark:?} {days:?}"
            );
        }
    }
}
