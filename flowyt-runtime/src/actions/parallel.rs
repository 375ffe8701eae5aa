//! `parallel`: several requests and sub-flows at once, joined. Every branch must succeed
//! (a 2xx answer, a sub-flow that ends without an error and below 400) for the success branch.
//!
//! `response` after the action is `{"status": 200 | 502, "data": {NAME: result, ...},
//! "failed": [NAME, ...]}`, each result shaped as a `request` or `handle` result.

use super::Effect;
#[cfg(feature = "http-client")]
use super::request;
use crate::context::Ctx;
use crate::engine::{Runner, fail};
use crate::error::{ErrorKind, RunError};
use flowyt_core::model::{Action, Parallel, ParallelBranch};
use futures_util::future::join_all;
use serde_json::{Map, Value, json};

enum Done {
    Request(Result<(crate::context::ResponseSlot, bool, Value), RunError>),
    Flow(Result<String, RunError>, Value, Value, Option<Value>, u64),
}

pub(super) async fn run<'a>(
    runner: &mut Runner<'_>,
    ctx: &mut Ctx,
    action: &'a Action,
    p: &'a Parallel,
) -> Result<(Effect<'a>, Value), RunError> {
    // Without the HTTP client, a request branch fails the action before any branch starts.
    #[cfg(not(feature = "http-client"))]
    if p.branches
        .iter()
        .any(|(_, b)| matches!(b, ParallelBranch::Request(_)))
    {
        return Err(super::without_http_client(action));
    }
    let shared_runner: &Runner<'_> = runner;
    let shared_ctx: &Ctx = ctx;
    let futures = p.branches.iter().map(|(_, branch)| async move {
        match branch {
            ParallelBranch::Request(r) => {
                #[cfg(feature = "http-client")]
                let called = Box::pin(request::call(shared_runner, shared_ctx, action, r)).await;
                #[cfg(not(feature = "http-client"))]
                let called = {
                    let _ = r;
                    Err(super::without_http_client(action))
                };
                Done::Request(called)
            }
            ParallelBranch::Flow(r) => {
                let key = super::eval(action, &r.flow, shared_ctx)
                    .and_then(|v| super::flow_name(action, &v));
                match key {
                    Ok(key) => {
                        let mut child = shared_runner.child();
                        let (result, workspace, trace) =
                            child.sub_flow(shared_ctx, &key, None).await;
                        let steps = child.steps();
                        Done::Flow(Ok(key), result, workspace, trace, steps)
                    }
                    Err(e) => Done::Flow(Err(e), Value::Null, Value::Null, None, 0),
                }
            }
        }
    });
    let done = join_all(futures).await;

    let mut results = Map::new();
    let mut failed = Vec::new();
    let mut evaluated = Map::new();
    let mut workspaces = Vec::new();
    for ((name, _), outcome) in p.branches.iter().zip(done) {
        match outcome {
            Done::Request(r) => {
                let (slot, ok, data) = r?;
                if !ok {
                    failed.push(Value::String(name.clone()));
                }
                results.insert(name.clone(), slot.get().clone());
                evaluated.insert(name.clone(), data);
            }
            Done::Flow(key, result, workspace, trace, steps) => {
                let key = key?;
                runner
                    .absorb_steps(steps)
                    .map_err(|m| fail(action, ErrorKind::StepLimit, m))?;
                let ok = result.get("exception").is_none()
                    && result
                        .get("status")
                        .and_then(Value::as_u64)
                        .is_none_or(|s| s < 400);
                if !ok {
                    failed.push(Value::String(name.clone()));
                }
                let mut e = json!({ "flow": key });
                if let Some(trace) = trace {
                    e["trace"] = json!({ "flows": trace });
                }
                evaluated.insert(name.clone(), e);
                results.insert(name.clone(), result);
                workspaces.push(workspace);
            }
        }
    }
    // Sub-flows' workspace variables come back in branch order.
    for w in workspaces {
        crate::context::merge(&mut ctx.workspace, w);
    }
    let ok = failed.is_empty();
    let produced = json!({
        "status": if ok { 200 } else { 502 },
        "data": results,
        "failed": failed,
    });
    Ok((
        Effect::Continue {
            produced: Some(produced.into()),
            branch: Some(if ok { &p.success } else { &p.fail }),
        },
        json!({ "branches": evaluated }),
    ))
}
