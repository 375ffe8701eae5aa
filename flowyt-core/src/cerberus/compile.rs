//! Schema compilation: checks a JSON schema and turns it into the compiled rules.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::model::{Kind, Mapping, Rule, RuleName, Rules, SubSchema};
use super::python::dedup;
use super::types::{TYPE_NAMES, TypeName};
use super::values::compile_regex;
use super::{MAX_SCHEMA_DEPTH, SchemaError};

/// Rules this module implements (plus `meta` and `default`).
const SUPPORTED_RULES: [&str; 25] = [
    "allow_unknown",
    "allowed",
    "contains",
    "default",
    "dependencies",
    "empty",
    "excludes",
    "forbidden",
    "items",
    "keyschema",
    "keysrules",
    "max",
    "maxlength",
    "meta",
    "min",
    "minlength",
    "nullable",
    "readonly",
    "regex",
    "require_all",
    "required",
    "schema",
    "type",
    "valueschema",
    "valuesrules",
];

/// Cerberus 1.3.2 rules that need Python callables or registries.
const UNSUPPORTED_RULES: [&str; 11] = [
    "allof",
    "anyof",
    "check_with",
    "coerce",
    "default_setter",
    "noneof",
    "oneof",
    "purge_unknown",
    "rename",
    "rename_handler",
    "validator",
];

type Compiled<T> = Result<Arc<T>, Arc<Vec<SchemaError>>>;

/// Compiles schemas; memoizes per JSON node so that the two readings of every `schema`
/// constraint (mapping schema and rules set) cost linear, not exponential, time.
#[derive(Default)]
pub(super) struct Compiler {
    rules_memo: HashMap<usize, Compiled<Rules>>,
    mapping_memo: HashMap<usize, Compiled<Mapping>>,
    pub(super) needs_normalization: bool,
}

fn node_id(node: &Value) -> usize {
    std::ptr::from_ref(node).addr()
}

fn schema_error(path: &[String], message: impl Into<String>) -> SchemaError {
    SchemaError {
        path: path.to_vec(),
        message: message.into(),
    }
}

fn type_error(path: &[String], value: &Value, wanted: &str) -> SchemaError {
    if value.is_null() {
        schema_error(path, "null value not allowed")
    } else {
        schema_error(path, format!("must be of {wanted} type"))
    }
}

impl Compiler {
    pub(super) fn mapping(&mut self, node: &Value, path: &mut Vec<String>) -> Compiled<Mapping> {
        let id = node_id(node);
        if let Some(done) = self.mapping_memo.get(&id) {
            return done.clone();
        }
        let result = self.mapping_uncached(node, path);
        self.mapping_memo.insert(id, result.clone());
        result
    }

    fn mapping_uncached(&mut self, node: &Value, path: &mut Vec<String>) -> Compiled<Mapping> {
        let Value::Object(object) = node else {
            return Err(Arc::new(vec![type_error(path, node, "dict")]));
        };
        let mut errors = Vec::new();
        let mut mapping = Mapping::default();
        for (name, definition) in object {
            path.push(name.clone());
            match self.rules(definition, path) {
                Ok(rules) => {
                    mapping.index.insert(name.clone(), mapping.fields.len());
                    mapping.fields.push((name.clone(), rules));
                }
                Err(e) => errors.extend(e.iter().cloned()),
            }
            path.pop();
        }
        if errors.is_empty() {
            Ok(Arc::new(mapping))
        } else {
            Err(Arc::new(errors))
        }
    }

    fn rules(&mut self, node: &Value, path: &mut Vec<String>) -> Compiled<Rules> {
        let id = node_id(node);
        if let Some(done) = self.rules_memo.get(&id) {
            return done.clone();
        }
        let result = self.rules_uncached(node, path);
        self.rules_memo.insert(id, result.clone());
        result
    }

    fn rules_uncached(&mut self, node: &Value, path: &mut Vec<String>) -> Compiled<Rules> {
        let Value::Object(object) = node else {
            return Err(Arc::new(vec![type_error(path, node, "dict")]));
        };
        let mut errors = Vec::new();

        // Cerberus renames the deprecated rules, which moves them to the end of the rules set.
        let mut entries: Vec<(&str, &str, &Value)> = Vec::with_capacity(object.len());
        let mut renamed = Vec::new();
        for (json_name, value) in object {
            let new_name = match json_name.as_str() {
                "keyschema" => "keysrules",
                "valueschema" => "valuesrules",
                other => {
                    entries.push((other, other, value));
                    continue;
                }
            };
            if object.contains_key(new_name) {
                path.push(json_name.clone());
                errors.push(schema_error(
                    path,
                    format!("'{json_name}' is the old name of '{new_name}', which is also given"),
                ));
                path.pop();
            } else {
                renamed.push((json_name.as_str(), new_name, value));
            }
        }
        renamed.sort_by_key(|(_, new_name, _)| *new_name);
        entries.extend(renamed);

        let mut rules = Rules::default();
        let mut priority: [Option<Rule>; 3] = [None, None, None];
        let mut others = Vec::new();
        for (json_name, name, value) in entries {
            path.push(json_name.to_owned());
            match self.rule(name, value, path, &mut rules) {
                Ok(Some(rule)) => match rule.name {
                    RuleName::Readonly => priority[0] = Some(rule),
                    RuleName::Type => priority[1] = Some(rule),
                    RuleName::Empty => priority[2] = Some(rule),
                    _ => others.push(rule),
                },
                Ok(None) => {}
                Err(e) => errors.extend(e),
            }
            path.pop();
        }
        if !errors.is_empty() {
            return Err(Arc::new(errors));
        }
        rules.queue.push(Rule {
            name: RuleName::Nullable,
            raw: Value::Bool(rules.nullable),
            kind: Kind::Nullable(rules.nullable),
        });
        rules.queue.extend(priority.into_iter().flatten());
        rules.queue.extend(others);
        if rules.readonly || rules.default.is_some() {
            self.needs_normalization = true;
        }
        Ok(Arc::new(rules))
    }

    /// Compiles one rule. `Ok(None)` for rules that only set a field of `rules`.
    fn rule(
        &mut self,
        name: &str,
        value: &Value,
        path: &mut Vec<String>,
        rules: &mut Rules,
    ) -> Result<Option<Rule>, Vec<SchemaError>> {
        let one = |message: SchemaError| Err(vec![message]);
        let rule = |name: RuleName, kind: Kind| {
            Ok(Some(Rule {
                name,
                raw: value.clone(),
                kind,
            }))
        };
        let boolean = |path: &[String]| match value {
            Value::Bool(b) => Ok(*b),
            _ => Err(vec![type_error(path, value, "boolean")]),
        };
        match name {
            "nullable" => {
                rules.nullable = boolean(path)?;
                Ok(None)
            }
            "required" => {
                rules.required = Some(boolean(path)?);
                Ok(None)
            }
            "require_all" => {
                rules.require_all = Some(boolean(path)?);
                Ok(None)
            }
            "allow_unknown" => match value {
                Value::Bool(b) => {
                    rules.allow_unknown = Some(*b);
                    Ok(None)
                }
                Value::Object(_) | Value::String(_) => one(schema_error(
                    path,
                    "allow_unknown with a rules set is not supported (use true or false)",
                )),
                _ => one(type_error(path, value, "boolean")),
            },
            "meta" => Ok(None),
            "default" => {
                rules.default = Some(value.clone());
                Ok(None)
            }
            "readonly" => {
                let b = boolean(path)?;
                rules.readonly = b;
                rule(RuleName::Readonly, Kind::Readonly(b))
            }
            "empty" => rule(RuleName::Empty, Kind::Empty(boolean(path)?)),
            "type" => rule(RuleName::Type, Kind::Type(compile_type(value, path)?)),
            "allowed" => match value {
                Value::Array(items) => rule(RuleName::Allowed, Kind::Allowed(items.clone())),
                Value::Object(object) => rule(
                    RuleName::Allowed,
                    Kind::Allowed(object.keys().map(|k| Value::String(k.clone())).collect()),
                ),
                _ => one(type_error(path, value, "list")),
            },
            "forbidden" => match value {
                Value::Array(items) => {
                    rule(RuleName::Forbidden, Kind::Forbidden(dedup(items.clone())))
                }
                _ => one(type_error(path, value, "list")),
            },
            "contains" => {
                let expected = match value {
                    Value::Null => return one(type_error(path, value, "")),
                    Value::String(s) if s.is_empty() => {
                        return one(schema_error(path, "empty values not allowed"));
                    }
                    Value::Array(a) if a.is_empty() => {
                        return one(schema_error(path, "empty values not allowed"));
                    }
                    Value::Object(o) if o.is_empty() => {
                        return one(schema_error(path, "empty values not allowed"));
                    }
                    Value::Array(a) => a.clone(),
                    Value::Object(o) => o.keys().map(|k| Value::String(k.clone())).collect(),
                    other => vec![other.clone()],
                };
                rule(RuleName::Contains, Kind::Contains(dedup(expected)))
            }
            "dependencies" => match value {
                Value::String(s) => rule(
                    RuleName::Dependencies,
                    Kind::DependenciesSeq(vec![s.clone()]),
                ),
                Value::Array(items) => {
                    let mut names = Vec::with_capacity(items.len());
                    let mut errors = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        match item {
                            Value::String(s) => names.push(s.clone()),
                            _ => {
                                path.push(i.to_string());
                                errors.push(schema_error(path, "dependency names must be strings"));
                                path.pop();
                            }
                        }
                    }
                    if errors.is_empty() {
                        rule(RuleName::Dependencies, Kind::DependenciesSeq(names))
                    } else {
                        Err(errors)
                    }
                }
                Value::Object(object) => {
                    let deps = object
                        .iter()
                        .map(|(k, v)| {
                            let values = match v {
                                Value::Array(a) => a.clone(),
                                other => vec![other.clone()],
                            };
                            (k.clone(), values)
                        })
                        .collect();
                    rule(RuleName::Dependencies, Kind::DependenciesMap(deps))
                }
                Value::Null => one(type_error(path, value, "")),
                _ => one(schema_error(path, "dependency names must be strings")),
            },
            "excludes" => match value {
                Value::Array(items) => {
                    let mut errors = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        if item.is_array() || item.is_object() || item.is_null() {
                            path.push(i.to_string());
                            errors.push(schema_error(path, "must be a field name"));
                            path.pop();
                        }
                    }
                    if errors.is_empty() {
                        rule(RuleName::Excludes, Kind::Excludes(items.clone()))
                    } else {
                        Err(errors)
                    }
                }
                Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                    rule(RuleName::Excludes, Kind::Excludes(vec![value.clone()]))
                }
                _ => one(type_error(path, value, "list")),
            },
            "min" | "max" => {
                if value.is_null() {
                    return one(type_error(path, value, ""));
                }
                if name == "min" {
                    rule(RuleName::Min, Kind::Min(value.clone()))
                } else {
                    rule(RuleName::Max, Kind::Max(value.clone()))
                }
            }
            "minlength" | "maxlength" => {
                let Some(n) = as_int(value) else {
                    return one(type_error(path, value, "integer"));
                };
                if name == "minlength" {
                    rule(RuleName::Minlength, Kind::Minlength(n))
                } else {
                    rule(RuleName::Maxlength, Kind::Maxlength(n))
                }
            }
            "regex" => match value {
                Value::String(pattern) => match compile_regex(pattern) {
                    Ok(re) => rule(RuleName::Regex, Kind::Regex(re)),
                    Err(e) => one(schema_error(path, format!("invalid regex: {e}"))),
                },
                _ => one(type_error(path, value, "string")),
            },
            "items" => match value {
                Value::Array(items) => {
                    let mut compiled = Vec::with_capacity(items.len());
                    let mut errors = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        path.push(i.to_string());
                        match self.rules(item, path) {
                            Ok(r) => compiled.push(r),
                            Err(e) => errors.extend(e.iter().cloned()),
                        }
                        path.pop();
                    }
                    if errors.is_empty() {
                        rule(RuleName::Items, Kind::Items(compiled))
                    } else {
                        Err(errors)
                    }
                }
                _ => one(type_error(path, value, "list")),
            },
            "keysrules" | "valuesrules" => {
                if value.is_string() {
                    return one(schema_error(
                        path,
                        "rules set registry references are not supported",
                    ));
                }
                let compiled = self.rules(value, path).map_err(|e| e.to_vec())?;
                if name == "keysrules" {
                    rule(RuleName::Keysrules, Kind::Keysrules(compiled))
                } else {
                    rule(RuleName::Valuesrules, Kind::Valuesrules(compiled))
                }
            }
            "schema" => match value {
                Value::Object(object) => {
                    let as_mapping = self.mapping(value, path);
                    let as_rules = self.rules(value, path);
                    match (as_mapping, as_rules) {
                        (Err(mapping_errors), Err(rules_errors)) => {
                            // Report the reading Cerberus itself would guess.
                            if object.values().all(Value::is_object) {
                                Err(mapping_errors.to_vec())
                            } else {
                                Err(rules_errors.to_vec())
                            }
                        }
                        (mapping, rules) => rule(
                            RuleName::Schema,
                            Kind::Schema(SubSchema {
                                mapping: mapping.ok(),
                                rules: rules.ok(),
                            }),
                        ),
                    }
                }
                Value::String(_) => one(schema_error(
                    path,
                    "schema registry references are not supported",
                )),
                _ => one(type_error(path, value, "dict")),
            },
            other => {
                let known_unsupported = UNSUPPORTED_RULES.contains(&other)
                    || ["allof_", "anyof_", "noneof_", "oneof_"]
                        .iter()
                        .any(|p| other.starts_with(p));
                if known_unsupported {
                    one(schema_error(
                        path,
                        format!("rule '{other}' is not supported by flowyt"),
                    ))
                } else {
                    let candidates = SUPPORTED_RULES.iter().chain(UNSUPPORTED_RULES.iter());
                    one(schema_error(
                        path,
                        format!("unknown rule '{other}'{}", did_you_mean(other, candidates)),
                    ))
                }
            }
        }
    }
}

fn compile_type(value: &Value, path: &mut Vec<String>) -> Result<Vec<TypeName>, Vec<SchemaError>> {
    let lookup = |name: &str, path: &[String]| {
        TYPE_NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                schema_error(
                    path,
                    format!(
                        "unsupported type '{name}'{}",
                        did_you_mean(name, TYPE_NAMES.iter().map(|(n, _)| n))
                    ),
                )
            })
    };
    match value {
        Value::String(name) => lookup(name, path).map(|t| vec![t]).map_err(|e| vec![e]),
        Value::Array(items) => {
            let mut types = Vec::with_capacity(items.len());
            let mut errors = Vec::new();
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                match item {
                    Value::String(name) => match lookup(name, path) {
                        Ok(t) => types.push(t),
                        Err(e) => errors.push(e),
                    },
                    _ => errors.push(type_error(path, item, "string")),
                }
                path.pop();
            }
            if errors.is_empty() {
                Ok(types)
            } else {
                Err(errors)
            }
        }
        _ => Err(vec![type_error(path, value, "string")]),
    }
}

/// `" (did you mean 'x'?)"` when a candidate is close to `name`, else `""`.
fn did_you_mean<'a>(name: &str, candidates: impl Iterator<Item = &'a &'a str>) -> String {
    let best = candidates
        .map(|c| (levenshtein(name, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3) && *d < c.len())
        .min_by_key(|(d, _)| *d);
    match best {
        Some((_, c)) => format!(" (did you mean '{c}'?)"),
        None => String::new(),
    }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

fn as_int(value: &Value) -> Option<i128> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from)),
        _ => None,
    }
}

/// Path of the first container nested deeper than [`MAX_SCHEMA_DEPTH`], if any (iterative).
pub(super) fn schema_too_deep(schema: &Value) -> Option<Vec<String>> {
    // Arena of (key, parent index) to rebuild the path of the offending node.
    let mut arena: Vec<(String, usize)> = Vec::new();
    let mut stack: Vec<(&Value, usize, usize)> = vec![(schema, 1, usize::MAX)];
    while let Some((node, depth, at)) = stack.pop() {
        if depth > MAX_SCHEMA_DEPTH {
            let mut path = Vec::new();
            let mut i = at;
            while let Some((key, parent)) = arena.get(i) {
                path.push(key.clone());
                i = *parent;
            }
            path.reverse();
            return Some(path);
        }
        let children: Vec<(String, &Value)> = match node {
            Value::Object(o) => o
                .iter()
                .filter(|(_, c)| c.is_object() || c.is_array())
                .map(|(k, c)| (k.clone(), c))
                .collect(),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_object() || c.is_array())
                .map(|(i, c)| (i.to_string(), c))
                .collect(),
            _ => Vec::new(),
        };
        for (key, child) in children.into_iter().rev() {
            arena.push((key, at));
            stack.push((child, depth + 1, arena.len() - 1));
        }
    }
    None
}
