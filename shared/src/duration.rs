//! Go-style durations (`90s`, `1h30m`, `1.5h`, `500ms`), the syntax `docker logs --since` accepts,
//! and durations the way an operator reads them ([`human`]).

use std::time::Duration;

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Nothing but white space.
    #[error("empty duration")]
    Empty,
    /// A leading `-`.
    #[error("negative duration")]
    Negative,
    /// A number with no unit after it, such as `20`.
    #[error("missing unit after {0:?} (use ns, us, ms, s, m or h)")]
    MissingUnit(String),
    /// A unit that is not one of ns, us, µs, ms, s, m, h.
    #[error("unknown unit {0:?} (use ns, us, ms, s, m or h)")]
    UnknownUnit(String),
    /// Something that is not a number where one was expected.
    #[error("expected a number at {0:?}")]
    BadNumber(String),
    /// The total is zero.
    #[error("duration is zero")]
    Zero,
    /// The total is over Go's limit (2^63-1 ns, about 292 years), as Go's `time.ParseDuration` says.
    #[error("duration is too large (at most 2562047h47m16s)")]
    TooLarge,
}

const UNITS: [(&str, u128); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Parses a positive Go duration such as `20m` or `1h30m`; zero, negative and unit-less values are errors.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(DurationError::Empty);
    }
    if rest.starts_with('-') {
        return Err(DurationError::Negative);
    }
    rest = rest.strip_prefix('+').unwrap_or(rest);
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let (int, frac, after) = split_number(rest)?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        if unit.is_empty() {
            return Err(DurationError::MissingUnit(rest.to_owned()));
        }
        let scale = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, n)| *n)
            .ok_or_else(|| DurationError::UnknownUnit(unit.to_owned()))?;
        total = total
            .checked_add(scaled(int, frac, scale)?)
            .ok_or(DurationError::TooLarge)?;
        rest = next;
    }
    if total == 0 {
        return Err(DurationError::Zero);
    }
    if total > i64::MAX as u128 {
        return Err(DurationError::TooLarge);
    }
    let secs = u64::try_from(total / 1_000_000_000).map_err(|_| DurationError::TooLarge)?;
    Ok(Duration::new(secs, (total % 1_000_000_000) as u32))
}

/// Splits a leading `123.45` into its digits before and after the dot, and the rest.
fn split_number(s: &str) -> Result<(&str, &str, &str), DurationError> {
    let int_len = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (int, after) = s.split_at(int_len);
    let (frac, after) = match after.strip_prefix('.') {
        Some(f) => {
            let n = f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len());
            f.split_at(n)
        }
        None => ("", after),
    };
    if int.is_empty() && frac.is_empty() {
        return Err(DurationError::BadNumber(s.to_owned()));
    }
    Ok((int, frac, after))
}

/// `int.frac` times `scale` nanoseconds, truncated to whole nanoseconds.
fn scaled(int: &str, frac: &str, scale: u128) -> Result<u128, DurationError> {
    let whole: u128 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| DurationError::TooLarge)?
    };
    let mut nanos = whole.checked_mul(scale).ok_or(DurationError::TooLarge)?;
    let mut place = scale;
    for digit in frac.bytes().take(30) {
        place /= 10;
        nanos += u128::from(digit - b'0') * place;
    }
    Ok(nanos)
}

/// Formats a duration the way an operator reads it: `1h5m`, `25m3s`, `42s`, `500ms`.
pub fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;
