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
    let parent = Parent {
        ctx,
        lv,
        key,
        doc_path: extended(lv.doc_path, std::slice::from_ref(key)),
    };
    let inherited = (lv.allow_unknown, lv.require_all);
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
                    let child = parent.level(RuleName::Items, inherited);
                    parent.descend(errors, child, LevelSchema::Items(items), &child_doc, &[]);
                }
            }
        }
        Kind::Keysrules(key_rules) => {
            if let Value::Object(object) = value {
                let child_doc: Vec<(Key, Cow<'_, Value>)> = object
                    .keys()
                    .map(|k| (Key::Str(k.clone()), Cow::Owned(Value::String(k.clone()))))
                    .collect();
                let child = parent.level(RuleName::Keysrules, inherited);
                let schema = LevelSchema::Uniform(key_rules);
                parent.descend(errors, child, schema, &child_doc, &[2, 4]);
            }
        }
        Kind::Valuesrules(value_rules) => {
            if let Value::Object(object) = value {
                let child_doc: Vec<(Key, Cow<'_, Value>)> = object
                    .iter()
                    .map(|(k, v)| (Key::Str(k.clone()), Cow::Borrowed(v)))
                    .collect();
                let child = parent.level(RuleName::Valuesrules, inherited);
                let schema = LevelSchema::Uniform(value_rules);
                parent.descend(errors, child, schema, &child_doc, &[2]);
            }
        }
        Kind::Schema(sub) => {
            match value {
                Value::Array(items) => match &sub.rules {
                    Some(item_rules) => {
                        let child_doc: Vec<(Key, Cow<'_, Value>)> = items
                            .iter()
                            .enumerate()
                            .map(|(i, v)| (Key::Int(i), Cow::Borrowed(v)))
                            .collect();
                        let child = parent.level(RuleName::Schema, inherited);
                        let schema = LevelSchema::Uniform(item_rules);
                        parent.descend(errors, child, schema, &child_doc, &[2]);
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
                        // A mapping's own `allow_unknown`/`require_all` apply below it.
                        let own = (
                            rules.allow_unknown.unwrap_or(lv.allow_unknown),
                            rules.require_all.unwrap_or(lv.require_all),
                        );
                        let child = parent.level(RuleName::Schema, own);
                        let schema = LevelSchema::Mapping(mapping);
                        parent.descend(errors, child, schema, &child_doc, &[]);
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

/// The field whose nested rule runs a child validator.
struct Parent<'a> {
    ctx: &'a Ctx<'a>,
    lv: &'a Level<'a>,
    key: &'a Key,
    /// The document path of the child level.
    doc_path: Vec<Key>,
}

/// A child level: its schema path (under `rule`) and its `(allow_unknown, require_all)`.
struct Child {
    rule: RuleName,
    schema_path: Vec<Key>,
    bounds: (bool, bool),
}

impl Parent<'_> {
    fn level(&self, rule: RuleName, bounds: (bool, bool)) -> Child {
        Child {
            rule,
            schema_path: extended(self.lv.schema_path, &[self.key.clone(), Key::rule(rule)]),
            bounds,
        }
    }

    /// Validates `doc` one level down under `schema` and adds what it finds to `errors` as
    /// one group for the child's rule, without the schema nodes at `drop` (as Cerberus
    /// reports them).
    fn descend(
        &self,
        errors: &mut ErrorList,
        child: Child,
        schema: LevelSchema<'_>,
        doc: &[(Key, Cow<'_, Value>)],
        drop: &[usize],
    ) {
        let level = Level {
            doc_path: &self.doc_path,
            schema_path: &child.schema_path,
            allow_unknown: child.bounds.0,
            require_all: child.bounds.1,
            is_root: false,
        };
        let mut found = child_errors(self.ctx, schema, doc, &level);
        if !found.is_empty() {
            drop_schema_nodes(&mut found, self.lv.schema_path.len(), drop);
            errors.push(group(self.lv, self.key, child.rule, found));
        }
    }
}
