//! YAML timestamps as go-yaml v3 reads and writes them.
//!
//! go-yaml tries Go's `time.Parse` with four layouts, in this order:
//!
//! 1. `2006-1-2T15:4:5.999999999Z07:00`
//! 2. `2006-1-2t15:4:5.999999999Z07:00`
//! 3. `2006-1-2 15:4:5.999999999` (no zone: UTC)
//! 4. `2006-1-2` (midnight UTC)
//!
//! after a quick check that the text starts with exactly four digits and a `-`. What Go's
//! parser accepts for those layouts, verified against sops 3.11:
//!
//! * month, day, hour, minute and second take one or two digits (`2001-1-2T3:4:5Z`);
//! * fractional seconds are optional, start with `.` or `,`, take any number of digits
//!   and are truncated (not rounded) to nanoseconds;
//! * the zone is `Z` or `±hh:mm` with exactly two digits each; `z` and `+0100` are not
//!   zones; the hour may be up to 24 and the minute up to 60;
//! * layout 3 accepts one or more spaces between date and time;
//! * the date must exist (`2023-02-29` is a string), hour < 24, minute and second < 60;
//! * nothing may follow.
//!
//! Output is Go's RFC 3339 with nanoseconds: fraction without trailing zeros, `Z` for a
//! zero offset, otherwise `±hh:mm`.

/// A parsed timestamp: wall-clock fields plus the zone offset in seconds east of UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Parts {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub nanosecond: u32,
    pub offset_seconds: i32,
}

/// Go's `getnum(s, false)`: one digit, or two if the second byte is a digit too.
fn num12(s: &[u8], at: &mut usize) -> Option<u32> {
    let first = *s.get(*at)?;
    if !first.is_ascii_digit() {
        return None;
    }
    let mut n = u32::from(first - b'0');
    *at += 1;
    if let Some(&second) = s.get(*at) {
        if second.is_ascii_digit() {
            n = n * 10 + u32::from(second - b'0');
            *at += 1;
        }
    }
    Some(n)
}

fn expect(s: &[u8], at: &mut usize, byte: u8) -> Option<()> {
    if s.get(*at) == Some(&byte) {
        *at += 1;
        Some(())
    } else {
        None
    }
}

fn two_digits(s: &[u8], at: usize) -> Option<u32> {
    match (s.get(at), s.get(at + 1)) {
        (Some(a), Some(b)) if a.is_ascii_digit() && b.is_ascii_digit() => {
            Some(u32::from(a - b'0') * 10 + u32::from(b - b'0'))
        }
        _ => None,
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
            if leap {
                29
            } else {
                28
            }
        }
    }
}

/// Parses `s` as go-yaml's timestamp resolver does; `None` when it is not a timestamp.
pub(crate) fn parse(s: &str) -> Option<Parts> {
    let b = s.as_bytes();
    // Quick check: exactly four digits, then '-'.
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let year = b[..4]
        .iter()
        .fold(0i32, |acc, d| acc * 10 + i32::from(d - b'0'));
    let mut at = 5;
    let month = num12(b, &mut at)?;
    if !(1..=12).contains(&month) {
        return None;
    }
    expect(b, &mut at, b'-')?;
    let day = num12(b, &mut at)?;

    let mut parts = Parts {
        year,
        month: month as u8,
        day: 0,
        hour: 0,
        minute: 0,
        second: 0,
        nanosecond: 0,
        offset_seconds: 0,
    };
    if at < b.len() {
        let with_zone = match b[at] {
            b'T' | b't' => {
                at += 1;
                true
            }
            b' ' => {
                while b.get(at) == Some(&b' ') {
                    at += 1;
                }
                false
            }
            _ => return None,
        };
        let hour = num12(b, &mut at)?;
        expect(b, &mut at, b':')?;
        let minute = num12(b, &mut at)?;
        expect(b, &mut at, b':')?;
        let second = num12(b, &mut at)?;
        if hour >= 24 || minute >= 60 || second >= 60 {
            return None;
        }
        parts.hour = hour as u8;
        parts.minute = minute as u8;
        parts.second = second as u8;
        // Optional fraction: '.' or ',' followed by at least one digit.
        if matches!(b.get(at), Some(b'.' | b',')) && b.get(at + 1).is_some_and(u8::is_ascii_digit) {
            at += 1;
            let mut nanos = 0u32;
            let mut digits = 0;
            while let Some(d) = b.get(at).filter(|d| d.is_ascii_digit()) {
                if digits < 9 {
                    nanos = nanos * 10 + u32::from(d - b'0');
                    digits += 1;
                }
                at += 1;
            }
            while digits < 9 {
                nanos *= 10;
                digits += 1;
            }
            parts.nanosecond = nanos;
        }
        if with_zone {
            match b.get(at) {
                Some(b'Z') => at += 1,
                Some(&sign @ (b'+' | b'-')) => {
                    if b.len() < at + 6 || b[at + 3] != b':' {
                        return None;
                    }
                    let hh = two_digits(b, at + 1)?;
                    let mm = two_digits(b, at + 4)?;
                    if hh > 24 || mm > 60 {
                        return None;
                    }
                    let off = (hh * 3600 + mm * 60) as i32;
                    parts.offset_seconds = if sign == b'-' { -off } else { off };
                    at += 6;
                }
                _ => return None,
            }
        }
    }
    if at != b.len() {
        return None;
    }
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    parts.day = day as u8;
    Some(parts)
}

/// Converts parsed parts to an `OffsetDateTime`. `None` if the `time` crate cannot hold
/// it (it holds everything [`parse`] returns with an offset under 26 hours).
pub(crate) fn to_datetime(p: &Parts) -> Option<time::OffsetDateTime> {
    let month = time::Month::try_from(p.month).ok()?;
    let date = time::Date::from_calendar_date(p.year, month, p.day).ok()?;
    let clock = time::Time::from_hms_nano(p.hour, p.minute, p.second, p.nanosecond).ok()?;
    let offset = time::UtcOffset::from_whole_seconds(p.offset_seconds).ok()?;
    Some(time::PrimitiveDateTime::new(date, clock).assume_offset(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(s: &str) -> Option<String> {
        let p = parse(s)?;
        let t = to_datetime(&p)?;
        Some(crate::crypto::timestamp::format_time_nano(&t))
    }

    // Each row: input, what sops 3.11 printed after an encrypt/decrypt round trip
    // (`None`: sops typed it `str`).
    #[test]
    fn go_yaml_timestamp_forms_checked_with_sops() {
        let rows: &[(&str, Option<&str>)] = &[
            ("2024-01-02", Some("2024-01-02T00:00:00Z")),
            (
                "2024-01-02T03:04:05.5+02:00",
                Some("2024-01-02T03:04:05.5+02:00"),
            ),
            (
                "2001-12-14t21:59:43.10-05:00",
                Some("2001-12-14T21:59:43.1-05:00"),
            ),
            ("2001-12-14 21:59:43.10", Some("2001-12-14T21:59:43.1Z")),
            ("2001-12-14  21:59:43", Some("2001-12-14T21:59:43Z")),
            ("2001-1-2T3:4:5Z", Some("2001-01-02T03:04:05Z")),
            ("2001-12-14T21:59:43,5Z", Some("2001-12-14T21:59:43.5Z")),
            ("2001-12-14T21:59:43+00:00", Some("2001-12-14T21:59:43Z")),
            ("2001-12-14T21:59:43-00:00", Some("2001-12-14T21:59:43Z")),
            (
                "2001-12-14T21:59:43+01:60",
                Some("2001-12-14T21:59:43+02:00"),
            ),
            (
                "2001-12-14T21:59:43.123456789123-01:30",
                Some("2001-12-14T21:59:43.123456789-01:30"),
            ),
            (
                "2001-12-14T21:59:43.1234567891+01:00",
                Some("2001-12-14T21:59:43.123456789+01:00"),
            ),
            (
                "2001-12-14 9:05:07.000000001",
                Some("2001-12-14T09:05:07.000000001Z"),
            ),
            ("2001-12-14t21:59:43.000Z", Some("2001-12-14T21:59:43Z")),
            ("2024-02-29", Some("2024-02-29T00:00:00Z")),
            ("0001-01-01", Some("0001-01-01T00:00:00Z")),
            (
                "9999-12-31T23:59:59.999999999Z",
                Some("9999-12-31T23:59:59.999999999Z"),
            ),
            ("2001-1-2", Some("2001-01-02T00:00:00Z")),
            ("2001-12-14T21:59:43", None),
            ("2001-12-14T21:59:43z", None),
            ("2001-12-14T21:59:43+0100", None),
            ("2001-12-14T21:59:43.Z", None),
            ("2001-12-14T21:59:43.5 +01:00", None),
            ("2001-12-14T24:00:00Z", None),
            ("2001-12-14T21:59:60Z", None),
            ("2001-12-14 21:59", None),
            ("2001-13-45", None),
            ("2023-02-29", None),
            ("20011-12-14", None),
            ("2001-12-14x", None),
            ("12:30:45", None),
            ("2001-12-14 21:59:43.10 -5", None),
        ];
        for (input, want) in rows {
            assert_eq!(fmt(input).as_deref(), *want, "{input}");
        }
    }

    #[test]
    fn offset_of_24_hours_parses_but_is_flagged_by_the_caller() {
        let p = parse("2001-12-14T21:59:43+24:00").expect("parses");
        assert_eq!(p.offset_seconds, 24 * 3600);
        assert!(parse("2001-12-14T21:59:43+25:00").is_none());
        assert!(parse("2001-12-14T21:59:43+01:61").is_none());
    }

    #[test]
    fn negative_offsets_format_with_minus() {
        assert_eq!(
            fmt("2001-12-14T21:59:43-05:30").as_deref(),
            Some("2001-12-14T21:59:43-05:30")
        );
    }
}
