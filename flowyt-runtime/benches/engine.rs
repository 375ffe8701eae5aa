//! Criterion benchmarks: per-action overhead of the engine and template evaluation.
//! Run: `cargo bench -p flowyt-runtime --bench engine`.

use criterion::{Criterion, criterion_group, criterion_main};
use flowyt_runtime::core::expr::{Scope, Template};
use flowyt_runtime::{Engine, RunInput};
use serde_json::{Value, json};
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
    let cases = [
        ("render path", "${request.qs.user}"),
        (
            "render url",
            "${env.baseUrl}/users/${request.qs.user}/repos?sort=updated",
        ),
        (
            "render conditional",
            "${'yes' if request.qs.flag == 'true' else 'no'}",
        ),
        (
            "render comprehension",
            "${[s for s in request.data if s.ok == 'true']}",
        ),
        ("render arithmetic", "${10 * 5 / 2 + len(request.data)}"),
    ];
    for (name, src) in cases {
        let t = Template::parse(src).expect("parses");
        g.bench_function(name, |b| b.iter(|| t.render(black_box(&ctx))));
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
    for n in [1usize, 10, 100] {
        let mut pipeline: Vec<Value> = (0..n)
            .map(|i| json!({"id": format!("a{i}"), "action": "flow_var", "data": {"x": "${request.qs.user}"}, "next_action": format!("a{}", i + 1)}))
            .collect();
        pipeline.push(json!({"id": format!("a{n}"), "action": "response", "data": {"data": {"v": "${flow.x}"}}, "next_action": null}));
        let flow = engine
            .flow_from_json(&json!({"pipeline": pipeline}).to_string())
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

criterion_group!(benches, templates, actions);
criterion_main!(benches);
