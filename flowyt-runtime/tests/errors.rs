//! A failed run says what kind of failure it is (`RunError::kind`), with the error behind it as
//! its `source()`, and an outcome answers HTTP as a route would (`IntoResponse`), masked.

mod support;

use axum::response::IntoResponse;
use flowyt_runtime::{Engine, ErrorKind, Outcome, RunError, RunInput, RunResult, Workspace};
use serde_json::{Value, json};
use std::error::Error as _;
use support::{Case, flow, respond, start};

/// Loads flow `f` (made of `actions`, plus `extra` flows) in a workspace with `settings`.
fn workspace(actions: Vec<Value>, settings: Value, engine: Option<Engine>) -> Workspace {
    let mut case = Case::new().settings(settings).flow("f", flow(actions));
    if let Some(e) = engine {
        case = case.engine(e);
    }
    case.load()
}

async fn failure(ws: &Workspace) -> RunError {
    match ws.run("f", RunInput::default()).await.outcome {
        Outcome::Failed(e) => e,
        other => panic!("expected a failed run, got {other:?}"),
    }
}

fn action(id: &str, kind: &str, data: Value, next: Value) -> Value {
    json!({"id": id, "action": kind, "data": data, "next_action": next})
}

#[tokio::test]
async fn each_failure_has_its_kind() {
    let none = json!({});
    let cases: Vec<(&str, Vec<Value>, Value, ErrorKind)> = vec![
        (
            "a missing value spliced into text",
            vec![respond("1", json!({"x": "hi ${request.qs.who}"}), 200)],
            none.clone(),
            ErrorKind::Template,
        ),
        (
            "a cycle past the step budget",
            vec![
                start("1", json!("2")),
                action("2", "flow_var", json!({"n": 1}), json!("1")),
            ],
            json!({"limits": {"max_steps": 50}}),
            ErrorKind::StepLimit,
        ),
        (
            "a busy loop past the time limit",
            vec![
                start("1", json!("2")),
                action(
                    "2",
                    "flow_var",
                    json!({"n": "${len([i for i in range(200000)])}"}),
                    json!("1"),
                ),
            ],
            json!({"limits": {"max_seconds": 0.2, "max_steps": 100000000}}),
            ErrorKind::Timeout,
        ),
        (
            "a jump to a flow the workspace does not have",
            vec![action(
                "1",
                "jump",
                json!({"next_flow": "${'nope'}"}),
                Value::Null,
            )],
            none.clone(),
            ErrorKind::UnknownFlow,
        ),
        (
            "a status that is not a status",
            vec![respond("1", json!({}), 200)]
                .into_iter()
                .map(|mut a| {
                    a["data"]["status"] = json!("${'teapot'}");
                    a
                })
                .collect(),
            none.clone(),
            ErrorKind::Action,
        ),
        (
            "a switch where nothing holds and nothing else is written",
            vec![
                json!({"id": "1", "action": "switch", "data": {"conditions": [
                {"operator": "equal", "first_expression": "1", "second_expression": "2", "next_action": "2"}
            ]}, "next_action": "${pipeline.next_action}"}),
                respond("2", json!({}), 200),
            ],
            none.clone(),
            ErrorKind::Flow,
        ),
        (
            "a database that refuses the connection",
            vec![action(
                "1",
                "sql_db",
                json!({"conn_name": "main", "sql": "SELECT 1"}),
                Value::Null,
            )],
            json!({"integrations": {"sql_database": {"main": {
                "sgbd": "postgresql", "host": "127.0.0.1", "port": 1, "user": "u", "password": "p", "database": "d"
            }}}}),
            ErrorKind::Upstream,
        ),
    ];
    for (what, actions, settings, kind) in cases {
        let ws = workspace(actions, settings, None);
        let e = failure(&ws).await;
        assert_eq!(e.kind, kind, "{what}: {e}");
    }
}

#[tokio::test]
async fn a_template_error_keeps_the_expression_error_as_its_source() {
    let ws = workspace(
        vec![respond("1", json!({"x": "${1 + 'a'}"}), 200)],
        json!({}),
        None,
    );
    let e = failure(&ws).await;
    assert_eq!(e.kind, ErrorKind::Template);
    let source = e.source().expect("a source");
    assert!(
        source
            .downcast_ref::<flowyt_runtime::core::expr::EvalError>()
            .is_some(),
        "{source:?}"
    );
    assert_eq!(e.action.as_ref().map(|a| a.id.as_str()), Some("1"));
}

#[tokio::test]
async fn a_custom_action_that_panics_is_a_panic() {
    let engine = Engine::builder()
        .action("boom", |_input: Value, _cx| async {
            if true {
                panic!("boom");
            }
            Ok(Value::Null)
        })
        .build()
        .expect("engine");
    let ws = workspace(
        vec![
            action("1", "boom", json!({}), json!("2")),
            respond("2", json!({}), 200),
        ],
        json!({}),
        Some(engine),
    );
    assert_eq!(failure(&ws).await.kind, ErrorKind::Panic);
}

#[tokio::test]
async fn refused_params_are_invalid_params_naming_the_param() {
    let mut f = flow(vec![respond("1", json!({"n": "${params.n}"}), 200)]);
    f["params"] = json!({"n": {"type": "integer", "minimum": 1, "required": true}});
    let ws = Case::new().flow("f", f).load();
    let params = |v: Value| v.as_object().cloned().unwrap_or_default();
    let run = ws
        .run_with_params("f", params(json!({"n": 0})), RunInput::default())
        .await;
    let Outcome::Failed(e) = run.outcome else {
        panic!("{:?}", run.outcome)
    };
    assert_eq!(e.kind, ErrorKind::InvalidParams);
    assert!(e.message.contains("`n`"), "{e}");
    assert!(e.source().is_some());
    let run = ws
        .run_with_params("f", params(json!({"n": 3})), RunInput::default())
        .await;
    assert!(matches!(run.outcome, Outcome::Response { status: 200, .. }));
}

#[tokio::test]
async fn an_outcome_answers_http_as_a_route_would_with_errors_masked() {
    let ws = workspace(
        vec![respond("1", json!({"secret": "${request.qs.who} x"}), 200)],
        json!({}),
        None,
    );
    let failed: RunResult = ws.run("f", RunInput::default()).await;
    let response = failed.into_response();
    assert_eq!(response.status(), 500);
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .expect("body");
    let text = String::from_utf8_lossy(&body);
    assert!(
        !text.contains("request.qs.who"),
        "the error's details are masked: {text}"
    );
    let ok = workspace(
        vec![respond("1", json!({"ok": true}), 202)],
        json!({}),
        None,
    );
    let response = ok
        .run("f", RunInput::default())
        .await
        .outcome
        .into_response();
    assert_eq!(response.status(), 202);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
}
