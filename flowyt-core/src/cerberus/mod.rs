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

mod compile;
mod dependencies;
mod errors;
mod model;
mod nested;
mod normalize;
mod python;
mod ranges;
mod render;
mod types;
mod validate;
mod values;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use compile::{Compiler, schema_too_deep};
use errors::{ErrorList, Key};
#[doc(hidden)]
pub use model::{Kind as RuleKind, Mapping, Rule, RuleName, Rules, SubSchema};
use normalize::{NormDoc, normalize_level};
use python::py_str;
use render::render;
#[doc(hidden)]
pub use types::TypeName;
use validate::{Ctx, Level, LevelSchema, document_too_deep, validate_level};

/// Deepest nesting of JSON objects and arrays accepted in a schema. Validation recurses once
/// per nested sub-schema, so this bounds its stack use.
pub const MAX_SCHEMA_DEPTH: usize = 64;

/// Deepest nesting of JSON objects and arrays accepted in a document (the same limit as
/// `serde_json`'s parser).
pub const MAX_DOCUMENT_DEPTH: usize = 128;

/// Key of the error tree under which document-level problems (missing body, not an object,
/// nested too deeply) are reported.
pub const DOCUMENT_KEY: &str = "document";

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
    pub(crate) root: Arc<Mapping>,
    /// Whether a `default` or a `readonly` appears: only then is the normalization pass needed.
    pub(crate) normalize: bool,
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
