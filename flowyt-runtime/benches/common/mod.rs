//! Helpers the benchmarks share: serving a router on loopback and reading peak memory.

#![allow(dead_code)]

use axum::Router;
use std::net::SocketAddr;

/// Serves `app` on a free loopback port.
pub async fn spawn(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// The peak resident memory (VmHWM) in a `/proc/<pid>/status` file, in MiB.
pub fn peak_rss_mib(status_file: &str) -> f64 {
    std::fs::read_to_string(status_file)
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// A flow of `n` `flow_var` actions reading `request.qs.user`, then a response.
pub fn flow_var_chain(n: usize) -> serde_json::Value {
    let mut pipeline: Vec<serde_json::Value> = (0..n)
        .map(|i| serde_json::json!({"id": format!("a{i}"), "action": "flow_var", "data": {"x": "${request.qs.user}"}, "next_action": format!("a{}", i + 1)}))
        .collect();
    pipeline.push(serde_json::json!({"id": format!("a{n}"), "action": "response", "data": {"data": {"v": "${flow.x}"}}, "next_action": null}));
    serde_json::json!({ "pipeline": pipeline })
}
