//! Request resilience: retries with exponential backoff, only for what is safe to retry.

mod support;

use serde_json::{Value, json};
use support::*;

async fn run(method: &str, path: &str, extra: Value) -> (u16, Value) {
    let case = Case::with_upstream().await;
    let mut data = json!({"url": format!("{}{path}", case.base_url()), "method": method, "next_action_success": "ok", "next_action_fail": "ko", "retry_delay": 0.01});
    if let (Value::Object(d), Value::Object(e)) = (&mut data, extra) {
        d.extend(e);
    }
    let actions = vec![
        json!({"id": "r", "action": "request", "data": data, "next_action": "${pipeline.next_action}"}),
        respond(
            "ok",
            json!({"status": "${response.status}", "data": "${response.data}"}),
            200,
        ),
        respond(
            "ko",
            json!({"status": "${response.status}", "data": "${response.data}"}),
            502,
        ),
    ];
    let served = case
        .settings(json!({"debug": true}))
        .single_flow("get", actions)
        .serve()
        .await;
    let got = served.debug_get("/t").await;
    (got.status, got.json())
}

fn attempts(body: &Value) -> Vec<Value> {
    body["__debug__"]["workspace"]["flows"][0]["actions"][0]["data"]["attempts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn get_is_retried_until_it_succeeds() {
    let (status, body) = run("get", "/flaky/get-ok/2", json!({"retries": 3})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!({"calls": 3}));
    let a = attempts(&body);
    assert_eq!(
        a.iter().map(|a| a["status"].clone()).collect::<Vec<_>>(),
        [json!(503), json!(503), json!(200)]
    );
}

#[tokio::test]
async fn retries_run_out_and_take_the_fail_branch() {
    let (status, body) = run("get", "/flaky/get-ko/5", json!({"retries": 1})).await;
    assert_eq!((status, body["status"].clone()), (502, json!(503)));
    assert_eq!(attempts(&body).len(), 2);
}

#[tokio::test]
async fn post_is_not_retried_on_503_unless_asked() {
    let (status, body) = run("post", "/flaky/post-no/1", json!({"retries": 3})).await;
    assert_eq!((status, attempts(&body).len()), (502, 1));
    let (status, body) = run(
        "post",
        "/flaky/post-yes/1",
        json!({"retries": 3, "retry_unsafe": true}),
    )
    .await;
    assert_eq!((status, attempts(&body).len()), (200, 2));
}

#[tokio::test]
async fn refused_connections_are_retried_for_every_method() {
    let up = "http://127.0.0.1:9";
    let (status, body) = run("post", "", json!({"url": format!("{up}/x"), "retries": 2})).await;
    assert_eq!(status, 502);
    let a = attempts(&body);
    assert_eq!(a.len(), 3);
    assert!(a.iter().all(|a| a["error"] == "connect"), "{a:?}");
}

#[tokio::test]
async fn no_retries_by_default_and_bad_values_fail_clearly() {
    let (status, body) = run("get", "/flaky/default/1", json!({})).await;
    assert_eq!((status, attempts(&body).len()), (502, 1));
    let (status, body) = run("get", "/flaky/bad/1", json!({"retries": 99})).await;
    assert_eq!(status, 500);
    assert!(
        body["exception"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("`retries` must be a whole number up to 10"),
        "{body}"
    );
}
