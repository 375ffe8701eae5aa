//! Criterion benchmarks: per-action overhead of the engine, a typed action called directly
//! and by kind name, building a flow at start-up (baked or lowered), template evaluation, and the expression evaluator on every template of
//! the legacy corpus (`fixtures/legacy`); each template interpreted and as the Rust `flow!`
//! generates for it.
//! Run: `cargo bench -p flowyt-runtime --bench engine`.

mod common;
#[path = "../tests/support/corpus.rs"]
mod corpus;
use criterion::{Criterion, criterion_group, criterion_main};
use flowyt_runtime::__private::Generated;
use flowyt_runtime::core::expr::{Scope, Template};
use flowyt_runtime::{Engine, RunInput};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::hint::black_box;

struct Ctx(Value);

impl Scope for Ctx {
    fn root(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }
    fn call(&self, _path: &[&str], _args: Vec<Value>) -> Option<Result<Value, String>> {
        None
    }
}

/// `t` with every expression running the code generated for its source in `generated`.
fn compiled(t: &Template, generated: &HashMap<&str, Generated>) -> Template {
    let out = t.clone();
    for seg in out.segments() {
        if let Some(g) = generated.get(seg.expr.source()) {
            seg.expr.attach(g);
        }
    }
    out
}

fn templates(c: &mut Criterion) {
    let ctx = Ctx(json!({
        "env": {"baseUrl": "http://127.0.0.1:8080"},
        "request": {"qs": {"user": "octocat", "flag": "true"}, "data": [{"n": 1, "ok": "true"}, {"n": 2, "ok": "false"}]},
    }));
    let mut g = c.benchmark_group("template");
    g.bench_function("parse url template", |b| {
        b.iter(|| {
            Template::parse(black_box(
                "${env.baseUrl}/users/${request.qs.user}/repos?sort=updated",
            ))
        })
    });
    // The cases, and the code `flow!` generates for them, from one file.
    let cases: serde_json::Map<String, Value> =
        serde_json::from_str(include_str!("fixtures/templates/cases.json")).expect("cases");
    let generated: HashMap<&str, Generated> =
        flowyt_runtime::__private::__compiled_templates!("benches/fixtures/templates")
            .into_iter()
            .map(|g| (g.source, g))
            .collect();
    for (name, src) in &cases {
        let t = Template::parse(src.as_str().expect("a template")).expect("parses");
        let c = compiled(&t, &generated);
        assert_eq!(t.render(&ctx), c.render(&ctx), "{name}");
        g.bench_function(name.as_str(), |b| b.iter(|| t.render(black_box(&ctx))));
        g.bench_function(format!("{name}, compiled"), |b| {
            b.iter(|| c.render(black_box(&ctx)))
        });
    }
    g.finish();
}

fn actions(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let engine = Engine::new().expect("engine");
    let mut g = c.benchmark_group("engine");
    for n in [1usize, 10, 100, 1000] {
        let flow = engine
            .service_from_json(&common::flow_var_chain(n).to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        let input = RunInput {
            request: json!({"qs": {"user": "octocat"}}),
            request_id: Some("bench".into()),
            ..RunInput::default()
        };
        g.bench_function(format!("run {n} flow_var + response"), |b| {
            b.to_async(&rt).iter(|| flow.run(input.clone()))
        });
    }
    g.finish();
}

#[derive(serde::Deserialize)]
struct Order {
    qty: u32,
    items: Vec<String>,
}

#[derive(serde::Serialize)]
struct Quote {
    total: u32,
    lines: usize,
}

#[flowyt_runtime::flow_action]
async fn price(order: Order) -> Result<Quote, String> {
    Ok(Quote {
        total: order.qty * 5,
        lines: order.items.len(),
    })
}

/// A run of a flow with a typed action: the `flow!` (its generated loop calls the action
/// directly, its templates are compiled) against its JSON twin (the engine's loop calls the
/// action by kind name through `CustomAction`, its templates are interpreted).
fn typed_actions(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let flow = flowyt_runtime::flow! {
        actions = [price];
        quote: price { qty: "${int(request.qs.qty)}", items: ["a", "b", "${request.qs.item}"] }
            -> success: ok, fail: ko;
        ok: response { data: "${response.data}" };
        ko: response { status: 422, data: "${response.data}" };
    };
    let engine = flow.register(Engine::builder()).build().expect("engine");
    let compiled = flow.service(&engine);
    let twin = engine.service_from_json(flow.json()).expect("twin");
    let input = RunInput {
        request: json!({"qs": {"qty": "3", "item": "c"}}),
        request_id: Some("bench".into()),
        ..RunInput::default()
    };
    let mut g = c.benchmark_group("typed action flow");
    g.bench_function("flow!", |b| {
        b.to_async(&rt).iter(|| compiled.run(input.clone()))
    });
    g.bench_function("JSON twin", |b| {
        b.to_async(&rt).iter(|| twin.run(input.clone()))
    });
    g.finish();
}

/// What a flow costs to build at start-up: `flow!`'s baked model (generated code constructing
/// it, plus attaching the compiled expressions) against lowering its JSON (what `flow!` did
/// before baking: parse and lower, no validation) and loading it as `flowyt serve` loads a file
/// (parse, lower and validate).
fn build(c: &mut Criterion) {
    use flowyt_runtime::core::catalog::Catalog;
    use flowyt_runtime::core::model::Flow;
    let json = common::compiled_search().json();
    let catalog = Catalog::new();
    let mut g = c.benchmark_group("flow build");
    g.bench_function("flow! (baked)", |b| b.iter(common::compiled_search));
    g.bench_function("lower its JSON", |b| {
        b.iter(|| Flow::from_validated_json("search", black_box(json), &catalog))
    });
    g.bench_function("load its JSON (lower and validate)", |b| {
        b.iter(|| Flow::from_json_named("search", black_box(json), &catalog))
    });
    g.finish();
}

/// The evaluator on the corpus's real templates: parsing all of them (load time), and
/// rendering all of them against a context shaped like a request's (run time; a template
/// reading what the context lacks fails, as it would at run time, and is counted too).
fn corpus(c: &mut Criterion) {
    let sources = corpus::templates("../fixtures/legacy");
    let parsed: Vec<Template> = sources
        .iter()
        .filter_map(|s| Template::parse(s).ok())
        .collect();
    assert!(parsed.len() > 50, "the corpus has templates");
    let ctx = Ctx(json!({
        "env": {"baseUrl": "http://127.0.0.1:8080", "API_URL": "http://127.0.0.1:8081"},
        "request": {"qs": {"user": "octocat", "id": "7"}, "params": {"id": 7}, "headers": {"authorization": "Bearer x"},
            "data": {"name": "Ada", "email": "ada@example.com", "items": [{"id": 1, "price": 2.5}, {"id": 2, "price": 4}]}},
        "flow": {"url": "http://127.0.0.1:8080/x", "count": 3, "items": [1, 2, 3]},
        "workspace": {"token": "t", "response": {"data": [{"name": "r", "stargazers_count": 3}]}},
        "response": {"status": 200, "data": {"id": 1, "items": [{"id": 1}], "name": "x"}, "headers": {"Content-Type": "application/json"}},
    }));
    let rendered = parsed.iter().filter(|t| t.render(&ctx).is_ok()).count();
    println!(
        "legacy corpus: {} templates, {} parse, {rendered} render against the bench context",
        sources.len(),
        parsed.len()
    );
    let mut g = c.benchmark_group("corpus");
    g.bench_function(format!("parse all {} templates", sources.len()), |b| {
        b.iter(|| {
            for s in &sources {
                let _ = black_box(Template::parse(black_box(s)));
            }
        })
    });
    g.bench_function(format!("render all {} templates", parsed.len()), |b| {
        b.iter(|| {
            for t in &parsed {
                let _ = black_box(t.render(black_box(&ctx)));
            }
        })
    });
    let generated: HashMap<&str, Generated> =
        flowyt_runtime::__private::__compiled_templates!("../fixtures/legacy")
            .into_iter()
            .map(|g| (g.source, g))
            .collect();
    let compiled: Vec<Template> = parsed.iter().map(|t| compiled(t, &generated)).collect();
    g.bench_function(
        format!("render all {} templates, compiled", parsed.len()),
        |b| {
            b.iter(|| {
                for t in &compiled {
                    let _ = black_box(t.render(black_box(&ctx)));
                }
            })
        },
    );
    g.finish();
}

criterion_group!(benches, templates, actions, typed_actions, build, corpus);
criterion_main!(benches);
