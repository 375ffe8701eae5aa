//! Real servers on 127.0.0.1 for the runtime's tests: a stand-in upstream service and a
//! flowyt workspace mounted in an axum app, both called with a real `reqwest` client.
//!
//! A test describes its workspace with [`Case`] (settings, routes, flows), serves it with
//! [`Case::serve`] and calls it through the [`Served`] it gets back.
#![allow(dead_code)] // each test binary uses a different part of this module

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get as get_route};
use flowyt_runtime::core::catalog::Catalog;
use flowyt_runtime::core::workspace::{Sources, Workspace as CoreWorkspace};
use flowyt_runtime::{Engine, Strictness, Workspace};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

/// Serves `app` on a free loopback port; the server lives as long as the test's runtime.
pub async fn spawn(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// A stand-in upstream with one route per behaviour the tests need.
pub fn upstream() -> Router {
    Router::new()
        .route("/users/{user}/repos", get_route(repos))
        .route(
            "/users/{user}",
            get_route(|Path(user): Path<String>| async move {
                axum::Json(json!({"login": user, "ok": true}))
            }),
        )
        .route(
            "/status/{code}",
            any(|Path(code): Path<u16>| async move {
                let status = StatusCode::from_u16(code).unwrap_or(StatusCode::IM_A_TEAPOT);
                (
                    status,
                    axum::Json(json!({"message": status.canonical_reason().unwrap_or("?")})),
                )
            }),
        )
        .route("/empty", get_route(|| async { StatusCode::NO_CONTENT }))
        .route(
            "/text",
            get_route(|| async { ([(header::CONTENT_TYPE, "text/plain")], "hello") }),
        )
        .route(
            "/broken-json",
            get_route(|| async { ([(header::CONTENT_TYPE, "application/json")], "{\"truncated\": ") }),
        )
        .route(
            "/redirect/{code}",
            get_route(|Path(code): Path<u16>| async move {
                Redirect::temporary(&format!("/status/{code}"))
            }),
        )
        .route(
            "/slow",
            get_route(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                axum::Json(json!({"late": true}))
            }),
        )
        .route("/echo", any(echo))
        .route(
            "/away",
            get_route(|Query(q): Query<HashMap<String, String>>| async move {
                Redirect::temporary(q.get("to").map_or("/", String::as_str))
            }),
        )
        .route("/flaky/{key}/{failures}", any(flaky))
        .route("/barrier/{key}", get_route(barrier))
        .route("/{site}/search", get_route(|Path(site): Path<String>, Query(q): Query<HashMap<String, String>>| async move {
            axum::Json(json!({"site_id": site, "query": q.get("q"), "results": [{"price": 10.0}, {"price": 20.0}]}))
        }))
}

/// A 404 with `{"message": "Not Found"}`, as GitHub answers for an unknown user.
pub fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"message": "Not Found"})),
    )
        .into_response()
}

async fn repos(Path(user): Path<String>, Query(q): Query<HashMap<String, String>>) -> Response {
    if user == "nobody" {
        return not_found();
    }
    axum::Json(json!([
        {"name": format!("{user}-one"), "sort": q.get("sort")},
        {"name": format!("{user}-two"), "sort": q.get("sort")}
    ]))
    .into_response()
}

/// Answers only once two calls with the same `key` are waiting (504 after 5 s otherwise): a
/// flow that gets both answers made its calls concurrently.
async fn barrier(Path(key): Path<String>) -> Response {
    type Barriers = std::sync::Mutex<Option<HashMap<String, std::sync::Arc<tokio::sync::Barrier>>>>;
    static BARRIERS: Barriers = std::sync::Mutex::new(None);
    let b = {
        let mut guard = BARRIERS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard
            .get_or_insert_with(HashMap::new)
            .entry(key.clone())
            .or_insert_with(|| std::sync::Arc::new(tokio::sync::Barrier::new(2)))
            .clone()
    };
    match tokio::time::timeout(Duration::from_secs(5), b.wait()).await {
        Ok(_) => axum::Json(json!({"met": key})).into_response(),
        Err(_) => (
            StatusCode::GATEWAY_TIMEOUT,
            axum::Json(json!({"alone": key})),
        )
            .into_response(),
    }
}

/// 503 for the first `failures` calls with this `key`, then 200 with the call count.
async fn flaky(Path((key, failures)): Path<(String, u32)>) -> Response {
    static CALLS: std::sync::Mutex<Option<HashMap<String, u32>>> = std::sync::Mutex::new(None);
    let n = {
        let mut guard = CALLS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let calls = guard
            .get_or_insert_with(HashMap::new)
            .entry(key)
            .or_insert(0);
        *calls += 1;
        *calls
    };
    if n <= failures {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"call": n})),
        )
            .into_response()
    } else {
        axum::Json(json!({"calls": n})).into_response()
    }
}

/// Answers with what it received: method, query, headers and body.
async fn echo(headers: HeaderMap, req: Request) -> axum::Json<Value> {
    let method = req.method().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let body: Bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                Value::String(v.to_str().unwrap_or("").to_string()),
            )
        })
        .collect();
    axum::Json(json!({
        "method": method,
        "query": query,
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
    }))
}

/// Where `env.baseUrl` points when a case has no upstream: a port nothing listens on.
pub const NO_UPSTREAM: &str = "http://127.0.0.1:9";

/// Starts [`upstream`] on a free loopback port and returns its base URL.
pub async fn upstream_url() -> String {
    format!("http://{}", spawn(upstream()).await)
}

/// A workspace under test, built from JSON values: settings, routes and flows.
///
/// ```ignore
/// let served = Case::new()
///     .settings(json!({"debug": true}))
///     .route("get", "/t", "f")
///     .flow("f", flow(actions))
///     .serve()
///     .await;
/// let got = served.get("/t?x=1").await;
/// ```
pub struct Case {
    engine: Option<Engine>,
    settings: Value,
    routes: Vec<Value>,
    flows: Vec<(String, Value)>,
}

impl Default for Case {
    fn default() -> Self {
        Self::new()
    }
}

impl Case {
    /// A case with the common settings of the spec's conformance tests (§9), `env.baseUrl`
    /// pointing at [`NO_UPSTREAM`], no routes and no flows, run by `Engine::new()`.
    pub fn new() -> Self {
        Case {
            engine: None,
            settings: json!({
                "id": "w1", "name": "W", "debug": false,
                "release": {"id": "r", "name": "v1"},
                "integrations": {},
                "env": {"baseUrl": NO_UPSTREAM},
                "safe_mode": {"enable": false, "safe_time": 10}
            }),
            routes: Vec::new(),
            flows: Vec::new(),
        }
    }

    /// Like [`Case::new`], with a fresh [`upstream`] running and `env.baseUrl` pointing at it.
    pub async fn with_upstream() -> Self {
        let url = upstream_url().await;
        let mut case = Self::new();
        case.settings["env"]["baseUrl"] = json!(url);
        case
    }

    /// The settings' `env.baseUrl`: the upstream's URL after [`Case::with_upstream`].
    pub fn base_url(&self) -> String {
        self.settings["env"]["baseUrl"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Runs the workspace on `engine` instead of `Engine::new()`.
    pub fn engine(mut self, engine: Engine) -> Self {
        self.engine = Some(engine);
        self
    }

    /// Sets the top-level settings keys of `patch` (a JSON object), replacing what was there.
    pub fn settings(mut self, patch: Value) -> Self {
        if let (Value::Object(s), Value::Object(p)) = (&mut self.settings, patch) {
            s.extend(p);
        }
        self
    }

    /// Drops the top-level settings key `key`.
    pub fn without_setting(mut self, key: &str) -> Self {
        if let Value::Object(s) = &mut self.settings {
            s.remove(key);
        }
        self
    }

    /// Routes `METHOD path` (`routes.json` syntax, e.g. `"/loja/<int:n>"`) to the flow `flow`.
    pub fn route(mut self, method: &str, path: &str, flow: &str) -> Self {
        self.routes
            .push(json!({"method": method, "path": path, "flow": flow}));
        self
    }

    /// Adds a `routes.json` entry as written (for fields beyond method, path and flow).
    pub fn route_entry(mut self, entry: Value) -> Self {
        self.routes.push(entry);
        self
    }

    /// Adds the flow file `flows/NAME.json` with the given content (see [`flow`]).
    pub fn flow(mut self, name: &str, flow: Value) -> Self {
        self.flows.push((name.to_string(), flow));
        self
    }

    /// The case most tests need: one flow `f` made of `actions`, routed as `METHOD /t`.
    pub fn single_flow(self, method: &str, actions: Vec<Value>) -> Self {
        self.route(method, "/t", "f").flow("f", flow(actions))
    }

    /// Loads the workspace like `flowyt serve` loads one (legacy mode); panics if it does not load.
    pub fn load(self) -> Workspace {
        let engine = self
            .engine
            .unwrap_or_else(|| Engine::new().expect("engine"));
        let sources = Sources {
            settings: Some(("config/settings.json".into(), self.settings.to_string())),
            flows: self
                .flows
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        format!("flows/{k}.json"),
                        serde_json::to_string_pretty(v).expect("json"),
                    )
                })
                .collect(),
            routes: Some(("routes.json".into(), Value::Array(self.routes).to_string())),
        };
        let catalog: Catalog = engine.catalog();
        let loaded =
            CoreWorkspace::from_sources("ws", &sources, &catalog, Strictness::Legacy, &|k| {
                std::env::var(k).ok()
            })
            .unwrap_or_else(|e| panic!("workspace should load:\n{e}"));
        engine.workspace(loaded.workspace)
    }

    /// Loads the workspace and serves it (see [`serve`]).
    pub async fn serve(self) -> Served {
        serve(&self.load()).await
    }
}

/// Mounts `ws` under `/ws` on a free loopback port.
pub async fn serve(ws: &Workspace) -> Served {
    let app: Router = Router::new().nest("/ws", ws.router());
    Served {
        base: format!("http://{}", spawn(app).await),
    }
}

/// A workspace being served; paths are relative to its mount point `/ws`.
pub struct Served {
    /// `http://127.0.0.1:PORT`, without the mount point.
    pub base: String,
}

impl Served {
    /// The full URL of `path` (e.g. `"/t?x=1"`) under the workspace.
    pub fn url(&self, path: &str) -> String {
        format!("{}/ws{path}", self.base)
    }

    /// A request to `path` with `method` (`"get"`, `"post"`, …), to add headers or a body to.
    pub fn request(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .expect("an HTTP method");
        client().request(method, self.url(path))
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Got {
        get(&self.url(path)).await
    }

    /// `GET path` asking for the debug trace (`x-flowyt-debug: true`).
    pub async fn debug_get(&self, path: &str) -> Got {
        send(self.request("get", path).header("x-flowyt-debug", "true")).await
    }

    /// `POST path` with `body` as JSON.
    pub async fn post(&self, path: &str, body: &Value) -> Got {
        post(&self.url(path), body).await
    }
}

/// A client with a timeout on every request.
pub fn client() -> reqwest::Client {
    flowyt_runtime::http_client_builder()
        .expect("TLS configuration")
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// A response as the tests look at it.
#[derive(Debug)]
pub struct Got {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Got {
    /// The body parsed as JSON; panics with the body if it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

/// `GET url`.
pub async fn get(url: &str) -> Got {
    send(client().get(url)).await
}

/// `POST url` with `body` as JSON.
pub async fn post(url: &str, body: &Value) -> Got {
    send(client().post(url).json(body)).await
}

/// Sends `req` and reads the whole answer.
pub async fn send(req: reqwest::RequestBuilder) -> Got {
    let r = req.send().await.expect("request reaches the server");
    Got {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        text: r.text().await.expect("body"),
    }
}

/// `S(id, next)` of the spec.
pub fn start(id: &str, next: Value) -> Value {
    json!({"id": id, "action": "start", "data": {}, "next_action": next})
}

/// `R(id, data, status)` of the spec.
pub fn respond(id: &str, data: Value, status: u16) -> Value {
    json!({"id": id, "action": "response", "data": {"status": status, "headers": {}, "data": data}, "next_action": null})
}

/// A flow file with the given actions.
pub fn flow(actions: Vec<Value>) -> Value {
    json!({"id": "f-id", "name": "F", "pipeline": actions})
}

/// Runs flow `flow` of `ws` once with `input` as the `input` root: the response body, or the
/// run's error as text.
pub async fn run_with_input(ws: &Workspace, flow: &str, input: Value) -> Result<Value, String> {
    let result = ws
        .run(
            flow,
            flowyt_runtime::RunInput {
                input,
                ..flowyt_runtime::RunInput::default()
            },
        )
        .await;
    match result.outcome {
        flowyt_runtime::Outcome::Response { body, .. } => Ok(body.to_value()),
        flowyt_runtime::Outcome::Failed(e) => Err(e.to_string()),
        other => Err(format!("{other:?}")),
    }
}

/// A run queue over an in-memory store serving `ws` (whatever its name), with the store to
/// read the runs back from.
pub fn memory_runs(
    ws: &Workspace,
) -> (
    std::sync::Arc<dyn flowyt_runtime::runs::RunStore>,
    flowyt_runtime::runs::Runs,
) {
    use flowyt_runtime::runs::{MemoryStore, RunStore, Runs, RunsOptions};
    let store: std::sync::Arc<dyn RunStore> = std::sync::Arc::new(MemoryStore::default());
    let lookup = {
        let ws = ws.clone();
        move |name: &str| (name == ws.name()).then(|| ws.clone())
    };
    let runs = Runs::start(store.clone(), lookup, RunsOptions::default());
    (store, runs)
}

/// Runs `f` `rounds` times, each in a tokio runtime of its own that is shut down before the
/// next starts (as a program running runtimes one after another would).
pub fn in_fresh_runtimes(rounds: usize, f: impl Fn(&tokio::runtime::Runtime, usize)) {
    for round in 0..rounds {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        f(&rt, round);
        rt.shutdown_background();
    }
}
