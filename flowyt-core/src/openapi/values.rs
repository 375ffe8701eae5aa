//! Cerberus value rules (`allowed`, `forbidden`, `contains`, lengths) as JSON Schema, by kind.

use serde_json::{Value, json};

use super::schema::Obj;

/// The JSON types a value may have under a `type` rule, as bits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Kinds(pub(super) u8);

impl Kinds {
    pub(super) const STRING: Kinds = Kinds(1);
    pub(super) const NUMBER: Kinds = Kinds(2);
    pub(super) const BOOLEAN: Kinds = Kinds(4);
    pub(super) const OBJECT: Kinds = Kinds(8);
    pub(super) const ARRAY: Kinds = Kinds(16);
    pub(super) const ANY: Kinds = Kinds(31);
    pub(super) const SCALAR: Kinds = Kinds(7);

    pub(super) fn has(self, k: Kinds) -> bool {
        self.0 & k.0 != 0
    }

    pub(super) fn only(self, k: Kinds) -> bool {
        self.0 & !k.0 == 0
    }
}

/// `minLength`/`minItems`/`minProperties` (`which` = "min") or the `max` ones, for the
/// sized kinds a value may have.
pub(super) fn lengths(kinds: Kinds, which: &str, n: i64) -> Value {
    let mut o = Obj::new();
    for (k, suffix) in [
        (Kinds::STRING, "Length"),
        (Kinds::ARRAY, "Items"),
        (Kinds::OBJECT, "Properties"),
    ] {
        if kinds.has(k) {
            o.insert(format!("{which}{suffix}"), json!(n));
        }
    }
    Value::Object(o)
}

/// The empty values of the sized kinds a value may have.
pub(super) fn empties(kinds: Kinds) -> Vec<Value> {
    let mut out = Vec::new();
    if kinds.has(Kinds::STRING) {
        out.push(json!(""));
    }
    if kinds.has(Kinds::ARRAY) {
        out.push(json!([]));
    }
    if kinds.has(Kinds::OBJECT) {
        out.push(json!({}));
    }
    out
}

/// `values` with the values Python's `==` also equals (`1 == 1.0 == True`), without
/// duplicates under JSON Schema's equality.
pub(super) fn with_equivalents(values: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut add = |v: Value| {
        let dup = out.iter().any(|o| match (o.as_f64(), v.as_f64()) {
            (Some(a), Some(b)) => a == b,
            _ => *o == v,
        });
        if !dup {
            out.push(v);
        }
    };
    for v in values {
        add(v.clone());
        match v {
            Value::Bool(b) => add(json!(u8::from(*b))),
            Value::Number(n) if n.as_f64() == Some(1.0) => add(json!(true)),
            Value::Number(n) if n.as_f64() == Some(0.0) => add(json!(false)),
            _ => {}
        }
    }
    out
}

/// `allowed`: a scalar must be one of the values; every item of a list and every key of a
/// dict too. `None` when the values hold lists or dicts (compared with Python's `==`).
pub(super) fn allowed_rule(allowed: &Value, kinds: Kinds) -> Option<Value> {
    let values: Vec<Value> = match allowed {
        Value::Array(items) => items.clone(),
        Value::Object(o) => o.keys().map(|k| Value::String(k.clone())).collect(),
        _ => return Some(json!({})),
    };
    if values.iter().any(|v| v.is_array() || v.is_object()) {
        return None;
    }
    let values = with_equivalents(&values);
    let keys: Vec<&Value> = values.iter().filter(|v| v.is_string()).collect();
    let one_of = |values: Value, empty: bool| {
        if empty {
            json!({"not": {}})
        } else {
            json!({"enum": values})
        }
    };
    let mut branches: Vec<Value> = Vec::new();
    if kinds.has(Kinds::ARRAY) {
        let items = if values.is_empty() {
            json!({"maxItems": 0})
        } else {
            json!({"items": {"enum": values}})
        };
        branches.push(items);
    }
    if kinds.has(Kinds::OBJECT) {
        let names = if keys.is_empty() {
            json!({"maxProperties": 0})
        } else {
            json!({"propertyNames": {"enum": keys}})
        };
        branches.push(names);
    }
    if kinds.has(Kinds::SCALAR) {
        branches.push(one_of(json!(values), values.is_empty()));
    }
    if branches.len() == 1 {
        return branches.pop();
    }
    // Several kinds: each branch is guarded by its type (the scalar one by its values).
    let guarded: Vec<Value> = branches
        .into_iter()
        .map(|b| match b {
            Value::Object(mut o) if o.contains_key("items") || o.contains_key("maxItems") => {
                o.insert("type".into(), json!("array"));
                Value::Object(o)
            }
            Value::Object(mut o)
                if o.contains_key("propertyNames") || o.contains_key("maxProperties") =>
            {
                o.insert("type".into(), json!("object"));
                Value::Object(o)
            }
            other => other,
        })
        .collect();
    Some(json!({ "anyOf": guarded }))
}

/// `forbidden`: a value (a dict as a whole) may not be one of them; no item of a list may.
pub(super) fn forbidden_rule(forbidden: &[Value], kinds: Kinds) -> Value {
    if forbidden.is_empty() {
        return json!({});
    }
    let values = with_equivalents(forbidden);
    let items = json!({"items": {"not": {"enum": values}}});
    let whole = json!({"not": {"enum": values}});
    if kinds.only(Kinds::ARRAY) {
        items
    } else if !kinds.has(Kinds::ARRAY) {
        whole
    } else {
        json!({"if": {"type": "array"}, "then": items, "else": whole})
    }
}

/// `contains`: a list must hold each value, a dict each key. Strings (each value one of its
/// characters) and lists or dicts among the values are left to the server.
pub(super) fn contains_rule(contains: &Value, kinds: Kinds, notes: &mut Vec<String>) -> Vec<Value> {
    let expected: Vec<Value> = match contains {
        Value::Array(items) => items.clone(),
        Value::Object(o) => o.keys().map(|k| Value::String(k.clone())).collect(),
        Value::Null => return Vec::new(),
        other => vec![other.clone()],
    };
    if kinds.has(Kinds::STRING) || expected.iter().any(|e| e.is_array() || e.is_object()) {
        notes.push(format!("`contains` {contains}"));
    }
    let mut out = Vec::new();
    for e in expected.iter().filter(|e| !e.is_array() && !e.is_object()) {
        out.push(json!({"contains": {"enum": with_equivalents(std::slice::from_ref(e))}}));
    }
    let keys: Vec<&Value> = expected.iter().filter(|e| e.is_string()).collect();
    if kinds.has(Kinds::OBJECT) && !keys.is_empty() {
        out.push(json!({ "required": keys }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_equality_widens_enums() {
        assert_eq!(
            with_equivalents(&[json!(1), json!(true), json!("1"), json!(0.0)]),
            [json!(1), json!(true), json!("1"), json!(0.0), json!(false)]
        );
    }
}
