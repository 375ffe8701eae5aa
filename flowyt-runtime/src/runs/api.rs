//! The runs API over HTTP: trigger a run, list a flow's runs, read one run.
//!
//! ```no_run
//! use flowyt_runtime::runs::{MemoryStore, api};
//! use flowyt_runtime::{Engine, Strictness};
//! use std::sync::Arc;
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::new()?;
//! let github = engine.load_workspace("workspaces/github".as_ref(), Strictness::Legacy)?.workspace;
//! let lookup = move |name: &str| (name == "github").then(|| github.clone());
//! let app: axum::Router = axum::Router::new().merge(api::router(lookup, Arc::new(MemoryStore::default())));
//! // POST /_workspaces/github/flows/search/runs {"conf": {...}} -> 201 {"run_id", "status": "queued"}
//! # Ok(())
//! # }
//! ```

use super::{Page, RunStore, TriggerError, trigger};
use crate::Workspace;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::sync::Arc;

/// Finds the workspace a runs API call names (`Fn(&str) -> Option<Workspace>` is one).
pub trait Workspaces: Send + Sync + 'static {
    /// The workspace served under `name`, if any.
    fn workspace(&self, name: &str) -> Option<Workspace>;
}

impl<F> Workspaces for F
where
    F: Fn(&str) -> Option<Workspace> + Send + Sync + 'static,
{
    fn workspace(&self, name: &str) -> Option<Workspace> {
        self(name)
    }
}

#[derive(Clone)]
struct Api {
    workspaces: Arc<dyn Workspaces>,
    store: Arc<dyn RunStore>,
}

/// The routes of the runs API, to merge into an application's router:
/// `POST /_workspaces/{workspace}/flows/{flow}/runs` (`{"run_id"?, "conf": {...}}` →
/// `201 {"run_id", "status": "queued"}`), `GET` the same path (the runs, newest first) and
/// `GET .../runs/{run_id}` (one whole record). Access control is the application's: wrap the
/// router in its own layer.
pub fn router<S: Clone + Send + Sync + 'static>(
    workspaces: impl Workspaces,
    store: Arc<dyn RunStore>,
) -> Router<S> {
    Router::new()
        .route(
            "/_workspaces/{workspace}/flows/{flow}/runs",
            post(trigger_run).get(list_runs),
        )
        .route(
            "/_workspaces/{workspace}/flows/{flow}/runs/{run_id}",
            get(get_run),
        )
        .with_state(Api {
            workspaces: Arc::new(workspaces),
            store,
        })
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, axum::Json(json!({ "message": text }))).into_response()
}

async fn trigger_run(
    State(api): State<Api>,
    Path((workspace, flow)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let Some(ws) = api.workspaces.workspace(&workspace) else {
        return message(
            StatusCode::NOT_FOUND,
            &format!("unknown workspace `{workspace}`"),
        );
    };
    let body: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                return message(
                    StatusCode::BAD_REQUEST,
                    &format!("the body is not valid JSON: {e}"),
                );
            }
        }
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
    let triggered = trigger(&ws, api.store.clone(), &flow, run_id, conf).await;
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

/// `?limit=N&offset=M` of a list (default 100 from 0, at most [`Page::MAX_LIMIT`]).
#[derive(serde::Deserialize)]
struct PageQuery {
    limit: Option<usize>,
    offset: Option<usize>,
}

async fn list_runs(
    State(api): State<Api>,
    Path((workspace, flow)): Path<(String, String)>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return message(
            StatusCode::BAD_REQUEST,
            "`limit` and `offset` must be non-negative integers",
        );
    };
    let page = Page::new(q.limit.unwrap_or(100), q.offset.unwrap_or(0));
    let listed = api.store.list(&workspace, &flow, page).await;
    match listed {
        Ok(list) => {
            let next = (list.len() == page.limit).then(|| page.offset + page.limit);
            let runs: Vec<Value> = list
                .iter()
                .map(|r| {
                    json!({"run_id": r.run_id, "status": r.status.as_str(), "queued_at": r.queued_at,
                           "started_at": r.started_at, "ended_at": r.ended_at, "error": r.error})
                })
                .collect();
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
    State(api): State<Api>,
    Path((workspace, flow, run_id)): Path<(String, String, String)>,
) -> Response {
    let found = api.store.get(&workspace, &flow, &run_id).await;
    match found {
        Ok(Some(r)) => axum::Json(r.to_json()).into_response(),
        Ok(None) => message(
            StatusCode::NOT_FOUND,
            &format!("no run `{run_id}` of `{workspace}/{flow}`"),
        ),
        Err(e) => message(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}
