//! Load benchmark: the GitHub-search job done three ways, driven by one load generator in one
//! run, against one local upstream.
//!
//! - `baseline`: a hand-written axum handler that calls the upstream with reqwest, parses the
//!   JSON body and re-serialises it;
//! - `json flow`: the legacy `search` flow loaded from JSON and mounted with `Workspace::router`;
//! - `compiled flow`: the same flow written with `flow!`, checked at compile time.
//!
//! Run: `cargo bench -p flowyt-runtime --bench load` (env `LOAD_SECONDS`, `LOAD_CONNECTIONS`).
//! Prints requests/s, p50 and p99 per target and the ratios to the baseline.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use flowyt_runtime::core::workspace::{Sources, Workspace as CoreWorkspace};
use flowyt_runtime::{Engine, Strictness};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

async fn spawn(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// A GitHub-like list of 30 repositories (about 6 KB of JSON).
fn repos(user: &str) -> Value {
    Value::Array(
        (0..30)
            .map(|i| {
                json!({
                    "id": 1000 + i,
                    "name": format!("repo-{i}"),
                    "full_name": format!("{user}/repo-{i}"),
                    "private": false,
                    "description": "A repository used to measure flowyt against a hand-written proxy",
                    "stargazers_count": i * 7,
                    "language": "Rust",
                    "topics": ["flows", "orchestration"],
                })
            })
            .collect(),
    )
}

async fn upstream() -> SocketAddr {
    let body = Arc::new(serde_json::to_vec(&repos("octocat")).expect("json"));
    let app = Router::new().route(
        "/users/{user}/repos",
        get(move || {
            let body = body.clone();
            async move {
                (
                    [("content-type", "application/json")],
                    body.as_ref().clone(),
                )
            }
        }),
    );
    spawn(app).await
}

#[derive(Clone)]
struct Baseline {
    client: reqwest::Client,
    base: String,
}

/// What a team writes by hand today: call, parse, answer.
async fn baseline_handler(
    State(s): State<Baseline>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let user = q.get("user").cloned().unwrap_or_default();
    let url = format!("{}/users/{user}/repos?sort=updated&direction=asc", s.base);
    match s.client.get(url).send().await {
        Ok(r) if r.status().is_success() => match r.json::<Value>().await {
            Ok(v) => axum::Json(v).into_response(),
            Err(_) => StatusCode::BAD_GATEWAY.into_response(),
        },
        _ => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"msg": "Something went wrong"})),
        )
            .into_response(),
    }
}

fn search_flow() -> Value {
    json!({"id": "bench", "name": "Github", "pipeline": [
        {"id": "1", "action": "start", "data": {}, "next_action": "2"},
        {"id": "2", "action": "flow_var", "data": {"url": "${env.baseUrl}/users/${request.qs.user}/repos?sort=updated&direction=asc"}, "next_action": "3"},
        {"id": "3", "action": "request", "data": {"url": "${flow.url}", "method": "get", "headers": {}, "next_action_success": "4", "next_action_fail": "5"}, "next_action": "${pipeline.next_action}"},
        {"id": "4", "action": "response", "data": {"status": 200, "headers": {}, "data": "${response.data}"}, "next_action": null},
        {"id": "5", "action": "response", "data": {"status": 400, "headers": {}, "data": {"msg": "Something went wrong", "data": "${response.data}"}}, "next_action": null}
    ]})
}

/// The same flow as `search_flow`, checked at compile time.
fn compiled_search() -> flowyt_runtime::CheckedFlow {
    flowyt_runtime::flow! {
        id = "bench";
        name = "Github";
        1: start -> 2;
        2: flow_var {
            url: "${env.baseUrl}/users/${request.qs.user}/repos?sort=updated&direction=asc",
        } -> 3;
        3: request { url: "${flow.url}", method: "get", headers: {} } -> success: 4, fail: 5;
        4: response { status: 200, headers: {}, data: "${response.data}" };
        5: response {
            status: 400,
            headers: {},
            data: { msg: "Something went wrong", data: "${response.data}" },
        };
    }
}

struct Stats {
    requests: u64,
    errors: u64,
    seconds: f64,
    p50: Duration,
    p99: Duration,
}

impl Stats {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// `connections` tasks, each sending requests back to back for `seconds` (after a warm-up).
async fn drive(url: &str, connections: usize, seconds: f64) -> Stats {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .expect("client");
    // Warm-up: open connections, fill caches.
    for _ in 0..connections * 4 {
        let _ = client
            .get(url)
            .send()
            .await
            .and_then(|r| r.error_for_status());
    }
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let client = client.clone();
        let url = url.to_string();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let ok = match client.get(&url).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                latencies.push(t.elapsed());
                if !ok {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            all.extend(l);
            errors += e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Stats {
        requests: all.len() as u64,
        errors,
        seconds: elapsed,
        p50: pct(0.50),
        p99: pct(0.99),
    }
}

fn ws_settings(up: &str) -> flowyt_runtime::core::workspace::Settings {
    let mut settings = flowyt_runtime::core::workspace::Settings::default();
    settings
        .env
        .insert("baseUrl".into(), Value::String(up.to_string()));
    settings
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass other flags: only run
    // the load when invoked as a benchmark.
    if !std::env::args().any(|a| a == "--bench") {
        println!("load benchmark: run with `cargo bench -p flowyt-runtime --bench load`");
        return;
    }
    let seconds: f64 = std::env::var("LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8.0);
    let connections: usize = std::env::var("LOAD_CONNECTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        // Building the engine installs rustls' ring provider, which every reqwest client here needs.
        let engine = Engine::new().expect("engine");
        let up = format!("http://{}", upstream().await);

        let client = reqwest::Client::new();
        let baseline = Router::new()
            .route("/getReposByUser", get(baseline_handler))
            .with_state(Baseline { client, base: up.clone() });
        let baseline_url = format!("http://{}/getReposByUser?user=octocat", spawn(baseline).await);

        let sources = Sources {
            settings: Some(("settings.json".into(), json!({"env": {"baseUrl": up}}).to_string())),
            flows: vec![("search".into(), "search.json".into(), search_flow().to_string())],
            routes: Some(("routes.json".into(), json!([{"method": "get", "path": "/getReposByUser", "flow": "search"}]).to_string())),
        };
        let loaded = CoreWorkspace::from_sources("github", &sources, &engine.catalog(), Strictness::Strict, &|_| None)
            .unwrap_or_else(|e| panic!("{e}"));
        let ws = engine.workspace(loaded.workspace);
        let app: Router = Router::new().nest("/github", ws.router());
        let flow_url = format!("http://{}/github/getReposByUser?user=octocat", spawn(app).await);

        let settings = ws_settings(&up);
        let compiled = compiled_search().service_with(&engine, settings);
        let app: Router = Router::new().route("/getReposByUser", get(compiled));
        let compiled_url = format!("http://{}/getReposByUser?user=octocat", spawn(app).await);

        // Same answer from both before measuring.
        let a: Value = reqwest::get(&baseline_url).await.expect("baseline").json().await.expect("json");
        let b: Value = reqwest::get(&flow_url).await.expect("flow").json().await.expect("json");
        assert_eq!(a, b, "the flow and the baseline must answer the same");
        let c: Value = reqwest::get(&compiled_url).await.expect("compiled").json().await.expect("json");
        assert_eq!(a, c, "the compiled flow and the baseline must answer the same");

        println!("load: {connections} connections, {seconds} s per target, 2-core machine, one process");
        let base = drive(&baseline_url, connections, seconds).await;
        let flow = drive(&flow_url, connections, seconds).await;
        let compiled = drive(&compiled_url, connections, seconds).await;
        let row = |name: &str, s: &Stats| {
            println!(
                "{name:<14} {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}  ({} requests)",
                s.rps(),
                s.p50.as_secs_f64() * 1e3,
                s.p99.as_secs_f64() * 1e3,
                s.errors,
                s.requests
            );
        };
        row("baseline", &base);
        row("json flow", &flow);
        row("compiled flow", &compiled);
        for (name, s) in [("json flow", &flow), ("compiled flow", &compiled)] {
            println!(
                "{name} / baseline: throughput {:.2}x, p50 {:.2}x, p99 {:.2}x",
                s.rps() / base.rps(),
                s.p50.as_secs_f64() / base.p50.as_secs_f64(),
                s.p99.as_secs_f64() / base.p99.as_secs_f64()
            );
        }
    });
}
