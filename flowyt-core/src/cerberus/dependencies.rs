//! The rules between fields: `dependencies` and `excludes`.

use std::collections::HashSet;

use serde_json::Value;

use super::errors::{ErrorList, Key};
use super::model::Rules;
use super::python::{py_eq, py_str};
use super::validate::{Ctx, Level, LevelDoc, LevelSchema};

/// Cerberus' `_unrequired_by_excludes`: a set, iterated in insertion order.
#[derive(Default)]
pub(super) struct KeySet {
    pub(super) order: Vec<Key>,
    pub(super) set: HashSet<Key>,
}

impl KeySet {
    fn insert(&mut self, key: Key) {
        if self.set.insert(key.clone()) {
            self.order.push(key);
        }
    }
}

/// Cerberus' `_lookup_field`: a dotted path from the current document, or from the root
/// document with a leading `^` (`^^` stands for a literal `^`).
fn lookup_field<'a>(ctx: &'a Ctx<'_>, doc: &'a LevelDoc<'_, '_>, path: &str) -> Option<&'a Value> {
    let (path, from_root) = match path.strip_prefix('^') {
        Some(rest) if !rest.starts_with('^') => (rest, true),
        Some(rest) => (rest, false),
        None => (path, false),
    };
    let mut parts = path.split('.');
    let first = parts.next()?;
    let mut current: &Value = if from_root {
        ctx.root.get(first)?
    } else {
        doc.index.get(&Key::Str(first.to_owned())).copied()?
    };
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

/// `dependencies` given as names: each must be present.
pub(super) fn check_dependencies_seq(
    ctx: &Ctx<'_>,
    doc: &LevelDoc<'_, '_>,
    names: &[String],
    errors: &mut ErrorList,
    fail: impl Fn(&mut ErrorList, String),
) {
    for name in names {
        if lookup_field(ctx, doc, name).is_none() {
            fail(errors, format!("field '{name}' is required"));
        }
    }
}

/// `dependencies` given as a mapping: each field must hold one of its values (`raw` is the
/// mapping as written).
pub(super) fn check_dependencies_map(
    ctx: &Ctx<'_>,
    doc: &LevelDoc<'_, '_>,
    dependencies: &[(String, Vec<Value>)],
    raw: &Value,
    errors: &mut ErrorList,
    fail: impl Fn(&mut ErrorList, String),
) {
    let satisfied = dependencies.iter().all(|(name, wanted)| {
        let found = lookup_field(ctx, doc, name).unwrap_or(&Value::Null);
        wanted.iter().any(|w| py_eq(found, w, 0))
    });
    if !satisfied {
        fail(errors, format!("depends on these values: {}", py_str(raw)));
    }
}

/// `excludes`: none of the excluded fields may be present. A required field and the fields
/// it excludes are then required only as a group: one of them must be present (Cerberus'
/// `_unrequired_by_excludes`).
#[allow(clippy::too_many_arguments)]
pub(super) fn check_excludes(
    schema: LevelSchema<'_>,
    doc: &LevelDoc<'_, '_>,
    lv: &Level<'_>,
    rules: &Rules,
    key: &Key,
    excluded: &[Value],
    unrequired: &mut KeySet,
    errors: &mut ErrorList,
    fail: impl Fn(&mut ErrorList, String),
) {
    let field_required = rules.required.unwrap_or(lv.require_all);
    if field_required {
        unrequired.insert(key.clone());
        for name in excluded {
            if let Some(k) = schema.contains(name, doc) {
                unrequired.insert(k);
            }
        }
    }
    if excluded.iter().any(|name| doc.contains(name)) {
        let names: Vec<String> = excluded
            .iter()
            .map(|n| format!("'{}'", py_str(n)))
            .collect();
        fail(
            errors,
            format!(
                "{} must not be present with '{}'",
                names.join(", "),
                key.py_str()
            ),
        );
    }
}
