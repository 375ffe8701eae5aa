//! Python `str()` and `repr()` rendering of values, used when a template is spliced into
//! longer text (`"ok=${1 == 1}"` is `"ok=True"`).

use serde_json::{Number, Value};

use super::value::{View, view_value};

/// Python's `repr(float)`: the shortest digits that round-trip, positional notation for
/// exponents in `-4..16` (`25.0`, `0.0001`), scientific otherwise (`1e+16`, `1.5e-07`), and
/// `inf`, `-inf`, `nan`.
pub fn python_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    // Rust's `{:e}` gives the shortest round-trip digits, e.g. `-1.5e-7`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        out.push_str(&e.to_string());
    }
    out
}

/// Python `str()` of a JSON value: strings raw, `True`/`False`/`None`, floats as
/// [`python_float_repr`], lists and dicts as their Python `repr` (`['a', 1, None]`).
pub fn python_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => python_repr(other),
    }
}

/// Python `repr()` of a JSON value: like [`python_str`] but strings are quoted (`'abc'`).
pub fn python_repr(v: &Value) -> String {
    let mut out = String::new();
    write_value_repr(&mut out, v);
    out
}

/// Python `str()` of a view. A missing value renders as `None`; callers that must reject
/// it check first.
pub(super) fn write_str(out: &mut String, v: View<'_>) {
    match v {
        View::Str(s) => out.push_str(s),
        other => write_repr(out, other),
    }
}

pub(super) fn write_repr(out: &mut String, v: View<'_>) {
    match v {
        View::None | View::Missing(_) => out.push_str("None"),
        View::Bool(true) => out.push_str("True"),
        View::Bool(false) => out.push_str("False"),
        View::Int(i) => out.push_str(&i.to_string()),
        View::Float(f) => out.push_str(&python_float_repr(f)),
        View::Str(s) => write_quoted(out, s),
        View::List(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value_repr(out, x);
            }
            out.push(']');
        }
        View::Dict(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_quoted(out, k);
                out.push_str(": ");
                write_value_repr(out, x);
            }
            out.push('}');
        }
        View::Func("module") => out.push_str("<module 'json'>"),
        View::Func("function") => out.push_str("<function <lambda>>"),
        View::Func(_) => out.push_str("<built-in function>"),
    }
}

fn write_value_repr(out: &mut String, v: &Value) {
    match v {
        // Integers above i64::MAX are kept exactly.
        Value::Number(n) if n.as_i64().is_none() && n.as_u64().is_some() => write_number(out, n),
        other => write_repr(out, view_value(other)),
    }
}

fn write_number(out: &mut String, n: &Number) {
    if let Some(u) = n.as_u64() {
        out.push_str(&u.to_string());
    } else if let Some(i) = n.as_i64() {
        out.push_str(&i.to_string());
    } else {
        out.push_str(&python_float_repr(n.as_f64().unwrap_or(f64::NAN)));
    }
}

/// Python's string `repr`: single quotes unless the string contains `'` and no `"`.
pub(super) fn write_quoted(out: &mut String, s: &str) {
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if !is_printable(c) => {
                let code = c as u32;
                if code <= 0xff {
                    out.push_str(&format!("\\x{code:02x}"));
                } else if code <= 0xffff {
                    out.push_str(&format!("\\u{code:04x}"));
                } else {
                    out.push_str(&format!("\\U{code:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(q);
}

/// An approximation of Python's `str.isprintable` without Unicode tables: control
/// characters, separators other than the ASCII space, and common format characters are
/// escaped.
fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() {
        return false;
    }
    !matches!(
        c,
        '\u{a0}'
            | '\u{ad}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200f}'
            | '\u{2028}'..='\u{202f}'
            | '\u{205f}'..='\u{206f}'
            | '\u{3000}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{e000}'..='\u{f8ff}'
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn float_repr_matches_python() {
        let cases = [
            (25.0, "25.0"),
            (0.1, "0.1"),
            (1e20, "1e+20"),
            (1.5e-7, "1.5e-07"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345.6, "123456789012345.6"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (1.0 / 3.0, "0.3333333333333333"),
            (2.0 / 3.0 * 1e-10, "6.666666666666667e-11"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (100.0, "100.0"),
            (1234.5, "1234.5"),
        ];
        for (f, want) in cases {
            assert_eq!(python_float_repr(f), want, "{f:?}");
        }
    }

    #[test]
    fn str_and_repr() {
        let cases = [
            (json!(null), "None", "None"),
            (json!(true), "True", "True"),
            (json!(false), "False", "False"),
            (json!(3), "3", "3"),
            (json!(25.0), "25.0", "25.0"),
            (json!("abc"), "abc", "'abc'"),
            (json!("it's"), "it's", "\"it's\""),
            (json!("a'b\"c"), "a'b\"c", "'a\\'b\"c'"),
            (
                json!("l\n\t\\\u{1}é\u{a0}"),
                "l\n\t\\\u{1}é\u{a0}",
                "'l\\n\\t\\\\\\x01é\\xa0'",
            ),
            (
                json!(["a", 1, null, 2.5, true]),
                "['a', 1, None, 2.5, True]",
                "['a', 1, None, 2.5, True]",
            ),
            (
                json!({"a": true, "b": {"c": []}}),
                "{'a': True, 'b': {'c': []}}",
                "{'a': True, 'b': {'c': []}}",
            ),
            (json!({}), "{}", "{}"),
            (
                json!(18446744073709551615u64),
                "18446744073709551615",
                "18446744073709551615",
            ),
            (
                json!([18446744073709551615u64]),
                "[18446744073709551615]",
                "[18446744073709551615]",
            ),
        ];
        for (v, s, r) in cases {
            assert_eq!(python_str(&v), s, "str {v}");
            assert_eq!(python_repr(&v), r, "repr {v}");
        }
    }
}
