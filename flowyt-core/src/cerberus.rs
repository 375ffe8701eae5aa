//! The legacy `validation` action's schema checker: Cerberus 1.3.2 semantics and wording.
//!
//! The legacy flow engine validated the JSON request body of a `validation` action with
//! [Cerberus](https://docs.python-cerberus.org/) 1.3.2 (`Validator(schema).validate(body)`,
//! with Cerberus' defaults) and answered with `validator.errors`, the tree built by
//! Cerberus' `BasicErrorHandler`. This module re-implements that subset:
//! [`Schema::compile`] checks a schema once (at load time) and reports every problem with
//! its JSON path; [`Schema::validate`] returns the same error tree as Cerberus, with the
//! same messages in the same order.
//!
//! ```
//! use flowyt_core::cerberus::Schema;
//! use serde_json::json;
//!
//! let schema = Schema::compile(&json!({
//!     "name": {"type": "string", "required": true},
//!     "age": {"type": "integer"}
//! }))
//! .expect("valid schema");
//! assert!(schema.validate(&json!({"name": "a", "age": 3})).is_ok());
//! let errors = schema.validate(&json!({"age": "x", "extra": 1})).unwrap_err();
//! assert_eq!(
//!     serde_json::Value::Object(errors),
//!     json!({"age": ["must be of integer type"], "extra": ["unknown field"], "name": ["required field"]})
//! );
//! ```
//!
//! # Rules
//!
//! Validation rules: `type`, `required`, `nullable`, `empty`, `minlength`, `maxlength`, `min`,
//! `max`, `allowed`, `forbidden`, `regex`, `schema` (sub-schema of a dict; rules for every item
//! of a list), `items`, `keysrules`/`valuesrules` (and their deprecated names `keyschema`/
//! `valueschema`), `allow_unknown` (a boolean), `require_all`, `dependencies` (a name, a list of
//! names or a mapping name → allowed values; dotted paths and the `^` root prefix work),
//! `excludes`, `contains`, `readonly`. Normalization rule: `default` (applied, as Cerberus does,
//! before validation to absent fields and to `null` values of non-nullable fields). `meta` is
//! accepted and ignored.
//!
//! Not supported, rejected by [`Schema::compile`] with a clear message: the `*of` rules
//! (`allof`, `anyof`, `noneof`, `oneof` and their `anyof_type`-style shortcuts), `check_with`/
//! `validator`, `coerce`, `rename`, `rename_handler`, `default_setter`, `purge_unknown`,
//! `allow_unknown` given as a rules object, and schema-registry references (a string where a
//! schema or rules object is expected). All of them need Python callables or registries.
//!
//! # The error tree
//!
//! Exactly what Cerberus' `validator.errors` renders: `{field: [message, ..., {sub-tree}]}`,
//! where the sub-tree (for `schema`, `items`, `keysrules` and `valuesrules` errors) is the last
//! element of the list, list indexes become string keys (`"0"`), and a field's messages are
//! ordered as Cerberus orders its errors: by document path (fields alphabetically, indexes
//! numerically), then by schema path (so by rule name). The order among several
//! `dependencies` messages of one field follows CPython's `list.sort` exactly (it is not
//! alphabetical: `["b", "c", "d"]` all missing gives `d, b, c`), for up to 63 errors on one
//! level.
//!
//! # Decisions and differences from Cerberus 1.3.2
//!
//! Everything not listed here was checked against Cerberus 1.3.2 itself on thousands of
//! generated schemas and documents (`tests/cerberus_conformance.rs`). Schema errors
//! ([`SchemaError`]) use flowyt's own wording, since Cerberus reported them as an exception.
//!
//! * **Missing or malformed document.** Cerberus raises `DocumentError` (the legacy engine
//!   answered 500). Here it is a validation failure under the key `"document"`, worded with
//!   Cerberus' own messages: `{"document": ["document is missing"]}` for `null`, and
//!   `{"document": ["'[1, 2]' is not a document, must be a dict"]}` for any other non-object
//!   (the value is rendered as Python's `str()` would). A document nested deeper than
//!   [`MAX_DOCUMENT_DEPTH`] levels gives `{"document": ["document is nested too deeply"]}`.
//! * **Booleans are not integers.** Python's `bool` is an `int`, so Cerberus accepts `true` for
//!   `integer` and `float`; here `integer`, `float` and `number` all reject booleans (as the
//!   flowyt spec asks). `float` accepts integers, as in Cerberus.
//! * **Dates.** JSON has no dates, so under Cerberus `date`/`datetime` never matched a JSON
//!   value. Here `date` accepts an ISO `YYYY-MM-DD` string (or a datetime string, as a Python
//!   `datetime` is a `date`), and `datetime` accepts `YYYY-MM-DDTHH:MM[:SS[.fraction]]` with an
//!   optional `Z` or `±HH:MM` offset (`T`, `t` or a space between date and time).
//!   `binary` and `set` never match a JSON value (as in Cerberus); `container` matches lists and
//!   objects.
//! * **Regular expressions** use `regex-lite` with Cerberus' anchoring (`$` appended unless the
//!   pattern already ends with `$`, then matched at the start, like `re.match`; `$` also matches
//!   before a final newline, and `\Z` is understood). Differences from Python's `re`: `\d`, `\w`,
//!   `\s` and case-insensitivity are ASCII-only; look-arounds and back-references are not
//!   supported. A pattern that does not compile is a schema error (Cerberus failed at
//!   validation time).
//! * **Where Cerberus 1.3.2 raises** a Python exception on some document (a 500 in the legacy
//!   engine) the rule behaves sensibly instead: `allowed`/`forbidden`/`contains` compare
//!   unhashable members (lists, objects) by equality; `items` on a number is skipped;
//!   `dependencies` through a non-object is "not found"; a `schema` rule whose value fits only a
//!   list (rules for items) reports `must be of dict type` for an object (as Cerberus does) and
//!   a schema that fits only an object reports `must be of dict type` for a non-empty list.
//! * **Set order.** Cerberus renders the values of `unallowed values [...]` and
//!   `missing members {...}` in Python set order (random for strings); here they come in
//!   document order (schema order for `contains`), without duplicates. Which of two equal
//!   members is shown (`0` or `false`) follows CPython's set rules.
//! * **Numbers** larger than 64 bits are floats in `serde_json` (Python keeps them integers).
//!   `min`/`max` compare like Python (`1 < 1.5`, strings with strings, lists element-wise);
//!   incomparable types are skipped, as Cerberus does.
//! * **Bounds.** Schemas nested deeper than [`MAX_SCHEMA_DEPTH`] JSON levels (about 30
//!   nested dicts) and documents deeper than [`MAX_DOCUMENT_DEPTH`] are rejected, so
//!   compilation and validation never recurse without bound; the worst case fits in a
//!   1 MiB stack even in a debug build.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use regex_lite::Regex;
use serde_json::{Map, Value};

/// Deepest nesting of JSON objects and arrays accepted in a schema. Validation recurses once
/// per nested sub-schema, so this bounds its stack use.
pub const MAX_SCHEMA_DEPTH: usize = 64;

/// Deepest nesting of JSON objects and arrays accepted in a document (the same limit as
/// `serde_json`'s parser).
pub const MAX_DOCUMENT_DEPTH: usize = 128;

/// Key of the error tree under which document-level problems (missing body, not an object,
/// nested too deeply) are reported.
pub const DOCUMENT_KEY: &str = "document";

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/// A problem found by [`Schema::compile`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// JSON path of the offending token inside the schema: object keys, and array indexes as
    /// decimal strings, e.g. `["age", "type"]` or `["tags", "items", "0", "type"]`.
    /// Empty when the schema itself is the problem.
    pub path: Vec<String>,
    /// What is wrong, e.g. `unknown rule 'requird' (did you mean 'required'?)`.
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "schema: {}", self.message)
        } else {
            write!(f, "schema.{}: {}", self.path.join("."), self.message)
        }
    }
}

impl std::error::Error for SchemaError {}

/// A compiled Cerberus schema (the `schema` object of a legacy `validation` action).
///
/// Cheap to clone, and `Send + Sync`: compile once, validate from any thread.
#[derive(Debug, Clone)]
pub struct Schema {
    root: Arc<Mapping>,
    /// Whether a `default` or a `readonly` appears: only then is the normalization pass needed.
    normalize: bool,
}

impl Schema {
    /// A schema with no field rules: it accepts only an empty document. It stands in for a
    /// schema that failed to compile (such a flow has errors and never runs).
    pub fn empty() -> Schema {
        Schema {
            root: Arc::new(Mapping::default()),
            normalize: false,
        }
    }

    /// Compile a schema; every problem is reported (unknown rule names with a "did you mean"
    /// if close, wrong rule value types, bad regex, unknown type names), each with the JSON
    /// path inside the schema where it sits (e.g. `["age", "type"]`), so a loader can point at
    /// the exact token.
    pub fn compile(schema: &Value) -> Result<Schema, Vec<SchemaError>> {
        if let Some(path) = schema_too_deep(schema) {
            return Err(vec![SchemaError {
                path,
                message: format!(
                    "schema is nested too deeply (more than {MAX_SCHEMA_DEPTH} levels)"
                ),
            }]);
        }
        let mut compiler = Compiler::default();
        let mut path = Vec::new();
        match compiler.mapping(schema, &mut path) {
            Ok(root) => Ok(Schema {
                root,
                normalize: compiler.needs_normalization,
            }),
            Err(errors) => Err(errors.to_vec()),
        }
    }

    /// Validate a document. `Ok(())` or the Cerberus error tree as JSON, e.g.
    /// `{"age": ["must be of integer type"], "extra": ["unknown field"], "name": ["required field"]}`.
    ///
    /// A `null` or non-object document is a failure reported under [`DOCUMENT_KEY`]
    /// (see the module documentation).
    pub fn validate(&self, document: &Value) -> Result<(), Map<String, Value>> {
        if document.is_null() {
            return Err(document_error("document is missing".to_owned()));
        }
        if document_too_deep(document) {
            return Err(document_error("document is nested too deeply".to_owned()));
        }
        let Value::Object(map) = document else {
            return Err(document_error(format!(
                "'{}' is not a document, must be a dict",
                py_str(document)
            )));
        };

        let mut errors = ErrorList::default();
        let mut root_readonly = HashSet::new();
        let normalized: Cow<'_, Map<String, Value>> = if self.normalize {
            let mut owned = map.clone();
            let mut doc = NormDoc::Map(&mut owned);
            normalize_level(
                LevelSchema::Mapping(&self.root),
                &mut doc,
                &[],
                &[],
                &mut errors,
                Some(&mut root_readonly),
            );
            Cow::Owned(owned)
        } else {
            Cow::Borrowed(map)
        };

        let ctx = Ctx {
            root: &normalized,
            root_readonly,
        };
        let entries: Vec<(Key, Cow<'_, Value>)> = normalized
            .iter()
            .map(|(k, v)| (Key::Str(k.clone()), Cow::Borrowed(v)))
            .collect();
        let level = Level {
            doc_path: &[],
            schema_path: &[],
            allow_unknown: false,
            require_all: false,
            is_root: true,
        };
        validate_level(
            &ctx,
            LevelSchema::Mapping(&self.root),
            &entries,
            &level,
            &mut errors,
        );
        let errors = errors.finish();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(render(&errors))
        }
    }
}

fn document_error(message: String) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert(
        DOCUMENT_KEY.to_owned(),
        Value::Array(vec![Value::String(message)]),
    );
    map
}

// ---------------------------------------------------------------------------------------------
// Compiled representation
// ---------------------------------------------------------------------------------------------

/// A mapping schema: field name → rules, in schema order.
#[derive(Debug, Default)]
struct Mapping {
    fields: Vec<(String, Arc<Rules>)>,
    index: HashMap<String, usize>,
}

impl Mapping {
    fn get(&self, name: &str) -> Option<&Arc<Rules>> {
        self.index
            .get(name)
            .and_then(|&i| self.fields.get(i))
            .map(|(_, r)| r)
    }
}

/// The rules of one field (a Cerberus "rules set").
#[derive(Debug, Default)]
struct Rules {
    /// Validation rules in Cerberus' evaluation order: `nullable` (always), then `readonly`,
    /// `type`, `empty` when present, then the others in definition order.
    queue: Vec<Rule>,
    nullable: bool,
    required: Option<bool>,
    readonly: bool,
    allow_unknown: Option<bool>,
    require_all: Option<bool>,
    default: Option<Value>,
}

impl Rules {
    fn kind(&self, name: RuleName) -> Option<&Kind> {
        self.queue.iter().find(|r| r.name == name).map(|r| &r.kind)
    }
}

#[derive(Debug)]
struct Rule {
    name: RuleName,
    /// The constraint as written in the schema, for messages.
    raw: Value,
    kind: Kind,
}

/// Both readings of a `schema` constraint that compiled: a mapping schema (for dict values)
/// and a rules set (for the items of list values). Cerberus accepts either.
#[derive(Debug, Clone)]
struct SubSchema {
    mapping: Option<Arc<Mapping>>,
    rules: Option<Arc<Rules>>,
}

#[derive(Debug)]
enum Kind {
    Allowed(Vec<Value>),
    Contains(Vec<Value>),
    DependenciesSeq(Vec<String>),
    DependenciesMap(Vec<(String, Vec<Value>)>),
    Empty(bool),
    Excludes(Vec<Value>),
    Forbidden(Vec<Value>),
    Items(Vec<Arc<Rules>>),
    Keysrules(Arc<Rules>),
    Max(Value),
    Maxlength(i128),
    Min(Value),
    Minlength(i128),
    Nullable(bool),
    Readonly(bool),
    Regex(Regex),
    Schema(SubSchema),
    Type(Vec<TypeName>),
    Valuesrules(Arc<Rules>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RuleName {
    Allowed,
    Contains,
    Dependencies,
    Empty,
    Excludes,
    Forbidden,
    Items,
    Keysrules,
    Max,
    Maxlength,
    Min,
    Minlength,
    Nullable,
    Readonly,
    Regex,
    Schema,
    Type,
    Valuesrules,
}

impl RuleName {
    fn as_str(self) -> &'static str {
        match self {
            RuleName::Allowed => "allowed",
            RuleName::Contains => "contains",
            RuleName::Dependencies => "dependencies",
            RuleName::Empty => "empty",
            RuleName::Excludes => "excludes",
            RuleName::Forbidden => "forbidden",
            RuleName::Items => "items",
            RuleName::Keysrules => "keysrules",
            RuleName::Max => "max",
            RuleName::Maxlength => "maxlength",
            RuleName::Min => "min",
            RuleName::Minlength => "minlength",
            RuleName::Nullable => "nullable",
            RuleName::Readonly => "readonly",
            RuleName::Regex => "regex",
            RuleName::Schema => "schema",
            RuleName::Type => "type",
            RuleName::Valuesrules => "valuesrules",
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// Rules skipped after a `null` value (Cerberus' `_validate_nullable`).
const NULL_DROPS: [RuleName; 13] = [
    RuleName::Allowed,
    RuleName::Empty,
    RuleName::Forbidden,
    RuleName::Items,
    RuleName::Keysrules,
    RuleName::Min,
    RuleName::Max,
    RuleName::Minlength,
    RuleName::Maxlength,
    RuleName::Regex,
    RuleName::Schema,
    RuleName::Type,
    RuleName::Valuesrules,
];

/// Rules skipped after an empty value when `empty` is given (Cerberus' `_validate_empty`).
const EMPTY_DROPS: [RuleName; 6] = [
    RuleName::Allowed,
    RuleName::Forbidden,
    RuleName::Items,
    RuleName::Minlength,
    RuleName::Maxlength,
    RuleName::Regex,
];

fn mask(names: &[RuleName]) -> u32 {
    names.iter().fold(0, |m, n| m | n.bit())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypeName {
    Binary,
    Boolean,
    Container,
    Date,
    Datetime,
    Dict,
    Float,
    Integer,
    List,
    Number,
    Set,
    String,
}

const TYPE_NAMES: [(&str, TypeName); 12] = [
    ("binary", TypeName::Binary),
    ("boolean", TypeName::Boolean),
    ("container", TypeName::Container),
    ("date", TypeName::Date),
    ("datetime", TypeName::Datetime),
    ("dict", TypeName::Dict),
    ("float", TypeName::Float),
    ("integer", TypeName::Integer),
    ("list", TypeName::List),
    ("number", TypeName::Number),
    ("set", TypeName::Set),
    ("string", TypeName::String),
];

impl TypeName {
    fn matches(self, value: &Value) -> bool {
        match self {
            TypeName::Binary | TypeName::Set => false,
            TypeName::Boolean => value.is_boolean(),
            TypeName::Container => value.is_array() || value.is_object(),
            TypeName::Date => value
                .as_str()
                .is_some_and(|s| is_iso_date(s) || is_iso_datetime(s)),
            TypeName::Datetime => value.as_str().is_some_and(is_iso_datetime),
            TypeName::Dict => value.is_object(),
            TypeName::Float | TypeName::Number => value.is_number(),
            TypeName::Integer => value.is_i64() || value.is_u64(),
            TypeName::List => value.is_array(),
            TypeName::String => value.is_string(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Compilation
// ---------------------------------------------------------------------------------------------

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
struct Compiler {
    rules_memo: HashMap<usize, Compiled<Rules>>,
    mapping_memo: HashMap<usize, Compiled<Mapping>>,
    needs_normalization: bool,
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
    fn mapping(&mut self, node: &Value, path: &mut Vec<String>) -> Compiled<Mapping> {
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

/// Compiles a Cerberus `regex` constraint: `$` is appended unless the pattern ends with one
/// (Cerberus' rule), and Python's `\Z` becomes `\z`.
fn compile_regex(pattern: &str) -> Result<Regex, String> {
    let mut source = String::with_capacity(pattern.len() + 1);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('Z') => source.push_str("\\z"),
                Some(next) => {
                    source.push('\\');
                    source.push(next);
                }
                None => source.push('\\'),
            }
        } else {
            source.push(c);
        }
    }
    if !pattern.ends_with('$') {
        source.push('$');
    }
    Regex::new(&source).map_err(|e| {
        e.to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// Python's `re.match(pattern, s)`: a match that starts at 0; `$` also matches before a
/// final newline.
fn regex_matches(re: &Regex, s: &str) -> bool {
    let at_start = |haystack: &str| re.find(haystack).is_some_and(|m| m.start() == 0);
    at_start(s) || s.strip_suffix('\n').is_some_and(at_start)
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

/// Removes duplicates (Python set semantics: `1`, `1.0` and `true` are one member), keeping
/// the first occurrence.
fn dedup(values: Vec<Value>) -> Vec<Value> {
    /// Scalars under Python's `==`/`hash`: `1 == 1.0 == True`.
    #[derive(PartialEq, Eq, Hash)]
    enum Scalar {
        Null,
        Int(i128),
        Float(u64),
        Str(String),
    }
    let scalar = |v: &Value| match v {
        Value::Null => Some(Scalar::Null),
        Value::String(s) => Some(Scalar::Str(s.clone())),
        other => match to_num(other)? {
            Num::Int(i) => Some(Scalar::Int(i)),
            Num::Float(f) if f.fract() == 0.0 && f.abs() < 1.0e30 => Some(Scalar::Int(f as i128)),
            Num::Float(f) => Some(Scalar::Float(f.to_bits())),
        },
    };
    let mut seen = HashSet::new();
    let mut out: Vec<Value> = Vec::with_capacity(values.len());
    for v in values {
        let new = match scalar(&v) {
            Some(key) => seen.insert(key),
            // Lists and objects: compared one by one, like Python (which would raise).
            None => !out.iter().any(|o| py_eq(o, &v, 0)),
        };
        if new {
            out.push(v);
        }
    }
    out
}

/// Path of the first container nested deeper than [`MAX_SCHEMA_DEPTH`], if any (iterative).
fn schema_too_deep(schema: &Value) -> Option<Vec<String>> {
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

/// Whether a document nests containers deeper than [`MAX_DOCUMENT_DEPTH`] (iterative).
fn document_too_deep(document: &Value) -> bool {
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

// ---------------------------------------------------------------------------------------------
// Errors as Cerberus records them
// ---------------------------------------------------------------------------------------------

/// An element of a document or schema path: a field name or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Int(usize),
    Str(String),
}

impl Key {
    fn rule(name: RuleName) -> Key {
        Key::Str(name.as_str().to_owned())
    }

    /// Python's `str()` of the key, which is also its JSON object key.
    fn py_str(&self) -> String {
        match self {
            Key::Int(i) => i.to_string(),
            Key::Str(s) => s.clone(),
        }
    }
}

/// A Cerberus `ValidationError`. Group errors (`schema`, `items`, `keysrules`,
/// `valuesrules`) have no message of their own and carry their children.
#[derive(Debug, Clone)]
struct VError {
    doc_path: Vec<Key>,
    schema_path: Vec<Key>,
    message: Option<String>,
    children: Vec<VError>,
}

fn extended(path: &[Key], more: &[Key]) -> Vec<Key> {
    let mut out = Vec::with_capacity(path.len() + more.len());
    out.extend_from_slice(path);
    out.extend_from_slice(more);
    out
}

/// Cerberus' `utils.compare_paths_lt`.
fn paths_lt(x: &[Key], y: &[Key]) -> bool {
    let m = x.len().min(y.len());
    if x[..m] == y[..m] {
        return x.len() == m;
    }
    for (a, b) in x.iter().zip(y) {
        match (a, b) {
            (Key::Int(a), Key::Int(b)) if a == b => {}
            (Key::Int(a), Key::Int(b)) => return a < b,
            (Key::Str(a), Key::Str(b)) if a == b => {}
            (Key::Str(a), Key::Str(b)) => return a < b,
            _ => return true,
        }
    }
    false
}

/// Cerberus' `ValidationError.__lt__` (note: true for equal paths).
fn error_lt(a: &VError, b: &VError) -> bool {
    if a.doc_path != b.doc_path {
        paths_lt(&a.doc_path, &b.doc_path)
    } else {
        paths_lt(&a.schema_path, &b.schema_path)
    }
}

fn error_cmp(a: &VError, b: &VError) -> Ordering {
    if a.doc_path == b.doc_path && a.schema_path == b.schema_path {
        Ordering::Equal
    } else if error_lt(a, b) {
        Ordering::Less
    } else {
        Ordering::Greater
    }
}

/// CPython's `list.sort()` on fewer than 64 elements (one run: `count_run`, then binary
/// insertion, exactly as `listobject.c` does), which Cerberus runs after every error it
/// records. `error_lt` says "less" for equal paths, which reorders errors with equal paths
/// in a way only this reproduces.
fn python_sort(v: &mut [VError]) {
    let n = v.len();
    if n < 2 {
        return;
    }
    let mut run = 2;
    if error_lt(&v[1], &v[0]) {
        while run < n && error_lt(&v[run], &v[run - 1]) {
            run += 1;
        }
        v[..run].reverse();
    } else {
        while run < n && !error_lt(&v[run], &v[run - 1]) {
            run += 1;
        }
    }
    for start in run..n {
        let (mut l, mut r) = (0, start);
        while l < r {
            let p = l + (r - l) / 2;
            if error_lt(&v[start], &v[p]) {
                r = p;
            } else {
                l = p + 1;
            }
        }
        v[l..=start].rotate_right(1);
    }
}

/// A validator's `_errors`, kept in the order Cerberus keeps it (it re-sorts the list after
/// every error it records).
#[derive(Default)]
struct ErrorList {
    items: Vec<VError>,
    mode: SortMode,
}

enum SortMode {
    /// All paths distinct so far: any sort gives Cerberus' order, so sort once at the end.
    /// Holds hashes of the paths seen.
    Distinct(HashSet<u64>),
    /// Two errors share their paths: replay CPython's sort after every addition.
    Replay,
    /// Too many errors to replay (64 or more): sort once at the end, stably. Errors with
    /// equal paths may then be ordered differently from Cerberus.
    Approximate,
}

impl Default for SortMode {
    fn default() -> Self {
        SortMode::Distinct(HashSet::new())
    }
}

impl ErrorList {
    fn push(&mut self, error: VError) {
        self.extend(vec![error]);
    }

    fn extend(&mut self, errors: Vec<VError>) {
        if errors.is_empty() {
            return;
        }
        match &mut self.mode {
            SortMode::Distinct(seen) => {
                let mut duplicate = false;
                for e in &errors {
                    let mut h = DefaultHasher::new();
                    e.doc_path.hash(&mut h);
                    e.schema_path.hash(&mut h);
                    duplicate |= !seen.insert(h.finish());
                }
                if !duplicate {
                    self.items.extend(errors);
                    return;
                }
                // Until now Cerberus' list was plainly sorted.
                self.items.sort_by(error_cmp);
                self.mode = SortMode::Replay;
            }
            SortMode::Replay => {}
            SortMode::Approximate => {
                self.items.extend(errors);
                return;
            }
        }
        self.items.extend(errors);
        if self.items.len() < 64 {
            python_sort(&mut self.items);
        } else {
            self.mode = SortMode::Approximate;
        }
    }

    fn finish(mut self) -> Vec<VError> {
        if !matches!(self.mode, SortMode::Replay) {
            self.items.sort_by(error_cmp);
        }
        self.items
    }
}

/// Cerberus' `_drop_nodes_from_errorpaths` for schema paths.
fn drop_schema_nodes(errors: &mut [VError], base: usize, nodes: &[usize]) {
    for e in errors.iter_mut() {
        for i in nodes.iter().rev() {
            let at = base + i;
            if at < e.schema_path.len() {
                e.schema_path.remove(at);
            }
        }
        drop_schema_nodes(&mut e.children, base, nodes);
    }
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/// The schema of one (child) validator.
#[derive(Clone, Copy)]
enum LevelSchema<'s> {
    /// A mapping schema (field names).
    Mapping(&'s Mapping),
    /// The same rules for every key of the document (list items, `keysrules`, `valuesrules`).
    Uniform(&'s Rules),
    /// `items`: rules per position.
    Items(&'s [Arc<Rules>]),
}

impl<'s> LevelSchema<'s> {
    fn get(self, key: &Key) -> Option<&'s Rules> {
        match (self, key) {
            (LevelSchema::Mapping(m), Key::Str(name)) => m.get(name).map(|r| &**r),
            (LevelSchema::Uniform(r), _) => Some(r),
            (LevelSchema::Items(items), Key::Int(i)) => items.get(*i).map(|r| &**r),
            _ => None,
        }
    }

    /// Python's `name in schema` for a field name given in a schema.
    fn contains(self, name: &Value, doc: &LevelDoc<'_, '_>) -> Option<Key> {
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
    fn fields(self, doc_keys: impl Iterator<Item = Key>) -> Vec<(Key, &'s Rules)> {
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
struct Ctx<'r> {
    /// The (normalized) root document, for `^` dependencies.
    root: &'r Map<String, Value>,
    /// Root fields that normalization found read-only.
    root_readonly: HashSet<String>,
}

/// The configuration of one (child) validator.
struct Level<'p> {
    doc_path: &'p [Key],
    schema_path: &'p [Key],
    allow_unknown: bool,
    require_all: bool,
    is_root: bool,
}

type Doc<'d> = [(Key, Cow<'d, Value>)];

/// Cerberus' `validate()` of one (child) validator, minus normalization.
fn validate_level(
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
struct LevelDoc<'a, 'd> {
    entries: &'a Doc<'d>,
    index: HashMap<&'a Key, &'a Value>,
}

impl<'a, 'd> LevelDoc<'a, 'd> {
    fn new(entries: &'a Doc<'d>) -> Self {
        let index = entries.iter().map(|(k, v)| (k, v.as_ref())).collect();
        LevelDoc { entries, index }
    }

    /// Python's `name in document` for a field name given in a schema.
    fn contains(&self, name: &Value) -> bool {
        value_key(name).is_some_and(|k| self.index.contains_key(&k))
    }
}

/// Cerberus' `_unrequired_by_excludes`: a set, iterated in insertion order.
#[derive(Default)]
struct KeySet {
    order: Vec<Key>,
    set: HashSet<Key>,
}

impl KeySet {
    fn insert(&mut self, key: Key) {
        if self.set.insert(key.clone()) {
            self.order.push(key);
        }
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

fn leaf(lv: &Level<'_>, key: &Key, rule: RuleName, message: String) -> VError {
    VError {
        doc_path: extended(lv.doc_path, std::slice::from_ref(key)),
        schema_path: extended(lv.schema_path, &[key.clone(), Key::rule(rule)]),
        message: Some(message),
        children: Vec::new(),
    }
}

fn group(lv: &Level<'_>, key: &Key, rule: RuleName, children: Vec<VError>) -> VError {
    VError {
        doc_path: extended(lv.doc_path, std::slice::from_ref(key)),
        schema_path: extended(lv.schema_path, &[key.clone(), Key::rule(rule)]),
        message: None,
        children,
    }
}

/// Runs a child validator and returns its sorted errors.
fn child_errors(
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
            Kind::Allowed(allowed) => {
                if let Some(members) = members(value) {
                    let unallowed: Vec<Value> = members
                        .into_iter()
                        .filter(|m| !allowed.iter().any(|a| py_eq(m, a, 0)))
                        .collect();
                    if !unallowed.is_empty() {
                        let list = Value::Array(dedup(unallowed));
                        fail(errors, format!("unallowed values {}", py_repr(&list, 0)));
                    }
                } else if !allowed.iter().any(|a| py_eq(value, a, 0)) {
                    fail(errors, format!("unallowed value {}", py_str(value)));
                }
            }
            Kind::Forbidden(forbidden) => {
                if let Value::Array(items) = value {
                    // `set(value) & set(forbidden)`: CPython keeps the members of the smaller
                    // set (`0` or `False`), the forbidden one when sizes are equal.
                    let members = dedup(items.clone());
                    let (keep, other) = if forbidden.len() > members.len() {
                        (&members, forbidden)
                    } else {
                        (forbidden, &members)
                    };
                    let hits: Vec<Value> = keep
                        .iter()
                        .filter(|m| other.iter().any(|o| py_eq(m, o, 0)))
                        .cloned()
                        .collect();
                    if !hits.is_empty() {
                        let list = Value::Array(hits);
                        fail(errors, format!("unallowed values {}", py_repr(&list, 0)));
                    }
                } else if forbidden.iter().any(|f| py_eq(value, f, 0)) {
                    fail(errors, format!("unallowed value {}", py_str(value)));
                }
            }
            Kind::Contains(expected) => {
                let present = match value {
                    Value::String(s) => {
                        Some(s.chars().map(|c| Value::String(c.to_string())).collect())
                    }
                    other => members(other),
                };
                if let Some(present) = present {
                    let missing: Vec<String> = expected
                        .iter()
                        .filter(|e| !present.iter().any(|p| py_eq(e, p, 0)))
                        .map(|e| py_repr(e, 0))
                        .collect();
                    if !missing.is_empty() {
                        fail(
                            errors,
                            format!("missing members {{{}}}", missing.join(", ")),
                        );
                    }
                }
            }
            Kind::DependenciesSeq(names) => {
                for name in names {
                    if lookup_field(ctx, doc, name).is_none() {
                        fail(errors, format!("field '{name}' is required"));
                    }
                }
            }
            Kind::DependenciesMap(dependencies) => {
                let satisfied = dependencies.iter().all(|(name, wanted)| {
                    let found = lookup_field(ctx, doc, name).unwrap_or(&Value::Null);
                    wanted.iter().any(|w| py_eq(found, w, 0))
                });
                if !satisfied {
                    fail(
                        errors,
                        format!("depends on these values: {}", py_str(&rule.raw)),
                    );
                }
            }
            Kind::Excludes(excluded) => {
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
            Kind::Max(max) => {
                if py_lt(max, value, 0) == Some(true) {
                    fail(errors, format!("max value is {}", py_str(max)));
                }
            }
            Kind::Min(min) => {
                if py_lt(value, min, 0) == Some(true) {
                    fail(errors, format!("min value is {}", py_str(min)));
                }
            }
            Kind::Maxlength(max) => {
                if sized_len(value).is_some_and(|len| len as i128 > *max) {
                    fail(errors, format!("max length is {}", py_str(&rule.raw)));
                }
            }
            Kind::Minlength(min) => {
                if sized_len(value).is_some_and(|len| (len as i128) < *min) {
                    fail(errors, format!("min length is {}", py_str(&rule.raw)));
                }
            }
            Kind::Regex(re) => {
                if let Value::String(s) = value
                    && !regex_matches(re, s)
                {
                    fail(
                        errors,
                        format!("value does not match regex '{}'", py_str(&rule.raw)),
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

/// The rules that run a child validator (`items`, `keysrules`, `valuesrules`, `schema`), kept
/// out of [`validate_field`] so that the recursion's stack frames stay small. Returns `true`
/// when the remaining rules of the field must be skipped.
#[inline(never)]
fn validate_nested(
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

/// Python's `len()` for strings (code points), lists and dicts.
fn sized_len(value: &Value) -> Option<usize> {
    match value {
        Value::String(s) => Some(s.chars().count()),
        Value::Array(a) => Some(a.len()),
        Value::Object(o) => Some(o.len()),
        _ => None,
    }
}

/// Members of a non-string iterable: list items, or dict keys.
fn members(value: &Value) -> Option<Vec<Value>> {
    match value {
        Value::Array(a) => Some(a.clone()),
        Value::Object(o) => Some(o.keys().map(|k| Value::String(k.clone())).collect()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Normalization (`default`, and `readonly`, which Cerberus checks while normalizing)
// ---------------------------------------------------------------------------------------------

/// A document being normalized.
enum NormDoc<'a> {
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
fn normalize_level(
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

// ---------------------------------------------------------------------------------------------
// Rendering (Cerberus' `BasicErrorHandler`)
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Tree {
    entries: Vec<(Key, Vec<Node>)>,
    index: HashMap<Key, usize>,
}

enum Node {
    Message(String),
    Sub(Tree),
}

impl Tree {
    fn add(&mut self, key: &Key, nodes: Vec<Node>) -> usize {
        self.index.insert(key.clone(), self.entries.len());
        self.entries.push((key.clone(), nodes));
        self.entries.len() - 1
    }

    /// `BasicErrorHandler._insert_error`: a field's list is its messages followed by one
    /// sub-tree.
    fn insert(&mut self, path: &[Key], message: String) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        let existing = self.index.get(first).copied();
        if rest.is_empty() {
            match existing {
                Some(i) => {
                    let list = &mut self.entries[i].1;
                    let subtree = list.pop();
                    list.push(Node::Message(message));
                    list.extend(subtree);
                }
                None => {
                    self.add(
                        first,
                        vec![Node::Message(message), Node::Sub(Tree::default())],
                    );
                }
            }
        } else {
            let i = match existing {
                Some(i) => i,
                None => self.add(first, vec![Node::Sub(Tree::default())]),
            };
            if let Some(Node::Sub(subtree)) = self.entries[i].1.last_mut() {
                subtree.insert(rest, message);
            }
        }
    }

    /// `BasicErrorHandler.pretty_tree`: empty trailing sub-trees are dropped.
    fn into_json(self) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, mut list) in self.entries {
            if matches!(list.last(), Some(Node::Sub(t)) if t.entries.is_empty()) {
                list.pop();
            }
            let items = list
                .into_iter()
                .map(|node| match node {
                    Node::Message(m) => Value::String(m),
                    Node::Sub(t) => Value::Object(t.into_json()),
                })
                .collect();
            out.insert(key.py_str(), Value::Array(items));
        }
        out
    }
}

fn insert_error(tree: &mut Tree, error: &VError) {
    match &error.message {
        Some(message) => tree.insert(&error.doc_path, message.clone()),
        None => {
            for child in &error.children {
                insert_error(tree, child);
            }
        }
    }
}

fn render(errors: &[VError]) -> Map<String, Value> {
    let mut tree = Tree::default();
    for error in errors {
        insert_error(&mut tree, error);
    }
    tree.into_json()
}

// ---------------------------------------------------------------------------------------------
// Python value semantics: str(), repr(), ==, <
// ---------------------------------------------------------------------------------------------

/// Recursion guard for the helpers below (inputs are already bounded by
/// [`MAX_DOCUMENT_DEPTH`]).
const GUARD: usize = MAX_DOCUMENT_DEPTH + 8;

/// Python's `str()` of a JSON value as `json.loads` would have built it.
fn py_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => py_repr(other, 0),
    }
}

/// Python's `repr()` of a JSON value as `json.loads` would have built it.
fn py_repr(value: &Value, depth: usize) -> String {
    if depth > GUARD {
        return "...".to_owned();
    }
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => match to_num(value) {
            Some(Num::Float(f)) => py_float_repr(f),
            _ => n.to_string(),
        },
        Value::String(s) => py_repr_str(s),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(|v| py_repr(v, depth + 1)).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(object) => {
            let inner: Vec<String> = object
                .iter()
                .map(|(k, v)| format!("{}: {}", py_repr_str(k), py_repr(v, depth + 1)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

/// Python's `repr()` of a `str`.
fn py_repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c => {
                let code = u32::from(c);
                if code <= 0xff {
                    out.push_str(&format!("\\x{code:02x}"));
                } else if code <= 0xffff {
                    out.push_str(&format!("\\u{code:04x}"));
                } else {
                    out.push_str(&format!("\\U{code:08x}"));
                }
            }
        }
    }
    out.push(quote);
    out
}

/// An approximation of Python's `str.isprintable()` for one character: control, format,
/// separator (other than the ASCII space) and private-use characters are not printable.
fn is_printable(c: char) -> bool {
    let code = u32::from(c);
    !(c.is_control()
        || matches!(code,
            0xa0 | 0xad | 0x1680 | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x2064
            | 0x2066..=0x206f | 0x3000 | 0xfeff | 0xfff9..=0xfffb
            | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x180e
            | 0xe000..=0xf8ff | 0xf0000..=0x10ffff))
}

/// Python's `repr()` of a `float` (shortest round-trip digits, exponent outside
/// `1e-4 <= |x| < 1e16`).
fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    let sci = format!("{:e}", f.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if f < 0.0 { "-" } else { "" };
    if (-4..16).contains(&exponent) {
        if exponent >= 0 {
            let int_len = exponent as usize + 1;
            if digits.len() <= int_len {
                format!("{sign}{digits}{}.0", "0".repeat(int_len - digits.len()))
            } else {
                format!("{sign}{}.{}", &digits[..int_len], &digits[int_len..])
            }
        } else {
            format!("{sign}0.{}{digits}", "0".repeat((-exponent - 1) as usize))
        }
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{first}{fraction}e{exp_sign}{:02}", exponent.abs())
    }
}

/// A Python number (`bool` is an `int`).
#[derive(Debug, Clone, Copy)]
enum Num {
    Int(i128),
    Float(f64),
}

fn to_num(value: &Value) -> Option<Num> {
    match value {
        Value::Bool(b) => Some(Num::Int(i128::from(*b))),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(Num::Int(i128::from(i)))
            } else if let Some(u) = n.as_u64() {
                Some(Num::Int(i128::from(u)))
            } else {
                n.as_f64().map(Num::Float)
            }
        }
        _ => None,
    }
}

/// Exact comparison of Python numbers (Python compares `int` and `float` exactly).
fn num_cmp(a: Num, b: Num) -> Ordering {
    fn int_float(i: i128, f: f64) -> Ordering {
        if f.is_nan() {
            return Ordering::Equal;
        }
        if f >= 1.0e38 {
            return Ordering::Less;
        }
        if f <= -1.0e38 {
            return Ordering::Greater;
        }
        let floor = f.floor();
        // In range: |floor| < 1e38 < i128::MAX.
        let whole = floor as i128;
        match i.cmp(&whole) {
            Ordering::Equal if f > floor => Ordering::Less,
            other => other,
        }
    }
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => x.cmp(&y),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        (Num::Int(x), Num::Float(y)) => int_float(x, y),
        (Num::Float(x), Num::Int(y)) => int_float(y, x).reverse(),
    }
}

/// Python's `a == b` for values built by `json.loads`.
fn py_eq(a: &Value, b: &Value, depth: usize) -> bool {
    if depth > GUARD {
        return false;
    }
    if let (Some(x), Some(y)) = (to_num(a), to_num(b)) {
        return num_cmp(x, y) == Ordering::Equal;
    }
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q, depth + 1))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w, depth + 1)))
        }
        _ => false,
    }
}

/// Python's `a < b`; `None` where Python raises `TypeError` (Cerberus then skips the rule).
fn py_lt(a: &Value, b: &Value, depth: usize) -> Option<bool> {
    if depth > GUARD {
        return None;
    }
    if let (Some(x), Some(y)) = (to_num(a), to_num(b)) {
        return Some(num_cmp(x, y) == Ordering::Less);
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => Some(x < y),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                if !py_eq(p, q, depth + 1) {
                    return py_lt(p, q, depth + 1);
                }
            }
            Some(x.len() < y.len())
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u32, |acc, d| {
        acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

/// `YYYY-MM-DD`, a real calendar day (year 1 to 9999, as Python's `date`).
fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) =
        (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10]))
    else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1 && (1..=days).contains(&day)
}

/// `YYYY-MM-DD(T|t| )HH:MM[:SS[.fraction]][Z|z|±HH:MM]`.
fn is_iso_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 16 || !s.is_char_boundary(10) || !is_iso_date(&s[..10]) {
        return false;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return false;
    }
    let mut rest = &b[11..];
    let two = |x: &[u8], max: u32| x.len() >= 2 && digits(&x[..2]).is_some_and(|v| v <= max);
    if !(two(rest, 23) && rest.get(2) == Some(&b':') && two(&rest[3..], 59)) {
        return false;
    }
    rest = &rest[5..];
    if rest.first() == Some(&b':') {
        if !two(&rest[1..], 59) {
            return false;
        }
        rest = &rest[3..];
        if rest.first() == Some(&b'.') {
            let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if !(1..=9).contains(&n) {
                return false;
            }
            rest = &rest[1 + n..];
        }
    }
    match rest {
        [] | [b'Z'] | [b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => two(&[*h1, *h2], 23) && two(&[*m1, *m2], 59),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors(schema: Value, document: Value) -> Value {
        let schema = match Schema::compile(&schema) {
            Ok(s) => s,
            Err(e) => panic!("schema does not compile: {e:?}"),
        };
        match schema.validate(&document) {
            Ok(()) => json!({}),
            Err(tree) => Value::Object(tree),
        }
    }

    /// Compares with key order (serde_json's `Map` equality ignores it).
    fn assert_tree(schema: Value, document: Value, expected: Value) {
        let got = errors(schema.clone(), document.clone());
        assert_eq!(
            got.to_string(),
            expected.to_string(),
            "schema {schema} document {document}"
        );
    }

    fn compile_errors(schema: Value) -> Vec<(String, String)> {
        match Schema::compile(&schema) {
            Ok(_) => panic!("schema {schema} compiled"),
            Err(errors) => errors
                .into_iter()
                .map(|e| (e.path.join("."), e.message))
                .collect(),
        }
    }

    #[test]
    fn spec_tests_46_47() {
        let schema =
            json!({"name": {"type": "string", "required": true}, "age": {"type": "integer"}});
        assert_tree(schema.clone(), json!({"name": "a", "age": 3}), json!({}));
        assert_tree(
            schema,
            json!({"age": "x", "extra": 1}),
            json!({"age": ["must be of integer type"], "extra": ["unknown field"], "name": ["required field"]}),
        );
    }

    #[test]
    fn document_level_errors() {
        let schema = json!({"a": {"type": "string"}});
        assert_tree(
            schema.clone(),
            Value::Null,
            json!({"document": ["document is missing"]}),
        );
        assert_tree(
            schema.clone(),
            json!([1, "x", null, true, 1.5]),
            json!({"document": ["'[1, 'x', None, True, 1.5]' is not a document, must be a dict"]}),
        );
        assert_tree(
            schema.clone(),
            json!("body"),
            json!({"document": ["'body' is not a document, must be a dict"]}),
        );
        assert_tree(
            schema.clone(),
            json!(false),
            json!({"document": ["'False' is not a document, must be a dict"]}),
        );
        assert_tree(schema, json!({}), json!({}));
    }

    #[test]
    fn rules_pass_and_fail() {
        // (schema of field "f", passing value, failing value, expected messages)
        let cases = vec![
            (
                json!({"type": "string"}),
                json!("x"),
                json!(1),
                json!(["must be of string type"]),
            ),
            (
                json!({"type": "integer"}),
                json!(1),
                json!(true),
                json!(["must be of integer type"]),
            ),
            (
                json!({"type": "integer"}),
                json!(-7),
                json!(1.0),
                json!(["must be of integer type"]),
            ),
            (
                json!({"type": "float"}),
                json!(1),
                json!("1.5"),
                json!(["must be of float type"]),
            ),
            (
                json!({"type": "number"}),
                json!(1.5),
                json!(false),
                json!(["must be of number type"]),
            ),
            (
                json!({"type": "boolean"}),
                json!(false),
                json!(0),
                json!(["must be of boolean type"]),
            ),
            (
                json!({"type": "dict"}),
                json!({}),
                json!([]),
                json!(["must be of dict type"]),
            ),
            (
                json!({"type": "list"}),
                json!([]),
                json!({}),
                json!(["must be of list type"]),
            ),
            (
                json!({"type": "date"}),
                json!("2024-02-29"),
                json!("2023-02-29"),
                json!(["must be of date type"]),
            ),
            (
                json!({"type": "datetime"}),
                json!("2024-02-29T10:20:30.5+02:00"),
                json!("2024-02-29"),
                json!(["must be of datetime type"]),
            ),
            (
                json!({"type": ["integer", "string"]}),
                json!("x"),
                json!(1.5),
                json!(["must be of ['integer', 'string'] type"]),
            ),
            (
                json!({"nullable": true}),
                json!(null),
                json!(null),
                json!([]),
            ),
            (
                json!({"type": "string"}),
                json!("x"),
                json!(null),
                json!(["null value not allowed"]),
            ),
            (
                json!({"empty": false}),
                json!("x"),
                json!(""),
                json!(["empty values not allowed"]),
            ),
            (
                json!({"empty": false}),
                json!([1]),
                json!({}),
                json!(["empty values not allowed"]),
            ),
            (
                json!({"minlength": 2}),
                json!("ab"),
                json!("a"),
                json!(["min length is 2"]),
            ),
            (
                json!({"maxlength": 2}),
                json!([1, 2]),
                json!([1, 2, 3]),
                json!(["max length is 2"]),
            ),
            (
                json!({"maxlength": 1}),
                json!("é"),
                json!({"a": 1, "b": 2}),
                json!(["max length is 1"]),
            ),
            (
                json!({"min": 1}),
                json!(1),
                json!(0.5),
                json!(["min value is 1"]),
            ),
            (
                json!({"max": 1.5}),
                json!(1),
                json!(2),
                json!(["max value is 1.5"]),
            ),
            (
                json!({"min": "b"}),
                json!("b"),
                json!("a"),
                json!(["min value is b"]),
            ),
            (
                json!({"max": 10}),
                json!("not comparable"),
                json!(11),
                json!(["max value is 10"]),
            ),
            (
                json!({"allowed": ["x", "y"]}),
                json!("x"),
                json!("z"),
                json!(["unallowed value z"]),
            ),
            (
                json!({"allowed": [1, 2]}),
                json!([1, 2, 1]),
                json!([1, 3]),
                json!(["unallowed values [3]"]),
            ),
            (
                json!({"allowed": [1]}),
                json!(1.0),
                json!(2),
                json!(["unallowed value 2"]),
            ),
            (
                json!({"forbidden": ["x"]}),
                json!("y"),
                json!("x"),
                json!(["unallowed value x"]),
            ),
            (
                json!({"forbidden": ["x"]}),
                json!(["y"]),
                json!(["x", "y"]),
                json!(["unallowed values ['x']"]),
            ),
            (
                json!({"regex": "[a-z]+"}),
                json!("abc"),
                json!("abc1"),
                json!(["value does not match regex '[a-z]+'"]),
            ),
            (
                json!({"regex": "a|b"}),
                json!("ab"),
                json!("ca"),
                json!(["value does not match regex 'a|b'"]),
            ),
            (
                json!({"regex": "abc"}),
                json!("abc\n"),
                json!("xabc"),
                json!(["value does not match regex 'abc'"]),
            ),
            (
                json!({"regex": "\\d+"}),
                json!(12),
                json!("1a"),
                json!(["value does not match regex '\\d+'"]),
            ),
            (
                json!({"contains": "x"}),
                json!(["x", "y"]),
                json!(["y"]),
                json!(["missing members {'x'}"]),
            ),
            (
                json!({"contains": ["x", "y"]}),
                json!("xyz"),
                json!("xz"),
                json!(["missing members {'y'}"]),
            ),
            (
                json!({"readonly": true}),
                json!(null),
                json!(1),
                json!(["field is read-only"]),
            ),
            (json!({"readonly": false}), json!(1), json!(1), json!([])),
            (
                json!({"meta": {"anything": [1]}}),
                json!(1),
                json!(1),
                json!([]),
            ),
        ];
        for (rules, pass, fail, expected) in cases {
            let schema = json!({"f": rules});
            if rules.get("readonly") != Some(&json!(true)) {
                assert_tree(schema.clone(), json!({"f": pass}), json!({}));
            }
            let want = if expected == json!([]) {
                json!({})
            } else {
                json!({ "f": expected })
            };
            assert_tree(schema, json!({ "f": fail }), want);
        }
    }

    #[test]
    fn required_dependencies_excludes() {
        assert_tree(
            json!({"a": {"required": true}}),
            json!({}),
            json!({"a": ["required field"]}),
        );
        assert_tree(
            json!({"a": {"required": true}}),
            json!({"a": null}),
            json!({"a": ["null value not allowed"]}),
        );
        assert_tree(json!({"a": {"required": false}}), json!({}), json!({}));
        let deps = json!({"a": {"dependencies": ["b", "c", "d"]}, "b": {}, "c": {}, "d": {}});
        assert_tree(
            deps.clone(),
            json!({"a": 1}),
            json!({"a": ["field 'd' is required", "field 'b' is required", "field 'c' is required"]}),
        );
        assert_tree(
            deps,
            json!({"a": 1, "b": 1, "c": null, "d": 1}),
            json!({"c": ["null value not allowed"]}),
        );
        assert_tree(
            json!({"a": {"dependencies": ["b", "c"]}, "z": {}}),
            json!({"z": 1, "a": 1}),
            json!({"a": ["field 'c' is required", "field 'b' is required"]}),
        );
        let map = json!({"a": {"dependencies": {"b": ["x", 1], "c": 2}}, "b": {}, "c": {}});
        assert_tree(map.clone(), json!({"a": 1, "b": 1, "c": 2.0}), json!({}));
        assert_tree(
            map,
            json!({"a": 1, "b": "y"}),
            json!({"a": ["depends on these values: {'b': ['x', 1], 'c': 2}"]}),
        );
        assert_tree(
            json!({"a": {"type": "dict", "schema": {"x": {"dependencies": "^b.c"}}}, "b": {}}),
            json!({"a": {"x": 1}, "b": {"c": 0}}),
            json!({}),
        );
        assert_tree(
            json!({"a": {"type": "dict", "schema": {"x": {"dependencies": "^b"}}}, "b": {}}),
            json!({"a": {"x": 1}}),
            json!({"a": [{"x": ["field '^b' is required"]}]}),
        );
        let ex = json!({"a": {"excludes": ["b", "c"]}, "b": {}, "c": {}});
        assert_tree(ex.clone(), json!({"a": 1}), json!({}));
        assert_tree(
            ex,
            json!({"a": 1, "c": 2}),
            json!({"a": ["'b', 'c' must not be present with 'a'"]}),
        );
        let both = json!({"a": {"excludes": "b", "required": true}, "b": {"excludes": "a", "required": true}});
        assert_tree(both.clone(), json!({"a": 1}), json!({}));
        assert_tree(
            both.clone(),
            json!({}),
            json!({"a": ["required field"], "b": ["required field"]}),
        );
        assert_tree(
            both,
            json!({"a": null}),
            json!({"a": ["null value not allowed", "required field"], "b": ["required field"]}),
        );
    }

    #[test]
    fn nested_errors() {
        assert_tree(
            json!({"address": {"type": "dict", "schema": {"zip": {"required": true}, "c": {"type": "string"}}}}),
            json!({"address": {"c": 1, "q": 2}}),
            json!({"address": [{"c": ["must be of string type"], "q": ["unknown field"], "zip": ["required field"]}]}),
        );
        assert_tree(
            json!({"l": {"type": "list", "schema": {"type": "integer", "min": 0}}}),
            json!({"l": [1, "a", -2, 3, 4, 5, 6, 7, 8, 9, 10, "c"]}),
            json!({"l": [{"1": ["must be of integer type"], "2": ["min value is 0"], "11": ["must be of integer type"]}]}),
        );
        assert_tree(
            json!({"l": {"type": "list", "schema": {"type": "dict", "schema": {"n": {"type": "string"}}}}}),
            json!({"l": [{"n": "x"}, {"n": 1, "m": 2}]}),
            json!({"l": [{"1": [{"m": ["unknown field"], "n": ["must be of string type"]}]}]}),
        );
        assert_tree(
            json!({"a": {"items": [{"type": "integer"}, {"type": "string"}]}}),
            json!({"a": [1, 2]}),
            json!({"a": [{"1": ["must be of string type"]}]}),
        );
        assert_tree(
            json!({"a": {"items": [{"type": "integer"}, {"type": "string"}]}}),
            json!({"a": [1]}),
            json!({"a": ["length of list should be 2, it is 1"]}),
        );
        assert_tree(
            json!({"a": {"keysrules": {"type": "string", "regex": "[a-z]+"}}}),
            json!({"a": {"A": 1, "b": 2}}),
            json!({"a": [{"A": ["value does not match regex '[a-z]+'"]}]}),
        );
        assert_tree(
            json!({"a": {"valueschema": {"type": "integer"}}}),
            json!({"a": {"A": "x", "b": 2}}),
            json!({"a": [{"A": ["must be of integer type"]}]}),
        );
        assert_tree(
            json!({"a": {"type": "dict", "dependencies": "b", "schema": {"x": {"type": "string"}}}}),
            json!({"a": {"x": 1}}),
            json!({"a": ["field 'b' is required", {"x": ["must be of string type"]}]}),
        );
        // A rules set used on a dict, and a mapping schema used on a list.
        assert_tree(
            json!({"l": {"schema": {"type": "integer"}}}),
            json!({"l": {"a": 1}}),
            json!({"l": ["must be of dict type"]}),
        );
        assert_tree(
            json!({"l": {"schema": {"x": {"type": "integer"}}}}),
            json!({"l": [1]}),
            json!({"l": ["must be of dict type"]}),
        );
        assert_tree(
            json!({"l": {"schema": {"x": {"type": "integer"}}}}),
            json!({"l": []}),
            json!({}),
        );
    }

    #[test]
    fn allow_unknown_and_require_all() {
        let schema = json!({"a": {"type": "dict", "allow_unknown": true, "schema": {"x": {"type": "dict", "schema": {}}}}});
        assert_tree(schema, json!({"a": {"q": 1, "x": {"r": 1}}}), json!({}));
        // allow_unknown of a list field does not reach its items (Cerberus' behaviour).
        assert_tree(
            json!({"a": {"type": "list", "allow_unknown": true, "schema": {"type": "dict", "schema": {}}}}),
            json!({"a": [{"q": 1}]}),
            json!({"a": [{"0": [{"q": ["unknown field"]}]}]}),
        );
        assert_tree(
            json!({"a": {"type": "dict", "require_all": true, "schema": {"x": {}, "y": {"required": false}}}}),
            json!({"a": {}}),
            json!({"a": [{"x": ["required field"]}]}),
        );
    }

    #[test]
    fn defaults_and_readonly() {
        assert_tree(
            json!({"a": {"default": 5, "type": "string", "required": true}}),
            json!({}),
            json!({"a": ["must be of string type"]}),
        );
        assert_tree(json!({"a": {"default": 5}}), json!({"a": null}), json!({}));
        assert_tree(
            json!({"a": {"default": 5, "required": true}}),
            json!({}),
            json!({}),
        );
        assert_tree(
            json!({"a": {"readonly": true, "type": "string"}}),
            json!({"a": 1}),
            json!({"a": ["field is read-only"]}),
        );
        assert_tree(
            json!({"a": {"readonly": true, "nullable": false}}),
            json!({"a": null}),
            json!({"a": ["null value not allowed", "field is read-only"]}),
        );
        assert_tree(
            json!({"a": {"type": "list", "schema": {"type": "dict", "schema": {"x": {"readonly": true, "type": "string"}}}}}),
            json!({"a": [{"x": 1}]}),
            json!({"a": [{"0": [{"x": ["must be of string type", "field is read-only"]}]}]}),
        );
        assert_tree(
            json!({"a": {"keysrules": {"readonly": true}}}),
            json!({"a": {"x": 1}}),
            json!({"a": [{"x": ["field is read-only"]}]}),
        );
    }

    #[test]
    fn python_renderings() {
        assert_eq!(py_float_repr(1.0), "1.0");
        assert_eq!(py_float_repr(1.5e-5), "1.5e-05");
        assert_eq!(py_float_repr(1e16), "1e+16");
        assert_eq!(py_float_repr(123456789.125), "123456789.125");
        assert_eq!(py_float_repr(-0.0001), "-0.0001");
        assert_eq!(
            py_float_repr(1.2345678901234568e17),
            "1.2345678901234568e+17"
        );
        assert_eq!(py_float_repr(0.1), "0.1");
        assert_eq!(py_repr_str("it's"), "\"it's\"");
        assert_eq!(py_repr_str("c'd\"e"), "'c\\'d\"e'");
        assert_eq!(py_repr_str("\n\u{1}é\u{a0}"), "'\\n\\x01é\\xa0'");
        assert_eq!(
            py_repr(&json!({"a": [1, 2.0, null, true, "x"]}), 0),
            "{'a': [1, 2.0, None, True, 'x']}"
        );
    }

    #[test]
    fn compile_errors_point_at_tokens() {
        let errs = compile_errors(json!({
            "age": {"type": "integr", "requird": true},
            "tags": {"type": "list", "items": [{"type": "string"}, {"minlength": "2"}]},
            "code": {"regex": "(", "allowed": "x"},
            "n": {"nullable": 1, "anyof": []},
            "k": {"keyschema": {"type": "string"}, "keysrules": {}},
            "d": "string"
        }));
        let expected = vec![
            (
                "age.type",
                "unsupported type 'integr' (did you mean 'integer'?)",
            ),
            (
                "age.requird",
                "unknown rule 'requird' (did you mean 'required'?)",
            ),
            ("tags.items.1.minlength", "must be of integer type"),
            ("code.regex", ""),
            ("code.allowed", "must be of list type"),
            ("n.nullable", "must be of boolean type"),
            ("n.anyof", "rule 'anyof' is not supported by flowyt"),
            (
                "k.keyschema",
                "'keyschema' is the old name of 'keysrules', which is also given",
            ),
            ("d", "must be of dict type"),
        ];
        assert_eq!(errs.len(), expected.len(), "{errs:?}");
        for ((path, message), (want_path, want_message)) in errs.iter().zip(expected) {
            assert_eq!(path, want_path);
            if want_message.is_empty() {
                assert!(message.starts_with("invalid regex"), "{message}");
            } else {
                assert_eq!(message, want_message);
            }
        }
        assert_eq!(
            compile_errors(json!({"l": {"type": "list", "schema": {"n": {"typo": 1}}}})),
            vec![(
                "l.schema.n.typo".to_owned(),
                "unknown rule 'typo' (did you mean 'type'?)".to_owned()
            )]
        );
        assert_eq!(
            compile_errors(json!([])),
            vec![(String::new(), "must be of dict type".to_owned())]
        );
        assert_eq!(
            compile_errors(json!({"a": {"zzzzzz": 1}})),
            vec![("a.zzzzzz".to_owned(), "unknown rule 'zzzzzz'".to_owned())]
        );
    }

    #[test]
    fn depth_limits() {
        // A schema chain of nested dicts just under the limit compiles and validates.
        let mut schema = json!({"type": "integer"});
        let mut doc = json!(1);
        for _ in 0..31 {
            schema = json!({"type": "dict", "schema": {"x": schema}});
            doc = json!({ "x": doc });
        }
        let compiled = Schema::compile(&json!({ "x": schema })).expect("compiles");
        assert!(compiled.validate(&json!({ "x": doc })).is_ok());

        let mut too_deep = json!({});
        for _ in 0..MAX_SCHEMA_DEPTH {
            too_deep = json!({ "schema": too_deep });
        }
        let errs = compile_errors(json!({ "x": too_deep }));
        assert_eq!(errs.len(), 1);
        assert!(errs[0].1.contains("nested too deeply"));

        let mut deep_doc = json!(1);
        for _ in 0..=MAX_DOCUMENT_DEPTH {
            deep_doc = json!([deep_doc]);
        }
        assert_tree(
            json!({"a": {}}),
            json!({ "a": deep_doc }),
            json!({"document": ["document is nested too deeply"]}),
        );
    }

    #[test]
    fn deepest_schema_and_document_fit_in_a_small_stack() {
        // Lists of lists: one validator level per JSON level, the deepest recursion there is.
        // A default at the bottom forces the normalization pass too.
        let levels = MAX_SCHEMA_DEPTH - 2;
        let mut schema = json!({"type": "integer", "default": 0});
        let mut doc = json!("not an integer");
        for _ in 0..levels {
            schema = json!({"type": "list", "schema": schema});
            doc = json!([doc]);
        }
        let schema = json!({ "a": schema });
        let doc = json!({ "a": doc });
        let run = move || {
            let compiled = Schema::compile(&schema).expect("compiles");
            compiled.validate(&doc).map_err(Value::Object)
        };
        let result = std::thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(run)
            .expect("thread")
            .join()
            .expect("no stack overflow");
        let tree = result.expect_err("the innermost value is not an integer");
        let mut node = &tree["a"];
        for _ in 0..levels {
            node = &node[0]["0"];
        }
        assert_eq!(node, &json!(["must be of integer type"]));
    }

    #[test]
    fn large_documents_stay_fast() {
        // 20,000 unknown fields plus errors with equal paths (dependencies), and a list of
        // 20,000 items whose rules look up siblings: no quadratic behaviour.
        let schema = Schema::compile(&json!({
            "a": {"dependencies": ["p", "q", "r"]},
            "l": {"type": "list", "schema": {"excludes": "x", "required": true, "dependencies": "y",
                                             "allowed": [1]}},
        }))
        .expect("compiles");
        let mut doc = Map::new();
        doc.insert("a".into(), json!(1));
        for i in 0..20_000 {
            doc.insert(format!("f{i}"), json!(i));
        }
        doc.insert(
            "l".into(),
            Value::Array((0..20_000).map(|i| json!(i)).collect()),
        );
        let started = std::time::Instant::now();
        let tree = schema.validate(&Value::Object(doc)).expect_err("fails");
        assert!(
            started.elapsed().as_secs() < 20,
            "took {:?}",
            started.elapsed()
        );
        assert_eq!(tree.len(), 20_002);
        assert_eq!(tree["a"].as_array().map(Vec::len), Some(3));
        let items = tree["l"][0].as_object().expect("per-item errors");
        assert_eq!(items.len(), 20_000);
        assert_eq!(
            items["5"],
            json!(["unallowed value 5", "field 'y' is required"])
        );
    }

    #[test]
    fn ambiguous_schema_chain_compiles_quickly() {
        // Every level reads both as a mapping and as a rules set: memoization keeps it linear.
        let mut schema = json!({});
        for _ in 0..60 {
            schema = json!({ "schema": schema });
        }
        assert!(Schema::compile(&json!({ "f": schema })).is_ok());
    }

    #[test]
    fn schema_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Schema>();
    }
}
