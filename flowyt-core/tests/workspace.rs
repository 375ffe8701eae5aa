//! Workspace-level checks: settings, routes and flow references across files, each with its
//! exact message and `file:line:col`.

use flowyt_core::catalog::Catalog;
use flowyt_core::diag::Code;
use flowyt_core::validate::Strictness;
use flowyt_core::workspace::{LoadError, Loaded, Sources, Workspace, convert_path};
use serde_json::json;

const FLOW: &str = r#"{"pipeline": [{"id": "1", "action": "response", "data": {"data": {"ok": true}}, "next_action": null}]}"#;

fn load(settings: &str, routes: &str) -> Result<Loaded, LoadError> {
    let sources = Sources {
        settings: Some(("config/settings.json".into(), settings.into())),
        flows: vec![("search".into(), "flows/search.json".into(), FLOW.into())],
        routes: Some(("routes.json".into(), routes.into())),
    };
    Workspace::from_sources("ws", &sources, &Catalog::new(), Strictness::Legacy, &|k| {
        (k == "TOKEN").then(|| "s3cret".to_string())
    })
}

fn rendered(result: &Result<Loaded, LoadError>) -> Vec<String> {
    let diags = match result {
        Ok(l) => &l.warnings,
        Err(e) => &e.diagnostics,
    };
    diags.iter().map(ToString::to_string).collect()
}

#[test]
fn settings_interpolate_env_with_defaults_and_old_syntax() {
    let settings = r#"{"env": {"tok": "${env('TOKEN')}", "missing": "${env('NOPE')}", "dflt": "${env('NOPE', 'x')}", "old": "${os.env['TOKEN']}", "mixed": "Bearer ${env('TOKEN')}"}, "debug": true}"#;
    let loaded = load(settings, "[]").expect("loads");
    let s = &loaded.workspace.settings;
    assert!(s.debug);
    assert_eq!(
        serde_json::Value::Object(s.env.clone()),
        json!({"tok": "s3cret", "missing": "", "dflt": "x", "old": "s3cret", "mixed": "Bearer s3cret"})
    );
    assert_eq!(s.safe_mode, None, "safe_mode is optional (decision 15)");
}

#[test]
fn settings_problems_are_located() {
    let r = load(
        r#"{"safe_mode": {"active": true, "safe_time": 10}, "limts": {}}"#,
        "[]",
    );
    assert_eq!(
        rendered(&r),
        [
            "config/settings.json:1:26: warning[bad-settings]: `safe_mode.active` is the old name of `safe_mode.enable`\n  help: rename it to `enable`",
            "config/settings.json:1:50: warning[bad-settings]: unknown settings key `limts`\n  help: did you mean `limits`?",
        ]
    );
    let loaded = r.expect("warnings only");
    assert_eq!(
        loaded.workspace.settings.safe_mode.map(|m| m.safe_time),
        Some(10.0)
    );

    let r = load(
        r#"{"safe_mode": true, "limits": {"max_steps": -1, "max_secs": 3}, "development_language": "javascript"}"#,
        "[]",
    );
    assert_eq!(
        rendered(&r),
        [
            "config/settings.json:1:15: error[bad-settings]: `safe_mode` must be an object `{\"enable\": true, \"safe_time\": 10}`",
            "config/settings.json:1:45: error[bad-settings]: `limits.max_steps` must be a positive number",
            "config/settings.json:1:49: error[bad-settings]: unknown limit `max_secs`\n  help: did you mean `max_steps`?",
            "config/settings.json:1:89: error[unsupported]: only the Python-flavoured expression language is supported\n  help: remove `development_language` or set it to `python`",
        ]
    );
}

#[test]
fn limits_are_read() {
    let loaded = load(r#"{"limits": {"max_steps": 5, "max_seconds": 1.5, "request_timeout": 2, "max_body_bytes": 100}}"#, "[]").expect("loads");
    let l = loaded.workspace.settings.limits;
    assert_eq!(
        (
            l.max_steps,
            l.max_seconds,
            l.request_timeout,
            l.max_body_bytes
        ),
        (5, 1.5, 2.0, 100)
    );
}

#[test]
fn routes_are_checked() {
    let routes = r#"[
  {"method": "get", "path": "/a", "flow": "search"},
  {"method": "fetch", "path": "/b", "flow": "search"},
  {"method": "get", "path": "c", "flow": "search"},
  {"method": "get", "path": "/d", "flow": "serch"},
  {"method": "GET", "path": "/a", "flow": "search"},
  {"method": "get", "path": "/e/<bogus:x>", "flow": "search"},
  {"method": "get"}
]"#;
    let r = load("{}", routes);
    assert_eq!(
        rendered(&r),
        [
            "routes.json:3:14: error[bad-route]: unknown HTTP method `fetch`\n  help: expected one of: `GET`, `POST`, `PUT`, `DELETE`, `PATCH`, `HEAD`, `OPTIONS`",
            "routes.json:4:29: error[bad-route]: route path `c` must start with `/`",
            "routes.json:5:43: error[route-unknown-flow]: route `GET /d` runs unknown flow `serch`\n  help: did you mean `search`?",
            "routes.json:6:29: error[bad-route]: route `GET /a` repeats `GET /a`",
            "routes.json:7:29: error[bad-route]: unknown path converter `bogus` in `/e/<bogus:x>`",
            "routes.json:8:3: error[bad-route]: a route needs string `method`, `path` and `flow` fields",
        ]
    );
}

#[test]
fn flask_and_axum_paths_convert() {
    assert_eq!(
        convert_path("/loja/<string:loja>/livro/<int:id>/<path:rest>").expect("valid"),
        (
            "/loja/{loja}/livro/{id}/{*rest}".to_string(),
            vec![
                ("loja".to_string(), "string".to_string()),
                ("id".to_string(), "int".to_string()),
                ("rest".to_string(), "path".to_string())
            ]
        )
    );
    assert_eq!(convert_path("/x/{id}").expect("valid").0, "/x/{id}");
    assert_eq!(
        convert_path("/x/<id>").expect("valid").1,
        vec![("id".to_string(), "string".to_string())]
    );
    assert!(convert_path("/x/<a>/<a>").is_err());
    assert!(convert_path("/x/a<b>").is_err());
}

#[test]
fn missing_flows_folder_is_an_io_error() {
    let dir = std::env::temp_dir().join(format!("flowyt-empty-ws-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let err = Workspace::load(&dir, &Catalog::new(), Strictness::Legacy).expect_err("no flows/");
    assert_eq!(err.diagnostics[0].diagnostic.code, Code::Io);
    assert!(
        err.to_string()
            .contains("cannot read the workspace's `flows` folder"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flows_reference_each_other_across_files() {
    let sources = Sources {
        settings: None,
        flows: vec![
            ("a".into(), "flows/a.json".into(), r#"{"pipeline": [{"id": "1", "action": "jump", "data": {"next_flow": "c"}, "next_action": null}]}"#.into()),
            ("b".into(), "flows/b.json".into(), FLOW.into()),
        ],
        routes: None,
    };
    let err = Workspace::from_sources("ws", &sources, &Catalog::new(), Strictness::Legacy, &|_| {
        None
    })
    .expect_err("unknown flow");
    assert_eq!(
        err.to_string(),
        "flows/a.json:1:67: error[unknown-flow]: `next_flow` names unknown flow `c`\n  help: expected one of: `a`, `b`"
    );
}

#[test]
fn services_and_registry_are_checked() {
    let loaded = load(
        r#"{"services": {"users": ["http://127.0.0.1:8001", "${env('TOKEN')}"], "one": "https://x.test"}, "registry": {"eureka": "http://127.0.0.1:8761/eureka/"}}"#,
        "[]",
    );
    let r = rendered(&loaded);
    assert_eq!(
        r,
        [
            "config/settings.json:1:14: error[bad-settings]: `services.users`: `s3cret` is not an http(s) URL"
        ]
    );
    let loaded = load(
        r#"{"services": {"users": ["http://127.0.0.1:8001"], "one": "https://x.test"}, "registry": {"eureka": "http://127.0.0.1:8761/eureka/", "refresh": 5}}"#,
        "[]",
    )
    .expect("loads");
    let s = &loaded.workspace.settings;
    assert_eq!(s.services["one"], ["https://x.test"]);
    let registry = s.registry.as_ref().expect("registry");
    assert_eq!(
        (registry.eureka.as_str(), registry.refresh),
        ("http://127.0.0.1:8761/eureka", 5.0)
    );
    let bad = load(r#"{"registry": {"eureka": "localhost"}}"#, "[]");
    assert_eq!(
        rendered(&bad),
        [
            "config/settings.json:1:14: error[bad-settings]: `registry.eureka` must be the http(s) URL of an Eureka server"
        ]
    );
}

#[test]
fn settings_never_read_the_servers_secret() {
    // Before: `${env('APP_SECRET_KEY')}` handed the server's token to any workspace, which
    // could then answer it back to whoever called its route.
    let sources = Sources {
        settings: Some((
            "config/settings.json".into(),
            r#"{"env": {"leak": "${env('APP_SECRET_KEY', 'fallback')}"}}"#.into(),
        )),
        flows: vec![("search".into(), "flows/search.json".into(), FLOW.into())],
        routes: None,
    };
    let err = Workspace::from_sources("ws", &sources, &Catalog::new(), Strictness::Legacy, &|_| {
        Some("the-token".into())
    })
    .expect_err("refused");
    assert_eq!(
        err.to_string(),
        "config/settings.json:1:9: error[bad-settings]: settings may not read `APP_SECRET_KEY`: it is the server's own secret\n  help: give the workspace its own variable (for example an API token) instead"
    );
    assert!(!err.to_string().contains("the-token"));
}

#[test]
fn mask_is_a_list_of_names() {
    let loaded = load(r#"{"mask": ["ssn", "card_*"]}"#, "[]").expect("loads");
    assert_eq!(loaded.workspace.settings.mask, ["ssn", "card_*"]);
    assert_eq!(
        rendered(&load(r#"{"mask": "ssn"}"#, "[]")),
        [
            "config/settings.json:1:10: error[bad-settings]: `mask` must be a list of field names, e.g. [\"ssn\", \"card_*\"]"
        ]
    );
}

#[test]
fn a_route_timeout_is_a_positive_number_of_seconds() {
    let loaded = load(
        "{}",
        r#"[{"method": "get", "path": "/a", "flow": "search", "timeout": 2.5}]"#,
    )
    .expect("loads");
    assert_eq!(
        loaded.workspace.routes[0].timeout,
        Some(std::time::Duration::from_millis(2500))
    );
    assert_eq!(
        rendered(&load(
            "{}",
            r#"[{"method": "get", "path": "/a", "flow": "search", "timeout": 0}]"#
        )),
        [
            "routes.json:1:63: error[bad-route]: a route's `timeout` must be a positive number of seconds"
        ]
    );
}

/// A flow validated when it was written is only lowered: the same model as a validated load,
/// no validator run (a validation error passes), and a reading or lowering error is still an
/// error, located.
#[test]
fn a_validated_flow_is_lowered_without_validating_again() {
    use flowyt_core::model::Flow;
    let valid = r#"{"pipeline": [
        {"id": "1", "action": "start", "data": {}, "next_action": "2"},
        {"id": "2", "action": "response", "data": {"data": "${request.qs.q}"}, "next_action": null}
    ]}"#;
    let catalog = Catalog::new();
    let checked = Flow::from_json_named("f.json", valid, &catalog).expect("valid");
    let lowered = Flow::from_validated_json("f.json", valid, &catalog).expect("lowers");
    assert_eq!(format!("{lowered:?}"), format!("{checked:?}"));

    let dangling = valid.replace(r#""next_action": "2""#, r#""next_action": "3""#);
    assert!(Flow::from_json_named("f.json", &dangling, &catalog).is_err());
    assert!(Flow::from_validated_json("f.json", &dangling, &catalog).is_ok());

    let err =
        Flow::from_validated_json("f.json", "{\"pipeline\": [", &catalog).expect_err("not JSON");
    assert!(err.to_string().starts_with("f.json:1:"), "{err}");
}
