//! Small JSON Schema helpers shared by the document's parts: conjunction, alternatives, `null`.

use serde_json::{Map, Value, json};

/// A JSON object being built (insertion order is kept: `serde_json`'s `preserve_order`).
pub(super) type Obj = Map<String, Value>;

/// The schema every value of `parts` satisfies at once: keywords are merged into one object
/// where they do not clash (bounds take the tighter value, `required` lists are joined), the
/// rest go under `allOf`. `true` and `{}` parts add nothing; a `false` part makes it `false`.
pub(super) fn conj(parts: Vec<Value>) -> Value {
    let mut out = Obj::new();
    let mut all: Vec<Value> = Vec::new();
    for part in parts {
        let o = match part {
            Value::Bool(false) => return Value::Bool(false),
            Value::Object(o) => o,
            _ => continue,
        };
        for (k, v) in o {
            let Some(cur) = out.get_mut(&k) else {
                out.insert(k, v);
                continue;
            };
            if *cur == v {
                continue;
            }
            let tighter = |pick_max: bool, cur: &Value, v: &Value| match (cur.as_f64(), v.as_f64())
            {
                (Some(a), Some(b)) => Some(if (b > a) == pick_max {
                    v.clone()
                } else {
                    cur.clone()
                }),
                _ => None,
            };
            let merged = match k.as_str() {
                "minLength" | "minItems" | "minProperties" | "minimum" => tighter(true, cur, &v),
                "maxLength" | "maxItems" | "maxProperties" | "maximum" => tighter(false, cur, &v),
                "required" => match (&*cur, &v) {
                    (Value::Array(a), Value::Array(b)) => {
                        let mut joined = a.clone();
                        joined.extend(b.iter().filter(|x| !a.contains(x)).cloned());
                        Some(Value::Array(joined))
                    }
                    _ => None,
                },
                "allOf" => match (&*cur, &v) {
                    (Value::Array(a), Value::Array(b)) => {
                        Some(Value::Array(a.iter().chain(b).cloned().collect()))
                    }
                    _ => None,
                },
                _ => None,
            };
            match merged {
                Some(m) => *cur = m,
                None => all.push(json!({ k: v })),
            }
        }
    }
    if !all.is_empty() {
        match out.get_mut("allOf") {
            Some(Value::Array(a)) => a.extend(all),
            _ => {
                out.insert("allOf".into(), Value::Array(all));
            }
        }
    }
    Value::Object(out)
}

/// The schema of a value that satisfies one of `schemas`: `{}` when one of them is open,
/// the only one when there is one, else `anyOf` (duplicates dropped).
pub(super) fn any_of(schemas: Vec<Value>) -> Value {
    let mut unique: Vec<Value> = Vec::new();
    for s in schemas {
        if is_open(&s) {
            return json!({});
        }
        if !unique.contains(&s) {
            unique.push(s);
        }
    }
    match unique.len() {
        0 => json!({}),
        1 => unique.pop().unwrap_or_else(|| json!({})),
        _ => json!({ "anyOf": unique }),
    }
}

/// Whether a schema accepts every value.
pub(super) fn is_open(schema: &Value) -> bool {
    match schema {
        Value::Bool(b) => *b,
        Value::Object(o) => o.keys().all(|k| k == "description"),
        _ => false,
    }
}

/// `schema` with `null` accepted too.
pub(super) fn allow_null(schema: Value) -> Value {
    let Value::Object(mut o) = schema else {
        return match schema {
            Value::Bool(false) => json!({"type": "null"}),
            other => other,
        };
    };
    // Keywords that never reject `null` (they apply to other types only).
    const IGNORE_NULL: &[&str] = &[
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "items",
        "prefixItems",
        "contains",
        "minProperties",
        "maxProperties",
        "properties",
        "required",
        "additionalProperties",
        "propertyNames",
        "minimum",
        "maximum",
    ];
    let patchable = o
        .keys()
        .all(|k| IGNORE_NULL.contains(&k.as_str()) || k == "type" || k == "enum");
    if !patchable {
        return json!({"anyOf": [{"type": "null"}, o]});
    }
    match o.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            o.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(ts)) => ts.push(json!("null")),
        _ => {}
    }
    if let Some(Value::Array(values)) = o.get_mut("enum") {
        values.push(Value::Null);
    }
    Value::Object(o)
}

/// `schema` with `null` refused (Cerberus' `nullable: false`).
pub(super) fn forbid_null(schema: Value) -> Value {
    if rejects_null(&schema) {
        return schema;
    }
    conj(vec![schema, json!({"not": {"type": "null"}})])
}

fn rejects_null(schema: &Value) -> bool {
    let Value::Object(o) = schema else {
        return *schema == Value::Bool(false);
    };
    let typed = match o.get("type") {
        Some(Value::String(t)) => t != "null",
        Some(Value::Array(ts)) => !ts.contains(&json!("null")),
        _ => false,
    };
    let listed = matches!(o.get("enum"), Some(Value::Array(v)) if !v.contains(&Value::Null));
    let any_of = matches!(o.get("anyOf"), Some(Value::Array(bs)) if bs.iter().all(rejects_null));
    typed || listed || any_of
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conjunction_merges_or_nests() {
        assert_eq!(
            conj(vec![
                json!({"type": "string", "minLength": 1}),
                json!({"minLength": 3, "maxLength": 9}),
                json!({"maxLength": 5}),
                json!(true),
                json!({"type": "integer"}),
            ]),
            json!({"type": "string", "minLength": 3, "maxLength": 5, "allOf": [{"type": "integer"}]})
        );
        assert_eq!(conj(vec![json!({"a": 1}), json!(false)]), json!(false));
        assert_eq!(
            conj(vec![
                json!({"required": ["a"]}),
                json!({"required": ["b", "a"]})
            ]),
            json!({"required": ["a", "b"]})
        );
    }

    #[test]
    fn alternatives_collapse() {
        assert_eq!(any_of(vec![json!({"const": 1}), json!({})]), json!({}));
        assert_eq!(
            any_of(vec![json!({"const": 1}), json!({"const": 1})]),
            json!({"const": 1})
        );
        assert_eq!(
            any_of(vec![json!({"const": 1}), json!({"const": 2})]),
            json!({"anyOf": [{"const": 1}, {"const": 2}]})
        );
    }

    #[test]
    fn null_is_added_or_refused() {
        assert_eq!(
            allow_null(json!({"type": "string", "enum": ["a"]})),
            json!({"type": ["string", "null"], "enum": ["a", null]})
        );
        assert_eq!(
            allow_null(json!({"not": {"enum": [1]}})),
            json!({"anyOf": [{"type": "null"}, {"not": {"enum": [1]}}]})
        );
        assert_eq!(
            forbid_null(json!({"minLength": 2})),
            json!({"minLength": 2, "not": {"type": "null"}})
        );
        assert_eq!(
            forbid_null(json!({"type": "integer"})),
            json!({"type": "integer"})
        );
    }
}
