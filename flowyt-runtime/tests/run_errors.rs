//! A triggered run that fails records what kind of failure it was (`error_kind`), as an
//! in-process caller matches `ErrorKind`: the engine's kind, or `response`, `validation`.

mod support;

use flowyt_runtime::runs::{RunRecord, RunStatus, RunStore};
use flowyt_runtime::{Engine, Workspace, flow};
use serde_json::json;
use std::time::Duration;

// `checked` has no fail branch on purpose (the `missing-branch` warning): a refused input
// then ends the run as the legacy engine did, with the validation errors.
#[allow(deprecated)]
fn workspace() -> Workspace {
    let spliced = flow! { 1: response { data: "missing: ${request.data.nothing}" }; };
    let refused = flow! { 1: response { status: 503, data: { busy: true } }; };
    let checked = flow! {
        1: validation { schema: { name: { type: "string", required: true } } } -> success: 2;
        2: response { data: "ok" };
    };
    let fine = flow! { 1: response { data: "ok" }; };
    Engine::new().expect("engine").checked_workspace(
        "ws",
        Default::default(),
        [
            ("spliced", spliced),
            ("refused", refused),
            ("checked", checked),
            ("fine", fine),
        ],
    )
}

async fn ended(store: &dyn RunStore, flow: &str, run_id: &str) -> RunRecord {
    for _ in 0..400 {
        if let Some(r) = store.get("ws", flow, run_id).await.expect("store answers")
            && r.status.is_final()
        {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("run {run_id} of {flow} did not end");
}

#[tokio::test]
async fn failed_runs_record_the_kind_of_failure() {
    let ws = workspace();
    let (store, queue) = support::memory_runs(&ws);
    for (flow, status, kind) in [
        ("spliced", RunStatus::Failed, Some("template")),
        ("refused", RunStatus::Failed, Some("response")),
        ("checked", RunStatus::Failed, Some("validation")),
        ("fine", RunStatus::Success, None),
    ] {
        let id = queue
            .trigger(&ws, flow, None, json!({}))
            .await
            .expect("triggered");
        let run = ended(store.as_ref(), flow, &id).await;
        assert_eq!(
            (run.status, run.error_kind.as_deref()),
            (status, kind),
            "{flow}: {:?}",
            run.error
        );
        // The runs API shows it beside the message.
        assert_eq!(run.summary_json()["error_kind"], json!(kind));
    }
}
