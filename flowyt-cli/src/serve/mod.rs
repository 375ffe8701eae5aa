//! `flowyt serve`: every workspace of a folder behind one axum server, with the legacy admin
//! endpoints: routes listing, ping, health, publish (upload a zipped workspace) and reload.
//!
//! The workspaces sit behind one swappable router: a reload or a publish builds the new set,
//! checks it, and swaps it in; requests already running finish on the version they started on.

use crate::dotenv;
mod args;
use crate::publish;
pub use args::ServeArgs;
use args::{connection_limits, grace, runs_options, studio_urls};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use flowyt_runtime::access::{self, Access};
use flowyt_runtime::core::diag::render_all;
use flowyt_runtime::core::env_allow::{EnvAllow, NEVER_READABLE};
use flowyt_runtime::core::workspace::Sources;
use flowyt_runtime::registry;
use flowyt_runtime::runs::{self, RunStore};
use flowyt_runtime::{Engine, Strictness, Workspace};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use tower::ServiceExt;

pub fn serve(args: ServeArgs) -> ExitCode {
    let (dir, host, port) = (args.dir.as_path(), args.host.clone(), args.port);
    let otel = match crate::telemetry::init(args.log_format) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let env = match dotenv::load(dir) {
        Ok(env) => env,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let host = host
        .or_else(|| env.get("APP_HOST"))
        .map(|h| {
            h.trim_start_matches("http://")
                .trim_start_matches("https://")
                .to_string()
        })
        .unwrap_or_else(|| "127.0.0.1".into());
    let port = match port {
        Some(p) => p,
        None => match env.get("APP_PORT").map(|p| p.parse::<u16>()) {
            None => 5000,
            Some(Ok(p)) => p,
            Some(Err(_)) => {
                eprintln!("error: APP_PORT in .env is not a port number");
                return ExitCode::FAILURE;
            }
        },
    };
    let runtime = match crate::runtime(true) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The run history lives beside the workspaces folder unless told otherwise.
    let url = args.store.url(|| {
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        dir.parent().unwrap_or(&dir).join("flowyt-runs.sqlite")
    });
    let store = match runtime.block_on(crate::store::open(&url)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(serve_async(&args, &host, port, env, store.clone()));
    runtime.block_on(store.close());
    if let Some(guard) = otel {
        guard.shutdown();
    }
    code
}

/// The server's state: how to load workspaces, and the set being served.
pub struct App {
    pub dir: PathBuf,
    engine: Engine,
    strictness: Strictness,
    env: dotenv::Env,
    /// Which variables `${env('NAME')}` in settings may read.
    env_allow: EnvPolicy,
    secret: Option<String>,
    current: RwLock<Arc<Served>>,
    /// The workspaces the last (re)load could not load, with their diagnostics.
    failed: RwLock<Vec<(String, String)>>,
    store: Arc<dyn RunStore>,
    /// Held while the served set changes (publish, reload), so they never interleave.
    deploy: Mutex<()>,
    pub publish: publish::Limits,
}

/// What `${env('NAME')}` may read: `FLOWYT_ENV_ALLOW` for every workspace when set; else any
/// variable for workspaces that are folders on disk and none for published ones.
/// `APP_SECRET_KEY` never.
struct EnvPolicy {
    /// Whether `FLOWYT_ENV_ALLOW` was given (then `local` and `published` are both that list).
    configured: bool,
    local: EnvAllow,
    published: EnvAllow,
}

impl EnvPolicy {
    fn new(configured: Option<String>) -> EnvPolicy {
        match configured {
            Some(spec) => {
                let allow = EnvAllow::parse(&spec);
                EnvPolicy {
                    configured: true,
                    local: allow.clone(),
                    published: allow,
                }
            }
            None => EnvPolicy {
                configured: false,
                local: EnvAllow::any(),
                published: EnvAllow::none(),
            },
        }
    }

    /// Why workspace `name` may not load. Only a configured list or a published workspace
    /// refuses anything (unconfigured, local workspaces read any variable).
    fn refusal(&self, name: &str, refused: &BTreeSet<String>) -> String {
        let names: Vec<String> = refused.iter().map(|n| format!("`{n}`")).collect();
        let help = if self.configured {
            format!(
                "this server lets workspaces read only FLOWYT_ENV_ALLOW={}; the operator may add names or `PREFIX_*` patterns",
                self.published
            )
        } else {
            "published workspaces read no environment variables unless the operator allows them, e.g. FLOWYT_ENV_ALLOW=GITHUB_*,PORT".to_string()
        };
        format!(
            "error: workspace `{name}` reads environment variables this server does not allow: {}\n  help: {help}\n",
            names.join(", ")
        )
    }
}

/// The served workspaces, as the run queue looks them up.
struct ServedWorkspaces(Arc<App>);

impl runs::api::Workspaces for ServedWorkspaces {
    fn workspace(&self, name: &str) -> Option<Workspace> {
        self.0.current().workspace(name).cloned()
    }

    fn names(&self) -> Option<Vec<String>> {
        Some(
            self.0
                .current()
                .workspaces
                .iter()
                .map(|w| w.name().to_string())
                .collect(),
        )
    }
}

/// What the console shows of this server.
struct ConsoleView {
    app: Arc<App>,
    registry: Arc<registry::Registry>,
}

impl flowyt_runtime::console::ConsoleSource for ConsoleView {
    /// `FLOWYT_TRACE_URL` with `{trace_id}` replaced (e.g.
    /// `http://jaeger:16686/trace/{trace_id}`).
    fn trace_link(&self, trace_id: &str) -> Option<String> {
        self.app
            .env
            .get("FLOWYT_TRACE_URL")
            .map(|t| t.replace("{trace_id}", trace_id))
    }

    fn workspaces(&self) -> Vec<Workspace> {
        self.app.current().workspaces.clone()
    }

    fn failed(&self) -> Vec<(String, String)> {
        match self.app.failed.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn flow_source(&self, workspace: &str, flow: &str) -> Option<String> {
        // Only flows being served, read from their own file.
        let served = self.app.current();
        let ws = served.workspace(workspace)?;
        if !ws.flow_keys().any(|k| k == flow) {
            return None;
        }
        let path = self
            .app
            .dir_of(workspace)
            .join("flows")
            .join(format!("{flow}.json"));
        std::fs::read_to_string(path).ok()
    }

    fn services(&self) -> Vec<(String, String, String, String)> {
        self.registry.instances()
    }
}

/// One version of the served workspaces.
pub struct Served {
    workspaces: Vec<Workspace>,
    router: Router,
    listing: Value,
}

impl Served {
    /// The workspace served under `name`.
    fn workspace(&self, name: &str) -> Option<&Workspace> {
        self.workspaces.iter().find(|w| w.name() == name)
    }

    fn new(workspaces: Vec<Workspace>) -> Served {
        let mut router = Router::new();
        for ws in &workspaces {
            router = router.nest(&format!("/{}", ws.name()), ws.router());
        }
        let listing = routes_listing(&workspaces);
        Served {
            workspaces,
            router,
            listing,
        }
    }
}

/// What a (re)load found: the diagnostics of each workspace that could not be (re)loaded.
pub struct Report {
    pub failed: Vec<(String, String)>,
}

impl App {
    fn current(&self) -> Arc<Served> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn swap(&self, served: Served) {
        let served = Arc::new(served);
        match self.current.write() {
            Ok(mut g) => *g = served,
            Err(poisoned) => *poisoned.into_inner() = served,
        }
    }

    /// Loads one workspace folder, served under `name`.
    /// Diagnostics name files relative to the workspace (`NAME/flows/x.json`), never the
    /// server's folders.
    pub fn load_one(&self, dir: &Path, name: &str) -> Result<Workspace, String> {
        if let Some(why) = publish::reserved(name) {
            return Err(format!("error: workspace `{name}`: {why}\n"));
        }
        let published = publish::is_published(dir);
        let allow = if published {
            &self.env_allow.published
        } else {
            &self.env_allow.local
        };
        let refused = std::cell::RefCell::new(BTreeSet::new());
        let getenv = |k: &str| {
            if allow.allows(k) {
                self.env.get(k)
            } else {
                // `APP_SECRET_KEY` is refused by the loader itself, with its own message.
                if !NEVER_READABLE.contains(&k) {
                    refused.borrow_mut().insert(k.to_string());
                }
                None
            }
        };
        let mut sources = flowyt_runtime::core::workspace::read_dir(dir)
            .map_err(|e| relative(&e.to_string(), dir, name))?;
        name_relative(&mut sources, dir, name);
        let loaded = flowyt_runtime::core::workspace::Workspace::from_sources(
            name,
            &sources,
            &self.engine.catalog(),
            self.strictness,
            &getenv,
        );
        let refused = refused.into_inner();
        if !refused.is_empty() {
            return Err(self.env_allow.refusal(name, &refused));
        }
        let loaded = loaded.map_err(|e| render_all(&e.diagnostics))?;
        if !loaded.warnings.is_empty() {
            eprint!("{}", render_all(&loaded.warnings));
        }
        Ok(self.engine.workspace(loaded.workspace))
    }

    /// Reads every workspace of the folder again. A workspace that now has errors keeps
    /// running in its previous version; the others are replaced.
    pub fn reload(&self) -> Report {
        let _deploying = self.deploying();
        self.reload_locked()
    }

    /// The folder workspace `name` is served from (`DIR` itself when it is one workspace).
    fn dir_of(&self, name: &str) -> PathBuf {
        if crate::is_workspace(&self.dir) {
            self.dir.clone()
        } else {
            self.dir.join(name)
        }
    }

    /// Takes the deploy lock (a poisoned lock is still a lock: the set it guards is swapped
    /// whole, never left half-changed).
    pub fn deploying(&self) -> MutexGuard<'_, ()> {
        self.deploy.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// [`App::reload`] for a caller that holds the deploy lock.
    pub fn reload_locked(&self) -> Report {
        let previous = self.current();
        let mut workspaces = Vec::new();
        let mut failed = Vec::new();
        match crate::workspace_dirs(&self.dir) {
            Ok(dirs) => {
                for dir in dirs {
                    let name = dir
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    match self.load_one(&dir, &name) {
                        Ok(ws) => workspaces.push(ws),
                        Err(diagnostics) => {
                            eprint!("{diagnostics}");
                            eprintln!("workspace `{name}` has errors and is not (re)loaded");
                            if let Some(old) = previous.workspace(&name) {
                                workspaces.push(old.clone());
                            }
                            failed.push((name, diagnostics));
                        }
                    }
                }
            }
            Err(e) => failed.push((self.dir.display().to_string(), e)),
        }
        self.swap(Served::new(workspaces));
        match self.failed.write() {
            Ok(mut g) => *g = failed.clone(),
            Err(poisoned) => *poisoned.into_inner() = failed.clone(),
        }
        Report { failed }
    }
}

async fn serve_async(
    args: &ServeArgs,
    host: &str,
    port: u16,
    env: dotenv::Env,
    sql: flowyt_runtime::store::SqlStore,
) -> ExitCode {
    let store: Arc<dyn RunStore> = Arc::new(sql.clone());
    let dir = args.dir.as_path();
    let options = connection_limits(args).and_then(|l| Ok((l, runs_options(args)?, grace(args)?)));
    let (limits, runs_options, grace) = match options {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Installed before anything records, so nothing is missed.
    let prometheus = match flowyt_runtime::prometheus::install() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let engine = match Engine::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let studio_urls = studio_urls(args, &env);
    if let Err(e) = crate::workspace_dirs(dir)
        && studio_urls.is_none()
    {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    let studio = match &studio_urls {
        None => None,
        Some((workspaces, quotas)) => {
            let connected = flowyt_runtime::studio::StudioWorkspaces::connect(
                engine.clone(),
                workspaces,
                quotas,
            )
            .await;
            match connected {
                Ok(s) => {
                    println!(
                        "serving the Studio's workspaces of {} at /<subdomain>/<workspace>/...",
                        flowyt_runtime::store::redact(workspaces)
                    );
                    Some(s)
                }
                Err(e) => {
                    eprintln!("error: redis mode: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    };
    let app = Arc::new(App {
        dir: dir.to_path_buf(),
        engine,
        strictness: if args.strict {
            Strictness::Strict
        } else {
            Strictness::Legacy
        },
        secret: env.get("APP_SECRET_KEY"),
        env_allow: EnvPolicy::new(env.get("FLOWYT_ENV_ALLOW")),
        env,
        current: RwLock::new(Arc::new(Served::new(Vec::new()))),
        failed: RwLock::new(Vec::new()),
        store,
        deploy: Mutex::new(()),
        publish: publish::Limits {
            quota: args.publish_quota,
            staging: args
                .staging
                .clone()
                .unwrap_or_else(|| publish::default_staging(dir)),
        },
    });
    app.reload();
    let served = app.current();
    if served.workspaces.is_empty() && studio.is_none() {
        eprintln!("error: no workspace to serve in `{}`", dir.display());
        return ExitCode::FAILURE;
    }
    let runs = runs::Runs::start(
        app.store.clone(),
        ServedWorkspaces(app.clone()),
        runs_options,
    );
    tokio::spawn(runs::schedules::run(runs.clone(), {
        let app = app.clone();
        move || app.current().workspaces.clone()
    }));
    if args.retention_days > 0.0 {
        tokio::spawn(retention(app.store.clone(), args.retention_days));
    }
    #[cfg(unix)]
    let term = terminate_signal();
    let listener = match tokio::net::TcpListener::bind((host, port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {host}:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (addr, ip) = match listener.local_addr() {
        Ok(a) => (a.to_string(), a.ip()),
        Err(e) => {
            eprintln!("error: cannot read the listening address: {e}");
            return ExitCode::FAILURE;
        }
    };
    let access = Access::new(app.secret.clone(), ip);
    if let Some(warning) = access.startup_warning() {
        eprintln!("{warning}");
    }
    let metrics_listener = match &args.metrics_addr {
        None => None,
        Some(addr) => match tokio::net::TcpListener::bind(addr.as_str()).await {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!("error: cannot listen on {addr} for /metrics: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    // The embedded Eureka registry: fetches are public; registering, renewing and cancelling
    // are operating actions (the token as basic-auth password, as Eureka clients send it).
    // Kept in the store, so every instance on it serves the same registry.
    let eureka = registry::Registry::shared(registry::Limits::default(), Arc::new(sql));
    tokio::spawn(registry::evict_expired(eureka.clone()));
    let console = flowyt_runtime::console::router(
        ConsoleView {
            app: app.clone(),
            registry: eureka.clone(),
        },
        runs.clone(),
        access.clone(),
    );
    let metrics: Router =
        crate::telemetry::metrics_router(prometheus, runs.clone(), eureka.clone());
    let registry = registry::router(eureka).route_layer(axum::middleware::from_fn_with_state(
        access.clone(),
        access::require_for_writes,
    ));
    let operating = Router::new()
        .route("/_workspaces/routes", get(routes))
        .route("/_engine/routes", get(routes))
        .route("/_engine/reload", post(reload))
        .route("/_engine/publish", post(publish::publish))
        .route(
            "/_workspaces/{workspace}/openapi.json",
            get(workspace_openapi),
        )
        .with_state(app.clone())
        .merge(runs::api::router(runs.clone()))
        .merge(flowyt_runtime::airflow::router(runs.clone()))
        .merge(match metrics_listener {
            Some(_) => Router::new(),
            None => metrics.clone().with_state(()),
        })
        .route_layer(axum::middleware::from_fn_with_state(
            access.clone(),
            access::require,
        ));
    let router =
        Router::new()
            .nest("/eureka", registry)
            .merge(operating)
            .merge(console)
            .merge(flowyt_runtime::airflow::public_router(access.clone()))
            .route("/_engine/ping", get(ping))
            .route(
                "/_engine/openapi.json",
                get(|| async { axum::Json(flowyt_runtime::openapi::operating_document()) }),
            )
            .route(
                "/_engine/health",
                get({
                    let app = app.clone();
                    move |headers: HeaderMap| async move {
                        health(&app, access.carries_secret(&headers))
                    }
                }),
            )
            .fallback({
                let app = app.clone();
                move |req: Request| async move {
                    match &studio {
                        // Redis mode: the Studio's workspaces answer every other path.
                        Some(studio) => studio.dispatch(req).await,
                        None => dispatch(State(app), req).await,
                    }
                }
            })
            .with_state(app.clone());
    println!(
        "flowyt {} serving {} workspace(s) (allocator: mimalloc)",
        env!("CARGO_PKG_VERSION"),
        served.workspaces.len()
    );
    println!(" * Check available routes at http://{addr}/_workspaces/routes");
    println!(" * Running on http://{addr}/ (Press CTRL+C to quit)");
    drop(served);
    // On a signal the server stops taking connections and, at the same time, the run queue
    // stops claiming, lets its runs finish for the grace period and hands back the rest.
    let (stopped, stop) = tokio::sync::watch::channel(false);
    if let Some(listener) = metrics_listener {
        if let Ok(a) = listener.local_addr() {
            println!(" * Metrics at http://{a}/metrics");
        }
        let mut metrics_stop = stop.clone();
        tokio::spawn(async move {
            let served = axum::serve(listener, metrics)
                .with_graceful_shutdown(async move {
                    let _ = metrics_stop.wait_for(|s| *s).await;
                })
                .await;
            if let Err(e) = served {
                eprintln!("error: the metrics listener failed: {e}");
            }
        });
    }
    tokio::spawn(async move {
        shutdown(
            #[cfg(unix)]
            term,
        )
        .await;
        let _ = stopped.send(true);
    });
    let mut http_stop = stop.clone();
    let mut runs_stop = stop;
    let handoff = async {
        let _ = runs_stop.wait_for(|s| *s).await;
        match runs.shutdown(grace).await {
            Ok(0) => {}
            Ok(n) => eprintln!("{n} unfinished run(s) handed back to the queue"),
            Err(e) => eprintln!(
                "error: cannot hand runs back: {e} (they resume when their lease expires)"
            ),
        }
    };
    let http = flowyt_runtime::server::serve(listener, router, limits, async move {
        let _ = http_stop.wait_for(|s| *s).await;
    });
    tokio::pin!(http, handoff);
    let (served, handed) = tokio::select! {
        r = &mut http => (r, false),
        () = &mut handoff => (http.await, true),
    };
    if let Err(e) = served {
        eprintln!("error: server failed: {e}");
        return ExitCode::FAILURE;
    }
    if !handed {
        handoff.await;
    }
    ExitCode::SUCCESS
}

/// Deletes the runs older than `days` at start-up and every hour after.
async fn retention(store: Arc<dyn RunStore>, days: f64) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let cutoff = runs::now() - days * 86_400.0;
        match store.prune(cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, days, "old runs deleted"),
            Err(e) => tracing::warn!(error = %e, "cannot delete old runs"),
        }
    }
}

/// Every request that is not an admin endpoint goes to the current workspaces.
async fn dispatch(State(app): State<Arc<App>>, req: Request) -> Response {
    let served = app.current();
    match served.router.clone().oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

async fn routes(State(app): State<Arc<App>>) -> Response {
    axum::Json(app.current().listing.clone()).into_response()
}

/// `GET /_workspaces/{workspace}/openapi.json`: the served workspace's document, its paths
/// under `/{workspace}` as they are served.
async fn workspace_openapi(
    State(app): State<Arc<App>>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    match app.current().workspace(&name) {
        Some(ws) => axum::Json(ws.served_openapi()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": format!("no workspace `{name}` is served")})),
        )
            .into_response(),
    }
}

async fn ping() -> Response {
    axum::Json(
        json!({"msg": "It's all good!", "curious?": "https://www.youtube.com/watch?v=c4nunES9DyI"}),
    )
    .into_response()
}

/// `ok` for anyone; the served workspaces only for a caller with the secret.
fn health(app: &App, with_secret: bool) -> Response {
    if !with_secret {
        return axum::Json(json!({"status": "ok"})).into_response();
    }
    let names: Vec<String> = app
        .current()
        .workspaces
        .iter()
        .map(|w| w.name().to_string())
        .collect();
    axum::Json(json!({"status": "ok", "workspaces": names})).into_response()
}

async fn reload(State(app): State<Arc<App>>) -> Response {
    let reloader = app.clone();
    let report = match tokio::task::spawn_blocking(move || reloader.reload()).await {
        Ok(r) => r,
        Err(_) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"msg": "The reload failed."})),
            )
                .into_response();
        }
    };
    let names: Vec<String> = app
        .current()
        .workspaces
        .iter()
        .map(|w| w.name().to_string())
        .collect();
    if report.failed.is_empty() {
        axum::Json(json!({"msg": "Reloaded.", "workspaces": names})).into_response()
    } else {
        let errors: serde_json::Map<String, Value> = report
            .failed
            .into_iter()
            .map(|(name, d)| (name, Value::String(d)))
            .collect();
        (
            StatusCode::CONFLICT,
            axum::Json(json!({
                "msg": "Some workspaces have errors; they keep running in their previous version.",
                "workspaces": names,
                "errors": errors,
            })),
        )
            .into_response()
    }
}

/// The legacy listing: one element per route of every workspace.
fn routes_listing(served: &[Workspace]) -> Value {
    Value::Array(
        served
            .iter()
            .flat_map(|ws| {
                ws.routes().iter().map(move |r| {
                    json!({
                        "path": format!("/{}{}", ws.name(), r.path),
                        "methods": [r.method],
                        "workspace": ws.name(),
                        "flow": r.flow,
                        "subdomain": null,
                    })
                })
            })
            .collect(),
    )
}

/// Waits for Ctrl-C or SIGTERM. The SIGTERM handler is installed by [`terminate_signal`] before
/// the server announces itself, so a signal sent right after the banner is never lost.
async fn shutdown(#[cfg(unix)] term: Option<tokio::signal::unix::Signal>) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async move {
        match term {
            Some(mut s) => {
                s.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    eprintln!("shutting down: finishing in-flight requests");
}

#[cfg(unix)]
fn terminate_signal() -> Option<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok()
}

/// `text` with the workspace folder's path shown as the workspace's name.
fn relative(text: &str, dir: &Path, name: &str) -> String {
    text.replace(&dir.display().to_string(), name)
}

/// Names the workspace's files `NAME/flows/x.json` instead of by their place on the server.
fn name_relative(sources: &mut Sources, dir: &Path, name: &str) {
    let shown = |file: &mut String| *file = relative(file, dir, name);
    if let Some((file, _)) = &mut sources.settings {
        shown(file);
    }
    if let Some((file, _)) = &mut sources.routes {
        shown(file);
    }
    for (_, file, _) in &mut sources.flows {
        shown(file);
    }
}
