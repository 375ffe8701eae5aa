//! Allocations per request: the GitHub-search job through the tuned hand-written proxy, the
//! JSON flow and the `flow!` flow, in one process with a counting global allocator, one
//! request at a time over loopback (client, servers and upstream all count; they are the
//! same for every target, so the difference is the engine's).
//!
//! Run: `cargo bench -p flowyt-runtime --bench allocs`.

mod common;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::spawn;
use flowyt_runtime::Engine;
use serde_json::{Value, json};
use std::collections::HashMap;

#[global_allocator]
static GLOBAL: &stats_alloc::StatsAlloc<std::alloc::System> = &stats_alloc::INSTRUMENTED_SYSTEM;

/// Allocations and bytes allocated so far.
fn counts() -> (u64, u64) {
    let s = GLOBAL.stats();
    (
        (s.allocations + s.reallocations) as u64,
        (s.bytes_allocated + s.bytes_reallocated.max(0) as usize) as u64,
    )
}

#[derive(Clone)]
struct Proxy {
    client: reqwest::Client,
    base: String,
}

async fn tuned(State(s): State<Proxy>, Query(q): Query<HashMap<String, String>>) -> Response {
    let user = q.get("user").map(String::as_str).unwrap_or_default();
    let url = format!("{}/users/{user}/repos?sort=updated&direction=asc", s.base);
    match s.client.get(url).send().await {
        Ok(r) => match r.bytes().await {
            Ok(body) if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_ok() => {
                ([("content-type", "application/json")], body).into_response()
            }
            _ => axum::http::StatusCode::BAD_GATEWAY.into_response(),
        },
        Err(_) => axum::http::StatusCode::BAD_GATEWAY.into_response(),
    }
}

async fn per_request(client: &reqwest::Client, url: &str, n: u64) -> (f64, f64) {
    for _ in 0..100 {
        let _ = client.get(url).send().await.expect("warm").bytes().await;
    }
    let (a0, b0) = counts();
    for _ in 0..n {
        let body = client
            .get(url)
            .send()
            .await
            .expect("request")
            .bytes()
            .await
            .expect("body");
        assert!(body.len() > 1000);
    }
    let (a1, b1) = counts();
    ((a1 - a0) as f64 / n as f64, (b1 - b0) as f64 / n as f64)
}

fn main() {
    // The hand-written baselines are applications: they choose the process's rustls provider
    // (flowyt's own clients are given theirs and never install one).
    let _ = rustls::crypto::ring::default_provider().install_default();
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let engine = Engine::new().expect("engine");
        let body = bytes::Bytes::from(
            serde_json::to_vec(&(0..30).map(|i| json!({"id": i, "name": format!("repo-{i}"), "description": "a repository"})).collect::<Vec<_>>())
                .expect("json"),
        );
        let up = spawn(Router::new().route(
            "/users/{user}/repos",
            get(move || {
                let body = body.clone();
                async move { ([("content-type", "application/json")], body) }
            }),
        ))
        .await;
        let base = format!("http://{up}");
        let proxy = Router::new()
            .route("/getReposByUser", get(tuned))
            .with_state(Proxy { client: reqwest::Client::new(), base: base.clone() });
        let proxy = format!("http://{}/getReposByUser?user=octocat", spawn(proxy).await);
        let mut settings = flowyt_runtime::Settings::default();
        settings.env.insert("baseUrl".into(), Value::String(base));
        let flow = engine
            .service(
                flowyt_runtime::core::model::Flow::from_json_named("search.json", &common::search_flow().to_string(), &engine.catalog())
                    .expect("flow"),
                settings.clone(),
            );
        let flow = format!("http://{}/getReposByUser?user=octocat", spawn(Router::new().route("/getReposByUser", get(flow))).await);
        let compiled = common::compiled_search().service_with(&engine, settings);
        let compiled = format!("http://{}/getReposByUser?user=octocat", spawn(Router::new().route("/getReposByUser", get(compiled))).await);
        let client = reqwest::Client::new();
        let n = 2000;
        let (pa, pb) = per_request(&client, &proxy, n).await;
        let (fa, fb) = per_request(&client, &flow, n).await;
        let (ca, cb) = per_request(&client, &compiled, n).await;
        println!("allocations per request (client, server and upstream in one process, {n} requests):");
        println!("tuned proxy  {pa:>7.1} allocations  {pb:>9.0} bytes");
        println!("json flow    {fa:>7.1} allocations  {fb:>9.0} bytes");
        println!("flow! flow   {ca:>7.1} allocations  {cb:>9.0} bytes");
        println!("the engine   {:>7.1} allocations  {:>9.0} bytes more per request (json flow)", fa - pa, fb - pb);
        println!("the engine   {:>7.1} allocations  {:>9.0} bytes more per request (flow! flow)", ca - pa, cb - pb);
    });
}
