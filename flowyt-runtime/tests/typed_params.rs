//! A flow's params as a Rust struct (`params = Notify { ... }` in `flow!`): checked against the
//! declaration at compile time (ui-tests), and taken by every way of starting a run: in
//! process, through the run queue, and over HTTP with `RunsClient`.

mod support;

use flowyt_runtime::runs::{self, RunsClient};
use flowyt_runtime::{Engine, ErrorKind, FlowParams, Outcome, RunInput, Workspace, flow};
use serde::Serialize;
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Serialize)]
struct Notify {
    usuario_id: i64,
    canal: Option<String>,
    tags: Vec<String>,
}

fn workspace() -> Workspace {
    let notify = flow! {
        name = "notify";
        params = Notify {
            usuario_id: { type: "integer", minimum: 1, required: true },
            canal: { type: "string", enum: ["sms", "email"], default: "sms" },
            tags: { type: "array", default: [] },
        };
        1: response { data: { to: "${params.usuario_id}", via: "${params.canal}", tags: "${params.tags}" } };
    };
    Engine::new()
        .expect("engine")
        .checked_workspace("ws", Default::default(), [("notify", notify)])
}

#[test]
fn a_params_struct_is_the_conf_without_its_none_fields() {
    let p = Notify {
        usuario_id: 7,
        canal: None,
        tags: vec!["a".into()],
    };
    assert_eq!(
        p.to_conf().map(Value::Object),
        Ok(json!({"usuario_id": 7, "tags": ["a"]}))
    );
}

#[tokio::test]
async fn in_process_runs_take_the_struct_and_still_check_its_values() {
    let ws = workspace();
    let run = ws
        .run_params(
            "notify",
            &Notify {
                usuario_id: 7,
                canal: Some("email".into()),
                tags: vec![],
            },
            RunInput::default(),
        )
        .await;
    let Outcome::Response { body, .. } = run.outcome else {
        panic!("expected a response, got {:?}", run.outcome);
    };
    assert_eq!(
        body.to_value(),
        json!({"to": 7, "via": "email", "tags": []})
    );
    // What types cannot say (a minimum, a choice) is checked when the run starts.
    let run = ws
        .run_params(
            "notify",
            &Notify {
                usuario_id: 0,
                canal: None,
                tags: vec![],
            },
            RunInput::default(),
        )
        .await;
    let Outcome::Failed(e) = run.outcome else {
        panic!("expected a failure, got {:?}", run.outcome);
    };
    assert_eq!(e.kind, ErrorKind::InvalidParams);
    assert_eq!(
        e.message,
        "param `usuario_id`: param `usuario_id` must be at least 1"
    );
}

#[tokio::test]
async fn the_run_queue_and_the_runs_client_take_the_struct() {
    let ws = workspace();
    let (_store, queue) = support::memory_runs(&ws);

    let run_id = queue
        .trigger_params(
            &ws,
            "notify",
            &Notify {
                usuario_id: 3,
                canal: None,
                tags: vec!["x".into()],
            },
        )
        .await
        .expect("triggered");
    let client_base = format!(
        "http://{}",
        support::spawn(runs::api::router(queue.clone())).await
    );
    let client = RunsClient::new(&client_base, None).expect("client");
    let record = client
        .wait("ws", "notify", &run_id, Duration::from_secs(10))
        .await
        .expect("the run ends");
    assert_eq!(record["conf"], json!({"usuario_id": 3, "tags": ["x"]}));
    assert_eq!(
        record["result"]["data"],
        json!({"to": 3, "via": "sms", "tags": ["x"]})
    );

    let run_id = client
        .trigger_params(
            "ws",
            "notify",
            &Notify {
                usuario_id: 9,
                canal: Some("email".into()),
                tags: vec![],
            },
            Some("typed-1"),
        )
        .await
        .expect("triggered over HTTP");
    assert_eq!(run_id, "typed-1");
    let record = client
        .wait("ws", "notify", &run_id, Duration::from_secs(10))
        .await
        .expect("the run ends");
    assert_eq!(
        record["result"]["data"],
        json!({"to": 9, "via": "email", "tags": []})
    );

    // A value the declaration refuses is refused at the trigger, naming the param.
    let refused = client
        .trigger_params(
            "ws",
            "notify",
            &Notify {
                usuario_id: 9,
                canal: Some("fax".into()),
                tags: vec![],
            },
            None,
        )
        .await
        .expect_err("fax is not a channel");
    assert!(
        refused.to_string().contains("param `canal` must be one of"),
        "{refused}"
    );
}
