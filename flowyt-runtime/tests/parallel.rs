//! `parallel`: requests and sub-flows at once, joined; all must succeed for the success branch.

mod support;

use serde_json::{Value, json};
use support::*;

async fn run(branches: Value) -> Got {
    let main = flow(vec![
        json!({"id": "p", "action": "parallel", "data": {"branches": branches, "next_action_success": "ok", "next_action_fail": "ko"}, "next_action": "${pipeline.next_action}"}),
        respond(
            "ok",
            json!({"all": "${response.data}", "w": "${workspace.from_sub}"}),
            200,
        ),
        respond(
            "ko",
            json!({"failed": "${response.failed}", "all": "${response.data}"}),
            502,
        ),
    ]);
    let sub = flow(vec![
        json!({"id": "w", "action": "workspace_var", "data": {"from_sub": "${request.qs.tag}"}, "next_action": "r"}),
        respond("r", json!({"sub": true}), 201),
    ]);
    let served = Case::with_upstream()
        .await
        .route("get", "/t", "main")
        .flow("main", main)
        .flow("sub", sub)
        .serve()
        .await;
    served.get("/t?tag=x").await
}

#[tokio::test]
async fn branches_run_concurrently_and_join() {
    let got = run(json!({
        "a": {"url": "${env.baseUrl}/barrier/join-1"},
        "b": {"url": "${env.baseUrl}/barrier/join-1", "method": "get"},
        "profile": {"flow": "sub"}
    }))
    .await;
    assert_eq!(got.status, 200, "{}", got.text);
    let body = got.json();
    // The two requests met at the barrier: they were in flight at the same time.
    assert_eq!(body["all"]["a"]["data"], json!({"met": "join-1"}));
    assert_eq!(body["all"]["b"]["status"], 200);
    assert_eq!(
        body["all"]["profile"],
        json!({"data": {"sub": true}, "status": 201, "headers": {"Content-Type": "application/json"}})
    );
    assert_eq!(
        body["w"], "x",
        "workspace variables set by a sub-flow branch come back"
    );
}

#[tokio::test]
async fn one_failing_branch_takes_the_fail_branch() {
    let got = run(json!({
        "ok": {"url": "${env.baseUrl}/users/octocat"},
        "missing": {"url": "${env.baseUrl}/users/nobody/repos"},
        "down": {"url": "http://127.0.0.1:9/x"}
    }))
    .await;
    assert_eq!(got.status, 502);
    let body = got.json();
    assert_eq!(body["failed"], json!(["missing", "down"]));
    assert_eq!(
        body["all"]["ok"]["data"],
        json!({"login": "octocat", "ok": true})
    );
    assert_eq!(body["all"]["down"]["data"]["error"], "connect");
}
