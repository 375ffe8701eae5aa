//! [`Runs`]: one instance's side of the run queue. It queues triggered runs, claims queued
//! ones under a lease it renews, runs them with a checkpoint after every action, resumes runs
//! whose instance died, stops cancelled ones, and hands its runs back when it shuts down.

use super::{
    Claim, Claimed, Control, MAX_CONF_BYTES, RunRecord, RunStatus, RunStore, StoreError,
    TriggerError,
};
use crate::engine::{Boundary, Checkpoint, Durable};
use crate::{ErrorKind, Outcome, RunInput, Workspace};
use serde_json::{Map, Value, json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tracing::Instrument;

/// Finds the workspace a run names (`Fn(&str) -> Option<Workspace>` is one).
pub trait Workspaces: Send + Sync + 'static {
    /// The workspace served under `name`, if any.
    fn workspace(&self, name: &str) -> Option<Workspace>;

    /// The names of the workspaces served, so an instance claims only runs it can execute;
    /// `None` (the default) claims runs of any workspace.
    fn names(&self) -> Option<Vec<String>> {
        None
    }
}

impl<F> Workspaces for F
where
    F: Fn(&str) -> Option<Workspace> + Send + Sync + 'static,
{
    fn workspace(&self, name: &str) -> Option<Workspace> {
        self(name)
    }
}

/// How an instance works the queue.
#[derive(Clone, Debug)]
pub struct RunsOptions {
    /// This instance's name in the store (its leases carry it). Unique per process.
    pub owner: String,
    /// Runs this instance executes at once.
    pub max_running: usize,
    /// Queued runs (across every instance) past which a trigger is refused with
    /// [`TriggerError::Busy`].
    pub max_queued: usize,
    /// How long a claim lasts unless renewed; a dead instance's runs are resumed elsewhere
    /// after this. Renewed every third of it.
    pub lease: Duration,
    /// How often the queue is polled for runs triggered on other instances (a trigger on this
    /// instance wakes it at once).
    pub poll: Duration,
    /// Claims after which a run whose instances keep dying is failed instead of resumed.
    pub max_attempts: u32,
}

impl Default for RunsOptions {
    /// 32 running, 10,000 queued, a 30 s lease, polled every 250 ms, 10 attempts.
    fn default() -> RunsOptions {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "flowyt".into());
        let id = uuid::Uuid::new_v4().simple().to_string();
        RunsOptions {
            owner: format!("{host}-{}-{}", std::process::id(), &id[..8]),
            max_running: 32,
            max_queued: 10_000,
            lease: Duration::from_secs(30),
            poll: Duration::from_millis(250),
            max_attempts: 10,
        }
    }
}

/// One instance's side of the run queue; cheap to clone. Start it once per process with
/// [`Runs::start`]; several processes on one shared store share the work.
///
/// ```no_run
/// use flowyt_runtime::runs::{MemoryStore, Runs, RunsOptions};
/// use std::sync::Arc;
/// # async fn demo(ws: flowyt_runtime::Workspace) -> Result<(), Box<dyn std::error::Error>> {
/// let lookup = { let ws = ws.clone(); move |name: &str| (name == ws.name()).then(|| ws.clone()) };
/// let runs = Runs::start(Arc::new(MemoryStore::default()), lookup, RunsOptions::default());
/// let run_id = runs.trigger(&ws, "nightly", None, serde_json::json!({"day": "2026-12-01"})).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Runs {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn RunStore>,
    workspaces: Arc<dyn Workspaces>,
    options: RunsOptions,
    /// A run was queued here: claim now instead of at the next poll.
    wake: Notify,
    /// One permit per run this instance may execute; all back means none in flight.
    slots: Arc<Semaphore>,
    /// No more claims (shutting down).
    stopping: AtomicBool,
    /// Running runs stop at their next boundary without recording an end (handed back).
    halting: AtomicBool,
    tasks: Mutex<JoinSet<()>>,
}

impl Runs {
    /// Starts working the queue of `store`: a task claims runs (as slots free up, when a
    /// trigger here wakes it, and every `poll`), another renews this instance's leases.
    /// Must be called inside a tokio runtime.
    pub fn start(
        store: Arc<dyn RunStore>,
        workspaces: impl Workspaces,
        options: RunsOptions,
    ) -> Runs {
        let inner = Arc::new(Inner {
            store,
            workspaces: Arc::new(workspaces),
            slots: Arc::new(Semaphore::new(options.max_running.max(1))),
            options,
            wake: Notify::new(),
            stopping: AtomicBool::new(false),
            halting: AtomicBool::new(false),
            tasks: Mutex::new(JoinSet::new()),
        });
        tokio::spawn(claim_loop(inner.clone()));
        tokio::spawn(renew_loop(inner.clone()));
        Runs { inner }
    }

    /// The store the runs live in.
    pub fn store(&self) -> &Arc<dyn RunStore> {
        &self.inner.store
    }

    /// This instance's name in the store.
    pub fn owner(&self) -> &str {
        &self.inner.options.owner
    }

    /// The workspace served as `name`.
    pub fn workspace(&self, name: &str) -> Option<Workspace> {
        self.inner.workspaces.workspace(name)
    }

    /// The names of the workspaces it serves, when its [`Workspaces`] names them.
    pub fn workspace_names(&self) -> Option<Vec<String>> {
        self.inner.workspaces.names()
    }

    /// Queues a run of `flow` in `ws` with `conf` (an object: the params, also the `input`
    /// root). Returns the run id (`run_id` or a new UUID). Any instance on the store may run
    /// it; this one is woken to claim it at once.
    pub async fn trigger(
        &self,
        ws: &Workspace,
        flow: &str,
        run_id: Option<String>,
        conf: Value,
    ) -> Result<String, TriggerError> {
        self.trigger_in_trace(ws, flow, run_id, conf, None).await
    }

    /// [`Runs::trigger`] with the flow's params as their Rust struct (see
    /// [`FlowParams`](crate::FlowParams)): misspelt or mistyped params do not compile.
    pub async fn trigger_params<P: crate::FlowParams>(
        &self,
        ws: &Workspace,
        flow: &str,
        params: &P,
    ) -> Result<String, TriggerError> {
        let conf = params.to_conf().map_err(TriggerError::BadConf)?;
        self.trigger(ws, flow, None, Value::Object(conf)).await
    }

    /// [`Runs::trigger`] from inside a distributed trace (the caller's `traceparent`): the
    /// run's spans continue it, and the run shows its trace id.
    pub async fn trigger_in_trace(
        &self,
        ws: &Workspace,
        flow: &str,
        run_id: Option<String>,
        conf: Value,
        trace: Option<crate::telemetry::TraceContext>,
    ) -> Result<String, TriggerError> {
        let options = Trigger {
            run_id,
            trace,
            ..Trigger::default()
        };
        self.trigger_with(ws, flow, conf, options).await
    }

    /// [`Runs::trigger`] with every option of a trigger (run id, trace, logical date).
    pub async fn trigger_with(
        &self,
        ws: &Workspace,
        flow: &str,
        conf: Value,
        options: Trigger,
    ) -> Result<String, TriggerError> {
        let trace = options.trace;
        let (mut record, input) = prepare(ws, flow, options.run_id, conf)?;
        record.logical_date = options.logical_date;
        let span = crate::telemetry::trigger_span(ws.name(), flow, &record.run_id, trace.as_ref());
        record.traceparent =
            crate::telemetry::context_of(&span, trace.as_ref()).map(|t| t.traceparent());
        let queued = self
            .inner
            .store
            .queued()
            .await
            .map_err(TriggerError::Store)?;
        if queued >= self.inner.options.max_queued {
            return Err(TriggerError::Busy(self.inner.options.max_queued));
        }
        let inserted = self
            .inner
            .store
            .insert(&record, &input)
            .await
            .map_err(TriggerError::Store)?;
        if !inserted {
            return Err(TriggerError::Duplicate(record.run_id));
        }
        crate::measure::run_triggered(ws.name(), flow);
        self.inner.wake.notify_one();
        Ok(record.run_id)
    }

    /// Wakes the claiming task (a run was queued here by other means, e.g. a schedule).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Sets the run gauges (`flowyt_runs_queued` from the store, `flowyt_runs_running`
    /// here); call it before a metrics scrape.
    pub async fn record_gauges(&self) {
        if !crate::measure::enabled() {
            return;
        }
        match self.inner.store.queued().await {
            Ok(n) => metrics::gauge!(crate::measure::RUNS_QUEUED).set(n as f64),
            Err(e) => tracing::warn!(error = %e, "cannot count queued runs for the metrics"),
        }
        metrics::gauge!(crate::measure::RUNS_RUNNING).set(self.running() as f64);
    }

    /// Runs executing on this instance now.
    pub fn running(&self) -> usize {
        self.inner.options.max_running.max(1) - self.inner.slots.available_permits()
    }

    /// Stops claiming, lets the runs in flight finish for up to `grace`, then stops the rest
    /// and gives them back to the queue (checkpoints kept) so another instance resumes them
    /// at once. Returns how many were given back.
    pub async fn shutdown(&self, grace: Duration) -> Result<usize, StoreError> {
        let inner = &self.inner;
        inner.stopping.store(true, Ordering::SeqCst);
        inner.wake.notify_one();
        let all = u32::try_from(inner.options.max_running.max(1)).unwrap_or(u32::MAX);
        let drained = tokio::time::timeout(grace, inner.slots.acquire_many(all)).await;
        if let Ok(Ok(permits)) = drained {
            drop(permits);
            return Ok(0);
        }
        inner.halting.store(true, Ordering::SeqCst);
        let mut tasks =
            std::mem::take(&mut *inner.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
        inner.store.release(&inner.options.owner).await
    }
}

/// Checks a trigger and builds the queued record (conf masked) and the whole conf.
fn prepare(
    ws: &Workspace,
    flow: &str,
    run_id: Option<String>,
    conf: Value,
) -> Result<(RunRecord, Value), TriggerError> {
    if !ws.flow_keys().any(|k| k == flow) {
        return Err(TriggerError::UnknownFlow(flow.to_string()));
    }
    let size = crate::body::json_len(&conf);
    if size > MAX_CONF_BYTES {
        return Err(TriggerError::BadConf(format!(
            "`conf` is {size} bytes of JSON; the limit is {MAX_CONF_BYTES}"
        )));
    }
    let conf_map: Map<String, Value> = match conf {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        _ => return Err(TriggerError::BadConf("`conf` must be a JSON object".into())),
    };
    ws.resolve_params(flow, &conf_map, false)
        .map_err(|e| TriggerError::BadParams {
            param: e.param,
            message: e.message,
        })?;
    let run_id = run_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let input = Value::Object(conf_map);
    // The record shows the conf with its secrets masked; the run gets it whole.
    let record = RunRecord::queued(ws.name(), flow, &run_id, ws.mask(input.clone()));
    Ok((record, input))
}

/// How a run is triggered, beyond its flow and conf ([`Runs::trigger_with`]).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Trigger {
    /// The run's id (unique per flow); a new UUID when `None`.
    pub run_id: Option<String>,
    /// The caller's trace, which the run's spans continue.
    pub trace: Option<crate::telemetry::TraceContext>,
    /// The date and time the run is for, Unix seconds (Airflow's `logical_date`).
    pub logical_date: Option<f64>,
}

impl Trigger {
    /// No options: a new id, no trace, no logical date.
    pub fn new() -> Trigger {
        Trigger::default()
    }

    /// The run's id.
    pub fn run_id(mut self, run_id: impl Into<String>) -> Trigger {
        self.run_id = Some(run_id.into());
        self
    }

    /// The caller's trace.
    pub fn trace(mut self, trace: crate::telemetry::TraceContext) -> Trigger {
        self.trace = Some(trace);
        self
    }

    /// The logical date, Unix seconds.
    pub fn logical_date(mut self, secs: f64) -> Trigger {
        self.logical_date = Some(secs);
        self
    }
}

/// Claims runs while there are free slots, then waits for a wake-up or the next poll.
async fn claim_loop(inner: Arc<Inner>) {
    let mut last_sweep = Instant::now() - Duration::from_secs(60);
    loop {
        if inner.stopping.load(Ordering::SeqCst) {
            return;
        }
        reap(&inner);
        let free = inner.slots.available_permits();
        let mut full_batch = false;
        if free > 0 {
            if last_sweep.elapsed() >= Duration::from_secs(1) {
                last_sweep = Instant::now();
                match inner.store.sweep(inner.options.max_attempts).await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(runs = n, "runs ended after their instances stopped"),
                    Err(e) => tracing::warn!(error = %e, "cannot sweep expired runs"),
                }
            }
            let claim = Claim {
                owner: inner.options.owner.clone(),
                workspaces: inner.workspaces.names(),
                limit: free,
                lease: inner.options.lease.as_secs_f64(),
                max_attempts: inner.options.max_attempts,
            };
            match inner.store.claim(&claim).await {
                Ok(claimed) => {
                    full_batch = claimed.len() == free;
                    for run in claimed {
                        start_run(&inner, run);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot claim runs"),
            }
        }
        if full_batch {
            // Maybe more are queued: wait for a slot rather than for the poll.
            tokio::select! {
                permit = inner.slots.clone().acquire_owned() => drop(permit),
                () = tokio::time::sleep(inner.options.poll) => {}
            }
            continue;
        }
        tokio::select! {
            () = inner.wake.notified() => {}
            () = tokio::time::sleep(inner.options.poll) => {}
        }
    }
}

/// Forgets the tasks that ended.
fn reap(inner: &Inner) {
    let mut tasks = inner.tasks.lock().unwrap_or_else(PoisonError::into_inner);
    while tasks.try_join_next().is_some() {}
}

fn start_run(inner: &Arc<Inner>, run: Claimed) {
    let Ok(permit) = inner.slots.clone().try_acquire_owned() else {
        // Cannot happen (claims never exceed the free slots); the lease will expire and
        // another claim will take the run.
        tracing::error!(run_id = %run.record.run_id, "claimed a run without a free slot");
        return;
    };
    let task = execute(inner.clone(), run, permit);
    inner
        .tasks
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .spawn(task);
}

/// Renews this instance's leases every third of the lease.
async fn renew_loop(inner: Arc<Inner>) {
    let every = inner.options.lease / 3;
    loop {
        tokio::time::sleep(every).await;
        if inner.halting.load(Ordering::SeqCst) {
            return;
        }
        if let Err(e) = inner
            .store
            .renew(&inner.options.owner, inner.options.lease.as_secs_f64())
            .await
        {
            tracing::warn!(error = %e, "cannot renew the leases of this instance's runs");
        }
    }
}

/// Tells the store of each boundary of one run, and remembers why the run must stop.
struct StoreBoundary<'a> {
    inner: &'a Inner,
    record: &'a RunRecord,
    stop: Mutex<Option<Control>>,
}

impl Boundary for StoreBoundary<'_> {
    fn reached<'a>(
        &'a self,
        checkpoint: Checkpoint,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            if self.inner.halting.load(Ordering::SeqCst) {
                self.stop_with(Control::Lost);
                return Err("the instance is shutting down; the run is handed back".into());
            }
            let saved = self
                .inner
                .store
                .checkpoint(
                    self.record,
                    &self.inner.options.owner,
                    &checkpoint,
                    self.inner.options.lease.as_secs_f64(),
                )
                .await;
            match saved {
                Ok(Control::Continue) => Ok(()),
                Ok(Control::Cancel) => {
                    self.stop_with(Control::Cancel);
                    Err("the run was cancelled".into())
                }
                Ok(Control::Lost) => {
                    self.stop_with(Control::Lost);
                    Err("this instance lost the run's lease; another instance runs it".into())
                }
                Err(e) => {
                    // The run goes on: if this instance dies now, the run resumes from an
                    // earlier checkpoint (at-least-once per action either way).
                    tracing::warn!(run_id = %self.record.run_id, error = %e, "cannot checkpoint a run");
                    Ok(())
                }
            }
        })
    }
}

impl StoreBoundary<'_> {
    fn stop_with(&self, control: Control) {
        *self.stop.lock().unwrap_or_else(PoisonError::into_inner) = Some(control);
    }
}

/// Runs one claimed run to its end and records it, unless the run was lost or handed back.
async fn execute(inner: Arc<Inner>, claimed: Claimed, _slot: tokio::sync::OwnedSemaphorePermit) {
    let Claimed {
        mut record,
        input,
        checkpoint,
    } = claimed;
    let resumed = checkpoint.is_some();
    if record.attempts == 1
        && let Some(started) = record.started_at
    {
        crate::measure::queue_latency(&record.workspace, started - record.queued_at);
    }
    let span = crate::telemetry::run_span(
        &record.workspace,
        &record.flow,
        &record.run_id,
        record.trace_context().as_ref(),
    );
    match inner.workspaces.workspace(&record.workspace) {
        None => {
            let why = format!(
                "workspace `{}` is not served by the instance that claimed the run",
                record.workspace
            );
            record.fail(RunStatus::Failed, ErrorKind::UnknownFlow.as_str(), why);
        }
        Some(ws) => {
            let stop = run_claimed(&inner, &ws, &mut record, input, checkpoint)
                .instrument(span.clone())
                .await;
            match stop {
                Some(Control::Lost) => {
                    tracing::info!(run_id = %record.run_id, "run handed over to another instance");
                    return;
                }
                Some(Control::Cancel) => {
                    record.fail(
                        RunStatus::Cancelled,
                        "cancelled",
                        "cancelled while running".into(),
                    );
                }
                _ => {}
            }
        }
    }
    if record.status != RunStatus::Success {
        span.record("otel.status_code", "ERROR");
    }
    drop(span);
    match inner.store.finish(&record, &inner.options.owner).await {
        Ok(true) => {
            crate::measure::run_ended(&record.workspace, &record.flow, record.status.as_str());
            let trace_id = record.trace_context().map(|t| t.trace_id());
            tracing::info!(workspace = %record.workspace, flow = %record.flow, run_id = %record.run_id,
                status = record.status.as_str(), attempt = record.attempts, resumed,
                trace_id = trace_id.as_deref(), "run ended");
        }
        Ok(false) => tracing::warn!(run_id = %record.run_id,
            "the run ended here but another instance holds it now; its end is theirs to record"),
        Err(e) => tracing::error!(run_id = %record.run_id, error = %e, "cannot record a run's end"),
    }
}

/// Runs the flow of a claimed run; fills the record's outcome. Returns why it was stopped
/// early, if it was.
async fn run_claimed(
    inner: &Inner,
    ws: &Workspace,
    record: &mut RunRecord,
    input: Value,
    checkpoint: Option<Value>,
) -> Option<Control> {
    if !ws.flow_keys().any(|k| k == record.flow) {
        let why = format!("flow `{}` no longer exists", record.flow);
        record.fail(RunStatus::Failed, ErrorKind::UnknownFlow.as_str(), why);
        return None;
    }
    let conf_map = match input {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let params = match ws.resolve_params(&record.flow, &conf_map, false) {
        Ok(p) => p,
        Err(e) => {
            record.fail(
                RunStatus::Failed,
                ErrorKind::InvalidParams.as_str(),
                e.message,
            );
            return None;
        }
    };
    let run_input = RunInput {
        request: json!({"method": "POST", "path": "", "headers": {}, "params": {}, "qs": {}, "form": {}, "data": conf_map, "debug": "true"}),
        input: Value::Object(conf_map),
        debug: true,
        request_id: Some(record.run_id.clone()),
        params,
        time_limit: None,
        trace: record.trace_context(),
        extensions: Default::default(),
    };
    let boundary = StoreBoundary {
        inner,
        record,
        stop: Mutex::new(None),
    };
    let durable = Durable {
        resume: checkpoint,
        boundary: &boundary,
    };
    let result = ws.run_durable(&record.flow, run_input, durable).await;
    let stop = boundary
        .stop
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
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
                let why = format!("the flow answered {status}");
                record.fail(RunStatus::Failed, "response", why);
            }
        }
        Outcome::Ended => {
            record.status = RunStatus::Success;
            record.result = Some(json!({"status": 200, "headers": {}, "data": {}}));
        }
        Outcome::Invalid(errors) => {
            record.result = Some(json!({"status": 400, "headers": {}, "data": errors}));
            record.fail(RunStatus::Failed, "validation", "validation failed".into());
        }
        Outcome::Failed(e) => {
            record.fail(RunStatus::Failed, e.kind.as_str(), e.to_string());
        }
    }
    stop
}
