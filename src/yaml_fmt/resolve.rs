//! Scalar typing, as go-yaml v3 does it for sops (spec §3.4).
//!
//! An untagged plain scalar is typed from its first byte:
//!
//! * `+ - 0-9`: timestamp, then integer, then float (see below), else string;
//! * `.`: Go `ParseFloat` of the raw text (`.5`, `.5e3`, `.5_0`), else string;
//! * `y Y n N t T f F o O ~` and the empty scalar: looked up in a fixed table (`true`,
//!   `True`, `TRUE`, `false`…, `~`, `null`, `Null`, `NULL`, `.inf`…), else string;
//! * anything else: string.
//!
//! The integer/float step removes every `_`, then tries Go's `ParseInt(s, 0, 64)`
//! (sign, `0x`/`0o`/`0b` prefixes in either case, a leading `0` meaning octal), then
//! `ParseUint` (the `[2^63, 2^64)` range, which sops cannot encrypt), then a float of the
//! form `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` that does not overflow,
//! then `0b`/`0o` followed by a signed number (`0b-101` is -5).
//!
//! Quoted and block scalars are strings unless tagged. Tags: `!!str` and custom tags give
//! strings, `!!binary` is base64-decoded, `!!int`/`!!float`/`!!bool`/`!!null`/
//! `!!timestamp` require the text to resolve to that type (an int is accepted as a
//! float), and `!` alone means "no tag" for a plain scalar and string otherwise.

use std::borrow::Cow;

use base64::Engine as _;

use super::timestamp;
use crate::tree::Scalar;

/// A resolved scalar: null (never encrypted) or a typed value.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved {
    Null,
    Value(Scalar),
}

/// Scalars sops cannot take. No variant carries the value: values are secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// An integer in `[2^63, 2^64)`: go-yaml makes it a `uint64`, and sops fails to
    /// encrypt it ("unknown type: uint64", exit 23).
    #[error("integer out of the int64 range (sops cannot encrypt a uint64)")]
    Uint64,
    /// A timestamp whose zone offset is 24 hours or more: go-yaml accepts it, but sops
    /// fails to serialise it (`Time.MarshalText`, exit 23).
    #[error("timestamp zone offset of 24 hours or more")]
    TimeOffset,
    /// An explicit `!!int`, `!!float`, `!!bool`, `!!null` or `!!timestamp` tag on a
    /// scalar that does not resolve to that type. sops fails with exit 2 when this
    /// happens in the first document and reads the value as null in later ones (see
    /// [`ResolveError::null_after_first_document`]).
    #[error("the scalar cannot be decoded as {tag}")]
    TagMismatch { tag: &'static str },
    /// `!!binary` with invalid base64. Same first-document rule as `TagMismatch`.
    #[error("!!binary value contains invalid base64 data")]
    BadBinary,
    /// `!!binary` data that is not UTF-8: sops keeps such bytes, sealant's tree holds
    /// strings only.
    #[error("!!binary data is not valid UTF-8 text")]
    BinaryNotUtf8,
}

impl ResolveError {
    /// sops validates only the first document strictly (it decodes it once into a Go
    /// map to find duplicate keys). In later documents a badly tagged scalar is silently
    /// read as null. True for the errors that behave so.
    pub fn null_after_first_document(&self) -> bool {
        matches!(
            self,
            ResolveError::TagMismatch { .. } | ResolveError::BadBinary
        )
    }
}

/// Types a scalar the way go-yaml v3 does for sops.
///
/// `value` is the scalar's content as the parser delivers it (unescaped, folded);
/// `plain` is true only for plain scalars; `tag` is an explicit tag if any (short `!!int`,
/// long `tag:yaml.org,2002:int`, verbatim `!<tag:yaml.org,2002:int>`, `!` or custom).
pub fn resolve(value: &str, plain: bool, tag: Option<&str>) -> Result<Resolved, ResolveError> {
    let tag = tag.map(normalize_tag).filter(|t| !t.is_empty());
    match tag.as_deref() {
        None | Some("!") => {
            if plain {
                implicit_to_resolved(implicit(value, true), value)
            } else {
                Ok(Resolved::Value(Scalar::Str(value.to_owned())))
            }
        }
        Some("!!str") => Ok(Resolved::Value(Scalar::Str(value.to_owned()))),
        Some("!!binary") => decode_binary(value),
        Some("!!int") => match implicit(value, false) {
            Implicit::Int(i) => Ok(Resolved::Value(Scalar::Int(i))),
            Implicit::Uint => Err(ResolveError::Uint64),
            _ => Err(ResolveError::TagMismatch { tag: "!!int" }),
        },
        Some("!!float") => match implicit(value, false) {
            Implicit::Float(f) => Ok(Resolved::Value(Scalar::Float(f))),
            Implicit::Int(i) => Ok(Resolved::Value(Scalar::Float(i as f64))),
            _ => Err(ResolveError::TagMismatch { tag: "!!float" }),
        },
        Some("!!bool") => match implicit(value, false) {
            Implicit::Bool(b) => Ok(Resolved::Value(Scalar::Bool(b))),
            _ => Err(ResolveError::TagMismatch { tag: "!!bool" }),
        },
        Some("!!null") => match implicit(value, false) {
            Implicit::Null => Ok(Resolved::Null),
            _ => Err(ResolveError::TagMismatch { tag: "!!null" }),
        },
        Some("!!timestamp") => match implicit(value, true) {
            Implicit::Time(p) => time_value(&p),
            _ => Err(ResolveError::TagMismatch { tag: "!!timestamp" }),
        },
        // !!merge, !!seq, !!map, !!python/…, !custom: go-yaml keeps the text.
        Some(_) => Ok(Resolved::Value(Scalar::Str(value.to_owned()))),
    }
}

/// `tag:yaml.org,2002:x` and `!<tag:yaml.org,2002:x>` become `!!x`.
fn normalize_tag(tag: &str) -> Cow<'_, str> {
    let inner = tag
        .strip_prefix("!<")
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(tag);
    match inner.strip_prefix("tag:yaml.org,2002:") {
        Some(rest) => Cow::Owned(format!("!!{rest}")),
        None => Cow::Borrowed(inner),
    }
}

fn implicit_to_resolved(imp: Implicit, value: &str) -> Result<Resolved, ResolveError> {
    Ok(match imp {
        Implicit::Null => Resolved::Null,
        Implicit::Bool(b) => Resolved::Value(Scalar::Bool(b)),
        Implicit::Int(i) => Resolved::Value(Scalar::Int(i)),
        Implicit::Uint => return Err(ResolveError::Uint64),
        Implicit::Float(f) => Resolved::Value(Scalar::Float(f)),
        Implicit::Time(p) => return time_value(&p),
        Implicit::Str => Resolved::Value(Scalar::Str(value.to_owned())),
    })
}

fn time_value(p: &timestamp::Parts) -> Result<Resolved, ResolveError> {
    // Go's MarshalText rejects an offset whose hour field would be 24 or more.
    if p.offset_seconds.unsigned_abs() / 3600 >= 24 {
        return Err(ResolveError::TimeOffset);
    }
    timestamp::to_datetime(p)
        .map(|t| Resolved::Value(Scalar::Time(t)))
        .ok_or(ResolveError::TimeOffset)
}

fn decode_binary(value: &str) -> Result<Resolved, ResolveError> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    // Go's StdEncoding: padding required, non-zero trailing bits accepted, CR and LF
    // skipped anywhere.
    const GO_STD: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    let text: Cow<'_, str> = if value.contains(['\r', '\n']) {
        Cow::Owned(
            value
                .chars()
                .filter(|c| !matches!(c, '\r' | '\n'))
                .collect(),
        )
    } else {
        Cow::Borrowed(value)
    };
    let bytes = GO_STD
        .decode(text.as_bytes())
        .map_err(|_| ResolveError::BadBinary)?;
    String::from_utf8(bytes)
        .map(|s| Resolved::Value(Scalar::Str(s)))
        .map_err(|_| ResolveError::BinaryNotUtf8)
}

/// What go-yaml's implicit resolver makes of a plain scalar's text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Implicit {
    Null,
    Bool(bool),
    Int(i64),
    /// In `[2^63, 2^64)`.
    Uint,
    Float(f64),
    Time(timestamp::Parts),
    Str,
}

/// go-yaml's `resolve("", s)` (or with a resolvable tag when `timestamps` is false: the
/// timestamp step only runs untagged or under `!!timestamp`).
pub(crate) fn implicit(s: &str, timestamps: bool) -> Implicit {
    let b = s.as_bytes();
    let Some(&first) = b.first() else {
        return Implicit::Null;
    };
    match first {
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => {
            table(s).unwrap_or(Implicit::Str)
        }
        b'.' => {
            if let Some(v) = table(s) {
                return v;
            }
            match go_parse_float(s) {
                Some(f) => Implicit::Float(f),
                None => Implicit::Str,
            }
        }
        b'+' | b'-' | b'0'..=b'9' => {
            if let Some(v) = table(s) {
                return v;
            }
            numeric(s, timestamps)
        }
        _ => Implicit::Str,
    }
}

/// The fixed table: booleans, nulls and the YAML infinities/NaN.
fn table(s: &str) -> Option<Implicit> {
    Some(match s {
        "true" | "True" | "TRUE" => Implicit::Bool(true),
        "false" | "False" | "FALSE" => Implicit::Bool(false),
        "~" | "null" | "Null" | "NULL" => Implicit::Null,
        ".nan" | ".NaN" | ".NAN" => Implicit::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Implicit::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Implicit::Float(f64::NEG_INFINITY),
        _ => return None,
    })
}

fn numeric(s: &str, timestamps: bool) -> Implicit {
    if timestamps {
        if let Some(p) = timestamp::parse(s) {
            return Implicit::Time(p);
        }
    }
    let plain: Cow<'_, [u8]> = if s.contains('_') {
        Cow::Owned(s.bytes().filter(|&c| c != b'_').collect())
    } else {
        Cow::Borrowed(s.as_bytes())
    };
    let plain = &*plain;
    if let Some(i) = go_parse_int(plain, 0) {
        return Implicit::Int(i);
    }
    if go_parse_uint(plain, 0).is_some() {
        return Implicit::Uint;
    }
    if yaml_style_float(plain) {
        // The pattern guarantees ASCII digits, so the text is valid UTF-8 and Rust's
        // parser accepts it; overflow (Go: ErrRange) leaves the scalar a string.
        if let Some(f) = std::str::from_utf8(plain)
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .filter(|f| f.is_finite())
        {
            return Implicit::Float(f);
        }
    }
    for (prefix, base) in [(&b"0b"[..], 2), (&b"0o"[..], 8)] {
        if let Some(rest) = plain.strip_prefix(prefix) {
            if let Some(i) = go_parse_int(rest, base) {
                return Implicit::Int(i);
            }
            if go_parse_uint(rest, base).is_some() {
                return Implicit::Uint;
            }
        } else if let Some(rest) = plain.strip_prefix(&[b'-', prefix[0], prefix[1]][..]) {
            // go-yaml re-attaches the '-' and parses in that base (int only).
            let mut neg = Vec::with_capacity(rest.len() + 1);
            neg.push(b'-');
            neg.extend_from_slice(rest);
            if let Some(i) = go_parse_int(&neg, base) {
                return Implicit::Int(i);
            }
        }
    }
    Implicit::Str
}

/// Go's `strconv.ParseUint(s, base, 64)` without underscores (the caller removed them);
/// `base` 0 means: detect `0x`, `0o`, `0b` (either case, with at least one more byte)
/// or a leading `0` (octal).
fn go_parse_uint(s: &[u8], base: u32) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let (base, digits) = if base == 0 {
        if s[0] == b'0' {
            match (s.len() >= 3).then(|| s[1].to_ascii_lowercase()) {
                Some(b'b') => (2, &s[2..]),
                Some(b'o') => (8, &s[2..]),
                Some(b'x') => (16, &s[2..]),
                _ => (8, &s[1..]),
            }
        } else {
            (10, s)
        }
    } else {
        (base, s)
    };
    let mut n: u64 = 0;
    for &c in digits {
        let d = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'a'..=b'z' => u32::from(c - b'a') + 10,
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return None,
        };
        if d >= base {
            return None;
        }
        n = n.checked_mul(u64::from(base))?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// Go's `strconv.ParseInt(s, base, 64)`: an optional sign, then `ParseUint`.
fn go_parse_int(s: &[u8], base: u32) -> Option<i64> {
    let (neg, rest) = match s.first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let un = go_parse_uint(rest, base)?;
    if neg {
        0i64.checked_sub_unsigned(un)
    } else {
        i64::try_from(un).ok()
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn yaml_style_float(s: &[u8]) -> bool {
    let mut i = usize::from(matches!(s.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while s.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if s.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if s.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == s.len()
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal text (what a scalar starting with `.`
/// can be): digits with an optional point, an optional exponent, `_` only between
/// digits. `None` on a syntax error or overflow.
fn go_parse_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let mut saw_digits = false;
    let mut saw_dot = false;
    let mut underscores = false;
    while let Some(&c) = b.get(i) {
        match c {
            b'_' => underscores = true,
            b'.' if !saw_dot => saw_dot = true,
            b'0'..=b'9' => saw_digits = true,
            _ => break,
        }
        i += 1;
    }
    if !saw_digits {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let start = i;
        while let Some(&c) = b.get(i) {
            match c {
                b'_' => underscores = true,
                b'0'..=b'9' => {}
                _ => break,
            }
            i += 1;
        }
        if !b[start..i].iter().any(u8::is_ascii_digit) {
            return None;
        }
    }
    if i != b.len() || (underscores && !underscores_between_digits(b)) {
        return None;
    }
    let text: Cow<'_, str> = if underscores {
        Cow::Owned(s.replace('_', ""))
    } else {
        Cow::Borrowed(s)
    };
    text.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Go's `underscoreOK` for decimal text: every `_` sits between two digits.
fn underscores_between_digits(b: &[u8]) -> bool {
    // saw: '^' start, '0' digit, '_' underscore, '!' other
    let mut saw = b'^';
    let start = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    for &c in &b[start..] {
        if c.is_ascii_digit() {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
    }
    saw != b'_'
}

/// YAML 1.1 booleans that go-yaml reads as strings but quotes on output.
pub(crate) fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// YAML 1.1 sexagesimal floats (`190:20:30`), quoted on output:
/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
pub(crate) fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    match b.first() {
        Some(b'+' | b'-' | b'0'..=b'9') if b.contains(&b':') => {}
        _ => return false,
    }
    let mut i = usize::from(matches!(b[0], b'+' | b'-'));
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    i += 1;
    while matches!(b.get(i), Some(b'0'..=b'9' | b'_')) {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        match (b.get(i), b.get(i + 1)) {
            (Some(b'0'..=b'5'), Some(b'0'..=b'9')) => i += 2,
            (Some(b'0'..=b'9'), _) => i += 1,
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while matches!(b.get(i), Some(b'0'..=b'9' | b'_')) {
            i += 1;
        }
    }
    i == b.len()
}

#[cfg(test)]
#[allow(clippy::approx_constant)] // 3.14159 is a vector's value, not π
mod tests {
    use super::*;

    fn plain(s: &str) -> Result<Resolved, ResolveError> {
        resolve(s, true, None)
    }

    fn int(s: &str) -> i64 {
        match plain(s) {
            Ok(Resolved::Value(Scalar::Int(i))) => i,
            other => panic!("{s}: expected int, got {other:?}"),
        }
    }

    fn float(s: &str) -> f64 {
        match plain(s) {
            Ok(Resolved::Value(Scalar::Float(f))) => f,
            other => panic!("{s}: expected float, got {other:?}"),
        }
    }

    fn is_str(s: &str) -> bool {
        plain(s) == Ok(Resolved::Value(Scalar::Str(s.to_owned())))
    }

    // Every row below was checked with sops 3.11: `sops encrypt` gives the `type:` of
    // the ENC value, `sops decrypt` the value (/tmp probes `s2`, `n1`, `n2`, `t1`).

    #[test]
    fn nulls() {
        for s in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(plain(s), Ok(Resolved::Null), "{s:?}");
        }
        for s in ["nULL", "NuLL", "nil", "None"] {
            assert!(is_str(s), "{s}");
        }
        // Quoted: a string, even empty.
        assert_eq!(
            resolve("", false, None),
            Ok(Resolved::Value(Scalar::Str(String::new())))
        );
        assert_eq!(
            resolve("null", false, None),
            Ok(Resolved::Value(Scalar::Str("null".into())))
        );
    }

    #[test]
    fn bools_only_the_six_spellings() {
        for (s, b) in [
            ("true", true),
            ("True", true),
            ("TRUE", true),
            ("false", false),
            ("False", false),
            ("FALSE", false),
        ] {
            assert_eq!(plain(s), Ok(Resolved::Value(Scalar::Bool(b))), "{s}");
        }
        for s in [
            "yes", "Yes", "YES", "no", "No", "on", "On", "off", "OFF", "y", "Y", "n", "N", "tRue",
            "yEs",
        ] {
            assert!(is_str(s), "{s}");
        }
    }

    #[test]
    fn integers_go_style() {
        let rows: &[(&str, i64)] = &[
            ("42", 42),
            ("-7", -7),
            ("+5", 5),
            ("+1", 1),
            ("-0", 0),
            ("+0", 0),
            ("017", 15),
            ("-017", -15),
            ("00", 0),
            ("0_1", 1),
            ("0o17", 15),
            ("0O7", 7),
            ("0x1F", 31),
            ("0X1F", 31),
            ("-0x1F", -31),
            ("+0x1F", 31),
            ("-0x1A", -26),
            ("0xFF_FF", 65535),
            ("0x_1F", 31),
            ("0x1_F", 31),
            ("0b101", 5),
            ("0B1", 1),
            ("-0b11", -3),
            ("+0b1", 1),
            ("0b_1", 1),
            ("0b1_0", 2),
            ("-0b101", -5),
            ("-0o17", -15),
            ("0b-101", -5),
            ("0o-17", -15),
            ("0b+101", 5),
            ("1_000", 1000),
            ("1__0", 10),
            ("1_", 1),
            ("1__", 1),
            ("1__000", 1000),
            ("1_000_000", 1_000_000),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
        ];
        for (s, want) in rows {
            assert_eq!(int(s), *want, "{s}");
        }
    }

    #[test]
    fn uint64_range_is_an_error() {
        for s in [
            "9223372036854775808",
            "18446744073709551615",
            "0x8000000000000001",
            "0xFFFFFFFFFFFFFFFF",
        ] {
            assert_eq!(plain(s), Err(ResolveError::Uint64), "{s}");
        }
        // A sign makes ParseUint fail; the float pattern then takes it.
        assert_eq!(float("+9223372036854775808"), 9.223372036854776e18);
        assert_eq!(float("-9223372036854775809"), -9.223372036854776e18);
        // Beyond uint64: float.
        assert_eq!(float("18446744073709551616"), 1.8446744073709552e19);
        assert_eq!(
            float("123456789012345678901234567890"),
            1.2345678901234568e29
        );
        // Neither fits nor matches the float pattern: a string.
        assert!(is_str("-0x8000000000000001"));
    }

    #[test]
    fn floats() {
        let rows: &[(&str, f64)] = &[
            ("3.14159", 3.14159),
            ("1.0", 1.0),
            ("1.", 1.0),
            ("0.", 0.0),
            (".5", 0.5),
            ("+.5", 0.5),
            ("-.5", -0.5),
            ("1e3", 1000.0),
            ("1e+3", 1000.0),
            ("6.02e23", 6.02e23),
            ("0.0000001", 1e-7),
            ("1e-7", 1e-7),
            ("1e+300", 1e300),
            ("1e-400", 0.0),
            ("09", 9.0),
            ("018", 18.0),
            ("0018", 18.0),
            ("08.5", 8.5),
            ("0e5", 0.0),
            ("1_000.5", 1000.5),
            ("1_0.5", 10.5),
            ("0.1_2", 0.12),
            ("1e1_0", 1e10),
            ("1e5_0", 1e50),
            ("1e5_", 1e5),
            ("1.5_", 1.5),
            ("-.5_5", -0.55),
            (".5_0", 0.5),
            (".5e1_0", 0.5e10),
            ("-.5e-3", -0.0005),
            ("0.5e-2", 0.005),
            ("5e-324", 5e-324),
            ("1.7976931348623157e308", f64::MAX),
        ];
        for (s, want) in rows {
            assert_eq!(float(s).to_bits(), want.to_bits(), "{s}");
        }
        assert!(float("-0.0").is_sign_negative());
        for (s, inf) in [
            (".inf", f64::INFINITY),
            (".Inf", f64::INFINITY),
            (".INF", f64::INFINITY),
            ("+.inf", f64::INFINITY),
            ("+.Inf", f64::INFINITY),
            ("-.inf", f64::NEG_INFINITY),
            ("-.INF", f64::NEG_INFINITY),
        ] {
            assert_eq!(float(s), inf, "{s}");
        }
        for s in [".nan", ".NaN", ".NAN"] {
            assert!(float(s).is_nan(), "{s}");
        }
    }

    #[test]
    fn number_lookalikes_that_stay_strings() {
        for s in [
            "1e400",
            ".5e400",
            "-1e400",
            ".iNf",
            ".Nan",
            "inf",
            "Infinity",
            "NaN",
            "nan",
            "1e",
            "1.5e",
            ".",
            "1.2.3",
            "0x",
            "0b",
            "0o",
            "_1",
            "_",
            "._5",
            ".5_",
            "0x1p3",
            "0x-1",
            "0B-1",
            "-0b-1",
            "-",
            "+",
            "1:60",
            "1:20",
            "12:30:45",
            "190:20:30",
            "2001-13-45",
            "20011-12-14",
            "2001-12-14x",
            "<<",
            "0b2",
            "1 2",
        ] {
            assert!(is_str(s), "{s}");
        }
    }

    #[test]
    fn timestamps() {
        let t = |s: &str| match plain(s) {
            Ok(Resolved::Value(Scalar::Time(t))) => t,
            other => panic!("{s}: expected time, got {other:?}"),
        };
        let d = t("2024-01-02");
        assert_eq!((d.year(), u8::from(d.month()), d.day()), (2024, 1, 2));
        assert_eq!(d.offset().whole_seconds(), 0);
        let ts = t("2001-12-14t21:59:43.10-05:00");
        assert_eq!(ts.nanosecond(), 100_000_000);
        assert_eq!(ts.offset().whole_seconds(), -5 * 3600);
        t("2001-12-14 21:59:43.10");
        t("2024-01-02T03:04:05.5+02:00");
        // Quoted: a string.
        assert_eq!(
            resolve("2024-01-02", false, None),
            Ok(Resolved::Value(Scalar::Str("2024-01-02".into())))
        );
        // Parsed by go-yaml, but sops cannot serialise it (exit 23).
        assert_eq!(
            plain("2001-12-14T21:59:43+24:00"),
            Err(ResolveError::TimeOffset)
        );
        assert_eq!(
            plain("2001-12-14T21:59:43-23:60"),
            Err(ResolveError::TimeOffset)
        );
        assert!(matches!(
            plain("2001-12-14T21:59:43+23:59"),
            Ok(Resolved::Value(Scalar::Time(_)))
        ));
    }

    #[test]
    fn non_plain_scalars_are_strings() {
        for s in ["123", "true", "~", "1.5", "yes", "2024-01-02"] {
            assert_eq!(
                resolve(s, false, None),
                Ok(Resolved::Value(Scalar::Str(s.into()))),
                "{s}"
            );
        }
    }

    fn str_of(v: &str) -> Result<Resolved, ResolveError> {
        Ok(Resolved::Value(Scalar::Str(v.into())))
    }

    #[test]
    fn explicit_tags_checked_with_sops() {
        // (value, plain, tag) → result; rows t01–t29 of the sops probe.
        assert_eq!(
            resolve("12", false, Some("!!int")),
            Ok(Resolved::Value(Scalar::Int(12)))
        );
        assert_eq!(
            resolve("abc", true, Some("!!int")),
            Err(ResolveError::TagMismatch { tag: "!!int" })
        );
        assert_eq!(
            resolve("1", true, Some("!!float")),
            Ok(Resolved::Value(Scalar::Float(1.0)))
        );
        assert_eq!(
            resolve("abc", true, Some("!!float")),
            Err(ResolveError::TagMismatch { tag: "!!float" })
        );
        assert_eq!(
            resolve("yes", true, Some("!!bool")),
            Err(ResolveError::TagMismatch { tag: "!!bool" })
        );
        assert_eq!(
            resolve("true", false, Some("!!bool")),
            Ok(Resolved::Value(Scalar::Bool(true)))
        );
        assert_eq!(
            resolve("abc", true, Some("!!null")),
            Err(ResolveError::TagMismatch { tag: "!!null" })
        );
        assert_eq!(resolve("", false, Some("!!null")), Ok(Resolved::Null));
        assert_eq!(resolve("~", true, Some("!!null")), Ok(Resolved::Null));
        assert!(matches!(
            resolve("2001-12-14", true, Some("!!timestamp")),
            Ok(Resolved::Value(Scalar::Time(_)))
        ));
        assert!(matches!(
            resolve("2001-12-14", false, Some("!!timestamp")),
            Ok(Resolved::Value(Scalar::Time(_)))
        ));
        assert_eq!(
            resolve("abc", true, Some("!!timestamp")),
            Err(ResolveError::TagMismatch { tag: "!!timestamp" })
        );
        // A timestamp under !!int is not tried as a timestamp.
        assert_eq!(
            resolve("2001-12-14", true, Some("!!int")),
            Err(ResolveError::TagMismatch { tag: "!!int" })
        );
        assert_eq!(resolve("aGVsbG8=", true, Some("!!binary")), str_of("hello"));
        assert_eq!(
            resolve("aGVs\nbG8=\n", false, Some("!!binary")),
            str_of("hello")
        );
        assert_eq!(
            resolve("a GVsbG8=", false, Some("!!binary")),
            Err(ResolveError::BadBinary)
        );
        assert_eq!(
            resolve("aGVsbG8", true, Some("!!binary")),
            Err(ResolveError::BadBinary)
        );
        assert_eq!(
            resolve("////", false, Some("!!binary")),
            Err(ResolveError::BinaryNotUtf8)
        );
        assert_eq!(resolve("", true, Some("!!binary")), str_of(""));
        assert_eq!(resolve("123", true, Some("!foo")), str_of("123"));
        assert_eq!(resolve("", true, Some("!foo")), str_of(""));
        assert_eq!(
            resolve("123", true, Some("!")),
            Ok(Resolved::Value(Scalar::Int(123)))
        );
        assert_eq!(
            resolve("true", true, Some("!")),
            Ok(Resolved::Value(Scalar::Bool(true)))
        );
        assert_eq!(resolve("123", false, Some("!")), str_of("123"));
        assert_eq!(resolve("123", true, Some("!!str")), str_of("123"));
        assert_eq!(resolve("~", true, Some("!!str")), str_of("~"));
        assert_eq!(resolve("", true, Some("!!str")), str_of(""));
        assert_eq!(
            resolve("42", false, Some("tag:yaml.org,2002:int")),
            Ok(Resolved::Value(Scalar::Int(42)))
        );
        assert_eq!(
            resolve("42", false, Some("!<tag:yaml.org,2002:int>")),
            Ok(Resolved::Value(Scalar::Int(42)))
        );
        assert_eq!(resolve("x", true, Some("!!merge")), str_of("x"));
        assert_eq!(resolve("x", true, Some("!!map")), str_of("x"));
        assert_eq!(
            resolve("18446744073709551615", true, Some("!!float")),
            Err(ResolveError::TagMismatch { tag: "!!float" })
        );
        assert_eq!(
            resolve("18446744073709551615", true, Some("!!int")),
            Err(ResolveError::Uint64)
        );
        assert_eq!(
            resolve("1.5", true, Some("!!int")),
            Err(ResolveError::TagMismatch { tag: "!!int" })
        );
        assert_eq!(
            resolve("", true, Some("!!int")),
            Err(ResolveError::TagMismatch { tag: "!!int" })
        );
        assert!(ResolveError::TagMismatch { tag: "!!int" }.null_after_first_document());
        assert!(ResolveError::BadBinary.null_after_first_document());
        assert!(!ResolveError::Uint64.null_after_first_document());
    }

    /// The rows of spec §3.4 and research/crates.md §1.5, one by one.
    #[test]
    fn spec_and_research_tables() {
        assert_eq!(int("017"), 15);
        assert_eq!(int("0777"), 511);
        assert_eq!(int("0o17"), 15);
        assert_eq!(int("0x1F"), 31);
        assert_eq!(int("0xFF_FF"), 65535);
        assert_eq!(int("0b101"), 5);
        assert_eq!(int("1_000"), 1000);
        assert_eq!(int("+5"), 5);
        assert_eq!(int("-0x1A"), -26);
        assert_eq!(float("1."), 1.0);
        assert_eq!(float("1e3"), 1000.0);
        assert_eq!(float(".5"), 0.5);
        assert_eq!(float("6.02e+23"), 6.02e23);
        assert_eq!(float(".inf"), f64::INFINITY);
        assert_eq!(float("-.inf"), f64::NEG_INFINITY);
        assert!(float(".nan").is_nan());
        for s in ["true", "True", "TRUE"] {
            assert_eq!(plain(s), Ok(Resolved::Value(Scalar::Bool(true))));
        }
        for s in ["yes", "no", "on", "off", "y", "n"] {
            assert!(is_str(s), "{s}");
        }
        for s in ["null", "Null", "NULL", "~", ""] {
            assert_eq!(plain(s), Ok(Resolved::Null));
        }
        for s in ["2001-12-14", "2001-12-14T21:59:43.10-05:00", "2024-01-02"] {
            assert!(
                matches!(plain(s), Ok(Resolved::Value(Scalar::Time(_)))),
                "{s}"
            );
        }
        assert_eq!(int("9223372036854775807"), i64::MAX);
        assert_eq!(plain("9223372036854775808"), Err(ResolveError::Uint64));
        assert_eq!(
            float("123456789012345678901234567890"),
            1.2345678901234568e29
        );
        assert_eq!(float("-9223372036854775809"), -9.223372036854776e18);
        assert_eq!(resolve("aGVsbG8=", true, Some("!!binary")), str_of("hello"));
        // `<<` as a value is a string; the parser handles it as a key.
        assert!(is_str("<<"));
    }

    #[test]
    fn errors_never_show_the_value() {
        let e = resolve("s3cr3t-value", true, Some("!!int")).unwrap_err();
        assert!(!e.to_string().contains("s3cr3t"));
    }

    #[test]
    fn old_bools_and_base60() {
        for s in ["y", "Y", "yes", "On", "OFF", "n", "No"] {
            assert!(is_old_bool(s), "{s}");
        }
        assert!(!is_old_bool("true") && !is_old_bool("yEs"));
        for s in [
            "1:20",
            "1:20:30.5",
            "190:20:30",
            "-1:20",
            "1:2:3:4",
            "1_0:5",
            "+1:05.",
        ] {
            assert!(is_base60_float(s), "{s}");
        }
        for s in ["1:60", "1:", ":1", "a:1", "1:2a", "1", "1:567", "-:1"] {
            assert!(!is_base60_float(s), "{s}");
        }
    }
}
