//! UTC calendar arithmetic for the metrics: days since the epoch, weeks starting Monday, months, and
//! the timestamp formats DevLake's webhooks accept. DevLake buckets everything in UTC (its DORA
//! dashboard sets `timezone: utc`), so there are no time zones here beyond parsing offsets.

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// A minute in milliseconds.
pub const MINUTE_MS: i64 = 60_000;
/// A day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// A calendar day, as days since 1970-01-01 (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i64);

impl Day {
    /// The day an instant falls on.
    pub fn of(ms: Millis) -> Day {
        Day(ms.div_euclid(DAY_MS))
    }

    /// The day of a calendar date; `None` when there is no such date.
    pub fn from_ymd(year: i64, month: u32, day: u32) -> Option<Day> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Day(days_from_civil(year, month, day)))
    }

    /// Year, month (1 to 12) and day of the month.
    pub fn ymd(self) -> (i64, u32, u32) {
        civil_from_days(self.0)
    }

    /// 00:00:00.000 of this day.
    pub fn start_ms(self) -> Millis {
        self.0 * DAY_MS
    }

    /// 23:59:59.999 of this day.
    pub fn end_ms(self) -> Millis {
        self.start_ms() + DAY_MS - 1
    }

    /// The Monday of this day's week (DevLake's `day - WEEKDAY(day)`).
    pub fn monday(self) -> Day {
        // 1970-01-01 was a Thursday: Monday-based weekday 3.
        Day(self.0 - (self.0 + 3).rem_euclid(7))
    }

    /// The first day of this day's month.
    pub fn month_start(self) -> Day {
        let (y, m, _) = self.ymd();
        Day(days_from_civil(y, m, 1))
    }

    /// `days` later (earlier when negative).
    pub fn plus(self, days: i64) -> Day {
        Day(self.0 + days)
    }

    /// `YYYY-MM-DD`.
    pub fn format(self) -> String {
        let (y, m, d) = self.ymd();
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// Parses exactly `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Day> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        Day::from_ymd(
            digits(&text[0..4])?,
            u32::try_from(digits(&text[5..7])?).ok()?,
            u32::try_from(digits(&text[8..10])?).ok()?,
        )
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's algorithms (proleptic Gregorian calendar).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Parses the timestamps DevLake's webhooks accept (`ConvertStringToTime`): RFC 3339
/// (`2024-06-01T12:00:00Z`, `+02:00`), an offset without colon (`-0700`), fractions of a second,
/// `YYYY-MM-DD HH:MM:SS` and `YYYY-MM-DD HH:MM` (both UTC). A space may replace the `T`.
pub fn parse_timestamp(text: &str) -> Option<Millis> {
    let text = text.trim();
    if text.len() < 16 {
        return None;
    }
    let day = Day::parse(text.get(0..10)?)?;
    if !matches!(text.as_bytes()[10], b'T' | b't' | b' ') {
        return None;
    }
    let rest = &text[11..];
    let hour = digits(rest.get(0..2)?)?;
    if rest.as_bytes().get(2) != Some(&b':') {
        return None;
    }
    let minute = digits(rest.get(3..5)?)?;
    let mut rest = &rest[5..];
    let mut second = 0;
    let mut millis = 0;
    if let Some(after) = rest.strip_prefix(':') {
        second = digits(after.get(0..2)?)?;
        rest = &after[2..];
        if let Some(after) = rest.strip_prefix('.') {
            let len = after.bytes().take_while(u8::is_ascii_digit).count();
            if len == 0 {
                return None;
            }
            let fraction = &after[..len];
            let padded = format!("{:0<3}", &fraction[..len.min(3)]);
            millis = digits(&padded)?;
            rest = &after[len..];
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset_minutes = match rest {
        "" | "Z" | "z" => 0,
        zone => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let zone = &zone[1..];
            let (h, m) = match zone.len() {
                5 if zone.as_bytes()[2] == b':' => (digits(&zone[0..2])?, digits(&zone[3..5])?),
                4 => (digits(&zone[0..2])?, digits(&zone[2..4])?),
                2 => (digits(zone)?, 0),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 60 + m)
        }
    };
    let seconds = hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(day.start_ms() + seconds * 1000 + millis)
}

/// RFC 3339 in UTC with whole seconds, or milliseconds when there are any: `2024-06-01T12:00:00Z`.
pub fn format_timestamp(ms: Millis) -> String {
    let day = Day::of(ms);
    let of_day = ms - day.start_ms();
    let (h, m, s, milli) = (
        of_day / 3_600_000,
        of_day / 60_000 % 60,
        of_day / 1000 % 60,
        of_day % 1000,
    );
    if milli == 0 {
        format!("{}T{h:02}:{m:02}:{s:02}Z", day.format())
    } else {
        format!("{}T{h:02}:{m:02}:{s:02}.{milli:03}Z", day.format())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_conversions_round_trip() {
        for days in [-800_000, -1, 0, 1, 19_875, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(Day::parse("1970-01-01"), Some(Day(0)));
        assert_eq!(Day::parse("2024-02-29").unwrap().format(), "2024-02-29");
        assert_eq!(Day::parse("2023-02-29"), None);
        assert_eq!(Day::parse("2024-13-01"), None);
        assert_eq!(Day::parse("2024-1-01"), None);
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let saturday = Day::parse("2024-06-01").unwrap();
        assert_eq!(saturday.monday().format(), "2024-05-27");
        let monday = Day::parse("2024-06-03").unwrap();
        assert_eq!(monday.monday(), monday);
        assert_eq!(Day::parse("2024-06-09").unwrap().monday(), monday);
        assert_eq!(saturday.plus(29).month_start(), saturday);
        assert_eq!(
            Day::parse("1969-12-31").unwrap().monday().format(),
            "1969-12-29"
        );
    }

    #[test]
    fn accepts_devlake_timestamp_formats() {
        let noon = Day::parse("2020-01-01").unwrap().start_ms() + 12 * 3_600_000;
        let cases = [
            ("2020-01-01T12:00:00Z", noon),
            ("2020-01-01T12:00:00+00:00", noon),
            ("2020-01-01T14:00:00+02:00", noon),
            ("2020-01-01T05:00:00-0700", noon),
            ("2020-01-01T12:00:00.000+00:00", noon),
            ("2020-01-01T12:00:00.250000Z", noon + 250),
            ("2020-01-01 12:00:00", noon),
            ("2020-01-01 12:00", noon),
            ("2020-01-01T12:00Z", noon),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_timestamp(text), Some(expected), "{text}");
        }
        for bad in [
            "",
            "2020-01-01",
            "yesterday",
            "2020-01-01T25:00:00Z",
            "2020-01-01T12:00:00+5",
            "2020-01-01X12:00:00Z",
            "2020-01-01T12:00:00.Z",
            "1577880000",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_utc_timestamps() {
        let noon = Day::parse("2024-12-06").unwrap().start_ms() + 8 * 3_600_000;
        assert_eq!(format_timestamp(noon), "2024-12-06T08:00:00Z");
        assert_eq!(format_timestamp(noon + 5), "2024-12-06T08:00:00.005Z");
    }
}
