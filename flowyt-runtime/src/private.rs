//! Used by the code flowyt's macros generate. Not public API; may change in any release
//! (flowyt-macros is pinned to this exact version of the runtime).
//!
//! The generated code stays thin: it names these helpers by absolute path
//! (`::flowyt_runtime::__private::...`, kept in one table in flowyt-macros/src/paths.rs) and
//! every piece of behaviour lives here, where it is tested like normal code.

pub use crate::checked::{CheckedFlow, TypedAction};
pub use crate::custom::{ActionContext, CustomAction};
pub use flowyt_core as core;
pub use futures_util::future::BoxFuture;
pub use serde;
pub use serde_json;

pub use crate::params::FlowParams;

/// Rust types known to serialise to values a param of the declared type (`K`, a [`kinds`]
/// marker) never accepts: a `String` for an `integer`, an `f64` for an `integer` (it writes
/// `7.0`), a `Vec` for an `object`. Types it does not know (your enums, structs, `Value`) are
/// never rejected: `flow!` reports only what is certainly wrong.
pub trait Rejects<K> {}

macro_rules! rejects {
    ([$($t:ty),*] => $kinds:tt) => {
        $(rejects!(@one $t => $kinds);)*
    };
    (@one $t:ty => [$($kind:ident),*]) => {
        $(impl Rejects<kinds::$kind> for $t {})*
    };
}
rejects!([i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize] => [str, bool, list, dict]);
rejects!([f32, f64] => [int, str, bool, list, dict]);
rejects!([String, str, char, std::sync::Arc<str>, std::rc::Rc<str>, std::borrow::Cow<'_, str>] => [int, number, bool, list, dict]);
rejects!([bool] => [int, number, str, list, dict]);
rejects!([serde_json::Map<String, Value>] => [int, number, str, bool, list]);
impl<K, T: Rejects<K>> Rejects<K> for Option<T> {}
impl<K, T: Rejects<K> + ?Sized> Rejects<K> for &T {}
impl<K, T: Rejects<K> + ?Sized> Rejects<K> for Box<T> {}
macro_rules! rejects_collections {
    (lists => $($kind:ident),*) => {
        $(
            impl<T> Rejects<kinds::$kind> for Vec<T> {}
            impl<T> Rejects<kinds::$kind> for [T] {}
            impl<T, const N: usize> Rejects<kinds::$kind> for [T; N] {}
            impl<T> Rejects<kinds::$kind> for std::collections::VecDeque<T> {}
            impl<T> Rejects<kinds::$kind> for std::collections::BTreeSet<T> {}
            impl<T, S> Rejects<kinds::$kind> for std::collections::HashSet<T, S> {}
        )*
    };
    (maps => $($kind:ident),*) => {
        $(
            impl<V> Rejects<kinds::$kind> for std::collections::BTreeMap<String, V> {}
            impl<V, S> Rejects<kinds::$kind> for std::collections::HashMap<String, V, S> {}
        )*
    };
}
rejects_collections!(lists => int, number, str, bool, dict);
rejects_collections!(maps => int, number, str, bool, list);

/// `flow!` checks each field of a params struct through this, with autoref specialisation: a
/// field type that [`Rejects`] the param's type answers [`CannotHold`] ([`RejectedParam`],
/// found first), any other answers [`Holds`]-able `()` ([`AcceptedParam`]).
pub struct ParamProbe<T, K>(std::marker::PhantomData<(fn() -> T, K)>);

impl<T, K> ParamProbe<T, K> {
    /// A probe for the field's type.
    pub fn new(_field: &T) -> ParamProbe<T, K> {
        ParamProbe(std::marker::PhantomData)
    }
}

/// A field type that cannot hold the values of the param's declared type.
pub struct CannotHold<T, K>(std::marker::PhantomData<(fn() -> T, K)>);

/// See [`ParamProbe`].
pub trait RejectedParam<T, K> {
    /// Never called: only its type matters.
    fn __flowyt_param(&self) -> CannotHold<T, K> {
        CannotHold(std::marker::PhantomData)
    }
}

impl<T: Rejects<K>, K> RejectedParam<T, K> for ParamProbe<T, K> {}

/// See [`ParamProbe`].
pub trait AcceptedParam {
    /// Never called: only its type matters.
    fn __flowyt_param(&self) {}
}

impl<T, K> AcceptedParam for &ParamProbe<T, K> {}

/// What a field check must give; only `()` is.
#[diagnostic::on_unimplemented(
    message = "a params field cannot hold this param's values: `{Self}`",
    label = "the field's type serialises to values the declared type refuses"
)]
pub trait Holds {}

impl Holds for () {}

/// Requires [`Holds`]; called by code that never runs.
pub fn param_holds<H: Holds>(_: H) {}

/// Which operand types each template operator takes, over the [`kinds`] markers: one trait
/// per operator (`Add<R>`, `Lt<R>`, `Neg`, ...) implemented for exactly the combinations the
/// evaluator accepts (generated from its verdicts by `flowyt_macros::__op_table!`), and
/// `unknown` with anything. `flow!` calls `ops::add::<L, R>()` for an operation on a
/// `#[flow_function]`'s result.
#[allow(non_camel_case_types)]
pub mod ops {
    use super::kinds::*;
    flowyt_macros::__op_table!();
}

/// Implemented by `#[derive(FlowOutput)]`: the JSON fields a type serialises to, as a struct
/// with one field per name (`AnyFields` when they are not known).
pub trait OutputFields {
    /// The shadow struct.
    type Fields;
}

/// Stands for fields that are not known: `flow!` then checks nothing.
pub struct AnyFields;

/// A field of a `#[derive(FlowOutput)]` shadow struct: stands for a value of type `T`, whose
/// own fields `flow!` checks when `T` describes them ([`probe_of`]).
pub struct Field<T: ?Sized>(std::marker::PhantomData<fn() -> *const T>);

/// The [`Probe`] of a field's type, for checking what a template reads inside it.
pub fn probe_of<T: ?Sized>(_field: &Field<T>) -> Probe<T> {
    Probe(std::marker::PhantomData)
}

/// A value that may be absent serialises to `null` or to its fields.
impl<T: OutputFields> OutputFields for Option<T> {
    type Fields = T::Fields;
}

impl<T: OutputFields + ?Sized> OutputFields for Box<T> {
    type Fields = T::Fields;
}

impl<T: OutputFields + ?Sized> OutputFields for Arc<T> {
    type Fields = T::Fields;
}

/// `flow!` asks a typed action's output type for its fields through this, with autoref
/// specialisation: an output that implements [`OutputFields`] answers its shadow struct
/// ([`DescribedOutput`], found first), any other answers the struct of the fields the flow
/// reads ([`UndescribedOutput`]), so that only described outputs are checked.
pub struct Probe<T: ?Sized>(std::marker::PhantomData<fn() -> *const T>);

impl<T: ?Sized> Probe<T> {
    /// A probe for `T`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Probe<T> {
        Probe(std::marker::PhantomData)
    }
}

/// See [`Probe`].
pub trait DescribedOutput {
    /// The output's fields.
    type Fields;
    /// Never `Some`: only its type matters.
    fn __flowyt_fields<R>(&self) -> Option<&Self::Fields> {
        None
    }
}

impl<T: OutputFields<Fields = F> + ?Sized, F: Described> DescribedOutput for Probe<T> {
    type Fields = F;
}

/// Shadow structs, as opposed to [`AnyFields`].
pub trait Described {}

/// See [`Probe`].
pub trait UndescribedOutput {
    /// Never `Some`: only its type matters.
    fn __flowyt_fields<R>(&self) -> Option<&R> {
        None
    }
}

impl<T: ?Sized> UndescribedOutput for &Probe<T> {}

/// What a template passes to a `#[flow_function]`, as types rustc can check against the
/// function's parameters (`flow!` passes one per argument to the function's generated
/// `__flowyt_args`; each parameter's trait is implemented by the markers its Rust type can be
/// deserialised from). Named as Python names them, since rustc shows them in its messages.
#[allow(non_camel_case_types)]
pub mod kinds {
    /// `None`.
    pub struct NoneType;
    /// A boolean.
    pub struct bool;
    /// An integer.
    pub struct int;
    /// A float.
    pub struct float;
    /// An integer or a float.
    pub struct number;
    /// A string.
    pub struct str;
    /// A list.
    pub struct list;
    /// A dict.
    pub struct dict;
    /// Not known before the run: every parameter accepts it.
    pub struct unknown;

    /// A marker's one value (a type alias to a unit struct is not a value).
    pub trait Marker {
        /// The value.
        const IT: Self;
    }

    macro_rules! markers {
        ($($m:ident),*) => {
            $(impl Marker for $m {
                const IT: Self = Self;
            })*
        };
    }
    markers!(NoneType, bool, int, float, number, str, list, dict, unknown);
}

use flowyt_core::model::Flow;
use serde::Serialize;
use serde_json::{Value, json};
use std::any::Any;
use std::sync::Arc;

/// A custom action the flow declared, under the kind name the flow uses, with the state type
/// it needs (checked when the flow is mounted).
#[derive(Clone)]
pub struct NamedAction {
    /// The kind name in the flow.
    pub name: &'static str,
    /// The action.
    pub action: Arc<dyn CustomAction>,
    /// The type of state it takes, and its name.
    pub state: Option<(std::any::TypeId, &'static str)>,
    /// The same action, for a generated loop to call directly (as its own type).
    pub instance: Arc<dyn Any + Send + Sync>,
}

/// Pairs a typed action with the kind name the macro checked the flow against.
pub fn action<A: TypedAction>(name: &'static str, action: A) -> NamedAction {
    let action = Arc::new(action);
    NamedAction {
        name,
        action: action.clone(),
        state: A::required_state(),
        instance: action,
    }
}

/// What `include_workspace!` expands to: its settings file as text (read when the workspace
/// is loaded, with the process environment), its routes and flows as the macro lowered and
/// checked them (their expressions with their generated code), the declared actions and each
/// flow's loop.
pub fn included_workspace(
    name: &'static str,
    settings: Option<(&'static str, &'static str)>,
    routes: Vec<flowyt_core::workspace::Route>,
    flows: Vec<(&'static str, Flow)>,
    actions: Vec<NamedAction>,
    drivers: Vec<(&'static str, Driver)>,
) -> crate::IncludedWorkspace {
    crate::IncludedWorkspace::new(name, settings, routes, flows, actions, drivers)
}

/// Stands for a workspace `include_workspace!` refused (its errors are compile errors), so
/// that no type errors follow from them. Never runs.
pub fn invalid_workspace() -> crate::IncludedWorkspace {
    unreachable!("include_workspace! reported compile errors")
}

/// What `include_flow!` expands to: [`checked_compiled`] without functions.
pub fn included_flow(
    json: &'static str,
    flow: Flow,
    actions: Vec<NamedAction>,
    driver: Driver,
) -> CheckedFlow {
    checked_compiled(json, flow, actions, Vec::new(), Some(driver))
}

/// A `#[flow_function]`'s generated caller: template values in, a value or a message out.
pub type FunctionFn = fn(&[serde_json::Value]) -> Result<serde_json::Value, String>;

pub use crate::RunError;
pub use crate::drive::{DriveFn, Driver, Stepped, Stepper, Walked};
pub use flowyt_core::expr::EvalError;
pub use flowyt_core::expr::compile::{CompiledFn, Eval, Generated, V};
pub use flowyt_macros::__compiled_templates;

/// What `flow!` expands to: the flow's JSON text (for [`CheckedFlow::json`]), its model as
/// the macro lowered and validated it (rebuilt by generated code, each expression with the
/// Rust generated for it, which runs instead of its tree: nothing is parsed, lowered or
/// validated here, and nothing can fail), its declared actions and functions, and the loop
/// generated from its edges (which walks the flow instead of the engine's, calling typed
/// actions directly).
pub fn checked_compiled(
    json: &'static str,
    flow: Flow,
    actions: Vec<NamedAction>,
    functions: Vec<(&'static str, FunctionFn)>,
    driver: Option<Driver>,
) -> CheckedFlow {
    CheckedFlow {
        flow,
        json,
        actions,
        functions,
        driver,
    }
}

/// What a macro expands to beside its `compile_error!`s, so that the user sees only our errors
/// and not a cascade of type errors. Never runs: the crate does not compile.
pub fn invalid_flow() -> CheckedFlow {
    unreachable!("flow! reported compile errors")
}

/// The typed input of action `A`, or the fail-branch value saying why the data does not fit.
pub fn input<A: TypedAction>(data: &Value) -> Result<A::Input, Value> {
    serde::Deserialize::deserialize(data).map_err(|e: serde_json::Error| {
        json!({
            "error": "invalid_input",
            "message": format!("the data of `{}` does not fit its input type: {e}", A::NAME),
        })
    })
}

/// A typed action on JSON data: the data into the action's input type, the action, its result
/// as JSON (`Ok` for the success branch, `Err` for the fail branch). What a `#[flow_action]`'s
/// `CustomAction::call` runs, and what a generated loop runs on the action's evaluated data.
pub async fn call_typed<A: TypedAction>(
    action: &A,
    data: &Value,
    cx: ActionContext,
) -> Result<Value, Value> {
    let input = input::<A>(data)?;
    output(action.invoke(input, cx).await?)
}

/// The engine's application state as a `S`, or the fail-branch value saying it is missing.
pub fn state<A: TypedAction, S: Any + Send + Sync>(cx: &ActionContext) -> Result<&S, Value> {
    cx.state::<S>().ok_or_else(|| {
        tracing::error!(
            action = A::NAME,
            state = std::any::type_name::<S>(),
            "custom action needs state the engine was not built with"
        );
        json!({
            "error": "missing_state",
            "message": format!(
                "`{}` needs state of type `{}`: build the engine with `.state(...)`",
                A::NAME,
                std::any::type_name::<S>()
            ),
        })
    })
}

/// The action's result as JSON: `Ok` for the success branch, `Err` for the fail branch.
pub fn output<O: Serialize, E: Serialize>(result: Result<O, E>) -> Result<Value, Value> {
    let serialize_error = |e: serde_json::Error| json!({"error": "invalid_output", "message": format!("cannot serialise the action's result: {e}")});
    match result {
        Ok(out) => serde_json::to_value(out).map_err(serialize_error),
        Err(err) => Err(serde_json::to_value(err).unwrap_or_else(serialize_error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ActionContext;
    use serde::Deserialize;

    const TWO_WAYS: &str = r#"{"pipeline": [
        {"id": "s", "action": "start", "data": {}, "next_action": "${'a' if pipeline.next_action is None else 'b'}"},
        {"id": "a", "action": "response", "data": {"data": "a"}, "next_action": null},
        {"id": "b", "action": "response", "data": {"data": "b"}, "next_action": null}
    ]}"#;

    /// The id enum `flow!` would generate for `TWO_WAYS`.
    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Id {
        S,
        A,
        B,
    }
    const IDS: &[Id] = &[Id::S, Id::A, Id::B];

    /// A loop of the shape `flow!` generates; `fixed` knows `s` leads to `b`, else every
    /// transition is left to run time.
    async fn walk(mut s: Stepper<'_, '_>, fixed: bool) -> Result<Walked, crate::RunError> {
        let Some(mut state) = s.entry(IDS) else {
            return Ok(s.ended());
        };
        loop {
            let choice = match s.step(state as usize).await? {
                Stepped::Over(walked) => return Ok(walked),
                Stepped::Chose(choice) => choice,
            };
            state = match (state, choice) {
                (Id::S, _) if fixed => Id::B,
                _ => match s.resolve(state as usize, IDS)? {
                    Some(next) => next,
                    None => return Ok(s.ended()),
                },
            };
            s.advance(state as usize).await?;
        }
    }

    fn to_b<'a>(s: Stepper<'a, '_>) -> BoxFuture<'a, Result<Walked, crate::RunError>> {
        Box::pin(walk(s, true))
    }

    fn runtime_only<'a>(s: Stepper<'a, '_>) -> BoxFuture<'a, Result<Walked, crate::RunError>> {
        Box::pin(walk(s, false))
    }

    /// A loop for `TWO_WAYS`'s ids.
    fn driver(drive: DriveFn) -> Driver {
        Driver {
            ids: &["s", "a", "b"],
            drive,
        }
    }

    #[tokio::test]
    async fn the_generated_loop_drives_control_flow() {
        let engine = crate::Engine::new().expect("engine");
        let run = |driver: Driver| {
            let flow = checked_compiled(
                TWO_WAYS,
                lowered(TWO_WAYS, &[]),
                Vec::new(),
                Vec::new(),
                Some(driver),
            );
            let service = flow.service(&engine);
            async move {
                match service.run(crate::RunInput::default()).await.outcome {
                    crate::Outcome::Response { body, .. } => body.to_value(),
                    other => panic!("{other:?}"),
                }
            }
        };
        // The loop, not the JSON's `next_action`, decides where the run goes...
        assert_eq!(run(driver(to_b)).await, serde_json::json!("b"));
        // ...and what it leaves to run time is resolved as for a JSON flow.
        assert_eq!(run(driver(runtime_only)).await, serde_json::json!("a"));
        // A loop generated for other actions is not used: the engine walks the flow.
        let foreign = Driver {
            ids: &["s", "b", "a"],
            drive: to_b,
        };
        assert_eq!(run(foreign).await, serde_json::json!("a"));
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct In {
        n: u32,
    }

    #[derive(Clone, Copy)]
    struct Double;

    impl CustomAction for Double {
        fn call(&self, data: Value, cx: ActionContext) -> BoxFuture<'static, Result<Value, Value>> {
            let this = *self;
            Box::pin(async move { call_typed(&this, &data, cx).await })
        }
    }

    impl TypedAction for Double {
        const NAME: &'static str = "double";
        type Input = In;
        type Output = u32;
        type Error = String;

        async fn invoke(&self, input: In, cx: ActionContext) -> Result<Result<u32, String>, Value> {
            let _ = state::<Double, u8>(&cx);
            Ok(Ok(input.n * 2))
        }
    }

    #[test]
    fn input_that_does_not_fit_names_the_action() {
        assert_eq!(input::<Double>(&json!({"n": 3})), Ok(In { n: 3 }));
        let err = input::<Double>(&json!({"n": "three"})).expect_err("a string is not a u32");
        assert_eq!(err["error"], "invalid_input");
        let message = err["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("the data of `double` does not fit"),
            "{message}"
        );
    }

    #[test]
    fn missing_state_is_a_fail_value() {
        let mut states = crate::custom::States::new();
        states.insert(std::any::TypeId::of::<u8>(), Arc::new(7u8));
        let cx = ActionContext::new(Arc::new(states));
        assert_eq!(state::<Double, u8>(&cx), Ok(&7));
        let err = state::<Double, String>(&cx).expect_err("no String state");
        assert_eq!(err["error"], "missing_state");
    }

    #[test]
    fn output_maps_ok_and_err() {
        assert_eq!(
            output::<_, String>(Ok(json!({"a": 1}))),
            Ok(json!({"a": 1}))
        );
        assert_eq!(output::<u8, _>(Err("nope")), Err(json!("nope")));
        let mut bad = std::collections::HashMap::new();
        bad.insert(vec![1u8], 1u8); // a map with non-string keys cannot become JSON
        assert_eq!(
            output::<_, String>(Ok(bad)).expect_err("not serialisable")["error"],
            "invalid_output"
        );
    }

    /// `TWO_WAYS` (or another flow) as the macros would have lowered it, with `kinds` declared.
    fn lowered(json: &str, kinds: &[&str]) -> Flow {
        let mut catalog = flowyt_core::catalog::Catalog::new();
        for kind in kinds {
            catalog.add_kind(*kind, flowyt_core::catalog::CustomKind::default());
        }
        Flow::from_json_named("t.json", json, &catalog).expect("a valid flow")
    }

    #[test]
    fn included_flow_keeps_the_model_and_the_declared_actions() {
        let json = r#"{"pipeline": [
            {"id": "1", "action": "double", "data": {"n": 2}, "next_action": null}
        ]}"#;
        let flow = included_flow(
            json,
            lowered(json, &["double"]),
            vec![action("double", Double)],
            Driver {
                ids: &["1"],
                drive: runtime_only,
            },
        );
        assert!(matches!(
            flow.model().actions[0].kind,
            flowyt_core::model::Kind::Custom(_)
        ));
        assert_eq!(flow.json(), json);
        assert_eq!(flow.custom_actions().collect::<Vec<_>>(), ["double"]);
    }

    #[tokio::test]
    async fn typed_action_runs_through_helpers() {
        let out = Double
            .call(json!({"n": 21}), ActionContext::default())
            .await;
        assert_eq!(out, Ok(json!(42)));
        let out = Double.call(json!({}), ActionContext::default()).await;
        assert_eq!(out.expect_err("missing n")["error"], "invalid_input");
    }
}
