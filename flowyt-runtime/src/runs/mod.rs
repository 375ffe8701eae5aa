//! Triggered runs, as Airflow's `trigger_dag`: a run of a flow started from outside with a
//! `conf`, queued in a [`RunStore`], executed by whichever instance claims it, and recorded
//! (status, times, attempts, trace, result) so its history survives restarts.
//!
//! - [`Runs`] is one instance's side of the queue: it triggers runs, claims queued ones under a
//!   lease, checkpoints each completed action, resumes runs whose instance died, and hands its
//!   runs back on shutdown; `api::router` (feature `axum`) serves the runs API over HTTP, as
//!   `flowyt serve` does;
//! - [`MemoryStore`] keeps everything in memory (one process); `SqlStore` (features `sqlite`,
//!   `postgres`) in SQLite or PostgreSQL, shared by every instance;
//! - `RunsClient` calls the runs API of a server (feature `http-client`).

#[cfg(feature = "axum")]
pub mod api;
#[cfg(feature = "http-client")]
mod client;
mod memory;
pub mod schedules;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
mod worker;

#[cfg(feature = "http-client")]
pub use client::{ClientError, RunsClient};
pub use flowyt_core::schedule::iso8601;
pub use memory::MemoryStore;
pub use worker::{Runs, RunsOptions, Trigger};

/// Largest `conf` a trigger accepts, in bytes of JSON.
pub const MAX_CONF_BYTES: usize = 64 * 1024;

use serde_json::{Value, json};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{SystemTime, UNIX_EPOCH};

/// Where a run is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus {
    /// Accepted, waiting for an instance to claim it.
    Queued,
    /// Claimed by an instance and running.
    Running,
    /// Ended with a response below 400 (or without a response).
    Success,
    /// Failed: an error, a response of 400 or more, or abandoned after too many attempts.
    Failed,
    /// Cancelled through the API before it ended.
    Cancelled,
}

impl RunStatus {
    /// The status as stored and shown (`queued`, `running`, `success`, `failed`, `cancelled`).
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Success => "success",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }

    /// The status called `s`.
    pub fn parse(s: &str) -> Option<RunStatus> {
        Some(match s {
            "queued" => RunStatus::Queued,
            "running" => RunStatus::Running,
            "success" => RunStatus::Success,
            "failed" => RunStatus::Failed,
            "cancelled" => RunStatus::Cancelled,
            _ => return None,
        })
    }

    /// Whether the run has ended.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RunStatus::Success | RunStatus::Failed | RunStatus::Cancelled
        )
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
    /// What the trigger gave, its secrets masked.
    pub conf: Value,
    /// Unix time (seconds) it was accepted.
    pub queued_at: f64,
    /// Unix time it first started.
    pub started_at: Option<f64>,
    /// Unix time it ended.
    pub ended_at: Option<f64>,
    /// How many times an instance claimed it (more than 1 when an instance died or handed
    /// it back during the run).
    pub attempts: u32,
    /// The response the flow produced: `{"status", "headers", "data"}`.
    pub result: Option<Value>,
    /// The per-action trace (`__debug__.workspace`) of its last attempt.
    pub trace: Option<Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// What kind of failure, for callers that react to each differently: an
    /// [`ErrorKind`](crate::ErrorKind) name (`timeout`, `template`, `invalid_params`,
    /// `unknown_flow`, `interrupted`, ...), or `response` when the flow answered an error status,
    /// `validation` when a `validation` action refused the input, `cancelled`.
    pub error_kind: Option<String>,
    /// While it runs: the ids of the actions it completed, in order (from its last
    /// checkpoint); empty in lists and once it ended (the trace has them then).
    pub progress: Vec<String>,
    /// The W3C `traceparent` of the span that queued it (a trigger's or a schedule tick's,
    /// or the caller's): the run's own span continues that trace.
    pub traceparent: Option<String>,
    /// The date and time the run is for (Airflow's `logical_date`), Unix seconds: a
    /// schedule tick's time, or what the trigger gave; `None` for a run triggered without one.
    pub logical_date: Option<f64>,
}

/// `secs` and its ISO-8601 form, as the API shows a time.
fn time_fields(map: &mut serde_json::Map<String, Value>, name: &str, secs: Option<f64>) {
    map.insert(name.to_string(), json!(secs));
    map.insert(format!("{name}_iso"), json!(secs.map(iso8601)));
}

impl RunRecord {
    /// A new queued run (the store sets `queued_at` when it keeps its own clock).
    pub fn queued(workspace: &str, flow: &str, run_id: &str, conf: Value) -> RunRecord {
        RunRecord {
            run_id: run_id.to_string(),
            workspace: workspace.to_string(),
            flow: flow.to_string(),
            status: RunStatus::Queued,
            conf,
            queued_at: now(),
            started_at: None,
            ended_at: None,
            attempts: 0,
            result: None,
            trace: None,
            error: None,
            error_kind: None,
            progress: Vec::new(),
            traceparent: None,
            logical_date: None,
        }
    }

    /// Marks the run failed (or cancelled) with what kind of failure and why.
    pub(crate) fn fail(&mut self, status: RunStatus, kind: &str, error: String) {
        self.status = status;
        self.error_kind = Some(kind.to_string());
        self.error = Some(error);
    }

    /// The trace the run belongs to, if it has one.
    pub fn trace_context(&self) -> Option<crate::telemetry::TraceContext> {
        crate::telemetry::TraceContext::parse(self.traceparent.as_deref()?, None)
    }

    /// The completed actions a checkpoint lists (its `path`).
    pub(crate) fn progress_of(checkpoint: Option<&Value>) -> Vec<String> {
        checkpoint
            .and_then(|c| c.get("path"))
            .and_then(Value::as_array)
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| id.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The summary as lists show it: ids, status, times (epoch seconds and ISO-8601),
    /// attempts, error and the trace id (`null` when the run is in no trace).
    pub fn summary_json(&self) -> Value {
        let mut map = serde_json::Map::new();
        map.insert("run_id".into(), json!(self.run_id));
        map.insert("workspace".into(), json!(self.workspace));
        map.insert("flow".into(), json!(self.flow));
        map.insert("status".into(), json!(self.status.as_str()));
        time_fields(&mut map, "queued_at", Some(self.queued_at));
        time_fields(&mut map, "started_at", self.started_at);
        time_fields(&mut map, "ended_at", self.ended_at);
        time_fields(&mut map, "logical_date", self.logical_date);
        map.insert("attempts".into(), json!(self.attempts));
        map.insert("error".into(), json!(self.error));
        map.insert("error_kind".into(), json!(self.error_kind));
        map.insert(
            "trace_id".into(),
            json!(self.trace_context().map(|t| t.trace_id())),
        );
        Value::Object(map)
    }

    /// The whole record as the API shows it: the summary with `conf`, `result` and `trace`.
    pub fn to_json(&self) -> Value {
        let mut v = self.summary_json();
        if let Value::Object(map) = &mut v {
            map.insert("progress".into(), json!(self.progress));
            map.insert("conf".into(), self.conf.clone());
            map.insert("result".into(), json!(self.result));
            map.insert("trace".into(), json!(self.trace));
        }
        v
    }

    /// The record without its large parts (`conf`, `result`, `trace`), as lists return it.
    pub fn summary(mut self) -> RunRecord {
        self.conf = Value::Null;
        self.result = None;
        self.trace = None;
        self
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
    pub const MAX_LIMIT: usize = 1000;

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

/// Which runs a list returns: a workspace's, or one flow's, optionally of one status; newest
/// first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListQuery {
    /// The workspace.
    pub workspace: String,
    /// One flow, or every flow of the workspace.
    pub flow: Option<String>,
    /// Only runs with this status.
    pub status: Option<RunStatus>,
    /// The slice.
    pub page: Page,
}

/// A run an instance claimed: its record, the whole conf it runs with, and where to resume.
#[derive(Clone, Debug, PartialEq)]
pub struct Claimed {
    /// The record (status `running`, `attempts` counting this claim).
    pub record: RunRecord,
    /// The conf as given (the record's copy is masked).
    pub input: Value,
    /// The last checkpoint of an earlier attempt.
    pub checkpoint: Option<Value>,
}

/// What an instance asks of [`RunStore::claim`].
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    /// The instance claiming (its leases carry this name).
    pub owner: String,
    /// Only runs of these workspaces (`None`: any).
    pub workspaces: Option<Vec<String>>,
    /// Most runs to claim.
    pub limit: usize,
    /// Seconds the lease lasts unless renewed.
    pub lease: f64,
    /// Runs already claimed this many times are not claimed again (see [`RunStore::sweep`]).
    pub max_attempts: u32,
}

/// What a checkpoint tells the running instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// The run was cancelled: stop it.
    Cancel,
    /// The run is no longer this instance's (its lease expired and another claimed it).
    Lost,
}

/// What [`RunStore::cancel`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cancelled {
    /// No such run.
    NotFound,
    /// It was queued and will never start.
    Now,
    /// It is running and stops at its next action boundary.
    Requested,
    /// It had already ended, with this status.
    AlreadyEnded(RunStatus),
}

/// A schedule's state in the store: when it fires next.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleRow {
    /// The workspace.
    pub workspace: String,
    /// The flow.
    pub flow: String,
    /// The schedule as written (a changed schedule starts over).
    pub spec: String,
    /// Unix time of its next tick.
    pub next_fire: f64,
}

/// One schedule tick to fire: move the schedule from `due` to `next` and queue `run`, both or
/// neither.
#[derive(Clone, Debug, PartialEq)]
pub struct Fire {
    /// The schedule's `next_fire` as read; if another instance moved it since, nothing happens.
    pub due: f64,
    /// Its next fire time after this tick.
    pub next: f64,
    /// The run to queue (its id names the tick, so a tick is queued once).
    pub run: RunRecord,
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

/// Where runs live and queue: [`MemoryStore`] in one process, `SqlStore` in SQLite or in a
/// PostgreSQL database shared by several instances. Every method is one atomic step, so
/// instances coordinate through the store alone.
pub trait RunStore: Send + Sync + 'static {
    /// Queues a new run whose whole conf is `input`; `false` if `(workspace, flow, run_id)`
    /// exists.
    fn insert<'a>(&'a self, run: &'a RunRecord, input: &'a Value) -> StoreFuture<'a, bool>;
    /// How many runs are queued.
    fn queued(&self) -> StoreFuture<'_, usize>;
    /// One run.
    fn get<'a>(
        &'a self,
        workspace: &'a str,
        flow: &'a str,
        run_id: &'a str,
    ) -> StoreFuture<'a, Option<RunRecord>>;
    /// A page of runs, newest first, as summaries: `conf`, `result` and `trace` are left out
    /// (`null`/`None`); read one run with [`RunStore::get`] for those.
    fn list<'a>(&'a self, query: &'a ListQuery) -> StoreFuture<'a, Vec<RunRecord>>;
    /// How many runs match `query`, whatever its page (a list's total).
    fn count<'a>(&'a self, query: &'a ListQuery) -> StoreFuture<'a, usize>;
    /// Claims up to `claim.limit` runs, oldest first: queued ones, and running ones whose
    /// lease expired (their instance died). Each is `running` under the claimer's lease with
    /// its attempt count raised. Two instances never claim the same run.
    fn claim<'a>(&'a self, claim: &'a Claim) -> StoreFuture<'a, Vec<Claimed>>;
    /// Ends the runs whose lease expired and that may not be claimed again: `cancelled` if a
    /// cancel was asked, else `failed` after `max_attempts` attempts. Returns how many.
    fn sweep(&self, max_attempts: u32) -> StoreFuture<'_, usize>;
    /// Extends the lease of every run `owner` is running by `lease` seconds. Returns how many.
    fn renew<'a>(&'a self, owner: &'a str, lease: f64) -> StoreFuture<'a, usize>;
    /// Saves where a run is (after a completed action) and extends its lease; says whether
    /// to go on.
    fn checkpoint<'a>(
        &'a self,
        run: &'a RunRecord,
        owner: &'a str,
        checkpoint: &'a Value,
        lease: f64,
    ) -> StoreFuture<'a, Control>;
    /// Records a run's end (status, result, trace, error), if `owner` still holds it; `false`
    /// if it does not (another instance took it over).
    fn finish<'a>(&'a self, run: &'a RunRecord, owner: &'a str) -> StoreFuture<'a, bool>;
    /// Gives back every run `owner` is running: queued again, checkpoints kept, so another
    /// instance resumes them at once. Returns how many.
    fn release<'a>(&'a self, owner: &'a str) -> StoreFuture<'a, usize>;
    /// Cancels a run: a queued one at once, a running one at its next action boundary.
    fn cancel<'a>(
        &'a self,
        workspace: &'a str,
        flow: &'a str,
        run_id: &'a str,
    ) -> StoreFuture<'a, Cancelled>;
    /// Deletes the runs that ended before `ended_before` (Unix seconds). Returns how many.
    fn prune(&self, ended_before: f64) -> StoreFuture<'_, usize>;
    /// Every schedule's state.
    fn schedules(&self) -> StoreFuture<'_, Vec<ScheduleRow>>;
    /// Records a schedule unless it is there with the same `spec` (a new or changed schedule
    /// starts at `row.next_fire`).
    fn put_schedule<'a>(&'a self, row: &'a ScheduleRow) -> StoreFuture<'a, ()>;
    /// Fires one tick: atomically moves the schedule from `fire.due` to `fire.next` and queues
    /// `fire.run`. `false` if another instance fired it first.
    fn fire<'a>(&'a self, fire: &'a Fire) -> StoreFuture<'a, bool>;
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
