//! Differential tests against Cerberus 1.3.2 itself.
//!
//! `tests/fixtures/cerberus_1_3_2.json` holds schemas, documents and the error trees that
//! Cerberus 1.3.2 produced for them (see `tests/fixtures/gen_cerberus_fixtures.py`), with
//! flowyt's decision that booleans are neither integers nor floats applied to Cerberus.
//! Key order matters, so trees are compared as serialized text.

use flowyt_core::cerberus::Schema;
use serde_json::Value;

const FIXTURES: &str = include_str!("fixtures/cerberus_1_3_2.json");

#[test]
fn matches_cerberus_1_3_2() {
    let cases: Vec<Value> = serde_json::from_str(FIXTURES).expect("fixture file is JSON");
    assert!(cases.len() > 1000, "fixture file looks truncated");
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let schema = match Schema::compile(&case["schema"]) {
            Ok(schema) => schema,
            Err(errors) => {
                failures.push(format!(
                    "case {i}: schema rejected: {errors:?}\n  {}",
                    case["schema"]
                ));
                continue;
            }
        };
        let got = match schema.validate(&case["document"]) {
            Ok(()) => "{}".to_owned(),
            Err(tree) => Value::Object(tree).to_string(),
        };
        let want = case["errors"].to_string();
        if got != want {
            failures.push(format!(
                "case {i}:\n  schema   {}\n  document {}\n  want     {want}\n  got      {got}",
                case["schema"], case["document"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures
            .iter()
            .take(15)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
