//! Go's number syntax and formatting (`strconv`), as DevLake's decoder applies them to loosely
//! typed webhook fields.

use serde_json::Number;

/// A JSON number as Go's `float64`.
pub(super) fn float(n: &Number) -> f64 {
    n.as_f64().unwrap_or_default()
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: the shortest text, never an exponent.
pub(super) fn float_text(f: f64) -> String {
    format!("{f}")
}

/// Go's `strconv.ParseInt(text, 0, 64)`: an optional sign, then `0x`, `0o`, `0b` or a bare
/// leading `0` (octal) picks the base; underscores may separate digits.
pub(super) fn go_int(text: &str) -> Option<i64> {
    if !underscores_separate_digits(text) {
        return None;
    }
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'+' => (false, &text[1..]),
        b'-' => (true, &text[1..]),
        _ => (false, text),
    };
    let bytes = unsigned.as_bytes();
    let (radix, digits) = match bytes {
        [] => return None,
        [b'0', letter, _, ..] if matches!(letter.to_ascii_lowercase(), b'b' | b'o' | b'x') => {
            let radix = match letter.to_ascii_lowercase() {
                b'b' => 2,
                b'o' => 8,
                _ => 16,
            };
            (radix, &bytes[2..])
        }
        [b'0', rest @ ..] => (8, rest),
        _ => (10, bytes),
    };
    let mut magnitude: u64 = 0;
    for c in digits.iter().filter(|c| **c != b'_') {
        let digit = u64::from(char::from(*c).to_digit(radix)?);
        magnitude = magnitude
            .checked_mul(u64::from(radix))?
            .checked_add(digit)?;
    }
    if negative {
        0_i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Go's `underscoreOK`: every `_` sits between two digits, or between a base prefix and a digit.
fn underscores_separate_digits(text: &str) -> bool {
    let mut s = text.as_bytes();
    if let [b'+' | b'-', rest @ ..] = s {
        s = rest;
    }
    // What came last: a digit (or base prefix), an underscore, or something else.
    #[derive(PartialEq)]
    enum Saw {
        Start,
        Digit,
        Underscore,
        Other,
    }
    let mut saw = Saw::Start;
    let mut hex = false;
    if let [b'0', letter, rest @ ..] = s
        && matches!(letter.to_ascii_lowercase(), b'b' | b'o' | b'x')
    {
        hex = letter.eq_ignore_ascii_case(&b'x');
        saw = Saw::Digit;
        s = rest;
    }
    for c in s {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = Saw::Digit;
        } else if *c == b'_' {
            if saw != Saw::Digit {
                return false;
            }
            saw = Saw::Underscore;
        } else if saw == Saw::Underscore {
            return false;
        } else {
            saw = Saw::Other;
        }
    }
    saw != Saw::Underscore
}

/// Go's `strconv.ParseFloat(text, 64)` for decimal texts (underscores between digits allowed).
pub(super) fn go_float(text: &str) -> Option<f64> {
    if text.contains("__") || text.starts_with('_') || text.ends_with('_') {
        return None;
    }
    text.replace('_', "").parse().ok()
}
