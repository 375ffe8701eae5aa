//! Legacy workspaces: `config/settings.json`, `flows/*.json` and `routes.json`, loaded and
//! checked together. Every problem comes back as a [`Located`] diagnostic (`file:line:col`);
//! nothing here panics on bad input.

use crate::catalog::Catalog;
use crate::diag::{Code, Diagnostic, Located, Severity};
use crate::json::{self, Node, NodeKind};
use crate::loc::{LocTable, SourceMap, Span};
use crate::model::Flow;
use crate::suggest;
use crate::validate::{self, Context, Strictness};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

/// Every diagnostic of a failed load, rendered one per line by `Display`.
#[derive(Clone, Debug)]
pub struct LoadError {
    /// Errors first, then warnings, each in file order.
    pub diagnostics: Vec<Located>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::diag::render_all(&self.diagnostics).trim_end())
    }
}

impl std::error::Error for LoadError {}

/// One JSON flow file after lowering and validation.
#[derive(Clone, Debug)]
pub struct FlowFile {
    /// The flow, when the file is a flow at all (it may still have errors).
    pub flow: Option<Flow>,
    /// The file's source, for rendering diagnostics.
    pub source: SourceMap,
    /// What lowering and validation found.
    pub diagnostics: Vec<Diagnostic>,
}

impl FlowFile {
    /// Parses, lowers and validates one flow file named `name`.
    pub fn parse(name: &str, text: &str, cx: Context<'_>, strictness: Strictness) -> FlowFile {
        let mut file = FlowFile::lower(name, text, cx.catalog.unwrap_or(&EMPTY));
        if let Some(flow) = &file.flow {
            file.diagnostics.extend(validate::flow(flow, cx));
        }
        validate::apply(strictness, &mut file.diagnostics);
        file
    }

    /// Parses and lowers one flow file, without validating it.
    fn lower(name: &str, text: &str, catalog: &Catalog) -> FlowFile {
        let mut source = SourceMap::new(name, text);
        let (flow, diagnostics) = match json::parse(text) {
            Ok(node) => crate::lower::flow(&node, &mut source, catalog),
            Err(e) => {
                let at = source.push(Span::new(e.offset, e.offset + 1));
                let message = format!("invalid JSON: {}", e.message);
                (None, vec![Diagnostic::error(Code::JsonSyntax, at, message)])
            }
        };
        FlowFile {
            flow,
            source,
            diagnostics,
        }
    }

    /// The flow, or every diagnostic (errors first) when there is an error.
    fn into_flow(self) -> Result<Flow, LoadError> {
        match self.flow {
            Some(flow) if !self.has_errors() => Ok(flow),
            _ => Err(LoadError {
                diagnostics: sort_errors_first(locate(&self.diagnostics, &self.source)),
            }),
        }
    }

    /// True when some diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The diagnostics with file positions, sorted by position.
    pub fn located(&self) -> Vec<Located> {
        locate(&self.diagnostics, &self.source)
    }
}

static EMPTY: Catalog = Catalog::EMPTY;

fn locate(diags: &[Diagnostic], source: &SourceMap) -> Vec<Located> {
    let mut out: Vec<Located> = diags
        .iter()
        .map(|d| Located::new(d.clone(), source))
        .collect();
    out.sort_by_key(|d| (d.range.start, d.diagnostic.code));
    out
}

impl Flow {
    /// Loads a standalone JSON flow strictly (no workspace: `jump` targets are not checked).
    ///
    /// ```
    /// use flowyt_core::model::Flow;
    /// let flow = Flow::from_json_str(r#"{"pipeline": [
    ///     {"id": "1", "action": "start", "data": {}, "next_action": "2"},
    ///     {"id": "2", "action": "response", "data": {"data": {"ok": true}}, "next_action": null}
    /// ]}"#).unwrap();
    /// assert_eq!(flow.actions.len(), 2);
    ///
    /// let err = Flow::from_json_str(r#"{"pipeline": [
    ///     {"id": "1", "action": "start", "data": {}, "next_action": "3"},
    ///     {"id": "2", "action": "end", "data": {}, "next_action": null}
    /// ]}"#).unwrap_err();
    /// assert!(err.to_string().starts_with("flow.json:2:63: error[dangling-next]"));
    /// ```
    pub fn from_json_str(text: &str) -> Result<Flow, LoadError> {
        Flow::from_json_named("flow.json", text, &Catalog::new())
    }

    /// Lowers a flow that was validated when it was written, without validating it again
    /// (what the runtime did with the JSON a macro embedded, before the macros baked their
    /// model; the `flow build` benchmark measures it against baking). Errors are only those of
    /// reading and lowering (a flow the validator passed has none); use
    /// [`Flow::from_json_named`] for anything else.
    #[doc(hidden)]
    pub fn from_validated_json(
        name: &str,
        text: &str,
        catalog: &Catalog,
    ) -> Result<Flow, LoadError> {
        FlowFile::lower(name, text, catalog).into_flow()
    }

    /// Like [`Flow::from_json_str`], with a file name for diagnostics and a catalog of custom
    /// kinds and functions.
    pub fn from_json_named(name: &str, text: &str, catalog: &Catalog) -> Result<Flow, LoadError> {
        FlowFile::parse(
            name,
            text,
            Context {
                catalog: Some(catalog),
                flows: None,
            },
            Strictness::Strict,
        )
        .into_flow()
    }
}

fn sort_errors_first(mut diags: Vec<Located>) -> Vec<Located> {
    diags.sort_by_key(|d| std::cmp::Reverse(d.diagnostic.severity));
    diags
}

/// Workspace settings (`config/settings.json`).
#[derive(Clone, Debug)]
pub struct Settings {
    /// `id`, shown in debug output.
    pub id: Value,
    /// `name`, shown in debug output.
    pub name: Value,
    /// `debug`: allows `__debug__` output when the request asks for it.
    pub debug: bool,
    /// `release`.
    pub release: Value,
    /// `env`: visible to templates as `${env.X}` (after `${env('NAME')}` interpolation).
    pub env: Map<String, Value>,
    /// `integrations`: connection settings of the unsupported legacy integrations.
    pub integrations: Value,
    /// `safe_mode`: a wall-clock limit per flow, when enabled.
    pub safe_mode: Option<SafeMode>,
    /// Guards that apply to every run.
    pub limits: Limits,
    /// Compare switch operands as strings, as the legacy engine's last version did.
    pub string_compare: bool,
    /// `services`: static instances per service name, for `service://NAME/path` URLs.
    pub services: BTreeMap<String, Vec<String>>,
    /// `registry`: an Eureka server to resolve `service://NAME/path` URLs through.
    pub registry: Option<Registry>,
    /// `mask`: more field names whose values traces and run records hide, beside the
    /// built-in ones (`Authorization`, `Cookie`, names with `token`, `secret`, `password`...).
    /// A trailing `*` matches a prefix; case, `-` and `_` are ignored.
    pub mask: Vec<String>,
}

/// An Eureka registry (`"registry": {"eureka": "http://127.0.0.1:8761/eureka", "refresh": 30}`).
#[derive(Clone, Debug, PartialEq)]
pub struct Registry {
    /// Base URL of the Eureka REST API (the part before `/apps`).
    pub eureka: String,
    /// How long a fetched instance list is reused, in seconds (default 30).
    pub refresh: f64,
}

/// The legacy `safe_mode`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SafeMode {
    /// Limit in seconds.
    pub safe_time: f64,
}

/// Guards applied to every run (spec decision 11), settable under `"limits"` in settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Most actions one run may execute (`max_steps`, default 10 000).
    pub max_steps: u64,
    /// Wall-clock limit of one run in seconds (`max_seconds`, default 60).
    pub max_seconds: f64,
    /// Default timeout of a `request` action in seconds (`request_timeout`, default 30).
    pub request_timeout: f64,
    /// Largest accepted request body in bytes (`max_body_bytes`, default 2 MiB).
    pub max_body_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_steps: 10_000,
            max_seconds: 60.0,
            request_timeout: 30.0,
            max_body_bytes: 2 * 1024 * 1024,
        }
    }
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            id: Value::Null,
            name: Value::Null,
            debug: false,
            release: Value::Object(Map::new()),
            env: Map::new(),
            integrations: Value::Object(Map::new()),
            safe_mode: None,
            limits: Limits::default(),
            string_compare: false,
            services: BTreeMap::new(),
            registry: None,
            mask: Vec::new(),
        }
    }
}

/// One entry of `routes.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Upper-case HTTP method.
    pub method: String,
    /// The path as written (`/loja/<string:loja>/livro`).
    pub path: String,
    /// The same path in axum syntax (`/loja/{loja}/livro`).
    pub axum_path: String,
    /// Captured path parameters and their legacy converter (`string`, `int`, `float`, `path`, `uuid`).
    pub params: Vec<(String, String)>,
    /// The flow key it runs.
    pub flow: String,
    /// `timeout` (seconds): this route's run limit, when shorter than `limits.max_seconds`.
    pub timeout: Option<std::time::Duration>,
}

/// A loaded workspace: settings, flows by key, routes.
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    /// The folder name.
    pub name: String,
    /// Settings.
    pub settings: Settings,
    /// Flows by key (file name without `.json`).
    pub flows: BTreeMap<String, Flow>,
    /// Routes, in file order.
    pub routes: Vec<Route>,
}

/// The text of a workspace's files, for loading without a file system.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// `(display name, text)` of `config/settings.json`, if present.
    pub settings: Option<(String, String)>,
    /// `(flow key, display name, text)` of each `flows/*.json`.
    pub flows: Vec<(String, String, String)>,
    /// `(display name, text)` of `routes.json`, if present.
    pub routes: Option<(String, String)>,
}

/// A workspace that loaded, with the warnings it had.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The workspace.
    pub workspace: Workspace,
    /// Warnings (no errors: a workspace with errors is not loaded).
    pub warnings: Vec<Located>,
}

impl Workspace {
    /// Reads and checks the workspace in folder `dir` (named after the folder). `${env('X')}`
    /// in settings reads the process environment.
    pub fn load(
        dir: &Path,
        catalog: &Catalog,
        strictness: Strictness,
    ) -> Result<Loaded, LoadError> {
        Workspace::load_with_env(dir, catalog, strictness, &|k| std::env::var(k).ok())
    }

    /// Like [`Workspace::load`], with `getenv` answering `${env('NAME')}` in settings (for
    /// example the process environment completed by a `.env` file).
    pub fn load_with_env(
        dir: &Path,
        catalog: &Catalog,
        strictness: Strictness,
        getenv: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Loaded, LoadError> {
        let sources = read_dir(dir)?;
        let name = dir.file_name().map_or_else(
            || dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Workspace::from_sources(&name, &sources, catalog, strictness, getenv)
    }

    /// A workspace whose flows and routes were lowered and checked at compile time
    /// (`include_workspace!`), with its settings read now: `getenv` answers `${env('NAME')}` in
    /// them. Only the settings can fail; the flows and routes are trusted as they are.
    #[doc(hidden)]
    pub fn with_settings(
        name: &str,
        settings: Option<(&str, &str)>,
        flows: BTreeMap<String, Flow>,
        routes: Vec<Route>,
        getenv: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Loaded, LoadError> {
        assemble(name, settings, getenv, flows, routes, Vec::new())
    }

    /// Checks a workspace given as texts. `getenv` answers `${env('NAME')}` in settings.
    pub fn from_sources(
        name: &str,
        sources: &Sources,
        catalog: &Catalog,
        strictness: Strictness,
        getenv: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Loaded, LoadError> {
        let mut located = Vec::new();
        let keys: BTreeSet<String> = sources.flows.iter().map(|(k, _, _)| k.clone()).collect();
        let cx = Context {
            catalog: Some(catalog),
            flows: Some(&keys),
        };
        let mut flows = BTreeMap::new();
        for (key, file, text) in &sources.flows {
            let f = FlowFile::parse(file, text, cx, strictness);
            located.extend(f.located());
            if let Some(flow) = f.flow {
                flows.insert(key.clone(), flow);
            }
        }
        let routes = match &sources.routes {
            Some((file, text)) => {
                let (routes, diags, source) = parse_routes(file, text, &keys);
                located.extend(locate(&diags, &source));
                routes
            }
            None => Vec::new(),
        };
        let settings = sources
            .settings
            .as_ref()
            .map(|(file, text)| (file.as_str(), text.as_str()));
        assemble(name, settings, getenv, flows, routes, located)
    }
}

/// The workspace of `flows` and `routes` with its settings read (`getenv` answers
/// `${env('NAME')}` in them), or every error: the settings' diagnostics, then `located` (the
/// flows' and routes'), errors first.
fn assemble(
    name: &str,
    settings: Option<(&str, &str)>,
    getenv: &dyn Fn(&str) -> Option<String>,
    flows: BTreeMap<String, Flow>,
    routes: Vec<Route>,
    located: Vec<Located>,
) -> Result<Loaded, LoadError> {
    let (settings, mut all) = match settings {
        Some((file, text)) => {
            let (settings, diags, source) = parse_settings(file, text, getenv);
            (settings, locate(&diags, &source))
        }
        None => (Settings::default(), Vec::new()),
    };
    all.extend(located);
    let located = sort_errors_first(all);
    if located.iter().any(|d| d.diagnostic.is_error()) {
        return Err(LoadError {
            diagnostics: located,
        });
    }
    Ok(Loaded {
        workspace: Workspace {
            name: name.to_string(),
            settings,
            flows,
            routes,
        },
        warnings: located,
    })
}

fn io_error(path: &Path, message: String) -> LoadError {
    let mut source = SourceMap::new(path.display().to_string(), "");
    let at = source.push(Span::default());
    LoadError {
        diagnostics: vec![Located::new(
            Diagnostic::error(Code::Io, at, message),
            &source,
        )],
    }
}

/// Reads the files of a workspace folder. Only `flows/*.json` are read (hidden files and
/// other extensions are skipped), in name order.
pub fn read_dir(dir: &Path) -> Result<Sources, LoadError> {
    let read = |rel: &str| -> Result<Option<(String, String)>, LoadError> {
        let path = dir.join(rel);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some((path.display().to_string(), text))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&path, format!("cannot read file: {e}"))),
        }
    };
    let flows_dir = dir.join("flows");
    let entries = std::fs::read_dir(&flows_dir).map_err(|e| {
        io_error(
            &flows_dir,
            format!("cannot read the workspace's `flows` folder: {e}"),
        )
    })?;
    let mut flows = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(&flows_dir, format!("cannot list folder: {e}")))?;
        let path = entry.path();
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(key) = file_name.strip_suffix(".json") else {
            continue;
        };
        if key.starts_with('.') || !path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| io_error(&path, format!("cannot read file: {e}")))?;
        flows.push((key.to_string(), path.display().to_string(), text));
    }
    flows.sort();
    Ok(Sources {
        settings: read("config/settings.json")?,
        flows,
        routes: read("routes.json")?,
    })
}

fn parse_json(file: &str, text: &str) -> (Option<Node>, Vec<Diagnostic>, SourceMap) {
    let mut source = SourceMap::new(file, text);
    match json::parse(text) {
        Ok(node) => (Some(node), Vec::new(), source),
        Err(e) => {
            let at = source.push(Span::new(e.offset, e.offset + 1));
            let d = Diagnostic::error(Code::JsonSyntax, at, format!("invalid JSON: {}", e.message));
            (None, vec![d], source)
        }
    }
}

/// Reads settings, interpolating `${env('NAME')}`, `${env('NAME', 'default')}` and the older
/// What is wrong with the `sql_database` connections of `integrations` (each needs a known
/// `sgbd`).
fn sql_connection_errors(integrations: &Value) -> Vec<String> {
    let Some(conns) = integrations.get("sql_database") else {
        return Vec::new();
    };
    let Some(conns) = conns.as_object() else {
        return vec!["`integrations.sql_database` must be an object of named connections".into()];
    };
    conns
        .iter()
        .filter_map(|(name, conf)| {
            let sgbd = conf.get("sgbd").and_then(Value::as_str).unwrap_or("");
            crate::sql::dialect(sgbd).is_none().then(|| {
                format!(
                    "connection `{name}` of `integrations.sql_database`: unknown sgbd `{sgbd}` (flowyt speaks postgresql, mysql/mariadb and sqlite)"
                )
            })
        })
        .collect()
}

/// `${os.env['NAME']}` in `env` and `integrations` from `getenv` (a missing variable gives `""`).
pub fn parse_settings(
    file: &str,
    text: &str,
    getenv: &dyn Fn(&str) -> Option<String>,
) -> (Settings, Vec<Diagnostic>, SourceMap) {
    let (node, mut diags, mut source) = parse_json(file, text);
    let mut settings = Settings::default();
    let Some(node) = node else {
        return (settings, diags, source);
    };
    // The server's own secret is never handed to a workspace, whatever `getenv` would say.
    let refused = std::cell::RefCell::new(Vec::new());
    let guarded = |name: &str| {
        if crate::env_allow::NEVER_READABLE.contains(&name) {
            refused.borrow_mut().push(name.to_string());
            return None;
        }
        getenv(name)
    };
    let getenv: &dyn Fn(&str) -> Option<String> = &guarded;
    let NodeKind::Object(members) = &node.kind else {
        let at = source.push(node.span);
        diags.push(Diagnostic::error(
            Code::BadSettings,
            at,
            "settings must be a JSON object",
        ));
        return (settings, diags, source);
    };
    for m in members {
        let at = source.push(m.value.span);
        let key_at = source.push(m.key_span);
        let v = m.value.to_value();
        match m.key.as_str() {
            "id" => settings.id = v,
            "name" => settings.name = v,
            "debug" => settings.debug = truthy(&v),
            "release" | "release_name" => settings.release = v,
            "env" => match interpolate(v, getenv) {
                Value::Object(map) => settings.env = map,
                Value::Null => {}
                _ => diags.push(Diagnostic::error(
                    Code::BadSettings,
                    at,
                    "`env` must be an object",
                )),
            },
            "integrations" => {
                settings.integrations = interpolate(v, getenv);
                for message in sql_connection_errors(&settings.integrations) {
                    diags.push(Diagnostic::error(Code::BadSettings, at, message));
                }
            }
            "safe_mode" => settings.safe_mode = safe_mode(&m.value, at, &mut source, &mut diags),
            "limits" => limits(&m.value, &mut settings.limits, &mut source, &mut diags),
            "string_compare" => settings.string_compare = truthy(&v),
            "services" => match services(&interpolate(v, getenv)) {
                Ok(map) => settings.services = map,
                Err(message) => diags.push(Diagnostic::error(Code::BadSettings, at, message)),
            },
            "mask" => match v.as_array().and_then(|items| {
                items
                    .iter()
                    .map(|i| i.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
            }) {
                Some(names) => settings.mask = names,
                None => diags.push(Diagnostic::error(
                    Code::BadSettings,
                    at,
                    "`mask` must be a list of field names, e.g. [\"ssn\", \"card_*\"]",
                )),
            },
            "registry" => match registry(&interpolate(v, getenv)) {
                Ok(r) => settings.registry = Some(r),
                Err(message) => diags.push(Diagnostic::error(Code::BadSettings, at, message)),
            },
            "development_language" => {
                if v.as_str().is_some_and(|l| l != "python") {
                    diags.push(
                        Diagnostic::error(
                            Code::Unsupported,
                            at,
                            "only the Python-flavoured expression language is supported",
                        )
                        .with_help(Some(
                            "remove `development_language` or set it to `python`".into(),
                        )),
                    );
                }
            }
            other => diags.push(
                Diagnostic::warning(
                    Code::BadSettings,
                    key_at,
                    format!("unknown settings key `{other}`"),
                )
                .with_help(suggest::help_for(other, SETTINGS_KEYS.iter().copied())),
            ),
        }
        for name in refused.borrow_mut().drain(..) {
            diags.push(
                Diagnostic::error(
                    Code::BadSettings,
                    at,
                    format!("settings may not read `{name}`: it is the server's own secret"),
                )
                .with_help(Some(
                    "give the workspace its own variable (for example an API token) instead".into(),
                )),
            );
        }
    }
    (settings, diags, source)
}

const SETTINGS_KEYS: &[&str] = &[
    "id",
    "name",
    "debug",
    "release",
    "env",
    "integrations",
    "safe_mode",
    "limits",
    "string_compare",
    "services",
    "registry",
    "mask",
    "development_language",
];

fn is_http_url(s: &str) -> bool {
    (s.starts_with("http://") || s.starts_with("https://")) && s.len() > "https://".len()
}

/// `{"users": ["http://127.0.0.1:8001", "http://127.0.0.1:8002"], "messages": "http://..."}`.
fn services(v: &Value) -> Result<BTreeMap<String, Vec<String>>, String> {
    let Value::Object(map) = v else {
        return Err("`services` must map service names to instance URLs".into());
    };
    let mut out = BTreeMap::new();
    for (name, urls) in map {
        let urls: Vec<String> = match urls {
            Value::String(u) => vec![u.clone()],
            Value::Array(items) => items
                .iter()
                .map(|u| u.as_str().map(str::to_string))
                .collect::<Option<_>>()
                .ok_or_else(|| format!("`services.{name}` must list URLs as strings"))?,
            _ => return Err(format!("`services.{name}` must be a URL or a list of URLs")),
        };
        if urls.is_empty() {
            return Err(format!("`services.{name}` lists no instance"));
        }
        if let Some(bad) = urls.iter().find(|u| !is_http_url(u)) {
            return Err(format!("`services.{name}`: `{bad}` is not an http(s) URL"));
        }
        out.insert(name.clone(), urls);
    }
    Ok(out)
}

/// `{"eureka": "http://127.0.0.1:8761/eureka", "refresh": 30}`.
fn registry(v: &Value) -> Result<Registry, String> {
    let eureka = v
        .get("eureka")
        .and_then(Value::as_str)
        .filter(|u| is_http_url(u))
        .ok_or("`registry.eureka` must be the http(s) URL of an Eureka server")?;
    let refresh = match v.get("refresh") {
        None => 30.0,
        Some(r) => r
            .as_f64()
            .filter(|r| *r >= 0.0)
            .ok_or("`registry.refresh` must be a number of seconds")?,
    };
    Ok(Registry {
        eureka: eureka.trim_end_matches('/').to_string(),
        refresh,
    })
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn safe_mode(
    node: &Node,
    at: crate::loc::Loc,
    source: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> Option<SafeMode> {
    match &node.kind {
        NodeKind::Bool(false) | NodeKind::Null => None,
        NodeKind::Object(_) => {
            let enable = match (node.get("enable"), node.get("active")) {
                (Some(e), _) => truthy(&e.to_value()),
                (None, Some(a)) => {
                    let at = source.push(a.span);
                    diags.push(
                        Diagnostic::warning(
                            Code::BadSettings,
                            at,
                            "`safe_mode.active` is the old name of `safe_mode.enable`",
                        )
                        .with_help(Some("rename it to `enable`".into())),
                    );
                    truthy(&a.to_value())
                }
                (None, None) => false,
            };
            let time = node.get("safe_time").map(Node::to_value);
            match time.as_ref().map(|t| t.as_f64()) {
                Some(Some(t)) if t >= 0.0 => enable.then_some(SafeMode { safe_time: t }),
                None if !enable => None,
                _ => {
                    diags.push(Diagnostic::error(
                        Code::BadSettings,
                        at,
                        "`safe_mode.safe_time` must be a number of seconds",
                    ));
                    None
                }
            }
        }
        _ => {
            diags.push(Diagnostic::error(
                Code::BadSettings,
                at,
                "`safe_mode` must be an object `{\"enable\": true, \"safe_time\": 10}`",
            ));
            None
        }
    }
}

fn limits(node: &Node, limits: &mut Limits, source: &mut SourceMap, diags: &mut Vec<Diagnostic>) {
    let NodeKind::Object(members) = &node.kind else {
        let at = source.push(node.span);
        diags.push(Diagnostic::error(
            Code::BadSettings,
            at,
            "`limits` must be an object",
        ));
        return;
    };
    for m in members {
        let at = source.push(m.value.span);
        let number = m.value.to_value().as_f64().filter(|n| *n > 0.0);
        let Some(n) = number else {
            diags.push(Diagnostic::error(
                Code::BadSettings,
                at,
                format!("`limits.{}` must be a positive number", m.key),
            ));
            continue;
        };
        match m.key.as_str() {
            "max_steps" => limits.max_steps = n as u64,
            "max_seconds" => limits.max_seconds = n,
            "request_timeout" => limits.request_timeout = n,
            "max_body_bytes" => limits.max_body_bytes = n as u64,
            other => {
                let key_at = source.push(m.key_span);
                diags.push(
                    Diagnostic::error(
                        Code::BadSettings,
                        key_at,
                        format!("unknown limit `{other}`"),
                    )
                    .with_help(suggest::help_for(
                        other,
                        [
                            "max_steps",
                            "max_seconds",
                            "request_timeout",
                            "max_body_bytes",
                        ],
                    )),
                );
            }
        }
    }
}

fn interpolate(v: Value, getenv: &dyn Fn(&str) -> Option<String>) -> Value {
    match v {
        Value::String(s) if s.contains("${") => Value::String(interpolate_str(&s, getenv)),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, interpolate(v, getenv)))
                .collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| interpolate(v, getenv)).collect())
        }
        other => other,
    }
}

fn interpolate_str(s: &str, getenv: &dyn Fn(&str) -> Option<String>) -> String {
    use std::sync::OnceLock;
    static RE: OnceLock<Option<regex_lite::Regex>> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex_lite::Regex::new(
            r#"\$\{\s*(?:env\(\s*['"]([^'"]*)['"]\s*(?:,\s*['"]([^'"]*)['"]\s*)?\)|os\.env\[\s*['"]([^'"]*)['"]\s*\])\s*\}"#,
        )
        .ok()
    });
    let Some(re) = re else { return s.to_string() };
    re.replace_all(s, |c: &regex_lite::Captures<'_>| {
        let name = c.get(1).or_else(|| c.get(3)).map_or("", |m| m.as_str());
        getenv(name)
            .or_else(|| c.get(2).map(|d| d.as_str().to_string()))
            .unwrap_or_default()
    })
    .into_owned()
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

/// Reads `routes.json`, checking methods, paths and flow names.
pub fn parse_routes(
    file: &str,
    text: &str,
    flows: &BTreeSet<String>,
) -> (Vec<Route>, Vec<Diagnostic>, SourceMap) {
    let (node, mut diags, mut source) = parse_json(file, text);
    let mut routes: Vec<Route> = Vec::new();
    let Some(node) = node else {
        return (routes, diags, source);
    };
    let NodeKind::Array(items) = &node.kind else {
        let at = source.push(node.span);
        diags.push(Diagnostic::error(
            Code::BadRoute,
            at,
            "routes.json must be an array of `{\"method\", \"path\", \"flow\"}`",
        ));
        return (routes, diags, source);
    };
    for item in items {
        let at = source.push(item.span);
        let field = |k: &str| item.get(k).and_then(|n| n.as_str().map(|s| (s, n.span)));
        let (Some((method, m_span)), Some((path, p_span)), Some((flow, f_span))) =
            (field("method"), field("path"), field("flow"))
        else {
            diags.push(Diagnostic::error(
                Code::BadRoute,
                at,
                "a route needs string `method`, `path` and `flow` fields",
            ));
            continue;
        };
        let method_up = method.to_ascii_uppercase();
        if !METHODS.contains(&method_up.as_str()) {
            let at = source.push(m_span);
            diags.push(
                Diagnostic::error(
                    Code::BadRoute,
                    at,
                    format!("unknown HTTP method `{method}`"),
                )
                .with_help(suggest::help_for(&method_up, METHODS.iter().copied())),
            );
            continue;
        }
        let (axum_path, params) = match convert_path(path) {
            Ok(p) => p,
            Err(message) => {
                let at = source.push(p_span);
                diags.push(Diagnostic::error(Code::BadRoute, at, message));
                continue;
            }
        };
        if !flows.contains(flow) {
            let at = source.push(f_span);
            diags.push(
                Diagnostic::error(
                    Code::RouteUnknownFlow,
                    at,
                    format!("route `{method_up} {path}` runs unknown flow `{flow}`"),
                )
                .with_help(suggest::help_for(flow, flows.iter().map(String::as_str))),
            );
            continue;
        }
        let timeout = match item.get("timeout") {
            None => None,
            Some(n) => match n
                .to_value()
                .as_f64()
                .and_then(|t| std::time::Duration::try_from_secs_f64(t).ok())
                .filter(|d| !d.is_zero())
            {
                Some(d) => Some(d),
                None => {
                    let at = source.push(n.span);
                    diags.push(Diagnostic::error(
                        Code::BadRoute,
                        at,
                        "a route's `timeout` must be a positive number of seconds",
                    ));
                    continue;
                }
            },
        };
        if let Some(prev) = routes
            .iter()
            .find(|r| r.method == method_up && r.axum_path == axum_path)
        {
            let at = source.push(p_span);
            diags.push(Diagnostic::error(
                Code::BadRoute,
                at,
                format!(
                    "route `{method_up} {path}` repeats `{} {}`",
                    prev.method, prev.path
                ),
            ));
            continue;
        }
        routes.push(Route {
            method: method_up,
            path: path.to_string(),
            axum_path,
            params,
            flow: flow.to_string(),
            timeout,
        });
    }
    (routes, diags, source)
}

/// Converts a legacy Flask route (`/loja/<string:loja>/<int:id>`) or an axum route
/// (`/loja/{loja}`) to axum syntax, listing the captures and their converters.
pub fn convert_path(path: &str) -> Result<(String, Vec<(String, String)>), String> {
    if !path.starts_with('/') {
        return Err(format!("route path `{path}` must start with `/`"));
    }
    let mut out = String::new();
    let mut params = Vec::new();
    for (i, seg) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        let capture = seg
            .strip_prefix('<')
            .and_then(|s| s.strip_suffix('>'))
            .map(|inner| match inner.split_once(':') {
                Some((conv, name)) => (conv.trim(), name.trim()),
                None => ("string", inner.trim()),
            })
            .or_else(|| {
                seg.strip_prefix('{')
                    .and_then(|s| s.strip_suffix('}'))
                    .map(|inner| match inner.strip_prefix('*') {
                        Some(name) => ("path", name),
                        None => ("string", inner),
                    })
            });
        match capture {
            Some((conv, name)) => {
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(format!("bad path parameter name `{name}` in `{path}`"));
                }
                if !["string", "int", "float", "path", "uuid", "any"].contains(&conv) {
                    return Err(format!("unknown path converter `{conv}` in `{path}`"));
                }
                if params.iter().any(|(n, _)| n == name) {
                    return Err(format!("path parameter `{name}` appears twice in `{path}`"));
                }
                if conv == "path" {
                    out.push_str(&format!("{{*{name}}}"));
                } else {
                    out.push_str(&format!("{{{name}}}"));
                }
                params.push((name.to_string(), conv.to_string()));
            }
            None if seg.contains(['<', '>', '{', '}']) => {
                return Err(format!("unsupported path segment `{seg}` in `{path}`"));
            }
            None => out.push_str(seg),
        }
    }
    Ok((out, params))
}

/// Severity counts, for summaries.
pub fn count(diags: &[Located]) -> (usize, usize) {
    let errors = diags
        .iter()
        .filter(|d| d.diagnostic.severity == Severity::Error)
        .count();
    (errors, diags.len() - errors)
}
