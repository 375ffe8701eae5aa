//! The engine: runs a validated flow for one request.
//!
//! A run walks the pipeline from its entry action, evaluating each action's pre-parsed
//! templates against the context ([`crate::context`]), executing it ([`crate::actions`]) and
//! following its edge. Every run is guarded: a step budget and a wall-clock limit (spec
//! decision 11), plus the legacy per-flow `safe_mode` when a workspace enables it.

use crate::body::Body;
pub(crate) use crate::compiled::CompiledFlow;
use crate::context::{Ctx, RequestRoot};
use crate::custom::CustomActions;
use crate::debug::{ActionTrace, FlowTrace};
use crate::error::{ErrorKind, FailedAction, RunError};
use crate::functions::Functions;
pub use crate::run_io::{Outcome, RunInput, RunResult};
use flowyt_core::model::Action;
use flowyt_core::workspace::Settings;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// Everything shared by the runs of one workspace.
pub(crate) struct Shared {
    pub name: String,
    /// `name`, shared (a metric label on every request and action).
    pub label: Arc<str>,
    pub settings: Settings,
    pub flows: HashMap<String, Arc<CompiledFlow>>,
    pub env: Arc<Value>,
    pub info: Arc<Value>,
    #[cfg(feature = "http-client")]
    pub client: reqwest::Client,
    pub functions: Arc<Functions>,
    pub actions: CustomActions,
    #[cfg(feature = "http-client")]
    pub discovery: crate::discovery::Discovery,
    /// Hides secret-named fields in traces, failed actions and run records.
    pub mask: crate::mask::Mask,
    /// Whether a flow runs a custom action: only then does a run keep its HTTP request's
    /// extensions (they are for custom actions; a served request always has some, and keeping
    /// them would cost every run of every other workspace an allocation).
    pub custom_actions: bool,
    /// The OpenAPI document of the routes as `flowyt serve` mounts them, built on first use.
    pub served_openapi: std::sync::OnceLock<Value>,
    /// The `redis` action's connections.
    pub redis: crate::actions::redis::Connections,
}

/// Where a durable run stands between two actions; told to a [`Boundary`] to checkpoint it.
/// As JSON: `{"flow", "next", "vars": {"flow", "workspace"}, "response", "steps"}`.
pub(crate) type Checkpoint = Value;

/// What a durable run (a triggered one) does between two actions: save a checkpoint, and
/// learn whether to go on (`Err` says why to stop).
pub(crate) trait Boundary: Send + Sync {
    fn reached<'a>(
        &'a self,
        checkpoint: Checkpoint,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>>;
}

/// A durable run: where it resumes (a checkpoint of an earlier attempt) and who hears of
/// each boundary.
pub(crate) struct Durable<'a> {
    pub resume: Option<Checkpoint>,
    pub boundary: &'a dyn Boundary,
}

pub(crate) struct Runner<'a> {
    pub shared: &'a Shared,
    /// Told of every action boundary of the top-level flows (durable runs only).
    boundary: Option<&'a dyn Boundary>,
    steps: u64,
    pub request_id: String,
    /// The caller's trace context, passed upstream when no span of ours is exported.
    pub propagate: Option<crate::telemetry::TraceContext>,
    /// The parent of the spans this run opens next: the request's or the triggered run's
    /// span, then the running action's. Spans are parented explicitly rather than entered
    /// on every poll.
    pub span: tracing::Span,
    trace: Option<Vec<FlowTrace>>,
    /// When this run last gave its worker thread back to the runtime.
    yielded: Instant,
    /// Trace entries recorded so far.
    recorded: usize,
    /// The run's time limit.
    limit: std::time::Duration,
    /// The ids of the top-level actions completed so far (durable runs only: checkpointed, so
    /// a person can follow a run while it runs).
    path: Vec<String>,
    /// The HTTP request's extensions, for custom actions (`None` when there are none).
    pub extensions: Option<Arc<http::Extensions>>,
}

/// Most actions one run's trace records.
const MAX_TRACE_ACTIONS: usize = 1000;
/// Largest data (bytes of JSON) one trace entry keeps.
const MAX_TRACE_DATA: usize = 64 * 1024;

/// The longest a run computes between two yields to the runtime, so CPU-bound runs share
/// the worker threads with everything else.
const YIELD_EVERY: std::time::Duration = std::time::Duration::from_millis(5);

/// The end of one flow: answered, ended, or failed. A `jump` is followed inside `run_flow`.
pub(crate) enum FlowEnd {
    Response {
        status: u16,
        headers: Vec<(String, String)>,
        body: Body,
    },
    Ended,
    Invalid(Value),
}

impl Shared {
    /// Checks the params a run of `flow_key` is given against the flow's declaration (defaults
    /// applied). A flow that declares none takes none.
    pub(crate) fn resolve_params(
        &self,
        flow_key: &str,
        given: &Map<String, Value>,
        from_text: bool,
    ) -> Result<Map<String, Value>, flowyt_core::params::ParamError> {
        match self
            .flows
            .get(flow_key)
            .and_then(|f| f.flow.params.as_deref())
        {
            Some(declared) => flowyt_core::params::resolve(declared, given, from_text),
            None => Ok(Map::new()),
        }
    }

    /// Whether `flow_key` declares params.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn has_params(&self, flow_key: &str) -> bool {
        self.flows
            .get(flow_key)
            .is_some_and(|f| f.flow.params.is_some())
    }

    /// Masks the secrets in the data of the action an error names.
    pub(crate) fn mask_error(&self, e: &mut RunError) {
        if let Some(action) = &mut e.action {
            self.mask.apply(&mut action.data);
        }
    }

    fn time_limit_message(limit: std::time::Duration) -> String {
        format!(
            "the run took longer than the limit of {} seconds and was stopped",
            limit.as_secs_f64()
        )
    }

    pub(crate) async fn run(&self, flow_key: &str, input: RunInput) -> RunResult {
        self.run_with(flow_key, input, None).await
    }

    /// A run for an HTTP request, whose `request` root is built lazily from its parts
    /// (`input.request` is not read).
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) async fn run_http(
        &self,
        flow_key: &str,
        request: Arc<crate::context::HttpRequest>,
        input: RunInput,
    ) -> RunResult {
        self.run_inner(flow_key, input, RequestRoot::Http(request), None)
            .await
    }

    /// A run, durable when `durable` is given: it starts where the checkpoint says and tells
    /// the boundary of each completed action.
    pub(crate) async fn run_with(
        &self,
        flow_key: &str,
        mut input: RunInput,
        durable: Option<Durable<'_>>,
    ) -> RunResult {
        let request = RequestRoot::Value(Arc::new(std::mem::take(&mut input.request)));
        self.run_inner(flow_key, input, request, durable).await
    }

    async fn run_inner(
        &self,
        flow_key: &str,
        input: RunInput,
        request: RequestRoot,
        durable: Option<Durable<'_>>,
    ) -> RunResult {
        let started = Instant::now();
        let request_id = input
            .request_id
            .clone()
            .unwrap_or_else(crate::request_id::generate);
        let (resume, boundary) = match durable {
            Some(d) => (d.resume, Some(d.boundary)),
            None => (None, None),
        };
        let mut runner = Runner {
            shared: self,
            boundary,
            steps: 0,
            request_id,
            propagate: input.trace.clone(),
            span: tracing::Span::current(),
            trace: input.debug.then(Vec::new),
            yielded: started,
            recorded: 0,
            limit: std::time::Duration::MAX,
            path: Vec::new(),
            extensions: (self.custom_actions && !input.extensions.is_empty())
                .then(|| Arc::new(input.extensions)),
        };
        let mut ctx = Ctx::new(
            self.env.clone(),
            self.info.clone(),
            request,
            crate::context::shared_value(input.input),
            self.functions.clone(),
        );
        ctx.params = crate::context::shared_value(Value::Object(input.params));
        // Owned only when a checkpoint says where to resume.
        let mut entry: (std::borrow::Cow<str>, Option<String>) = (flow_key.into(), None);
        if let Some(cp) = resume {
            match self.restore(&mut ctx, &mut runner, cp) {
                Ok((key, at)) => entry = (key.into(), at),
                Err(e) => {
                    return RunResult {
                        outcome: Outcome::Failed(e),
                        trace: None,
                    };
                }
            }
        }
        // A limit too large to represent is no limit (`max_seconds` is positive when loaded);
        // a route's own `timeout` may shorten it.
        let limit = std::time::Duration::try_from_secs_f64(self.settings.limits.max_seconds)
            .unwrap_or(std::time::Duration::MAX)
            .min(input.time_limit.unwrap_or(std::time::Duration::MAX));
        ctx.limits.deadline = started.checked_add(limit);
        runner.limit = limit;
        let span = tracing::info_span!(
            "flow_run",
            workspace = %self.name,
            flow = flow_key,
            request_id = %runner.request_id,
            trace_id = tracing::field::Empty,
            span_id = tracing::field::Empty,
        );
        // Log lines carry the trace they belong to: the exported span this run is inside
        // (a request's or a triggered run's), with its span id; else the caller's trace.
        if !span.is_disabled() {
            match crate::telemetry::context_of(&runner.span, None) {
                Some(ours) => {
                    span.record("trace_id", ours.trace_id());
                    span.record("span_id", ours.span_id());
                }
                None => {
                    if let Some(caller) = &input.trace {
                        span.record("trace_id", caller.trace_id());
                    }
                }
            }
        }
        // Boxed before it is wrapped: the flow's future is kilobytes, and every wrapper
        // (span, time limit) and every caller's future would otherwise move it by value.
        let flow = Box::pin(runner.run_flow(&mut ctx, &entry.0, entry.1.as_deref()));
        let result = tokio::time::timeout(limit, flow.instrument(span.clone())).await;
        let outcome = match result {
            Ok(Ok(FlowEnd::Response {
                status,
                headers,
                body,
            })) => Outcome::Response {
                status,
                headers,
                body,
            },
            Ok(Ok(FlowEnd::Ended)) => Outcome::Ended,
            Ok(Ok(FlowEnd::Invalid(errors))) => Outcome::Invalid(errors),
            Ok(Err(mut e)) => {
                self.mask_error(&mut e);
                Outcome::Failed(e)
            }
            Err(_) => Outcome::Failed(RunError::new(
                ErrorKind::Timeout,
                Shared::time_limit_message(limit),
            )),
        };
        if let Outcome::Failed(e) = &outcome {
            span.in_scope(|| {
                tracing::warn!(workspace = %self.name, flow = flow_key, error = %e, "flow run failed");
            });
        }
        let trace = runner.trace.map(|flows| {
            json!({
                "id": self.settings.id,
                "name": self.settings.name,
                "flows": flows.into_iter().map(FlowTrace::into_json).collect::<Vec<_>>(),
                "elapsed_time": started.elapsed().as_secs_f64(),
            })
        });
        RunResult { outcome, trace }
    }
}

impl Shared {
    /// Puts a checkpoint's state into `ctx` and `runner`; returns the flow and the action to
    /// resume at.
    fn restore(
        &self,
        ctx: &mut Ctx,
        runner: &mut Runner<'_>,
        cp: Checkpoint,
    ) -> Result<(String, Option<String>), RunError> {
        let Value::Object(mut cp) = cp else {
            return Err(RunError::new(
                ErrorKind::Interrupted,
                "the run's checkpoint is not an object",
            ));
        };
        let flow = match cp.remove("flow") {
            Some(Value::String(f)) if self.flows.contains_key(&f) => f,
            other => {
                return Err(RunError::new(
                    ErrorKind::Interrupted,
                    format!(
                        "the run's checkpoint names flow {} which this workspace does not have",
                        other.unwrap_or(Value::Null)
                    ),
                ));
            }
        };
        let next = match cp.remove("next") {
            Some(Value::String(id)) => {
                let known = self
                    .flows
                    .get(&flow)
                    .is_some_and(|f| f.index.contains_key(&id));
                if !known {
                    return Err(RunError::new(
                        ErrorKind::Interrupted,
                        format!(
                            "the run's checkpoint resumes at action `{id}` which flow `{flow}` no longer has"
                        ),
                    ));
                }
                Some(id)
            }
            _ => None,
        };
        if let Some(Value::Object(mut vars)) = cp.remove("vars") {
            ctx.flow = vars.remove("flow").unwrap_or_else(|| json!({}));
            ctx.workspace = vars.remove("workspace").unwrap_or_else(|| json!({}));
        }
        ctx.response = cp.remove("response").unwrap_or_else(|| json!({})).into();
        runner.steps = cp.get("steps").and_then(Value::as_u64).unwrap_or(0);
        runner.path = crate::runs::RunRecord::progress_of(Some(&Value::Object(cp)));
        Ok((flow, next))
    }
}

impl Runner<'_> {
    /// Runs `flow_key` (from action `start`, else its entry) and the flows it jumps to, until
    /// a response, an end or an error.
    pub(crate) async fn run_flow(
        &mut self,
        ctx: &mut Ctx,
        flow_key: &str,
        start: Option<&str>,
    ) -> Result<FlowEnd, RunError> {
        // Owned only after a jump: the entry flow's key is borrowed.
        let mut key = std::borrow::Cow::Borrowed(flow_key);
        let mut start = start.map(str::to_string);
        loop {
            let flow = self
                .shared
                .flows
                .get(key.as_ref())
                .cloned()
                .ok_or_else(|| {
                    RunError::new(ErrorKind::UnknownFlow, format!("unknown flow `{key}`"))
                })?;
            if let Some(t) = &mut self.trace {
                t.push(FlowTrace::new(&flow.flow));
            }
            let walked = crate::drive::Stepper::new(self, ctx, &flow, &key, start.take())
                .walk()
                .await?;
            match walked {
                crate::drive::Walk::Jump(next) => {
                    ctx.response = Value::Object(Map::new()).into();
                    self.boundary(ctx, &next, None).await?;
                    key = std::borrow::Cow::Owned(next);
                }
                crate::drive::Walk::End(end) => return Ok(end),
            }
        }
    }

    /// Between two actions of a durable run: checkpoints where it stands (`next` is the action
    /// to run, `None` for the flow's entry) and stops it if the boundary says so.
    pub(crate) async fn boundary(
        &mut self,
        ctx: &Ctx,
        flow: &str,
        next: Option<&str>,
    ) -> Result<(), RunError> {
        let Some(boundary) = self.boundary else {
            return Ok(());
        };
        let checkpoint = json!({
            "flow": flow,
            "next": next,
            "vars": {"flow": ctx.flow, "workspace": ctx.workspace},
            "response": ctx.response.get(),
            "steps": self.steps,
            "path": self.path,
        });
        boundary
            .reached(checkpoint)
            .await
            .map_err(|m| RunError::new(ErrorKind::Interrupted, m))
    }

    /// Between two actions: stops a run past its deadline, and lets other tasks run when this
    /// one has computed for a while without waiting on anything (the run's future would
    /// otherwise hold its worker thread, and `max_seconds` could not interrupt it).
    pub(crate) async fn pace(&mut self, ctx: &Ctx, action: &Action) -> Result<(), RunError> {
        let now = Instant::now();
        if ctx.limits.deadline.is_some_and(|d| now >= d) {
            return Err(fail(
                action,
                ErrorKind::Timeout,
                Shared::time_limit_message(self.limit),
            ));
        }
        if now.duration_since(self.yielded) >= YIELD_EVERY {
            tokio::task::yield_now().await;
            self.yielded = Instant::now();
        }
        Ok(())
    }

    pub(crate) fn record(&mut self, action: &Action, data: Value, started: Instant) {
        if self.trace.is_none() {
            return;
        }
        // A trace is bounded: so many entries per run, so many bytes per entry (a loop of
        // thousands of steps, or one huge body, would otherwise fill memory and the store).
        self.recorded += 1;
        let data = if self.recorded > MAX_TRACE_ACTIONS {
            if self.recorded > MAX_TRACE_ACTIONS + 1 {
                return;
            }
            json!({"truncated": format!("the trace keeps the first {MAX_TRACE_ACTIONS} actions of a run")})
        } else {
            self.bounded(data)
        };
        if let Some(flow) = self.trace.as_mut().and_then(|flows| flows.last_mut()) {
            flow.actions.push(ActionTrace {
                id: action.id.clone(),
                kind: action.kind_name.clone(),
                data,
                time_spent: started.elapsed().as_secs_f64(),
                output: None,
            });
        }
    }

    /// A value as a trace keeps it: masked, or a note when it is too large.
    fn bounded(&self, value: Value) -> Value {
        let size = crate::body::json_len(&value);
        if size > MAX_TRACE_DATA {
            json!({"truncated": format!("{size} bytes of data, more than a trace keeps ({MAX_TRACE_DATA})")})
        } else {
            self.shared.mask.masked(value)
        }
    }

    /// Records what the last traced action produced (triggered runs only; a raw upstream
    /// body is parsed only then).
    pub(crate) fn record_output(&mut self, output: &crate::context::ResponseSlot) {
        if self.boundary.is_none() || self.trace.is_none() || self.recorded > MAX_TRACE_ACTIONS {
            return;
        }
        let output = self.bounded(output.get().clone());
        if let Some(last) = self
            .trace
            .as_mut()
            .and_then(|flows| flows.last_mut())
            .and_then(|flow| flow.actions.last_mut())
        {
            last.output = Some(output);
        }
    }

    /// Counts `action` against the run's step budget.
    pub(crate) fn count_step(&mut self, action: &Action) -> Result<(), RunError> {
        self.steps += 1;
        let max_steps = self.shared.settings.limits.max_steps;
        if self.steps > max_steps {
            return Err(fail(
                action,
                ErrorKind::StepLimit,
                format!(
                    "the run executed more than {max_steps} actions and was stopped (is there a cycle of `next_action`s?)"
                ),
            ));
        }
        Ok(())
    }

    /// Notes a completed top-level action in a durable run's progress.
    pub(crate) fn walked(&mut self, action: &Action) {
        if self.boundary.is_some() && self.path.len() < MAX_TRACE_ACTIONS {
            self.path.push(action.id.clone());
        }
    }

    pub(crate) fn tracing(&self) -> bool {
        self.trace.is_some()
    }

    /// A runner for a branch that runs beside others (`parallel`): same run, own counters.
    pub(crate) fn child(&self) -> Runner<'_> {
        Runner {
            shared: self.shared,
            boundary: None,
            steps: 0,
            request_id: self.request_id.clone(),
            propagate: self.propagate.clone(),
            span: self.span.clone(),
            trace: self.trace.as_ref().map(|_| Vec::new()),
            yielded: self.yielded,
            recorded: self.recorded,
            limit: self.limit,
            path: Vec::new(),
            extensions: self.extensions.clone(),
        }
    }

    /// Counts a finished child's steps against this run's budget.
    pub(crate) fn absorb_steps(&mut self, steps: u64) -> Result<(), String> {
        self.steps += steps;
        if self.steps > self.shared.settings.limits.max_steps {
            return Err(format!(
                "the run executed more than {} actions and was stopped",
                self.shared.settings.limits.max_steps
            ));
        }
        Ok(())
    }

    /// Steps taken so far.
    pub(crate) fn steps(&self) -> u64 {
        self.steps
    }

    /// Runs a sub-flow (`handle`, `loop`) on a copy of the context. Returns the sub-flow's
    /// result as the legacy engine exposed it (`{"data", "status", "headers"}`, `{}` or
    /// `{"exception": ...}`) and the sub-flow's workspace variables.
    pub(crate) async fn sub_flow(
        &mut self,
        ctx: &Ctx,
        key: &str,
        loop_item: Option<Value>,
    ) -> (Value, Value, Option<Value>) {
        let mut sub = ctx.clone();
        sub.response = Value::Object(Map::new()).into();
        if let Some(item) = loop_item {
            sub.loop_item = item;
        }
        let outer = self.trace.take();
        if outer.is_some() {
            self.trace = Some(Vec::new());
        }
        // A sub-flow runs inside one action: its steps are not boundaries of the run.
        let boundary = self.boundary.take();
        let result = Box::pin(self.run_flow(&mut sub, key, None)).await;
        self.boundary = boundary;
        let sub_trace = std::mem::replace(&mut self.trace, outer)
            .map(|flows| Value::Array(flows.into_iter().map(FlowTrace::into_json).collect()));
        let value = match result {
            Ok(FlowEnd::Response {
                status,
                headers,
                body,
            }) => json!({
                "data": body.to_value(),
                "status": status,
                "headers": headers
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect::<Map<_, _>>(),
            }),
            Ok(FlowEnd::Ended) => Value::Object(Map::new()),
            Ok(FlowEnd::Invalid(errors)) => json!({"data": errors, "status": 400}),
            Err(mut e) => {
                self.shared.mask_error(&mut e);
                json!({"exception": e.to_json()})
            }
        };
        (value, sub.workspace, sub_trace)
    }
}

pub(crate) fn failed_action(action: &Action) -> Box<FailedAction> {
    Box::new(FailedAction {
        id: action.id.clone(),
        kind: action.kind_name.clone(),
        data: action.raw_data.clone(),
    })
}

/// An error of `kind` in `action`.
pub(crate) fn fail(action: &Action, kind: ErrorKind, message: impl Into<String>) -> RunError {
    RunError::new(kind, message).in_action(failed_action(action))
}
