//! What the code `flow!` bakes (`flowyt_core::bake`, feature `bake`) calls to rebuild a flow
//! model: the model's inner types, and constructors for the ones whose fields are private. Not
//! a stable API.

use std::sync::{Arc, OnceLock};

pub use crate::cerberus::{Mapping, Rule, RuleKind, RuleName, Rules, Schema, SubSchema, TypeName};
pub use crate::expr::{
    BinOp, CmpOp, Expr, ExprKind, Generator, Kwarg, Node, Part, PathSeg, Segment, Template, UnaryOp,
};
pub use serde_json;
use serde_json::{Map, Number, Value};

/// An expression with its tree, interpreted (no code was generated for it).
pub fn expr(src: &str, root: Node) -> Expr {
    Expr {
        src: src.into(),
        root,
        compiled: OnceLock::new(),
    }
}

/// An expression with its tree and the code generated for it, which runs instead of the tree.
pub fn compiled_expr(src: &str, root: Node, run: crate::expr::compile::CompiledFn) -> Expr {
    Expr {
        src: src.into(),
        root,
        compiled: OnceLock::from(run),
    }
}

/// A template of its parts.
pub fn template(parts: Vec<Part>) -> Template {
    Template { parts }
}

/// A compiled Cerberus schema.
pub fn schema(root: Arc<Mapping>, normalize: bool) -> Schema {
    Schema { root, normalize }
}

/// A mapping schema of its fields, with its name index.
pub fn mapping(fields: Vec<(String, Arc<Rules>)>) -> Mapping {
    let index = fields
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (name.clone(), i))
        .collect();
    Mapping { fields, index }
}

/// A `regex` rule of a pattern that compiled when the flow was checked. Should this build's
/// regex engine refuse it, the rule fails every string with the reason (no panic).
pub fn regex(source: &str) -> RuleKind {
    match regex_lite::Regex::new(source) {
        Ok(re) => RuleKind::Regex(re),
        Err(e) => RuleKind::BrokenRegex(e.to_string()),
    }
}

/// A cron schedule of its parsed fields.
pub fn cron(
    source: &str,
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    either_day: bool,
) -> crate::schedule::Cron {
    crate::schedule::Cron {
        source: source.to_owned(),
        minutes,
        hours,
        days,
        months,
        weekdays,
        either_day,
    }
}

/// A JSON float from its bits (JSON floats are finite; anything else would be `null`).
pub fn float(bits: u64) -> Value {
    Number::from_f64(f64::from_bits(bits)).map_or(Value::Null, Value::Number)
}

/// A JSON object of its members, in order.
pub fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::Object(
        members
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<Map<String, Value>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_mapping_indexes_its_fields() {
        let m = mapping(vec![
            ("a".into(), Arc::new(Rules::default())),
            ("b".into(), Arc::new(Rules::default())),
        ]);
        assert_eq!(m.index.get("b"), Some(&1));
        assert_eq!(m.index.len(), 2);
    }

    /// A pattern this build's regex engine refuses fails the rule with the reason: no panic,
    /// and no string passes unchecked.
    #[test]
    fn a_refused_regex_fails_the_rule_instead_of_panicking() {
        let kind = regex("(unclosed");
        assert!(matches!(kind, RuleKind::BrokenRegex(_)), "{kind:?}");
        let rules = Rules {
            queue: vec![Rule {
                name: RuleName::Regex,
                raw: json!("(unclosed"),
                kind,
            }],
            ..Rules::default()
        };
        let schema = schema(
            Arc::new(mapping(vec![("f".into(), Arc::new(rules))])),
            false,
        );
        let errors = schema
            .validate(&json!({"f": "x"}))
            .expect_err("the rule fails");
        let message = errors["f"][0].as_str().unwrap_or_default();
        assert!(
            message.starts_with("cannot check regex '(unclosed': "),
            "{message}"
        );
        assert_eq!(schema.validate(&json!({"f": 1})), Ok(()), "not a string");
        assert!(matches!(regex("^a+$"), RuleKind::Regex(_)));
    }

    #[test]
    fn floats_and_objects() {
        assert_eq!(float(2.5f64.to_bits()), json!(2.5));
        assert_eq!(float(f64::NAN.to_bits()), Value::Null);
        assert_eq!(
            object([("b", json!(1)), ("a", json!([]))]),
            json!({"b": 1, "a": []})
        );
        let keys: Vec<String> = object([("b", json!(1)), ("a", json!(2))])
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        assert_eq!(keys, ["b", "a"], "members keep their order");
    }
}
