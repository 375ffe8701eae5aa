//! Every action through real HTTP, including every failure path (spec §9 cases 30–59 and the
//! guards of decision 11).

mod support;

use flowyt_runtime::{ActionContext, Engine, MASKED_ERROR};
use serde_json::{Value, json};
use support::*;

/// Serves `flows` with `METHOD /t` routed to the first of them, `patch` merged into the
/// settings and an upstream behind `env.baseUrl`.
async fn serve_flows(patch: Value, method: &str, flows: Vec<(&str, Value)>) -> Served {
    let mut case = Case::with_upstream()
        .await
        .settings(patch)
        .route(method, "/t", flows[0].0);
    for (name, flow) in flows {
        case = case.flow(name, flow);
    }
    case.serve().await
}

/// [`serve_flows`] with one flow `f` made of `actions`, on `GET /t`.
async fn serve_get(patch: Value, actions: Vec<Value>) -> Served {
    serve_flows(patch, "get", vec![("f", flow(actions))]).await
}

fn request(url: &str, extra: Value) -> Value {
    let mut data = json!({"url": url, "method": "get", "headers": {}, "next_action_success": "4", "next_action_fail": "5"});
    if let (Value::Object(d), Value::Object(e)) = (&mut data, extra) {
        d.extend(e);
    }
    json!({"id": "3", "action": "request", "data": data, "next_action": "${pipeline.next_action}"})
}

fn github_like(url: &str, extra: Value) -> Vec<Value> {
    vec![
        start("1", json!("2")),
        json!({"id": "2", "action": "flow_var", "data": {"url": url}, "next_action": "3"}),
        request("${flow.url}", extra),
        respond(
            "4",
            json!({"data": "${response.data}", "status": "${response.status}"}),
            200,
        ),
        respond(
            "5",
            json!({"msg": "Something went wrong", "data": "${response.data}", "status": "${response.status}"}),
            400,
        ),
    ]
}

async fn run_github_like(url: &str, extra: Value) -> Got {
    let f = serve_get(json!({}), github_like(url, extra)).await;
    f.get("/t").await
}

#[tokio::test]
async fn c30_request_success_branch() {
    let got = run_github_like("${env.baseUrl}/users/octocat", json!({})).await;
    assert_eq!(
        (got.status, got.json()),
        (
            200,
            json!({"data": {"login": "octocat", "ok": true}, "status": 200})
        )
    );
}

#[tokio::test]
async fn c31_upstream_404_takes_fail_branch() {
    let got = run_github_like("${env.baseUrl}/users/nobody/repos", json!({})).await;
    assert_eq!(got.status, 400);
    assert_eq!(
        got.json(),
        json!({"msg": "Something went wrong", "data": {"message": "Not Found"}, "status": 404})
    );
}

#[tokio::test]
async fn c32_statuses_and_redirects() {
    for (path, status, branch) in [
        ("/status/500", 500, 400),
        ("/redirect/404", 404, 400),
        ("/redirect/200", 200, 200),
        ("/empty", 204, 200),
        ("/status/302", 302, 400),
    ] {
        let got = run_github_like(&format!("${{env.baseUrl}}{path}"), json!({})).await;
        assert_eq!(got.status, branch, "{path}: {}", got.text);
        assert_eq!(got.json()["status"], status, "{path}");
    }
    let got = run_github_like("${env.baseUrl}/empty", json!({})).await;
    assert_eq!(got.json()["data"], json!({}));
}

#[tokio::test]
async fn c33_connection_refused_takes_fail_branch_with_status_0() {
    // Decision 5: no HTTP answer is a failure the flow can handle, not a 500.
    let got = run_github_like("http://127.0.0.1:9/nothing", json!({})).await;
    assert_eq!(got.status, 400);
    let body = got.json();
    assert_eq!(body["status"], 0);
    assert_eq!(body["data"]["error"], "connect");
}

#[tokio::test]
async fn timeout_takes_fail_branch() {
    let got = run_github_like("${env.baseUrl}/slow", json!({"timeout": 0.2})).await;
    assert_eq!(got.status, 400);
    assert_eq!(got.json()["data"]["error"], "timeout");
}

#[tokio::test]
async fn a_timeout_too_large_to_represent_is_no_timeout() {
    // 1e20 seconds is finite and positive, but no `Duration`: the call goes out unbounded
    // (the run's own time limit still holds) instead of panicking.
    let got = run_github_like("${env.baseUrl}/users/octocat", json!({"timeout": 1e20})).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.json()["data"]["login"], "octocat");
}

#[tokio::test]
async fn invalid_url_takes_fail_branch() {
    let got = run_github_like("not a url", json!({})).await;
    assert_eq!(got.status, 400);
    assert_eq!(got.json()["data"]["error"], "invalid_url");
}

#[tokio::test]
async fn c34_text_body_is_kept_as_text() {
    let got = run_github_like("${env.baseUrl}/text", json!({})).await;
    assert_eq!(
        (got.status, got.json()["data"].clone()),
        (200, json!("hello"))
    );
}

#[tokio::test]
async fn a_json_body_that_does_not_parse_takes_the_fail_branch() {
    let got = run_github_like("${env.baseUrl}/broken-json", json!({})).await;
    assert_eq!(got.status, 400);
    assert_eq!(
        (got.json()["status"].clone(), got.json()["data"].clone()),
        (json!(200), json!("{\"truncated\": "))
    );
}

#[tokio::test]
async fn c35_post_json_body_and_default_headers() {
    let actions = vec![
        request(
            "${env.baseUrl}/echo",
            json!({"method": "post", "data": {"a": "${request.qs.x}"}}),
        ),
        respond("4", json!("${response.data}"), 200),
        respond("5", json!("${response.data}"), 502),
    ];
    let f = serve_get(json!({}), actions).await;
    let got = send(
        f.request("get", "/t?x=1")
            .header("X-Request-ID", "trace-me"),
    )
    .await;
    let echo = got.json();
    assert_eq!(echo["method"], "POST");
    assert_eq!(
        serde_json::from_str::<Value>(echo["body"].as_str().unwrap_or("")).ok(),
        Some(json!({"a": "1"}))
    );
    assert_eq!(echo["headers"]["content-type"], "application/json");
    assert_eq!(echo["headers"]["accept"], "application/json");
    assert_eq!(echo["headers"]["x-request-id"], "trace-me");
    assert_eq!(got.headers["x-request-id"], "trace-me");
}

#[tokio::test]
async fn request_id_is_generated_when_absent() {
    let actions = vec![
        request("${env.baseUrl}/echo", json!({})),
        respond("4", json!("${response.data.headers}"), 200),
        respond("5", json!({}), 502),
    ];
    let f = serve_get(json!({}), actions).await;
    let id = f.get("/t").await.json()["x-request-id"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert_eq!(id.len(), 36, "a UUID: {id}");
}

#[tokio::test]
async fn c36_form_encoded_post() {
    let actions = vec![
        request(
            "${env.baseUrl}/echo",
            json!({"method": "POST", "headers": {"Content-Type": "application/x-www-form-urlencoded"}, "data": {"a": "1", "b": "2"}}),
        ),
        respond("4", json!("${response.data}"), 200),
        respond("5", json!({}), 502),
    ];
    let f = serve_get(json!({}), actions).await;
    let echo = f.get("/t").await.json();
    assert_eq!(echo["body"], "a=1&b=2");
}

#[tokio::test]
async fn c37_get_data_becomes_the_query_string() {
    let actions = vec![
        request("${env.baseUrl}/echo", json!({"data": {"q": "x y", "n": 2}})),
        respond("4", json!("${response.data}"), 200),
        respond("5", json!({}), 502),
    ];
    let f = serve_get(json!({}), actions).await;
    let echo = f.get("/t").await.json();
    assert_eq!(
        (echo["query"].as_str(), echo["body"].as_str()),
        (Some("q=x+y&n=2"), Some(""))
    );
}

#[tokio::test]
async fn c38_c39_status_headers_and_response_lifetime() {
    let actions = vec![
        request("${env.baseUrl}/users/octocat", json!({})),
        json!({"id": "4", "action": "flow_var", "data": {"s": "${response.status}", "h": "${response.headers['Content-Type']}"}, "next_action": "6"}),
        respond("5", json!({}), 502),
        respond(
            "6",
            json!({"s": "${flow.s}", "h": "${flow.h}", "r": "${response.data}"}),
            200,
        ),
    ];
    let f = serve_get(json!({}), actions).await;
    let got = f.get("/t").await.json();
    assert_eq!(got, json!({"s": 200, "h": "application/json", "r": null}));
}

fn switch(conditions: Value, otherwise: Option<&str>) -> Value {
    let mut data = json!({"conditions": conditions});
    if let Some(e) = otherwise {
        data["next_action_else"] = json!(e);
    }
    json!({"id": "s", "action": "switch", "data": data, "next_action": "${pipeline.next_action}"})
}

fn cond(op: &str, a: Value, b: Value, to: &str) -> Value {
    json!({"operator": op, "first_expression": a, "second_expression": b, "next_action": to})
}

async fn run_switch(sw: Value, query: &str, body: Option<Value>, patch: Value) -> Got {
    let actions = vec![
        sw,
        respond("A", json!("A"), 200),
        respond("B", json!("B"), 200),
        respond("C", json!("C"), 200),
    ];
    let method = if body.is_some() { "post" } else { "get" };
    let f = serve_flows(patch, method, vec![("f", flow(actions))]).await;
    let path = format!("/t{query}");
    match body {
        Some(b) => f.post(&path, &b).await,
        None => f.get(&path).await,
    }
}

#[tokio::test]
async fn c40_switch_equal_and_else() {
    let sw = switch(
        json!([cond("equal", json!("${request.qs.c}"), json!("a"), "A")]),
        Some("B"),
    );
    assert_eq!(
        run_switch(sw.clone(), "?c=a", None, json!({})).await.json(),
        "A"
    );
    assert_eq!(run_switch(sw, "?c=b", None, json!({})).await.json(), "B");
}

#[tokio::test]
async fn c41_c42_conditions_are_tried_in_order() {
    let sw = switch(
        json!([
            cond("equal", json!("x"), json!("y"), "A"),
            cond("equal", json!("x"), json!("x"), "B")
        ]),
        Some("C"),
    );
    assert_eq!(run_switch(sw, "", None, json!({})).await.json(), "B");
    let sw = switch(
        json!([
            cond("contains", json!("abc"), json!("z"), "A"),
            cond("equal", json!("x"), json!("x"), "B")
        ]),
        Some("C"),
    );
    assert_eq!(run_switch(sw, "", None, json!({})).await.json(), "B");
}

#[tokio::test]
async fn c43_c44_typed_comparison_and_string_compare_switch() {
    let sw = switch(
        json!([cond("equal", json!("${1 + 1}"), json!(2), "A")]),
        Some("B"),
    );
    assert_eq!(
        run_switch(sw.clone(), "", None, json!({})).await.json(),
        "A"
    );
    let sw2 = switch(
        json!([cond("equal", json!("${1 + 1}"), json!("2"), "A")]),
        Some("B"),
    );
    assert_eq!(
        run_switch(sw2.clone(), "", None, json!({})).await.json(),
        "B"
    );
    assert_eq!(
        run_switch(sw2, "", None, json!({"string_compare": true}))
            .await
            .json(),
        "A"
    );
    let sw = switch(
        json!([cond(
            "greater_than",
            json!("${len(request.data)}"),
            json!("${0}"),
            "A"
        )]),
        Some("B"),
    );
    assert_eq!(
        run_switch(sw, "", Some(json!([1, 2])), json!({}))
            .await
            .json(),
        "A"
    );
}

#[tokio::test]
async fn c45_no_match_and_no_else_fails() {
    let sw = switch(json!([cond("equal", json!(1), json!(2), "A")]), None);
    assert_eq!(run_switch(sw, "", None, json!({})).await.status, 500);
}

#[tokio::test]
async fn ordering_a_string_against_a_number_fails_clearly() {
    let sw = switch(
        json!([cond("greater_than", json!("a"), json!(1), "A")]),
        Some("B"),
    );
    let got = run_switch(sw, "", None, json!({"debug": true})).await;
    assert_eq!(got.status, 500);
}

fn validation(fail: Option<&str>) -> Vec<Value> {
    let mut data = json!({"schema": {"name": {"type": "string", "required": true}, "age": {"type": "integer"}}, "next_action_success": "ok"});
    if let Some(f) = fail {
        data["next_action_fail"] = json!(f);
    }
    vec![
        json!({"id": "v", "action": "validation", "data": data, "next_action": "${pipeline.next_action}"}),
        respond("ok", json!({"valid": true}), 200),
        respond("bad", json!({"errors": "${response.data.errors}"}), 422),
    ]
}

#[tokio::test]
async fn c46_c47_validation_branches() {
    let f = serve_flows(
        json!({}),
        "post",
        vec![("f", flow(validation(Some("bad"))))],
    )
    .await;
    let ok = f.post("/t", &json!({"name": "a", "age": 3})).await;
    assert_eq!((ok.status, ok.json()), (200, json!({"valid": true})));
    let bad = f.post("/t", &json!({"age": "x", "extra": 1})).await;
    assert_eq!(bad.status, 422);
    assert_eq!(
        bad.json(),
        json!({"errors": {"age": ["must be of integer type"], "extra": ["unknown field"], "name": ["required field"]}})
    );
}

#[tokio::test]
async fn c48_missing_body_is_a_validation_failure_not_a_500() {
    let f = serve_flows(json!({}), "post", vec![("f", flow(validation(None)))]).await;
    let got = send(f.request("post", "/t")).await;
    assert_eq!(got.status, 400);
    assert!(got.json()["errors"].is_object(), "{}", got.text);
}

#[tokio::test]
async fn c49_workspace_vars_survive_a_jump() {
    let f1 = flow(vec![
        start("1", json!("2")),
        request("${env.baseUrl}/users/octocat", json!({})),
        json!({"id": "2", "action": "flow_var", "data": {"a": "1"}, "next_action": "3"}),
        json!({"id": "4", "action": "workspace_var", "data": {"resp": "${response}"}, "next_action": "6"}),
        respond("5", json!({}), 502),
        json!({"id": "6", "action": "jump", "data": {"next_flow": "g"}, "next_action": null}),
    ]);
    let g = flow(vec![respond(
        "1",
        json!({"d": "${workspace.resp.data}", "a": "${flow.a}"}),
        200,
    )]);
    let fx = serve_flows(json!({"debug": true}), "get", vec![("f", f1), ("g", g)]).await;
    let got = fx.debug_get("/t").await;
    let body = got.json();
    assert_eq!(body["d"], json!({"login": "octocat", "ok": true}));
    assert_eq!(body["a"], "1", "c50: flow vars persist across jumps");
    let flows = body["__debug__"]["workspace"]["flows"]
        .as_array()
        .map(Vec::len);
    assert_eq!(flows, Some(2));
}

#[tokio::test]
async fn c51_handle_returns_the_sub_flow_response() {
    let main = flow(vec![
        start("1", json!("2")),
        json!({"id": "2", "action": "handle", "data": {"flow": "sub"}, "next_action": "3"}),
        respond(
            "3",
            json!({"st": "${response.status}", "x": "${response.data.x}", "w": "${workspace.w}", "f": "${flow.f}"}),
            200,
        ),
    ]);
    let sub = flow(vec![
        start("s", json!("w")),
        json!({"id": "w", "action": "workspace_var", "data": {"w": "1"}, "next_action": "f"}),
        json!({"id": "f", "action": "flow_var", "data": {"f": "1"}, "next_action": "r"}),
        respond("r", json!({"x": 1}), 201),
    ]);
    let fx = serve_flows(json!({}), "get", vec![("main", main), ("sub", sub)]).await;
    let got = fx.get("/t").await;
    assert_eq!(
        (got.status, got.json()),
        (200, json!({"st": 201, "x": 1, "w": "1", "f": null}))
    );
}

#[tokio::test]
async fn c52_end_stops_the_run() {
    let actions = vec![
        start("1", json!("e")),
        json!({"id": "e", "action": "end", "data": {}, "next_action": "2"}),
        respond("2", json!({"after": 1}), 200),
    ];
    let fx = serve_get(json!({}), actions).await;
    let got = fx.get("/t").await;
    assert_eq!((got.status, got.json()), (200, json!({})));
}

#[tokio::test]
async fn c53_run_and_its_action_alias() {
    for kind in ["run", "action"] {
        let actions = vec![
            json!({"id": "1", "action": kind, "data": {"v": "${1+1}"}, "next_action": "2"}),
            respond("2", json!({"v": "${response.data.v}"}), 200),
        ];
        let fx = serve_get(json!({}), actions).await;
        assert_eq!(fx.get("/t").await.json(), json!({"v": 2}), "{kind}");
    }
}

#[tokio::test]
async fn c54_safe_mode_aborts() {
    let actions = vec![
        start("1", json!("2")),
        json!({"id": "2", "action": "flow_var", "data": {}, "next_action": "3"}),
        respond("3", json!({}), 200),
    ];
    let patch = json!({"debug": true, "safe_mode": {"enable": true, "safe_time": 0}});
    let fx = serve_get(patch, actions).await;
    let got = fx.debug_get("/t").await;
    assert_eq!(got.status, 500);
    let msg = got.json()["exception"]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        msg.starts_with(
            "This flow took a long time to run and was aborted. The limit is 0.0 seconds"
        ),
        "{msg}"
    );
}

#[tokio::test]
async fn c55_settings_without_safe_mode_run() {
    let served = Case::new()
        .without_setting("safe_mode")
        .single_flow("get", vec![respond("1", json!({"ok": true}), 200)])
        .serve()
        .await;
    assert_eq!(served.get("/t").await.json(), json!({"ok": true}));
}

#[tokio::test]
async fn c56_c58_debug_trace_shape() {
    let actions = vec![
        start("1", json!("2")),
        respond("2", json!({"msg": "Hello world!"}), 200),
    ];
    let fx = serve_get(json!({"debug": true}), actions).await;
    let got = fx.debug_get("/t").await;
    let body = got.json();
    assert_eq!(body["msg"], "Hello world!");
    let ws = &body["__debug__"]["workspace"];
    assert_eq!(
        (ws["id"].as_str(), ws["name"].as_str()),
        (Some("w1"), Some("W"))
    );
    let actions = &ws["flows"][0]["actions"];
    assert_eq!(actions[0]["name"], "start");
    assert_eq!(
        actions[1]["data"],
        json!({"status": 200, "headers": {}, "data": {"msg": "Hello world!"}})
    );
    assert!(actions[1]["time_spent"].is_f64());
    // c58: a list body is wrapped.
    let fx = serve_get(json!({"debug": true}), vec![respond("1", json!([1]), 200)]).await;
    let body = fx.debug_get("/t").await.json();
    assert_eq!(body["data"], json!([1]));
    assert!(body["__debug__"].is_object());
}

#[tokio::test]
async fn c57_c59_debug_never_leaks() {
    let actions = vec![respond("1", json!({"ok": 1}), 200)];
    // Settings debug off: no trace at all (decision 10).
    let fx = serve_get(json!({}), actions.clone()).await;
    let body = fx.debug_get("/t").await.json();
    assert_eq!(body, json!({"ok": 1}));
    // Capital `True` does not turn debug on.
    let fx = serve_get(json!({"debug": true}), actions).await;
    let body = send(fx.request("get", "/t").header("x-flowyt-debug", "True"))
        .await
        .json();
    assert_eq!(body, json!({"ok": 1}));
}

#[tokio::test]
async fn a_cycle_hits_the_step_budget() {
    let actions = vec![
        json!({"id": "a", "action": "flow_var", "data": {}, "next_action": "b"}),
        json!({"id": "b", "action": "flow_var", "data": {}, "next_action": "a"}),
    ];
    let fx = serve_get(json!({"debug": true, "limits": {"max_steps": 50}}), actions).await;
    let got = fx.debug_get("/t").await;
    assert_eq!(got.status, 500);
    assert!(
        got.json()["exception"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("more than 50 actions")
    );
}

#[tokio::test]
async fn a_slow_run_hits_the_wall_clock_limit() {
    let actions = vec![
        request("${env.baseUrl}/slow", json!({})),
        respond("4", json!({}), 200),
        respond("5", json!({}), 502),
    ];
    let fx = serve_get(json!({"limits": {"max_seconds": 0.3}}), actions).await;
    let got = fx.get("/t").await;
    assert_eq!(
        (got.status, got.json()),
        (500, json!({"exception": MASKED_ERROR}))
    );
}

#[tokio::test]
async fn a_route_timeout_shortens_the_run_limit_of_that_route_only() {
    let actions = vec![
        request("${env.baseUrl}/slow", json!({"timeout": 1})),
        respond("4", json!("answered"), 200),
        respond("5", json!("upstream gave up"), 502),
    ];
    let fx = Case::with_upstream()
        .await
        .settings(json!({"debug": true}))
        .route_entry(json!({"method": "get", "path": "/quick", "flow": "f", "timeout": 0.2}))
        .route("get", "/patient", "f")
        .flow("f", flow(actions))
        .serve()
        .await;
    let quick = fx.debug_get("/quick").await;
    assert_eq!(quick.status, 500, "{}", quick.text);
    assert_eq!(
        quick.json()["exception"]["message"],
        "the run took longer than the limit of 0.2 seconds and was stopped"
    );
    // The other route keeps the workspace's 60 s: the upstream's own timeout answers first.
    assert_eq!(fx.get("/patient").await.json(), json!("upstream gave up"));
}

#[tokio::test]
async fn oversized_and_malformed_bodies_are_refused() {
    let body = flow(vec![respond("1", json!("${request.data}"), 200)]);
    let fx = serve_flows(
        json!({"limits": {"max_body_bytes": 1024}}),
        "post",
        vec![("f", body)],
    )
    .await;
    let big = json!({"x": "y".repeat(4096)});
    assert_eq!(fx.post("/t", &big).await.status, 413);
    let bad = send(
        fx.request("post", "/t")
            .header("content-type", "application/json")
            .body("{nope"),
    )
    .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.json()["message"]
            .as_str()
            .unwrap_or("")
            .contains("not valid JSON")
    );
    let ok = fx.post("/t", &json!({"a": 1})).await;
    assert_eq!(ok.json(), json!({"a": 1}));
}

#[tokio::test]
async fn custom_actions_branch_on_result_and_panics_stay_contained() {
    let engine = Engine::builder()
        .state(String::from("state!"))
        .action("double", |input: Value, cx: ActionContext| async move {
            let state = cx.state::<String>().cloned();
            match input["n"].as_i64() {
                Some(n) => Ok(json!({"n": n * 2, "state": state})),
                None => Err(json!({"error": "n must be a number"})),
            }
        })
        .action("explode", |_input: Value, _cx: ActionContext| async move {
            if true {
                panic!("boom");
            }
            Ok(Value::Null)
        })
        .build()
        .expect("engine");
    let actions = vec![
        json!({"id": "1", "action": "double", "data": {"n": "${int(request.qs.n) if request.qs.n else None}", "next_action_success": "ok", "next_action_fail": "bad"}, "next_action": "${pipeline.next_action}"}),
        respond("ok", json!("${response.data}"), 200),
        respond("bad", json!("${response.data}"), 422),
    ];
    let boom = vec![json!({"id": "1", "action": "explode", "data": {}, "next_action": null})];
    let fx = Case::with_upstream()
        .await
        .engine(engine.clone())
        .single_flow("get", actions)
        .serve()
        .await;
    let ok = fx.get("/t?n=3").await;
    assert_eq!(ok.json(), json!({"n": 6, "state": "state!"}), "{}", ok.text);
    let bad = fx.get("/t").await;
    assert_eq!(
        (bad.status, bad.json()),
        (422, json!({"error": "n must be a number"}))
    );
    let fx = Case::with_upstream()
        .await
        .engine(engine)
        .route("get", "/t", "g")
        .flow("g", flow(boom))
        .serve()
        .await;
    let got = fx.get("/t").await;
    assert_eq!(
        (got.status, got.json()),
        (500, json!({"exception": MASKED_ERROR}))
    );
    // The server survived the panic and still answers.
    assert_eq!(fx.get("/t").await.status, 500);
}

#[tokio::test]
async fn loop_runs_a_sub_flow_per_item() {
    let main = flow(vec![
        json!({"id": "l", "action": "loop", "data": {"data": "${request.data}", "flow": "double"}, "next_action": "r"}),
        respond(
            "r",
            json!({"out": "${response.data}", "seen": "${workspace.seen}"}),
            200,
        ),
    ]);
    let double = flow(vec![
        json!({"id": "w", "action": "workspace_var", "data": {"seen": "${loop.index}"}, "next_action": "d"}),
        respond(
            "d",
            json!({"i": "${loop.index}", "v": "${loop.item * 2}"}),
            200,
        ),
    ]);
    let fx = serve_flows(json!({}), "post", vec![("main", main), ("double", double)]).await;
    let got = fx.post("/t", &json!([1, 2, 3])).await;
    assert_eq!(
        got.json(),
        json!({"out": [{"i": 0, "v": 2}, {"i": 1, "v": 4}, {"i": 2, "v": 6}], "seen": 2})
    );
    // A body that is not a list fails the run cleanly.
    assert_eq!(fx.post("/t", &json!({"a": 1})).await.status, 500);
}

#[tokio::test]
async fn range_loop_and_failing_iteration() {
    let main = flow(vec![
        json!({"id": "l", "action": "loop", "data": {"type": "range", "data": "${int(request.qs.n)}", "flow": "inv"}, "next_action": "r"}),
        respond("r", json!("${response.data}"), 200),
    ]);
    let inv = flow(vec![respond("d", json!("${10 // (loop.item - 2)}"), 200)]);
    let fx = serve_flows(
        json!({"debug": true}),
        "get",
        vec![("main", main), ("inv", inv)],
    )
    .await;
    assert_eq!(fx.get("/t?n=2").await.json(), json!([-5, -10]));
    let got = fx.debug_get("/t?n=3").await;
    assert_eq!(got.status, 500);
    assert_eq!(
        got.json()["exception"]["message"],
        "item 2 of the loop failed: division by zero"
    );
}

/// A loop bomb: a `range` whose count comes from the request used to allocate the whole range
/// (10^13 aborted the process). Now it is a clean failure of that run, and the server goes on.
#[tokio::test]
async fn a_range_beyond_the_step_budget_fails_cleanly() {
    let main = flow(vec![
        json!({"id": "l", "action": "loop", "data": {"type": "range", "data": "${int(request.qs.n)}", "flow": "one"}, "next_action": "r"}),
        respond("r", json!("${len(response.data)}"), 200),
    ]);
    let one = flow(vec![respond("d", json!("${loop.index}"), 200)]);
    let fx = serve_flows(
        json!({"debug": true}),
        "get",
        vec![("main", main), ("one", one)],
    )
    .await;
    let got = fx.debug_get("/t?n=10000000000000").await;
    assert_eq!(got.status, 500);
    assert_eq!(
        got.json()["exception"]["message"],
        "a `range` loop of 10000000000000 items exceeds the run's step budget (10000, `limits.max_steps`)"
    );
    assert_eq!(fx.get("/t?n=3").await.json(), json!(3));
}

#[tokio::test]
async fn async_handle_discards_its_effects() {
    let main = flow(vec![
        json!({"id": "h", "action": "handle", "data": {"flow": "sub"}, "execute_async": true, "next_action": "r"}),
        respond(
            "r",
            json!({"r": "${response.data}", "w": "${workspace.w}"}),
            200,
        ),
    ]);
    let sub = flow(vec![
        json!({"id": "w", "action": "workspace_var", "data": {"w": 1}, "next_action": "d"}),
        respond("d", json!({"x": 1}), 201),
    ]);
    let fx = serve_flows(json!({}), "get", vec![("main", main), ("sub", sub)]).await;
    assert_eq!(fx.get("/t").await.json(), json!({"r": null, "w": null}));
}

#[tokio::test]
async fn debug_traces_are_bounded_in_entries_and_bytes() {
    // A cycle of 2 × 1,200 actions and one large value: the trace keeps 1,000 entries (and a
    // note), and an entry's data past 64 KiB is replaced by its size.
    let actions = vec![
        json!({"id": "big", "action": "flow_var", "data": {"blob": "${'x' * 100000}"}, "next_action": "c"}),
        json!({"id": "c", "action": "flow_var", "data": {"n": "${(flow.n or 0) + 1}"}, "next_action": "s"}),
        json!({"id": "s", "action": "switch", "data": {"conditions": [
            {"operator": "less_than", "first_expression": "${flow.n}", "second_expression": 1200, "next_action": "c"}
        ], "next_action_else": "r"}, "next_action": "${pipeline.next_action}"}),
        respond("r", json!("${flow.n}"), 200),
    ];
    let fx = serve_get(json!({"debug": true}), actions).await;
    let got = fx.debug_get("/t").await;
    assert_eq!(got.status, 200, "{}", got.text);
    let body = got.json();
    assert_eq!(body["data"], 1200);
    let entries = body["__debug__"]["workspace"]["flows"][0]["actions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(entries.len(), 1001);
    assert_eq!(
        entries[0]["data"]["truncated"],
        "100011 bytes of data, more than a trace keeps (65536)"
    );
    assert_eq!(
        entries[1000]["data"]["truncated"],
        "the trace keeps the first 1000 actions of a run"
    );
}

/// `EngineBuilder::client`: the application's own reqwest client makes the calls (here, its
/// default headers and user agent reach the upstream).
#[tokio::test]
async fn an_application_client_makes_the_calls() {
    // An application's own client: it chooses the process's rustls provider (flowyt never does).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-team",
        reqwest::header::HeaderValue::from_static("payments"),
    );
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .user_agent("payments-gateway/1.0")
        .build()
        .expect("client");
    let engine = flowyt_runtime::Engine::builder()
        .client(client)
        .build()
        .expect("engine");
    let served = Case::with_upstream()
        .await
        .engine(engine)
        .single_flow(
            "get",
            vec![
                request("${env.baseUrl}/echo", json!({})),
                respond("4", json!("${response.data.headers}"), 200),
                respond("5", json!("${response.data}"), 502),
            ],
        )
        .serve()
        .await;
    let got = served.get("/t").await;
    assert_eq!(got.status, 200, "{}", got.text);
    let headers = got.json();
    assert_eq!(headers["x-team"], "payments");
    assert_eq!(headers["user-agent"], "payments-gateway/1.0");
    // flowyt's own headers are still sent beside the client's.
    assert_eq!(headers["accept"], "application/json");
}
