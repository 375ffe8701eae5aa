//! Typed flow params: a Rust struct standing for a flow's declared `params`, checked against
//! them at compile time by the `flow!` that names it, and taken by every way of starting a run.

use serde::Serialize;
use serde_json::{Map, Value};

/// A flow's params as a Rust struct: what `run_params` and `trigger_params` take. Implemented
/// for every `Serialize` type; the `flow!` whose header names the struct (`params = Notify {
/// ... }`) checks at compile time that it has exactly the declared params as fields, and that
/// no field has a Rust type known to serialise to values its param refuses:
///
/// ```
/// use flowyt_runtime::{Engine, FlowParams, Outcome, RunInput, flow};
/// use serde::Serialize;
/// use serde_json::json;
///
/// #[derive(Serialize)]
/// struct Notify {
///     usuario_id: i64,
///     canal: Option<String>,
/// }
///
/// let notify = flow! {
///     name = "notify";
///     params = Notify {
///         usuario_id: { type: "integer", minimum: 1, required: true },
///         canal: { type: "string", default: "sms" },
///     };
///     1: response { data: { to: "${params.usuario_id}", via: "${params.canal}" } };
/// };
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let engine = Engine::new().unwrap();
/// let ws = engine.checked_workspace("app", Default::default(), [("notify", notify)]);
/// let params = Notify { usuario_id: 7, canal: None };
/// let run = ws.run_params("notify", &params, RunInput::default()).await;
/// let Outcome::Response { body, .. } = run.outcome else { panic!() };
/// assert_eq!(body.to_value(), json!({"to": 7, "via": "sms"}));
/// assert_eq!(params.to_conf(), Ok(json!({"usuario_id": 7}).as_object().cloned().unwrap()));
/// # });
/// ```
///
/// A misspelt or missing field, or a field whose type the param never accepts (a `String` for
/// an `integer`), is a compile error on the flow's declaration. Types flowyt does not know
/// (your enums, nested structs, `Value`) are checked when the run starts, as a JSON conf is.
/// The struct is serialised with serde as written: do not rename its fields. `None` stands for
/// a param not given.
pub trait FlowParams: Serialize {
    /// The params as the JSON object a run's `conf` is, without the fields that are `None`.
    fn to_conf(&self) -> Result<Map<String, Value>, String> {
        match serde_json::to_value(self) {
            Ok(Value::Object(mut map)) => {
                map.retain(|_, v| !v.is_null());
                Ok(map)
            }
            Ok(other) => Err(format!("params serialise to `{other}`, not to an object")),
            Err(e) => Err(format!("params do not serialise: {e}")),
        }
    }
}

impl<T: Serialize + ?Sized> FlowParams for T {}
