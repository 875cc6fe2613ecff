//! Properties of DevLake's medians and rates over arbitrary samples.

use fawkes_portal::dora::benchmark::Benchmark;
use fawkes_portal::dora::calendar::Day;
use fawkes_portal::dora::metrics::{
    LinkedIncident, ProdDeployment, ProjectFacts, Window, change_failure_rate,
};
use fawkes_portal::dora::stats::{lower_median, ratio, upper_median};
use proptest::prelude::*;

proptest! {
    #[test]
    fn the_lower_median_is_in_the_sample_with_half_at_or_below(values in prop::collection::vec(-10_000i64..10_000, 1..60)) {
        let median = lower_median(&mut values.clone()).unwrap();
        prop_assert!(values.contains(&median));
        let at_or_below = values.iter().filter(|v| **v <= median).count();
        let below = values.iter().filter(|v| **v < median).count();
        prop_assert!(2 * at_or_below >= values.len());
        prop_assert!(2 * below < values.len() + 1);
    }

    #[test]
    fn the_upper_median_is_in_the_sample_and_not_below_the_lower(values in prop::collection::vec(0i64..50, 0..40)) {
        let lower = lower_median(&mut values.clone());
        match upper_median(&mut values.clone()) {
            Some(upper) => {
                prop_assert!(values.contains(&upper));
                prop_assert!(upper >= lower.unwrap());
            }
            None => prop_assert!(values.len() < 2 || values.iter().any(|v| values.iter().filter(|w| *w == v).count() > 1)),
        }
    }

    #[test]
    fn ratios_stay_within_their_scale(failed in 0i64..5000, extra in 0i64..5000) {
        let total = failed + extra;
        match ratio(failed, total, 10_000) {
            Some(r) => prop_assert!((0..=10_000).contains(&r)),
            None => prop_assert_eq!(total, 0),
        }
    }

    #[test]
    fn the_change_failure_rate_is_a_percentage(
        deployments in 1usize..80,
        incidents in prop::collection::vec(0usize..100, 0..120),
        benchmark in prop::sample::select(vec![Benchmark::Dora2021, Benchmark::Dora2023]),
    ) {
        let start = Day::parse("2024-06-01").unwrap();
        let window = Window::days(start, start.plus(29));
        let facts = ProjectFacts {
            has_deployments: true,
            has_incidents: true,
            deployments: (0..deployments)
                .map(|i| ProdDeployment { id: format!("d{i}"), finished_ms: window.from_ms + i as i64 * 3_600_000 })
                .collect(),
            incidents: incidents
                .iter()
                .map(|i| LinkedIncident { deployment: format!("d{i}"), resolution_ms: None })
                .collect(),
            ..ProjectFacts::default()
        };
        let computed = change_failure_rate(&[facts], &window, benchmark);
        let value = computed.value.unwrap();
        prop_assert!((0.0..=100.0).contains(&value), "{}", value);
        prop_assert!(computed.details.failed_deployments <= computed.details.deployments);
        prop_assert!(computed.performance.is_some());
    }
}
