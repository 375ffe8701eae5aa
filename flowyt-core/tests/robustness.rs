//! The loader, the validator and the template parser never panic, whatever they are given.

use flowyt_core::catalog::Catalog;
use flowyt_core::validate::{Context, Strictness};
use flowyt_core::workspace::{FlowFile, Sources, Workspace};
use proptest::prelude::*;
use serde_json::{Value, json};

fn parse(text: &str) {
    let catalog = Catalog::new();
    let flows = ["a".to_string()].into();
    for strictness in [Strictness::Strict, Strictness::Legacy] {
        let file = FlowFile::parse(
            "x.json",
            text,
            Context {
                catalog: Some(&catalog),
                flows: Some(&flows),
            },
            strictness,
        );
        // Rendering resolves every location: it must not panic either.
        let _ = flowyt_core::diag::render_all(&file.located());
    }
}

fn id() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[0-9a-c]{1,2}".prop_map(Value::String),
        (0u8..5).prop_map(Value::from),
        Just(Value::Null),
        Just(json!({})),
        Just(Value::String(String::new())),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z ]{0,6}",
        Just("${pipeline.next_action}".to_string()),
        Just("${request.qs.x}".to_string()),
        Just("${".to_string()),
        Just("$${x}".to_string()),
        Just("${[s for s in request.data if s]}".to_string()),
        Just("${ {'a': {'b': 1}} }".to_string()),
        Just("${function.x.y(1)}".to_string()),
        Just("$(js){1}".to_string()),
        "\\$\\{[a-z.()\\[\\]'0-9+*/ ]{0,12}\\}",
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        text().prop_map(Value::String),
        any::<i32>().prop_map(Value::from),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("url".to_string()),
                        Just("method".to_string()),
                        Just("conditions".to_string()),
                        Just("operator".to_string()),
                        Just("next_action".to_string()),
                        Just("next_action_success".to_string()),
                        Just("next_action_fail".to_string()),
                        Just("next_action_else".to_string()),
                        Just("schema".to_string()),
                        Just("status".to_string()),
                        Just("flow".to_string()),
                        Just("next_flow".to_string()),
                        Just("data".to_string()),
                        Just("type".to_string()),
                        "[a-z]{1,3}",
                    ],
                    inner
                ),
                0..5
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn action() -> impl Strategy<Value = Value> {
    let kind = prop_oneof![
        Just("start"),
        Just("end"),
        Just("flow_var"),
        Just("workspace_var"),
        Just("request"),
        Just("response"),
        Just("switch"),
        Just("validation"),
        Just("jump"),
        Just("handle"),
        Just("loop"),
        Just("run"),
        Just("action"),
        Just("sql_db"),
        Just("bogus"),
    ];
    (id(), kind, value(), id(), any::<bool>(), any::<bool>()).prop_map(
        |(id, kind, data, next, has_next, asynchronous)| {
            let mut a = json!({"id": id, "action": kind, "data": data});
            if has_next {
                a["next_action"] = next;
            }
            if asynchronous {
                a["execute_async"] = Value::Bool(true);
            }
            a
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,300}") {
        parse(&text);
    }

    #[test]
    fn arbitrary_flows_never_panic(actions in prop::collection::vec(action(), 0..8)) {
        let flow = json!({"id": "f", "pipeline": actions});
        parse(&serde_json::to_string_pretty(&flow).unwrap_or_default());
    }

    #[test]
    fn arbitrary_workspaces_never_panic(settings in value(), routes in value(), flow in prop::collection::vec(action(), 0..4)) {
        let sources = Sources {
            settings: Some(("s.json".into(), settings.to_string())),
            flows: vec![("a".into(), "a.json".into(), json!({"pipeline": flow}).to_string())],
            routes: Some(("r.json".into(), routes.to_string())),
        };
        let _ = Workspace::from_sources("w", &sources, &Catalog::new(), Strictness::Legacy, &|_| None);
    }

    #[test]
    fn templates_never_panic(src in ".{0,120}") {
        let _ = flowyt_core::expr::Template::parse(&src);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    parse(&format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)));
    let deep = format!(
        "{{\"pipeline\": [{{\"id\": \"1\", \"action\": \"flow_var\", \"data\": {{\"x\": \"${{{}1{}}}\"}}, \"next_action\": null}}]}}",
        "(".repeat(50_000),
        ")".repeat(50_000)
    );
    parse(&deep);
}
