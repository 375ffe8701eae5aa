//! Cerberus schemas (a `validation` action's) as JSON Schema 2020-12, as flowyt checks them.

use serde_json::{Map, Value, json};

use super::pattern::ecma_pattern;
use super::schema::{Obj, allow_null, conj, forbid_null};
use super::values::{Kinds, allowed_rule, contains_rule, empties, forbidden_rule, lengths};

/// Nesting beyond which a sub-schema is left open (a schema that loaded is shallower).
const MAX_DEPTH: usize = crate::cerberus::MAX_SCHEMA_DEPTH;

/// The time part of the `date`/`datetime` shapes flowyt accepts (day and hour ranges are
/// left to the server).
const DATETIME: &str =
    "[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?([Zz]|[+-][0-9]{2}:[0-9]{2})?";

/// What a mapping level inherits: Cerberus' `allow_unknown` and `require_all`.
#[derive(Clone, Copy)]
struct Level {
    allow_unknown: bool,
    require_all: bool,
}

/// A Cerberus schema, as written in a `validation` action (`{"name": {"type": "string",
/// "required": true}}`), as a JSON Schema (2020-12 dialect, as OpenAPI 3.1 uses) of the
/// request bodies it accepts.
///
/// The translation follows flowyt's checker (Cerberus 1.3.2 semantics, see
/// [`crate::cerberus`]): the document must be an object; fields are optional unless
/// `required` (or `require_all`) and have no `default`; unknown fields are refused unless
/// `allow_unknown`; `null` is refused unless `nullable` (or a `default` replaces it); an
/// explicit `empty: true` lets an empty value skip `allowed`, `forbidden`, `items`, the length
/// rules and `regex`. Rules JSON Schema cannot state exactly (`dependencies`, `excludes`,
/// `contains` on strings, `min`/`max` on strings or lists, patterns ECMA-262 cannot read) are
/// left out, which makes the schema looser, never stricter, and are named in the field's
/// `description`. A schema that does not compile is translated as far as it reads: rules
/// that are not understood are ignored.
///
/// ```
/// use flowyt_core::openapi::cerberus_to_json_schema;
/// use serde_json::json;
///
/// let schema = cerberus_to_json_schema(&json!({
///     "name": {"type": "string", "required": true, "maxlength": 40},
///     "qty": {"type": "integer", "min": 1, "default": 1}
/// }));
/// assert_eq!(schema, json!({
///     "type": "object",
///     "properties": {
///         "name": {"type": "string", "maxLength": 40},
///         "qty": {"type": ["integer", "null"], "minimum": 1, "default": 1}
///     },
///     "required": ["name"],
///     "additionalProperties": false
/// }));
/// ```
pub fn cerberus_to_json_schema(schema: &Value) -> Value {
    let mut out = Obj::new();
    out.insert("type".into(), json!("object"));
    let level = Level {
        allow_unknown: false,
        require_all: false,
    };
    out.extend(mapping(schema, level, 0));
    Value::Object(out)
}

/// The object keywords of a mapping schema (`properties`, `required`,
/// `additionalProperties`), without `type`.
fn mapping(schema: &Value, lv: Level, depth: usize) -> Obj {
    let mut out = Obj::new();
    let Some(fields) = schema.as_object() else {
        return out;
    };
    if depth > MAX_DEPTH {
        return out;
    }
    let mut props = Obj::new();
    for (name, rules) in fields {
        props.insert(name.clone(), field(rules, lv, depth + 1));
    }
    // A required field that `excludes` others is required only as a group (Cerberus'
    // `_unrequired_by_excludes`): the group is left optional here.
    let required_here = |rules: &Value| {
        rules
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(lv.require_all)
    };
    let mut grouped: Vec<&str> = Vec::new();
    for (name, rules) in fields {
        if required_here(rules)
            && let Some(excluded) = rules.get("excludes")
        {
            grouped.push(name);
            let names = match excluded {
                Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                Value::String(s) => vec![s.as_str()],
                _ => Vec::new(),
            };
            grouped.extend(names.into_iter().filter(|n| fields.contains_key(*n)));
        }
    }
    let required: Vec<Value> = fields
        .iter()
        .filter(|(name, rules)| {
            required_here(rules)
                && rules.get("default").is_none()
                && !grouped.contains(&name.as_str())
        })
        .map(|(name, _)| Value::String(name.clone()))
        .collect();
    out.insert("properties".into(), Value::Object(props));
    if !required.is_empty() {
        out.insert("required".into(), Value::Array(required));
    }
    if !lv.allow_unknown {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    out
}

/// The schema of one field's value under its rules set.
fn field(rules: &Value, lv: Level, depth: usize) -> Value {
    let Some(r) = rules.as_object() else {
        return json!({});
    };
    if depth > MAX_DEPTH {
        return json!({});
    }
    // A read-only field may not be sent at all (Cerberus reports it while normalizing).
    if r.get("readonly") == Some(&Value::Bool(true)) {
        return Value::Bool(false);
    }
    let get = |name: &str| {
        r.get(name).or_else(|| match name {
            "keysrules" => r.get("keyschema"),
            "valuesrules" => r.get("valueschema"),
            _ => None,
        })
    };
    let mut notes: Vec<String> = Vec::new();
    let (type_part, kinds) = type_rule(get("type"));
    // `kept`: rules that also apply to empty values; `droppable`: those an explicit `empty`
    // skips for them (Cerberus' `_validate_empty`).
    let mut kept: Vec<Value> = type_part.into_iter().collect();
    let mut droppable: Vec<Value> = Vec::new();
    for (rule, key) in [("min", "minimum"), ("max", "maximum")] {
        match get(rule) {
            Some(Value::Number(n)) => kept.push(json!({ key: n })),
            Some(Value::Bool(b)) => kept.push(json!({ key: u8::from(*b) })),
            Some(other) if !other.is_null() => {
                notes.push(format!("`{rule}` {other} (compared as Python compares)"))
            }
            _ => {}
        }
    }
    let bound = |rule: &str| get(rule).and_then(Value::as_i64);
    if let Some(n) = bound("minlength").filter(|n| *n > 0) {
        droppable.push(lengths(kinds, "min", n));
    }
    if let Some(n) = bound("maxlength").filter(|n| *n >= 0) {
        droppable.push(lengths(kinds, "max", n));
    }
    if let Some(allowed) = get("allowed") {
        match allowed_rule(allowed, kinds) {
            Some(part) => droppable.push(part),
            None => notes.push(format!("`allowed` {allowed} (compared as Python compares)")),
        }
    }
    if let Some(Value::Array(forbidden)) = get("forbidden") {
        droppable.push(forbidden_rule(forbidden, kinds));
    }
    if let Some(contains) = get("contains") {
        kept.extend(contains_rule(contains, kinds, &mut notes));
    }
    if let Some(Value::String(re)) = get("regex") {
        match ecma_pattern(re) {
            Some(p) => droppable.push(json!({ "pattern": p })),
            None => notes.push(format!("`regex` {re:?}")),
        }
    }
    if let Some(Value::Array(items)) = get("items") {
        droppable.push(items_rule(items, kinds, lv, depth));
    }
    let own = Level {
        allow_unknown: r
            .get("allow_unknown")
            .and_then(Value::as_bool)
            .unwrap_or(lv.allow_unknown),
        require_all: r
            .get("require_all")
            .and_then(Value::as_bool)
            .unwrap_or(lv.require_all),
    };
    let values = get("valuesrules").map(|v| field(v, lv, depth + 1));
    let mut mapped = false;
    if let Some(sub @ Value::Object(_)) = get("schema") {
        let (object_part, array_part) = schema_rule(sub, kinds, lv, own, depth);
        mapped = object_part.contains_key("properties");
        let object_part = match (&values, mapped) {
            (Some(v), true) => with_values(object_part, v, own.allow_unknown),
            _ => object_part,
        };
        kept.push(Value::Object(object_part));
        kept.push(Value::Object(array_part));
    }
    if let (Some(v), false) = (&values, mapped) {
        kept.push(json!({ "additionalProperties": v }));
    }
    if let Some(k) = get("keysrules") {
        kept.push(json!({ "propertyNames": field(k, lv, depth + 1) }));
    }
    for rule in ["dependencies", "excludes"] {
        if let Some(v) = r.get(rule) {
            notes.push(format!("`{rule}` {v}"));
        }
    }
    match get("empty").and_then(Value::as_bool) {
        Some(false) => {
            kept.push(lengths(kinds, "min", 1));
            kept.extend(droppable);
        }
        Some(true) if !droppable.is_empty() => {
            let empties = empties(kinds);
            if empties.is_empty() {
                kept.extend(droppable);
            } else {
                let rest = conj(droppable);
                kept.push(json!({"anyOf": [{"enum": empties}, rest]}));
            }
        }
        _ => kept.extend(droppable),
    }
    let nullable = r.get("nullable") == Some(&Value::Bool(true));
    let default = r.get("default");
    let mut schema = conj(kept);
    // A `null` is accepted when nullable, or replaced by the default (normalization).
    schema = if nullable || default.is_some() {
        allow_null(schema)
    } else {
        forbid_null(schema)
    };
    if let Value::Object(o) = &mut schema {
        if let Some(d) = default {
            o.insert("default".into(), d.clone());
        }
        if !notes.is_empty() {
            o.insert(
                "description".into(),
                Value::String(format!("Also checked by the server: {}.", notes.join("; "))),
            );
        }
    }
    schema
}

/// The `type` rule: its schema (if it constrains anything) and the JSON kinds it admits.
fn type_rule(rule: Option<&Value>) -> (Option<Value>, Kinds) {
    let names: Vec<&str> = match rule {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => return (None, Kinds::ANY),
    };
    let mut types: Vec<&str> = Vec::new();
    let mut kinds = Kinds(0);
    let (mut date, mut datetime) = (false, false);
    for name in &names {
        let (ty, k): (&[&str], Kinds) = match *name {
            "string" => (&["string"], Kinds::STRING),
            "integer" => (&["integer"], Kinds::NUMBER),
            "float" | "number" => (&["number"], Kinds::NUMBER),
            "boolean" => (&["boolean"], Kinds::BOOLEAN),
            "dict" => (&["object"], Kinds::OBJECT),
            "list" => (&["array"], Kinds::ARRAY),
            "container" => (
                &["array", "object"],
                Kinds(Kinds::ARRAY.0 | Kinds::OBJECT.0),
            ),
            "date" => {
                date = true;
                (&[], Kinds::STRING)
            }
            "datetime" => {
                datetime = true;
                (&[], Kinds::STRING)
            }
            // `binary` and `set` match no JSON value; an unknown name is not ours to judge.
            _ => return (None, Kinds::ANY),
        };
        kinds.0 |= k.0;
        for t in ty {
            if !types.contains(t) {
                types.push(t);
            }
        }
    }
    if types.contains(&"number") {
        types.retain(|t| *t != "integer");
    }
    let type_value = |types: &[&str]| match types {
        [one] => json!(one),
        many => json!(many),
    };
    if (date || datetime) && !types.contains(&"string") {
        // `date` also takes a date-time string (a Python datetime is a date).
        let pattern = if date {
            format!("^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}({DATETIME})?$")
        } else {
            format!("^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}{DATETIME}$")
        };
        let dates = json!({"type": "string", "pattern": pattern});
        if types.is_empty() {
            return (Some(dates), kinds);
        }
        return (
            Some(json!({"anyOf": [{"type": type_value(&types)}, dates]})),
            kinds,
        );
    }
    if types.is_empty() {
        return (None, Kinds::ANY);
    }
    (Some(json!({"type": type_value(&types)})), kinds)
}

/// `items`: a list of exactly that many items, each under its rules (a string or a dict is
/// held to the count only).
fn items_rule(items: &[Value], kinds: Kinds, lv: Level, depth: usize) -> Value {
    let n = items.len();
    let mut o = Obj::new();
    if kinds.has(Kinds::ARRAY) {
        if n > 0 {
            let prefix: Vec<Value> = items.iter().map(|r| field(r, lv, depth + 1)).collect();
            o.insert("prefixItems".into(), Value::Array(prefix));
        }
        o.insert("minItems".into(), json!(n));
        o.insert("maxItems".into(), json!(n));
    }
    if kinds.has(Kinds::STRING) {
        o.insert("minLength".into(), json!(n));
        o.insert("maxLength".into(), json!(n));
    }
    if kinds.has(Kinds::OBJECT) {
        o.insert("minProperties".into(), json!(n));
        o.insert("maxProperties".into(), json!(n));
    }
    Value::Object(o)
}

/// `schema`: a mapping for dict values and rules for the items of list values, whichever
/// readings compile (Cerberus accepts both). `own` is the level a dict value's mapping gets.
/// A reading that does not compile refuses its kind (a non-empty list for a mapping).
fn schema_rule(sub: &Value, kinds: Kinds, lv: Level, own: Level, depth: usize) -> (Obj, Obj) {
    use crate::cerberus::Schema;
    let as_mapping = Schema::compile(sub).is_ok();
    let mut wrapped = Map::new();
    wrapped.insert("_".into(), sub.clone());
    let as_rules = Schema::compile(&Value::Object(wrapped)).is_ok();
    let mut object_part = Obj::new();
    if as_mapping {
        object_part = mapping(sub, own, depth + 1);
    } else if kinds.has(Kinds::OBJECT) {
        object_part.insert("not".into(), json!({"type": "object"}));
    }
    let mut array_part = Obj::new();
    if as_rules {
        array_part.insert("items".into(), field(sub, lv, depth + 1));
    } else if kinds.has(Kinds::ARRAY) {
        array_part.insert("maxItems".into(), json!(0));
    }
    (object_part, array_part)
}

/// A mapping's keywords with `valuesrules` applied to every value, named or not.
fn with_values(mut object_part: Obj, values: &Value, allow_unknown: bool) -> Obj {
    if let Some(Value::Object(props)) = object_part.get_mut("properties") {
        for (_, p) in props.iter_mut() {
            *p = conj(vec![p.take(), values.clone()]);
        }
    }
    let extra = if allow_unknown {
        values.clone()
    } else {
        Value::Bool(false)
    };
    object_part.insert("additionalProperties".into(), extra);
    object_part
}
