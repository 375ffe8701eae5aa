//! `switch`: the first condition that holds chooses the next action (spec decision 4).

use super::{Effect, eval};
use crate::context::Ctx;
use crate::engine::{Runner, fail};
use crate::error::{ErrorKind, RunError};
use flowyt_core::expr::python_str;
use flowyt_core::model::{Action, Edge, Operator, Switch};
use serde_json::{Value, json};
use std::cmp::Ordering;

pub(super) fn run<'a>(
    runner: &Runner<'_>,
    ctx: &Ctx,
    action: &'a Action,
    switch: &'a Switch,
) -> Result<(Effect<'a>, Value), RunError> {
    let as_strings = runner.shared.settings.string_compare;
    let mut evaluated = Vec::new();
    let mut chosen: Option<&Edge> = None;
    for c in &switch.conditions {
        let first = eval(action, &c.first, ctx)?;
        let second = eval(action, &c.second, ctx)?;
        let holds = compare(c.operator, &first, &second, as_strings)
            .map_err(|m| fail(action, ErrorKind::Template, m))?;
        if runner.tracing() {
            evaluated.push(json!({
                "operator": c.operator.name(),
                "first_expression": first,
                "second_expression": second,
                "holds": holds,
            }));
        }
        if holds {
            chosen = Some(&c.target);
            break;
        }
    }
    let branch = match chosen {
        Some(edge) => edge,
        None if !matches!(switch.otherwise, Edge::None) => &switch.otherwise,
        None => {
            return Err(fail(
                action,
                ErrorKind::Flow,
                format!(
                    "no condition of switch `{}` holds and it has no `next_action_else`",
                    action.id
                ),
            ));
        }
    };
    Ok((
        Effect::Continue {
            produced: None,
            branch: Some(branch),
        },
        json!({ "conditions": evaluated }),
    ))
}

/// Applies a switch operator. Values compare by type, as Python does: `2 == 2.0`, `"2" != 2`,
/// and ordering a string against a number is an error. With `string_compare` (legacy HEAD
/// behaviour) both sides are compared as their Python `str()`.
pub(crate) fn compare(
    op: Operator,
    a: &Value,
    b: &Value,
    as_strings: bool,
) -> Result<bool, String> {
    if as_strings && !matches!(op, Operator::Contains | Operator::In) {
        let (a, b) = (Value::String(python_str(a)), Value::String(python_str(b)));
        return compare(op, &a, &b, false);
    }
    Ok(match op {
        Operator::Equal => equal(a, b),
        Operator::Different => !equal(a, b),
        Operator::GreaterThan => order(a, b)? == Ordering::Greater,
        Operator::LessThan => order(a, b)? == Ordering::Less,
        Operator::GreaterOrEqual => order(a, b)? != Ordering::Less,
        Operator::LessOrEqual => order(a, b)? != Ordering::Greater,
        Operator::Contains => contains(a, b)?,
        Operator::In => contains(b, a)?,
    })
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// Python `==` on JSON values.
pub(crate) fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Bool(_) | Value::Number(_), Value::Bool(_) | Value::Number(_)) => {
            number(a) == number(b)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "None",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

fn order(a: &Value, b: &Value) -> Result<Ordering, String> {
    if let (Some(x), Some(y)) = (number(a), number(b)) {
        return x
            .partial_cmp(&y)
            .ok_or_else(|| "cannot order NaN".to_string());
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        (Value::Array(x), Value::Array(y)) => {
            for (x, y) in x.iter().zip(y) {
                if !equal(x, y) {
                    return order(x, y);
                }
            }
            Ok(x.len().cmp(&y.len()))
        }
        _ => Err(format!(
            "cannot order `{}` against `{}` (`{}` and `{}`)",
            python_str(a),
            python_str(b),
            type_name(a),
            type_name(b)
        )),
    }
}

fn contains(container: &Value, item: &Value) -> Result<bool, String> {
    match container {
        Value::String(s) => match item {
            Value::String(i) => Ok(s.contains(i.as_str())),
            other => Err(format!(
                "`in <string>` needs a string, found `{}`",
                type_name(other)
            )),
        },
        Value::Array(items) => Ok(items.iter().any(|v| equal(v, item))),
        Value::Object(map) => match item {
            Value::String(k) => Ok(map.contains_key(k)),
            _ => Ok(false),
        },
        other => Err(format!("`{}` is not a container", type_name(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_comparisons_follow_python() {
        assert!(compare(Operator::Equal, &json!(2), &json!(2.0), false).unwrap_or(false));
        assert!(!compare(Operator::Equal, &json!("2"), &json!(2), false).unwrap_or(true));
        assert!(compare(Operator::Equal, &json!("2"), &json!(2), true).unwrap_or(false));
        assert!(compare(Operator::GreaterThan, &json!(10), &json!(9), false).unwrap_or(false));
        assert!(!compare(Operator::GreaterThan, &json!("10"), &json!("9"), false).unwrap_or(true));
        assert!(compare(Operator::GreaterThan, &json!("a"), &json!(1), false).is_err());
        assert!(compare(Operator::Contains, &json!([1, 2]), &json!(2), false).unwrap_or(false));
        assert!(compare(Operator::In, &json!("ell"), &json!("hello"), false).unwrap_or(false));
        assert!(compare(Operator::GreaterOrEqual, &json!(2), &json!(2), false).unwrap_or(false));
        assert!(compare(Operator::LessOrEqual, &json!(1), &json!(2), false).unwrap_or(false));
        assert!(
            compare(
                Operator::Different,
                &json!({"a": [1]}),
                &json!({"a": [2]}),
                false
            )
            .unwrap_or(false)
        );
    }
}
