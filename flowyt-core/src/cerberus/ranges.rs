//! The bound rules: `min`, `max`, `minlength` and `maxlength`.

use serde_json::Value;

use super::errors::ErrorList;
use super::python::{py_lt, py_str, sized_len};

/// `max`: the value must not be greater (incomparable values are skipped).
pub(super) fn check_max(
    max: &Value,
    value: &Value,
    errors: &mut ErrorList,
    fail: impl Fn(&mut ErrorList, String),
) {
    if py_lt(max, value, 0) == Some(true) {
        fail(errors, format!("max value is {}", py_str(max)));
    }
}

/// `min`: the value must not be smaller (incomparable values are skipped).
pub(super) fn check_min(
    min: &Value,
    value: &Value,
    errors: &mut ErrorList,
    fail: impl Fn(&mut ErrorList, String),
) {
    if py_lt(value, min, 0) == Some(true) {
        fail(errors, format!("min value is {}", py_str(min)));
    }
}

/// `maxlength`: a string, list or dict must not be longer (`raw` is the bound as written).
pub(super) fn check_maxlength(
    max: &i128,
    raw: &Value,
    value: &Value,
    errors: &mut ErrorList,
    fail: impl Fn(&mut ErrorList, String),
) {
    if sized_len(value).is_some_and(|len| len as i128 > *max) {
        fail(errors, format!("max length is {}", py_str(raw)));
    }
}

/// `minlength`: a string, list or dict must not be shorter (`raw` is the bound as written).
pub(super) fn check_minlength(
    min: &i128,
    raw: &Value,
    value: &Value,
    errors: &mut ErrorList,
    fail: impl Fn(&mut ErrorList, String),
) {
    if sized_len(value).is_some_and(|len| (len as i128) < *min) {
        fail(errors, format!("min length is {}", py_str(raw)));
    }
}
