//! Cluster benchmark (not a timed test): triggered runs per second and queue latency
//! (queued → started, p50 and p99) for one and for three `flowyt serve` instances on one
//! PostgreSQL database, and what a checkpoint adds per action.
//!
//! Run: `cargo bench -p flowyt-cli --bench cluster` (env `CLUSTER_RUNS`, default 2000). Needs
//! the PostgreSQL our machines run (127.0.0.1:5432, user `postgres`) or `FLOWYT_TEST_POSTGRES`.

#[path = "../../flowyt-runtime/tests/pg/mod.rs"]
mod pg;
#[path = "../tests/support/mod.rs"]
mod support;

use axum::Router;
use flowyt_runtime::runs::{MemoryStore, RunStore, Runs, RunsOptions};
use flowyt_runtime::store::SqlStore;
use flowyt_runtime::{Engine, RunInput, Strictness};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Workspace `bench`: flow `job` calls the upstream, keeps a value, answers; flow `steps` is
/// twenty `flow_var` actions (for the checkpoint cost).
fn workspace(upstream: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("flowyt-bench-cluster-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let ws = root.join("bench");
    std::fs::create_dir_all(ws.join("flows")).expect("mkdir");
    std::fs::create_dir_all(ws.join("config")).expect("mkdir");
    std::fs::write(
        ws.join("config/settings.json"),
        json!({"env": {"baseUrl": upstream}}).to_string(),
    )
    .expect("write");
    std::fs::write(ws.join("routes.json"), "[]").expect("write");
    let job = json!({"pipeline": [
        {"id": "1", "action": "request", "data": {"url": "${env.baseUrl}/ok", "method": "get",
         "next_action_success": "2", "next_action_fail": "3"}, "next_action": "${pipeline.next_action}"},
        {"id": "2", "action": "flow_var", "data": {"got": "${response.data.ok}"}, "next_action": "3"},
        {"id": "3", "action": "response", "data": {"data": {"got": "${flow.got}"}}, "next_action": null}
    ]});
    std::fs::write(ws.join("flows/job.json"), job.to_string()).expect("write");
    let mut steps: Vec<Value> = (1..=20)
        .map(|i| json!({"id": i.to_string(), "action": "flow_var", "data": {format!("v{i}"): i}, "next_action": (i + 1).to_string()}))
        .collect();
    steps.push(json!({"id": "21", "action": "response", "data": {"data": {"n": "${flow.v20}"}}, "next_action": null}));
    std::fs::write(
        ws.join("flows/steps.json"),
        json!({"pipeline": steps}).to_string(),
    )
    .expect("write");
    root
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Triggers `n` runs of `job` spread over `bases` (64 at a time, or `rate` per second) and
/// waits for all of them; returns (runs/s, p50 and p99 of queued → started in ms).
async fn drive(
    bases: &[String],
    db_url: &str,
    n: usize,
    rate: Option<f64>,
    tag: &str,
) -> (f64, f64, f64) {
    let http = flowyt_runtime::http_client().expect("client");
    sqlx::any::install_default_drivers();
    let started = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = Vec::new();
    for i in 0..n {
        let (http, base) = (http.clone(), bases[i % bases.len()].clone());
        if let Some(rate) = rate {
            let due = started + Duration::from_secs_f64(i as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
        }
        let permit = sem.clone().acquire_owned().await.expect("permit");
        let run_id = format!("{tag}{i}");
        tasks.push(tokio::spawn(async move {
            let answer = http
                .post(format!("{base}/_workspaces/bench/flows/job/runs"))
                .json(&json!({ "run_id": run_id }))
                .send()
                .await
                .expect("trigger");
            assert_eq!(answer.status(), 201);
            drop(permit);
        }));
    }
    for t in tasks {
        t.await.expect("trigger task");
    }
    use sqlx::Row;
    let pool = sqlx::AnyPool::connect(db_url).await.expect("pool");
    loop {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM flowyt_runs WHERE status IN ('queued', 'running')",
        )
        .fetch_one(&pool)
        .await
        .expect("count");
        let left: i64 = row.try_get("n").expect("n");
        if left == 0 {
            let elapsed = started.elapsed().as_secs_f64();
            let rows = sqlx::query(&format!(
                "SELECT (started_at - queued_at) * 1000.0 AS wait, status FROM flowyt_runs
                 WHERE run_id LIKE '{tag}%'"
            ))
            .fetch_all(&pool)
            .await
            .expect("rows");
            let mut waits: Vec<f64> = rows
                .iter()
                .map(|r| r.try_get::<f64, _>("wait").expect("wait"))
                .collect();
            let ok = rows
                .iter()
                .filter(|r| {
                    r.try_get::<String, _>("status")
                        .is_ok_and(|s| s == "success")
                })
                .count();
            assert_eq!(ok, n, "every run succeeded");
            waits.sort_by(f64::total_cmp);
            pool.close().await;
            return (
                n as f64 / elapsed,
                percentile(&waits, 0.5),
                percentile(&waits, 0.99),
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Per-action cost of a durable run: the 20-action flow run directly, and queued on
/// an in-memory store and on PostgreSQL (one checkpoint per action).
async fn checkpoint_cost(root: &Path, db_url: &str) -> Vec<(String, f64)> {
    let engine = Engine::new().expect("engine");
    let ws = engine
        .load_workspace(&root.join("bench"), Strictness::Legacy)
        .expect("loads")
        .workspace;
    const N: usize = 200;
    let mut out = Vec::new();
    let t = Instant::now();
    for _ in 0..N {
        let r = ws
            .run(
                "steps",
                RunInput {
                    debug: true,
                    ..RunInput::default()
                },
            )
            .await;
        assert!(matches!(
            r.outcome,
            flowyt_runtime::Outcome::Response { .. }
        ));
    }
    out.push((
        "direct (no queue)".to_string(),
        t.elapsed().as_secs_f64() * 1e6 / (N * 21) as f64,
    ));
    let stores: Vec<(&str, Arc<dyn RunStore>)> = vec![
        ("queued, memory store", Arc::new(MemoryStore::default())),
        (
            "queued, PostgreSQL",
            Arc::new(SqlStore::connect(db_url).await.expect("store")),
        ),
    ];
    for (name, store) in stores {
        let lookup = {
            let ws = ws.clone();
            move |n: &str| (n == "bench").then(|| ws.clone())
        };
        let runs = Runs::start(
            store.clone(),
            lookup,
            RunsOptions {
                max_running: 1,
                poll: Duration::from_millis(1),
                ..RunsOptions::default()
            },
        );
        let mut busy = Duration::ZERO;
        for i in 0..N {
            let id = format!("s{i}");
            runs.trigger(&ws, "steps", Some(id.clone()), json!({}))
                .await
                .expect("queued");
            loop {
                let r = store
                    .get("bench", "steps", &id)
                    .await
                    .expect("get")
                    .expect("run");
                if r.status.is_final() {
                    if let (Some(s), Some(e)) = (r.started_at, r.ended_at) {
                        busy += Duration::from_secs_f64((e - s).max(0.0));
                    }
                    break;
                }
                tokio::task::yield_now().await;
            }
        }
        out.push((name.to_string(), busy.as_secs_f64() * 1e6 / (N * 21) as f64));
    }
    out
}

fn main() {
    let n: usize = std::env::var("CLUSTER_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let rt = support::multi_thread();
    let upstream = rt.block_on(async {
        let app = Router::new().route(
            "/ok",
            axum::routing::get(|| async { axum::Json(json!({"ok": 1})) }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    });
    let root = workspace(&upstream);
    println!(
        "cluster benchmark: {n} triggered runs of a 3-action flow (one upstream call), 64 triggers in flight"
    );
    println!(
        "(saturated: triggers as fast as they go; paced: 100 triggers/s, so the queue latency is the pick-up time, not a backlog)"
    );
    println!(
        "{:<10} {:>14} {:>17} {:>17} {:>13} {:>13}",
        "instances",
        "saturated r/s",
        "saturated p50 ms",
        "saturated p99 ms",
        "paced p50 ms",
        "paced p99 ms"
    );
    for count in [1usize, 3] {
        let db = rt.block_on(pg::TestDb::create("bench"));
        let instances: Vec<support::Server> = (0..count)
            .map(|_| support::start_on_store(&root, &db.url, &[]))
            .collect();
        let bases: Vec<String> = instances.iter().map(|i| i.base.clone()).collect();
        let (rate, p50, p99) = rt.block_on(drive(&bases, &db.url, n, None, "s"));
        let (_, paced50, paced99) = rt.block_on(drive(&bases, &db.url, n / 4, Some(100.0), "p"));
        println!(
            "{count:<10} {rate:>14.0} {p50:>17.1} {p99:>17.1} {paced50:>13.1} {paced99:>13.1}"
        );
        drop(instances);
    }
    let db = rt.block_on(pg::TestDb::create("checkpoint"));
    println!("\nper action, a 21-action flow run 200 times one after the other:");
    println!("{:<24} {:>14}", "how", "µs per action");
    for (name, us) in rt.block_on(checkpoint_cost(&root, &db.url)) {
        println!("{name:<24} {us:>14.1}");
    }
    drop(db);
    let _ = std::fs::remove_dir_all(&root);
}
