//! The console: every workspace, flow, schedule, registered service and run, and the API
//! documents, for a person in a browser. Server-rendered HTML (maud), the flow graph laid out
//! on the server as inline SVG, one small script for live run updates over server-sent events;
//! nothing loaded from elsewhere. `flowyt serve` mounts it at `/_console/`; an application mounts [`router`].
//!
//! ```no_run
//! use flowyt_runtime::access::Access;
//! use flowyt_runtime::console::{self, ConsoleSource};
//! use flowyt_runtime::runs::{MemoryStore, Runs, RunsOptions};
//! use flowyt_runtime::Workspace;
//! use std::sync::Arc;
//!
//! struct Mine(Workspace);
//! impl ConsoleSource for Mine {
//!     fn workspaces(&self) -> Vec<Workspace> { vec![self.0.clone()] }
//! }
//! # fn demo(ws: Workspace) {
//! let lookup = { let ws = ws.clone(); move |n: &str| (n == ws.name()).then(|| ws.clone()) };
//! let runs = Runs::start(Arc::new(MemoryStore::default()), lookup, RunsOptions::default());
//! let access = Access::new(None, "127.0.0.1".parse().unwrap());
//! let app: axum::Router = axum::Router::new().merge(console::router(Mine(ws), runs, access));
//! # }
//! ```

mod api;
mod auth;
mod pages;

use crate::Workspace;
use crate::access::Access;
use crate::runs::{Cancelled, ListQuery, Page, Runs};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use flowyt_core::graph::{self, Format};
use flowyt_core::model::Flow;
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// What the console shows: the workspaces served, those that failed to load, flow sources, the
/// registry.
pub trait ConsoleSource: Send + Sync + 'static {
    /// The workspaces being served.
    fn workspaces(&self) -> Vec<Workspace>;

    /// Workspaces that failed to load: name and diagnostics as `flowyt check` prints them.
    fn failed(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// The JSON source of a flow, when it came from a file.
    fn flow_source(&self, _workspace: &str, _flow: &str) -> Option<String> {
        None
    }

    /// The registered services: `(app, instance id, status, address)`.
    fn services(&self) -> Vec<(String, String, String, String)> {
        Vec::new()
    }

    /// Where the tracing backend shows trace `trace_id` (a run page links its trace there).
    fn trace_link(&self, _trace_id: &str) -> Option<String> {
        None
    }
}

#[derive(Clone)]
struct Console {
    source: Arc<dyn ConsoleSource>,
    runs: Runs,
    access: Access,
}

/// The console's routes under `/_console`, to merge into an application's router. `access`
/// decides who sees it and who may act (see the README's "Console").
pub fn router<S: Clone + Send + Sync + 'static>(
    source: impl ConsoleSource,
    runs: Runs,
    access: Access,
) -> Router<S> {
    let console = Console {
        source: Arc::new(source),
        runs,
        access: access.clone(),
    };
    let guarded = Router::new()
        .route(
            "/_console",
            get(|| async { Redirect::permanent("/_console/") }),
        )
        .route("/_console/", get(home))
        .route("/_console/api", get(engine_api))
        .route("/_console/api.json", get(engine_api_json))
        .route("/_console/workspaces/{ws}/api", get(workspace_api))
        .route(
            "/_console/workspaces/{ws}/api.json",
            get(workspace_api_json),
        )
        .route("/_console/workspaces/{ws}/flows/{flow}", get(flow_page))
        .route(
            "/_console/workspaces/{ws}/flows/{flow}/trigger",
            post(trigger),
        )
        .route(
            "/_console/workspaces/{ws}/flows/{flow}/runs/{run_id}",
            get(run_page),
        )
        .route(
            "/_console/workspaces/{ws}/flows/{flow}/runs/{run_id}/events",
            get(run_events),
        )
        .route(
            "/_console/workspaces/{ws}/flows/{flow}/runs/{run_id}/cancel",
            post(cancel),
        )
        .route_layer(axum::middleware::from_fn_with_state(access, guard));
    Router::new()
        .merge(guarded)
        .route("/_console/login", get(login_page).post(login))
        .route("/_console/logout", post(logout))
        .route("/_console/assets/console.css", get(css))
        .route("/_console/assets/console.js", get(js))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(console)
}

/// The workspace's flow `key` as drawn: the model, for graphs and forms.
fn flow_of<'a>(ws: &'a Workspace, key: &str) -> Option<&'a Flow> {
    ws.flow_model(key)
}

/// The flow laid out as SVG (as `flowyt graph --format svg` prints it), with the actions at
/// the indexes of `marked` (a run's path) highlighted.
pub fn svg(flow: &Flow, marked: &BTreeSet<usize>) -> Result<String, String> {
    use layout::backends::svg::SVGWriter;
    use layout::gv::{DotParser, GraphBuilder};
    let dot = graph::draw_marked(flow, Format::Dot, marked);
    // The layout is a third-party algorithm: a panic in it is an error for this graph, never a
    // crashed request.
    std::panic::catch_unwind(move || {
        let mut parser = DotParser::new(&dot);
        let tree = parser.process()?;
        let mut builder = GraphBuilder::new();
        builder.visit_graph(&tree);
        let mut visual = builder.get();
        let mut writer = SVGWriter::new();
        visual.do_it(false, false, false, &mut writer);
        Ok(writer.finalize())
    })
    .unwrap_or_else(|_| Err("the layout failed on this graph".to_string()))
}

/// Every response: no framing, no sniffing, nothing loaded from anywhere but this server.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    res
}

/// Lets a request through at its level (put in its extensions), or refuses it: to the login
/// form for pages, with a status for actions and streams.
async fn guard(State(access): State<Access>, mut req: Request, next: Next) -> Response {
    match auth::level(&access, req.method(), req.headers()) {
        Ok(level) => {
            req.extensions_mut().insert(level);
            next.run(req).await
        }
        Err(auth::Refusal::Login) if req.method() == Method::GET => {
            let back: String =
                form_urlencoded::byte_serialize(req.uri().path().as_bytes()).collect();
            Redirect::to(&format!("/_console/login?next={back}")).into_response()
        }
        Err(refusal) => {
            let status = match refusal {
                auth::Refusal::Login => StatusCode::UNAUTHORIZED,
                _ => StatusCode::FORBIDDEN,
            };
            (status, Html(pages::message_page(status, refusal.message()))).into_response()
        }
    }
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("assets/console.css"),
    )
        .into_response()
}

async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("assets/console.js"),
    )
        .into_response()
}

fn not_found(what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(pages::message_page(StatusCode::NOT_FOUND, what)),
    )
        .into_response()
}

async fn home(State(c): State<Console>) -> Response {
    let mut workspaces = c.source.workspaces();
    workspaces.sort_by(|a, b| a.name().cmp(b.name()));
    let failed = c.source.failed();
    let services = c.source.services();
    Html(pages::home(&workspaces, &failed, &services)).into_response()
}

/// The operating API's document, readable.
async fn engine_api() -> Response {
    let doc = crate::openapi::operating_document();
    Html(pages::api("Operating API", &doc, "/_console/api.json")).into_response()
}

async fn engine_api_json() -> Response {
    axum::Json(crate::openapi::operating_document()).into_response()
}

/// A workspace's document: its routes under `/{ws}`, as `flowyt serve` mounts them.
fn workspace_doc(c: &Console, name: &str) -> Option<Value> {
    Some(workspace(c, name)?.served_openapi().clone())
}

async fn workspace_api(State(c): State<Console>, Path(name): Path<String>) -> Response {
    match workspace_doc(&c, &name) {
        Some(doc) => {
            let json = format!("{}/api.json", pages::workspace_url(&name));
            Html(pages::api(&format!("{name} API"), &doc, &json)).into_response()
        }
        None => not_found(&format!("no workspace `{name}` is served")),
    }
}

async fn workspace_api_json(State(c): State<Console>, Path(name): Path<String>) -> Response {
    match workspace_doc(&c, &name) {
        Some(doc) => axum::Json(doc).into_response(),
        None => not_found(&format!("no workspace `{name}` is served")),
    }
}

/// `?offset=` of a list of runs.
#[derive(serde::Deserialize)]
struct Offset {
    offset: Option<usize>,
}

/// What the flow page shows besides the flow: the form's values and errors, the runs.
pub(super) struct FlowView<'a> {
    ws: &'a Workspace,
    key: &'a str,
    flow: &'a Flow,
    svg: Result<String, String>,
    source: Option<String>,
    runs: Result<Vec<crate::runs::RunRecord>, String>,
    offset: usize,
    values: HashMap<String, String>,
    error: Option<(String, String)>,
    level: auth::Level,
}

async fn flow_view<'a>(
    c: &Console,
    ws: &'a Workspace,
    key: &'a str,
    flow: &'a Flow,
    offset: usize,
    level: auth::Level,
) -> FlowView<'a> {
    let query = ListQuery {
        workspace: ws.name().to_string(),
        flow: Some(key.to_string()),
        status: None,
        page: Page::new(pages::RUNS_PER_PAGE, offset),
    };
    FlowView {
        ws,
        key,
        flow,
        svg: svg(flow, &BTreeSet::new()),
        source: c.source.flow_source(ws.name(), key),
        runs: c.runs.store().list(&query).await.map_err(|e| e.to_string()),
        offset,
        values: HashMap::new(),
        error: None,
        level,
    }
}

fn workspace(c: &Console, name: &str) -> Option<Workspace> {
    c.source.workspaces().into_iter().find(|w| w.name() == name)
}

async fn flow_page(
    State(c): State<Console>,
    Extension(level): Extension<auth::Level>,
    Path((ws_name, key)): Path<(String, String)>,
    Query(q): Query<Offset>,
) -> Response {
    let Some(ws) = workspace(&c, &ws_name) else {
        return not_found(&format!("no workspace `{ws_name}` is served"));
    };
    let Some(flow) = flow_of(&ws, &key) else {
        return not_found(&format!("workspace `{ws_name}` has no flow `{key}`"));
    };
    let view = flow_view(&c, &ws, &key, flow, q.offset.unwrap_or(0), level).await;
    Html(pages::flow(&view)).into_response()
}

/// The submitted form as params: empty fields left out (defaults apply), JSON for object and
/// array params, text for the rest (checked as the runs API checks query strings).
fn form_params(
    flow: &Flow,
    form: &[(String, String)],
) -> Result<Map<String, Value>, (String, String)> {
    let mut given = Map::new();
    for p in flow.params.iter().flatten() {
        let Some((_, raw)) = form.iter().find(|(k, _)| *k == p.name) else {
            continue;
        };
        if raw.is_empty() {
            continue;
        }
        use flowyt_core::params::ParamType;
        let value = match p.ty {
            ParamType::Object | ParamType::Array => serde_json::from_str(raw).map_err(|e| {
                (
                    p.name.clone(),
                    format!("param `{}` must be JSON: {e}", p.name),
                )
            })?,
            _ => Value::String(raw.clone()),
        };
        given.insert(p.name.clone(), value);
    }
    Ok(given)
}

async fn trigger(
    State(c): State<Console>,
    Extension(level): Extension<auth::Level>,
    Path((ws_name, key)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let Some(ws) = workspace(&c, &ws_name) else {
        return not_found(&format!("no workspace `{ws_name}` is served"));
    };
    let Some(flow) = flow_of(&ws, &key) else {
        return not_found(&format!("workspace `{ws_name}` has no flow `{key}`"));
    };
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    // The runs API's own check, reading form text as typed values; the typed values are
    // what the run gets (the trigger checks them once more).
    let checked = form_params(flow, &form).and_then(|given| {
        ws.resolve_params(&key, &given, true)
            .map_err(|e| (e.param, e.message))
    });
    let conf = match checked {
        Ok(typed) => Value::Object(typed),
        Err(error) => {
            let mut view = flow_view(&c, &ws, &key, flow, 0, level).await;
            view.values = form.into_iter().collect();
            view.error = Some(error);
            return (StatusCode::BAD_REQUEST, Html(pages::flow(&view))).into_response();
        }
    };
    match c.runs.trigger(&ws, &key, None, conf).await {
        Ok(run_id) => Redirect::to(&pages::run_url(ws.name(), &key, &run_id)).into_response(),
        Err(e) => {
            let mut view = flow_view(&c, &ws, &key, flow, 0, level).await;
            view.values = form.into_iter().collect();
            view.error = Some((String::new(), e.to_string()));
            (StatusCode::BAD_REQUEST, Html(pages::flow(&view))).into_response()
        }
    }
}

async fn run_page(
    State(c): State<Console>,
    Extension(level): Extension<auth::Level>,
    Path((ws_name, key, run_id)): Path<(String, String, String)>,
) -> Response {
    let record = match c.runs.store().get(&ws_name, &key, &run_id).await {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(&format!("no run `{run_id}` of `{ws_name}/{key}`")),
        Err(e) => {
            let status = StatusCode::SERVICE_UNAVAILABLE;
            return (status, Html(pages::message_page(status, &e.to_string()))).into_response();
        }
    };
    let ws = workspace(&c, &ws_name);
    let flow = ws.as_ref().and_then(|w| flow_of(w, &key));
    let link = record
        .trace_context()
        .and_then(|t| c.source.trace_link(&t.trace_id()));
    Html(pages::run(&record, flow, level, link)).into_response()
}

/// The run's live part, pushed whenever it changes until the run ends.
async fn run_events(
    State(c): State<Console>,
    Extension(level): Extension<auth::Level>,
    Path((ws_name, key, run_id)): Path<(String, String, String)>,
) -> Response {
    let flow = workspace(&c, &ws_name).and_then(|w| flow_of(&w, &key).cloned());
    let store = c.runs.store().clone();
    let stream = futures_util::stream::unfold((String::new(), false), move |(last, ended)| {
        let (store, ws_name, key, run_id, flow) = (
            store.clone(),
            ws_name.clone(),
            key.clone(),
            run_id.clone(),
            flow.clone(),
        );
        async move {
            if ended {
                return None;
            }
            let mut waited = Duration::ZERO;
            loop {
                let record = store.get(&ws_name, &key, &run_id).await.ok().flatten()?;
                let html = pages::live(&record, flow.as_ref(), level);
                let done = record.status.is_final();
                if html != last || done {
                    let name = if done { "end" } else { "update" };
                    let event = Event::default().event(name).data(html.clone());
                    return Some((Ok::<_, std::convert::Infallible>(event), (html, done)));
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
                waited += Duration::from_millis(250);
                if waited > Duration::from_secs(3600) {
                    return None;
                }
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

async fn cancel(
    State(c): State<Console>,
    Path((ws_name, key, run_id)): Path<(String, String, String)>,
) -> Response {
    match c.runs.store().cancel(&ws_name, &key, &run_id).await {
        Ok(Cancelled::NotFound) => not_found(&format!("no run `{run_id}` of `{ws_name}/{key}`")),
        Ok(_) => Redirect::to(&pages::run_url(&ws_name, &key, &run_id)).into_response(),
        Err(e) => {
            let status = StatusCode::SERVICE_UNAVAILABLE;
            (status, Html(pages::message_page(status, &e.to_string()))).into_response()
        }
    }
}

/// `?next=` of the login form.
#[derive(serde::Deserialize)]
struct Next_ {
    next: Option<String>,
}

/// Where to go after logging in: a console path, nothing else.
fn next_page(next: Option<String>) -> String {
    next.filter(|n| n.starts_with("/_console/") && !n.contains("//") && !n.contains('\\'))
        .unwrap_or_else(|| "/_console/".to_string())
}

async fn login_page(State(c): State<Console>, Query(q): Query<Next_>) -> Response {
    Html(pages::login(
        &next_page(q.next),
        None,
        c.access.has_secret(),
    ))
    .into_response()
}

async fn login(State(c): State<Console>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if crate::access::cross_site(&Method::POST, &headers) {
        let status = StatusCode::FORBIDDEN;
        return (
            status,
            Html(pages::message_page(
                status,
                auth::Refusal::CrossSite.message(),
            )),
        )
            .into_response();
    }
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let token = form.get("token").cloned().unwrap_or_default();
    let next = next_page(form.get("next").cloned());
    let mut probe = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&token) {
        probe.insert("x-flowyt-token", v);
    }
    if !c.access.carries_secret(&probe) {
        let page = pages::login(&next, Some("That is not the server's token."), true);
        return (StatusCode::UNAUTHORIZED, Html(page)).into_response();
    }
    let mut res = Redirect::to(&next).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&auth::login_cookie(&token)) {
        res.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    res
}

async fn logout() -> Response {
    let mut res = Redirect::to("/_console/login").into_response();
    if let Ok(cookie) = HeaderValue::from_str(&auth::logout_cookie()) {
        res.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    res
}
