//! The compiled form of a schema: mapping schemas, rules sets and rules.

use std::collections::HashMap;
use std::sync::Arc;

use regex_lite::Regex;
use serde_json::Value;

use super::types::TypeName;

/// A mapping schema: field name → rules, in schema order.
#[derive(Debug, Default)]
pub(super) struct Mapping {
    pub(super) fields: Vec<(String, Arc<Rules>)>,
    pub(super) index: HashMap<String, usize>,
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
pub(super) struct Rules {
    /// Validation rules in Cerberus' evaluation order: `nullable` (always), then `readonly`,
    /// `type`, `empty` when present, then the others in definition order.
    pub(super) queue: Vec<Rule>,
    pub(super) nullable: bool,
    pub(super) required: Option<bool>,
    pub(super) readonly: bool,
    pub(super) allow_unknown: Option<bool>,
    pub(super) require_all: Option<bool>,
    pub(super) default: Option<Value>,
}

impl Rules {
    pub(super) fn kind(&self, name: RuleName) -> Option<&Kind> {
        self.queue.iter().find(|r| r.name == name).map(|r| &r.kind)
    }
}

#[derive(Debug)]
pub(super) struct Rule {
    pub(super) name: RuleName,
    /// The constraint as written in the schema, for messages.
    pub(super) raw: Value,
    pub(super) kind: Kind,
}

/// Both readings of a `schema` constraint that compiled: a mapping schema (for dict values)
/// and a rules set (for the items of list values). Cerberus accepts either.
#[derive(Debug, Clone)]
pub(super) struct SubSchema {
    pub(super) mapping: Option<Arc<Mapping>>,
    pub(super) rules: Option<Arc<Rules>>,
}

#[derive(Debug)]
pub(super) enum Kind {
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
pub(super) enum RuleName {
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
