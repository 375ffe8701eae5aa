//! One module per action kind; [`execute`] dispatches.

mod parallel;
pub(crate) mod redis;
#[cfg(feature = "http-client")]
mod request;
pub(crate) mod sql_db;
mod switch;

use crate::body::{Body, Out};
use crate::context::{Ctx, ResponseSlot, merge};
use crate::engine::{Runner, fail};
use crate::error::{ErrorKind, RunError};
use flowyt_core::expr::{EvalError, Scope};
use flowyt_core::model::{Action, Data, Edge, Kind};
use futures_util::FutureExt;
use serde_json::{Map, Value, json};
use std::panic::AssertUnwindSafe;

/// What an action did.
pub(crate) enum Effect<'a> {
    /// Carry on: `produced` becomes `response` for the next action; `branch` is the edge
    /// `${pipeline.next_action}` follows.
    Continue {
        produced: Option<ResponseSlot>,
        branch: Option<&'a Edge>,
    },
    /// Answer the request and stop the run.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Body,
    },
    /// Stop the run with an empty result.
    End,
    /// A validation failed and has nowhere to go: answer 400 with the errors.
    Invalid(Value),
    /// Continue in another flow.
    Jump(String),
}

fn cont<'a>() -> Effect<'a> {
    Effect::Continue {
        produced: None,
        branch: None,
    }
}

/// Evaluates a URL: values spliced into its path or query are percent-encoded, a template
/// that starts it is kept as is (see `flowyt_core::expr::url`).
#[cfg(feature = "http-client")]
pub(crate) fn eval_url(action: &Action, data: &Data, scope: &dyn Scope) -> Result<Value, RunError> {
    match data {
        Data::Template(t) => t
            .template
            .render_url(scope)
            .map_err(|e| eval_error(action, &e)),
        other => eval(action, other, scope),
    }
}

/// Evaluates action data against the context.
pub(crate) fn eval(action: &Action, data: &Data, scope: &dyn Scope) -> Result<Value, RunError> {
    match data {
        Data::Const(v) => Ok(v.clone()),
        Data::Template(t) => t.template.render(scope).map_err(|e| eval_error(action, &e)),
        Data::Array(items) => items
            .iter()
            .map(|d| eval(action, d, scope))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Data::Object(members) => {
            let mut map = Map::with_capacity(members.len());
            for (k, d) in members {
                map.insert(k.clone(), eval(action, d, scope)?);
            }
            Ok(Value::Object(map))
        }
    }
}

/// Evaluates a response body, passing raw upstream JSON through where a template is exactly
/// `${response.data}` and the previous request kept its body raw.
fn eval_body(action: &Action, data: &Data, ctx: &Ctx) -> Result<Out, RunError> {
    Ok(match data {
        Data::Template(t) if t.is_path("response", "data") => match ctx.response.raw_data() {
            Some(raw) => Out::Raw(raw.clone()),
            None => Out::Json(eval(action, data, ctx)?),
        },
        Data::Object(members) => {
            let mut outs = Vec::with_capacity(members.len());
            for (k, d) in members {
                outs.push((k.clone(), eval_body(action, d, ctx)?));
            }
            if outs.iter().all(|(_, o)| matches!(o, Out::Json(_))) {
                Out::Json(Value::Object(
                    outs.into_iter()
                        .filter_map(|(k, o)| match o {
                            Out::Json(v) => Some((k, v)),
                            _ => None,
                        })
                        .collect(),
                ))
            } else {
                Out::Object(outs)
            }
        }
        Data::Array(items) => Out::Array(
            items
                .iter()
                .map(|d| eval_body(action, d, ctx))
                .collect::<Result<_, _>>()?,
        ),
        other => Out::Json(eval(action, other, ctx)?),
    })
}

pub(crate) fn eval_error(action: &Action, e: &EvalError) -> RunError {
    match e {
        EvalError::Missing { path, .. } => fail(
            action,
            ErrorKind::Template,
            format!("`{path}` is missing in action `{}`", action.id),
        )
        .caused_by(e.clone()),
        other => {
            let kind = if other.is_time_limit() {
                ErrorKind::Timeout
            } else if other.is_limit() {
                ErrorKind::StepLimit
            } else {
                ErrorKind::Template
            };
            fail(action, kind, other.to_string()).caused_by(other.clone())
        }
    }
}

/// What a `request` action does in a build without flowyt's HTTP client.
#[cfg(not(feature = "http-client"))]
pub(super) fn without_http_client(action: &Action) -> RunError {
    fail(
        action,
        ErrorKind::Action,
        "the `request` action needs flowyt-runtime's `http-client` feature, which this build \
         leaves out"
            .to_string(),
    )
}

/// A copy of `v` for the debug trace, or nothing when the run is not traced.
fn traced(runner: &Runner<'_>, v: &Value) -> Value {
    if runner.tracing() {
        v.clone()
    } else {
        Value::Null
    }
}

/// Runs one action. Returns its effect and its evaluated data (for the debug trace).
pub(crate) async fn execute<'a>(
    runner: &mut Runner<'_>,
    ctx: &mut Ctx,
    action: &'a Action,
) -> Result<(Effect<'a>, Value), RunError> {
    Ok(match &action.kind {
        Kind::Start => (cont(), Value::Object(Map::new())),
        Kind::End => (Effect::End, Value::Object(Map::new())),
        Kind::Unknown(_) => (cont(), action.raw_data.clone()),
        Kind::FlowVar(d) => {
            let v = eval(action, d, ctx)?;
            let evaluated = traced(runner, &v);
            merge(&mut ctx.flow, v);
            (cont(), evaluated)
        }
        Kind::WorkspaceVar(d) => {
            let v = eval(action, d, ctx)?;
            let evaluated = traced(runner, &v);
            merge(&mut ctx.workspace, v);
            (cont(), evaluated)
        }
        Kind::Run(d) => {
            let v = eval(action, d, ctx)?;
            (
                Effect::Continue {
                    produced: Some(json!({ "data": v }).into()),
                    branch: None,
                },
                v,
            )
        }
        // Boxed: the HTTP client's future is kilobytes, which every action's future and
        // every caller's would otherwise hold inline and move.
        #[cfg(feature = "http-client")]
        Kind::Request(r) => Box::pin(request::run(runner, ctx, action, r)).await?,
        #[cfg(not(feature = "http-client"))]
        Kind::Request(_) => return Err(without_http_client(action)),
        Kind::Response(r) => {
            let status = match &r.status {
                Some(d) => {
                    let v = eval(action, d, ctx)?;
                    status_of(&v).ok_or_else(|| {
                        fail(
                            action,
                            ErrorKind::Action,
                            format!("`status` must be an HTTP status code, found `{v}`"),
                        )
                    })?
                }
                None => 200,
            };
            let headers_v = eval(action, &r.headers, ctx)?;
            let headers = header_pairs(action, &headers_v)?;
            let body = Body(eval_body(action, &r.body, ctx)?);
            let evaluated = if runner.tracing() {
                json!({"status": status, "headers": headers_v, "data": body.to_value()})
            } else {
                Value::Null
            };
            let mut all = vec![("Content-Type".to_string(), "application/json".to_string())];
            for (k, v) in headers {
                if k.eq_ignore_ascii_case("content-type") {
                    all[0].1 = v;
                } else {
                    all.push((k, v));
                }
            }
            (
                Effect::Respond {
                    status,
                    headers: all,
                    body,
                },
                evaluated,
            )
        }
        Kind::Switch(s) => switch::run(runner, ctx, action, s)?,
        Kind::Validation(v) => {
            let document = ctx.request.member("data").unwrap_or(&Value::Null);
            match v.schema.validate(document) {
                Ok(()) => (
                    Effect::Continue {
                        produced: None,
                        branch: Some(&v.success),
                    },
                    action.raw_data.clone(),
                ),
                Err(errors) => {
                    let errors = Value::Object(errors);
                    if matches!(v.fail, Edge::None) {
                        (
                            Effect::Invalid(json!({ "errors": errors })),
                            action.raw_data.clone(),
                        )
                    } else {
                        (
                            Effect::Continue {
                                produced: Some(
                                    json!({"status": 400, "data": {"errors": errors}}).into(),
                                ),
                                branch: Some(&v.fail),
                            },
                            action.raw_data.clone(),
                        )
                    }
                }
            }
        }
        Kind::Jump(r) => {
            let target = eval(action, &r.flow, ctx)?;
            let evaluated = json!({ "next_flow": target });
            match target {
                Value::String(s) if !s.is_empty() => (Effect::Jump(s), evaluated),
                Value::Null | Value::Bool(false) => (cont(), evaluated),
                Value::String(_) => (cont(), evaluated),
                other => {
                    return Err(fail(
                        action,
                        ErrorKind::Action,
                        format!("`next_flow` must be a flow name, found `{other}`"),
                    ));
                }
            }
        }
        Kind::Handle(r) => {
            let key = flow_name(action, &eval(action, &r.flow, ctx)?)?;
            let (result, workspace, trace) = runner.sub_flow(ctx, &key, None).await;
            if !action.execute_async {
                merge(&mut ctx.workspace, workspace);
            }
            let mut evaluated = json!({ "flow": key });
            if let Some(trace) = trace {
                evaluated["trace"] = json!({ "flows": trace });
            }
            if action.execute_async {
                // Legacy async handles ran at the end of the flow and their results were lost.
                (cont(), evaluated)
            } else {
                (
                    Effect::Continue {
                        produced: Some(result.into()),
                        branch: None,
                    },
                    evaluated,
                )
            }
        }
        Kind::Loop(l) => {
            let items = match eval(action, &l.items, ctx)? {
                Value::Array(items) => items,
                Value::Number(n) => {
                    let count = n.as_u64().ok_or_else(|| {
                        fail(
                            action,
                            ErrorKind::Action,
                            format!("a `range` loop needs a non-negative count, found `{n}`"),
                        )
                    })?;
                    // Each item runs at least one action, so a count beyond the step budget
                    // can never finish: refuse it before allocating anything for it.
                    let budget = runner.shared.settings.limits.max_steps;
                    if count > budget {
                        return Err(fail(
                            action,
                            ErrorKind::StepLimit,
                            format!(
                                "a `range` loop of {count} items exceeds the run's step budget \
                                 ({budget}, `limits.max_steps`)"
                            ),
                        ));
                    }
                    (0..count).map(Value::from).collect()
                }
                other => {
                    return Err(fail(
                        action,
                        ErrorKind::Action,
                        format!("`loop` needs a list to iterate, found `{other}`"),
                    ));
                }
            };
            let key = flow_name(action, &eval(action, &l.flow.flow, ctx)?)?;
            let mut results = Vec::with_capacity(items.len());
            for (index, item) in items.into_iter().enumerate() {
                let (result, workspace, _) = runner
                    .sub_flow(ctx, &key, Some(json!({"index": index, "item": item})))
                    .await;
                merge(&mut ctx.workspace, workspace);
                if let Some(exception) = result.get("exception") {
                    return Err(fail(
                        action,
                        ErrorKind::Flow,
                        format!(
                            "item {index} of the loop failed: {}",
                            exception
                                .get("message")
                                .and_then(Value::as_str)
                                .unwrap_or("error")
                        ),
                    ));
                }
                results.push(result.get("data").cloned().unwrap_or(Value::Null));
            }
            let evaluated = json!({ "flow": key, "count": results.len() });
            (
                Effect::Continue {
                    produced: Some(json!({ "data": results }).into()),
                    branch: None,
                },
                evaluated,
            )
        }
        Kind::Parallel(p) => parallel::run(runner, ctx, action, p).await?,
        Kind::SqlDb(s) => sql_db::run(runner, ctx, action, s).await?,
        Kind::Redis(r) => redis::run(runner, ctx, action, r).await?,
        Kind::Integration(_) => {
            return Err(fail(
                action,
                ErrorKind::UnknownAction,
                format!(
                    "the `{}` integration is not supported by flowyt",
                    action.kind_name
                ),
            ));
        }
        Kind::Custom(c) => {
            let Some(custom) = runner.shared.actions.map.get(&action.kind_name).cloned() else {
                return Err(fail(
                    action,
                    ErrorKind::UnknownAction,
                    format!("no custom action `{}` is registered", action.kind_name),
                ));
            };
            let input = eval(action, &c.data, ctx)?;
            let cx = runner.shared.actions.cx.for_run(runner.extensions.as_ref());
            let called = AssertUnwindSafe(custom.call(input.clone(), cx))
                .catch_unwind()
                .await;
            custom_effect(action, c, called, input)?
        }
    })
}

/// Runs a use of the typed action `typed` (a `flow!`'s generated loop calls it directly,
/// rather than by its kind name): its evaluated data deserialised into its input type, its
/// result serialised as `response.data`, as [`execute`] does through `CustomAction::call`.
pub(crate) async fn typed<'a, A: crate::TypedAction>(
    runner: &mut Runner<'_>,
    ctx: &mut Ctx,
    action: &'a Action,
    typed: &A,
) -> Result<(Effect<'a>, Value), RunError> {
    let Kind::Custom(c) = &action.kind else {
        return Err(fail(
            action,
            ErrorKind::Flow,
            format!("`{}` is not a use of a custom action", action.id),
        ));
    };
    let data = eval(action, &c.data, ctx)?;
    let cx = runner.shared.actions.cx.for_run(runner.extensions.as_ref());
    let called = AssertUnwindSafe(crate::__private::call_typed(typed, &data, cx))
        .catch_unwind()
        .await;
    custom_effect(action, c, called, data)
}

/// A custom action's result as the branch it takes: `Ok` the success branch, `Err` the fail
/// branch, each as `response.data`; a panic fails the run.
fn custom_effect<'a>(
    action: &Action,
    c: &'a flowyt_core::model::Custom,
    called: std::thread::Result<Result<Value, Value>>,
    input: Value,
) -> Result<(Effect<'a>, Value), RunError> {
    let (out, branch) = match called {
        Ok(Ok(out)) => (out, &c.success),
        Ok(Err(err)) => (err, &c.fail),
        Err(_) => {
            return Err(fail(
                action,
                ErrorKind::Panic,
                format!("custom action `{}` panicked", action.kind_name),
            ));
        }
    };
    Ok((
        Effect::Continue {
            produced: Some(json!({ "data": out }).into()),
            branch: Some(branch),
        },
        input,
    ))
}

pub(super) fn flow_name(action: &Action, v: &Value) -> Result<String, RunError> {
    match v {
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        other => Err(fail(
            action,
            ErrorKind::Action,
            format!("expected a flow name, found `{other}`"),
        )),
    }
}

/// An HTTP status from a number or a numeric string (legacy templates yield strings).
pub(crate) fn status_of(v: &Value) -> Option<u16> {
    let n = match v {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    u16::try_from(n).ok().filter(|s| (100..=599).contains(s))
}

/// Header name/value pairs from an evaluated `headers` object (scalars become strings).
pub(crate) fn header_pairs(action: &Action, v: &Value) -> Result<Vec<(String, String)>, RunError> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    other => {
                        return Err(fail(
                            action,
                            ErrorKind::Action,
                            format!("header `{k}` must be a string, found `{other}`"),
                        ));
                    }
                };
                Ok((k.clone(), value))
            })
            .collect(),
        other => Err(fail(
            action,
            ErrorKind::Action,
            format!("`headers` must be an object, found `{other}`"),
        )),
    }
}

#[cfg(all(test, not(feature = "http-client")))]
mod no_http_client_tests {
    use crate::{ErrorKind, Outcome, RunInput};

    /// `json` lowered as the macros would have.
    fn lowered(json: &str) -> flowyt_core::model::Flow {
        flowyt_core::model::Flow::from_json_named("t.json", json, &Default::default())
            .expect("a valid flow")
    }

    const FLOW: &str = r#"{"pipeline": [
        {"id": "1", "action": "request", "data": {"url": "http://127.0.0.1:9/x", "method": "get", "headers": {}, "next_action_success": "2", "next_action_fail": "2"}, "next_action": "${pipeline.next_action}"},
        {"id": "2", "action": "response", "data": {"status": 200, "headers": {}, "data": {}}, "next_action": null}
    ]}"#;

    /// A build without the HTTP client loads flows with `request` actions, and a run that
    /// reaches one fails naming the feature (not a panic, not the fail branch).
    #[tokio::test]
    async fn a_request_action_fails_naming_the_feature() {
        let engine = crate::Engine::new().expect("engine");
        let flow =
            crate::__private::checked_compiled(FLOW, lowered(FLOW), Vec::new(), Vec::new(), None);
        let result = flow.service(&engine).run(RunInput::default()).await;
        let Outcome::Failed(e) = result.outcome else {
            panic!("expected a failed run, got {:?}", result.outcome);
        };
        assert_eq!(e.kind, ErrorKind::Action);
        assert!(e.message.contains("`http-client` feature"), "{}", e.message);
    }

    const PARALLEL: &str = r#"{"pipeline": [
        {"id": "1", "action": "parallel", "data": {"branches": {
            "up": {"url": "http://127.0.0.1:9/x", "method": "get"},
            "sub": {"flow": "missing"}
        }, "next_action_success": "2", "next_action_fail": "2"}, "next_action": "${pipeline.next_action}"},
        {"id": "2", "action": "response", "data": {"status": 200, "headers": {}, "data": {}}, "next_action": null}
    ]}"#;

    /// A `parallel` with a request branch fails the same way, before any branch starts.
    #[tokio::test]
    async fn a_parallel_request_branch_fails_naming_the_feature() {
        let engine = crate::Engine::new().expect("engine");
        let flow = crate::__private::checked_compiled(
            PARALLEL,
            lowered(PARALLEL),
            Vec::new(),
            Vec::new(),
            None,
        );
        let result = flow.service(&engine).run(RunInput::default()).await;
        let Outcome::Failed(e) = result.outcome else {
            panic!("expected a failed run, got {:?}", result.outcome);
        };
        assert_eq!(e.kind, ErrorKind::Action);
        assert!(e.message.contains("`http-client` feature"), "{}", e.message);
    }
}
