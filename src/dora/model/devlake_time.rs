//! Webhook times exactly as DevLake's webhook plugin reads them (`common.ConvertStringToTime`,
//! HEAD): the first of seven patterns the text *ends with* picks one Go layout, and the text must
//! then parse with exactly that layout (Go's `time.Parse` rules); a text matching no pattern must
//! be RFC 3339. The instant is stored as DevLake's MySQL stores it: whole microseconds, rounded
//! to the millisecond of a `DATETIME(3)`.
//!
//! | the text ends with        | layout                            |
//! |---------------------------|-----------------------------------|
//! | `±hhmm`                   | `2006-01-02T15:04:05-0700`        |
//! | 6 digits then `±hh:mm`    | `2006-01-02T15:04:05.000000-07:00`|
//! | 3 digits then `±hh:mm`    | `2006-01-02T15:04:05.000-07:00`   |
//! | `±hh:mm`                  | `2006-01-02T15:04:05-07:00`       |
//! | `yyyy-mm-dd hh:mm:ss`     | `2006-01-02 15:04:05` (UTC)       |
//! | `±dd-dd` (a date)         | `2006-01-02` (00:00 UTC)          |
//! | `yyyy-mm-dd hh:mm`        | `2006-01-02 15:04` (UTC)          |
//! | anything else             | RFC 3339 (`Z` or `±hh:mm`)        |
//!
//! Go's rules that matter: a layout without a fraction still takes one (`.` or `,`, any number of
//! digits) right after the seconds; a layout with one takes exactly its digits; the hour may have
//! one digit, every other field two; seconds stop at 59, offsets at 24:60; the day must exist.

use crate::dora::calendar::{Day, Millis};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Zone {
    /// None: UTC.
    Utc,
    /// `-0700`
    Compact,
    /// `-07:00`
    Colon,
    /// `Z07:00`: `Z` or `-07:00`.
    ZOrColon,
}

#[derive(Clone, Copy)]
struct Layout {
    /// `None`: a date alone.
    separator: Option<u8>,
    seconds: bool,
    /// Exactly this many fraction digits; `None`: the layout has no fraction.
    fraction: Option<usize>,
    zone: Zone,
}

const fn layout(separator: u8, fraction: Option<usize>, zone: Zone) -> Layout {
    Layout {
        separator: Some(separator),
        seconds: true,
        fraction,
        zone,
    }
}

const RFC3339: Layout = layout(b'T', None, Zone::ZOrColon);

fn digits(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_digit)
}

/// `text` ends with `pattern`, where `d` is a digit, `s` a sign and other bytes stand for
/// themselves.
fn ends_with(text: &[u8], pattern: &[u8]) -> bool {
    text.len() >= pattern.len()
        && text[text.len() - pattern.len()..]
            .iter()
            .zip(pattern)
            .all(|(c, p)| match p {
                b'd' => c.is_ascii_digit(),
                b's' => matches!(c, b'+' | b'-'),
                _ => c == p,
            })
}

/// The layout DevLake picks for `text`.
fn pick(text: &[u8]) -> Layout {
    if ends_with(text, b"sdddd") {
        layout(b'T', None, Zone::Compact)
    } else if ends_with(text, b"ddddddsdd:dd") {
        layout(b'T', Some(6), Zone::Colon)
    } else if ends_with(text, b"dddsdd:dd") {
        layout(b'T', Some(3), Zone::Colon)
    } else if ends_with(text, b"sdd:dd") {
        layout(b'T', None, Zone::Colon)
    } else if ends_with(text, b"dddd-dd-dd dd:dd:dd") {
        layout(b' ', None, Zone::Utc)
    } else if ends_with(text, b"sdd-dd") {
        Layout {
            separator: None,
            seconds: false,
            fraction: None,
            zone: Zone::Utc,
        }
    } else if ends_with(text, b"dddd-dd-dd dd:dd") {
        Layout {
            separator: Some(b' '),
            seconds: false,
            fraction: None,
            zone: Zone::Utc,
        }
    } else {
        RFC3339
    }
}

/// Reads the text left to right, as Go's parser does.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn literal(&mut self, byte: u8) -> Option<()> {
        let (first, rest) = self.0.split_first()?;
        (*first == byte).then(|| self.0 = rest)
    }

    /// Exactly `n` digits.
    fn fixed(&mut self, n: usize) -> Option<i64> {
        let taken = self.0.get(..n).filter(|d| digits(d))?;
        self.0 = &self.0[n..];
        Some(taken.iter().fold(0, |v, d| v * 10 + i64::from(d - b'0')))
    }

    /// One or two digits (Go's hour `15`).
    fn one_or_two(&mut self) -> Option<i64> {
        let n = if self.0.get(1).is_some_and(u8::is_ascii_digit) {
            2
        } else {
            1
        };
        self.fixed(n)
    }

    /// A `.` or `,` and `n` digits (any number, at least one, when `n` is `None`), as
    /// nanoseconds.
    fn fraction(&mut self, n: Option<usize>) -> Option<i64> {
        if !matches!(self.0.first(), Some(b'.' | b',')) {
            return None;
        }
        let available = self.0[1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let n = n.unwrap_or(available);
        if n == 0 || available < n {
            return None;
        }
        let text = &self.0[1..=n];
        self.0 = &self.0[n + 1..];
        let nanos = text
            .iter()
            .take(9)
            .fold(0, |v, d| v * 10 + i64::from(d - b'0'));
        Some(nanos * 10_i64.pow(9 - n.min(9) as u32))
    }

    /// A `±hh:mm` or `±hhmm` offset in seconds east of UTC.
    fn offset(&mut self, colon: bool) -> Option<i64> {
        let sign = match self.0.first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        self.0 = &self.0[1..];
        let hours = self.fixed(2)?;
        if colon {
            self.literal(b':')?;
        }
        let minutes = self.fixed(2)?;
        (hours <= 24 && minutes <= 60).then_some(sign * (hours * 3600 + minutes * 60))
    }
}

/// The instant `text` names, as DevLake reads and stores it, or why it refuses it.
pub fn parse(text: &str) -> Result<Millis, String> {
    let layout = pick(text.as_bytes());
    let refused = || {
        format!(
            "'{text}' is not a time DevLake accepts: use RFC 3339 (2024-06-01T12:00:00Z, \
             2024-06-01T12:00:00.000+02:00), 2024-06-01 12:00:00 or 2024-06-01 12:00 (UTC), or \
             a date (2024-06-01)"
        )
    };
    parse_with(text.as_bytes(), layout).ok_or_else(refused)
}

fn parse_with(text: &[u8], layout: Layout) -> Option<Millis> {
    let mut r = Reader(text);
    let year = r.fixed(4)?;
    r.literal(b'-')?;
    let month = r.fixed(2)?;
    r.literal(b'-')?;
    let day = r.fixed(2)?;
    let (mut hour, mut minute, mut second, mut nanos, mut offset) = (0, 0, 0, 0, 0);
    if let Some(separator) = layout.separator {
        r.literal(separator)?;
        hour = r.one_or_two()?;
        r.literal(b':')?;
        minute = r.fixed(2)?;
        if layout.seconds {
            r.literal(b':')?;
            second = r.fixed(2)?;
            match layout.fraction {
                Some(n) => nanos = r.fraction(Some(n))?,
                None if r.0.len() >= 2 && r.0[1].is_ascii_digit() => {
                    if let Some(n) = r.fraction(None) {
                        nanos = n;
                    }
                }
                None => {}
            }
        }
        offset = match layout.zone {
            Zone::Utc => 0,
            Zone::Compact => r.offset(false)?,
            Zone::Colon => r.offset(true)?,
            Zone::ZOrColon if r.0.first() == Some(&b'Z') => {
                r.0 = &r.0[1..];
                0
            }
            Zone::ZOrColon => r.offset(true)?,
        };
    }
    if !r.0.is_empty() || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let date = Day::from_ymd(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)?;
    let seconds = hour * 3600 + minute * 60 + second - offset;
    // Go keeps nanoseconds; the MySQL driver sends microseconds; DATETIME(3) rounds them.
    let micros = (date.start_ms() + seconds * 1000) * 1000 + nanos / 1000;
    Some((micros + 500).div_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Millis {
        crate::dora::calendar::parse_timestamp(text).unwrap()
    }

    #[test]
    fn accepts_what_devlake_accepts() {
        let ten = at("2026-06-01T10:00:00Z");
        let cases = [
            ("2026-06-01T10:00:00Z", ten),
            ("2026-06-01T10:00:00.123456789Z", ten + 123),
            ("2026-06-01T12:00:00+02:00", ten),
            ("2026-06-01T12:00:00.5+02:00", ten + 500),
            ("2026-06-01T12:00:00.12+02:00", ten + 120),
            ("2026-06-01T12:00:00.250+02:00", ten + 250),
            ("2026-06-01T12:00:00,250+02:00", ten + 250),
            ("2026-06-01T12:00:00.000001+02:00", ten),
            ("2026-06-01T03:00:00-0700", ten),
            ("2026-06-01T03:00:00.123456789-0700", ten + 123),
            ("2026-06-01T9:00:00-01:00", ten),
            ("2026-06-01 10:00:00", ten),
            ("2026-06-01 10:00", ten),
            ("2026-06-01", at("2026-06-01T00:00:00Z")),
            // Offsets up to 24:60, as Go allows.
            ("2026-06-02T10:00:00+24:00", ten),
            // DATETIME(3) rounds the microseconds.
            ("2026-06-01T10:00:00.0004Z", ten),
            ("2026-06-01T10:00:00.0005Z", ten + 1),
            ("2026-06-01T10:00:00.9996Z", ten + 1000),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn refuses_what_devlake_refuses() {
        for text in [
            "",
            "2026-06-01T10:00:00",
            "2026-06-01T10:00",
            "2026-06-01T10:00:00+02",
            "2026-06-01T10:00:00.1234+02:00",
            "2026-06-01T10:00:00.12345+02:00",
            "2026-06-01T10:00:00.1234567+02:00",
            "2026-06-01T10:00:60Z",
            "2026-06-01T24:00:00Z",
            "2026-02-30T10:00:00Z",
            "2026-06-01 10:00:00Z",
            "2026-06-01 10:00:00+02:00",
            "2026-06-01 10:00:00.5",
            "2026-06-01t10:00:00z",
            "2026-06-01T10:00:00+25:00",
            " 2026-06-01T10:00:00Z",
            "2026-6-01",
            "1717236000",
            "tomorrow",
        ] {
            assert!(parse(text).is_err(), "{text:?} was accepted");
        }
    }
}
