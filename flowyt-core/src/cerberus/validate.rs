//! Validation driver: one (child) validator per level, and the rules queue of each field.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::MAX_DOCUMENT_DEPTH;
use super::dependencies::{KeySet, check_dependencies_map, check_dependencies_seq, check_excludes};
use super::errors::{ErrorList, Key, VError, extended};
use super::model::{EMPTY_DROPS, Kind, Mapping, NULL_DROPS, RuleName, Rules, mask};
use super::nested::validate_nested;
use super::python::{Num, py_str, sized_len, to_num};
use super::ranges::{check_max, check_maxlength, check_min, check_minlength};
use super::values::{check_allowed, check_contains, check_forbidden, check_regex};

/// Whether a document nests containers deeper than [`MAX_DOCUMENT_DEPTH`] (iterative).
pub(super) fn document_too_deep(document: &Value) -> bool {
    let mut stack: Vec<(&Value, usize)> = vec![(document, 1)];
    while let Some((node, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match node {
            Value::Object(o) => Box::new(o.values()),
            Value::Array(a) => Box::new(a.iter()),
            _ => continue,
        };
        if depth > MAX_DOCUMENT_DEPTH {
            return true;
        }
        stack.extend(
            children
                .filter(|c| c.is_object() || c.is_array())
                .map(|c| (c, depth + 1)),
        );
    }
    false
}

/// The schema of one (child) validator.
#[derive(Clone, Copy)]
pub(super) enum LevelSchema<'s> {
    /// A mapping schema (field names).
    Mapping(&'s Mapping),
    /// The same rules for every key of the document (list items, `keysrules`, `valuesrules`).
    Uniform(&'s Rules),
    /// `items`: rules per position.
    Items(&'s [Arc<Rules>]),
}

impl<'s> LevelSchema<'s> {
    pub(super) fn get(self, key: &Key) -> Option<&'s Rules> {
        match (self, key) {
            (LevelSchema::Mapping(m), Key::Str(name)) => m.get(name).map(|r| &**r),
            (LevelSchema::Uniform(r), _) => Some(r),
            (LevelSchema::Items(items), Key::Int(i)) => items.get(*i).map(|r| &**r),
            _ => None,
        }
    }

    /// Python's `name in schema` for a field name given in a schema.
    pub(super) fn contains(self, name: &Value, doc: &LevelDoc<'_, '_>) -> Option<Key> {
        let key = value_key(name)?;
        let found = match (self, &key) {
            (LevelSchema::Mapping(m), Key::Str(s)) => m.get(s).is_some(),
            (LevelSchema::Uniform(_), _) => doc.index.contains_key(&key),
            (LevelSchema::Items(items), Key::Int(i)) => *i < items.len(),
            _ => false,
        };
        found.then_some(key)
    }

    /// The schema's fields, in schema order (the document's keys for uniform schemas).
    pub(super) fn fields(self, doc_keys: impl Iterator<Item = Key>) -> Vec<(Key, &'s Rules)> {
        match self {
            LevelSchema::Mapping(m) => m
                .fields
                .iter()
                .map(|(k, r)| (Key::Str(k.clone()), &**r))
                .collect(),
            LevelSchema::Uniform(r) => doc_keys.map(|k| (k, r)).collect(),
            LevelSchema::Items(items) => items
                .iter()
                .enumerate()
                .map(|(i, r)| (Key::Int(i), &**r))
                .collect(),
        }
    }
}

/// What every validator of one validation shares.
pub(super) struct Ctx<'r> {
    /// The (normalized) root document, for `^` dependencies.
    pub(super) root: &'r Map<String, Value>,
    /// Root fields that normalization found read-only.
    pub(super) root_readonly: HashSet<String>,
}

/// The configuration of one (child) validator.
pub(super) struct Level<'p> {
    pub(super) doc_path: &'p [Key],
    pub(super) schema_path: &'p [Key],
    pub(super) allow_unknown: bool,
    pub(super) require_all: bool,
    pub(super) is_root: bool,
}

type Doc<'d> = [(Key, Cow<'d, Value>)];

/// Cerberus' `validate()` of one (child) validator, minus normalization.
pub(super) fn validate_level(
    ctx: &Ctx<'_>,
    schema: LevelSchema<'_>,
    doc: &Doc<'_>,
    lv: &Level<'_>,
    errors: &mut ErrorList,
) {
    let doc = LevelDoc::new(doc);
    let mut unrequired = KeySet::default();
    for (key, value) in doc.entries {
        match schema.get(key) {
            Some(rules) => validate_field(
                ctx,
                schema,
                &doc,
                lv,
                rules,
                key,
                value,
                errors,
                &mut unrequired,
            ),
            None => {
                if !lv.allow_unknown {
                    errors.push(VError {
                        doc_path: extended(lv.doc_path, std::slice::from_ref(key)),
                        schema_path: lv.schema_path.to_vec(),
                        message: Some("unknown field".to_owned()),
                        children: Vec::new(),
                    });
                }
            }
        }
    }

    // Required fields.
    if let LevelSchema::Mapping(mapping) = schema {
        // Uniform and `items` schemas have exactly the document's keys: nothing is missing.
        for (name, rules) in &mapping.fields {
            let key = Key::Str(name.clone());
            if rules.required.unwrap_or(lv.require_all)
                && !unrequired.set.contains(&key)
                && !doc.index.contains_key(&key)
            {
                errors.push(required_error(lv, &key, rules));
            }
        }
    }
    let present = |k: &Key| doc.index.get(k).is_some_and(|v| !v.is_null());
    if !unrequired.order.is_empty() && !unrequired.order.iter().any(present) {
        for key in &unrequired.order {
            if let Some(rules) = schema.get(key) {
                errors.push(required_error(lv, key, rules));
            }
        }
    }
}

/// A (child) validator's document: entries in order, plus an index by key.
pub(super) struct LevelDoc<'a, 'd> {
    entries: &'a Doc<'d>,
    pub(super) index: HashMap<&'a Key, &'a Value>,
}

impl<'a, 'd> LevelDoc<'a, 'd> {
    fn new(entries: &'a Doc<'d>) -> Self {
        let index = entries.iter().map(|(k, v)| (k, v.as_ref())).collect();
        LevelDoc { entries, index }
    }

    /// Python's `name in document` for a field name given in a schema.
    pub(super) fn contains(&self, name: &Value) -> bool {
        value_key(name).is_some_and(|k| self.index.contains_key(&k))
    }
}

/// The document key a schema value designates under Python's `==` (field names are strings;
/// list indexes are integers, and `1.0 == True == 1`).
fn value_key(value: &Value) -> Option<Key> {
    match value {
        Value::String(s) => Some(Key::Str(s.clone())),
        other => match to_num(other)? {
            Num::Int(i) => usize::try_from(i).ok().map(Key::Int),
            Num::Float(f) if f.fract() == 0.0 && (0.0..1.0e15).contains(&f) => {
                usize::try_from(f as i128).ok().map(Key::Int)
            }
            Num::Float(_) => None,
        },
    }
}

fn required_error(lv: &Level<'_>, key: &Key, rules: &Rules) -> VError {
    let schema_path = if rules.required.is_some() {
        extended(
            lv.schema_path,
            &[key.clone(), Key::Str("required".to_owned())],
        )
    } else {
        vec![Key::Str("__require_all__".to_owned())]
    };
    VError {
        doc_path: extended(lv.doc_path, std::slice::from_ref(key)),
        schema_path,
        message: Some("required field".to_owned()),
        children: Vec::new(),
    }
}

pub(super) fn leaf(lv: &Level<'_>, key: &Key, rule: RuleName, message: String) -> VError {
    VError {
        doc_path: extended(lv.doc_path, std::slice::from_ref(key)),
        schema_path: extended(lv.schema_path, &[key.clone(), Key::rule(rule)]),
        message: Some(message),
        children: Vec::new(),
    }
}

pub(super) fn group(lv: &Level<'_>, key: &Key, rule: RuleName, children: Vec<VError>) -> VError {
    VError {
        doc_path: extended(lv.doc_path, std::slice::from_ref(key)),
        schema_path: extended(lv.schema_path, &[key.clone(), Key::rule(rule)]),
        message: None,
        children,
    }
}

/// Runs a child validator and returns its sorted errors.
pub(super) fn child_errors(
    ctx: &Ctx<'_>,
    schema: LevelSchema<'_>,
    doc: &Doc<'_>,
    lv: &Level<'_>,
) -> Vec<VError> {
    let mut errors = ErrorList::default();
    validate_level(ctx, schema, doc, lv, &mut errors);
    errors.finish()
}

/// Cerberus' `__validate_definitions`.
#[allow(clippy::too_many_arguments)]
fn validate_field(
    ctx: &Ctx<'_>,
    schema: LevelSchema<'_>,
    doc: &LevelDoc<'_, '_>,
    lv: &Level<'_>,
    rules: &Rules,
    key: &Key,
    value: &Value,
    errors: &mut ErrorList,
    unrequired: &mut KeySet,
) {
    let mut dropped: u32 = 0;
    for rule in &rules.queue {
        if dropped & rule.name.bit() != 0 {
            continue;
        }
        let fail = |errors: &mut ErrorList, message: String| {
            errors.push(leaf(lv, key, rule.name, message));
        };
        match &rule.kind {
            Kind::Nullable(nullable) => {
                if value.is_null() {
                    if !nullable {
                        fail(errors, "null value not allowed".to_owned());
                    }
                    dropped |= mask(&NULL_DROPS);
                }
            }
            Kind::Readonly(readonly) => {
                // Normalization recorded the error; the root validator then skips the rest.
                if *readonly
                    && lv.is_root
                    && matches!(key, Key::Str(name) if ctx.root_readonly.contains(name))
                {
                    dropped = u32::MAX;
                }
            }
            Kind::Type(types) => {
                if !types.is_empty() && !types.iter().any(|t| t.matches(value)) {
                    fail(errors, format!("must be of {} type", py_str(&rule.raw)));
                    dropped = u32::MAX;
                }
            }
            Kind::Empty(empty) => {
                if sized_len(value) == Some(0) {
                    dropped |= mask(&EMPTY_DROPS);
                    if !empty {
                        fail(errors, "empty values not allowed".to_owned());
                    }
                }
            }
            Kind::Allowed(allowed) => check_allowed(allowed, value, errors, fail),
            Kind::Forbidden(forbidden) => check_forbidden(forbidden, value, errors, fail),
            Kind::Contains(expected) => check_contains(expected, value, errors, fail),
            Kind::DependenciesSeq(names) => check_dependencies_seq(ctx, doc, names, errors, fail),
            Kind::DependenciesMap(dependencies) => {
                check_dependencies_map(ctx, doc, dependencies, &rule.raw, errors, fail);
            }
            Kind::Excludes(excluded) => check_excludes(
                schema, doc, lv, rules, key, excluded, unrequired, errors, fail,
            ),
            Kind::Max(max) => check_max(max, value, errors, fail),
            Kind::Min(min) => check_min(min, value, errors, fail),
            Kind::Maxlength(max) => check_maxlength(max, &rule.raw, value, errors, fail),
            Kind::Minlength(min) => check_minlength(min, &rule.raw, value, errors, fail),
            Kind::Regex(re) => check_regex(re, &rule.raw, value, errors, fail),
            Kind::BrokenRegex(why) => {
                if value.is_string() {
                    fail(
                        errors,
                        format!("cannot check regex '{}': {why}", py_str(&rule.raw)),
                    );
                }
            }
            Kind::Items(_) | Kind::Keysrules(_) | Kind::Valuesrules(_) | Kind::Schema(_) => {
                if validate_nested(ctx, lv, rules, rule, key, value, errors) {
                    break;
                }
            }
        }
    }
}
