//! What an application mounts without the `flowyt` binary: the runs API with run history, and
//! the embedded Eureka-compatible registry, beside its own routes in one axum app.

mod support;

use axum::Router;
use flowyt_runtime::Workspace;
use flowyt_runtime::registry::{self, Limits, Registry};
use flowyt_runtime::runs::{self, MemoryStore, RunStore};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use support::*;

/// A workspace without routes whose flow `greet` needs the param `who`.
fn greeter() -> Workspace {
    Case::new()
        .flow(
            "greet",
            json!({"id": "g", "name": "G",
            "params": {"who": {"type": "string", "required": true}},
            "pipeline": [
                start("1", json!("2")),
                respond("2", json!({"hello": "${params.who}"}), 200)
            ]}),
        )
        .load()
}

async fn app_with(store: Arc<dyn RunStore>) -> String {
    let ws = greeter();
    let lookup = move |name: &str| (name == "ws").then(|| ws.clone());
    let runs = runs::Runs::start(store, lookup, runs::RunsOptions::default());
    let eureka = Registry::new(Limits::default());
    let app: Router = Router::new()
        .route("/own", axum::routing::get(|| async { "mine" }))
        .merge(runs::api::router(runs))
        .nest("/eureka", registry::router(eureka));
    format!("http://{}", spawn(app).await)
}

async fn wait_for_end(base: &str, run_id: &str) -> serde_json::Value {
    for _ in 0..200 {
        let run = get(&format!("{base}/_workspaces/ws/flows/greet/runs/{run_id}"))
            .await
            .json();
        if matches!(run["status"].as_str(), Some("success" | "failed")) {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("run `{run_id}` did not end");
}

async fn trigger_list_and_read(store: Arc<dyn RunStore>) {
    let base = app_with(store).await;
    assert_eq!(get(&format!("{base}/own")).await.text, "mine");
    let url = format!("{base}/_workspaces/ws/flows/greet/runs");
    let bad = post(&url, &json!({"conf": {}})).await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert_eq!(bad.json()["param"], "who");
    // Found by schemathesis: a JSON array was taken as an empty trigger (201, a run without its
    // params' checks meaning anything), and a misspelt field was silently dropped.
    for (body, says) in [
        (json!([null, null]), "JSON object"),
        (json!({"confs": {"who": "ana"}}), "unknown field `confs`"),
    ] {
        let refused = post(&url, &body).await;
        assert_eq!(refused.status, 400, "{body}: {}", refused.text);
        assert!(refused.text.contains(says), "{body}: {}", refused.text);
    }
    let ok = post(&url, &json!({"run_id": "r1", "conf": {"who": "ana"}})).await;
    assert_eq!((ok.status, ok.json()["run_id"].clone()), (201, json!("r1")));
    let dup = post(&url, &json!({"run_id": "r1", "conf": {"who": "ana"}})).await;
    assert_eq!(dup.status, 409);
    let run = wait_for_end(&base, "r1").await;
    assert_eq!(run["status"], "success");
    assert_eq!(run["result"]["data"], json!({"hello": "ana"}));
    let list = get(&url).await.json();
    assert_eq!(list["runs"].as_array().map(Vec::len), Some(1));
    let unknown = send(client().post(format!("{base}/_workspaces/nope/flows/greet/runs"))).await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn an_app_mounts_the_runs_api_with_a_memory_store() {
    trigger_list_and_read(Arc::new(MemoryStore::default())).await;
}

/// Lists come in pages of summaries; big confs are refused; old runs are pruned.
async fn pages_summaries_bounds_and_pruning(store: Arc<dyn RunStore>) {
    // Before: a listing selected every column of every run (300 large runs: 3.6 s, 500 MB).
    let base = app_with(store.clone()).await;
    let url = format!("{base}/_workspaces/ws/flows/greet/runs");
    let big = "x".repeat(20_000);
    for i in 0..5 {
        let ok = post(
            &url,
            &json!({"run_id": format!("p{i}"), "conf": {"who": big}}),
        )
        .await;
        assert_eq!(ok.status, 201, "{}", ok.text);
    }
    for i in 0..5 {
        wait_for_end(&base, &format!("p{i}")).await;
    }
    let page = get(&format!("{url}?limit=2")).await;
    assert!(
        page.text.len() < 2_000,
        "a page of summaries is small: {}",
        page.text.len()
    );
    let page = page.json();
    let ids: Vec<&str> = page["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["run_id"].as_str())
        .collect();
    assert_eq!(ids, ["p4", "p3"]);
    assert_eq!(page["next_offset"], 2);
    assert!(page["runs"][0].get("conf").is_none() && page["runs"][0].get("trace").is_none());
    let last = get(&format!("{url}?limit=2&offset=4")).await.json();
    assert_eq!(last["runs"].as_array().map(Vec::len), Some(1));
    assert_eq!(last["next_offset"], serde_json::Value::Null);
    // The whole record is one read away.
    let one = get(&format!("{url}/p0")).await.json();
    assert_eq!(one["conf"]["who"].as_str().map(str::len), Some(20_000));
    assert_eq!(get(&format!("{url}?limit=many")).await.status, 400);
    // A conf too large is refused before anything is stored.
    let huge = post(
        &url,
        &json!({"run_id": "huge", "conf": {"who": "x".repeat(70_000)}}),
    )
    .await;
    assert_eq!(huge.status, 400, "{}", huge.text);
    assert!(huge.text.contains("the limit is 65536"), "{}", huge.text);
    assert_eq!(get(&format!("{url}/huge")).await.status, 404);
    // Retention: runs that ended before the cut-off go, the others stay.
    assert_eq!(store.prune(0.0).await.expect("prune"), 0);
    assert_eq!(store.prune(runs::now() + 1.0).await.expect("prune"), 5);
    assert_eq!(get(&format!("{url}/p0")).await.status, 404);
}

#[tokio::test]
async fn lists_are_paged_summaries_with_a_memory_store() {
    pages_summaries_bounds_and_pruning(Arc::new(MemoryStore::default())).await;
}

#[cfg(feature = "sqlite")]
async fn sqlite_at(path: &std::path::Path) -> flowyt_runtime::store::SqlStore {
    let url = flowyt_runtime::store::SqlStore::sqlite_url(path);
    flowyt_runtime::store::SqlStore::connect(&url)
        .await
        .expect("opens")
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn lists_are_paged_summaries_with_sqlite() {
    let path = std::env::temp_dir().join(format!("flowyt-pages-{}.sqlite", std::process::id()));
    let _ = std::fs::remove_file(&path);
    pages_summaries_bounds_and_pruning(Arc::new(sqlite_at(&path).await)).await;
    let _ = std::fs::remove_file(&path);
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn an_app_keeps_run_history_in_sqlite() {
    let path = std::env::temp_dir().join(format!("flowyt-mount-{}.sqlite", std::process::id()));
    let _ = std::fs::remove_file(&path);
    trigger_list_and_read(Arc::new(sqlite_at(&path).await)).await;
    let reopened = sqlite_at(&path).await;
    let kept = reopened.get("ws", "greet", "r1").await.expect("reads");
    assert_eq!(kept.map(|r| r.status), Some(runs::RunStatus::Success));
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn an_app_mounts_the_registry() {
    let base = app_with(Arc::new(MemoryStore::default())).await;
    let instance = json!({"instance": {
        "instanceId": "users-1", "hostName": "localhost", "app": "USERS", "ipAddr": "127.0.0.1",
        "status": "UP", "port": {"$": 8001, "@enabled": "true"},
        "dataCenterInfo": {"@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "name": "MyOwn"}
    }});
    let reg = post(&format!("{base}/eureka/apps/users"), &instance).await;
    assert_eq!(reg.status, 204, "{}", reg.text);
    let app = send(
        client()
            .get(format!("{base}/eureka/apps/USERS"))
            .header("accept", "application/json"),
    )
    .await;
    assert_eq!(app.status, 200);
    assert_eq!(
        app.json()["application"]["instance"][0]["instanceId"],
        "users-1"
    );
}

#[tokio::test]
async fn the_runs_api_lists_across_flows_filters_by_status_and_cancels() {
    // A service that accepts connections and never answers: `hang` waits on it for 1 s.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_url = format!("http://{}/never", silent.local_addr().expect("addr"));
    let ws = Case::new()
        .flow(
            "hang",
            flow(vec![
                json!({"id": "1", "action": "request", "data": {"url": silent_url, "timeout": 1,
                    "next_action_success": "2", "next_action_fail": "2"}, "next_action": "${pipeline.next_action}"}),
                respond("2", json!("done"), 200),
            ]),
        )
        .flow("quick", flow(vec![respond("1", json!("hi"), 200)]))
        .load();
    let lookup = {
        let ws = ws.clone();
        move |name: &str| (name == "ws").then(|| ws.clone())
    };
    let queue = runs::Runs::start(
        Arc::new(MemoryStore::default()),
        lookup,
        runs::RunsOptions {
            max_running: 1,
            ..runs::RunsOptions::default()
        },
    );
    let base = format!(
        "http://{}",
        spawn(Router::new().merge(runs::api::router(queue))).await
    );
    let flow_url = |f: &str| format!("{base}/_workspaces/ws/flows/{f}/runs");
    assert_eq!(
        post(&flow_url("quick"), &json!({"run_id": "q1"}))
            .await
            .status,
        201
    );
    for _ in 0..100 {
        if get(&format!("{}/q1", flow_url("quick"))).await.json()["status"] == "success" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        post(&flow_url("hang"), &json!({"run_id": "h1"}))
            .await
            .status,
        201
    );
    for _ in 0..100 {
        if get(&format!("{}/h1", flow_url("hang"))).await.json()["status"] == "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        post(&flow_url("hang"), &json!({"run_id": "h2"}))
            .await
            .status,
        201
    );
    // Queued: cancelled at once, never starts. Running: stops at its next boundary.
    let cancel = |id: &str| {
        let url = format!("{}/{id}/cancel", flow_url("hang"));
        async move { post(&url, &json!({})).await }
    };
    let queued = cancel("h2").await;
    assert_eq!(
        (queued.status, queued.json()["status"].clone()),
        (200, json!("cancelled"))
    );
    let running = cancel("h1").await;
    assert_eq!(
        (running.status, running.json()["status"].clone()),
        (202, json!("cancelling"))
    );
    let mut h1 = json!({});
    for _ in 0..200 {
        h1 = get(&format!("{}/h1", flow_url("hang"))).await.json();
        if h1["status"] == "cancelled" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(h1["status"], "cancelled", "{h1}");
    let again = cancel("h1").await;
    assert_eq!(
        (again.status, again.json()["status"].clone()),
        (409, json!("cancelled"))
    );
    assert_eq!(cancel("nope").await.status, 404);
    let h2 = get(&format!("{}/h2", flow_url("hang"))).await.json();
    assert_eq!(
        (h2["started_at"].clone(), h2["attempts"].clone()),
        (json!(null), json!(0))
    );

    // The workspace-wide list, newest first, with ISO-8601 times beside epoch seconds.
    let all = get(&format!("{base}/_workspaces/ws/runs")).await.json();
    let ids: Vec<&str> = all["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["run_id"].as_str())
        .collect();
    assert_eq!(ids, ["h2", "h1", "q1"]);
    let first = &all["runs"][0];
    let iso = first["queued_at_iso"].as_str().unwrap_or("");
    assert!(
        iso.len() == 24 && iso.ends_with('Z') && iso.starts_with("20"),
        "{first}"
    );
    assert_eq!(first["flow"], "hang");
    let cancelled = get(&format!("{base}/_workspaces/ws/runs?status=cancelled"))
        .await
        .json();
    assert_eq!(cancelled["runs"].as_array().map(Vec::len), Some(2));
    let bad = get(&format!("{base}/_workspaces/ws/runs?status=done")).await;
    assert_eq!(bad.status, 400);
    assert!(bad.text.contains("unknown status `done`"), "{}", bad.text);
    assert_eq!(
        get(&format!("{base}/_workspaces/ws/runs?limit=5000"))
            .await
            .json()["limit"],
        1000
    );
    drop(silent);
}
