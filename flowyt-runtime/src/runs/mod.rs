//! Triggered runs, as Airflow's `trigger_dag`: a run of a flow started from outside with a
//! `conf`, executed in the background, and recorded (status, times, trace, result) in a
//! [`RunStore`] so its history survives restarts.
//!
//! - [`trigger`] starts a run and records it; [`api::router`] serves the runs API over HTTP
//!   (`POST/GET /_workspaces/{ws}/flows/{flow}/runs`), as `flowyt serve` does;
//! - [`MemoryStore`] keeps records in memory; `SqliteStore` (feature `sqlite`) in a file;
//! - [`RunsClient`] calls the runs API of a server.

pub mod api;
mod client;
mod memory;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use client::{ClientError, RunsClient};

/// Largest `conf` a trigger accepts, in bytes of JSON.
pub const MAX_CONF_BYTES: usize = 64 * 1024;
pub use memory::MemoryStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

use crate::{Outcome, RunInput, Workspace};
use serde_json::{Map, Value, json};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where a run is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus {
    /// Accepted, not started yet.
    Queued,
    /// Running.
    Running,
    /// Ended with a response below 400 (or without a response).
    Success,
    /// Failed: an error, a response of 400 or more, or the server stopped during the run.
    Failed,
}

impl RunStatus {
    /// The status as stored and shown (`queued`, `running`, `success`, `failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Success => "success",
            RunStatus::Failed => "failed",
        }
    }

    /// The status called `s`.
    pub fn parse(s: &str) -> Option<RunStatus> {
        Some(match s {
            "queued" => RunStatus::Queued,
            "running" => RunStatus::Running,
            "success" => RunStatus::Success,
            "failed" => RunStatus::Failed,
            _ => return None,
        })
    }
}

/// One triggered run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    /// Unique per workspace and flow.
    pub run_id: String,
    /// The workspace.
    pub workspace: String,
    /// The flow key.
    pub flow: String,
    /// Where it is.
    pub status: RunStatus,
    /// What the trigger gave.
    pub conf: Value,
    /// Unix time (seconds) it was accepted.
    pub queued_at: f64,
    /// Unix time it started.
    pub started_at: Option<f64>,
    /// Unix time it ended.
    pub ended_at: Option<f64>,
    /// The response the flow produced: `{"status", "headers", "data"}`.
    pub result: Option<Value>,
    /// The per-action trace (`__debug__.workspace`).
    pub trace: Option<Value>,
    /// Why it failed.
    pub error: Option<String>,
}

impl RunRecord {
    /// The record as the API shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "run_id": self.run_id,
            "workspace": self.workspace,
            "flow": self.flow,
            "status": self.status.as_str(),
            "conf": self.conf,
            "queued_at": self.queued_at,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "result": self.result,
            "trace": self.trace,
            "error": self.error,
        })
    }
}

/// Which slice of a list to return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    /// Most items (at most [`Page::MAX_LIMIT`]).
    pub limit: usize,
    /// Items to skip.
    pub offset: usize,
}

impl Page {
    /// The largest page.
    pub const MAX_LIMIT: usize = 500;

    /// `limit` items after `offset`, the limit clamped to 1..=[`Page::MAX_LIMIT`].
    pub fn new(limit: usize, offset: usize) -> Page {
        Page {
            limit: limit.clamp(1, Page::MAX_LIMIT),
            offset,
        }
    }
}

impl Default for Page {
    /// The first 100.
    fn default() -> Page {
        Page::new(100, 0)
    }
}

impl RunRecord {
    /// The record without its large parts (`conf`, `result`, `trace`), as lists show it.
    pub fn summary(mut self) -> RunRecord {
        self.conf = Value::Null;
        self.result = None;
        self.trace = None;
        self
    }
}

/// What a [`RunStore`] call returns: a boxed future, so stores can be used as
/// `Arc<dyn RunStore>`.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A store failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "run store: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

/// Where run records live: an embedded SQLite file in `flowyt serve`, something shared when
/// several instances run side by side.
pub trait RunStore: Send + Sync + 'static {
    /// Adds a new run; fails if `(workspace, flow, run_id)` exists.
    fn insert<'a>(&'a self, run: &'a RunRecord) -> StoreFuture<'a, ()>;
    /// Replaces a run's record.
    fn update<'a>(&'a self, run: &'a RunRecord) -> StoreFuture<'a, ()>;
    /// One run.
    fn get<'a>(
        &'a self,
        workspace: &'a str,
        flow: &'a str,
        run_id: &'a str,
    ) -> StoreFuture<'a, Option<RunRecord>>;
    /// A page of a flow's runs, newest first, as summaries: `conf`, `result` and `trace`
    /// are left out (`null`/`None`); read one run with [`RunStore::get`] for those.
    fn list<'a>(
        &'a self,
        workspace: &'a str,
        flow: &'a str,
        page: Page,
    ) -> StoreFuture<'a, Vec<RunRecord>>;
    /// Deletes the runs that ended before `ended_before` (Unix seconds). Returns how many.
    fn prune(&self, ended_before: f64) -> StoreFuture<'_, usize>;
    /// Marks every queued or running run failed with `reason` (at start-up: those runs died
    /// with the previous process). Returns how many.
    fn fail_in_flight<'a>(&'a self, reason: &'a str, now: f64) -> StoreFuture<'a, usize>;
}

/// Why a trigger was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TriggerError {
    /// The workspace has no such flow.
    UnknownFlow(String),
    /// The conf does not fit the flow's params.
    BadParams {
        /// The param at fault.
        param: String,
        /// What is wrong.
        message: String,
    },
    /// `conf` is not an object.
    BadConf(String),
    /// The run id is taken.
    Duplicate(String),
    /// Too many runs are waiting for a turn (the limit).
    Busy(usize),
    /// The store failed.
    Store(StoreError),
}

impl fmt::Display for TriggerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TriggerError::UnknownFlow(flow) => write!(f, "unknown flow `{flow}`"),
            TriggerError::BadParams { message, .. } => f.write_str(message),
            TriggerError::BadConf(m) => f.write_str(m),
            TriggerError::Duplicate(id) => write!(f, "run `{id}` exists already"),
            TriggerError::Busy(max) => write!(
                f,
                "{max} runs are already waiting for a turn; try again when some have finished"
            ),
            TriggerError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for TriggerError {}

/// Seconds since the Unix epoch.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// How many triggered runs execute at once, and how many may wait for a turn; past that a
/// trigger is refused ([`TriggerError::Busy`]) instead of piling up work without bound.
#[derive(Clone, Debug)]
pub struct Slots {
    running: Arc<tokio::sync::Semaphore>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
}

impl Slots {
    /// At most `max_running` runs at once (at least 1) and `max_waiting` waiting.
    pub fn new(max_running: usize, max_waiting: usize) -> Slots {
        Slots {
            running: Arc::new(tokio::sync::Semaphore::new(max_running.max(1))),
            waiting: Arc::new(AtomicUsize::new(0)),
            max_waiting,
        }
    }

    /// The process-wide slots [`trigger`] uses: 32 running, 1,000 waiting.
    pub fn shared() -> &'static Slots {
        static SHARED: OnceLock<Slots> = OnceLock::new();
        SHARED.get_or_init(|| Slots::new(32, 1000))
    }

    /// Takes a place in the waiting line, or says the line is full.
    fn enter(&self) -> Result<Waiting, TriggerError> {
        let before = self.waiting.fetch_add(1, Ordering::SeqCst);
        if before >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(TriggerError::Busy(self.max_waiting));
        }
        Ok(Waiting(self.waiting.clone()))
    }
}

/// A place in the waiting line, given back when dropped.
struct Waiting(Arc<AtomicUsize>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Starts a background run of `flow` in `ws` with `conf` (an object: the params, also the
/// `input` root), recorded in `store`. Returns the run id (`run_id` or a new UUID). Runs share
/// the process-wide [`Slots::shared`].
pub async fn trigger(
    ws: &Workspace,
    store: Arc<dyn RunStore>,
    flow: &str,
    run_id: Option<String>,
    conf: Value,
) -> Result<String, TriggerError> {
    trigger_in(Slots::shared(), ws, store, flow, run_id, conf).await
}

/// [`trigger`] within `slots`: the run stays `queued` until a slot is free.
pub async fn trigger_in(
    slots: &Slots,
    ws: &Workspace,
    store: Arc<dyn RunStore>,
    flow: &str,
    run_id: Option<String>,
    conf: Value,
) -> Result<String, TriggerError> {
    if !ws.flow_keys().any(|k| k == flow) {
        return Err(TriggerError::UnknownFlow(flow.to_string()));
    }
    let size = crate::body::json_len(&conf);
    if size > MAX_CONF_BYTES {
        return Err(TriggerError::BadConf(format!(
            "`conf` is {size} bytes of JSON; the limit is {MAX_CONF_BYTES}"
        )));
    }
    let conf_map: Map<String, Value> = match &conf {
        Value::Object(m) => m.clone(),
        Value::Null => Map::new(),
        _ => return Err(TriggerError::BadConf("`conf` must be a JSON object".into())),
    };
    let params =
        ws.resolve_params(flow, &conf_map, false)
            .map_err(|e| TriggerError::BadParams {
                param: e.param,
                message: e.message,
            })?;
    let run_id = run_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut record = RunRecord {
        run_id: run_id.clone(),
        workspace: ws.name().to_string(),
        flow: flow.to_string(),
        status: RunStatus::Queued,
        // The record keeps the conf with its secrets masked; the run gets it whole.
        conf: ws.mask(Value::Object(conf_map.clone())),
        queued_at: now(),
        started_at: None,
        ended_at: None,
        result: None,
        trace: None,
        error: None,
    };
    if store
        .get(&record.workspace, flow, &run_id)
        .await
        .map_err(TriggerError::Store)?
        .is_some()
    {
        return Err(TriggerError::Duplicate(run_id));
    }
    let waiting = slots.enter()?;
    store.insert(&record).await.map_err(TriggerError::Store)?;
    let ws = ws.clone();
    let flow = flow.to_string();
    let running = slots.running.clone();
    tokio::spawn(async move {
        // The semaphore is never closed, so this waits for a turn and never fails.
        let _slot = running.acquire_owned().await.ok();
        drop(waiting);
        record.status = RunStatus::Running;
        record.started_at = Some(now());
        if let Err(e) = store.update(&record).await {
            tracing::error!(error = %e, "cannot record a run start");
        }
        let input = RunInput {
            request: json!({"method": "POST", "path": "", "headers": {}, "params": {}, "qs": {}, "form": {}, "data": conf_map, "debug": "true"}),
            input: Value::Object(conf_map),
            debug: true,
            request_id: Some(record.run_id.clone()),
            params,
            time_limit: None,
        };
        let result = ws.run(&flow, input).await;
        record.ended_at = Some(now());
        record.trace = result.trace;
        match result.outcome {
            Outcome::Response {
                status,
                headers,
                body,
            } => {
                record.result = Some(ws.mask(json!({
                    "status": status,
                    "headers": headers.into_iter().map(|(k, v)| (k, Value::String(v))).collect::<Map<_, _>>(),
                    "data": body.to_value(),
                })));
                if status < 400 {
                    record.status = RunStatus::Success;
                } else {
                    record.status = RunStatus::Failed;
                    record.error = Some(format!("the flow answered {status}"));
                }
            }
            Outcome::Ended => {
                record.status = RunStatus::Success;
                record.result = Some(json!({"status": 200, "headers": {}, "data": {}}));
            }
            Outcome::Invalid(errors) => {
                record.status = RunStatus::Failed;
                record.result = Some(json!({"status": 400, "headers": {}, "data": errors}));
                record.error = Some("validation failed".into());
            }
            Outcome::Failed(e) => {
                record.status = RunStatus::Failed;
                record.error = Some(e.to_string());
            }
        }
        if let Err(e) = store.update(&record).await {
            tracing::error!(error = %e, "cannot record a run end");
        }
    });
    Ok(run_id)
}
