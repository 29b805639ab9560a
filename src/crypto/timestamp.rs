//! Timestamps the way Go's `time` package reads and writes them (spec §3.4, §4).
//!
//! sops stores `lastmodified` as RFC 3339, uses it re-formatted as the MAC's AAD, and
//! serialises YAML timestamps with Go's `RFC3339Nano` layout. All three must match Go
//! byte for byte, so the formatting and parsing are written out here instead of relying
//! on a general-purpose RFC 3339 implementation with its own leniencies.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::error::{Error, Result};

/// The current time as sops records it in `lastmodified`: UTC, whole seconds.
pub fn now_lastmodified() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    // Setting nanoseconds to 0 cannot fail; fall back to `now` rather than panic.
    now.replace_nanosecond(0).unwrap_or(now)
}

/// Formats a time for the `lastmodified` field: `YYYY-MM-DDTHH:MM:SSZ`, in UTC, with the
/// fractional seconds dropped (what sops writes after `time.Now().UTC()`).
pub fn format_lastmodified(t: &OffsetDateTime) -> String {
    format_go(&t.to_offset(UtcOffset::UTC), false)
}

/// The MAC's AAD: `t` formatted like Go's `time.RFC3339`, keeping `t`'s own offset
/// (`Z` for a zero offset, else `±hh:mm`) and dropping fractional seconds (spec §4.8).
///
/// Because the AAD is re-formatted from the parsed time, `…+00:00` and `…Z` in a file
/// give the same AAD.
pub fn format_mac_aad(t: &OffsetDateTime) -> String {
    format_go(t, false)
}

/// Go's `time.RFC3339Nano`: like [`format_mac_aad`] plus the fractional seconds with
/// trailing zeros trimmed (none at all when they are zero). This is the plaintext of a
/// `type:time` value.
pub fn format_time_nano(t: &OffsetDateTime) -> String {
    format_go(t, true)
}

fn format_go(t: &OffsetDateTime, nanos: bool) -> String {
    let mut out = String::with_capacity(35);
    // Go pads the year to 4 digits and puts a '-' before a negative one.
    let year = t.year();
    if year < 0 {
        out.push('-');
    }
    push_padded(&mut out, year.unsigned_abs(), 4);
    out.push('-');
    push_padded(&mut out, u32::from(u8::from(t.month())), 2);
    out.push('-');
    push_padded(&mut out, u32::from(t.day()), 2);
    out.push('T');
    push_padded(&mut out, u32::from(t.hour()), 2);
    out.push(':');
    push_padded(&mut out, u32::from(t.minute()), 2);
    out.push(':');
    push_padded(&mut out, u32::from(t.second()), 2);
    if nanos && t.nanosecond() != 0 {
        let digits = format!("{:09}", t.nanosecond());
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    let offset = t.offset().whole_seconds();
    if offset == 0 {
        out.push('Z');
    } else {
        // Go drops the seconds of an offset (integer division toward zero, like Rust's).
        let minutes = offset / 60;
        out.push(if minutes < 0 { '-' } else { '+' });
        let minutes = minutes.unsigned_abs();
        push_padded(&mut out, minutes / 60, 2);
        out.push(':');
        push_padded(&mut out, minutes % 60, 2);
    }
    out
}

fn push_padded(out: &mut String, n: u32, width: usize) {
    out.push_str(&format!("{n:0width$}"));
}

/// Parses an RFC 3339 timestamp the way Go's `time.Parse(time.RFC3339, s)` does on its
/// fast path: `YYYY-MM-DDTHH:MM:SS`, optional `.digits` (any count; digits past the ninth
/// are ignored), then `Z` or `±hh:mm`. Fields are range-checked, including the day of
/// the month. Uppercase `T` and `Z` only.
///
/// Not covered: Go's slower fallback parser, which also takes a comma before the
/// fraction and a one-digit hour. sops never writes either.
///
/// The error never quotes the input (a decrypted `time` value is a secret).
pub fn parse_rfc3339(s: &str) -> Result<OffsetDateTime> {
    parse_go(s.as_bytes()).ok_or_else(|| {
        Error::Metadata("not an RFC 3339 timestamp (YYYY-MM-DDTHH:MM:SS[.frac](Z|±hh:mm))".into())
    })
}

fn parse_go(s: &[u8]) -> Option<OffsetDateTime> {
    if s.len() < 19 {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(range)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
    };
    if s[4] != b'-' || s[7] != b'-' || s[10] != b'T' || s[13] != b':' || s[16] != b':' {
        return None;
    }
    let year = i32::try_from(num(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
    let day = u8::try_from(num(8..10)?).ok()?;
    let hour = u8::try_from(num(11..13)?).ok()?;
    let minute = u8::try_from(num(14..16)?).ok()?;
    let second = u8::try_from(num(17..19)?).ok()?;
    // Go allows no leap second here; `time` would reject 60 anyway.
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &s[19..];

    let mut nanos = 0u32;
    if rest.len() >= 2 && rest[0] == b'.' && rest[1].is_ascii_digit() {
        let digits = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
        for i in 0..9 {
            let d = if i < digits {
                u32::from(rest[1 + i] - b'0')
            } else {
                0
            };
            nanos = nanos * 10 + d;
        }
        rest = &rest[1 + digits..];
    }

    let offset = if rest == b"Z" {
        UtcOffset::UTC
    } else {
        if rest.len() != 6 || rest[3] != b':' || !(rest[0] == b'+' || rest[0] == b'-') {
            return None;
        }
        let two = |a: u8, b: u8| -> Option<i8> {
            (a.is_ascii_digit() && b.is_ascii_digit()).then(|| ((a - b'0') * 10 + (b - b'0')) as i8)
        };
        let oh = two(rest[1], rest[2])?;
        let om = two(rest[4], rest[5])?;
        if oh > 23 || om > 59 {
            return None;
        }
        let sign = if rest[0] == b'-' { -1 } else { 1 };
        UtcOffset::from_hms(sign * oh, sign * om, 0).ok()?
    };

    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms_nano(hour, minute, second, nanos).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> OffsetDateTime {
        parse_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn nano_format_matches_go() {
        assert_eq!(
            format_time_nano(&p("2024-01-02T00:00:00Z")),
            "2024-01-02T00:00:00Z"
        );
        assert_eq!(
            format_time_nano(&p("2001-12-14T21:59:43.10-05:00")),
            "2001-12-14T21:59:43.1-05:00"
        );
        assert_eq!(
            format_time_nano(&p("2001-12-15T02:59:43.000000001Z")),
            "2001-12-15T02:59:43.000000001Z"
        );
        assert_eq!(
            format_time_nano(&p("2020-06-01T10:00:00.123456789123+05:30")),
            "2020-06-01T10:00:00.123456789+05:30"
        );
        assert_eq!(
            format_time_nano(&p("2020-06-01T10:00:00.500Z")),
            "2020-06-01T10:00:00.5Z"
        );
    }

    #[test]
    fn mac_aad_drops_fraction_and_keeps_offset() {
        assert_eq!(
            format_mac_aad(&p("2026-11-23T23:22:33Z")),
            "2026-11-23T23:22:33Z"
        );
        assert_eq!(
            format_mac_aad(&p("2026-11-23T23:22:33.999Z")),
            "2026-11-23T23:22:33Z"
        );
        assert_eq!(
            format_mac_aad(&p("2026-11-23T23:22:33+00:00")),
            "2026-11-23T23:22:33Z"
        );
        assert_eq!(
            format_mac_aad(&p("2026-11-23T23:22:33-00:00")),
            "2026-11-23T23:22:33Z"
        );
        assert_eq!(
            format_mac_aad(&p("2026-11-23T23:22:33+01:30")),
            "2026-11-23T23:22:33+01:30"
        );
        assert_eq!(
            format_mac_aad(&p("2026-11-23T23:22:33-09:00")),
            "2026-11-23T23:22:33-09:00"
        );
    }

    #[test]
    fn lastmodified_plus0000_gives_the_same_aad_as_z() {
        // neg/lastmodified_plus0000_ok.yaml: sops decrypts it, because the AAD is the
        // re-formatted timestamp, not the raw text.
        let raw = "2026-11-23T23:49:36+00:00";
        assert_eq!(format_mac_aad(&p(raw)), "2026-11-23T23:49:36Z");
        assert_eq!(
            format_mac_aad(&p(raw)),
            format_mac_aad(&p("2026-11-23T23:49:36Z"))
        );
    }

    #[test]
    fn lastmodified_is_utc_seconds() {
        let now = now_lastmodified();
        assert_eq!(now.nanosecond(), 0);
        assert_eq!(now.offset(), UtcOffset::UTC);
        let s = format_lastmodified(&now);
        assert_eq!(s.len(), 20, "{s}");
        assert!(s.ends_with('Z'));
        assert_eq!(p(&s), now);
        // A non-UTC time is converted.
        assert_eq!(
            format_lastmodified(&p("2026-11-24T01:00:00.5+02:00")),
            "2026-11-23T23:00:00Z"
        );
    }

    #[test]
    fn offsets_are_applied() {
        assert_eq!(p("2026-01-01T05:30:00+05:30"), p("2026-01-01T00:00:00Z"));
        assert_eq!(p("2025-12-31T19:00:00-05:00"), p("2026-01-01T00:00:00Z"));
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "",
            "2026-11-23",
            "2026-11-23 23:22:33Z",
            "2026-11-23t23:22:33Z",
            "2026-11-23T23:22:33z",
            "2026-11-23T23:22:33",
            "2026-11-23T23:22:33+0000",
            "2026-11-23T23:22:33+00:0",
            "2026-11-23T24:00:00Z",
            "2026-11-23T23:60:00Z",
            "2026-11-23T23:22:60Z",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-31T00:00:00Z",
            "2026-11-23T23:22:33.Z",
            "2026-11-23T23:22:33Zjunk",
            "2026-11-23T23:22:33+24:00",
            "+026-11-23T23:22:33Z",
            "2026-11-23T23:22:33+1:000",
            "２026-11-23T23:22:33Z",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "accepted {bad:?}");
        }
        // Leap day in a leap year is fine.
        p("2024-02-29T00:00:00Z");
    }

    #[test]
    fn parse_error_does_not_quote_input() {
        let err = parse_rfc3339("secret-ish-2026").unwrap_err().to_string();
        assert!(!err.contains("secret"), "{err}");
    }
}
