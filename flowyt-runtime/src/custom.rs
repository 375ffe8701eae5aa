//! Custom actions: Rust code a flow calls by name, with typed input and output.

use futures_util::future::BoxFuture;
use serde_json::Value;
use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

/// What a custom action receives besides its input.
#[derive(Clone, Default)]
pub struct ActionContext {
    state: Option<Arc<dyn Any + Send + Sync>>,
}

impl std::fmt::Debug for ActionContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionContext")
            .field("state", &self.state.is_some())
            .finish()
    }
}

impl ActionContext {
    pub(crate) fn new(state: Option<Arc<dyn Any + Send + Sync>>) -> ActionContext {
        ActionContext { state }
    }

    /// The application state the engine was built with, if it is a `T`.
    pub fn state<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.state.as_deref().and_then(|s| s.downcast_ref::<T>())
    }
}

/// A custom action. Its `data`, evaluated, is the input; `Ok` output becomes
/// `response.data` and takes `next_action_success`, `Err` takes `next_action_fail`.
///
/// Any `Fn(Value, ActionContext) -> impl Future<Output = Result<Value, Value>>` is one:
///
/// ```
/// # use flowyt_runtime::{ActionContext, Engine};
/// # use serde_json::{Value, json};
/// let engine = Engine::builder()
///     .action("double", |input: Value, _cx: ActionContext| async move {
///         match input["n"].as_i64() {
///             Some(n) => Ok(json!(n * 2)),
///             None => Err(json!({"error": "`n` must be a number"})),
///         }
///     })
///     .build()
///     .unwrap();
/// ```
pub trait CustomAction: Send + Sync + 'static {
    /// Runs the action.
    fn call(&self, input: Value, cx: ActionContext) -> BoxFuture<'static, Result<Value, Value>>;
}

impl<F, Fut> CustomAction for F
where
    F: Fn(Value, ActionContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, Value>> + Send + 'static,
{
    fn call(&self, input: Value, cx: ActionContext) -> BoxFuture<'static, Result<Value, Value>> {
        Box::pin(self(input, cx))
    }
}

/// The custom actions registered with an engine.
#[derive(Clone, Default)]
pub(crate) struct CustomActions {
    pub map: HashMap<String, Arc<dyn CustomAction>>,
    pub cx: ActionContext,
}
