//! The flowyt runtime: runs flows (compiled with `flow!` or loaded from legacy JSON) as async
//! Rust, calls services with one shared `reqwest` client, and mounts flows as axum handlers.
//!
//! ```no_run
//! use flowyt_runtime::{Engine, Strictness};
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::builder()
//!     .function("students.approved_list", |args| {
//!         Ok(args.first().cloned().unwrap_or_default())
//!     })
//!     .build()?;
//! let loaded = engine.load_workspace("workspaces/github".as_ref(), Strictness::Legacy)?;
//! for warning in &loaded.warnings {
//!     eprintln!("{warning}");
//! }
//! let app = axum::Router::new().nest("/github", loaded.workspace.router());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await?;
//! # Ok(())
//! # }
//! ```

#[cfg(feature = "axum")]
pub mod access;
mod actions;
#[cfg(feature = "airflow")]
pub mod airflow;
mod body;
mod checked;
mod client;
mod compiled;
#[cfg(feature = "console")]
pub mod console;
mod context;
mod custom;
mod debug;
#[cfg(feature = "http-client")]
mod discovery;
mod drive;
mod engine;
mod error;
mod functions;
#[cfg(feature = "axum")]
mod http;
mod included;
mod mask;
pub mod measure;
pub mod openapi;
mod params;
#[cfg(feature = "prometheus")]
pub mod prometheus;
#[cfg(feature = "registry")]
pub mod registry;
mod request_id;
mod run_io;
pub mod runs;
#[cfg(feature = "axum")]
pub mod server;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod store;
#[cfg(all(feature = "redis", feature = "axum"))]
pub mod studio;
pub mod telemetry;
#[cfg(any(feature = "axum", feature = "registry"))]
mod xml;

/// The README's Rust snippets, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The flow model, loader, validator, expression language and OpenAPI derivation
/// (`flowyt-core`), for tools built on flowyt (the `flowyt` binary uses it).
///
/// **Unstable:** these types follow the engine's internals and may change in any minor
/// release. Applications use the items at this crate's root (`Engine`, `Workspace`,
/// `CheckedFlow`, `RunInput`, `Outcome`, `Settings`, the macros).
pub mod core {
    pub use flowyt_core::*;
}

/// Used by the code flowyt's macros generate. Not public API; may change in any release.
#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use actions::redis::redis_url;
pub use body::Body;
pub use checked::{CheckedFlow, MountError, TypedAction};
pub use client::Redirects;
pub use custom::{ActionContext, CustomAction};
pub use engine::{Outcome, RunInput, RunResult};
pub use error::MASKED_ERROR;
pub use error::{ErrorKind, FailedAction, RunError};
pub use flowyt_core::validate::Strictness;
pub use flowyt_core::workspace::{LoadError, Settings};
pub use flowyt_macros::{
    FlowOutput, flow, flow_action, flow_function, include_flow, include_workspace,
};
pub use functions::Functions;
pub use included::{IncludeError, IncludedWorkspace};
pub use params::FlowParams;

#[cfg(feature = "axum")]
use axum::Router;
#[cfg(feature = "axum")]
use axum::handler::Handler;
#[cfg(feature = "axum")]
use axum::response::Response;
#[cfg(feature = "axum")]
use axum::routing::{MethodFilter, MethodRouter, on};
use engine::{CompiledFlow, Shared};
use flowyt_core::catalog::{Catalog, CustomKind};
use flowyt_core::diag::Located;
use flowyt_core::model::Flow;
use flowyt_core::workspace::{self as core_ws, Route};
#[cfg(feature = "axum")]
use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use std::any::Any;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// A `reqwest` client configured as flowyt's own (rustls with the `ring` provider given to it,
/// the platform's certificate verifier, connection pooling, same-origin redirects, no
/// `Referer`): use it for your own calls beside flowyt.
///
/// flowyt never installs a process-wide rustls provider: `reqwest::Client::new()` elsewhere in
/// your program needs one installed by the application
/// (`rustls::crypto::ring::default_provider().install_default()`, or aws-lc-rs), or use
/// [`http_client_builder`].
#[cfg(feature = "http-client")]
pub fn http_client() -> Result<reqwest::Client, BuildError> {
    client::build(Redirects::default())
}

/// The builder behind [`http_client`], to add your own settings (timeouts, headers, proxies)
/// to flowyt's TLS configuration.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = flowyt_runtime::http_client_builder()?
///     .timeout(std::time::Duration::from_secs(5))
///     .build()?;
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "http-client")]
pub fn http_client_builder() -> Result<reqwest::ClientBuilder, BuildError> {
    client::builder(Redirects::default())
}

/// Registries and the shared HTTP client; cheap to clone. Build one at start-up
/// ([`Engine::new`], or [`Engine::builder`] for functions, custom actions, state, your own
/// client) and mount flows and workspaces on it.
///
/// ```
/// use flowyt_runtime::{ActionContext, Engine};
/// use serde_json::{Value, json};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let plain = Engine::new()?;
/// let custom = Engine::builder()
///     .function("text.shout", |args| Ok(json!(args[0].as_str().unwrap_or("").to_uppercase())))
///     .action("echo", |input: Value, _cx: ActionContext| async move { Ok(input) })
///     .build()?;
/// # let _ = (plain, custom);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Engine {
    #[cfg(feature = "http-client")]
    client: reqwest::Client,
    functions: Arc<Functions>,
    actions: custom::CustomActions,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("functions", &self.functions)
            .field("actions", &self.actions.map.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Builds an [`Engine`]: `Engine::builder().state(db).action("save", save).build()?`.
#[derive(Default)]
pub struct EngineBuilder {
    functions: Functions,
    actions: HashMap<String, Arc<dyn CustomAction>>,
    states: custom::States,
    /// Types given to [`EngineBuilder::state`] twice.
    duplicate_states: Vec<&'static str>,
    #[cfg(feature = "http-client")]
    redirects: Redirects,
    #[cfg(feature = "http-client")]
    client: Option<reqwest::Client>,
}

/// Why an engine could not be built.
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildError {
    /// The HTTP client could not be built.
    #[cfg(feature = "http-client")]
    Client(reqwest::Error),
    /// Its TLS configuration could not be built.
    #[cfg(feature = "tls-ring")]
    Tls(rustls::Error),
    /// [`EngineBuilder::state`] was given two values of this type (the second would hide the
    /// first; wrap them in types of their own).
    DuplicateState(&'static str),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            #[cfg(feature = "http-client")]
            BuildError::Client(e) => write!(f, "cannot build the HTTP client: {e}"),
            #[cfg(feature = "tls-ring")]
            BuildError::Tls(e) => write!(f, "cannot configure TLS for the HTTP client: {e}"),
            BuildError::DuplicateState(t) => write!(
                f,
                "`.state(...)` was given two values of type `{t}`: custom actions find state by \
                 type, so give each value a type of its own (a newtype)"
            ),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            #[cfg(feature = "http-client")]
            BuildError::Client(e) => Some(e),
            #[cfg(feature = "tls-ring")]
            BuildError::Tls(e) => Some(e),
            BuildError::DuplicateState(_) => None,
        }
    }
}

impl EngineBuilder {
    /// Registers a template function, callable as `${function.<path>(args)}`.
    pub fn function<F>(mut self, path: &str, f: F) -> EngineBuilder
    where
        F: Fn(&[Value]) -> Result<Value, String> + Send + Sync + 'static,
    {
        self.functions.insert(path, f);
        self
    }

    /// Registers a custom action kind, used in flows as `"action": "<name>"`.
    pub fn action(mut self, name: &str, action: impl CustomAction) -> EngineBuilder {
        self.actions.insert(name.to_string(), Arc::new(action));
        self
    }

    /// Application state that custom actions read by type ([`ActionContext::state`]); call
    /// it once per type (a second value of one type makes [`EngineBuilder::build`] fail).
    pub fn state<T: Any + Send + Sync>(mut self, state: T) -> EngineBuilder {
        let previous = self
            .states
            .insert(std::any::TypeId::of::<T>(), Arc::new(state));
        if previous.is_some() {
            self.duplicate_states.push(std::any::type_name::<T>());
        }
        self
    }

    /// Which redirects `request` actions follow (default [`Redirects::SameOrigin`]).
    #[cfg(feature = "http-client")]
    pub fn redirects(mut self, redirects: Redirects) -> EngineBuilder {
        self.redirects = redirects;
        self
    }

    /// Calls services with your own `reqwest` client (proxies, mTLS, default headers,
    /// timeouts, middleware-free). Its redirect policy applies instead of [`Redirects`], and
    /// flowyt's per-action `timeout` still bounds each call. Cloning the client shares its
    /// connection pool.
    ///
    /// ```
    /// # fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = flowyt_runtime::http_client()?; // or any reqwest::Client::builder()...
    /// let engine = flowyt_runtime::Engine::builder().client(client).build()?;
    /// # let _ = engine;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "http-client")]
    pub fn client(mut self, client: reqwest::Client) -> EngineBuilder {
        self.client = Some(client);
        self
    }

    /// Builds the engine and, unless `EngineBuilder::client` gave one, its HTTP client.
    pub fn build(self) -> Result<Engine, BuildError> {
        if let Some(t) = self.duplicate_states.first() {
            return Err(BuildError::DuplicateState(t));
        }
        #[cfg(feature = "http-client")]
        let client = match self.client {
            Some(c) => c,
            None => client::build(self.redirects)?,
        };
        Ok(Engine {
            #[cfg(feature = "http-client")]
            client,
            functions: Arc::new(self.functions),
            actions: custom::CustomActions {
                map: self.actions,
                cx: ActionContext::new(Arc::new(self.states)),
            },
        })
    }
}

/// A loaded workspace and the warnings it had.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The workspace, ready to run and mount.
    pub workspace: Workspace,
    /// What the loader found that does not stop it (printed by `flowyt serve`).
    pub warnings: Vec<Located>,
}

impl Engine {
    /// An engine with no custom actions or functions.
    pub fn new() -> Result<Engine, BuildError> {
        Engine::builder().build()
    }

    /// Starts building an engine.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// What the validator must know about this engine: its custom kinds and functions.
    pub fn catalog(&self) -> Catalog {
        let mut catalog = Catalog::new();
        catalog.check_functions();
        for path in self.functions.paths() {
            catalog.add_function(path);
        }
        for name in self.actions.map.keys() {
            catalog.add_kind(name.clone(), CustomKind::default());
        }
        catalog
    }

    /// Loads and checks a legacy workspace folder (`${env('NAME')}` in settings reads the
    /// process environment).
    pub fn load_workspace(&self, dir: &Path, strictness: Strictness) -> Result<Loaded, LoadError> {
        self.load_workspace_with_env(dir, strictness, &|k| std::env::var(k).ok())
    }

    /// Like [`Engine::load_workspace`], with `getenv` answering `${env('NAME')}` in settings.
    pub fn load_workspace_with_env(
        &self,
        dir: &Path,
        strictness: Strictness,
        getenv: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Loaded, LoadError> {
        let loaded = core_ws::Workspace::load_with_env(dir, &self.catalog(), strictness, getenv)?;
        Ok(Loaded {
            workspace: self.workspace(loaded.workspace),
            warnings: loaded.warnings,
        })
    }

    /// Prepares a checked workspace for running.
    pub fn workspace(&self, ws: core_ws::Workspace) -> Workspace {
        self.workspace_with_loops(ws, HashMap::new())
    }

    /// Like [`Engine::workspace`], with the generated loops of `flow!`s by flow key.
    pub(crate) fn workspace_with_loops(
        &self,
        ws: core_ws::Workspace,
        mut loops: HashMap<String, drive::GeneratedLoop>,
    ) -> Workspace {
        let custom_actions = ws.flows.values().any(|f| {
            f.actions
                .iter()
                .any(|a| matches!(a.kind, flowyt_core::model::Kind::Custom(_)))
        });
        let flows = ws
            .flows
            .into_iter()
            .map(|(k, f)| {
                let compiled = CompiledFlow::new(f).with_loop(loops.remove(&k));
                (k, Arc::new(compiled))
            })
            .collect();
        let s = &ws.settings;
        #[cfg(feature = "http-client")]
        let discovery = discovery::Discovery::new(s);
        let mask = mask::Mask::new(&s.mask);
        let info = json!({
            "id": s.id,
            "name": s.name,
            "debug": s.debug,
            "release": s.release,
            "safe_mode": s.safe_mode.map(|m| json!({"enable": true, "safe_time": m.safe_time})),
        });
        Workspace {
            shared: Arc::new(Shared {
                label: Arc::from(ws.name.as_str()),
                name: ws.name,
                env: Arc::new(Value::Object(ws.settings.env.clone())),
                info: Arc::new(info),
                settings: ws.settings,
                flows,
                #[cfg(feature = "http-client")]
                client: self.client.clone(),
                functions: self.functions.clone(),
                actions: self.actions.clone(),
                #[cfg(feature = "http-client")]
                discovery,
                mask,
                custom_actions,
                served_openapi: std::sync::OnceLock::new(),
                redis: Default::default(),
            }),
            routes: Arc::new(ws.routes),
        }
    }

    /// Loads one JSON flow strictly and wraps it as a runnable, mountable [`FlowService`]
    /// with default settings.
    pub fn service_from_json(&self, text: &str) -> Result<FlowService, LoadError> {
        let flow = Flow::from_json_named("flow.json", text, &self.catalog())?;
        Ok(self.service(flow, Settings::default()))
    }

    /// Wraps a flow model as a runnable, mountable [`FlowService`].
    pub fn service(&self, flow: Flow, settings: Settings) -> FlowService {
        self.flow_with_loop(flow, settings, None)
    }

    /// Renamed [`Engine::service_from_json`].
    #[deprecated(
        note = "renamed `Engine::service_from_json`: in flowyt's API a flow is a definition and a service is a runnable flow"
    )]
    pub fn flow_from_json(&self, text: &str) -> Result<FlowService, LoadError> {
        self.service_from_json(text)
    }

    /// Renamed [`Engine::service`].
    #[deprecated(
        note = "renamed `Engine::service`: in flowyt's API a flow is a definition and a service is a runnable flow"
    )]
    pub fn flow(&self, flow: Flow, settings: Settings) -> FlowService {
        self.service(flow, settings)
    }

    /// Like [`Engine::service`], walked by a `flow!`'s generated loop.
    pub(crate) fn flow_with_loop(
        &self,
        flow: Flow,
        settings: Settings,
        generated: Option<drive::GeneratedLoop>,
    ) -> FlowService {
        let mut ws = core_ws::Workspace {
            name: "flow".into(),
            settings,
            ..Default::default()
        };
        ws.flows.insert("main".into(), flow);
        let loops = generated
            .map(|g| ("main".to_string(), g))
            .into_iter()
            .collect();
        let ws = self.workspace_with_loops(ws, loops);
        FlowService {
            shared: ws.shared,
            key: Arc::from("main"),
            params: Arc::from(Vec::new()),
            time_limit: None,
            route: None,
            metrics: Arc::default(),
        }
    }
}

/// A workspace ready to run: flows, settings and routes. Load a legacy folder with
/// [`Engine::load_workspace`], embed one with `include_workspace!`, or assemble checked flows
/// with [`Engine::checked_workspace`]; then mount its [`router`](Workspace::router) or run a
/// flow in-process.
///
/// ```
/// use flowyt_runtime::{Engine, Outcome, RunInput, Strictness};
/// use serde_json::json;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/workspaces/shop");
/// let shop = Engine::new()?.load_workspace(&dir, Strictness::Legacy)?.workspace;
/// let app: axum::Router = axum::Router::new().nest("/shop", shop.router());
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let run = shop.run("health", RunInput::default()).await;
/// assert!(matches!(run.outcome, Outcome::Response { status: 200, .. }));
/// # });
/// # let _ = (app, json!(null));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Workspace {
    shared: Arc<Shared>,
    routes: Arc<Vec<Route>>,
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("name", &self.shared.name)
            .field("flows", &self.shared.flows.keys().collect::<Vec<_>>())
            .field("routes", &self.routes)
            .finish()
    }
}

impl Workspace {
    /// The workspace name (its folder).
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// `value` with its secret-named fields masked (see the README's "What is masked").
    pub(crate) fn mask(&self, value: Value) -> Value {
        self.shared.mask.masked(value)
    }

    /// The routes of `routes.json`.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The model of flow `key` (its actions, params, schedule), as validated.
    pub fn flow_model(&self, key: &str) -> Option<&flowyt_core::model::Flow> {
        self.shared.flows.get(key).map(|f| &f.flow)
    }

    /// The workspace as the core's model (settings, flows, routes), for what derives from it
    /// (its OpenAPI document).
    pub(crate) fn core_model(&self) -> flowyt_core::workspace::Workspace {
        flowyt_core::workspace::Workspace {
            name: self.shared.name.clone(),
            settings: self.shared.settings.clone(),
            flows: self
                .shared
                .flows
                .iter()
                .map(|(k, f)| (k.clone(), f.flow.clone()))
                .collect(),
            routes: self.routes.to_vec(),
        }
    }

    /// The flow keys.
    pub fn flow_keys(&self) -> impl Iterator<Item = &str> {
        self.shared.flows.keys().map(String::as_str)
    }

    /// The flows that declare a `schedule`, with it and its catch-up policy.
    pub fn schedules(
        &self,
    ) -> impl Iterator<
        Item = (
            &str,
            &flowyt_core::schedule::Schedule,
            flowyt_core::schedule::Catchup,
        ),
    > {
        self.shared.flows.iter().filter_map(|(k, f)| {
            f.flow
                .schedule
                .as_ref()
                .map(|s| (k.as_str(), s, f.flow.catchup))
        })
    }

    /// Checks the params given to a run of flow `key` against its declaration, defaults
    /// applied (`from_text`: strings may stand for numbers and booleans, as in query strings).
    pub fn resolve_params(
        &self,
        key: &str,
        given: &serde_json::Map<String, Value>,
        from_text: bool,
    ) -> Result<serde_json::Map<String, Value>, flowyt_core::params::ParamError> {
        self.shared.resolve_params(key, given, from_text)
    }

    /// Runs flow `key` once.
    pub async fn run(&self, key: &str, input: RunInput) -> RunResult {
        self.shared.run(key, input).await
    }

    /// Runs flow `key` once with `params` checked against its declaration first (defaults
    /// applied, the `params` root set); refused params end the run before any action, as a
    /// failure of kind [`ErrorKind::InvalidParams`] whose message names the param.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use flowyt_runtime::{Engine, ErrorKind, Outcome, RunInput, Strictness};
    /// use serde_json::json;
    /// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/workspaces/github");
    /// let github = Engine::new()?.load_workspace(&dir, Strictness::Legacy)?.workspace;
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let params = json!({"user": 7}).as_object().cloned().unwrap_or_default();
    /// let run = github.run_with_params("stars", params, RunInput::default()).await;
    /// let Outcome::Failed(e) = run.outcome else { panic!("{:?}", run.outcome) };
    /// assert_eq!(e.kind, ErrorKind::InvalidParams);
    /// assert!(e.message.contains("`user`"), "{e}");
    /// # });
    /// # Ok(())
    /// # }
    /// ```
    pub async fn run_with_params(
        &self,
        key: &str,
        params: serde_json::Map<String, Value>,
        mut input: RunInput,
    ) -> RunResult {
        match self.shared.resolve_params(key, &params, false) {
            Ok(resolved) => {
                input.params = resolved;
                self.shared.run(key, input).await
            }
            Err(e) => RunResult {
                outcome: Outcome::Failed(
                    RunError::new(
                        ErrorKind::InvalidParams,
                        format!("param `{}`: {}", e.param, e.message),
                    )
                    .caused_by(e),
                ),
                trace: None,
            },
        }
    }

    /// [`Workspace::run_with_params`] with the flow's params as their Rust struct (see
    /// [`FlowParams`]).
    pub async fn run_params<P: FlowParams>(
        &self,
        key: &str,
        params: &P,
        input: RunInput,
    ) -> RunResult {
        match params.to_conf() {
            Ok(map) => self.run_with_params(key, map, input).await,
            Err(message) => RunResult {
                outcome: Outcome::Failed(RunError::new(ErrorKind::InvalidParams, message)),
                trace: None,
            },
        }
    }

    /// Runs flow `key` durably: from `durable.resume` if given, checkpointing each boundary.
    pub(crate) async fn run_durable(
        &self,
        key: &str,
        input: RunInput,
        durable: engine::Durable<'_>,
    ) -> RunResult {
        self.shared.run_with(key, input, Some(durable)).await
    }

    /// Renamed [`Workspace::service`].
    #[deprecated(
        note = "renamed `Workspace::service`: in flowyt's API a flow is a definition and a service is a runnable flow"
    )]
    pub fn flow(&self, key: &str) -> Option<FlowService> {
        self.service(key)
    }

    /// Flow `key` as a runnable [`FlowService`] (an axum handler); `None` if the workspace
    /// has no such flow.
    pub fn service(&self, key: &str) -> Option<FlowService> {
        self.shared.flows.contains_key(key).then(|| FlowService {
            shared: self.shared.clone(),
            key: Arc::from(key),
            params: Arc::from(Vec::new()),
            time_limit: None,
            route: None,
            metrics: Arc::default(),
        })
    }

    /// A router serving every route of `routes.json` (mount it with `Router::nest`).
    #[cfg(feature = "axum")]
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let mut by_path: Vec<(String, MethodRouter<S>)> = Vec::new();
        for route in self.routes.iter() {
            let Some(filter) = method_filter(&route.method) else {
                continue;
            };
            let service = FlowService {
                shared: self.shared.clone(),
                key: Arc::from(route.flow.as_str()),
                params: Arc::from(route.params.clone()),
                time_limit: route.timeout,
                route: Some(Arc::from(route.axum_path.as_str())),
                metrics: Arc::default(),
            };
            match by_path.iter_mut().find(|(p, _)| *p == route.axum_path) {
                Some((_, mr)) => *mr = std::mem::take(mr).on(filter, service),
                None => by_path.push((route.axum_path.clone(), on(filter, service))),
            }
        }
        by_path
            .into_iter()
            .fold(Router::new(), |router, (path, mr)| router.route(&path, mr))
    }
}

#[cfg(feature = "axum")]
fn method_filter(method: &str) -> Option<MethodFilter> {
    Some(match method {
        "GET" => MethodFilter::GET,
        "POST" => MethodFilter::POST,
        "PUT" => MethodFilter::PUT,
        "DELETE" => MethodFilter::DELETE,
        "PATCH" => MethodFilter::PATCH,
        "HEAD" => MethodFilter::HEAD,
        "OPTIONS" => MethodFilter::OPTIONS,
        _ => return None,
    })
}

/// One flow as an axum handler (`Router::new().route("/x", get(flow))`), or run in-process
/// with [`FlowService::run`].
///
/// ```
/// use flowyt_runtime::{Engine, flow};
///
/// let engine = Engine::new().unwrap();
/// let hello = flow! { 1: response { data: { hello: "${request.qs.name}" } }; };
/// let service = hello.service(&engine);
/// let app: axum::Router = axum::Router::new().route("/hello", axum::routing::get(service));
/// # let _ = app;
/// ```
#[derive(Clone)]
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
pub struct FlowService {
    shared: Arc<Shared>,
    key: Arc<str>,
    params: Arc<[(String, String)]>,
    /// The route's `timeout`, if it has one.
    time_limit: Option<std::time::Duration>,
    /// The route pattern (metrics and spans); `None` when mounted by hand (axum's matched
    /// path is used then).
    route: Option<Arc<str>>,
    /// The route's metric handles, shared by the clones of this service.
    metrics: Arc<measure::RouteHandles>,
}

impl std::fmt::Debug for FlowService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowService")
            .field("workspace", &self.shared.name)
            .field("flow", &self.key)
            .finish()
    }
}

impl FlowService {
    /// Runs the flow once with the given input.
    pub async fn run(&self, input: RunInput) -> RunResult {
        self.shared.run(&self.key, input).await
    }
}

#[cfg(feature = "axum")]
impl<S: Clone + Send + Sync + 'static> Handler<(), S> for FlowService {
    type Future = BoxFuture<'static, Response>;

    fn call(self, req: axum::http::Request<axum::body::Body>, _state: S) -> Self::Future {
        Box::pin(http::handle(self, req))
    }
}
