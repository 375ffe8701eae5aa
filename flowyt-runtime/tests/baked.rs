//! `flow!` and `include_flow!` expand to code that rebuilds the model they lowered and
//! validated (nothing is lowered at run time): that model is the one the JSON loader gives for
//! the same flow, value for value, for every action kind, schema rule, SQL form, param,
//! schedule and expression form.

use flowyt_runtime::core::model::Flow;
use flowyt_runtime::{CheckedFlow, flow, flow_action, include_flow};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Order {
    qty: u32,
}

#[flow_action]
async fn marked(input: Order) -> Result<u32, Value> {
    Ok(input.qty)
}

/// The model as text, without what differs by design: whether generated code is attached to
/// an expression, and (unless `locations`) source locations (a `flow!` locates tokens, the
/// loader bytes).
fn shape(flow: &Flow, locations: bool) -> String {
    let mut text = format!("{flow:?}");
    let mut cut = |open: &str| {
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(at) = rest.find(open) {
            out.push_str(&rest[..at + open.len()]);
            rest = &rest[at + open.len()..];
            let close = rest.find(')').expect("a closing parenthesis");
            out.push('_');
            rest = &rest[close..];
        }
        out.push_str(rest);
        text = out;
    };
    cut("compiled: OnceLock(");
    if !locations {
        cut("Loc(");
    }
    text
}

/// Asserts equal shapes, showing where they part.
fn same(baked: &str, loaded: &str) {
    if let Some(at) = baked.bytes().zip(loaded.bytes()).position(|(a, b)| a != b) {
        let from = at.saturating_sub(300);
        panic!(
            "the baked model differs at byte {at}:\n baked: ...{}\nloaded: ...{}",
            &baked[from..(at + 200).min(baked.len())],
            &loaded[from..(at + 200).min(loaded.len())],
        );
    }
    assert_eq!(baked.len(), loaded.len(), "one model is longer");
}

/// The JSON twin of `checked`, lowered by the loader with the same custom kinds.
fn loaded(checked: &CheckedFlow, name: &str) -> Flow {
    let mut catalog = flowyt_runtime::core::catalog::Catalog::new();
    for kind in checked.custom_actions() {
        catalog.add_kind(kind, Default::default());
    }
    Flow::from_json_named(name, checked.json(), &catalog).expect("the JSON twin loads")
}

#[test]
// The fixture's `mongodb` action is a warning (a run reaching it fails).
#[allow(deprecated)]
fn include_flow_bakes_what_the_loader_lowers() {
    let checked = include_flow!("tests/fixtures/flows/every_kind.json", actions = [marked]);
    let twin = loaded(&checked, "tests/fixtures/flows/every_kind.json");
    // The same file lowered the same way: even the locations agree.
    same(&shape(checked.model(), true), &shape(&twin, true));
    // What `Debug` does not show (a cron's parsed fields) is compared as values.
    assert_eq!(checked.model().schedule, twin.schedule);
    assert_eq!(checked.model().params, twin.params);
    // Every kind is there, so the comparison covers each.
    let kinds: std::collections::BTreeSet<&str> = checked
        .model()
        .actions
        .iter()
        .map(|a| a.kind_name.as_str())
        .collect();
    for kind in [
        "start",
        "flow_var",
        "workspace_var",
        "run",
        "validation",
        "request",
        "switch",
        "parallel",
        "loop",
        "sql_db",
        "redis",
        "mongodb",
        "marked",
        "handle",
        "jump",
        "response",
        "end",
    ] {
        assert!(kinds.contains(kind), "the fixture has no `{kind}`");
    }
    assert!(checked.model().params.is_some() && checked.model().schedule.is_some());
    // The generated expressions are attached to the baked trees.
    let (compiled, all) = checked.compiled_expressions();
    assert!(all > 150 && compiled > 0, "{compiled} of {all}");
}

#[test]
fn flow_bakes_what_its_json_twin_lowers() {
    let checked = flow! {
        name = "baked";
        actions = [marked];
        params = { n: { type: "integer", minimum: 1, default: 2 }, who: { type: "string", enum: ["a", "b"] } };

        begin: start -> vars;
        vars: flow_var { n: "${int(request.qs.n or 0)}", tags: ["a", "${request.qs.tag}"], pi: 3.5, big: -9 } -> route;
        route: switch {
            "${flow.n}" > 10 => check,
            "${request.qs.tag}" in ["x", "y"] => mark,
            "${flow.tags}" contains "z" => fetch,
            else => "${'done' if flow.n else 'fetch'}",
        };
        check: validation {
            schema: {
                name: { type: "string", required: true, minlength: 2, regex: "^[A-Z]" },
                tags: { type: "list", schema: { type: "string", allowed: ["a", "b"] } },
            },
        } -> success: mark, fail: done;
        mark: marked { qty: "${flow.n}" } -> success: fetch, fail: done;
        fetch: request {
            url: "${env.upstream}/echo/${request.qs.tag}",
            method: "post",
            data: { items: "${[t.upper() for t in flow.tags if t]}", by: "${ {k: v for k, v in request.qs.items()} }" },
        } -> success: done, fail: done;
        done: response { status: "${200 if response else 502}", data: "${response.data}" };
    };
    let twin = loaded(&checked, "twin.json");
    same(&shape(checked.model(), false), &shape(&twin, false));
}

/// `include_workspace!` bakes each flow and the routes; only the settings are read when the
/// program starts. What it gives is what loading the folder gives.
#[test]
fn include_workspace_bakes_what_loading_the_folder_gives() {
    use flowyt_runtime::core::catalog::Catalog;
    use flowyt_runtime::core::validate::Strictness;
    use flowyt_runtime::core::workspace::Workspace as Folder;
    use flowyt_runtime::{Engine, include_workspace};
    let engine = Engine::new().expect("engine");
    let shop = include_workspace!("../examples/workspaces/shop")
        .workspace_with_env(&engine, &|_| None)
        .expect("the shop loads");
    let with_action = include_workspace!("tests/fixtures/workspaces/marked", actions = [marked])
        .workspace_with_env(&engine, &|_| None)
        .expect("the marked workspace loads");
    let mut catalog = Catalog::new();
    catalog.add_kind("marked", Default::default());
    for (baked, dir) in [
        (&shop, "../examples/workspaces/shop"),
        (&with_action, "tests/fixtures/workspaces/marked"),
    ] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let loaded = Folder::load_with_env(&dir, &catalog, Strictness::Legacy, &|_| None)
            .expect("the folder loads")
            .workspace;
        assert_eq!(
            baked.routes(),
            loaded.routes.as_slice(),
            "{}",
            dir.display()
        );
        assert!(!loaded.flows.is_empty());
        let mut keys: Vec<&str> = baked.flow_keys().collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            loaded.flows.keys().map(String::as_str).collect::<Vec<_>>()
        );
        for (key, flow) in &loaded.flows {
            let ours = baked.flow_model(key).expect("the flow is there");
            same(&shape(ours, true), &shape(flow, true));
        }
    }
}

/// What only the engine knows is checked when an included workspace is loaded on it: the
/// functions its flows call, and custom actions standing for a built-in kind the macro
/// compiled. (A workspace loaded from files reports the unknown function when it is loaded,
/// and runs the custom action.)
#[tokio::test]
// `store.json`'s `mongodb` action is a warning (a run reaching it fails).
#[allow(deprecated)]
async fn an_included_workspace_is_checked_against_the_engine() {
    use flowyt_runtime::{Engine, IncludeError, RunInput, include_workspace};
    let included = include_workspace!("tests/fixtures/workspaces/engine_checks");
    let bare = Engine::new().expect("engine");
    match included.workspace_with_env(&bare, &|_| None) {
        Err(IncludeError::UnknownFunction {
            flow,
            action,
            function,
            ..
        }) => assert_eq!(
            (flow.as_str(), action.as_str(), function.as_str()),
            ("greet", "1", "text.greet")
        ),
        other => panic!("expected an unknown function, got {:?}", other.map(|_| ())),
    }
    let misspelt = Engine::builder()
        .function("text.gret", |_: &[Value]| Ok(Value::Null))
        .build()
        .expect("engine");
    let error = included
        .workspace_with_env(&misspelt, &|_| None)
        .map(|_| ())
        .expect_err("still unknown");
    assert!(
        error.to_string().contains("did you mean `text.gret`?"),
        "{error}"
    );

    let greets = || {
        Engine::builder().function("text.greet", |args: &[Value]| {
            Ok(Value::String(format!(
                "hello {}",
                args[0].as_str().unwrap_or("?")
            )))
        })
    };
    let engine = greets().build().expect("engine");
    let ws = included
        .workspace_with_env(&engine, &|_| None)
        .expect("loads with the function");
    let input = RunInput {
        request: serde_json::json!({"qs": {"name": "Ada"}}),
        ..RunInput::default()
    };
    let outcome = ws.service("greet").expect("greet").run(input).await.outcome;
    match outcome {
        flowyt_runtime::Outcome::Response { body, .. } => {
            assert_eq!(body.to_value(), serde_json::json!("hello Ada"))
        }
        other => panic!("{other:?}"),
    }

    let shadowing = greets().action("mongodb", marked).build().expect("engine");
    match included.workspace_with_env(&shadowing, &|_| None) {
        Err(e @ IncludeError::ShadowedKind { .. }) => {
            assert!(e.to_string().contains("flow `store`, action `save`"), "{e}")
        }
        other => panic!("expected a shadowed kind, got {:?}", other.map(|_| ())),
    }
}

/// A compiled schema shares its rule sets: a field named `schema` is also read as the `schema`
/// rule (Cerberus accepts both readings), so each level of this 24-level schema reaches the
/// next one twice. Baking keeps them shared: 16 million copies otherwise, which would not
/// compile. Its answer is also nested as deep as the loader takes.
#[tokio::test]
async fn shared_rule_sets_stay_shared() {
    use flowyt_runtime::{Engine, Outcome, RunInput};
    let checked = include_flow!("tests/fixtures/flows/deep_schema.json");
    let service = checked.service(&Engine::new().expect("engine"));
    let document = |v: i64| {
        let mut doc = serde_json::json!({"v": v});
        for _ in 0..12 {
            doc = serde_json::json!({"schema": doc});
        }
        doc
    };
    for (v, status, body) in [
        (2, 200, serde_json::json!("deep")),
        (0, 422, serde_json::Value::Null),
    ] {
        let input = RunInput {
            request: serde_json::json!({"data": document(v)}),
            ..RunInput::default()
        };
        match service.run(input).await.outcome {
            Outcome::Response {
                status: got,
                body: b,
                ..
            } => {
                assert_eq!(got, status, "v = {v}");
                if status == 200 {
                    // The answer's data is nested 122 arrays deep, as deep as the loader takes
                    // (128 levels in the file): baked values nest that deep too.
                    let mut data = &b.to_value()["nested"];
                    let mut depth = 0;
                    while let Some([inner]) = data.as_array().map(Vec::as_slice) {
                        data = inner;
                        depth += 1;
                    }
                    assert_eq!((depth, data), (122, &body));
                } else {
                    let text = b.to_value().to_string();
                    assert!(text.contains("min value is 1"), "{text}");
                }
            }
            other => panic!("{other:?}"),
        }
    }
}
