//! Legacy corpus flows that can run offline, run as they are (their upstreams replaced by a
//! local server), giving the responses the spec predicts.

mod support;

use flowyt_runtime::core::workspace::{Workspace as CoreWorkspace, read_dir};
use flowyt_runtime::{Engine, MASKED_ERROR, RunInput, Strictness, Workspace};
use serde_json::{Value, json};
use std::path::PathBuf;
use support::*;

fn corpus() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/legacy");
    assert!(dir.is_dir(), "{} is missing", dir.display());
    dir
}

/// Loads a corpus workspace as `flowyt serve` would, with `env` keys overridden.
fn load(engine: &Engine, rel: &str, env: Value) -> Workspace {
    let dir = corpus().join(rel);
    let mut sources = read_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    if let Some((_, text)) = &mut sources.settings {
        let mut settings: Value = serde_json::from_str(text).expect("settings are JSON");
        if let (Some(Value::Object(e)), Value::Object(over)) = (settings.get_mut("env"), env) {
            e.extend(over);
        }
        *text = settings.to_string();
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let loaded = CoreWorkspace::from_sources(
        &name,
        &sources,
        &engine.catalog(),
        Strictness::Legacy,
        &|_| None,
    )
    .unwrap_or_else(|e| panic!("{rel} should load:\n{e}"));
    engine.workspace(loaded.workspace)
}

#[tokio::test]
async fn docs_example_fails_cleanly_on_its_dangling_id() {
    let engine = Engine::new().expect("engine");
    let ws = load(
        &engine,
        "flowyt-engine/docs/examples/workspaces/example",
        json!({}),
    );
    let served = serve(&ws).await;
    let got = served.get("/example").await;
    assert_eq!(
        (got.status, got.json()),
        (500, json!({"exception": MASKED_ERROR}))
    );
}

#[tokio::test]
async fn docs_github_search_runs_with_a_rust_replacement_for_its_python_function() {
    let up = upstream_url().await;
    // The legacy `functions/treatment.py` cannot run; the same path is a Rust function here
    // (decision 12).
    let engine = Engine::builder()
        .function("treatment.get_new_data", |args| {
            let repos = args
                .first()
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            Ok(Value::Array(
                repos.iter().map(|r| r["name"].clone()).collect(),
            ))
        })
        .build()
        .expect("engine");
    let ws = load(
        &engine,
        "flowyt-engine/docs/examples/workspaces/github",
        json!({"baseUrl": up}),
    );
    let served = serve(&ws).await;
    let got = served.get("/getReposByUser?user=octocat").await;
    assert_eq!(
        (got.status, got.json()),
        (201, json!(["octocat-one", "octocat-two"]))
    );
    let got = served.get("/getReposByUser?user=nobody").await;
    assert_eq!(
        (got.status, got.json()),
        (
            400,
            json!({"msg": "Something went wrong", "data": {"message": "Not Found"}})
        )
    );
    // The workspace has `debug: true`: the header adds the trace of both flows.
    let got = served.debug_get("/getReposByUser?user=octocat").await;
    let flows: Vec<Value> = got.json()["__debug__"]["workspace"]["flows"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        flows.iter().map(|f| f["name"].clone()).collect::<Vec<_>>(),
        [json!("Github"), json!("trait")]
    );
}

#[tokio::test]
async fn v0_0_1_mercado_livre_search_runs_with_its_legacy_body_format() {
    let up = upstream_url().await;
    let engine = Engine::new().expect("engine");
    let ws = load(
        &engine,
        "flowyt-engine/workspaces_examples/mercado-livre",
        json!({"base_url": up}),
    );
    let run = |q: &str| {
        ws.run(
            "search",
            RunInput {
                request: json!({"qs": {"q": q}}),
                ..RunInput::default()
            },
        )
    };
    let result = run("phone").await;
    let flowyt_runtime::Outcome::Response { status, body, .. } = result.outcome else {
        panic!("expected a response, got {:?}", result.outcome);
    };
    assert_eq!(status, 200);
    // `json.dumps(response.data.toDict())`: the upstream data as a JSON string.
    let text = body
        .to_value()
        .as_str()
        .map(str::to_string)
        .unwrap_or_default();
    let data: Value = serde_json::from_str(&text).expect("json.dumps output parses");
    assert_eq!(data["query"], "phone");
    assert_eq!(data["site_id"], "MLB");
}

#[tokio::test]
async fn studio_export_ends_right_after_start() {
    // `start.next_action` is "" in the Studio's old export: the flow ends at once (spec §7.19).
    let text =
        std::fs::read_to_string(corpus().join("flowyt-studio-api/search.json")).expect("readable");
    let file = flowyt_runtime::core::workspace::FlowFile::parse(
        "search.json",
        &text,
        flowyt_runtime::core::validate::Context::default(),
        Strictness::Legacy,
    );
    let flow = file.flow.expect("a flow");
    let engine = Engine::new().expect("engine");
    let service = engine.service(flow, Default::default());
    let result = service.run(RunInput::default()).await;
    assert_eq!(result.outcome, flowyt_runtime::Outcome::Ended);
}
