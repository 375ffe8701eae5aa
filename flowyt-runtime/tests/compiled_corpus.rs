//! The Rust `flow!` generates for an expression gives what the interpreter gives, on every
//! `${...}` of the legacy corpus (`fixtures/legacy`) and of `tests/fixtures/expressions` (every
//! operator, access, literal and call form, over values of every type): the same values, the
//! same errors at the same places, against contexts where the templates' reads resolve, are
//! missing, or have other types, and with a step budget that runs out.

#[path = "support/corpus.rs"]
mod corpus;

use flowyt_runtime::__private::Generated;
use flowyt_runtime::core::expr::{EvalLimits, Scope, Template};
use serde_json::{Value, json};
use std::collections::HashMap;

struct Ctx(Value);

impl Scope for Ctx {
    fn root(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    fn call(&self, path: &[&str], args: Vec<Value>) -> Option<Result<Value, String>> {
        match path.last() {
            Some(&"fails") => Some(Err("it failed".into())),
            Some(_) if path.len() > 1 => Some(Ok(json!({"called": path.join("."), "args": args}))),
            _ => None,
        }
    }

    fn call_name(&self, name: &str, args: Vec<Value>) -> Option<Result<Value, String>> {
        (name == "env").then(|| Ok(json!(format!("env:{args:?}"))))
    }
}

/// Contexts a template meets: reads that resolve (strings, numbers, lists, dicts), the same
/// roots with other types, and nothing at all.
fn contexts() -> Vec<Ctx> {
    let full = json!({
        "env": {"baseUrl": "http://127.0.0.1:8080", "API_URL": "http://127.0.0.1:8081", "token": "t"},
        "request": {"qs": {"user": "octocat", "id": "7", "q": "a b"}, "params": {"id": 7},
            "headers": {"authorization": "Bearer x"},
            "data": {"name": "Ada", "email": "ada@example.com", "id": 3, "cpf": "123",
                "items": [{"id": 1, "price": 2.5}, {"id": 2, "price": 4}]}},
        "flow": {"url": "http://127.0.0.1:8080/x", "count": 3, "items": [1, 2, 3]},
        "workspace": {"token": "t", "response": {"data": [{"name": "r", "stargazers_count": 3}]}},
        "response": {"status": 200, "data": {"id": 1, "items": [{"id": 1}], "name": "x",
            "data": [{"a": 1}], "results": [1, 2]}, "headers": {"Content-Type": "application/json"}},
        "params": {"n": 2},
        "pipeline": {"next_action": "2"},
    });
    // Every leaf of `full` replaced: strings by numbers, numbers by strings, lists by dicts.
    fn swap(v: &Value) -> Value {
        match v {
            Value::String(s) => json!(s.len()),
            Value::Number(n) => json!(n.to_string()),
            Value::Bool(b) => json!(!b),
            Value::Null => json!([]),
            Value::Array(items) => Value::Object(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (i.to_string(), swap(v)))
                    .collect(),
            ),
            Value::Object(m) => {
                Value::Object(m.iter().map(|(k, v)| (k.clone(), swap(v))).collect())
            }
        }
    }
    let swapped = swap(&full);
    vec![Ctx(full), Ctx(swapped), Ctx(json!({}))]
}

#[test]
fn generated_code_gives_what_the_interpreter_gives_on_the_legacy_corpus() {
    let generated = flowyt_runtime::__private::__compiled_templates!("../fixtures/legacy");
    let (compiled, segments) = compare(&generated, &corpus::templates("../fixtures/legacy"));
    assert!(segments > 200, "the corpus has its templates: {segments}");
    // The corpus holds no comprehension or lambda.
    assert_eq!(compiled, segments);
}

#[test]
fn generated_code_gives_what_the_interpreter_gives_on_every_form() {
    let generated = flowyt_runtime::__private::__compiled_templates!("tests/fixtures/expressions");
    let (compiled, segments) =
        compare(&generated, &corpus::templates("tests/fixtures/expressions"));
    assert!(segments > 150, "{segments}");
    // All but the two that bind a local named `function`.
    assert_eq!(compiled, segments - 2);
}

/// Renders each template interpreted and compiled, in every context, and compares; returns
/// how many expressions compiled and how many there are.
fn compare(generated: &[Generated], sources: &[String]) -> (usize, usize) {
    let by_source: HashMap<&str, &Generated> = generated.iter().map(|g| (g.source, g)).collect();
    let (mut segments, mut compiled) = (0, 0);
    let tight = EvalLimits {
        max_steps: 20,
        ..EvalLimits::default()
    };
    for src in sources {
        let Ok(interpreted) = Template::parse(src) else {
            continue;
        };
        let generated = interpreted.clone();
        for seg in generated.segments() {
            segments += 1;
            assert_eq!(
                by_source.contains_key(seg.expr.source()),
                seg.expr.to_rust().is_some(),
                "`{}`: generated code exactly when it compiles",
                seg.expr.source()
            );
            if let Some(g) = by_source.get(seg.expr.source()) {
                assert!(seg.expr.attach(g), "`{}`: the same tree", seg.expr.source());
                compiled += 1;
            }
        }
        for ctx in contexts() {
            for limits in [ctx.limits(), tight] {
                let want = interpreted.render_with(&ctx, &limits);
                let got = generated.render_with(&ctx, &limits);
                assert_eq!(format!("{got:?}"), format!("{want:?}"), "`{src}`");
            }
            let want = interpreted.render_url(&ctx);
            let got = generated.render_url(&ctx);
            assert_eq!(format!("{got:?}"), format!("{want:?}"), "`{src}` as a URL");
        }
    }
    (compiled, segments)
}
