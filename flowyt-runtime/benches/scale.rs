//! Scale curves: how a run's cost grows with the flow, the upstream body and the fan-out.
//!
//! - flow length: 1, 10, 100 and 1,000 in-memory actions (`flow_var` chains), run in-process;
//! - upstream body: 1 KiB to 10 MiB passed through a `request` → `response` flow over
//!   loopback, with the time per request and the process's peak memory; then a body larger
//!   than the 32 MiB upstream limit, which is refused without being buffered whole;
//! - `parallel` fan-out: 1 to 100 branches against an upstream that answers after 100 ms.
//!
//! Run: `cargo bench -p flowyt-runtime --bench scale`.

mod common;
use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use common::spawn;
use flowyt_runtime::{Engine, RunInput};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// This process's peak resident memory, in MiB.
fn peak_rss_mib() -> f64 {
    common::peak_rss_mib("/proc/self/status")
}

/// A JSON array of strings weighing about `bytes`.
fn body_of(bytes: usize) -> bytes::Bytes {
    let item = format!("\"{}\"", "x".repeat(62));
    let n = (bytes / (item.len() + 1)).max(1);
    let mut out = String::with_capacity(bytes + 2);
    out.push('[');
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&item);
    }
    out.push(']');
    bytes::Bytes::from(out)
}

/// The median of `runs` timings of `f`.
async fn median<F, Fut>(runs: usize, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f().await;
        times.push(t.elapsed());
    }
    times.sort_unstable();
    times[times.len() / 2]
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("scale curves: run with `cargo bench -p flowyt-runtime --bench scale`");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let engine = Engine::new().expect("engine");

        println!("flow length (in-memory flow_var actions, then a response; median of the runs):");
        let mut previous: Option<f64> = None;
        for n in [1usize, 10, 100, 1000] {
            let flow = engine
                .service_from_json(&common::flow_var_chain(n).to_string())
                .unwrap_or_else(|e| panic!("{e}"));
            let input = RunInput {
                request: json!({"qs": {"user": "octocat"}}),
                request_id: Some("bench".into()),
                ..RunInput::default()
            };
            let runs = (20_000 / n).clamp(50, 5_000);
            let t = median(runs, || {
                let flow = flow.clone();
                let input = input.clone();
                async move {
                    let _ = flow.run(input).await;
                }
            })
            .await;
            let us = t.as_secs_f64() * 1e6;
            let growth = previous.map_or(String::new(), |p| format!("  ({:.1}x the previous, 10x the actions)", us / p));
            println!("  {n:>5} actions: {us:>9.1} µs per run, {:>6.2} µs per action{growth}", us / (n + 1) as f64);
            previous = Some(us);
        }

        println!();
        println!("upstream body passed through request → response (loopback; median of the requests):");
        let sizes = [1usize << 10, 16 << 10, 256 << 10, 1 << 20, 10 << 20];
        let bodies: Vec<bytes::Bytes> = sizes.iter().map(|s| body_of(*s)).collect();
        let served = bodies.clone();
        let too_large = body_of(40 << 20);
        let up = spawn(Router::new().route(
            "/body/{i}",
            get(move |Path(i): Path<String>| {
                let body = match i.parse::<usize>() {
                    Ok(i) => served[i].clone(),
                    Err(_) => too_large.clone(),
                };
                async move { ([("content-type", "application/json")], body) }
            }),
        ))
        .await;
        let mut settings = flowyt_runtime::Settings::default();
        settings.env.insert("up".into(), Value::String(format!("http://{up}")));
        let pass = engine
            .service(
                flowyt_runtime::core::model::Flow::from_json_named(
                    "pass.json",
                    &json!({"pipeline": [
                        {"id": "call", "action": "request", "data": {"url": "${env.up}/body/${request.params.what}", "method": "get", "next_action_success": "ok", "next_action_fail": "ko"}, "next_action": "${pipeline.next_action}"},
                        {"id": "ok", "action": "response", "data": {"data": "${response.data}"}, "next_action": null},
                        {"id": "ko", "action": "response", "data": {"status": 502, "data": {"error": "${response.data}"}}, "next_action": null}
                    ]})
                    .to_string(),
                    &engine.catalog(),
                )
                .unwrap_or_else(|e| panic!("{e}")),
                settings,
            );
        let app = Router::new().route("/pass/{what}", get(pass));
        let base = format!("http://{}", spawn(app).await);
        let client = flowyt_runtime::http_client().expect("client");
        let mut previous: Option<(usize, f64)> = None;
        for (i, size) in sizes.iter().enumerate() {
            let url = format!("{base}/pass/{i}");
            let expected = bodies[i].len();
            let runs = (64usize << 20) / size;
            let t = median(runs.clamp(5, 2000), || {
                let (client, url) = (client.clone(), url.clone());
                async move {
                    let got = client.get(&url).send().await.expect("pass").bytes().await.expect("body");
                    assert_eq!(got.len(), expected);
                }
            })
            .await;
            let ms = t.as_secs_f64() * 1e3;
            let growth = previous.map_or(String::new(), |(s, p)| format!("  ({:.1}x the time for {:.0}x the bytes)", ms / p, *size as f64 / s as f64));
            println!("  {:>8} KiB: {ms:>8.3} ms per request, {:>7.1} MB/s, process peak RSS {:>6.1} MiB{growth}", size >> 10, *size as f64 / t.as_secs_f64() / 1e6, peak_rss_mib());
            previous = Some((*size, ms));
        }
        let before = peak_rss_mib();
        let t = Instant::now();
        let refused = client.get(format!("{base}/pass/big")).send().await.expect("too large");
        let status = refused.status();
        let text = refused.text().await.unwrap_or_default();
        assert_eq!(status, 502, "{text}");
        assert!(text.contains("body_too_large"), "{text}");
        println!(
            "  a 40 MiB body (limit 32 MiB): refused in {:.1} ms with `body_too_large`; peak RSS {before:.1} → {:.1} MiB (the upstream's copy of the body included)",
            t.elapsed().as_secs_f64() * 1e3,
            peak_rss_mib()
        );

        println!();
        println!("parallel fan-out against an upstream answering after 100 ms (median of 5):");
        let slow = spawn(Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                axum::Json(json!({"ok": true}))
            }),
        ))
        .await;
        for k in [1usize, 10, 100] {
            let branches: serde_json::Map<String, Value> = (0..k)
                .map(|i| (format!("b{i}"), json!({"url": format!("http://{slow}/slow")})))
                .collect();
            let flow = engine
                .service_from_json(
                    &json!({"pipeline": [
                        {"id": "p", "action": "parallel", "data": {"branches": branches, "next_action_success": "ok", "next_action_fail": "ko"}, "next_action": "${pipeline.next_action}"},
                        {"id": "ok", "action": "response", "data": {"data": {"n": "${len(response.data)}"}}, "next_action": null},
                        {"id": "ko", "action": "response", "data": {"status": 502, "data": {"failed": "${response.failed}"}}, "next_action": null}
                    ]})
                    .to_string(),
                )
                .unwrap_or_else(|e| panic!("{e}"));
            let t = median(5, || {
                let flow = flow.clone();
                async move {
                    let got = flow.run(RunInput::default()).await;
                    assert!(matches!(got.outcome, flowyt_runtime::Outcome::Response { status: 200, .. }), "{:?}", got.outcome);
                }
            })
            .await;
            println!("  {k:>4} branches: {:>7.1} ms wall ({:.2}x one upstream latency)", t.as_secs_f64() * 1e3, t.as_secs_f64() / 0.1);
        }
    });
}
