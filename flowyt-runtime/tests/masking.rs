//! Secrets stay secret (issue: hardening): credential headers and secret-named fields are
//! masked in debug traces, failed actions and run records, while the run itself sees them.

mod support;

use flowyt_runtime::runs::{self, MemoryStore, RunStore};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use support::*;

#[tokio::test]
async fn debug_traces_mask_credentials_but_the_upstream_gets_them() {
    // Before: `Authorization: Bearer ...` evaluated from the request landed in the trace of
    // every debug answer and every triggered run.
    let case = Case::with_upstream().await;
    let echo = format!("{}/echo", case.base_url());
    let fx = case
        .settings(json!({"debug": true, "mask": ["ssn"]}))
        .single_flow(
            "get",
            vec![
                start("1", json!("2")),
                json!({"id": "2", "action": "flow_var", "data": {"ssn": "${request.qs.ssn}", "city": "Recife"}, "next_action": "3"}),
                json!({"id": "3", "action": "request", "data": {
                    "url": echo, "method": "get",
                    "headers": {"Authorization": "Bearer ${request.qs.token}", "X-Api-Key": "k-123", "Accept": "application/json"},
                    "next_action_success": "4", "next_action_fail": "4"
                }, "next_action": "${pipeline.next_action}"}),
                respond("4", json!({"auth": "${response.data.headers.authorization}"}), 200),
            ],
        )
        .serve()
        .await;
    let got = fx.debug_get("/t?token=tk-secret&ssn=123-45").await;
    assert_eq!(got.status, 200, "{}", got.text);
    let body = got.json();
    // The flow and the upstream saw the real values.
    assert_eq!(body["auth"], "Bearer tk-secret");
    let actions = &body["__debug__"]["workspace"]["flows"][0]["actions"];
    assert_eq!(actions[1]["data"], json!({"ssn": "***", "city": "Recife"}));
    assert_eq!(
        actions[2]["data"]["headers"],
        json!({"Authorization": "***", "X-Api-Key": "***", "Accept": "application/json"})
    );
    let trace = body["__debug__"].to_string();
    assert!(
        !trace.contains("tk-secret") && !trace.contains("k-123") && !trace.contains("123-45"),
        "{trace}"
    );
}

#[tokio::test]
async fn a_failed_action_shows_its_data_masked() {
    let fx = Case::new()
        .settings(json!({"debug": true}))
        .single_flow(
            "get",
            vec![
                start("1", json!("2")),
                json!({"id": "2", "action": "request", "data": {
                    "url": "${request.qs.missing}/x", "method": "get",
                    "headers": {"Cookie": "session=literal-cookie"},
                    "next_action_success": null, "next_action_fail": null
                }, "next_action": null, "retries": 0}),
            ],
        )
        .serve()
        .await;
    let got = fx.debug_get("/t").await;
    assert_eq!(got.status, 500, "{}", got.text);
    assert!(!got.text.contains("literal-cookie"), "{}", got.text);
    assert_eq!(
        got.json()["exception"]["action"]["data"]["headers"]["Cookie"],
        "***"
    );
}

#[tokio::test]
async fn run_records_mask_the_conf_and_the_result() {
    let ws = Case::new()
        .flow(
            "login",
            json!({"id": "l", "name": "L",
            "params": {"user": {"type": "string"}, "password": {"type": "string"}},
            "pipeline": [
                start("1", json!("2")),
                respond("2", json!({"user": "${params.user}", "token": "tok-${params.password}"}), 200)
            ]}),
        )
        .load();
    let store: Arc<dyn RunStore> = Arc::new(MemoryStore::default());
    let lookup = {
        let ws = ws.clone();
        move |name: &str| (name == "ws").then(|| ws.clone())
    };
    let queue = runs::Runs::start(store.clone(), lookup, runs::RunsOptions::default());
    let run_id = queue
        .trigger(
            &ws,
            "login",
            Some("r1".into()),
            json!({"user": "ana", "password": "pw-1"}),
        )
        .await
        .expect("triggered");
    let mut record = None;
    for _ in 0..200 {
        if let Some(r) = store
            .get("ws", "login", &run_id)
            .await
            .expect("store answers")
            && matches!(r.status, runs::RunStatus::Success | runs::RunStatus::Failed)
        {
            record = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let record = record.expect("the run ended");
    assert_eq!(record.conf, json!({"user": "ana", "password": "***"}));
    let result = record.result.unwrap_or(Value::Null);
    // The run used the real password (the flow answered with it), the record hides it.
    assert_eq!(result["data"], json!({"user": "ana", "token": "***"}));
    let all = serde_json::to_string(&record.trace).unwrap_or_default();
    assert!(!all.contains("pw-1"), "{all}");
}
