//! Normalization: `default`, and `readonly`, which Cerberus checks while normalizing.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::errors::{ErrorList, Key, VError, drop_schema_nodes, extended};
use super::model::{Kind, RuleName, SubSchema};
use super::validate::LevelSchema;

/// A document being normalized.
pub(super) enum NormDoc<'a> {
    Map(&'a mut Map<String, Value>),
    Seq(&'a mut Vec<Value>),
    /// `keysrules`: the keys, each its own value.
    Keys(Map<String, Value>),
}

impl NormDoc<'_> {
    fn keys(&self) -> Vec<Key> {
        match self {
            NormDoc::Map(m) => m.keys().map(|k| Key::Str(k.clone())).collect(),
            NormDoc::Seq(s) => (0..s.len()).map(Key::Int).collect(),
            NormDoc::Keys(k) => k.keys().map(|k| Key::Str(k.clone())).collect(),
        }
    }

    fn get(&self, key: &Key) -> Option<&Value> {
        match (self, key) {
            (NormDoc::Map(m), Key::Str(k)) => m.get(k),
            (NormDoc::Seq(s), Key::Int(i)) => s.get(*i),
            (NormDoc::Keys(keys), Key::Str(k)) => keys.get(k),
            _ => None,
        }
    }

    fn get_mut(&mut self, key: &Key) -> Option<&mut Value> {
        match (self, key) {
            (NormDoc::Map(m), Key::Str(k)) => m.get_mut(k),
            (NormDoc::Seq(s), Key::Int(i)) => s.get_mut(*i),
            _ => None,
        }
    }

    fn set(&mut self, key: &Key, value: Value) {
        match (self, key) {
            (NormDoc::Map(m), Key::Str(k)) => {
                m.insert(k.clone(), value);
            }
            (NormDoc::Seq(s), Key::Int(i)) => {
                if let Some(slot) = s.get_mut(*i) {
                    *slot = value;
                }
            }
            _ => {}
        }
    }
}

/// Cerberus' `__normalize_mapping` for the rules flowyt supports: read-only fields are
/// reported, defaults applied, then containers normalized recursively.
pub(super) fn normalize_level(
    schema: LevelSchema<'_>,
    doc: &mut NormDoc<'_>,
    doc_path: &[Key],
    schema_path: &[Key],
    errors: &mut ErrorList,
    mut root_readonly: Option<&mut HashSet<String>>,
) {
    let fields = schema.fields(doc.keys().into_iter());
    for (key, rules) in &fields {
        if rules.readonly && doc.get(key).is_some() {
            errors.push(VError {
                doc_path: extended(doc_path, std::slice::from_ref(key)),
                schema_path: extended(schema_path, &[key.clone(), Key::rule(RuleName::Readonly)]),
                message: Some("field is read-only".to_owned()),
                children: Vec::new(),
            });
            if let (Some(set), Key::Str(name)) = (root_readonly.as_deref_mut(), key) {
                set.insert(name.clone());
            }
        }
    }
    for (key, rules) in &fields {
        if let Some(default) = &rules.default {
            let empty = match doc.get(key) {
                None => true,
                Some(v) => v.is_null() && !rules.nullable,
            };
            if empty {
                doc.set(key, default.clone());
            }
        }
    }
    for key in doc.keys() {
        let Some(rules) = schema.get(&key) else {
            continue;
        };
        let Some(value) = doc.get_mut(&key) else {
            continue;
        };
        let child_doc_path = extended(doc_path, std::slice::from_ref(&key));
        let child_schema_path =
            |rule: RuleName| extended(schema_path, &[key.clone(), Key::rule(rule)]);
        let mut run = |child_schema: LevelSchema<'_>,
                       child: &mut NormDoc<'_>,
                       rule: RuleName,
                       drop: &[usize]| {
            let mut child_list = ErrorList::default();
            normalize_level(
                child_schema,
                child,
                &child_doc_path,
                &child_schema_path(rule),
                &mut child_list,
                None,
            );
            let mut found = child_list.finish();
            drop_schema_nodes(&mut found, schema_path.len(), drop);
            errors.extend(found);
        };
        match value {
            Value::Object(object) => {
                if let Some(Kind::Keysrules(key_rules)) = rules.kind(RuleName::Keysrules) {
                    let keys = object
                        .keys()
                        .map(|k| (k.clone(), Value::String(k.clone())))
                        .collect();
                    run(
                        LevelSchema::Uniform(key_rules),
                        &mut NormDoc::Keys(keys),
                        RuleName::Keysrules,
                        &[2, 4],
                    );
                }
                if let Some(Kind::Valuesrules(value_rules)) = rules.kind(RuleName::Valuesrules) {
                    run(
                        LevelSchema::Uniform(value_rules),
                        &mut NormDoc::Map(object),
                        RuleName::Valuesrules,
                        &[2],
                    );
                }
                if let Some(Kind::Schema(SubSchema {
                    mapping: Some(mapping),
                    ..
                })) = rules.kind(RuleName::Schema)
                {
                    run(
                        LevelSchema::Mapping(mapping),
                        &mut NormDoc::Map(object),
                        RuleName::Schema,
                        &[],
                    );
                }
            }
            Value::Array(items) => {
                if let Some(Kind::Schema(sub)) = rules.kind(RuleName::Schema) {
                    if let Some(item_rules) = &sub.rules {
                        run(
                            LevelSchema::Uniform(item_rules),
                            &mut NormDoc::Seq(items),
                            RuleName::Schema,
                            &[2],
                        );
                    }
                } else if let Some(Kind::Items(item_rules)) = rules.kind(RuleName::Items)
                    && item_rules.len() == items.len()
                {
                    run(
                        LevelSchema::Items(item_rules),
                        &mut NormDoc::Seq(items),
                        RuleName::Items,
                        &[2],
                    );
                }
            }
            _ => {}
        }
    }
}
