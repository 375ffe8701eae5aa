//! What a run is given ([`RunInput`]) and what it gives back ([`RunResult`], [`Outcome`]).

use crate::body::Body;
use crate::error::RunError;
use serde_json::Value;

/// What one run is asked to do. Build it with `..Default::default()`: the axum integration
/// fills it from the HTTP request; in-process runs set what their flow reads.
///
/// ```
/// use flowyt_runtime::RunInput;
/// use serde_json::json;
///
/// let input = RunInput {
///     request: json!({"qs": {"user": "octocat"}}),
///     input: json!({"n": 21}),
///     debug: true,
///     ..RunInput::default()
/// };
/// # let _ = input;
/// ```
#[derive(Clone, Debug, Default)]
pub struct RunInput {
    /// The `request` root (built from the HTTP request by the axum integration).
    pub request: Value,
    /// The `input` root (the CLI's `--input`; `null` over HTTP).
    pub input: Value,
    /// Collect the `__debug__` trace.
    pub debug: bool,
    /// Sent upstream as `X-Request-ID`; generated when absent.
    pub request_id: Option<String>,
    /// The `params` root: values already checked with [`Workspace::resolve_params`](crate::Workspace::resolve_params).
    pub params: serde_json::Map<String, Value>,
    /// A limit shorter than the workspace's `limits.max_seconds` for this run (a route's
    /// `timeout`); `None` keeps the workspace's.
    pub time_limit: Option<std::time::Duration>,
    /// The distributed trace the run belongs to (the caller's `traceparent`): continued by
    /// the run's spans when they are exported, else passed to upstream calls unchanged.
    pub trace: Option<crate::telemetry::TraceContext>,
    /// The HTTP request's extensions (what tower layers and extractors put there), which
    /// custom actions read with [`ActionContext::extension`](crate::ActionContext::extension).
    /// The axum integration fills it; set it yourself when running in-process.
    pub extensions: http::Extensions,
}

/// How a run ended.
///
/// ```
/// use flowyt_runtime::{Engine, Outcome, RunInput, flow};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let f = flow! { 1: response { status: 201, data: { ok: true } }; };
/// match f.service(&Engine::new().unwrap()).run(RunInput::default()).await.outcome {
///     Outcome::Response { status, body, .. } => {
///         assert_eq!(status, 201);
///         assert_eq!(body.to_value(), serde_json::json!({"ok": true}));
///     }
///     Outcome::Ended | Outcome::Invalid(_) => unreachable!("it answers"),
///     Outcome::Failed(e) => panic!("{e} ({})", e.kind),
/// }
/// # });
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// A `response` action answered.
    Response {
        /// HTTP status.
        status: u16,
        /// Headers set by the flow (`Content-Type: application/json` first).
        headers: Vec<(String, String)>,
        /// The body.
        body: Body,
    },
    /// The flow ended without a `response` action (body `{}`), or at `end`.
    Ended,
    /// A validation failed with no `next_action_fail` to go to: 400 with the errors.
    Invalid(Value),
    /// The run failed.
    Failed(RunError),
}

/// The HTTP answer a route gives for this outcome, so a handler of your own can run a flow and
/// answer as flowyt would: the flow's status, headers and body, `400` with the errors of a
/// failed validation, `500` for a failed run with its details masked.
///
/// ```
/// use axum::response::IntoResponse;
/// use flowyt_runtime::{Engine, RunInput, flow};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let f = flow! { 1: response { status: 201, data: { ok: true } }; };
/// let run = f.service(&Engine::new().unwrap()).run(RunInput::default()).await;
/// assert_eq!(run.outcome.into_response().status(), 201);
/// # });
/// ```
#[cfg(feature = "axum")]
impl axum::response::IntoResponse for Outcome {
    fn into_response(self) -> axum::response::Response {
        crate::http::outcome_response(self, None, false)
    }
}

/// As [`Outcome`]'s, with the debug trace in the body when the run collected one (it carries
/// the unmasked error: collect it only for callers who may see it).
#[cfg(feature = "axum")]
impl axum::response::IntoResponse for RunResult {
    fn into_response(self) -> axum::response::Response {
        crate::http::outcome_response(self.outcome, self.trace, false)
    }
}

/// The result of a run: the outcome and, when asked for ([`RunInput::debug`] with the
/// workspace's `debug` setting, or any in-process run that sets it), the `__debug__` trace.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// How it ended.
    pub outcome: Outcome,
    /// `__debug__.workspace` when debug was requested.
    pub trace: Option<Value>,
}
