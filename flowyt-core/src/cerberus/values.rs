//! The value rules: `allowed`, `forbidden`, `contains` and `regex`.

use regex_lite::Regex;
use serde_json::Value;

use super::errors::ErrorList;
use super::python::{dedup, py_eq, py_repr, py_str};

/// Compiles a Cerberus `regex` constraint: `$` is appended unless the pattern ends with one
/// (Cerberus' rule), and Python's `\Z` becomes `\z`.
pub(super) fn compile_regex(pattern: &str) -> Result<Regex, String> {
    let mut source = String::with_capacity(pattern.len() + 1);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('Z') => source.push_str("\\z"),
                Some(next) => {
                    source.push('\\');
                    source.push(next);
                }
                None => source.push('\\'),
            }
        } else {
            source.push(c);
        }
    }
    if !pattern.ends_with('$') {
        source.push('$');
    }
    Regex::new(&source).map_err(|e| {
        e.to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// Python's `re.match(pattern, s)`: a match that starts at 0; `$` also matches before a
/// final newline.
fn regex_matches(re: &Regex, s: &str) -> bool {
    let at_start = |haystack: &str| re.find(haystack).is_some_and(|m| m.start() == 0);
    at_start(s) || s.strip_suffix('\n').is_some_and(at_start)
}

/// Members of a non-string iterable: list items, or dict keys.
fn members(value: &Value) -> Option<Vec<Value>> {
    match value {
        Value::Array(a) => Some(a.clone()),
        Value::Object(o) => Some(o.keys().map(|k| Value::String(k.clone())).collect()),
        _ => None,
    }
}

/// `allowed`: the value (or every member of a list or dict) must be one of the allowed values.
pub(super) fn check_allowed(
    allowed: &[Value],
    value: &Value,
    errors: &mut ErrorList,
    fail: impl Fn(&mut ErrorList, String),
) {
    if let Some(members) = members(value) {
        let unallowed: Vec<Value> = members
            .into_iter()
            .filter(|m| !allowed.iter().any(|a| py_eq(m, a, 0)))
            .collect();
        if !unallowed.is_empty() {
            let list = Value::Array(dedup(unallowed));
            fail(errors, format!("unallowed values {}", py_repr(&list, 0)));
        }
    } else if !allowed.iter().any(|a| py_eq(value, a, 0)) {
        fail(errors, format!("unallowed value {}", py_str(value)));
    }
}

/// `forbidden`: the value (or a member of a list) must not be one of the forbidden values.
pub(super) fn check_forbidden(
    forbidden: &[Value],
    value: &Value,
    errors: &mut ErrorList,
    fail: impl Fn(&mut ErrorList, String),
) {
    if let Value::Array(items) = value {
        // `set(value) & set(forbidden)`: CPython keeps the members of the smaller
        // set (`0` or `False`), the forbidden one when sizes are equal.
        let members = dedup(items.clone());
        let (keep, other): (&[Value], &[Value]) = if forbidden.len() > members.len() {
            (&members, forbidden)
        } else {
            (forbidden, &members)
        };
        let hits: Vec<Value> = keep
            .iter()
            .filter(|m| other.iter().any(|o| py_eq(m, o, 0)))
            .cloned()
            .collect();
        if !hits.is_empty() {
            let list = Value::Array(hits);
            fail(errors, format!("unallowed values {}", py_repr(&list, 0)));
        }
    } else if forbidden.iter().any(|f| py_eq(value, f, 0)) {
        fail(errors, format!("unallowed value {}", py_str(value)));
    }
}

/// `contains`: a string, list or dict must contain every expected member.
pub(super) fn check_contains(
    expected: &[Value],
    value: &Value,
    errors: &mut ErrorList,
    fail: impl Fn(&mut ErrorList, String),
) {
    let present = match value {
        Value::String(s) => Some(s.chars().map(|c| Value::String(c.to_string())).collect()),
        other => members(other),
    };
    if let Some(present) = present {
        let missing: Vec<String> = expected
            .iter()
            .filter(|e| !present.iter().any(|p| py_eq(e, p, 0)))
            .map(|e| py_repr(e, 0))
            .collect();
        if !missing.is_empty() {
            fail(
                errors,
                format!("missing members {{{}}}", missing.join(", ")),
            );
        }
    }
}

/// `regex`: a string must match the pattern (`raw` is the pattern as written).
pub(super) fn check_regex(
    re: &Regex,
    raw: &Value,
    value: &Value,
    errors: &mut ErrorList,
    fail: impl Fn(&mut ErrorList, String),
) {
    if let Value::String(s) = value
        && !regex_matches(re, s)
    {
        fail(
            errors,
            format!("value does not match regex '{}'", py_str(raw)),
        );
    }
}
