//! The conformance cases of the legacy spec (§9), run through real HTTP: a flowyt workspace
//! mounted in axum on 127.0.0.1, an upstream on 127.0.0.1, a real client. Where the spec gives
//! a [typed] and a [HEAD] result, flowyt gives the [typed] one (decision 1).

mod support;

use flowyt_runtime::MASKED_ERROR;
use serde_json::{Value, json};
use support::*;

/// Serves `actions` as flow `f` on `GET /t` and calls `/t{query}`.
async fn one(actions: Vec<Value>, query: &str) -> Got {
    let served = Case::new().single_flow("get", actions).serve().await;
    served.get(&format!("/t{query}")).await
}

/// Serves `actions` as flow `f` on `GET /t`, with `debug` on in the settings.
async fn serve_debug(actions: Vec<Value>) -> Served {
    Case::new()
        .settings(json!({"debug": true}))
        .single_flow("get", actions)
        .serve()
        .await
}

#[tokio::test]
async fn c01_response_hello_world() {
    let got = one(
        vec![
            start("1", json!("2")),
            respond("2", json!({"msg": "Hello world!"}), 200),
        ],
        "",
    )
    .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.headers["content-type"], "application/json");
    assert_eq!(got.json(), json!({"msg": "Hello world!"}));
}

#[tokio::test]
async fn c02_status_and_headers() {
    let r = json!({"id": "2", "action": "response", "data": {"status": 201, "headers": {"X-A": "b"}, "data": {}}, "next_action": null});
    let got = one(vec![start("1", json!("2")), r], "").await;
    assert_eq!(got.status, 201);
    assert_eq!(got.headers["x-a"], "b");
    assert_eq!(got.headers["content-type"], "application/json");
}

#[tokio::test]
async fn c03_list_body_from_template() {
    let got = one(
        vec![
            start("1", json!("2")),
            respond("2", json!("${[1, 2, 3]}"), 200),
        ],
        "",
    )
    .await;
    assert_eq!(got.json(), json!([1, 2, 3]));
}

#[tokio::test]
async fn c04_natural_end_is_empty_object() {
    let got = one(vec![start("1", Value::Null)], "").await;
    assert_eq!((got.status, got.json()), (200, json!({})));
}

#[tokio::test]
async fn c05_entry_is_first_action_without_start() {
    let got = one(
        vec![
            json!({"id": "a", "action": "flow_var", "data": {"x": "abc"}, "next_action": "b"}),
            respond("b", json!({"v": "${flow.x}"}), 200),
        ],
        "",
    )
    .await;
    assert_eq!(got.json(), json!({"v": "abc"}));
}

#[tokio::test]
async fn c06_unknown_kind_is_a_no_op_when_serving() {
    let got = one(
        vec![
            json!({"id": "1", "action": "frobnicate", "data": {}, "next_action": "2"}),
            respond("2", json!({"ok": 1}), 200),
        ],
        "",
    )
    .await;
    assert_eq!((got.status, got.json()), (200, json!({"ok": 1})));
}

#[tokio::test]
async fn c07_dangling_id_is_a_masked_500() {
    let got = one(vec![start("1", json!("2"))], "").await;
    assert_eq!(got.status, 500);
    assert_eq!(got.json(), json!({"exception": MASKED_ERROR}));
}

#[tokio::test]
async fn c08_unknown_path_and_wrong_method() {
    let served = Case::new()
        .single_flow("get", vec![start("1", Value::Null)])
        .serve()
        .await;
    assert_eq!(served.get("/nope").await.status, 404);
    assert_eq!(send(served.request("post", "/t")).await.status, 405);
}

#[tokio::test]
async fn c09_flask_path_params_reach_request_params() {
    let f = flow(vec![respond(
        "1",
        json!({"loja": "${request.params.loja}", "n": "${request.params.n}"}),
        200,
    )]);
    let served = Case::new()
        .route("get", "/loja/<string:loja>/livro/<int:n>", "f")
        .flow("f", f)
        .serve()
        .await;
    assert_eq!(
        served.get("/loja/BH/livro/7").await.json(),
        json!({"loja": "BH", "n": 7})
    );
    assert_eq!(served.get("/loja/BH/livro/x").await.status, 404);
}

#[tokio::test]
async fn c10_xml_when_asked() {
    let served = Case::new()
        .single_flow("get", vec![respond("1", json!({"root": {"a": "1"}}), 200)])
        .serve()
        .await;
    let got = send(
        served
            .request("get", "/t")
            .header("Accept", "application/xml"),
    )
    .await;
    assert_eq!(got.headers["content-type"], "application/xml");
    assert_eq!(
        got.text,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<root><a>1</a></root>"
    );
}

#[tokio::test]
async fn c10_xml_asked_for_an_answer_xml_cannot_hold_is_not_acceptable() {
    // Two top-level keys have no XML form: the client asked for what cannot be given (406),
    // while a flow that itself answers XML it cannot write is the flow's fault (500).
    let two_keys = json!({"a": 1, "b": 2});
    let served = Case::new()
        .single_flow("get", vec![respond("1", two_keys.clone(), 200)])
        .serve()
        .await;
    let got = send(
        served
            .request("get", "/t")
            .header("Accept", "application/xml"),
    )
    .await;
    assert_eq!(got.status, 406, "{}", got.text);
    assert!(got.text.contains("one top-level key"), "{}", got.text);
    let mut own = respond("1", two_keys, 200);
    own["data"]["headers"] = json!({"Content-Type": "application/xml"});
    let served = Case::new().single_flow("get", vec![own]).serve().await;
    assert_eq!(served.get("/t").await.status, 500);
}

#[tokio::test]
async fn c12_c13_templated_url_and_missing_value() {
    let actions = vec![respond(
        "1",
        json!({"url": "${env.baseUrl}/users/${request.qs.user}"}),
        200,
    )];
    let got = one(actions.clone(), "?user=octocat").await;
    assert_eq!(
        got.json(),
        json!({"url": format!("{NO_UPSTREAM}/users/octocat")})
    );
    // Decision 2: splicing a missing value is an error naming the path and the action.
    let served = serve_debug(actions).await;
    let got = served.debug_get("/t").await;
    assert_eq!(got.status, 500);
    assert_eq!(
        got.json()["exception"]["message"],
        "`request.qs.user` is missing in action `1`"
    );
}

#[tokio::test]
async fn c14_typed_whole_templates() {
    let data = json!({"n": "${1 + 2}", "f": "${10 * 5 / 2}", "b": "${1 == 1}", "z": "${None}", "l": "${['a', 'b']}", "s": "${'x' * 3}"});
    let got = one(vec![respond("1", data, 200)], "").await;
    assert_eq!(
        got.json(),
        json!({"n": 3, "f": 25.0, "b": true, "z": null, "l": ["a", "b"], "s": "xxx"})
    );
    assert!(
        got.text.contains("25.0"),
        "floats keep their point: {}",
        got.text
    );
}

#[tokio::test]
async fn c15_embedded_templates_render_like_python() {
    let data = json!({"a": "${1+1} items", "b": "ok=${1 == 1}", "c": "v=${None}"});
    let got = one(vec![respond("1", data, 200)], "").await;
    assert_eq!(
        got.json(),
        json!({"a": "2 items", "b": "ok=True", "c": "v=None"})
    );
}

#[tokio::test]
async fn c16_request_body_access() {
    let body = json!({"a": {"b": 1}, "list": [{"x": 1}]});
    let actions = vec![respond(
        "1",
        json!({"d": "${request.data}", "x": "${request.data.list[0].x}"}),
        200,
    )];
    let served = Case::new().single_flow("post", actions).serve().await;
    let got = served.post("/t", &body).await;
    assert_eq!(got.json(), json!({"d": body, "x": 1}));
}

#[tokio::test]
async fn c17_c18_headers_and_repeated_query_keys() {
    let actions = vec![respond(
        "1",
        json!({"k": "${request.headers.x_api_key}", "a": "${request.qs.a}"}),
        200,
    )];
    let served = Case::new().single_flow("get", actions).serve().await;
    let got = send(
        served
            .request("get", "/t?a=1&a=2")
            .header("X-Api-Key", "k1"),
    )
    .await;
    assert_eq!(got.json(), json!({"k": "k1", "a": "1"}));
}

#[tokio::test]
async fn c19_strings_in_arrays_are_templated() {
    let got = one(
        vec![respond(
            "1",
            json!({"arr": ["${1+1}", {"x": "${1+1}"}]}),
            200,
        )],
        "",
    )
    .await;
    assert_eq!(got.json(), json!({"arr": [2, {"x": 2}]}));
}

#[tokio::test]
async fn c20_braces_inside_templates_work() {
    let got = one(
        vec![respond("1", json!({"v": "${ {'a': 1}['a'] }"}), 200)],
        "",
    )
    .await;
    assert_eq!(got.json(), json!({"v": 1}));
}

#[tokio::test]
async fn c21_errors_in_debug_and_masked() {
    let r = json!({"id": "2", "action": "response", "data": {"status": 200, "headers": {}, "data": {"v": "${0/0}"}}, "next_action": null});
    let actions = vec![start("1", json!("2")), r];
    let served = serve_debug(actions).await;
    let got = served.debug_get("/t").await;
    assert_eq!(got.status, 500);
    let body = got.json();
    assert_eq!(
        body["exception"],
        json!({"message": "division by zero", "action": {"id": "2", "name": "response", "data": {"status": 200, "headers": {}, "data": {"v": "${0/0}"}}}})
    );
    let flows = &body["__debug__"]["workspace"]["flows"];
    assert_eq!(flows[0]["actions"][0]["name"], "start");
    let got = served.get("/t").await;
    assert_eq!(
        (got.status, got.json()),
        (500, json!({"exception": MASKED_ERROR}))
    );
}

#[tokio::test]
async fn c22_flow_before_any_flow_var_is_missing() {
    let got = one(vec![respond("1", json!({"v": "${flow.x}"}), 200)], "").await;
    assert_eq!(got.json(), json!({"v": null}));
}

#[tokio::test]
async fn c23_conditional_expression() {
    let actions = vec![respond(
        "1",
        json!({"v": "${'yes' if request.qs.flag == 'true' else 'no'}"}),
        200,
    )];
    assert_eq!(
        one(actions.clone(), "?flag=true").await.json(),
        json!({"v": "yes"})
    );
    assert_eq!(one(actions, "").await.json(), json!({"v": "no"}));
}

#[tokio::test]
async fn c24_list_comprehension_with_filter() {
    let actions = vec![respond(
        "1",
        json!({"v": "${[s for s in request.data if s.ok == 'true']}"}),
        200,
    )];
    let served = Case::new().single_flow("post", actions).serve().await;
    let got = served
        .post(
            "/t",
            &json!([{"n": 1, "ok": "true"}, {"n": 2, "ok": "false"}]),
        )
        .await;
    assert_eq!(got.json(), json!({"v": [{"n": 1, "ok": "true"}]}));
}

#[tokio::test]
async fn c25_empty_string_splices_as_empty() {
    let got = one(vec![respond("1", json!({"v": "pre-${''}-post"}), 200)], "").await;
    assert_eq!(got.json(), json!({"v": "pre--post"}));
}

#[tokio::test]
async fn c27_next_action_branch_after_non_branching_action_fails() {
    let got = one(
        vec![
            json!({"id": "1", "action": "flow_var", "data": {"x": 1}, "next_action": "${pipeline.next_action}"}),
            respond("2", json!({}), 200),
        ], "")
    .await;
    assert_eq!(got.status, 500);
}

#[tokio::test]
async fn c28_dynamic_next_action_reads_pipeline() {
    let got = one(
        vec![
            json!({"id": "1", "action": "flow_var", "data": {"x": 1}, "next_action": "${'b' if pipeline.next_action is None else 'c'}"}),
            respond("b", json!({"went": "b"}), 200),
            respond("c", json!({"went": "c"}), 200),
        ], "")
    .await;
    assert_eq!(got.json(), json!({"went": "b"}));
}

#[tokio::test]
async fn c29_empty_next_action_ends() {
    let got = one(
        vec![json!({"id": "1", "action": "flow_var", "data": {}, "next_action": ""})],
        "",
    )
    .await;
    assert_eq!((got.status, got.json()), (200, json!({})));
}
