//! Python value semantics Cerberus relies on: `str()`, `repr()`, `==`, `<`, `len()` and sets.

use crate::expr::python_float_repr;
use std::cmp::Ordering;
use std::collections::HashSet;

use serde_json::Value;

use super::MAX_DOCUMENT_DEPTH;

/// Recursion guard for the helpers below (inputs are already bounded by
/// [`MAX_DOCUMENT_DEPTH`]).
const GUARD: usize = MAX_DOCUMENT_DEPTH + 8;

/// Python's `str()` of a JSON value as `json.loads` would have built it.
pub(super) fn py_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => py_repr(other, 0),
    }
}

/// Python's `repr()` of a JSON value as `json.loads` would have built it.
pub(super) fn py_repr(value: &Value, depth: usize) -> String {
    if depth > GUARD {
        return "...".to_owned();
    }
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => match to_num(value) {
            Some(Num::Float(f)) => python_float_repr(f),
            _ => n.to_string(),
        },
        Value::String(s) => py_repr_str(s),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(|v| py_repr(v, depth + 1)).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(object) => {
            let inner: Vec<String> = object
                .iter()
                .map(|(k, v)| format!("{}: {}", py_repr_str(k), py_repr(v, depth + 1)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

/// Python's `repr()` of a `str`.
fn py_repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c => {
                let code = u32::from(c);
                if code <= 0xff {
                    out.push_str(&format!("\\x{code:02x}"));
                } else if code <= 0xffff {
                    out.push_str(&format!("\\u{code:04x}"));
                } else {
                    out.push_str(&format!("\\U{code:08x}"));
                }
            }
        }
    }
    out.push(quote);
    out
}

/// An approximation of Python's `str.isprintable()` for one character: control, format,
/// separator (other than the ASCII space) and private-use characters are not printable.
fn is_printable(c: char) -> bool {
    let code = u32::from(c);
    !(c.is_control()
        || matches!(code,
            0xa0 | 0xad | 0x1680 | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x2064
            | 0x2066..=0x206f | 0x3000 | 0xfeff | 0xfff9..=0xfffb
            | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x180e
            | 0xe000..=0xf8ff | 0xf0000..=0x10ffff))
}

/// A Python number (`bool` is an `int`).
#[derive(Debug, Clone, Copy)]
pub(super) enum Num {
    Int(i128),
    Float(f64),
}

pub(super) fn to_num(value: &Value) -> Option<Num> {
    match value {
        Value::Bool(b) => Some(Num::Int(i128::from(*b))),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(Num::Int(i128::from(i)))
            } else if let Some(u) = n.as_u64() {
                Some(Num::Int(i128::from(u)))
            } else {
                n.as_f64().map(Num::Float)
            }
        }
        _ => None,
    }
}

/// Exact comparison of Python numbers (Python compares `int` and `float` exactly).
fn num_cmp(a: Num, b: Num) -> Ordering {
    fn int_float(i: i128, f: f64) -> Ordering {
        if f.is_nan() {
            return Ordering::Equal;
        }
        if f >= 1.0e38 {
            return Ordering::Less;
        }
        if f <= -1.0e38 {
            return Ordering::Greater;
        }
        let floor = f.floor();
        // In range: |floor| < 1e38 < i128::MAX.
        let whole = floor as i128;
        match i.cmp(&whole) {
            Ordering::Equal if f > floor => Ordering::Less,
            other => other,
        }
    }
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => x.cmp(&y),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        (Num::Int(x), Num::Float(y)) => int_float(x, y),
        (Num::Float(x), Num::Int(y)) => int_float(y, x).reverse(),
    }
}

/// Python's `a == b` for values built by `json.loads`.
pub(super) fn py_eq(a: &Value, b: &Value, depth: usize) -> bool {
    if depth > GUARD {
        return false;
    }
    if let (Some(x), Some(y)) = (to_num(a), to_num(b)) {
        return num_cmp(x, y) == Ordering::Equal;
    }
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q, depth + 1))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w, depth + 1)))
        }
        _ => false,
    }
}

/// Python's `a < b`; `None` where Python raises `TypeError` (Cerberus then skips the rule).
pub(super) fn py_lt(a: &Value, b: &Value, depth: usize) -> Option<bool> {
    if depth > GUARD {
        return None;
    }
    if let (Some(x), Some(y)) = (to_num(a), to_num(b)) {
        return Some(num_cmp(x, y) == Ordering::Less);
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => Some(x < y),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                if !py_eq(p, q, depth + 1) {
                    return py_lt(p, q, depth + 1);
                }
            }
            Some(x.len() < y.len())
        }
        _ => None,
    }
}

/// Removes duplicates (Python set semantics: `1`, `1.0` and `true` are one member), keeping
/// the first occurrence.
pub(super) fn dedup(values: Vec<Value>) -> Vec<Value> {
    /// Scalars under Python's `==`/`hash`: `1 == 1.0 == True`.
    #[derive(PartialEq, Eq, Hash)]
    enum Scalar {
        Null,
        Int(i128),
        Float(u64),
        Str(String),
    }
    let scalar = |v: &Value| match v {
        Value::Null => Some(Scalar::Null),
        Value::String(s) => Some(Scalar::Str(s.clone())),
        other => match to_num(other)? {
            Num::Int(i) => Some(Scalar::Int(i)),
            Num::Float(f) if f.fract() == 0.0 && f.abs() < 1.0e30 => Some(Scalar::Int(f as i128)),
            Num::Float(f) => Some(Scalar::Float(f.to_bits())),
        },
    };
    let mut seen = HashSet::new();
    let mut out: Vec<Value> = Vec::with_capacity(values.len());
    for v in values {
        let new = match scalar(&v) {
            Some(key) => seen.insert(key),
            // Lists and objects: compared one by one, like Python (which would raise).
            None => !out.iter().any(|o| py_eq(o, &v, 0)),
        };
        if new {
            out.push(v);
        }
    }
    out
}

/// Python's `len()` for strings (code points), lists and dicts.
pub(super) fn sized_len(value: &Value) -> Option<usize> {
    match value {
        Value::String(s) => Some(s.chars().count()),
        Value::Array(a) => Some(a.len()),
        Value::Object(o) => Some(o.len()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn python_renderings() {
        assert_eq!(python_float_repr(1.0), "1.0");
        assert_eq!(python_float_repr(1.5e-5), "1.5e-05");
        assert_eq!(python_float_repr(1e16), "1e+16");
        assert_eq!(python_float_repr(123456789.125), "123456789.125");
        assert_eq!(python_float_repr(-0.0001), "-0.0001");
        assert_eq!(
            python_float_repr(1.2345678901234568e17),
            "1.2345678901234568e+17"
        );
        assert_eq!(python_float_repr(0.1), "0.1");
        assert_eq!(py_repr_str("it's"), "\"it's\"");
        assert_eq!(py_repr_str("c'd\"e"), "'c\\'d\"e'");
        assert_eq!(py_repr_str("\n\u{1}é\u{a0}"), "'\\n\\x01é\\xa0'");
        assert_eq!(
            py_repr(&json!({"a": [1, 2.0, null, true, "x"]}), 0),
            "{'a': [1, 2.0, None, True, 'x']}"
        );
    }
}
