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

/// The GitHub-search job as a legacy JSON flow: one upstream call, its body passed through.
pub fn search_flow() -> serde_json::Value {
    serde_json::json!({"id": "bench", "name": "Github", "pipeline": [
        {"id": "1", "action": "start", "data": {}, "next_action": "2"},
        {"id": "2", "action": "flow_var", "data": {"url": "${env.baseUrl}/users/${request.qs.user}/repos?sort=updated&direction=asc"}, "next_action": "3"},
        {"id": "3", "action": "request", "data": {"url": "${flow.url}", "method": "get", "headers": {}, "next_action_success": "4", "next_action_fail": "5"}, "next_action": "${pipeline.next_action}"},
        {"id": "4", "action": "response", "data": {"status": 200, "headers": {}, "data": "${response.data}"}, "next_action": null},
        {"id": "5", "action": "response", "data": {"status": 400, "headers": {}, "data": {"msg": "Something went wrong", "data": "${response.data}"}}, "next_action": null}
    ]})
}

/// The same flow as `search_flow`, checked at compile time.
pub fn compiled_search() -> flowyt_runtime::CheckedFlow {
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
