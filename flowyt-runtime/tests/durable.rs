//! Durable triggered runs: a run whose instance dies resumes on another after the last
//! completed action (the action in flight runs again), a cancel stops a run at its next action
//! boundary, and a shutting-down instance hands its runs back at once.

mod support;

use axum::Router;
use axum::extract::{Path, Query, State};
use flowyt_runtime::Workspace;
use flowyt_runtime::runs::{MemoryStore, RunRecord, RunStatus, RunStore, Runs, RunsOptions};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;

/// An upstream that counts calls per `(step, run)`; `/hold/...` answers only once `blocking`
/// is false.
#[derive(Clone, Default)]
struct Upstream {
    calls: Arc<Mutex<HashMap<String, usize>>>,
    blocking: Arc<AtomicBool>,
}

impl Upstream {
    fn calls(&self, step: &str, run: &str) -> usize {
        let calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        calls.get(&format!("{step}/{run}")).copied().unwrap_or(0)
    }

    async fn serve(&self) -> String {
        async fn step(
            State(up): State<Upstream>,
            Path((kind, name)): Path<(String, String)>,
            Query(q): Query<HashMap<String, String>>,
        ) -> axum::Json<Value> {
            let run = q.get("run").cloned().unwrap_or_default();
            *up.calls
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(format!("{name}/{run}"))
                .or_default() += 1;
            if kind == "hold" {
                for _ in 0..3000 {
                    if !up.blocking.load(Ordering::SeqCst) {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
            axum::Json(json!({"n": name}))
        }
        let app = Router::new()
            .route("/{kind}/{name}", axum::routing::get(step))
            .with_state(self.clone());
        format!("http://{}", spawn(app).await)
    }
}

/// `job`: calls `/step/one`, keeps its answer in a flow variable, calls `/hold/two`, and
/// answers with both.
fn job(base: &str) -> Workspace {
    let request = |id: &str, url: &str, next: &str| {
        json!({"id": id, "action": "request", "data": {
            "url": format!("${{env.baseUrl}}{url}?run=${{params.run}}"), "method": "get",
            "next_action_success": next, "next_action_fail": "9"
        }, "next_action": "${pipeline.next_action}"})
    };
    let mut case = Case::new().flow(
        "job",
        json!({"id": "j", "name": "J",
        "params": {"run": {"type": "string", "required": true}},
        "pipeline": [
            start("1", json!("2")),
            request("2", "/step/one", "3"),
            {"id": "3", "action": "flow_var", "data": {"first": "${response.data.n}"}, "next_action": "4"},
            request("4", "/hold/two", "5"),
            respond("5", json!({"first": "${flow.first}", "second": "${response.data.n}"}), 200),
            respond("9", json!({"failed": true}), 500),
        ]}),
    );
    case = case.settings(json!({"env": {"baseUrl": base}}));
    case.load()
}

fn options(lease_ms: u64) -> RunsOptions {
    RunsOptions {
        lease: Duration::from_millis(lease_ms),
        poll: Duration::from_millis(20),
        ..RunsOptions::default()
    }
}

fn lookup(ws: &Workspace) -> impl Fn(&str) -> Option<Workspace> + Send + Sync + 'static {
    let ws = ws.clone();
    move |name: &str| (name == ws.name()).then(|| ws.clone())
}

async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..500 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn ended(store: &dyn RunStore, run_id: &str) -> RunRecord {
    let mut last = None;
    until("the run to end", async || {
        last = store.get("ws", "job", run_id).await.expect("store");
        last.as_ref().is_some_and(|r| r.status.is_final())
    })
    .await;
    last.expect("the run")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_instance_dies_resumes_after_its_last_completed_action() {
    let up = Upstream::default();
    let base = up.serve().await;
    dies_and_resumes(&up, job(&base)).await;
}

/// `job` written with `flow!`: its generated loop resumes at the checkpoint's action too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compiled_run_whose_instance_dies_resumes_after_its_last_completed_action() {
    let up = Upstream::default();
    let base = up.serve().await;
    let job = flowyt_runtime::flow! {
        name = "J";
        params = { run: { type: "string", required: true } };
        1: start -> 2;
        2: request { url: "${env.baseUrl}/step/one?run=${params.run}", method: "get" }
            -> success: 3, fail: 9;
        3: flow_var { first: "${response.data.n}" } -> 4;
        4: request { url: "${env.baseUrl}/hold/two?run=${params.run}", method: "get" }
            -> success: 5, fail: 9;
        5: response { data: { first: "${flow.first}", second: "${response.data.n}" } };
        9: response { status: 500, data: { failed: true } };
    };
    let mut settings = flowyt_runtime::Settings::default();
    settings.env.insert("baseUrl".into(), json!(base));
    let ws = flowyt_runtime::Engine::new()
        .expect("engine")
        .checked_workspace("ws", settings, [("job", job)]);
    dies_and_resumes(&up, ws).await;
}

/// Runs `job` on an instance that dies while `/hold/two` is in flight, then on another.
async fn dies_and_resumes(up: &Upstream, ws: Workspace) {
    up.blocking.store(true, Ordering::SeqCst);
    let store: Arc<dyn RunStore> = Arc::new(MemoryStore::default());
    // Instance A lives in a runtime of its own, so it can die without a chance to clean up.
    let a_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let a = {
        let _in_a = a_rt.enter();
        Runs::start(store.clone(), lookup(&ws), options(400))
    };
    a.trigger(&ws, "job", Some("r1".into()), json!({"run": "r1"}))
        .await
        .expect("queued");
    until("A to call /hold/two", async || up.calls("two", "r1") == 1).await;
    a_rt.shutdown_background();
    up.blocking.store(false, Ordering::SeqCst);
    let _b = Runs::start(store.clone(), lookup(&ws), options(400));
    let run = ended(store.as_ref(), "r1").await;
    assert_eq!(run.status, RunStatus::Success, "{run:?}");
    assert_eq!(run.attempts, 2);
    // The flow variable set on A came back with the checkpoint.
    assert_eq!(
        run.result.map(|r| r["data"].clone()),
        Some(json!({"first": "one", "second": "two"}))
    );
    assert_eq!(
        up.calls("one", "r1"),
        1,
        "completed actions are not run again"
    );
    assert_eq!(up.calls("two", "r1"), 2, "the action in flight runs again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_runs_stop_at_the_next_boundary_or_never_start() {
    let up = Upstream::default();
    up.blocking.store(true, Ordering::SeqCst);
    let ws = job(&up.serve().await);
    let store: Arc<dyn RunStore> = Arc::new(MemoryStore::default());
    let runs = Runs::start(
        store.clone(),
        lookup(&ws),
        RunsOptions {
            max_running: 1,
            ..options(5000)
        },
    );
    runs.trigger(&ws, "job", Some("long".into()), json!({"run": "long"}))
        .await
        .expect("queued");
    until("the run to wait on /hold", async || {
        up.calls("two", "long") == 1
    })
    .await;
    runs.trigger(&ws, "job", Some("next".into()), json!({"run": "next"}))
        .await
        .expect("queued");
    use flowyt_runtime::runs::Cancelled;
    assert_eq!(
        store.cancel("ws", "job", "next").await.expect("cancel"),
        Cancelled::Now
    );
    assert_eq!(
        store.cancel("ws", "job", "long").await.expect("cancel"),
        Cancelled::Requested
    );
    up.blocking.store(false, Ordering::SeqCst);
    let long = ended(store.as_ref(), "long").await;
    assert_eq!(long.status, RunStatus::Cancelled, "{long:?}");
    assert_eq!(long.error.as_deref(), Some("cancelled while running"));
    let next = ended(store.as_ref(), "next").await;
    assert_eq!(next.status, RunStatus::Cancelled);
    assert_eq!(
        (next.started_at, up.calls("one", "next")),
        (None, 0),
        "never started"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutting_down_instance_hands_its_runs_back() {
    let up = Upstream::default();
    up.blocking.store(true, Ordering::SeqCst);
    let ws = job(&up.serve().await);
    let store: Arc<dyn RunStore> = Arc::new(MemoryStore::default());
    let a = Runs::start(store.clone(), lookup(&ws), options(60_000));
    a.trigger(&ws, "job", Some("h".into()), json!({"run": "h"}))
        .await
        .expect("queued");
    until("the run to wait on /hold", async || {
        up.calls("two", "h") == 1
    })
    .await;
    // The run cannot finish within the grace period: it is handed back, queued with its
    // checkpoint, long before its 60 s lease would have expired.
    assert_eq!(a.shutdown(Duration::from_millis(100)).await, Ok(1));
    let record = store
        .get("ws", "job", "h")
        .await
        .expect("get")
        .expect("kept");
    assert_eq!((record.status, record.attempts), (RunStatus::Queued, 1));
    up.blocking.store(false, Ordering::SeqCst);
    let _b = Runs::start(store.clone(), lookup(&ws), options(60_000));
    let run = ended(store.as_ref(), "h").await;
    assert_eq!(
        (run.status, run.attempts),
        (RunStatus::Success, 2),
        "{run:?}"
    );
    assert_eq!((up.calls("one", "h"), up.calls("two", "h")), (1, 2));
    // A shutdown with nothing in flight hands nothing back.
    let c = Runs::start(store.clone(), lookup(&ws), options(60_000));
    assert_eq!(c.shutdown(Duration::from_millis(100)).await, Ok(0));
}
