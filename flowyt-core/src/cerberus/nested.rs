//! The nested rules that run a child validator: `items`, `keysrules`, `valuesrules`, `schema`.

use std::borrow::Cow;

use serde_json::Value;

use super::errors::{ErrorList, Key, drop_schema_nodes, extended};
use super::model::{Kind, Rule, RuleName, Rules};
use super::validate::{Ctx, Level, LevelSchema, child_errors, group, leaf};

/// The rules that run a child validator (`items`, `keysrules`, `valuesrules`, `schema`), kept
/// out of `validate::validate_field` so that the recursion's stack frames stay small. Returns
/// `true` when the remaining rules of the field must be skipped.
#[inline(never)]
pub(super) fn validate_nested(
    ctx: &Ctx<'_>,
    lv: &Level<'_>,
    rules: &Rules,
    rule: &Rule,
    key: &Key,
    value: &Value,
    errors: &mut ErrorList,
) -> bool {
    let child_doc_path = extended(lv.doc_path, std::slice::from_ref(key));
    let child_schema_path =
        |rule: RuleName| extended(lv.schema_path, &[key.clone(), Key::rule(rule)]);
    let fail = |errors: &mut ErrorList, message: String| {
        errors.push(leaf(lv, key, rule.name, message));
    };
    match &rule.kind {
        Kind::Items(items) => {
            let values: Option<Vec<Cow<'_, Value>>> = match value {
                Value::Array(a) => Some(a.iter().map(Cow::Borrowed).collect()),
                Value::String(s) => Some(
                    s.chars()
                        .map(|c| Cow::Owned(Value::String(c.to_string())))
                        .collect(),
                ),
                Value::Object(o) => Some(
                    o.keys()
                        .map(|k| Cow::Owned(Value::String(k.clone())))
                        .collect(),
                ),
                _ => None,
            };
            if let Some(values) = values {
                if values.len() != items.len() {
                    fail(
                        errors,
                        format!(
                            "length of list should be {}, it is {}",
                            items.len(),
                            values.len()
                        ),
                    );
                } else {
                    let child_doc: Vec<(Key, Cow<'_, Value>)> = values
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| (Key::Int(i), v))
                        .collect();
                    let sp = child_schema_path(RuleName::Items);
                    let child = Level {
                        doc_path: &child_doc_path,
                        schema_path: &sp,
                        allow_unknown: lv.allow_unknown,
                        require_all: lv.require_all,
                        is_root: false,
                    };
                    let found = child_errors(ctx, LevelSchema::Items(items), &child_doc, &child);
                    if !found.is_empty() {
                        errors.push(group(lv, key, RuleName::Items, found));
                    }
                }
            }
        }
        Kind::Keysrules(key_rules) => {
            if let Value::Object(object) = value {
                let child_doc: Vec<(Key, Cow<'_, Value>)> = object
                    .keys()
                    .map(|k| (Key::Str(k.clone()), Cow::Owned(Value::String(k.clone()))))
                    .collect();
                let sp = child_schema_path(RuleName::Keysrules);
                let child = Level {
                    doc_path: &child_doc_path,
                    schema_path: &sp,
                    allow_unknown: lv.allow_unknown,
                    require_all: lv.require_all,
                    is_root: false,
                };
                let mut found =
                    child_errors(ctx, LevelSchema::Uniform(key_rules), &child_doc, &child);
                if !found.is_empty() {
                    drop_schema_nodes(&mut found, lv.schema_path.len(), &[2, 4]);
                    errors.push(group(lv, key, RuleName::Keysrules, found));
                }
            }
        }
        Kind::Valuesrules(value_rules) => {
            if let Value::Object(object) = value {
                let child_doc: Vec<(Key, Cow<'_, Value>)> = object
                    .iter()
                    .map(|(k, v)| (Key::Str(k.clone()), Cow::Borrowed(v)))
                    .collect();
                let sp = child_schema_path(RuleName::Valuesrules);
                let child = Level {
                    doc_path: &child_doc_path,
                    schema_path: &sp,
                    allow_unknown: lv.allow_unknown,
                    require_all: lv.require_all,
                    is_root: false,
                };
                let mut found =
                    child_errors(ctx, LevelSchema::Uniform(value_rules), &child_doc, &child);
                if !found.is_empty() {
                    drop_schema_nodes(&mut found, lv.schema_path.len(), &[2]);
                    errors.push(group(lv, key, RuleName::Valuesrules, found));
                }
            }
        }
        Kind::Schema(sub) => {
            let sp = child_schema_path(RuleName::Schema);
            match value {
                Value::Array(items) => match &sub.rules {
                    Some(item_rules) => {
                        let child_doc: Vec<(Key, Cow<'_, Value>)> = items
                            .iter()
                            .enumerate()
                            .map(|(i, v)| (Key::Int(i), Cow::Borrowed(v)))
                            .collect();
                        let child = Level {
                            doc_path: &child_doc_path,
                            schema_path: &sp,
                            allow_unknown: lv.allow_unknown,
                            require_all: lv.require_all,
                            is_root: false,
                        };
                        let mut found =
                            child_errors(ctx, LevelSchema::Uniform(item_rules), &child_doc, &child);
                        if !found.is_empty() {
                            drop_schema_nodes(&mut found, lv.schema_path.len(), &[2]);
                            errors.push(group(lv, key, RuleName::Schema, found));
                        }
                    }
                    None => {
                        if !items.is_empty() {
                            fail(errors, "must be of dict type".to_owned());
                            return true;
                        }
                    }
                },
                Value::Object(object) => match &sub.mapping {
                    Some(mapping) => {
                        let child_doc: Vec<(Key, Cow<'_, Value>)> = object
                            .iter()
                            .map(|(k, v)| (Key::Str(k.clone()), Cow::Borrowed(v)))
                            .collect();
                        let child = Level {
                            doc_path: &child_doc_path,
                            schema_path: &sp,
                            allow_unknown: rules.allow_unknown.unwrap_or(lv.allow_unknown),
                            require_all: rules.require_all.unwrap_or(lv.require_all),
                            is_root: false,
                        };
                        let found =
                            child_errors(ctx, LevelSchema::Mapping(mapping), &child_doc, &child);
                        if !found.is_empty() {
                            errors.push(group(lv, key, RuleName::Schema, found));
                        }
                    }
                    None => {
                        fail(errors, "must be of dict type".to_owned());
                        return true;
                    }
                },
                _ => {}
            }
        }
        _ => {}
    }
    false
}
