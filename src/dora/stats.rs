//! DevLake's medians and roundings (`docs/DORA.md`, as DevLake's dashboard SQL computes them), as pure functions.
//!
//! DevLake's dashboards compute a median as `max(x) WHERE percent_rank() <= 0.5`: the element at
//! 0-based index `(n - 1) / 2` of the ascending list, the *lower* median, never an average. The
//! six-month deployment-frequency figure uses `min(x) WHERE percent_rank() >= 0.5` instead, which
//! is NULL for a single value and, with ties, can select nothing at all.

/// The lower median: `sorted[(n - 1) / 2]`; `None` for an empty sample.
pub fn lower_median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[(values.len() - 1) / 2])
}

/// `min(x) WHERE percent_rank() OVER (ORDER BY x) >= 0.5`, with MySQL's `percent_rank`
/// (`(rank - 1) / (n - 1)`, 0 for a single row, ties sharing the lowest rank).
pub fn upper_median(values: &mut [i64]) -> Option<i64> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    values.sort_unstable();
    let mut first = 0;
    for i in 0..n {
        if values[i] != values[first] {
            first = i;
        }
        // percent_rank >= 0.5  <=>  2 * (rank - 1) >= n - 1
        if 2 * first >= n - 1 {
            return Some(values[i]);
        }
    }
    None
}

/// Whole minutes to hours with one decimal, rounded half away from zero (MySQL's
/// `round(m / 60, 1)`), as tenths of an hour.
pub fn hours_tenths(minutes: i64) -> i64 {
    minutes.signum() * ((minutes.abs() + 3) / 6)
}

/// `numerator / denominator` rounded half up to `scale` units (e.g. 10_000 for MySQL's four
/// decimals of a division). `None` when the denominator is zero.
pub fn ratio(numerator: i64, denominator: i64, scale: i64) -> Option<i64> {
    if denominator <= 0 {
        return None;
    }
    Some((2 * numerator * scale + denominator) / (2 * denominator))
}

/// Whole minutes from `from` to `to`, rounded up; `None` when negative (DevLake's
/// `computeTimeSpan`, used for pull-request cycle-time parts).
pub fn ceil_minutes(from_ms: i64, to_ms: i64) -> Option<i64> {
    let span = to_ms - from_ms;
    (span >= 0).then(|| (span + 59_999) / 60_000)
}

/// Whole minutes from `from` to `to`, truncated toward zero (MySQL's `TIMESTAMPDIFF(MINUTE, ..)`).
pub fn truncated_minutes(from_ms: i64, to_ms: i64) -> i64 {
    (to_ms - from_ms) / 60_000
}

/// A value with `decimals` decimals, from an integer count of `10^-decimals` units.
pub fn fixed(units: i64, decimals: u32) -> f64 {
    units as f64 / 10f64.powi(decimals as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_match_the_verified_devlake_results() {
        // DevLake's median query, run on MariaDB: [1,2,3,4] -> lower 2, upper 3.
        assert_eq!(lower_median(&mut [4, 1, 3, 2]), Some(2));
        assert_eq!(upper_median(&mut [4, 1, 3, 2]), Some(3));
        assert_eq!(lower_median(&mut [0, 0, 0, 1, 2, 2]), Some(0));
        assert_eq!(lower_median(&mut [7]), Some(7));
        assert_eq!(upper_median(&mut [7]), None);
        assert_eq!(lower_median(&mut []), None);
        // Ties: percent_rank of the 2s is 1/3, so nothing reaches 0.5.
        assert_eq!(upper_median(&mut [1, 2, 2, 2]), None);
        assert_eq!(upper_median(&mut [1, 1, 2]), Some(2));
    }

    #[test]
    fn hours_round_half_away_from_zero() {
        let cases = [
            (0, 0),
            (2, 0),
            (3, 1),
            (255, 43),
            (2000, 333),
            (45, 8),
            (60, 10),
            (-3, -1),
        ];
        for (minutes, tenths) in cases {
            assert_eq!(hours_tenths(minutes), tenths, "{minutes} min");
        }
    }

    #[test]
    fn ratios_round_half_up() {
        assert_eq!(ratio(2, 7, 10_000), Some(2857));
        assert_eq!(ratio(2, 20, 10_000), Some(1000));
        assert_eq!(ratio(1, 3, 100), Some(33));
        assert_eq!(ratio(2, 3, 100), Some(67));
        assert_eq!(ratio(1, 0, 100), None);
    }

    #[test]
    fn minute_spans() {
        assert_eq!(ceil_minutes(0, 1), Some(1));
        assert_eq!(ceil_minutes(0, 60_000), Some(1));
        assert_eq!(ceil_minutes(0, 0), Some(0));
        assert_eq!(ceil_minutes(1, 0), None);
        assert_eq!(truncated_minutes(0, 119_999), 1);
        assert_eq!(truncated_minutes(119_999, 0), -1);
    }
}
