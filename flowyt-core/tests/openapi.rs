//! The OpenAPI document of a workspace (`flowyt_core::openapi`): each rule on a small
//! workspace, the Cerberus translation, determinism, and the `shop` example.
//!
//! `FLOWYT_OPENAPI_DUMP=<folder>` writes every document a test builds into that folder, for
//! checking them with an external OpenAPI validator.

use flowyt_core::catalog::Catalog;
use flowyt_core::openapi::{DocOptions, cerberus_to_json_schema, workspace_document};
use flowyt_core::validate::Strictness;
use flowyt_core::workspace::{Sources, Workspace};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;

/// A workspace `ws` from flows (`key`, JSON text), a `routes.json` and optional settings.
fn workspace(flows: &[(&str, &str)], routes: &str, settings: Option<&str>) -> Workspace {
    let sources = Sources {
        settings: settings.map(|s| ("config/settings.json".to_string(), s.to_string())),
        flows: flows
            .iter()
            .map(|(k, t)| (k.to_string(), format!("flows/{k}.json"), t.to_string()))
            .collect(),
        routes: Some(("routes.json".into(), routes.into())),
    };
    match Workspace::from_sources("ws", &sources, &Catalog::new(), Strictness::Legacy, &|_| {
        None
    }) {
        Ok(loaded) => loaded.workspace,
        Err(e) => panic!("the workspace does not load:\n{e}"),
    }
}

/// A flow from its actions (`[id, kind, data, next]` as JSON).
fn flow(actions: Value) -> String {
    let pipeline: Vec<Value> = actions
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| json!({"id": a[0], "action": a[1], "data": a[2], "next_action": a[3]}))
        .collect();
    json!({ "name": "test flow", "pipeline": pipeline }).to_string()
}

/// The document of `ws` under `/ws`, after the structural checks every document must pass.
fn document(name: &str, ws: &Workspace) -> Value {
    let doc = workspace_document(ws, &DocOptions::new("/ws"));
    check_structure(&doc);
    if let Some(dir) = std::env::var_os("FLOWYT_OPENAPI_DUMP") {
        let path = Path::new(&dir).join(format!("{name}.json"));
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    doc
}

/// What OpenAPI 3.1 asks of every document, checked without a validator: unique operation
/// ids, each path template's parameters declared, a description on every response, and a
/// `default` response everywhere.
fn check_structure(doc: &Value) {
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        let vars: BTreeSet<&str> = path
            .split('{')
            .skip(1)
            .filter_map(|s| s.split('}').next())
            .collect();
        for (method, op) in item.as_object().into_iter().flatten() {
            let id = op["operationId"].as_str().unwrap_or_default().to_string();
            assert!(ids.insert(id.clone()), "operationId {id} repeats");
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect();
            assert_eq!(vars, declared, "{method} {path}");
            let responses = op["responses"].as_object().expect("responses");
            assert!(responses.contains_key("default"), "{method} {path}");
            for (status, r) in responses {
                assert!(r["description"].is_string(), "{method} {path} {status}");
            }
        }
    }
}

fn op<'d>(doc: &'d Value, path: &str, method: &str) -> &'d Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "no {method} {path} in {doc:#}");
    op
}

fn param<'d>(op: &'d Value, place: &str, name: &str) -> Option<&'d Value> {
    op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["in"] == place && p["name"] == name)
}

fn names(op: &Value, place: &str) -> Vec<String> {
    op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == place)
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect()
}

fn json_schema<'d>(op: &'d Value, status: &str) -> &'d Value {
    &op["responses"][status]["content"]["application/json"]["schema"]
}

const OK: &str = r#"{"pipeline": [{"id": "1", "action": "response", "data": {"data": {"ok": true}}, "next_action": null}]}"#;

#[test]
fn path_converters_are_typed_as_the_runtime_converts_them() {
    let ws = workspace(
        &[("f", OK)],
        r#"[
            {"method": "get", "path": "/items/<int:item_id>", "flow": "f"},
            {"method": "get", "path": "/prices/<float:amount>", "flow": "f"},
            {"method": "get", "path": "/orders/<uuid:order_id>", "flow": "f"},
            {"method": "get", "path": "/files/<path:rest>", "flow": "f"},
            {"method": "get", "path": "/shops/<shop>/{name}", "flow": "f"},
            {"method": "get", "path": "/", "flow": "f"}
        ]"#,
        None,
    );
    let doc = document("converters", &ws);
    let schema = |path: &str, name: &str| {
        param(op(&doc, path, "get"), "path", name).map(|p| p["schema"].clone())
    };
    assert_eq!(
        schema("/ws/items/{item_id}", "item_id"),
        Some(json!({"type": "integer", "format": "int64"}))
    );
    assert_eq!(
        schema("/ws/prices/{amount}", "amount"),
        Some(json!({"type": "number"}))
    );
    let text = Some(json!({"type": "string", "minLength": 1}));
    assert_eq!(schema("/ws/orders/{order_id}", "order_id"), text);
    assert_eq!(schema("/ws/files/{rest}", "rest"), text);
    assert_eq!(schema("/ws/shops/{shop}/{name}", "shop"), text);
    assert_eq!(schema("/ws/shops/{shop}/{name}", "name"), text);
    assert!(
        doc["paths"]["/ws"]["get"].is_object(),
        "`/` is the base path itself"
    );
    // Only the number converters can make the runtime answer 404 by themselves.
    let r404 = |path: &str| op(&doc, path, "get")["responses"]["404"].clone();
    assert_eq!(
        json_schema(&r404("/ws/items/{item_id}"), "404")["required"],
        Value::Null
    );
    assert!(
        r404("/ws/items/{item_id}").is_null(),
        "no flow answers 404: it is a default"
    );
    let default = &op(&doc, "/ws/items/{item_id}", "get")["responses"]["default"];
    assert!(
        default["description"]
            .as_str()
            .is_some_and(|d| d.contains("a path parameter is not a number"))
    );
    let default = &op(&doc, "/ws/files/{rest}", "get")["responses"]["default"];
    assert!(
        !default["description"]
            .as_str()
            .is_some_and(|d| d.contains("not a number"))
    );
}

#[test]
fn query_reads_are_found_in_every_expression_and_jumped_to_flow() {
    let first = flow(json!([
        ["1", "flow_var", {"a": "${int(request.qs.page) * 2 if request.qs.page else 1}",
                           "b": "${[x.strip() for x in request.qs.get('tags', '').split(',') if x != request.qs.skip]}",
                           "c": "${sorted(flow.xs, key=lambda x: x[request.qs.get('order', 'id')])}",
                           "d": "${request['qs']['legacy']}",
                           "e": "key=${request.headers.x_api_key} ${request.headers.authorization}"}, "2"],
        ["2", "switch", {"conditions": [{"operator": "equal", "first_expression": "${request.qs.mode}",
                                         "second_expression": "fast", "next_action": "3"}],
                         "next_action_else": "3"}, "${pipeline.next_action}"],
        ["3", "handle", {"flow": "helper"}, "4"],
        ["4", "jump", {"next_flow": "second"}, null],
        ["5", "flow_var", {"unreachable": "${request.qs.never}"}, null]
    ]));
    let second = flow(json!([
        ["1", "response", {"data": {"n": "${request.qs.from_jump}", "d": "${request.qs[flow.k]}"}}, null]
    ]));
    let helper = flow(json!([["1", "run", {"x": "${request.qs.from_handle}"}, null]]));
    let ws = workspace(
        &[("first", &first), ("second", &second), ("helper", &helper)],
        r#"[{"method": "get", "path": "/search", "flow": "first"}]"#,
        None,
    );
    let doc = document("query", &ws);
    let op = op(&doc, "/ws/search", "get");
    assert_eq!(
        names(op, "query"),
        [
            "from_handle",
            "from_jump",
            "legacy",
            "mode",
            "order",
            "page",
            "skip",
            "tags"
        ]
    );
    let page = param(op, "query", "page").expect("page");
    assert_eq!(page["required"], false);
    assert_eq!(page["schema"], json!({"type": "string"}));
    assert_eq!(
        names(op, "header"),
        ["x-api-key"],
        "Authorization is not a parameter"
    );
    let description = op["description"].as_str().unwrap_or_default();
    assert!(
        description.contains("parameters by computed names"),
        "{description}"
    );
}

#[test]
fn a_validation_every_run_passes_is_the_request_body() {
    let guarded = flow(json!([
        ["1", "start", {}, "2"],
        ["2", "validation", {"schema": {"name": {"type": "string", "required": true}},
                             "next_action_success": "3", "next_action_fail": "4"}, "${pipeline.next_action}"],
        ["3", "response", {"status": 201, "data": {"id": 1}}, null],
        ["4", "response", {"status": "${response.status}", "data": "${response.data}"}, null]
    ]));
    let no_fail_branch = flow(json!([
        ["1", "validation", {"schema": {"n": {"type": "integer"}}, "next_action_success": "2"}, "${pipeline.next_action}"],
        ["2", "response", {"data": "${request.data.n}"}, null]
    ]));
    let some_runs = flow(json!([
        ["1", "switch", {"conditions": [{"operator": "equal", "first_expression": "${request.qs.check}",
                                         "second_expression": "yes", "next_action": "2"}],
                         "next_action_else": "3"}, "${pipeline.next_action}"],
        ["2", "validation", {"schema": {"n": {"type": "integer"}}, "next_action_success": "3"}, "${pipeline.next_action}"],
        ["3", "response", {"data": {"n": "${request.data.n}", "f": "${request.form.f}"}}, null]
    ]));
    let fail_answers_ok = flow(json!([
        ["1", "validation", {"schema": {"n": {"type": "integer"}}, "next_action_success": "2", "next_action_fail": "2"},
         "${pipeline.next_action}"],
        ["2", "response", {"data": {}}, null]
    ]));
    let ws = workspace(
        &[
            ("guarded", &guarded),
            ("no_fail", &no_fail_branch),
            ("some", &some_runs),
            ("ok_anyway", &fail_answers_ok),
        ],
        r#"[
            {"method": "post", "path": "/a", "flow": "guarded"},
            {"method": "post", "path": "/b", "flow": "no_fail"},
            {"method": "post", "path": "/c", "flow": "some"},
            {"method": "post", "path": "/d", "flow": "ok_anyway"}
        ]"#,
        None,
    );
    let doc = document("bodies", &ws);
    let a = op(&doc, "/ws/a", "post");
    assert_eq!(a["requestBody"]["required"], true);
    assert_eq!(
        a["requestBody"]["content"]["application/json"]["schema"],
        json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"],
               "additionalProperties": false})
    );
    // The fail branch answers `${response.status}`: 400, the validation's errors.
    let errors = json!({"type": "object", "properties": {"errors": {"type": "object"}},
                        "required": ["errors"], "additionalProperties": false});
    let bad = json_schema(a, "400");
    assert!(
        bad["anyOf"].as_array().is_some_and(|s| s.contains(&errors)),
        "{bad}"
    );
    assert_eq!(json_schema(a, "201"), &json!({"const": {"id": 1}}));

    let b = op(&doc, "/ws/b", "post");
    assert_eq!(b["requestBody"]["required"], true);
    assert!(
        json_schema(b, "400")["anyOf"]
            .as_array()
            .is_some_and(|s| s.contains(&errors))
    );

    let c = op(&doc, "/ws/c", "post");
    assert_eq!(c["requestBody"]["required"], false);
    assert_eq!(
        c["requestBody"]["content"]["application/json"]["schema"],
        json!({"properties": {"n": {}}})
    );
    assert_eq!(
        c["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"],
        json!({"type": "object", "properties": {"f": {"type": "string"}}})
    );
    assert!(
        c["responses"]["400"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("`validation`"))
    );

    let d = op(&doc, "/ws/d", "post");
    assert_eq!(
        d["requestBody"]["required"], false,
        "a failure still answers 200"
    );
    assert_eq!(
        d["requestBody"]["content"]["application/json"]["schema"],
        json!({})
    );
}

#[test]
fn a_nested_cerberus_schema_with_every_rule() {
    let schema = cerberus_to_json_schema(&json!({
        "name": {"type": "string", "required": true, "empty": false, "minlength": 2, "maxlength": 20, "regex": "[A-Z][a-z]+"},
        "age": {"type": "integer", "min": 0, "max": 150, "nullable": true},
        "price": {"type": "float", "min": 0.5},
        "kind": {"type": "string", "allowed": ["a", "b"], "default": "a"},
        "code": {"type": ["string", "integer", "number"]},
        "born": {"type": "date"},
        "seen": {"type": "datetime", "required": true},
        "blob": {"type": "binary"},
        "note": {"type": "string", "empty": true, "minlength": 3},
        "address": {"type": "dict", "allow_unknown": true, "require_all": true,
                    "schema": {"city": {"type": "string"}, "zip": {"type": "string", "regex": "[0-9]{5}"}}},
        "lines": {"type": "list", "minlength": 1,
                  "schema": {"type": "dict", "schema": {"sku": {"type": "string", "required": true}, "qty": {"type": "integer", "min": 1}}}},
        "pair": {"type": "list", "items": [{"type": "string"}, {"type": "number"}]},
        "scores": {"type": "dict", "keysrules": {"type": "string", "regex": "[a-z]+"}, "valuesrules": {"type": "integer", "min": 0}},
        "tags": {"type": "list", "allowed": ["x", "y"], "contains": "x"},
        "flag": {"type": "boolean", "forbidden": [false]},
        "level": {"allowed": [1, 2]},
        "secret": {"readonly": true},
        "a": {"dependencies": ["b"]},
        "b": {"excludes": "c", "required": true},
        "c": {"required": true},
        "anything": {}
    }));
    let p = |name: &str| schema["properties"][name].clone();
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(
        schema["required"],
        json!(["name", "seen"]),
        "b and c exclude each other"
    );
    assert_eq!(
        p("name"),
        json!({"type": "string", "minLength": 2, "maxLength": 20, "pattern": "^(?:[A-Z][a-z]+\\n?$)"})
    );
    assert_eq!(
        p("age"),
        json!({"type": ["integer", "null"], "minimum": 0, "maximum": 150})
    );
    assert_eq!(p("price"), json!({"type": "number", "minimum": 0.5}));
    assert_eq!(
        p("kind"),
        json!({"type": ["string", "null"], "enum": ["a", "b", null], "default": "a"}),
        "a default replaces null"
    );
    assert_eq!(p("code"), json!({"type": ["string", "number"]}));
    let date = p("born");
    assert_eq!(date["type"], "string");
    assert!(
        date["pattern"]
            .as_str()
            .is_some_and(|s| s.starts_with("^[0-9]{4}-[0-9]{2}-[0-9]{2}("))
    );
    assert!(
        p("seen")["pattern"]
            .as_str()
            .is_some_and(|s| s.contains("[Tt ]"))
    );
    assert_eq!(
        p("blob"),
        json!({"not": {"type": "null"}}),
        "binary stays open"
    );
    assert_eq!(
        p("note"),
        json!({"type": "string", "anyOf": [{"enum": [""]}, {"minLength": 3}]}),
        "an explicit `empty: true` lets \"\" skip minlength"
    );
    assert_eq!(
        p("address"),
        json!({"type": "object", "properties": {
            "city": {"type": "string"},
            "zip": {"type": "string", "pattern": "^(?:[0-9]{5}\\n?$)"}
        }, "required": ["city", "zip"]})
    );
    assert_eq!(
        p("lines"),
        json!({"type": "array", "items": {"type": "object", "properties": {
            "sku": {"type": "string"},
            "qty": {"type": "integer", "minimum": 1}
        }, "required": ["sku"], "additionalProperties": false}, "minItems": 1})
    );
    assert_eq!(
        p("pair"),
        json!({"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}], "minItems": 2, "maxItems": 2})
    );
    assert_eq!(
        p("scores"),
        json!({"type": "object", "additionalProperties": {"type": "integer", "minimum": 0},
               "propertyNames": {"type": "string", "pattern": "^(?:[a-z]+\\n?$)"}})
    );
    assert_eq!(
        p("tags"),
        json!({"type": "array", "contains": {"enum": ["x"]}, "items": {"enum": ["x", "y"]}})
    );
    assert_eq!(
        p("flag"),
        json!({"type": "boolean", "not": {"enum": [false, 0]}})
    );
    assert_eq!(
        p("level"),
        json!({"anyOf": [
            {"items": {"enum": [1, true, 2]}, "type": "array"},
            {"maxProperties": 0, "type": "object"},
            {"enum": [1, true, 2]}
        ]}),
        "without a type, `allowed` applies to a list's items and a dict's keys"
    );
    assert_eq!(
        p("secret"),
        json!(false),
        "a read-only field may not be sent"
    );
    assert!(
        p("a")["description"]
            .as_str()
            .is_some_and(|d| d.contains("`dependencies`"))
    );
    assert!(
        p("b")["description"]
            .as_str()
            .is_some_and(|d| d.contains("`excludes`"))
    );
    assert_eq!(p("anything"), json!({"not": {"type": "null"}}));
}

#[test]
fn response_schemas_follow_the_data() {
    let f = flow(json!([
        ["1", "switch", {"conditions": [
            {"operator": "equal", "first_expression": "${request.qs.v}", "second_expression": "a", "next_action": "a"},
            {"operator": "equal", "first_expression": "${request.qs.v}", "second_expression": "b", "next_action": "b"},
            {"operator": "equal", "first_expression": "${request.qs.v}", "second_expression": "c", "next_action": "c"},
            {"operator": "equal", "first_expression": "${request.qs.v}", "second_expression": "d", "next_action": "d"},
            {"operator": "equal", "first_expression": "${request.qs.v}", "second_expression": "e", "next_action": "e"},
            {"operator": "equal", "first_expression": "${request.qs.v}", "second_expression": "f", "next_action": "f"},
            {"operator": "equal", "first_expression": "${request.qs.v}", "second_expression": "g", "next_action": "g"}
        ], "next_action_else": "end"}, "${pipeline.next_action}"],
        ["a", "response", {"data": {"ok": true, "list": [1, "${request.qs.v}"]}}, null],
        ["b", "response", {"status": 200, "data": {"v": "${request.qs.v}", "msg": "got ${request.qs.v}!", "n": 1}}, null],
        ["c", "response", {"status": "404", "data": "${flow.x}"}, null],
        ["d", "response", {"status": "${flow.status}", "data": {"any": 1}}, null],
        ["e", "response", {"status": 202, "headers": {"Content-Type": "text/plain; charset=utf-8"}, "data": "${flow.text}"}, null],
        ["f", "response", {"status": 203, "headers": {"Content-Type": "application/xml"}, "data": {"root": "${flow.x}"}}, null],
        ["g", "response", {"status": 204, "headers": {"Content-Type": "${flow.ct}"}}, null],
        ["end", "end", {}, null]
    ]));
    let ws = workspace(
        &[("f", &f)],
        r#"[{"method": "get", "path": "/r", "flow": "f"}]"#,
        None,
    );
    let doc = document("responses", &ws);
    let op = op(&doc, "/ws/r", "get");
    let ok = json_schema(op, "200");
    let variants = ok["anyOf"].as_array().cloned().unwrap_or_default();
    assert_eq!(variants.len(), 4, "{ok:#}");
    assert_eq!(
        variants[0],
        json!({"type": "object", "properties": {
            "ok": {"const": true},
            "list": {"type": "array", "prefixItems": [{"const": 1}, {}], "minItems": 2, "maxItems": 2}
        }, "required": ["ok", "list"], "additionalProperties": false})
    );
    assert_eq!(
        variants[1],
        json!({"type": "object", "properties": {
            "v": {}, "msg": {"type": "string"}, "n": {"const": 1}
        }, "required": ["v", "msg", "n"], "additionalProperties": false})
    );
    assert_eq!(variants[2], json!({"const": {}}), "`end` answers 200 {{}}");
    // A templated status may be any status: its answer joins every entry.
    let any = json!({"const": {"any": 1}});
    assert_eq!(variants[3], any);
    assert_eq!(
        json_schema(op, "404"),
        &json!({}),
        "a whole template is open"
    );
    let responses = op["responses"].as_object().expect("responses");
    let statuses: Vec<&str> = responses.keys().map(String::as_str).collect();
    assert_eq!(statuses, ["200", "202", "203", "204", "404", "default"]);
    assert_eq!(
        op["responses"]["202"]["content"],
        json!({"application/json": {"schema": any}, "application/xml": {}, "text/plain": {}})
    );
    assert_eq!(
        op["responses"]["203"]["content"]["application/xml"],
        json!({})
    );
    assert!(op["responses"]["204"].get("content").is_none());
    let default = json_schema(op, "default")["anyOf"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(default[0], any);
    assert!(
        op["responses"]["default"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("action `d`"))
    );
    assert!(
        op["responses"]["202"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("action `d`"))
    );
}

#[test]
fn the_default_response_states_the_engine_errors_and_joins_listed_statuses() {
    let f = flow(json!([["1", "response", {"status": 500, "data": {"oops": true}}, null]]));
    let ws = workspace(
        &[("f", &f)],
        r#"[{"method": "get", "path": "/x", "flow": "f"}]"#,
        None,
    );
    let doc = document("default", &ws);
    let x = op(&doc, "/ws/x", "get");
    let exception = json!({"type": "object", "properties": {"exception": {"type": "string"}},
                           "required": ["exception"], "additionalProperties": false});
    let failed = json_schema(x, "500")["anyOf"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(failed.contains(&json!({"const": {"oops": true}})) && failed.contains(&exception));
    let default = json_schema(x, "default")["anyOf"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !default.contains(&exception),
        "a failed run answers 500, listed above"
    );
    assert!(default.iter().any(|s| s["required"] == json!(["message"])));
    let description = x["responses"]["default"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(description.starts_with(
        "Errors the engine answers: invalid body, limits, upstream failures, timeouts"
    ));

    // Debug on: a run's answers may carry `__debug__`, errors their details.
    let ws = workspace(
        &[("f", OK)],
        r#"[{"method": "head", "path": "/y", "flow": "f"}, {"method": "get", "path": "/y", "flow": "f"}]"#,
        Some(r#"{"debug": true}"#),
    );
    let doc = document("debug", &ws);
    let get = op(&doc, "/ws/y", "get");
    assert_eq!(
        json_schema(get, "200"),
        &json!({"anyOf": [{"const": {"ok": true}}, {"type": "object", "required": ["__debug__"]}]})
    );
    let head = op(&doc, "/ws/y", "head");
    assert!(
        head["responses"]["200"].get("content").is_none(),
        "HEAD answers have no body"
    );
}

#[test]
fn declared_params_are_query_parameters_and_the_trigger_conf() {
    let f = r#"{"params": {"days": {"type": "integer", "minimum": 1, "required": true},
                          "tags": {"type": "array"}},
               "pipeline": [{"id": "1", "action": "response",
                             "data": {"data": {"days": "${params.days}", "q": "${request.qs.q}"}}, "next_action": null}]}"#;
    let ws = workspace(
        &[("f", f)],
        r#"[{"method": "get", "path": "/p", "flow": "f"}, {"method": "post", "path": "/p", "flow": "f"}]"#,
        None,
    );
    let doc = document("params", &ws);
    let get = op(&doc, "/ws/p", "get");
    assert_eq!(
        get["x-flowyt-params"],
        json!({"type": "object", "properties": {
            "days": {"type": "integer", "minimum": 1},
            "tags": {"type": "array"}
        }, "required": ["days"], "additionalProperties": false})
    );
    assert_eq!(
        names(get, "query"),
        ["days"],
        "undeclared `q` would be refused"
    );
    assert!(
        get["description"]
            .as_str()
            .is_some_and(|d| d.contains("`q`"))
    );
    // `tags` can only come from a JSON body: GET documents one too, `days` stays optional.
    assert_eq!(
        param(get, "query", "days").map(|p| p["required"].clone()),
        Some(json!(false))
    );
    let post = op(&doc, "/ws/p", "post");
    assert_eq!(
        post["requestBody"]["content"]["application/json"]["schema"],
        json!({"properties": {
            "days": {"type": ["integer", "string", "null"], "minimum": 1},
            "tags": {"type": ["array", "null"]}
        }, "additionalProperties": false})
    );
    let refused = json_schema(post, "default")["anyOf"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(refused.iter().any(|s| s["properties"]["param"].is_object()));
}

#[test]
fn operations_are_named_once_and_the_info_comes_from_settings() {
    let ws = workspace(
        &[("list-items", OK)],
        r#"[
            {"method": "get", "path": "/a", "flow": "list-items"},
            {"method": "get", "path": "/b", "flow": "list-items"},
            {"method": "post", "path": "/a", "flow": "list-items", "timeout": 2}
        ]"#,
        Some(r#"{"name": "Shop", "release": {"id": "x", "name": "v2.1"}}"#),
    );
    let doc = document("names", &ws);
    assert_eq!(op(&doc, "/ws/a", "get")["operationId"], "get_list_items");
    assert_eq!(op(&doc, "/ws/b", "get")["operationId"], "get_list_items_2");
    assert_eq!(op(&doc, "/ws/a", "post")["operationId"], "post_list_items");
    assert_eq!(op(&doc, "/ws/a", "post")["tags"], json!(["list-items"]));
    assert_eq!(doc["info"]["title"], "ws");
    assert_eq!(doc["info"]["version"], "v2.1");
    assert_eq!(doc["tags"], json!([{"name": "list-items"}]));
    let mut options = DocOptions::new("api/");
    options.title = Some("Shop API".into());
    options.version = Some("3".into());
    let doc = workspace_document(&ws, &options);
    assert_eq!(doc["info"]["title"], "Shop API");
    assert_eq!(doc["info"]["version"], "3");
    assert!(doc["paths"]["/api/a"].is_object());
}

#[test]
fn the_document_is_deterministic() {
    let routes = r#"[{"method": "get", "path": "/z", "flow": "b"}, {"method": "post", "path": "/a/<int:id>", "flow": "a"},
                     {"method": "get", "path": "/a/<int:id>", "flow": "b"}]"#;
    let a = flow(
        json!([["1", "response", {"data": {"x": "${request.qs.x}", "y": "${request.qs.y}"}}, null]]),
    );
    let one = workspace(&[("a", &a), ("b", OK)], routes, None);
    let two = workspace(&[("b", OK), ("a", &a)], routes, None);
    let text =
        |ws: &Workspace| serde_json::to_string(&document("deterministic", ws)).unwrap_or_default();
    assert_eq!(text(&one), text(&one));
    assert_eq!(text(&one), text(&two));
    let doc = document("deterministic", &one);
    let paths: Vec<&String> = doc["paths"].as_object().expect("paths").keys().collect();
    assert_eq!(paths, ["/ws/a/{id}", "/ws/z"]);
    let methods: Vec<&String> = doc["paths"]["/ws/a/{id}"]
        .as_object()
        .expect("item")
        .keys()
        .collect();
    assert_eq!(methods, ["get", "post"]);
}

#[test]
fn shop_example_loads_and_its_document_says_what_it_does() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/workspaces/shop");
    let loaded = Workspace::load_with_env(&dir, &Catalog::new(), Strictness::Strict, &|_| None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let doc = workspace_document(&loaded.workspace, &DocOptions::new("/shop"));
    check_structure(&doc);
    if let Some(dir) = std::env::var_os("FLOWYT_OPENAPI_DUMP") {
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        std::fs::write(Path::new(&dir).join("shop.json"), text).expect("dump");
    }
    assert_eq!(doc["info"]["version"], "v1.0.0");

    let search = op(&doc, "/shop/items", "get");
    assert_eq!(names(search, "query"), ["format", "limit", "q", "sort"]);
    assert_eq!(names(search, "header"), ["x-client"]);
    let found = json_schema(search, "200")["anyOf"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(found.len(), 3, "found, names only, none found");
    assert!(
        found
            .iter()
            .any(|s| s["properties"]["message"] == json!({"const": "no item matches"}))
    );
    assert!(search["responses"]["404"].is_null());
    // The category route jumps to the search: same reads, same answers.
    let category = op(&doc, "/shop/categories/{category}", "get");
    assert_eq!(names(category, "query"), names(search, "query"));
    assert_eq!(category["responses"]["200"], search["responses"]["200"]);

    let item = op(&doc, "/shop/items/{item_id}", "get");
    assert_eq!(
        param(item, "path", "item_id").map(|p| p["schema"]["type"].clone()),
        Some(json!("integer"))
    );
    assert!(json_schema(item, "404").is_object());

    let order = op(&doc, "/shop/orders", "post");
    assert_eq!(order["requestBody"]["required"], true);
    let body = &order["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["required"], json!(["customer", "lines"]));
    assert_eq!(
        body["properties"]["customer"]["required"],
        json!(["name", "email"])
    );
    let line = &body["properties"]["lines"]["items"];
    assert_eq!(
        line["properties"]["quantity"],
        json!({"type": "number", "minimum": 1, "maximum": 100})
    );
    assert_eq!(line["properties"]["sku"]["enum"][0], "apple");
    assert_eq!(body["properties"]["delivery"]["default"], "standard");
    assert_eq!(
        json_schema(order, "201")["properties"]["status"],
        json!({"const": "created"})
    );
    let refused = json_schema(order, "400")["anyOf"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(refused.iter().any(|s| s["required"] == json!(["errors"])));

    let report = op(&doc, "/shop/report", "get");
    assert_eq!(names(report, "query"), ["days", "category"]);
    assert_eq!(
        report["x-flowyt-params"]["properties"]["days"]["default"],
        7
    );
    assert!(report["responses"]["200"]["content"]["application/json"].is_object());

    let health = op(&doc, "/shop/health", "get");
    assert_eq!(
        json_schema(health, "200"),
        &json!({"const": {"status": "ok", "service": "shop"}})
    );
}
