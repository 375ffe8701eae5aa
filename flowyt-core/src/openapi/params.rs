//! A flow's declared `params` as JSON Schema: trigger `conf`, query parameters and body fields.

use serde_json::{Value, json};

use super::schema::Obj;
use crate::params::{Param, ParamType};

/// Where a param's value comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    /// A triggered run's `conf`: JSON, checked as it is.
    Conf,
    /// The query string: text, `7` and `true` read as numbers and booleans.
    Query,
    /// A field of a JSON object body: JSON, where text may also stand for a number or a
    /// boolean, and `null` counts as absent.
    Body,
}

fn type_name(ty: ParamType) -> &'static str {
    match ty {
        ParamType::String => "string",
        ParamType::Integer => "integer",
        ParamType::Number => "number",
        ParamType::Boolean => "boolean",
        ParamType::Object => "object",
        ParamType::Array => "array",
    }
}

/// `n` as JSON, an integer when it is a whole number.
fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

/// Whether the query string can give this param (it carries only text).
pub(super) fn from_query(p: &Param) -> bool {
    !matches!(p.ty, ParamType::Object | ParamType::Array)
}

/// Whether a run is refused without this param.
pub(super) fn needed(p: &Param) -> bool {
    p.required && p.default.is_none()
}

/// The schema of one param's value taken from `source`.
pub(super) fn param_schema(p: &Param, source: Source) -> Value {
    let mut o = Obj::new();
    let textual = matches!(
        p.ty,
        ParamType::Integer | ParamType::Number | ParamType::Boolean
    );
    let ty = type_name(p.ty);
    match source {
        Source::Body if textual => {
            o.insert("type".into(), json!([ty, "string", "null"]));
        }
        Source::Body => {
            o.insert("type".into(), json!([ty, "null"]));
        }
        _ => {
            o.insert("type".into(), json!(ty));
        }
    }
    if let Some(min) = p.minimum {
        o.insert("minimum".into(), number(min));
    }
    if let Some(max) = p.maximum {
        o.insert("maximum".into(), number(max));
    }
    // Text is compared after it is read as a number or boolean: a body's choices are left
    // to the server then.
    if let Some(choices) = &p.choices
        && !(source == Source::Body && textual)
    {
        let mut values = choices.clone();
        if source == Source::Body {
            values.push(Value::Null);
        }
        o.insert("enum".into(), Value::Array(values));
    }
    if let Some(d) = &p.default {
        o.insert("default".into(), d.clone());
    }
    Value::Object(o)
}

/// The `conf` a triggered run of the flow takes (`x-flowyt-params`).
pub(super) fn conf_schema(params: &[Param]) -> Value {
    let props: Obj = params
        .iter()
        .map(|p| (p.name.clone(), param_schema(p, Source::Conf)))
        .collect();
    let required: Vec<&str> = params
        .iter()
        .filter(|p| needed(p))
        .map(|p| p.name.as_str())
        .collect();
    let mut o = Obj::new();
    o.insert("type".into(), json!("object"));
    o.insert("properties".into(), Value::Object(props));
    if !required.is_empty() {
        o.insert("required".into(), json!(required));
    }
    o.insert("additionalProperties".into(), Value::Bool(false));
    Value::Object(o)
}

/// What a JSON body must be for the params check: when it is an object, only declared
/// params as fields (a body that is not an object is not read for params).
pub(super) fn body_schema(params: &[Param]) -> Value {
    let props: Obj = params
        .iter()
        .map(|p| (p.name.clone(), param_schema(p, Source::Body)))
        .collect();
    json!({"properties": props, "additionalProperties": false})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loc::Loc;

    #[test]
    fn sources_differ_in_what_they_accept() {
        let p = Param {
            name: "n".into(),
            loc: Loc(0),
            ty: ParamType::Integer,
            required: true,
            default: None,
            minimum: Some(1.0),
            maximum: None,
            choices: Some(vec![json!(1), json!(2)]),
        };
        assert_eq!(
            param_schema(&p, Source::Query),
            json!({"type": "integer", "minimum": 1, "enum": [1, 2]})
        );
        assert_eq!(
            param_schema(&p, Source::Body),
            json!({"type": ["integer", "string", "null"], "minimum": 1})
        );
        assert_eq!(
            conf_schema(std::slice::from_ref(&p)),
            json!({
                "type": "object",
                "properties": {"n": {"type": "integer", "minimum": 1, "enum": [1, 2]}},
                "required": ["n"],
                "additionalProperties": false
            })
        );
    }
}
