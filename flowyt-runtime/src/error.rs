//! Errors of a run and of loading.

/// The body of a failed run's answer when debug is off (the legacy wording): what went wrong
/// stays in the logs and the debug trace.
pub const MASKED_ERROR: &str = "Something went wrong. Enable debug mode to see more details.";

use serde_json::Value;
use std::fmt;
use std::sync::Arc;

/// What kind of failure a [`RunError`] is, for callers that react to each differently (retry
/// a timeout, alert on a panic, answer 4xx to invalid params).
///
/// ```
/// use flowyt_runtime::{Engine, ErrorKind, Outcome, RunInput, flow};
///
/// let f = flow! { 1: response { data: "hello ${request.qs.who}" }; };
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let run = f.service(&Engine::new().unwrap()).run(RunInput::default()).await;
/// let Outcome::Failed(e) = run.outcome else { panic!() };
/// assert_eq!(e.kind, ErrorKind::Template);
/// assert!(std::error::Error::source(&e).is_some(), "the expression error behind it");
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The run reached its time limit (`limits.max_seconds`, its route's `timeout`, the legacy
    /// `safe_mode`).
    Timeout,
    /// The run executed more than `limits.max_steps` actions, or an expression exceeded its
    /// evaluation bounds (steps, string and list sizes, memory, nesting).
    StepLimit,
    /// A template failed: a missing value spliced into text, a type error, an unknown function.
    Template,
    /// A service the run depends on failed: a database or Redis connection or query. (A failed
    /// HTTP `request` takes its fail branch; a run that then has nowhere to go is [`Flow`].)
    ///
    /// [`Flow`]: ErrorKind::Flow
    Upstream,
    /// A flow the run needs is not in the workspace (`jump`, `handle`, `loop` to a missing flow).
    UnknownFlow,
    /// A custom action the flow names is not registered on the engine.
    UnknownAction,
    /// A custom action panicked (the panic was caught; the process goes on).
    Panic,
    /// The run's params were refused ([`Workspace::run_with_params`](crate::Workspace::run_with_params)).
    InvalidParams,
    /// An action was given data it cannot act on: a bad header, a `status` that is not a
    /// status code, a negative count.
    Action,
    /// The flow went nowhere: no branch applies, or a dynamic `next_action` names no action.
    Flow,
    /// A durable run's checkpoint could not be saved or restored, or the run was stopped from
    /// outside (cancelled, its lease lost).
    Interrupted,
}

impl ErrorKind {
    /// The kind's name as logs and metrics show it (`timeout`, `step_limit`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::StepLimit => "step_limit",
            ErrorKind::Template => "template",
            ErrorKind::Upstream => "upstream",
            ErrorKind::UnknownFlow => "unknown_flow",
            ErrorKind::UnknownAction => "unknown_action",
            ErrorKind::Panic => "panic",
            ErrorKind::InvalidParams => "invalid_params",
            ErrorKind::Action => "action",
            ErrorKind::Flow => "flow",
            ErrorKind::Interrupted => "interrupted",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a run failed. Becomes an HTTP 500 (masked unless debug is on).
///
/// Match on its [`kind`](RunError::kind); [`message`](RunError::message) says what went
/// wrong and [`action`](RunError::action) where:
///
/// ```
/// use flowyt_runtime::{Engine, ErrorKind, Outcome, RunError, flow};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let engine = Engine::new().unwrap();
/// let looping = flow! { a: flow_var { n: 1 } -> b; b: flow_var { n: 2 } -> a; };
/// let mut settings = flowyt_runtime::Settings::default();
/// settings.limits.max_steps = 10;
/// let run = looping.service_with(&engine, settings).run(Default::default()).await;
/// let Outcome::Failed(e) = run.outcome else { panic!("{:?}", run.outcome) };
/// match e.kind {
///     ErrorKind::StepLimit => assert!(e.message.contains("more than 10 actions")),
///     other => panic!("{other}"),
/// }
/// // The 11th action, where the budget ran out.
/// assert_eq!(e.action.as_ref().map(|a| a.id.as_str()), Some("a"));
/// // Your own code makes one with a kind and a message.
/// let mine = RunError::new(ErrorKind::Upstream, "the ledger is down");
/// assert_eq!(mine.to_string(), "the ledger is down");
/// # });
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RunError {
    /// What kind of failure it is.
    pub kind: ErrorKind,
    /// What went wrong, one line.
    pub message: String,
    /// The action that failed, when one did.
    pub action: Option<Box<FailedAction>>,
    /// The error behind it (an expression's, a param's), for [`std::error::Error::source`].
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl PartialEq for RunError {
    /// Kind, message and action (the source is what the message already says).
    fn eq(&self, other: &RunError) -> bool {
        self.kind == other.kind && self.message == other.message && self.action == other.action
    }
}

/// The action a run failed in, as the legacy debug output shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct FailedAction {
    /// Its id.
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// Its data as written (not evaluated).
    pub data: Value,
}

impl RunError {
    /// An error of `kind` outside any action.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> RunError {
        RunError {
            kind,
            message: message.into(),
            action: None,
            source: None,
        }
    }

    /// The same error, in `action`.
    pub(crate) fn in_action(mut self, action: Box<FailedAction>) -> RunError {
        self.action = Some(action);
        self
    }

    /// The same error, caused by `source`.
    pub(crate) fn caused_by(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> RunError {
        self.source = Some(Arc::new(source));
        self
    }

    /// The legacy `exception` object: `{"message", "action": {"id", "name", "data"}}`.
    pub fn to_json(&self) -> Value {
        let mut obj = serde_json::Map::new();
        obj.insert("message".into(), Value::String(self.message.clone()));
        if let Some(a) = &self.action {
            obj.insert(
                "action".into(),
                serde_json::json!({"id": a.id, "name": a.kind, "data": a.data}),
            );
        }
        Value::Object(obj)
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.action {
            Some(a) if !self.message.contains(&format!("action `{}`", a.id)) => {
                write!(f, "{} (action `{}`, `{}`)", self.message, a.id, a.kind)
            }
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
