//! Compile-time checked flows for flowyt: [`flow!`], [`include_flow!`] and
//! [`#[flow_action]`](macro@flow_action). Use them through `flowyt-runtime`, which re-exports
//! them; the code they generate names `::flowyt_runtime::...` only.
//!
//! Each macro turns its input into the JSON-shaped tree of a legacy flow file, then calls the
//! same flowyt-core lowering and validator the runtime loader uses: one set of rules, two
//! entry points. Every problem becomes a compile error on the offending token, all at once.
//! What passes expands to code: the model, baked (`flowyt_core::bake`: nothing is lowered when
//! the program starts), the walk as a generated loop, and each expression as Rust.
//! See `docs/macros.md` in the repository for the guide.
#![doc(test(attr(deny(warnings))))]

mod action;
mod codegen;
mod diag;
mod exprs;
mod flow;
mod function;
mod include;
mod kinds;
mod ops;
mod output;
mod paths;
mod workspace;

use proc_macro::TokenStream;

/// A flow written in Rust, checked at compile time; evaluates to a
/// [`CheckedFlow`](https://docs.rs/flowyt-runtime) the runtime runs and mounts.
///
/// ```
/// use flowyt_runtime::{Engine, Outcome, RunInput, flow};
/// use serde_json::json;
///
/// let greet = flow! {
///     name = "greet";
///
///     1: start -> check;
///     check: switch {
///         "${request.qs.name}" == null => anonymous,
///         else => hello,
///     };
///     hello: response { data: { hello: "${request.qs.name}" } };
///     anonymous: response { status: 400, data: { error: "who are you?" } };
/// };
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let engine = Engine::new().unwrap();
/// let service = greet.service(&engine); // an axum handler: `get(service)`
/// let run = service
///     .run(RunInput { request: json!({"qs": {"name": "Ada"}}), ..Default::default() })
///     .await;
/// let Outcome::Response { status, body, .. } = run.outcome else { panic!() };
/// assert_eq!((status, body.to_value()), (200, json!({"hello": "Ada"})));
/// # });
/// ```
///
/// An edge to an action that does not exist does not compile:
///
/// ```compile_fail
/// let f = flowyt_runtime::flow! {
///     1: start -> fetch_usr;
///     fetch_user: response { data: {} };
/// };
/// ```
///
/// # Syntax
///
/// ```text
/// flow!   { setting* action* }
/// setting  id = "..." ;  |  name = "..." ;  |  actions = [path, ...] ;  |  crate = "path" ;
/// action   ID : async? KIND { key: value, ... }? EDGES? ;
/// EDGES    -> ID                           next_action
///          -> success: ID, fail: ID        branches, followed through ${pipeline.next_action}
/// switch   ID : switch { VALUE OP VALUE => ID, ..., else => ID } ;
/// OP       == != > < >= <= in contains
/// ID       identifier | integer | "string" (a "${...}" string is a dynamic edge)
/// value    "string" | number | true | false | null | [value, ...] | { key: value, ... }
/// ```
///
/// Kinds are the legacy ones (`start`, `flow_var`, `workspace_var`, `request`, `response`,
/// `switch`, `validation`, `jump`, `handle`, `loop`, `run`, `end`, ...) and the typed actions
/// listed in `actions = [...]`. The data of a typed action is its input: identifier keys must
/// be fields of its input struct (rustc checks); string keys are passed as they are.
#[proc_macro]
pub fn flow(input: TokenStream) -> TokenStream {
    let input = proc_macro2::TokenStream::from(input);
    let private = paths::Runtime::sniff(&input).private();
    match codegen::expand_flow(input) {
        Ok(tokens) => tokens.into(),
        Err(e) => {
            let errors = e.to_compile_error();
            quote::quote!({ #errors #private::invalid_flow() }).into()
        }
    }
}

/// A legacy JSON flow file, read and checked at compile time; evaluates to a `CheckedFlow`.
///
/// The path is relative to the including crate's root (the folder of its `Cargo.toml`,
/// `CARGO_MANIFEST_DIR`), unlike `include_str!`, which is relative to the current file.
/// Absolute paths are refused. Each problem in the file is a compile error on the path that
/// names `file:line:col`; the model it checked is baked as `flow!`'s is, and the file is
/// embedded with `include_str!` (for `CheckedFlow::json`), so cargo rebuilds the crate when it
/// changes. Typed custom actions the file uses are listed after the path:
/// `include_flow!("flows/notify.json", actions = [send_sms])`.
///
/// ```
/// use flowyt_runtime::{Engine, Outcome, RunInput, include_flow};
///
/// let ping = include_flow!("flows/ping.json");
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let engine = Engine::new().unwrap();
/// let run = ping.service(&engine).run(RunInput::default()).await;
/// assert!(matches!(run.outcome, Outcome::Response { status: 200, .. }));
/// # });
/// ```
///
/// A file that does not exist does not compile:
///
/// ```compile_fail
/// let f = flowyt_runtime::include_flow!("flows/no-such-file.json");
/// ```
#[proc_macro]
pub fn include_flow(input: TokenStream) -> TokenStream {
    let input = proc_macro2::TokenStream::from(input);
    let private = paths::Runtime::sniff(&input).private();
    match include::expand_include_flow(input) {
        Ok(tokens) => tokens.into(),
        Err(e) => {
            let errors = e.to_compile_error();
            quote::quote!({ #errors #private::invalid_flow() }).into()
        }
    }
}

/// A whole legacy workspace folder (`config/settings.json`, `routes.json`, `flows/*.json`),
/// read, lowered and validated at compile time; evaluates to an `IncludedWorkspace` whose
/// `router(&engine)` serves its routes.
///
/// Checked beyond each flow: `jump`/`handle`/`loop` targets and routes name flows of the
/// workspace, and every `${env.X}` a template reads is a key of the settings' `env`. Each
/// problem is an error on the path naming `file:line:col`; warnings are rustc warnings. The
/// path is relative to the crate root. The flows and routes expand to code that builds what
/// was checked (nothing is lowered when the program starts); the settings are embedded as text
/// and read when the program loads the workspace (`${env('NAME')}` in them reads its
/// environment), which also checks that the engine registers the `function.*` the flows call.
/// Every file is named by `include_str!`/`include_bytes!`, so cargo rebuilds when one changes
/// (a flow file *added* to the folder is seen at the next build of the crate: touch the source
/// that includes it). Typed actions the flows use are listed after the
/// path: `include_workspace!("workspaces/shop", actions = [send_sms])`.
///
/// ```
/// use flowyt_runtime::{Engine, include_workspace};
///
/// let shop = include_workspace!("../examples/workspaces/shop");
/// assert_eq!(shop.name(), "shop");
/// let router: axum::Router = shop.router(&Engine::new().unwrap()).unwrap();
/// # let _ = router;
/// ```
///
/// A folder that is not a workspace does not compile:
///
/// ```compile_fail
/// let ws = flowyt_runtime::include_workspace!("src");
/// ```
#[proc_macro]
pub fn include_workspace(input: TokenStream) -> TokenStream {
    let input = proc_macro2::TokenStream::from(input);
    let private = paths::Runtime::sniff(&input).private();
    match workspace::expand(input) {
        Ok(tokens) => tokens.into(),
        Err(e) => {
            let errors = e.to_compile_error();
            quote::quote!({ #errors #private::invalid_workspace() }).into()
        }
    }
}

/// Turns `async fn name(input: T[, state: &S]) -> Result<O, E>` into a typed custom action
/// called `name`: a unit struct implementing `TypedAction` and `CustomAction`, whose
/// `name::run` is the function as written.
///
/// The action's evaluated data is deserialised into `T` (`serde::Deserialize`); `Ok(o)` becomes
/// `response.data` and takes the success branch, `Err(e)` takes the fail branch (both
/// `serde::Serialize`). `state: &S` is the state the engine was built with
/// (`Engine::builder().state(...)`). List the action in a flow with `actions = [name]`.
///
/// ```
/// use flowyt_runtime::{Engine, Outcome, RunInput, flow, flow_action};
/// use serde::{Deserialize, Serialize};
/// use serde_json::json;
///
/// #[derive(Deserialize)]
/// struct Order { qty: u32 }
///
/// #[derive(Serialize)]
/// struct Quote { total: u32 }
///
/// struct Prices { unit: u32 }
///
/// /// Prices an order.
/// #[flow_action]
/// async fn price(input: Order, prices: &Prices) -> Result<Quote, String> {
///     match input.qty {
///         0 => Err("empty order".to_string()),
///         qty => Ok(Quote { total: qty * prices.unit }),
///     }
/// }
///
/// let flow = flow! {
///     actions = [price];
///     quote: price { qty: "${int(request.qs.qty)}" } -> success: done, fail: refuse;
///     done: response { data: "${response.data}" };
///     refuse: response { status: 422, data: { error: "${response.data}" } };
/// };
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let engine = Engine::builder().state(Prices { unit: 5 }).build().unwrap();
/// let run = flow
///     .service(&engine)
///     .run(RunInput { request: json!({"qs": {"qty": "3"}}), ..Default::default() })
///     .await;
/// let Outcome::Response { body, .. } = run.outcome else { panic!() };
/// assert_eq!(body.to_value(), json!({"total": 15}));
/// # });
/// ```
///
/// The function must be `async`:
///
/// ```compile_fail
/// #[flowyt_runtime::flow_action]
/// fn price(input: u32) -> Result<u32, String> { Ok(input) }
/// ```
#[proc_macro_attribute]
pub fn flow_action(attr: TokenStream, item: TokenStream) -> TokenStream {
    action::expand_flow_action(attr.into(), item.into()).into()
}

/// Makes a plain function callable from templates as `${function.<path>(args)}`, with typed
/// arguments (deserialised from the template's values) and a typed result (serialised back).
///
/// Declare it in a flow's header with `functions = [path::to::it]`: the flow can then only call
/// declared functions (a misspelt one is a compile error), and mounting the flow registers them.
///
/// ```
/// use flowyt_runtime::{Engine, Outcome, RunInput, flow};
/// use serde_json::json;
///
/// mod students {
///     #[flowyt_runtime::flow_function]
///     pub fn approved(scores: Vec<u32>, min: u32) -> Vec<u32> {
///         scores.into_iter().filter(|s| *s >= min).collect()
///     }
/// }
///
/// let f = flow! {
///     functions = [students::approved];
///     1: response { data: "${function.students.approved([4, 7, 9], 6)}" };
/// };
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let run = f.service(&Engine::new().unwrap()).run(RunInput::default()).await;
/// let Outcome::Response { body, .. } = run.outcome else { panic!() };
/// assert_eq!(body.to_value(), json!([7, 9]));
/// # });
/// ```
///
/// It takes a plain `fn`, not an `async fn`:
///
/// ```compile_fail
/// #[flowyt_runtime::flow_function]
/// async fn double(n: i64) -> i64 { n * 2 }
/// ```
#[proc_macro_attribute]
pub fn flow_function(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item2 = proc_macro2::TokenStream::from(item.clone());
    match function::expand(attr.into(), item2.clone()) {
        Ok(tokens) => tokens.into(),
        Err(e) => {
            let mut out = item2;
            out.extend(e.to_compile_error());
            out.into()
        }
    }
}

/// Describes the JSON fields a `#[flow_action]`'s output serialises to, so that `flow!`
/// checks `${response.data.NAME}` in the action the success branch leads to.
///
/// Names follow serde: `#[serde(rename = "...")]`, `#[serde(rename_all = "...")]` and
/// `skip`/`skip_serializing` are read; with `#[serde(flatten)]`, `tag` or `transparent` the
/// fields are not known and nothing is checked. Without this derive an output is not checked
/// either (flowyt cannot see a type's fields otherwise).
///
/// ```
/// use flowyt_runtime::{FlowOutput, flow, flow_action};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize)]
/// struct Sms { to: String }
///
/// #[derive(Serialize, FlowOutput)]
/// #[serde(rename_all = "camelCase")]
/// struct Sent { message_id: String }
///
/// #[flow_action]
/// async fn send_sms(sms: Sms) -> Result<Sent, String> {
///     Ok(Sent { message_id: format!("to-{}", sms.to) })
/// }
///
/// let _ = flow! {
///     actions = [send_sms];
///     1: send_sms { to: "${request.qs.to}" } -> success: 2, fail: 3;
///     2: response { data: { id: "${response.data.messageId}" } };
///     3: response { status: 502, data: "${response.data}" };
/// };
/// ```
///
/// A field the output does not have does not compile:
///
/// ```compile_fail
/// # use flowyt_runtime::{FlowOutput, flow, flow_action};
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Deserialize)] struct Sms { to: String }
/// #[derive(Serialize, FlowOutput)]
/// struct Sent { message_id: String }
/// # #[flow_action]
/// # async fn send_sms(sms: Sms) -> Result<Sent, String> { Ok(Sent { message_id: sms.to }) }
/// let _ = flow! {
///     actions = [send_sms];
///     1: send_sms { to: "${request.qs.to}" } -> success: 2, fail: 3;
///     2: response { data: { id: "${response.data.mesage_id}" } };
///     3: response { status: 502, data: "${response.data}" };
/// };
/// ```
#[proc_macro_derive(FlowOutput, attributes(flowyt))]
pub fn flow_output(input: TokenStream) -> TokenStream {
    match output::expand(input.into()) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// The operator table of `flowyt_runtime::__private::ops` (see `ops.rs`). Not public API.
#[doc(hidden)]
#[proc_macro]
pub fn __op_table(_input: TokenStream) -> TokenStream {
    ops::table().into()
}

/// `__compiled_templates!("dir")`: the Rust generated for every `${...}` expression of the
/// JSON files under `dir` (relative to the calling crate), as `flow!` would generate it, for
/// tests that hold generated code to the interpreter on a whole corpus. Not public API.
#[doc(hidden)]
#[proc_macro]
pub fn __compiled_templates(input: TokenStream) -> TokenStream {
    exprs::expand_corpus(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// This crate's README snippets, compiled and run as doc tests (private: a proc-macro crate
/// exports only macros).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme_doctests {}
