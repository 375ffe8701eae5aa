//! Flows compiled with `flow!` / `include_flow!` and the same flows loaded from JSON at run
//! time answer the same requests identically: each pair is served side by side on
//! 127.0.0.1 and called with a real client.

mod support;

use axum::Router;
use axum::extract::{Path, Query};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use flowyt_runtime::core::model::Flow;
use flowyt_runtime::core::workspace::{Settings, Workspace as CoreWorkspace};
use flowyt_runtime::{CheckedFlow, Engine, FlowService, flow, flow_action, include_flow};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use support::spawn;

/// A stand-in GitHub API plus an echo route.
fn upstream() -> Router {
    Router::new()
        .route(
            "/users/{user}/repos",
            get(|Path(user): Path<String>| async move {
                if user == "nobody" {
                    return support::not_found();
                }
                axum::Json(json!([
                    {"name": format!("{user}/flowyt"), "stargazers_count": 42},
                    {"name": format!("{user}/dotfiles"), "stargazers_count": 0},
                    {"name": format!("{user}/orchestra"), "stargazers_count": 7},
                ]))
                .into_response()
            }),
        )
        .route(
            "/echo",
            any(
                |Query(q): Query<HashMap<String, String>>, body: String| async move {
                    axum::Json(json!({"query": q, "body": body}))
                },
            ),
        )
}

/// Starts [`upstream`] and returns settings whose `env.KEY` is its base URL.
async fn settings_with_upstream(key: &str) -> Settings {
    let addr = spawn(upstream()).await;
    let mut settings = Settings::default();
    settings
        .env
        .insert(key.into(), json!(format!("http://{addr}")));
    settings
}

/// What a client sees of an answer, minus headers that differ per response (`date`).
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    content_type: Option<String>,
    body: String,
}

/// Serves each service under `/<index>` and sends every request to each of them.
async fn answers(
    services: Vec<FlowService>,
    requests: &[(&str, Option<Value>)],
) -> Vec<Vec<Answer>> {
    let mut app = Router::new();
    for (i, s) in services.iter().enumerate() {
        app = app.route(&format!("/{i}"), any(s.clone()));
    }
    let addr = spawn(app).await;
    let client = flowyt_runtime::http_client().expect("client");
    let mut all = Vec::new();
    for i in 0..services.len() {
        let mut these = Vec::new();
        for (query, body) in requests {
            let url = format!("http://{addr}/{i}{query}");
            let req = match body {
                Some(b) => client.post(url).json(b),
                None => client.get(url),
            };
            let res = req
                .timeout(Duration::from_secs(10))
                .send()
                .await
                .expect("flow answers");
            these.push(Answer {
                status: res.status().as_u16(),
                content_type: res
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
                body: res.text().await.expect("body"),
            });
        }
        all.push(these);
    }
    all
}

fn legacy(name: &str) -> Flow {
    let path = format!(
        "{}/../examples/workspaces/github/flows/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("legacy flow file");
    Flow::from_json_named(&path, &text, &Default::default()).expect("valid legacy flow")
}

fn search() -> CheckedFlow {
    flow! {
        id = "f9033cf9-2336-474f-b785-0c334177dfb3";
        name = "Github";

        1: start -> 2;
        2: flow_var {
            url: "${env.baseUrl}/users/${request.qs.user}/repos?sort=updated&direction=asc",
        } -> 3;
        3: request {
            url: "${flow.url}",
            method: "get",
            headers: {},
            data: {},
        } -> success: 4, fail: 6;
        4: workspace_var { response: "${response}" } -> 5;
        5: jump { next_flow: "mining" };
        6: response {
            status: 400,
            headers: {},
            data: { msg: "Something went wrong", data: "${response.data}" },
        };
    }
}

fn mining() -> CheckedFlow {
    flow! {
        id = "f9033cf9-6666-474f-b785-0c334177dfb3";
        name = "trait";

        1: start -> 2;
        2: response {
            status: 201,
            headers: {},
            data: "${[{'name': repo.name, 'stars': repo.stargazers_count} for repo in workspace.response.data if repo.stargazers_count > 0]}",
        };
    }
}

#[tokio::test]
async fn github_search_written_in_rust_answers_like_the_legacy_files() {
    let settings = settings_with_upstream("baseUrl").await;
    let engine = Engine::new().expect("engine");

    let compiled = engine.checked_workspace(
        "github",
        settings.clone(),
        [("search", search()), ("mining", mining())],
    );
    let included = engine.checked_workspace(
        "github",
        settings.clone(),
        [
            (
                "search",
                include_flow!("../examples/workspaces/github/flows/search.json"),
            ),
            (
                "mining",
                include_flow!("../examples/workspaces/github/flows/mining.json"),
            ),
        ],
    );
    let mut ws = CoreWorkspace {
        name: "github".into(),
        settings,
        ..Default::default()
    };
    ws.flows.insert("search".into(), legacy("search"));
    ws.flows.insert("mining".into(), legacy("mining"));
    let loaded = engine.workspace(ws);

    let services = [&compiled, &included, &loaded]
        .map(|w| w.service("search").expect("search flow"))
        .to_vec();
    let requests = [
        ("?user=octocat", None),
        ("?user=nobody", None),
        // No `user`: splicing a missing value into the URL fails the run (a masked 500).
        ("", None),
        ("?user=a%20b&extra=1", None),
    ];
    let all = answers(services, &requests).await;
    assert_eq!(
        all[0][0],
        Answer {
            status: 201,
            content_type: Some("application/json".into()),
            body:
                r#"[{"name":"octocat/flowyt","stars":42},{"name":"octocat/orchestra","stars":7}]"#
                    .into(),
        }
    );
    assert_eq!(all[0][1].status, 400);
    assert_eq!(all[0][2].status, 500);
    assert_eq!(all[0], all[1], "flow! and include_flow! differ");
    assert_eq!(all[0], all[2], "flow! and the JSON files differ");
}

/// A flow using most kinds; its JSON twin is the document `flow!` lowered it to.
fn varied() -> CheckedFlow {
    flow! {
        name = "varied";

        begin: start -> vars;
        vars: flow_var { n: "${int(request.qs.n or 0)}", tags: ["a", "${request.qs.tag}"] } -> route;
        route: switch {
            "${flow.n}" > 10 => big,
            "${flow.n}" == 0 => check,
            "${request.qs.tag}" in ["x", "y"] => tagged,
            "${flow.tags}" contains "z" => tagged,
            else => small,
        };
        big: request {
            url: "${env.upstream}/echo",
            method: "post",
            data: { n: "${flow.n}" },
        } -> success: echoed, fail: failed;
        echoed: response { status: 202, headers: { "X-Kind": "big" }, data: "${response.data}" };
        failed: response { status: 502, data: "${response.data}" };
        check: validation {
            schema: { name: { type: "string", required: true, minlength: 2 } },
        } -> success: hello, fail: invalid;
        hello: run { greeting: "hello ${request.data.name}" } -> said;
        said: response { data: "${response.data}" };
        invalid: response { status: 422, data: "${response.data}" };
        tagged: workspace_var { tag: "${request.qs.tag}" } -> tag_out;
        tag_out: response { data: { tag: "${workspace.tag}", n: "${flow.n}" } };
        small: end;
    }
}

#[tokio::test]
async fn compiled_flow_and_its_json_twin_answer_alike() {
    let settings = settings_with_upstream("upstream").await;
    let engine = Engine::new().expect("engine");
    let flow = varied();
    let compiled = flow.service_with(&engine, settings.clone());
    let twin = Flow::from_json_named("twin.json", flow.json(), &engine.catalog())
        .expect("the JSON twin loads");
    let loaded = engine.service(twin, settings);
    let requests = [
        ("?n=12", None),
        ("?n=0", Some(json!({"name": "Ada"}))),
        ("?n=0", Some(json!({"name": "A"}))),
        ("?n=3&tag=x", None),
        ("?n=3&tag=z", None),
        ("?n=3", None),
        ("?n=abc", None),
    ];
    let all = answers(vec![compiled, loaded], &requests).await;
    let statuses: Vec<u16> = all[0].iter().map(|a| a.status).collect();
    assert_eq!(statuses, [202, 200, 422, 200, 200, 200, 500]);
    assert_eq!(all[0][1].body, r#"{"greeting":"hello Ada"}"#);
    assert_eq!(all[0], all[1]);
}

#[derive(Deserialize)]
struct Order {
    qty: u32,
}

#[derive(Serialize)]
struct Quote {
    total: u32,
}

struct Prices {
    unit: u32,
}

#[flow_action]
async fn price(input: Order, prices: &Prices) -> Result<Quote, Value> {
    match input.qty {
        0 => Err(json!({"error": "empty order"})),
        qty => Ok(Quote {
            total: qty * prices.unit,
        }),
    }
}

#[tokio::test]
async fn typed_actions_run_alike_in_compiled_and_json_flows() {
    let flow = flow! {
        actions = [price];
        quote: price {
            qty: "${int(request.qs.qty) if request.qs.qty.isdigit() else request.qs.qty}",
        } -> success: ok, fail: ko;
        ok: response { data: "${response.data}" };
        ko: response { status: 422, data: "${response.data}" };
    };
    // The JSON twin runs on an engine where the typed action is registered by hand.
    let engine = flow
        .register(Engine::builder())
        .state(Prices { unit: 5 })
        .build()
        .expect("engine");
    let compiled = flow.service(&engine);
    let loaded = engine.service_from_json(flow.json()).expect("twin loads");
    let requests = [
        ("?qty=3", None),
        ("?qty=0", None),
        ("?qty=many", None),
        ("", None),
    ];
    let all = answers(vec![compiled, loaded], &requests).await;
    assert_eq!(all[0][0].body, r#"{"total":15}"#);
    assert_eq!(
        (all[0][1].status, all[0][1].body.as_str()),
        (422, r#"{"error":"empty order"}"#)
    );
    // Data that does not fit the input type takes the fail branch and says why.
    let bad: Value = serde_json::from_str(&all[0][2].body).expect("JSON");
    assert_eq!(
        (all[0][2].status, &bad["error"]),
        (422, &json!("invalid_input"))
    );
    assert_eq!(all[0], all[1]);
}

#[tokio::test]
async fn typed_action_without_its_state_is_refused_at_mount_and_fails_its_branch_in_json() {
    let flow = flow! {
        actions = [price];
        quote: price { qty: 2 } -> success: ok, fail: ko;
        ok: response { data: "${response.data}" };
        ko: response { status: 500, data: "${response.data}" };
    };
    let engine = Engine::new().expect("engine");
    // Mounting the compiled flow checks the state its typed action takes.
    let err = flow.try_service(&engine).expect_err("no state");
    assert_eq!(err.action, "price");
    // A JSON flow using the same action (registered by hand) cannot be checked before it
    // runs: the action takes its fail branch, saying what is missing.
    let engine = flow.register(Engine::builder()).build().expect("engine");
    let json = flow.json();
    let service = engine.service_from_json(json).expect("loads");
    let run = service.run(Default::default()).await;
    let flowyt_runtime::Outcome::Response { status, body, .. } = run.outcome else {
        panic!("expected a response, got {:?}", run.outcome);
    };
    assert_eq!(status, 500);
    assert_eq!(body.to_value()["error"], "missing_state");
}

/// A typed action that answers differently when called by its kind name (`CustomAction`,
/// as a JSON flow calls it) and when called directly (`TypedAction::invoke`, as a `flow!`'s
/// generated loop calls it), to show which way a run took.
#[allow(non_camel_case_types)]
#[derive(Clone, Copy)]
struct marked;

impl flowyt_runtime::CustomAction for marked {
    fn call(
        &self,
        _input: Value,
        _cx: flowyt_runtime::ActionContext,
    ) -> futures_util::future::BoxFuture<'static, Result<Value, Value>> {
        Box::pin(async { Ok(json!("by name")) })
    }
}

impl flowyt_runtime::TypedAction for marked {
    const NAME: &'static str = "marked";
    type Input = Order;
    type Output = String;
    type Error = ();

    async fn invoke(
        &self,
        input: Order,
        _cx: flowyt_runtime::ActionContext,
    ) -> Result<Result<String, ()>, Value> {
        Ok(Ok(format!("direct, qty {}", input.qty)))
    }
}

#[tokio::test]
async fn the_generated_loop_calls_typed_actions_directly() {
    let flow = flow! {
        actions = [marked];
        m: marked { qty: 2 } -> success: ok, fail: ok;
        ok: response { data: "${response.data}" };
    };
    let engine = flow.register(Engine::builder()).build().expect("engine");
    let body = |run: flowyt_runtime::RunResult| match run.outcome {
        flowyt_runtime::Outcome::Response { body, .. } => body.to_value(),
        other => panic!("expected a response, got {other:?}"),
    };
    let compiled = flow.service(&engine).run(Default::default()).await;
    assert_eq!(body(compiled), json!("direct, qty 2"));
    // The same model without the generated loop calls the action by its kind name.
    let twin = engine.service_from_json(flow.json()).expect("twin loads");
    assert_eq!(body(twin.run(Default::default()).await), json!("by name"));
    // `include_flow!` generates the same loop for a JSON file.
    let included = include_flow!("tests/fixtures/flows/marked.json", actions = [marked]);
    let input = flowyt_runtime::RunInput {
        request: json!({"qs": {"qty": "5"}}),
        ..Default::default()
    };
    let run = included.service(&engine).run(input.clone()).await;
    assert_eq!(body(run), json!("direct, qty 5"));
    // So does `include_workspace!`, for each of its flows (`quote` jumps to `mark`).
    let ws =
        flowyt_runtime::include_workspace!("tests/fixtures/workspaces/marked", actions = [marked])
            .workspace(&engine)
            .expect("loads");
    assert_eq!(body(ws.run("quote", input).await), json!("direct, qty 5"));
}

#[flow_action]
async fn explode(input: Order) -> Result<Quote, Value> {
    if input.qty > 0 {
        panic!("the action broke");
    }
    Err(json!("never"))
}

#[tokio::test]
async fn a_typed_action_that_panics_fails_the_run_alike_in_compiled_and_json_flows() {
    let flow = flow! {
        actions = [explode];
        e: explode { qty: 1 } -> success: ok, fail: ok;
        ok: response { data: "${response.data}" };
    };
    let engine = flow.register(Engine::builder()).build().expect("engine");
    let twin = engine.service_from_json(flow.json()).expect("twin loads");
    for service in [flow.service(&engine), twin] {
        let run = service.run(Default::default()).await;
        let flowyt_runtime::Outcome::Failed(e) = run.outcome else {
            panic!("expected a failed run, got {:?}", run.outcome);
        };
        assert_eq!(e.kind, flowyt_runtime::ErrorKind::Panic);
        assert_eq!(e.message, "custom action `explode` panicked");
    }
}

/// Edges the generated loop leaves to run time: branch targets that are templates, a
/// `next_action` template, unknown targets, and a branch with no target.
#[allow(deprecated)] // `open` has no fail branch on purpose: its validator warning is a rustc one.
fn runtime_edges() -> CheckedFlow {
    flow! {
        name = "runtime_edges";
        vars: flow_var { go: "${request.qs.go}" } -> first;
        first: switch {
            "${request.qs.first}" == "pick" => pick,
            "${request.qs.first}" == "open" => open,
            "${request.qs.first}" == "run" => choose,
            "${request.qs.first}" == "b" => b,
            else => none,
        };
        pick: request {
            url: "${env.dead if request.qs.dead else env.upstream}/echo",
            method: "get",
        } -> success: "${flow.go}", fail: down;
        open: request {
            url: "${env.dead if request.qs.dead else env.upstream}/echo",
            method: "get",
        } -> success: a;
        choose: run { next: "${flow.go}" } -> "${pipeline.response.data.next}";
        a: response { data: "a" };
        b: response { data: "b" };
        none: response { status: 204, data: {} };
        down: response { status: 502, data: "down" };
    }
}

#[tokio::test]
async fn edges_left_to_run_time_resolve_alike_in_compiled_and_json_flows() {
    let mut settings = settings_with_upstream("upstream").await;
    settings
        .env
        .insert("dead".into(), json!("http://127.0.0.1:9"));
    let engine = Engine::new().expect("engine");
    let flow = runtime_edges();
    let compiled = flow.service_with(&engine, settings.clone());
    let twin = Flow::from_json_named("twin.json", flow.json(), &engine.catalog())
        .expect("the JSON twin loads");
    let loaded = engine.service(twin, settings);
    let (compiled_again, loaded_again) = (compiled.clone(), loaded.clone());
    let requests = [
        ("?first=pick&go=a", None),
        ("?first=pick&go=b", None),
        ("?first=pick&go=nowhere", None),
        ("?first=pick&go=a&dead=1", None),
        ("?first=open", None),
        ("?first=open&dead=1", None),
        ("", None),
        ("?first=run&go=b", None),
        ("?first=run&go=missing", None),
        ("?first=run", None),
    ];
    let all = answers(vec![compiled, loaded], &requests).await;
    let statuses: Vec<u16> = all[0].iter().map(|a| a.status).collect();
    // The last one ends the flow (an empty `next_action`): a run that ends answers 200.
    assert_eq!(statuses, [200, 200, 500, 502, 200, 500, 204, 200, 500, 200]);
    assert_eq!(all[0][1].body, r#""b""#);
    assert_eq!(all[0][7].body, r#""b""#);
    assert_eq!(all[0], all[1], "flow! and its JSON twin differ");
    // The failures say why, the same way in both.
    for (query, needle) in [
        (
            json!({"first": "pick", "go": "nowhere"}),
            "points to unknown action `nowhere`",
        ),
        (
            json!({"first": "open", "dead": "1"}),
            "chose no next action",
        ),
        (
            json!({"first": "run", "go": "missing"}),
            "points to unknown action `missing`",
        ),
    ] {
        for service in [&compiled_again, &loaded_again] {
            let input = flowyt_runtime::RunInput {
                request: json!({ "qs": query.clone() }),
                ..Default::default()
            };
            let run = service.run(input).await;
            let flowyt_runtime::Outcome::Failed(e) = run.outcome else {
                panic!("expected a failed run, got {:?}", run.outcome);
            };
            assert!(e.message.contains(needle), "{}", e.message);
        }
    }
}

/// Every part of the expression language, in one flow: operators, comparisons, boolean logic,
/// conditionals, comprehensions, lambdas, indexes and slices, methods, builtins, splicing,
/// escapes and missing values.
fn expressions() -> CheckedFlow {
    flow! {
        name = "expressions";
        params = { n: { type: "integer", default: 7 } };

        1: flow_var {
            arith: "${[params.n + 2, params.n - 2, params.n * 2, params.n / 2, params.n // 2, params.n % 3, params.n ** 2, -params.n, 2.5 * 2]}",
            cmp: "${[1 < params.n <= 7, params.n == 7.0, 'a' != 'b', 'b' in 'abc', 3 not in [1, 2], None is None, params.n >= 8]}",
            logic: "${[True and 'x', 0 or 'fallback', not '', request.qs.q or 'none']}",
            cond: "${'big' if params.n > 5 else 'small'}",
            comp: "${[x * x for x in range(5) if x % 2 == 0]}",
            dict: "${ {k: v for k, v in {'a': 1, 'b': 2}.items() if v > 1} }",
            lam: "${sorted(['bb', 'a', 'ccc'], key=lambda s: len(s))}",
            idx: "${[[1, 2, 3][-1], 'flowyt'[1:4], [1, 2, 3, 4][::2], {'k': {'j': 'deep'}}['k']['j']]}",
            text: "${['  Hi  '.strip().upper(), 'a,b'.split(','), '-'.join(['x', 'y']), 'abc'.replace('b', 'B'), 'x'.startswith('x'), '{}-{}'.format(1, 2)]}",
            builtins: "${[len('abc'), str(3), int('4'), float(2), bool(0), abs(-3), min(4, 2), max([1, 9]), sum([1, 2]), round(2.567, 2), list(reversed([1, 2])), any([0, 1]), all([]), list(enumerate('ab')), list(zip([1], ['a'])), json.loads(json.dumps({'a': [1]}))]}",
            qs: "${request.qs.q}",
        } -> 2;
        2: response {
            data: {
                values: ["${flow.arith}", "${flow.cmp}", "${flow.logic}", "${flow.cond}", "${flow.comp}", "${flow.dict}", "${flow.lam}", "${flow.idx}", "${flow.text}", "${flow.builtins}", "${flow.qs}"],
                spliced: "n=${params.n} ok=${params.n > 1} none=${None} list=${[1, 'a']} float=${10 * 5 / 2} escaped=$${not a template}",
                missing: "${request.qs.nothing}",
                header: "${request.headers.x_trace}",
            },
        };
    }
}

#[tokio::test]
async fn every_expression_feature_renders_alike_in_compiled_and_json_flows() {
    let engine = Engine::new().expect("engine");
    let flow = expressions();
    // Every expression runs generated code.
    let (compiled_exprs, total) = flow.compiled_expressions();
    assert_eq!((compiled_exprs, total), (29, 29), "compiled, total");
    let compiled = flow.service(&engine);
    let twin = Flow::from_json_named("twin.json", flow.json(), &engine.catalog())
        .expect("the JSON twin loads");
    let loaded = engine.service(twin, Settings::default());
    let requests = [("", None), ("?n=2&q=hello", None), ("?n=x", None)];
    let all = answers(vec![compiled, loaded], &requests).await;
    assert_eq!(all[0][0].status, 200, "{}", all[0][0].body);
    let body: Value = serde_json::from_str(&all[0][0].body).expect("JSON");
    assert_eq!(body["values"][0], json!([9, 5, 14, 3.5, 3, 1, 49, -7, 5.0]));
    assert_eq!(
        body["spliced"],
        "n=7 ok=True none=None list=[1, 'a'] float=25.0 escaped=${not a template}"
    );
    assert_eq!(body["missing"], Value::Null);
    // What CPython 3.11 prints for the same expressions with n = 7 (json.dumps of each).
    let python: Value = serde_json::from_str(
        r#"[[9,5,14,3.5,3,1,49,-7,5.0],[true,true,true,true,true,true,false],["x","fallback",true,"none"],"big",[0,4,16],{"b":2},["a","bb","ccc"],[3,"low",[1,3],"deep"],["HI",["a","b"],"x-y","aBc",true,"1-2"],[3,"3",4,2.0,false,3,2,9,3,2.57,[2,1],true,true,[[0,"a"],[1,"b"]],[[1,"a"]],{"a":[1]}],null]"#,
    )
    .expect("JSON");
    assert_eq!(body["values"], python);
    // A param that is not an integer is refused before the run.
    assert_eq!(all[0][2].status, 400);
    assert_eq!(all[0], all[1], "flow! and its JSON twin differ");
}

/// Flows that call flows: `handle`, `loop` over a list and a range, `parallel` with a sub-flow
/// and a request branch, `jump`, and `end`.
#[tokio::test]
async fn flows_calling_flows_run_alike_in_compiled_and_json_workspaces() {
    let settings = settings_with_upstream("upstream").await;
    let engine = Engine::new().expect("engine");
    let main = flow! {
        name = "main";
        1: handle { flow: "double" } -> 2;
        2: flow_var { handled: "${response.data}" } -> 3;
        3: loop { data: [1, 2, 3], flow: "double" } -> 4;
        4: flow_var { looped: "${response.data}" } -> 5;
        5: loop { type: "range", data: 2, flow: "double" } -> 6;
        6: flow_var { ranged: "${response.data}" } -> 7;
        7: parallel {
            branches: {
                sub: { flow: "double" },
                echo: { url: "${env.upstream}/echo", method: "post", data: { hi: 1 } },
            },
        } -> success: 8, fail: 10;
        8: flow_var { both: "${[response.data.sub.data, response.data.echo.status, response.data.echo.data.body]}" } -> 9;
        9: switch { "${request.qs.jump}" == "yes" => 11, else => 12 };
        10: response { status: 502, data: "${response.failed}" };
        11: jump { next_flow: "landing" };
        12: response { data: { handled: "${flow.handled}", looped: "${flow.looped}", ranged: "${flow.ranged}", both: "${flow.both}" } };
    };
    let double = flow! {
        name = "double";
        1: response { data: { v: "${(loop.item or 21) * 2}", i: "${loop.index}" } };
    };
    let landing = flow! {
        name = "landing";
        1: flow_var { from: "main" } -> 2;
        2: response { status: 201, data: { landed: "${flow.from}" } } -> 3;
        3: end;
    };
    let flows = [("main", main), ("double", double), ("landing", landing)];
    let mut ws = CoreWorkspace {
        name: "calls".into(),
        settings: settings.clone(),
        ..Default::default()
    };
    for (key, f) in &flows {
        let twin = Flow::from_json_named(&format!("{key}.json"), f.json(), &engine.catalog())
            .expect("the JSON twin loads");
        ws.flows.insert(key.to_string(), twin);
    }
    let loaded = engine.workspace(ws);
    let compiled = engine.checked_workspace("calls", settings, flows);
    let services = [&compiled, &loaded]
        .map(|w| w.service("main").expect("main flow"))
        .to_vec();
    let all = answers(services, &[("", None), ("?jump=yes", None)]).await;
    assert_eq!(all[0][0].status, 200, "{}", all[0][0].body);
    let body: Value = serde_json::from_str(&all[0][0].body).expect("JSON");
    assert_eq!(body["handled"], json!({"v": 42, "i": null}));
    assert_eq!(
        body["looped"],
        json!([{"v": 2, "i": 0}, {"v": 4, "i": 1}, {"v": 6, "i": 2}])
    );
    assert_eq!(body["ranged"], json!([{"v": 42, "i": 0}, {"v": 2, "i": 1}]));
    assert_eq!(
        body["both"],
        json!([{"v": 42, "i": null}, 200, "{\"hi\":1}"])
    );
    assert_eq!(all[0][1].status, 201);
    assert_eq!(all[0][1].body, r#"{"landed":"main"}"#);
    assert_eq!(all[0], all[1], "flow! and its JSON twin differ");
}

/// Expressions that fail at run time, each behind its own `case`: a missing value spliced
/// into text, type errors, a value that is not callable, bad slices and dict keys, a method
/// of a missing value, a string past the evaluator's size bound.
fn failing() -> CheckedFlow {
    flow! {
        name = "failing";
        1: switch {
            "${request.qs.case}" == "splice" => splice,
            "${request.qs.case}" == "add" => add,
            "${request.qs.case}" == "call" => call,
            "${request.qs.case}" == "step" => step,
            "${request.qs.case}" == "bound" => bound,
            "${request.qs.case}" == "key" => key,
            "${request.qs.case}" == "neg" => neg,
            "${request.qs.case}" == "method" => method,
            "${request.qs.case}" == "big" => big,
            "${request.qs.case}" == "cmp" => cmp,
            "${request.qs.case}" == "attr" => attr,
            else => fine,
        };
        splice: response { data: "user=${request.qs.nothing}" };
        add: response { data: "${request.qs.a + 1}" };
        call: response { data: "${request.qs.a()}" };
        step: response { data: "${[1, 2][::int(request.qs.z)]}" };
        bound: response { data: "${'abc'[request.qs.a:]}" };
        key: response { data: "${ {int(request.qs.z): 1} }" };
        neg: response { data: "${-request.qs.a}" };
        method: response { data: "${request.qs.nothing.upper()}" };
        big: response { data: "${request.qs.a * 100000000}" };
        cmp: response { data: "${request.qs.a < 1 and True}" };
        attr: response { data: "${[json.nope, 1]}" };
        fine: response { data: "${[[1][int(request.qs.z) + 5], request.qs.a[0], len(request.qs.a)]}" };
    }
}

#[tokio::test]
async fn failing_expressions_fail_alike_in_compiled_and_json_flows() {
    let engine = Engine::new().expect("engine");
    let flow = failing();
    let (compiled_exprs, total) = flow.compiled_expressions();
    assert_eq!(compiled_exprs, total, "every expression here compiles");
    let twin = Flow::from_json_named("twin.json", flow.json(), &engine.catalog())
        .expect("the JSON twin loads");
    let twin = engine.service(twin, Settings::default());
    let compiled = flow.service(&engine);
    // Each case and a part of what it gives (the message, and where in the template).
    let cases = [
        (
            "splice",
            "Missing { path: \"request.qs.nothing\", range: Some(7..25)",
        ),
        (
            "add",
            "unsupported operand types for `+`: `str` and `int`\", range: Some(2..18)",
        ),
        ("call", "`dict` has no method `a`"),
        ("step", "slice step cannot be zero"),
        ("bound", "not `str`\", range: Some(8..20)"),
        (
            "key",
            "dict keys must be strings, not `int`\", range: Some(4..21)",
        ),
        ("neg", "bad operand type for unary `-`: `str`"),
        (
            "method",
            "Missing { path: \"request.qs.nothing\", range: Some(2..20)",
        ),
        ("big", "kind: StepLimit, message: \"string too large"),
        ("cmp", "`<` not supported between `str` and `int`"),
        (
            "attr",
            "`json` has no attribute `nope`\", range: Some(3..12)",
        ),
        ("fine", "Array [Null, String(\"x\"), Number(1)]"),
    ];
    for (case, expected) in cases {
        let input = || flowyt_runtime::RunInput {
            request: json!({"qs": {"case": case, "a": "x", "z": "0"}, "headers": {}, "data": null}),
            ..Default::default()
        };
        let ours = format!("{:?}", compiled.run(input()).await.outcome);
        let theirs = format!("{:?}", twin.run(input()).await.outcome);
        assert_eq!(ours, theirs, "case {case}");
        assert!(ours.contains(expected), "case {case}: {ours}");
    }
}
