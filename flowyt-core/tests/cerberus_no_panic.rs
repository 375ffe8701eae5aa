//! Property tests: compiling and validating never panic, whatever the JSON.

use flowyt_core::cerberus::Schema;
use proptest::prelude::*;
use serde_json::{Map, Number, Value, json};

const WORDS: &[&str] = &[
    "a",
    "b",
    "x",
    "^a",
    "a.b",
    "",
    "type",
    "schema",
    "items",
    "required",
    "nullable",
    "empty",
    "minlength",
    "maxlength",
    "min",
    "max",
    "allowed",
    "forbidden",
    "regex",
    "dependencies",
    "excludes",
    "contains",
    "readonly",
    "default",
    "meta",
    "keysrules",
    "valuesrules",
    "keyschema",
    "valueschema",
    "allow_unknown",
    "require_all",
    "anyof",
    "string",
    "integer",
    "float",
    "number",
    "boolean",
    "dict",
    "list",
    "date",
    "datetime",
    "container",
    "binary",
    "set",
    "[a-z]+",
    "a|b",
    "(",
    "\\Z",
    "é",
    "it's",
    "2024-01-31",
    "2024-01-31T10:00:00Z",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(WORDS).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<u64>().prop_map(|u| json!(u)),
        (-3i64..4).prop_map(|i| json!(i)),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        word().prop_map(Value::String),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 96, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((word(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Rules sets that usually compile, to reach the validator's code paths.
fn arb_rules() -> impl Strategy<Value = Value> {
    let simple = prop_oneof![
        prop::sample::select(
            &[
                "string",
                "integer",
                "float",
                "number",
                "boolean",
                "dict",
                "list",
                "date",
                "datetime",
                "container"
            ][..]
        )
        .prop_map(|t| ("type", json!(t))),
        Just(("type", json!(["integer", "string"]))),
        any::<bool>().prop_map(|b| ("required", json!(b))),
        any::<bool>().prop_map(|b| ("nullable", json!(b))),
        any::<bool>().prop_map(|b| ("empty", json!(b))),
        any::<bool>().prop_map(|b| ("readonly", json!(b))),
        (0i64..4).prop_map(|n| ("minlength", json!(n))),
        (0i64..4).prop_map(|n| ("maxlength", json!(n))),
        leaf()
            .prop_filter("not null", |v| !v.is_null())
            .prop_map(|v| ("min", v)),
        leaf()
            .prop_filter("not null", |v| !v.is_null())
            .prop_map(|v| ("max", v)),
        prop::collection::vec(leaf(), 1..4).prop_map(|v| ("allowed", Value::Array(v))),
        prop::collection::vec(leaf(), 1..4).prop_map(|v| ("forbidden", Value::Array(v))),
        prop::sample::select(&["[a-z]+", "a|b", "x$", "\\d+\\Z", ".*"][..])
            .prop_map(|r| ("regex", json!(r))),
        prop::sample::select(&["a", "^b", "a.b", "^^x"][..])
            .prop_map(|d| ("dependencies", json!(d))),
        Just(("dependencies", json!(["a", "b", "c"]))),
        Just(("dependencies", json!({"a": [1, "x"], "b": null}))),
        Just(("excludes", json!(["a", "b", 0]))),
        leaf()
            .prop_filter("non-empty", |v| !v.is_null() && v != &json!(""))
            .prop_map(|v| ("contains", v)),
        arb_json().prop_map(|v| ("default", v)),
        any::<bool>().prop_map(|b| ("allow_unknown", json!(b))),
        any::<bool>().prop_map(|b| ("require_all", json!(b))),
    ];
    let flat = prop::collection::vec(simple, 0..5).prop_map(|rules| {
        Value::Object(rules.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    });
    flat.prop_recursive(4, 48, 4, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(outer, sub)| with(outer, "schema", sub)),
            (
                inner.clone(),
                prop::collection::vec(
                    (prop::sample::select(&["a", "b", "x"][..]), inner.clone()),
                    0..4
                )
            )
                .prop_map(|(outer, fields)| {
                    let mapping: Map<String, Value> =
                        fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
                    with(outer, "schema", Value::Object(mapping))
                }),
            (inner.clone(), prop::collection::vec(inner.clone(), 1..3))
                .prop_map(|(outer, items)| with(outer, "items", Value::Array(items))),
            (inner.clone(), inner.clone()).prop_map(|(outer, sub)| with(outer, "keysrules", sub)),
            (inner.clone(), inner).prop_map(|(outer, sub)| with(outer, "valuesrules", sub)),
        ]
    })
}

fn with(mut rules: Value, rule: &str, value: Value) -> Value {
    if let Value::Object(map) = &mut rules {
        map.insert(rule.to_owned(), value);
    }
    rules
}

fn arb_schema() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (prop::sample::select(&["a", "b", "c", "x"][..]), arb_rules()),
        0..5,
    )
    .prop_map(|fields| Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics(schema in arb_json(), document in arb_json()) {
        if let Ok(schema) = Schema::compile(&schema) {
            let _ = schema.validate(&document);
        }
    }

    #[test]
    fn plausible_schemas_never_panic(schema in arb_schema(), documents in prop::collection::vec(arb_json(), 1..4)) {
        if let Ok(compiled) = Schema::compile(&schema) {
            for document in &documents {
                let _ = compiled.validate(document);
                // Documents shaped like the schema reach deeper rules.
                let shaped = Value::Object(
                    schema.as_object().into_iter().flatten().map(|(k, _)| (k.clone(), document.clone())).collect(),
                );
                let _ = compiled.validate(&shaped);
            }
        }
    }

    #[test]
    fn errors_are_well_formed(schema in arb_schema(), document in arb_json()) {
        if let Ok(compiled) = Schema::compile(&schema)
            && let Err(tree) = compiled.validate(&document)
        {
            prop_assert!(!tree.is_empty());
            for list in tree.values() {
                prop_assert!(well_formed(list));
            }
        }
    }
}

/// Every error list is non-empty messages, with at most one sub-tree, last.
fn well_formed(list: &Value) -> bool {
    let Some(items) = list.as_array() else {
        return false;
    };
    if items.is_empty() {
        return false;
    }
    let (last, init) = items.split_last().expect("non-empty");
    init.iter().all(Value::is_string)
        && match last {
            Value::String(_) => true,
            Value::Object(sub) => !sub.is_empty() && sub.values().all(well_formed),
            _ => false,
        }
}

#[test]
fn most_plausible_schemas_compile() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = arb_schema();
    let mut compiled = 0;
    for _ in 0..200 {
        let schema = strategy.new_tree(&mut runner).expect("tree").current();
        if Schema::compile(&schema).is_ok() {
            compiled += 1;
        }
    }
    assert!(
        compiled > 100,
        "only {compiled} of 200 generated schemas compiled"
    );
}
