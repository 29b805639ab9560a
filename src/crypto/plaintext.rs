//! How sops turns a typed scalar into the bytes it encrypts and hashes, and back
//! (spec §3.4). The same bytes feed AES-GCM and the MAC, so every quirk here (`True`,
//! exponent-free floats, Go's RFC3339Nano) is load-bearing.

use std::fmt;

use zeroize::Zeroizing;

use super::timestamp;
use crate::error::Error;
use crate::tree::Scalar;

/// The sops `type:` name of a scalar: `str`, `int`, `float`, `bool` or `time`.
pub fn type_name(value: &Scalar) -> &'static str {
    match value {
        Scalar::Str(_) | Scalar::Bytes(_) => "str",
        Scalar::Int(_) => "int",
        Scalar::Float(_) => "float",
        Scalar::Bool(_) => "bool",
        Scalar::Time(_) => "time",
    }
}

/// The plaintext bytes sops encrypts and feeds to the MAC for a scalar.
///
/// * str: the UTF-8 bytes; int: decimal; bool: `True`/`False` (title case);
/// * float: [`format_float`]; time: Go RFC3339Nano ([`timestamp::format_time_nano`]).
///
/// A string's bytes are borrowed, not copied (a binary file is one 10 MiB string);
/// bytes made for other types are wiped on drop: they are the secret itself.
pub fn to_bytes(value: &Scalar) -> Plaintext<'_> {
    let made = match value {
        Scalar::Str(s) => return Plaintext::Borrowed(s.as_bytes()),
        Scalar::Bytes(b) => return Plaintext::Borrowed(b),
        Scalar::Int(i) => i.to_string().into_bytes(),
        Scalar::Float(f) => format_float(*f).into_bytes(),
        Scalar::Bool(true) => b"True".to_vec(),
        Scalar::Bool(false) => b"False".to_vec(),
        Scalar::Time(t) => timestamp::format_time_nano(t).into_bytes(),
    };
    Plaintext::Made(Zeroizing::new(made))
}

/// A scalar's plaintext bytes ([`to_bytes`]). `Debug` shows the length only.
pub enum Plaintext<'a> {
    /// A string value's own bytes.
    Borrowed(&'a [u8]),
    /// The text of another type, wiped on drop.
    Made(Zeroizing<Vec<u8>>),
}

impl std::ops::Deref for Plaintext<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Plaintext::Borrowed(b) => b,
            Plaintext::Made(v) => v,
        }
    }
}

impl fmt::Debug for Plaintext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Plaintext(<{} bytes>)", self.len())
    }
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest digits that round-trip, in
/// plain decimal notation (never an exponent), `-0` for negative zero, and `+Inf`,
/// `-Inf`, `NaN` for the non-finite values.
///
/// Rust's `Display` for `f64` already prints shortest round-trip digits without an
/// exponent (checked against sops's output, spec §3.4); only the names of the
/// non-finite values differ.
pub fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        format!("{v}")
    }
}

/// Why decrypted plaintext could not be read back as its declared type. Secret-free: it
/// names the type, never the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueError(pub &'static str);

impl ValueError {
    /// Turns this into the crate error for the value at key path `at`.
    pub fn at(self, at: &str) -> Error {
        Error::Decrypt {
            at: at.to_owned(),
            why: self.0.to_owned(),
        }
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ValueError {}

/// Parses decrypted plaintext back into a scalar, as sops does for each `type:`.
///
/// * `str`, `bytes` (never written by sops): the text, or [`Scalar::Bytes`] when it is
///   not UTF-8 (a binary file's content can be any bytes).
/// * `comment`: the text as a [`Scalar::Str`] (invalid UTF-8 replaced); the caller
///   turns it into a comment.
/// * `int`: Go `strconv.Atoi` (signed decimal, optional sign, int64 range).
/// * `float`: Go `strconv.ParseFloat` ([`parse_float`]).
/// * `bool`: Go `strconv.ParseBool`: `1 t T TRUE true True 0 f F FALSE false False`.
/// * `time`: RFC 3339 ([`timestamp::parse_rfc3339`]).
/// * anything else: "unknown datatype".
pub fn from_bytes(type_name: &str, bytes: &[u8]) -> Result<Scalar, ValueError> {
    let text = || std::str::from_utf8(bytes).map_err(|_| ValueError("the plaintext is not UTF-8"));
    match type_name {
        "str" | "bytes" => Ok(match std::str::from_utf8(bytes) {
            Ok(text) => Scalar::Str(text.to_owned()),
            Err(_) => Scalar::Bytes(bytes.to_vec()),
        }),
        "comment" => Ok(Scalar::Str(String::from_utf8_lossy(bytes).into_owned())),
        "int" => text()?
            .parse::<i64>()
            .map(Scalar::Int)
            .map_err(|_| ValueError("the decrypted int is not a 64-bit decimal integer")),
        "float" => parse_float(text()?).map(Scalar::Float).ok_or(ValueError(
            "the decrypted float is not a valid or in-range number",
        )),
        "bool" => parse_bool(text()?)
            .map(Scalar::Bool)
            .ok_or(ValueError("the decrypted bool is not a boolean")),
        "time" => timestamp::parse_rfc3339(text()?)
            .map(Scalar::Time)
            .map_err(|_| ValueError("the decrypted time is not an RFC 3339 timestamp")),
        _ => Err(ValueError("unknown datatype")),
    }
}

/// [`from_bytes`], taking the bytes of a `str` or `bytes` value instead of copying them
/// (a binary file's content is one value); other types are read from `plaintext`,
/// which is left as it is.
pub fn from_plaintext(
    type_name: &str,
    plaintext: &mut Zeroizing<Vec<u8>>,
) -> Result<Scalar, ValueError> {
    if !matches!(type_name, "str" | "bytes") {
        return from_bytes(type_name, plaintext);
    }
    // The bytes move into the value; what is left to wipe is empty.
    let bytes = std::mem::take(&mut **plaintext);
    Ok(match String::from_utf8(bytes) {
        Ok(text) => Scalar::Str(text),
        Err(e) => Scalar::Bytes(e.into_bytes()),
    })
}

/// Go's `strconv.ParseBool`.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal input.
///
/// Accepts an optional sign, digits with an optional `.` and exponent, underscores
/// between digits (as Go does), `inf`/`infinity` with any case and an optional sign, and
/// an unsigned `nan` in any case. Like Go, a finite number too large for `f64` is an
/// error, not infinity.
///
/// Not covered: Go's hexadecimal floats (`0x1p-2`). sops always writes decimal, so
/// they are refused.
pub fn parse_float(s: &str) -> Option<f64> {
    let (sign, body) = match s.as_bytes().first() {
        Some(b'+') => ("", &s[1..]),
        Some(b'-') => ("-", &s[1..]),
        _ => ("", s),
    };
    if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        return Some(if sign == "-" {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    // Go matches "nan" only without a sign.
    if body.eq_ignore_ascii_case("nan") {
        return (body.len() == s.len()).then_some(f64::NAN);
    }
    if body.len() > 1 && body.as_bytes()[0] == b'0' && matches!(body.as_bytes()[1], b'x' | b'X') {
        return None;
    }
    // Keep Rust's parser away from anything but the decimal grammar (it would take
    // "nan" or "inf" spelled inside other text, for example).
    // One sign only: what follows it must start like a number.
    if !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    if !body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-' | b'_'))
    {
        return None;
    }
    let cleaned;
    let body = if body.contains('_') {
        if !underscores_ok(body) {
            return None;
        }
        cleaned = body.replace('_', "");
        cleaned.as_str()
    } else {
        body
    };
    let v: f64 = format!("{sign}{body}").parse().ok()?;
    // Go reports overflow as an error (ErrRange) rather than returning infinity.
    v.is_finite().then_some(v)
}

/// Go's rule for digit separators: an underscore must sit between two digits.
fn underscores_ok(s: &str) -> bool {
    let mut prev_digit = false;
    let mut prev_underscore = false;
    for b in s.bytes() {
        if b.is_ascii_digit() {
            prev_digit = true;
            prev_underscore = false;
        } else if b == b'_' {
            if !prev_digit {
                return false;
            }
            prev_digit = false;
            prev_underscore = true;
        } else {
            if prev_underscore {
                return false;
            }
            prev_digit = false;
        }
    }
    !prev_underscore
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn float_bytes(v: f64) -> String {
        String::from_utf8(to_bytes(&Scalar::Float(v)).to_vec()).unwrap()
    }

    // 3.14 is the spec's example value, not an approximation of π.
    #[allow(clippy::approx_constant)]
    #[test]
    fn floats_match_go_format_f_minus_1() {
        assert_eq!(float_bytes(3.14), "3.14");
        assert_eq!(float_bytes(1.0), "1");
        assert_eq!(float_bytes(6.02e23), "602000000000000000000000");
        assert_eq!(float_bytes(1e-7), "0.0000001");
        let big = float_bytes(1e300);
        assert_eq!(big.len(), 301);
        assert!(big.starts_with('1') && big[1..].bytes().all(|b| b == b'0'));
        assert_eq!(float_bytes(-0.0), "-0");
        assert_eq!(float_bytes(0.0), "0");
        assert_eq!(
            float_bytes(1.2345678901234568e29),
            "123456789012345680000000000000"
        );
        assert_eq!(float_bytes(-9.223372036854776e18), "-9223372036854776000");
        assert_eq!(float_bytes(0.25), "0.25");
        assert_eq!(float_bytes(f64::INFINITY), "+Inf");
        assert_eq!(float_bytes(f64::NEG_INFINITY), "-Inf");
        assert_eq!(float_bytes(f64::NAN), "NaN");
    }

    #[test]
    fn other_types_serialise_like_sops() {
        let b = |v: Scalar| String::from_utf8(to_bytes(&v).to_vec()).unwrap();
        assert_eq!(b(Scalar::Bool(true)), "True");
        assert_eq!(b(Scalar::Bool(false)), "False");
        assert_eq!(b(Scalar::Int(42)), "42");
        assert_eq!(b(Scalar::Int(-7)), "-7");
        assert_eq!(b(Scalar::Int(i64::MAX)), "9223372036854775807");
        assert_eq!(b(Scalar::Int(i64::MIN)), "-9223372036854775808");
        assert_eq!(b(Scalar::Str("ünïcödé ✓".into())), "ünïcödé ✓");
        let t = |s: &str| Scalar::Time(timestamp::parse_rfc3339(s).unwrap());
        assert_eq!(b(t("2024-01-02T00:00:00Z")), "2024-01-02T00:00:00Z");
        assert_eq!(
            b(t("2001-12-14T21:59:43.10-05:00")),
            "2001-12-14T21:59:43.1-05:00"
        );
    }

    #[test]
    fn type_names() {
        assert_eq!(type_name(&Scalar::Str(String::new())), "str");
        assert_eq!(type_name(&Scalar::Int(0)), "int");
        assert_eq!(type_name(&Scalar::Float(0.0)), "float");
        assert_eq!(type_name(&Scalar::Bool(true)), "bool");
        let t = timestamp::parse_rfc3339("2024-01-02T00:00:00Z").unwrap();
        assert_eq!(type_name(&Scalar::Time(t)), "time");
    }

    #[allow(clippy::approx_constant)]
    #[test]
    fn from_bytes_reads_every_type() {
        assert_eq!(
            from_bytes("str", b"hello").unwrap(),
            Scalar::Str("hello".into())
        );
        assert_eq!(
            from_bytes("comment", b" hi").unwrap(),
            Scalar::Str(" hi".into())
        );
        // A binary file's content: any bytes, kept exactly.
        assert_eq!(
            from_bytes("str", b"a\xffb").unwrap(),
            Scalar::Bytes(b"a\xffb".to_vec())
        );
        assert_eq!(
            from_bytes("bytes", b"a\xffb").unwrap(),
            Scalar::Bytes(b"a\xffb".to_vec())
        );
        assert_eq!(
            from_bytes("comment", b"a\xffb").unwrap(),
            Scalar::Str("a\u{fffd}b".into())
        );
        assert_eq!(from_bytes("int", b"42").unwrap(), Scalar::Int(42));
        assert_eq!(from_bytes("int", b"+42").unwrap(), Scalar::Int(42));
        assert_eq!(
            from_bytes("int", b"-9223372036854775808").unwrap(),
            Scalar::Int(i64::MIN)
        );
        assert!(from_bytes("int", b"9223372036854775808").is_err());
        assert!(from_bytes("int", b"1_000").is_err());
        assert!(from_bytes("int", b" 1").is_err());
        assert!(from_bytes("int", b"").is_err());
        assert_eq!(from_bytes("float", b"3.14").unwrap(), Scalar::Float(3.14));
        assert_eq!(
            from_bytes("float", b"123456789012345680000000000000").unwrap(),
            Scalar::Float(1.2345678901234568e29)
        );
        assert_eq!(from_bytes("bool", b"True").unwrap(), Scalar::Bool(true));
        assert_eq!(from_bytes("bool", b"F").unwrap(), Scalar::Bool(false));
        assert!(from_bytes("bool", b"yes").is_err());
        assert!(from_bytes("bool", b"tRUE").is_err());
        let t = from_bytes("time", b"2001-12-14T21:59:43.1-05:00").unwrap();
        assert_eq!(
            String::from_utf8(to_bytes(&t).to_vec()).unwrap(),
            "2001-12-14T21:59:43.1-05:00"
        );
        assert!(from_bytes("time", b"2001-12-14").is_err());
        assert_eq!(
            from_bytes("uint64", b"1"),
            Err(ValueError("unknown datatype"))
        );
        assert_eq!(from_bytes("", b"1"), Err(ValueError("unknown datatype")));
        assert!(from_bytes("int", b"\xff").is_err());
    }

    #[test]
    fn parse_bool_is_go_parsebool() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        for bad in ["", "yes", "on", "tRuE", "2", " true"] {
            assert_eq!(parse_bool(bad), None, "{bad}");
        }
    }

    #[test]
    fn parse_float_is_go_parsefloat() {
        assert_eq!(parse_float("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_float("Inf"), Some(f64::INFINITY));
        assert_eq!(parse_float("inf"), Some(f64::INFINITY));
        assert_eq!(parse_float("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float("-inf"), Some(f64::NEG_INFINITY));
        assert!(parse_float("NaN").unwrap().is_nan());
        assert!(parse_float("nan").unwrap().is_nan());
        assert_eq!(parse_float("+NaN"), None);
        assert_eq!(
            parse_float("-0").map(f64::to_bits),
            Some((-0.0f64).to_bits())
        );
        assert_eq!(parse_float("1e300"), Some(1e300));
        assert_eq!(parse_float("1E3"), Some(1000.0));
        assert_eq!(parse_float(".5"), Some(0.5));
        assert_eq!(parse_float("1."), Some(1.0));
        assert_eq!(parse_float("1_000.5"), Some(1000.5));
        assert_eq!(parse_float("1_23.50_0_0e+1_2"), Some(1.235e14));
        assert_eq!(parse_float("1e-400"), Some(0.0));
        for bad in [
            "",
            "+",
            "-",
            ".",
            "e5",
            "1e",
            "1e+",
            "1e400",
            "-1e400",
            "1__0",
            "_1",
            "1_",
            "1_.5",
            "0x1p-2",
            "infinit",
            "nan1",
            "1.5x",
            " 1",
            "1 ",
            "++1",
            "+-1",
            "-+1",
            "--1",
            "Infinityy",
        ] {
            assert_eq!(parse_float(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn errors_do_not_quote_the_plaintext() {
        let e = from_bytes("int", b"hunter2").unwrap_err().at("a:");
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    proptest! {
        #[test]
        fn float_round_trips(v in any::<f64>()) {
            let value = Scalar::Float(v);
            let bytes = to_bytes(&value);
            let back = from_bytes("float", &bytes).unwrap();
            match back {
                Scalar::Float(b) if v.is_nan() => prop_assert!(b.is_nan()),
                Scalar::Float(b) => prop_assert_eq!(b.to_bits(), v.to_bits()),
                _ => prop_assert!(false),
            }
            prop_assert!(!bytes.contains(&b'e'));
        }

        #[test]
        fn int_round_trips(v in any::<i64>()) {
            let value = Scalar::Int(v);
            let bytes = to_bytes(&value);
            prop_assert_eq!(from_bytes("int", &bytes).unwrap(), Scalar::Int(v));
        }
    }
}
