//! How sops's flat stores (dotenv, INI) write a value that is not a string: its
//! `ValToString`, which uses Go's formatting.

use crate::tree::Scalar;

/// A non-string scalar as sops's dotenv and INI emitters write it: ints in decimal,
/// floats as [`float`], `true`/`false`, times in RFC 3339 to the second. `None` for
/// strings and bytes, which each store writes in its own way.
pub fn non_string(value: &Scalar) -> Option<String> {
    Some(match value {
        Scalar::Str(_) | Scalar::Bytes(_) => return None,
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => float(*f),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Time(t) => crate::crypto::timestamp::format_mac_aad(t),
    })
}

/// Go's `strconv.FormatFloat(f, 'G', -1, 64)`, with `.0` added when the result would
/// read as an integer (sops makes sure a float does not look like one): `1.5`, `1.0`,
/// `123456.0`, `1.234567E+06`, `1E-05`, `+Inf`, `NaN`.
pub fn float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let mut g = String::new();
    crate::yaml_fmt::render::format_go_float(f, &mut g);
    let g = g.replace('e', "E");
    if g.contains(['.', 'E']) {
        g
    } else {
        // A whole number below 1e6: Go's 'f' format with one decimal.
        format!("{f:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_sops_writes_them_in_flat_files() {
        for (f, want) in [
            (1.5, "1.5"),
            (1.0, "1.0"),
            (123456.0, "123456.0"),
            (1234567.0, "1.234567E+06"),
            (0.00001, "1E-05"),
            (-0.0001, "-0.0001"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
            (42.0, "42.0"),
            (100000.0, "100000.0"),
            (1e6, "1E+06"),
            (123456789.0, "1.23456789E+08"),
            (1e21, "1E+21"),
            (-0.0, "-0.0"),
            (1.2345678901234567e25, "1.2345678901234566E+25"),
        ] {
            assert_eq!(float(f), want, "{f}");
        }
    }
}
