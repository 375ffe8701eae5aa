//! The runs API over HTTP: trigger a run, list a flow's runs, read one run.
//!
//! ```no_run
//! use flowyt_runtime::runs::{MemoryStore, Runs, RunsOptions, api};
//! use flowyt_runtime::{Engine, Strictness};
//! use std::sync::Arc;
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::new()?;
//! let github = engine.load_workspace("workspaces/github".as_ref(), Strictness::Legacy)?.workspace;
//! let lookup = move |name: &str| (name == "github").then(|| github.clone());
//! let runs = Runs::start(Arc::new(MemoryStore::default()), lookup, RunsOptions::default());
//! let app: axum::Router = axum::Router::new().merge(api::router(runs));
//! // POST /_workspaces/github/flows/search/runs {"conf": {...}} -> 201 {"run_id", "status": "queued"}
//! # Ok(())
//! # }
//! ```

use super::{Cancelled, ListQuery, Page, RunStatus, Runs, TriggerError};
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

pub use super::worker::Workspaces;

/// The routes of the runs API, to merge into an application's router:
///
/// - `POST /_workspaces/{workspace}/flows/{flow}/runs` (`{"run_id"?, "conf": {...}}` →
///   `201 {"run_id", "status": "queued"}`);
/// - `GET` the same path: the flow's runs, newest first (`?limit=&offset=&status=`);
/// - `GET /_workspaces/{workspace}/runs`: the runs of every flow of the workspace;
/// - `GET .../runs/{run_id}`: one whole record;
/// - `POST .../runs/{run_id}/cancel`: a queued run never starts, a running one stops at its
///   next action boundary.
///
/// Access control is the application's: wrap the router in its own layer.
pub fn router<S: Clone + Send + Sync + 'static>(runs: Runs) -> Router<S> {
    Router::new()
        .route(
            "/_workspaces/{workspace}/flows/{flow}/runs",
            post(trigger_run).get(list_flow_runs),
        )
        .route("/_workspaces/{workspace}/runs", get(list_workspace_runs))
        .route(
            "/_workspaces/{workspace}/flows/{flow}/runs/{run_id}",
            get(get_run),
        )
        .route(
            "/_workspaces/{workspace}/flows/{flow}/runs/{run_id}/cancel",
            post(cancel_run),
        )
        .with_state(runs)
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, axum::Json(json!({ "message": text }))).into_response()
}

async fn trigger_run(
    State(runs): State<Runs>,
    Path((workspace, flow)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(ws) = runs.workspace(&workspace) else {
        return message(
            StatusCode::NOT_FOUND,
            &format!("unknown workspace `{workspace}`"),
        );
    };
    let body = match trigger_body(&body, &["run_id", "conf"]) {
        Ok(b) => b,
        Err(m) => return message(StatusCode::BAD_REQUEST, &m),
    };
    let run_id = match body.get("run_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) if !id.is_empty() && id.len() <= 200 => Some(id.clone()),
        Some(_) => {
            return message(
                StatusCode::BAD_REQUEST,
                "`run_id` must be a non-empty string",
            );
        }
    };
    let conf = body.get("conf").cloned().unwrap_or(Value::Null);
    let trace = crate::telemetry::TraceContext::from_headers(&headers);
    let triggered = runs.trigger_in_trace(&ws, &flow, run_id, conf, trace).await;
    match triggered {
        Ok(run_id) => (
            StatusCode::CREATED,
            axum::Json(json!({"run_id": run_id, "status": "queued"})),
        )
            .into_response(),
        Err(TriggerError::UnknownFlow(f)) => message(
            StatusCode::NOT_FOUND,
            &format!("unknown flow `{f}` in `{workspace}`"),
        ),
        Err(TriggerError::BadParams { param, message }) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"message": message, "param": param})),
        )
            .into_response(),
        Err(e @ TriggerError::Duplicate(_)) => message(StatusCode::CONFLICT, &e.to_string()),
        Err(e @ TriggerError::BadConf(_)) => message(StatusCode::BAD_REQUEST, &e.to_string()),
        Err(e @ TriggerError::Busy(_)) => message(StatusCode::TOO_MANY_REQUESTS, &e.to_string()),
        Err(e @ TriggerError::Store(_)) => {
            message(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
        }
    }
}

/// A trigger's body: empty, or a JSON object holding only `fields` (a misspelt field, `confs`,
/// would otherwise start a run without what was meant for it). The error says what is wrong.
pub(crate) fn trigger_body(body: &[u8], fields: &[&str]) -> Result<Map<String, Value>, String> {
    let list = || {
        fields
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let map = match body {
        [] => Map::new(),
        _ => match serde_json::from_slice(body) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(format!("the body must be a JSON object of {}", list())),
            Err(e) => return Err(format!("the body is not valid JSON: {e}")),
        },
    };
    match map.keys().find(|k| !fields.contains(&k.as_str())) {
        Some(unknown) => Err(format!(
            "unknown field `{unknown}`: a trigger takes {}",
            list()
        )),
        None => Ok(map),
    }
}

/// `?limit=N&offset=M&status=S` of a list (default 100 from 0, at most [`Page::MAX_LIMIT`]).
#[derive(serde::Deserialize)]
struct ListParams {
    limit: Option<usize>,
    offset: Option<usize>,
    status: Option<String>,
}

async fn list_flow_runs(
    State(runs): State<Runs>,
    Path((workspace, flow)): Path<(String, String)>,
    query: Result<Query<ListParams>, QueryRejection>,
) -> Response {
    list(&runs, workspace, Some(flow), query).await
}

async fn list_workspace_runs(
    State(runs): State<Runs>,
    Path(workspace): Path<String>,
    query: Result<Query<ListParams>, QueryRejection>,
) -> Response {
    list(&runs, workspace, None, query).await
}

async fn list(
    runs: &Runs,
    workspace: String,
    flow: Option<String>,
    query: Result<Query<ListParams>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return message(
            StatusCode::BAD_REQUEST,
            "`limit` and `offset` must be non-negative integers",
        );
    };
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => match RunStatus::parse(s) {
            Some(s) => Some(s),
            None => {
                return message(
                    StatusCode::BAD_REQUEST,
                    &format!(
                        "unknown status `{s}`: use queued, running, success, failed or cancelled"
                    ),
                );
            }
        },
    };
    let page = Page::new(q.limit.unwrap_or(100), q.offset.unwrap_or(0));
    let query = ListQuery {
        workspace,
        flow,
        status,
        page,
    };
    match runs.store().list(&query).await {
        Ok(list) => {
            let next = (list.len() == page.limit).then(|| page.offset + page.limit);
            let runs: Vec<Value> = list.iter().map(|r| r.summary_json()).collect();
            axum::Json(json!({
                "runs": runs,
                "limit": page.limit,
                "offset": page.offset,
                "next_offset": next,
            }))
            .into_response()
        }
        Err(e) => message(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

async fn get_run(
    State(runs): State<Runs>,
    Path((workspace, flow, run_id)): Path<(String, String, String)>,
) -> Response {
    let found = runs.store().get(&workspace, &flow, &run_id).await;
    match found {
        Ok(Some(r)) => axum::Json(r.to_json()).into_response(),
        Ok(None) => no_run(&workspace, &flow, &run_id),
        Err(e) => message(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

fn no_run(workspace: &str, flow: &str, run_id: &str) -> Response {
    message(
        StatusCode::NOT_FOUND,
        &format!("no run `{run_id}` of `{workspace}/{flow}`"),
    )
}

async fn cancel_run(
    State(runs): State<Runs>,
    Path((workspace, flow, run_id)): Path<(String, String, String)>,
) -> Response {
    let outcome = runs.store().cancel(&workspace, &flow, &run_id).await;
    match outcome {
        Ok(Cancelled::Now) => {
            axum::Json(json!({"run_id": run_id, "status": "cancelled"})).into_response()
        }
        Ok(Cancelled::Requested) => (
            StatusCode::ACCEPTED,
            axum::Json(json!({"run_id": run_id, "status": "cancelling",
                "message": "the run stops at its next action boundary"})),
        )
            .into_response(),
        Ok(Cancelled::AlreadyEnded(status)) => (
            StatusCode::CONFLICT,
            axum::Json(json!({"run_id": run_id, "status": status.as_str(),
                "message": format!("run `{run_id}` has already ended ({})", status.as_str())})),
        )
            .into_response(),
        Ok(Cancelled::NotFound) => no_run(&workspace, &flow, &run_id),
        Err(e) => message(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}
