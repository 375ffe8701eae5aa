//! Custom actions: Rust code a flow calls by name, with typed input and output.

use futures_util::future::BoxFuture;
use serde_json::Value;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

/// The application state an engine was built with: one value per type.
pub(crate) type States = HashMap<TypeId, Arc<dyn Any + Send + Sync>>;

/// What a custom action receives besides its input: the engine's application state (one value
/// per type, [`EngineBuilder::state`](crate::EngineBuilder::state)) and, in a run started by an
/// HTTP request, that request's extensions (what tower layers put there: the authenticated
/// user, the tenant).
///
/// ```
/// use flowyt_runtime::{ActionContext, Engine};
/// use serde_json::{Value, json};
///
/// struct Db { url: &'static str }
/// struct Prices { unit: u32 }
/// #[derive(Clone)]
/// struct User(String);
///
/// let engine = Engine::builder()
///     .state(Db { url: "postgres://127.0.0.1/app" })
///     .state(Prices { unit: 5 })
///     .action("whoami", |_input: Value, cx: ActionContext| async move {
///         let db = cx.state::<Db>().map(|d| d.url);
///         let unit = cx.state::<Prices>().map(|p| p.unit);
///         let user = cx.extension::<User>().map(|u| u.0.clone());
///         Ok(json!({"db": db, "unit": unit, "user": user}))
///     })
///     .build()
///     .unwrap();
/// # let _ = engine;
/// ```
#[derive(Clone, Default)]
pub struct ActionContext {
    states: Arc<States>,
    extensions: Option<Arc<http::Extensions>>,
}

impl std::fmt::Debug for ActionContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionContext")
            .field("states", &self.states.len())
            .field("extensions", &self.extensions.as_ref().map(|e| e.len()))
            .finish()
    }
}

impl ActionContext {
    pub(crate) fn new(states: Arc<States>) -> ActionContext {
        ActionContext {
            states,
            extensions: None,
        }
    }

    /// The same context for one run, with its HTTP request's extensions.
    pub(crate) fn for_run(&self, extensions: Option<&Arc<http::Extensions>>) -> ActionContext {
        ActionContext {
            states: self.states.clone(),
            extensions: extensions.cloned(),
        }
    }

    /// Whether the engine was built with state of type `t`.
    pub(crate) fn has_state(&self, t: TypeId) -> bool {
        self.states.contains_key(&t)
    }

    /// The application state of type `T` the engine was built with, if any.
    pub fn state<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.states
            .get(&TypeId::of::<T>())
            .and_then(|s| s.downcast_ref::<T>())
    }

    /// The value of type `T` in the extensions of the HTTP request that started the run (set
    /// by a tower layer or an extractor), if the run came from one and it holds a `T`.
    pub fn extension<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.extensions.as_deref()?.get::<T>()
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
