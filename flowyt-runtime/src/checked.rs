//! Flows checked at compile time (`flow!`, `include_flow!`) and typed custom actions
//! (`#[flow_action]`).
//!
//! A [`CheckedFlow`] is what the macros produce: the core [`Flow`] model, lowered from the
//! same JSON shape a legacy file has and validated by the same rules at compile time, and
//! rebuilt by generated code when the program runs (never lowered again), plus the typed
//! custom actions the flow declared. It runs on the same engine as a flow loaded from JSON, so
//! the two behave identically.

use crate::__private::NamedAction;
use crate::{CustomAction, Engine, EngineBuilder, FlowService, Workspace};
use flowyt_core::model::Flow;
use flowyt_core::workspace::{Settings, Workspace as CoreWorkspace};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// A flow that `flow!` or `include_flow!` checked at compile time, with the typed custom
/// actions it uses. Build it once (at start-up) and mount it with [`CheckedFlow::service`].
///
/// ```
/// use flowyt_runtime::{CheckedFlow, Engine, flow};
///
/// let ping: CheckedFlow = flow! { name = "ping"; 1: response { data: { pong: true } }; };
/// assert_eq!(ping.model().actions.len(), 1);
/// assert!(ping.json().contains("\"pong\""), "the flow as legacy JSON");
/// let handler = ping.service(&Engine::new().unwrap());
/// # let _ = handler;
/// ```
#[derive(Clone)]
pub struct CheckedFlow {
    pub(crate) flow: Flow,
    pub(crate) json: &'static str,
    pub(crate) actions: Vec<NamedAction>,
    pub(crate) functions: Vec<(&'static str, crate::__private::FunctionFn)>,
    /// The loop `flow!` or `include_flow!` generated from the flow's edges.
    pub(crate) driver: Option<crate::__private::Driver>,
}

impl std::fmt::Debug for CheckedFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckedFlow")
            .field("name", &self.flow.name)
            .field(
                "actions",
                &self.flow.actions.iter().map(|a| &a.id).collect::<Vec<_>>(),
            )
            .field("custom", &self.custom_actions().collect::<Vec<_>>())
            .finish()
    }
}

impl CheckedFlow {
    /// How many of the flow's `${...}` expressions run code `flow!` generated, and how many
    /// there are (the rest are interpreted). For tests and benchmarks.
    #[doc(hidden)]
    pub fn compiled_expressions(&self) -> (usize, usize) {
        let mut counts = (0, 0);
        for tpl in flowyt_core::validate::evaluated_templates(&self.flow) {
            for seg in tpl.segments() {
                counts.0 += usize::from(seg.expr.is_compiled());
                counts.1 += 1;
            }
        }
        counts
    }

    /// The validated flow model.
    pub fn model(&self) -> &Flow {
        &self.flow
    }

    /// The flow model, for building a workspace by hand.
    pub fn into_model(self) -> Flow {
        self.flow
    }

    /// Renamed [`CheckedFlow::model`].
    #[deprecated(note = "renamed `CheckedFlow::model`: the model is the flow's definition")]
    pub fn flow(&self) -> &Flow {
        self.model()
    }

    /// Renamed [`CheckedFlow::into_model`].
    #[deprecated(note = "renamed `CheckedFlow::into_model`")]
    pub fn into_flow(self) -> Flow {
        self.into_model()
    }

    /// The flow as legacy JSON: the file `include_flow!` read, or the JSON document a `flow!`
    /// lowers to (load it with [`Engine::service_from_json`] to get the same flow at run time).
    pub fn json(&self) -> &'static str {
        self.json
    }

    /// The names of the typed custom actions the flow declared (`actions = [...]`).
    pub fn custom_actions(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.actions.iter().map(|a| a.name)
    }

    /// Registers the flow's typed custom actions with an engine being built (needed only when
    /// the flow is mounted through [`Engine::workspace`] rather than [`CheckedFlow::service`]).
    pub fn register(&self, mut builder: EngineBuilder) -> EngineBuilder {
        for a in &self.actions {
            builder.actions.insert(a.name.to_string(), a.action.clone());
        }
        for (path, f) in &self.functions {
            let f = *f;
            builder
                .functions
                .insert(*path, move |args: &[serde_json::Value]| f(args));
        }
        builder
    }

    /// The flow as an axum handler on `engine` (its HTTP client, functions and state), with
    /// default settings. The flow's typed custom actions are added to the engine's.
    ///
    /// ```
    /// # use flowyt_runtime::{Engine, flow};
    /// let engine = Engine::new().unwrap();
    /// let hello = flow! { hi: response { data: { hello: "${request.qs.name}" } }; };
    /// let app: axum::Router = axum::Router::new().route("/hi", axum::routing::get(hello.service(&engine)));
    /// ```
    ///
    /// # Panics
    ///
    /// When a typed action of the flow takes state (`state: &S`) the engine was not built with
    /// (`.state(S { .. })`): the mistake shows when the flow is mounted, at start-up, not in a
    /// run. [`CheckedFlow::try_service`] returns it as an error instead.
    pub fn service(&self, engine: &Engine) -> FlowService {
        self.service_with(engine, Settings::default())
    }

    /// Like [`CheckedFlow::service`], with workspace settings (`env`, limits, debug).
    ///
    /// # Panics
    ///
    /// As [`CheckedFlow::service`].
    pub fn service_with(&self, engine: &Engine, settings: Settings) -> FlowService {
        match self.try_service_with(engine, settings) {
            Ok(service) => service,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`CheckedFlow::service`] without the panic: the state the flow's typed actions take is
    /// checked against the engine's.
    ///
    /// ```
    /// use flowyt_runtime::{Engine, flow, flow_action};
    ///
    /// struct Prices { unit: u32 }
    ///
    /// #[flow_action]
    /// async fn price(qty: u32, prices: &Prices) -> Result<u32, String> {
    ///     Ok(qty * prices.unit)
    /// }
    ///
    /// let f = flow! { actions = [price]; 1: price { } -> success: 2, fail: 2; 2: response { }; };
    /// let err = f.try_service(&Engine::new().unwrap()).unwrap_err();
    /// assert!(err.to_string().contains("Prices"), "{err}");
    /// let engine = Engine::builder().state(Prices { unit: 5 }).build().unwrap();
    /// assert!(f.try_service(&engine).is_ok());
    /// ```
    pub fn try_service(&self, engine: &Engine) -> Result<FlowService, MountError> {
        self.try_service_with(engine, Settings::default())
    }

    /// [`CheckedFlow::service_with`] without the panic.
    pub fn try_service_with(
        &self,
        engine: &Engine,
        settings: Settings,
    ) -> Result<FlowService, MountError> {
        self.check_state(engine)?;
        Ok(self.with_actions(engine).flow_with_loop(
            self.flow.clone(),
            settings,
            self.generated_loop(),
        ))
    }

    /// The generated loop with the typed actions it calls.
    fn generated_loop(&self) -> Option<crate::drive::GeneratedLoop> {
        self.driver
            .map(|driver| crate::drive::GeneratedLoop::new(driver, &self.actions))
    }

    /// The first typed action whose state the engine lacks.
    fn check_state(&self, engine: &Engine) -> Result<(), MountError> {
        check_states(&self.actions, engine)
    }

    fn with_actions(&self, engine: &Engine) -> Engine {
        let mut engine = add_actions(engine, &self.actions);
        if !self.functions.is_empty() {
            let mut functions = (*engine.functions).clone();
            for (path, f) in &self.functions {
                let f = *f;
                functions.insert(*path, move |args: &[serde_json::Value]| f(args));
            }
            engine.functions = Arc::new(functions);
        }
        engine
    }
}

impl Engine {
    /// Several checked flows as one workspace, keyed by the given names, so that `jump`,
    /// `handle` and `loop` can reach each other. Mount single flows with
    /// [`Workspace::service`]. The flows' typed custom actions are added to this engine's.
    ///
    /// # Panics
    ///
    /// As [`CheckedFlow::service`], when a flow's typed action takes state the engine lacks;
    /// [`Engine::try_checked_workspace`] returns that as an error instead.
    pub fn checked_workspace<'a>(
        &self,
        name: &str,
        settings: Settings,
        flows: impl IntoIterator<Item = (&'a str, CheckedFlow)>,
    ) -> Workspace {
        match self.try_checked_workspace(name, settings, flows) {
            Ok(ws) => ws,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`Engine::checked_workspace`] without the panic.
    ///
    /// ```
    /// use flowyt_runtime::{Engine, Settings, flow, flow_action};
    ///
    /// struct Prices { unit: u32 }
    ///
    /// #[flow_action]
    /// async fn price(qty: u32, prices: &Prices) -> Result<u32, String> {
    ///     Ok(qty * prices.unit)
    /// }
    ///
    /// let quote = flow! { actions = [price]; 1: price { } -> success: 2, fail: 2; 2: response { }; };
    /// let refused = Engine::new()
    ///     .unwrap()
    ///     .try_checked_workspace("shop", Settings::default(), [("quote", quote.clone())]);
    /// assert_eq!(refused.unwrap_err().action, "price");
    /// let engine = Engine::builder().state(Prices { unit: 5 }).build().unwrap();
    /// let shop = engine.try_checked_workspace("shop", Settings::default(), [("quote", quote)]);
    /// assert!(shop.is_ok());
    /// ```
    pub fn try_checked_workspace<'a>(
        &self,
        name: &str,
        settings: Settings,
        flows: impl IntoIterator<Item = (&'a str, CheckedFlow)>,
    ) -> Result<Workspace, MountError> {
        let mut engine = self.clone();
        let mut ws = CoreWorkspace {
            name: name.to_string(),
            settings,
            ..Default::default()
        };
        let mut loops = std::collections::HashMap::new();
        for (key, flow) in flows {
            flow.check_state(&engine)?;
            engine = flow.with_actions(&engine);
            if let Some(g) = flow.generated_loop() {
                loops.insert(key.to_string(), g);
            }
            ws.flows.insert(key.to_string(), flow.flow);
        }
        Ok(engine.workspace_with_loops(ws, loops))
    }
}

/// The first of `actions` whose state `engine` lacks, as the error mounting it gives.
pub(crate) fn check_states(actions: &[NamedAction], engine: &Engine) -> Result<(), MountError> {
    for a in actions {
        if let Some((t, state)) = a.state
            && !engine.actions.cx.has_state(t)
        {
            return Err(MountError {
                action: a.name,
                state,
            });
        }
    }
    Ok(())
}

/// `engine` with `actions` registered under their kind names.
pub(crate) fn add_actions(engine: &Engine, actions: &[NamedAction]) -> Engine {
    let mut engine = engine.clone();
    for a in actions {
        engine
            .actions
            .map
            .insert(a.name.to_string(), a.action.clone());
    }
    engine
}

/// Why a checked flow cannot be mounted on an engine: a typed action takes state the engine
/// was not built with.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MountError {
    /// The action's kind name.
    pub action: &'static str,
    /// The type of state it takes.
    pub state: &'static str,
}

impl std::fmt::Display for MountError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "custom action `{}` takes state of type `{}`, and the engine was not built with one: \
             add `.state(...)` with a `{}` to `Engine::builder()`",
            self.action, self.state, self.state
        )
    }
}

impl std::error::Error for MountError {}

/// A custom action with typed input and output, made by `#[flow_action]` from an
/// `async fn(input: Input[, state: &State]) -> Result<Output, Error>`.
///
/// The action's evaluated `data` is deserialised into `Input`; `Ok(output)` becomes
/// `response.data` and takes `next_action_success`, `Err(error)` becomes `response.data` and
/// takes `next_action_fail`. Data that does not deserialise into `Input` (a template that
/// yielded the wrong type at run time) also takes the fail branch, with
/// `{"error": "invalid_input", "message": ...}` as `response.data`.
///
/// A `flow!` calls the actions it declares directly ([`TypedAction::invoke`], with the
/// input already of type `Input`); a flow loaded from JSON calls them by kind name, through
/// [`CustomAction`]. Tests can call either, or the function as written (`run`):
///
/// ```
/// use flowyt_runtime::{ActionContext, CustomAction, TypedAction, flow_action};
/// use serde_json::json;
///
/// #[flow_action]
/// async fn double(n: u32) -> Result<u32, String> {
///     n.checked_mul(2).ok_or_else(|| "too large".to_string())
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// assert_eq!(double::run(21).await, Ok(42));
/// assert_eq!(double.invoke(21, ActionContext::default()).await, Ok(Ok(42)));
/// // By kind name, as JSON: data that does not fit the input takes the fail branch.
/// assert_eq!(double.call(json!(21), ActionContext::default()).await, Ok(json!(42)));
/// let refused = double.call(json!("x"), ActionContext::default()).await.unwrap_err();
/// assert_eq!(refused["error"], "invalid_input");
/// assert_eq!(<double as TypedAction>::NAME, "double");
/// # });
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a flowyt action",
    label = "not a `#[flow_action]`",
    note = "annotate an `async fn(input: T) -> Result<O, E>` with `#[flow_action]`"
)]
pub trait TypedAction: CustomAction {
    /// The kind name flows use (the function's name).
    const NAME: &'static str;

    /// The type of application state the action takes (`state: &S`), and its name; checked
    /// when a flow using the action is mounted.
    fn required_state() -> Option<(std::any::TypeId, &'static str)> {
        None
    }
    /// What the action's data deserialises into.
    type Input: DeserializeOwned;
    /// What `Ok` carries.
    type Output: Serialize;
    /// What `Err` carries.
    type Error: Serialize;

    /// Runs the action on its input: what a `flow!`'s generated loop calls, with the input
    /// already of type `Input`. The inner result is the function's own; the outer `Err` is
    /// a fail-branch value the function could not make itself (the state it takes is
    /// missing from the engine).
    fn invoke(
        &self,
        input: Self::Input,
        cx: crate::ActionContext,
    ) -> impl Future<Output = Result<Result<Self::Output, Self::Error>, serde_json::Value>> + Send;
}
