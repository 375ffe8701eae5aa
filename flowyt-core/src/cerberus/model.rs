//! The compiled form of a schema: mapping schemas, rules sets and rules.

use std::collections::HashMap;
use std::sync::Arc;

use regex_lite::Regex;
use serde_json::Value;

use super::types::TypeName;

/// A mapping schema: field name → rules, in schema order.
#[derive(Default)]
#[doc(hidden)]
pub struct Mapping {
    pub fields: Vec<(String, Arc<Rules>)>,
    pub index: HashMap<String, usize>,
}

/// The fields only: the index is derived from them (and a `HashMap` prints in no set order).
impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapping")
            .field("fields", &self.fields)
            .finish_non_exhaustive()
    }
}

impl Mapping {
    pub(super) fn get(&self, name: &str) -> Option<&Arc<Rules>> {
        self.index
            .get(name)
            .and_then(|&i| self.fields.get(i))
            .map(|(_, r)| r)
    }
}

/// The rules of one field (a Cerberus "rules set").
#[derive(Debug, Default)]
#[doc(hidden)]
pub struct Rules {
    /// Validation rules in Cerberus' evaluation order: `nullable` (always), then `readonly`,
    /// `type`, `empty` when present, then the others in definition order.
    pub queue: Vec<Rule>,
    pub nullable: bool,
    pub required: Option<bool>,
    pub readonly: bool,
    pub allow_unknown: Option<bool>,
    pub require_all: Option<bool>,
    pub default: Option<Value>,
}

impl Rules {
    pub(super) fn kind(&self, name: RuleName) -> Option<&Kind> {
        self.queue.iter().find(|r| r.name == name).map(|r| &r.kind)
    }
}

#[derive(Debug)]
#[doc(hidden)]
pub struct Rule {
    pub name: RuleName,
    /// The constraint as written in the schema, for messages.
    pub raw: Value,
    pub kind: Kind,
}

/// Both readings of a `schema` constraint that compiled: a mapping schema (for dict values)
/// and a rules set (for the items of list values). Cerberus accepts either.
#[derive(Debug, Clone)]
#[doc(hidden)]
pub struct SubSchema {
    pub mapping: Option<Arc<Mapping>>,
    pub rules: Option<Arc<Rules>>,
}

#[derive(Debug)]
#[doc(hidden)]
pub enum Kind {
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
    /// A `regex` this build's regex engine refused when a baked flow was built (the pattern
    /// compiled when the flow was checked): every string fails the rule, with the reason.
    BrokenRegex(String),
    Schema(SubSchema),
    Type(Vec<TypeName>),
    Valuesrules(Arc<Rules>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[doc(hidden)]
pub enum RuleName {
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
    pub(super) fn as_str(self) -> &'static str {
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

    pub(super) fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// Rules skipped after a `null` value (Cerberus' `_validate_nullable`).
pub(super) const NULL_DROPS: [RuleName; 13] = [
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
pub(super) const EMPTY_DROPS: [RuleName; 6] = [
    RuleName::Allowed,
    RuleName::Forbidden,
    RuleName::Items,
    RuleName::Minlength,
    RuleName::Maxlength,
    RuleName::Regex,
];

pub(super) fn mask(names: &[RuleName]) -> u32 {
    names.iter().fold(0, |m, n| m | n.bit())
}
