//! Typed flow parameters (`"params"` at the top of a flow), as Airflow's DAG params: a small
//! schema per parameter, checked when a run is triggered; templates read the validated values,
//! defaults applied, as `${params.NAME}`.
//!
//! ```json
//! "params": {"usuario_id": {"type": "integer", "minimum": 1, "required": true}}
//! ```

use crate::loc::Loc;
use serde_json::{Map, Value};
use std::fmt;

/// One declared parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Where it is declared.
    pub loc: Loc,
    /// Its type.
    pub ty: ParamType,
    /// A run without it is refused (unless it has a default).
    pub required: bool,
    /// The value when the run does not give one.
    pub default: Option<Value>,
    /// Smallest allowed number.
    pub minimum: Option<f64>,
    /// Largest allowed number.
    pub maximum: Option<f64>,
    /// The allowed values.
    pub choices: Option<Vec<Value>>,
}

/// Parameter types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    /// `"string"`
    String,
    /// `"integer"`
    Integer,
    /// `"number"` (integer or float)
    Number,
    /// `"boolean"`
    Boolean,
    /// `"object"`
    Object,
    /// `"array"`
    Array,
}

impl ParamType {
    /// Every type with its name.
    pub const ALL: &'static [(&'static str, ParamType)] = &[
        ("string", ParamType::String),
        ("integer", ParamType::Integer),
        ("number", ParamType::Number),
        ("boolean", ParamType::Boolean),
        ("object", ParamType::Object),
        ("array", ParamType::Array),
    ];

    /// The type called `name`.
    pub fn from_name(name: &str) -> Option<ParamType> {
        ParamType::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
    }

    fn article(self) -> &'static str {
        match self {
            ParamType::String => "a string",
            ParamType::Integer => "an integer",
            ParamType::Number => "a number",
            ParamType::Boolean => "a boolean",
            ParamType::Object => "an object",
            ParamType::Array => "an array",
        }
    }
}

/// Why a run's parameters are refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamError {
    /// The parameter at fault.
    pub param: String,
    /// What is wrong, one line.
    pub message: String,
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParamError {}

impl Param {
    /// Checks one value; with `from_text`, a string may stand for a number or a boolean (query
    /// strings carry only text).
    pub fn check(&self, value: &Value, from_text: bool) -> Result<Value, String> {
        let name = &self.name;
        let value = match (self.ty, value, from_text) {
            (ParamType::Integer, Value::String(s), true) => s
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| value.clone()),
            (ParamType::Number, Value::String(s), true) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| value.clone(), Value::Number),
            (ParamType::Boolean, Value::String(s), true) => match s.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => value.clone(),
            },
            _ => value.clone(),
        };
        let ok = match self.ty {
            ParamType::String => value.is_string(),
            ParamType::Integer => value.is_i64() || value.is_u64(),
            ParamType::Number => value.is_number(),
            ParamType::Boolean => value.is_boolean(),
            ParamType::Object => value.is_object(),
            ParamType::Array => value.is_array(),
        };
        if !ok {
            return Err(format!(
                "param `{name}` must be {}, got `{value}`",
                self.ty.article()
            ));
        }
        if let Some(n) = value.as_f64() {
            if let Some(min) = self.minimum.filter(|min| n < *min) {
                return Err(format!("param `{name}` must be at least {}", show(min)));
            }
            if let Some(max) = self.maximum.filter(|max| n > *max) {
                return Err(format!("param `{name}` must be at most {}", show(max)));
            }
        }
        if let Some(choices) = &self.choices
            && !choices.contains(&value)
        {
            let list: Vec<String> = choices.iter().map(Value::to_string).collect();
            return Err(format!(
                "param `{name}` must be one of: {}",
                list.join(", ")
            ));
        }
        Ok(value)
    }
}

fn show(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// Checks the parameters a run is given against the declared ones, applying defaults.
/// Parameters the flow does not declare are refused (a typo would otherwise pass silently).
pub fn resolve(
    declared: &[Param],
    given: &Map<String, Value>,
    from_text: bool,
) -> Result<Map<String, Value>, ParamError> {
    if let Some(unknown) = given
        .keys()
        .find(|k| !declared.iter().any(|p| &p.name == *k))
    {
        let names: Vec<&str> = declared.iter().map(|p| p.name.as_str()).collect();
        let help = crate::suggest::help_for(unknown, names.iter().copied())
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        return Err(ParamError {
            param: unknown.clone(),
            message: format!("unknown param `{unknown}`{help}"),
        });
    }
    let mut out = Map::new();
    for p in declared {
        let value = match given.get(&p.name) {
            Some(Value::Null) | None => match &p.default {
                Some(d) => d.clone(),
                None if p.required => {
                    return Err(ParamError {
                        param: p.name.clone(),
                        message: format!("param `{}` is required", p.name),
                    });
                }
                None => continue,
            },
            Some(v) => p.check(v, from_text).map_err(|message| ParamError {
                param: p.name.clone(),
                message,
            })?,
        };
        out.insert(p.name.clone(), value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user_id() -> Param {
        Param {
            name: "usuario_id".into(),
            loc: Loc(0),
            ty: ParamType::Integer,
            required: true,
            default: None,
            minimum: Some(1.0),
            maximum: None,
            choices: None,
        }
    }

    fn given(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn params_are_checked_with_exact_messages() {
        let p = [user_id()];
        assert_eq!(
            resolve(&p, &given(json!({"usuario_id": 7})), false),
            Ok(given(json!({"usuario_id": 7})))
        );
        let err = |v: Value, text| resolve(&p, &given(v), text).map_err(|e| e.message).err();
        assert_eq!(
            err(json!({}), false).as_deref(),
            Some("param `usuario_id` is required")
        );
        assert_eq!(
            err(json!({"usuario_id": 0}), false).as_deref(),
            Some("param `usuario_id` must be at least 1")
        );
        assert_eq!(
            err(json!({"usuario_id": "7"}), false).as_deref(),
            Some("param `usuario_id` must be an integer, got `\"7\"`")
        );
        assert_eq!(
            err(json!({"usuario_id": 1.5}), false).as_deref(),
            Some("param `usuario_id` must be an integer, got `1.5`")
        );
        assert_eq!(
            err(json!({"usuario": 1}), false).as_deref(),
            Some("unknown param `usuario` (expected one of: `usuario_id`)")
        );
        assert_eq!(
            resolve(&p, &given(json!({"usuario_id": "7"})), true),
            Ok(given(json!({"usuario_id": 7})))
        );
    }

    #[test]
    fn defaults_enums_and_maximum() {
        let p = [Param {
            name: "lang".into(),
            loc: Loc(0),
            ty: ParamType::String,
            required: false,
            default: Some(json!("pt")),
            minimum: None,
            maximum: None,
            choices: Some(vec![json!("pt"), json!("en")]),
        }];
        assert_eq!(
            resolve(&p, &Map::new(), false),
            Ok(given(json!({"lang": "pt"})))
        );
        assert_eq!(
            resolve(&p, &given(json!({"lang": "fr"})), false).map_err(|e| e.message),
            Err("param `lang` must be one of: \"pt\", \"en\"".to_string())
        );
        let mut max = user_id();
        max.maximum = Some(10.0);
        assert_eq!(
            max.check(&json!(11), false),
            Err("param `usuario_id` must be at most 10".to_string())
        );
    }
}
