//! Triggered runs are bounded (issue: hardening): so many run at once, so many wait, and a
//! trigger past that is refused instead of piling up work.

mod support;

use flowyt_runtime::runs::{MemoryStore, RunStatus, RunStore, Runs, RunsOptions, TriggerError};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use support::*;

#[tokio::test]
async fn runs_wait_for_a_slot_and_a_full_line_is_refused() {
    // Each run waits on the upstream for 0.5 s (a request timeout on a slow route).
    let ws = Case::with_upstream()
        .await
        .flow(
            "wait",
            flow(vec![
                start("1", json!("2")),
                json!({"id": "2", "action": "request", "data": {
                    "url": "${env.baseUrl}/slow", "method": "get", "timeout": 0.5,
                    "next_action_success": "3", "next_action_fail": "3"
                }, "next_action": "${pipeline.next_action}"}),
                respond("3", json!("done"), 200),
            ]),
        )
        .load();
    let store: Arc<dyn RunStore> = Arc::new(MemoryStore::default());
    let lookup = {
        let ws = ws.clone();
        move |name: &str| (name == "ws").then(|| ws.clone())
    };
    let runs = Runs::start(
        store.clone(),
        lookup,
        RunsOptions {
            max_running: 1,
            max_queued: 1,
            poll: Duration::from_millis(20),
            ..RunsOptions::default()
        },
    );
    let trigger = |id: &str| runs.trigger(&ws, "wait", Some(id.into()), json!({}));
    trigger("a").await.expect("runs");
    // Let `a` take the slot (until then it is itself the one waiting).
    tokio::time::sleep(Duration::from_millis(50)).await;
    trigger("b").await.expect("waits");
    assert_eq!(trigger("c").await, Err(TriggerError::Busy(1)));
    assert!(store.get("ws", "wait", "c").await.expect("store").is_none());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let status = |id: &'static str| {
        let store = store.clone();
        async move {
            store
                .get("ws", "wait", id)
                .await
                .expect("store")
                .map(|r| r.status)
        }
    };
    assert_eq!(status("a").await, Some(RunStatus::Running));
    assert_eq!(status("b").await, Some(RunStatus::Queued));
    // When `a` ends, `b` gets the slot and the line has room again.
    for _ in 0..100 {
        if status("b").await == Some(RunStatus::Success) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status("a").await, Some(RunStatus::Success));
    assert_eq!(status("b").await, Some(RunStatus::Success));
    trigger("d").await.expect("room again");
}
