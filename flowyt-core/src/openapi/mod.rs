//! The OpenAPI 3.1 document of a workspace's routes, derived from the flows themselves.
//!
//! Every route of `routes.json` becomes one operation (a flow served by two routes appears
//! twice). The document describes what the engine really does, and where it cannot know,
//! it stays open (`{}`) rather than guess: a response the document forbids would be a bug in
//! the document. What each part is taken from:
//!
//! - **Path parameters**, typed as the runtime converts them: `int` is an integer (a 64-bit
//!   one, sign allowed: the runtime parses it with Rust's `i64`, and anything else answers
//!   404), `float` a number, `path` a string that may contain `/`, and `string`, `any` and
//!   `uuid` a non-empty string (the runtime does not check a `uuid`'s form).
//! - **Query parameters and headers**: every `request.qs.NAME` and `request.headers.NAME` read
//!   by a template of an action the run may execute, in the route's flow, the flows it jumps
//!   to and the sub-flows it runs (`handle`, `loop`, `parallel`), inside any expression.
//!   All are optional strings. Headers are named as a client sends them (`x_api_key` is read
//!   from `X-Api-Key`); `Accept`, `Authorization`, `Content-Type` and the connection headers
//!   are left out, as OpenAPI asks. Reads by computed names are noted in the description.
//! - **Request body**: the Cerberus schema of a `validation` action (translated by
//!   [`cerberus_to_json_schema`]) when every run passes that action and its failure can only
//!   answer 4xx; the body is then required (the engine answers an empty or non-JSON body as
//!   a failed validation). Otherwise, when the run reads `request.data` or `request.form`, an
//!   optional body naming the fields it reads.
//! - **Declared `params`**: they are the `conf` of a triggered run, given as
//!   `x-flowyt-params` (a JSON Schema object). Over HTTP the engine takes them from the query
//!   string and from a JSON object body, and refuses anything undeclared with 400: so they are
//!   listed as query parameters (required when the run needs them and no body is documented),
//!   a JSON object body may hold only them, and undeclared query reads are not listed.
//! - **Responses**: every `response` action the run can reach (following jumps, not the
//!   sub-flows, whose answers do not end the run), with its status when it is written
//!   literally (200 when absent), its media type (`application/json` unless its headers name
//!   another; none when a template sets it) and the schema of its body where the data is
//!   static (`const`, or an object or array shape whose templated members are `{}`, or a
//!   string where text surrounds a template). A run that ends without a `response` answers
//!   200 `{}`; a `validation` with no `next_action_fail` answers 400 `{"errors": {...}}`.
//!   A run's answers can also come as XML (a request with `Accept: application/xml`), and
//!   with `__debug__` when the workspace has `debug` on. The engine's own answers (a body
//!   that is not JSON, a path parameter that is not a number, a body too large, a failed or
//!   timed-out run) join the entry of their status, or `default`, which is always present
//!   and open to statuses a template sets.
//!
//! The document is deterministic: paths are sorted, and everything else follows the
//! workspace's own order.

mod body;
mod cerberus;
mod parameters;
mod params;
mod pattern;
mod reads;
mod responses;
mod schema;
mod values;
mod walk;

pub use cerberus::cerberus_to_json_schema;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::workspace::{Route, Workspace};
use reads::Reads;
use schema::Obj;

/// Where the workspace's routes are mounted and what the document is called.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct DocOptions {
    /// Prefixed to every route path, e.g. `/shop` (where `flowyt serve` mounts workspace
    /// `shop`); empty for routes served at the root.
    pub base_path: String,
    /// `info.title`; the workspace name when `None`.
    pub title: Option<String>,
    /// `info.version`; the settings' `release` (a string, or its `version` or `name`) when
    /// `None`, else `"0"`.
    pub version: Option<String>,
}

impl DocOptions {
    /// Options for routes mounted under `base_path`.
    pub fn new(base_path: impl Into<String>) -> Self {
        DocOptions {
            base_path: base_path.into(),
            ..DocOptions::default()
        }
    }
}

/// The OpenAPI 3.1 document of a workspace's routes.
///
/// ```
/// use flowyt_core::catalog::Catalog;
/// use flowyt_core::openapi::{DocOptions, workspace_document};
/// use flowyt_core::validate::Strictness;
/// use flowyt_core::workspace::{Sources, Workspace};
/// use serde_json::json;
///
/// let flow = r#"{"pipeline": [
///     {"id": "1", "action": "response",
///      "data": {"status": 200, "data": {"id": "${request.params.item_id}", "q": "${request.qs.q}"}},
///      "next_action": null}
/// ]}"#;
/// let sources = Sources {
///     flows: vec![("item".into(), "flows/item.json".into(), flow.into())],
///     routes: Some(("routes.json".into(),
///         r#"[{"method": "get", "path": "/items/<int:item_id>", "flow": "item"}]"#.into())),
///     ..Sources::default()
/// };
/// let ws = Workspace::from_sources("shop", &sources, &Catalog::new(), Strictness::Strict, &|_| None)
///     .unwrap()
///     .workspace;
/// let doc = workspace_document(&ws, &DocOptions::new("/shop"));
/// let op = &doc["paths"]["/shop/items/{item_id}"]["get"];
/// assert_eq!(doc["openapi"], "3.1.0");
/// assert_eq!(op["operationId"], "get_item");
/// assert_eq!(op["parameters"][0]["schema"], json!({"type": "integer", "format": "int64"}));
/// assert_eq!(op["parameters"][1]["name"], "q");
/// let ok = &op["responses"]["200"]["content"]["application/json"]["schema"];
/// assert_eq!(ok["properties"]["q"], json!({}));
/// assert!(op["responses"]["default"].is_object());
/// ```
pub fn workspace_document(ws: &Workspace, options: &DocOptions) -> Value {
    let base = options.base_path.trim_end_matches('/');
    let base = if base.is_empty() || base.starts_with('/') {
        base.to_string()
    } else {
        format!("/{base}")
    };
    let mut ids: BTreeSet<String> = BTreeSet::new();
    let mut paths: BTreeMap<String, Vec<(String, Value)>> = BTreeMap::new();
    let mut tags: Vec<&str> = Vec::new();
    for route in &ws.routes {
        let op = operation(ws, route, &mut ids);
        paths
            .entry(openapi_path(&base, route))
            .or_default()
            .push((route.method.to_ascii_lowercase(), op));
        if !tags.contains(&route.flow.as_str()) {
            tags.push(&route.flow);
        }
    }
    const ORDER: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];
    let paths: Obj = paths
        .into_iter()
        .map(|(path, mut ops)| {
            ops.sort_by_key(|(m, _)| ORDER.iter().position(|o| o == m));
            (path, Value::Object(ops.into_iter().collect()))
        })
        .collect();
    tags.sort_unstable();
    let tags: Vec<Value> = tags
        .into_iter()
        .map(|key| {
            let mut t = Obj::new();
            t.insert("name".into(), json!(key));
            if let Some(name) = ws.flows.get(key).and_then(|f| text(&f.name)) {
                t.insert("description".into(), json!(name));
            }
            Value::Object(t)
        })
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": info(ws, options),
        "paths": paths,
        "tags": tags,
    })
}

fn text(v: &Value) -> Option<&str> {
    v.as_str().map(str::trim).filter(|s| !s.is_empty())
}

fn info(ws: &Workspace, options: &DocOptions) -> Value {
    let release = &ws.settings.release;
    let version = options
        .version
        .clone()
        .or_else(|| text(release).map(str::to_string))
        .or_else(|| {
            ["version", "name"]
                .iter()
                .find_map(|k| release.get(k).and_then(text).map(str::to_string))
        })
        .unwrap_or_else(|| "0".into());
    let mut description = format!(
        "The routes of workspace `{}`, derived from its flows by flowyt. A request with \
         `Accept: application/xml` gets a run's answer as XML.",
        ws.name
    );
    if let Some(name) = text(&ws.settings.name) {
        description = format!("{name}. {description}");
    }
    if ws.settings.debug {
        description.push_str(
            " Debug is on: `X-Flowyt-Debug: true` adds `__debug__` to a run's answer \
             (and an error's details).",
        );
    }
    json!({
        "title": options.title.clone().unwrap_or_else(|| ws.name.clone()),
        "version": version,
        "description": description,
    })
}

/// The route's path in OpenAPI syntax under `base` (`/shop/items/{item_id}`).
fn openapi_path(base: &str, route: &Route) -> String {
    let path = route.axum_path.replace("{*", "{");
    match (base.is_empty(), path.as_str()) {
        (false, "/") => base.to_string(),
        _ => format!("{base}{path}"),
    }
}

/// A unique, stable `operationId`: `<method>_<flow>`, with `_2`, `_3`... on repeats.
fn operation_id(route: &Route, ids: &mut BTreeSet<String>) -> String {
    let flow: String = route
        .flow
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let base = format!("{}_{flow}", route.method.to_ascii_lowercase());
    let mut id = base.clone();
    let mut n = 2;
    while ids.contains(&id) {
        id = format!("{base}_{n}");
        n += 1;
    }
    ids.insert(id.clone());
    id
}

fn operation(ws: &Workspace, route: &Route, ids: &mut BTreeSet<String>) -> Value {
    let mut op = Obj::new();
    op.insert("operationId".into(), json!(operation_id(route, ids)));
    let flow = ws.flows.get(&route.flow);
    let summary = flow.and_then(|f| text(&f.name)).unwrap_or(&route.flow);
    op.insert("summary".into(), json!(summary));
    let ex = walk::explore(ws, walk::entry(ws, &route.flow).into_iter().collect());
    let (all, dynamic_flows) = walk::all_actions(ws, &route.flow);
    let mut reads = Reads::default();
    for at in &all {
        if let Some(a) = walk::action(ws, *at) {
            reads.add_action(a);
        }
    }
    let declared = flow.and_then(|f| f.params.as_deref());
    let mut notes: Vec<String> = Vec::new();
    let run = responses::run_answers(ws, &ex);
    let body = body::request_body(ws, route, &ex, &reads, declared, &mut notes);
    let mut parameters = parameters::path_parameters(route);
    parameters.extend(parameters::query_parameters(
        &reads,
        declared,
        body.is_some(),
        &mut notes,
    ));
    parameters.extend(parameters::header_parameters(&reads, &mut notes));
    if reads.whole_request {
        notes.push("Reads the whole `request`, or a member of it by a computed name.".into());
    }
    if dynamic_flows {
        notes.push(
            "Runs a flow named by a template: every flow's reads and answers are listed.".into(),
        );
    }
    if let Some(t) = route.timeout {
        notes.push(format!(
            "The run is stopped after {} s (500).",
            t.as_secs_f64()
        ));
    }
    let mut description = match flow.map(|f| &f.id).and_then(text) {
        Some(id) => format!("Runs flow `{}` (id `{id}`).", route.flow),
        None => format!("Runs flow `{}`.", route.flow),
    };
    for n in &notes {
        description.push_str("\n\n");
        description.push_str(n);
    }
    op.insert("description".into(), json!(description));
    op.insert("tags".into(), json!([route.flow]));
    if !parameters.is_empty() {
        op.insert("parameters".into(), Value::Array(parameters));
    }
    if let Some(b) = body {
        op.insert("requestBody".into(), b);
    }
    let checks_numbers = route.params.iter().any(|(_, c)| c == "int" || c == "float");
    let engine = responses::engine_answers(ws, checks_numbers, declared.is_some());
    op.insert(
        "responses".into(),
        responses::responses(&run, &engine, route.method == "HEAD"),
    );
    op.insert("x-flowyt-flow".into(), json!(route.flow));
    if let Some(p) = declared {
        op.insert("x-flowyt-params".into(), params::conf_schema(p));
    }
    Value::Object(op)
}
