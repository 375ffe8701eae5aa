//! An Airflow-compatible REST subset (`/api/v2/…`, Airflow 3's stable API): flows as DAGs,
//! triggered runs as DAG runs, executed actions as task instances, so Airflow scripts and the
//! official `apache-airflow-client` drive flowyt unchanged.
//!
//! | Airflow endpoint | flowyt |
//! |---|---|
//! | `GET /api/v2/version` | flowyt's version |
//! | `GET /api/v2/dags` (`limit`, `offset`, `dag_id_pattern`, `dag_id_prefix_pattern`, `tags`, `tags_match_mode`) | every flow of every workspace, `dag_id` = `<workspace>.<flow>`, tagged with its workspace |
//! | `GET /api/v2/dags/{dag_id}` | one flow |
//! | `POST /api/v2/dags/{dag_id}/dagRuns` (`conf`, `dag_run_id`, `logical_date`) | triggers a run (`200` with the run; `400` naming the param a bad `conf` breaks; `409` for a taken `dag_run_id`) |
//! | `GET /api/v2/dags/{dag_id}/dagRuns` (`limit`, `offset`, `state`, `order_by=-run_after`) | the flow's runs, newest first, with `total_entries` |
//! | `GET /api/v2/dags/{dag_id}/dagRuns/{dag_run_id}` | one run |
//! | `GET /api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances` | the actions it executed |
//! | `POST /auth/token` (`{"username", "password"}`) | the token exchange: the password is the operating token |
//!
//! States are Airflow's: `queued`, `running`, `success`, `failed` (a cancelled run shows as
//! `failed`, its reason as the run's `note`). Errors are `{"detail": "…"}` as Airflow's are.
//! Not supported (answered `404` or `405`): pausing, clearing, deleting, backfills, assets,
//! connections, variables, pools, XComs, logs. Refused with a `400` that says so, rather than
//! answered with a list that ignores them: listing runs of every DAG at once (`~`), cursor
//! paging, other orders, and the other filters (dates, durations, run id patterns, …).
//!
//! Authentication is the application's, as for the runs API: `flowyt serve` puts `/api/v2`
//! behind its operating token (`Authorization: Bearer <token>`), and serves [`public_router`]
//! (the version and the token exchange) to anyone.
//!
//! ```no_run
//! use flowyt_runtime::airflow;
//! use flowyt_runtime::runs::{MemoryStore, Runs, RunsOptions};
//! use flowyt_runtime::{Engine, Strictness};
//! use std::sync::Arc;
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::new()?;
//! let github = engine.load_workspace("workspaces/github".as_ref(), Strictness::Legacy)?.workspace;
//! let runs = Runs::start(
//!     Arc::new(MemoryStore::default()),
//!     airflow::Listed(vec![github]),
//!     RunsOptions::default(),
//! );
//! let app: axum::Router = axum::Router::new().merge(airflow::router(runs));
//! // POST /api/v2/dags/github.stars/dagRuns {"conf": {...}} -> 200 {"dag_run_id", "state": "queued", ...}
//! # Ok(())
//! # }
//! ```

mod models;

use crate::Workspace;
use crate::runs::{ListQuery, Page, RunStatus, Runs, Trigger, TriggerError};
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// Workspaces given as a list, for [`Runs::start`] when the set never changes: it names
/// them, so the DAG listing finds every flow.
#[derive(Clone, Debug)]
pub struct Listed(pub Vec<Workspace>);

impl crate::runs::api::Workspaces for Listed {
    fn workspace(&self, name: &str) -> Option<Workspace> {
        self.0.iter().find(|w| w.name() == name).cloned()
    }

    fn names(&self) -> Option<Vec<String>> {
        Some(self.0.iter().map(|w| w.name().to_string()).collect())
    }
}

/// Airflow's default page size.
const DEFAULT_LIMIT: usize = 50;

/// The `/api/v2` routes, to merge into an application's router. The DAGs listed are the flows
/// of the workspaces [`Workspaces::names`](crate::runs::api::Workspaces::names) names.
pub fn router<S: Clone + Send + Sync + 'static>(runs: Runs) -> Router<S> {
    Router::new()
        .route("/api/v2/dags", get(list_dags))
        .route("/api/v2/dags/{dag_id}", get(get_dag))
        .route(
            "/api/v2/dags/{dag_id}/dagRuns",
            get(list_runs).post(trigger_run),
        )
        .route("/api/v2/dags/{dag_id}/dagRuns/{dag_run_id}", get(get_run))
        .route(
            "/api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances",
            get(task_instances),
        )
        .with_state(runs)
}

/// The endpoints Airflow serves without a token: `GET /api/v2/version`, and the token
/// exchange, `POST /auth/token` with `{"username", "password"}`, which answers
/// `201 {"access_token"}` when the password is the operating token (the token is that same
/// secret, which `Authorization: Bearer` then carries) and `401` otherwise. Without a secret
/// the operating endpoints need no token, and the exchange answers an empty one where `access`
/// lets the request through.
pub fn public_router<S: Clone + Send + Sync + 'static>(access: crate::access::Access) -> Router<S> {
    Router::new()
        .route("/auth/token", post(token))
        .route("/api/v2/version", get(version))
        .with_state(access)
}

/// An error answer: `{"detail": text}` with its status, as Airflow answers one.
struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, axum::Json(json!({ "detail": self.1 }))).into_response()
    }
}

/// A handler's answer.
type Answer = Result<Response, Refusal>;

fn detail(status: StatusCode, text: impl Into<String>) -> Refusal {
    Refusal(status, text.into())
}

async fn token(
    State(access): State<crate::access::Access>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Answer {
    let password = serde_json::from_slice::<Value>(&body).ok().and_then(|b| {
        b.get("password")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let Some(password) = password else {
        return Err(detail(
            StatusCode::BAD_REQUEST,
            "the body must be JSON: {\"username\": \"…\", \"password\": \"…\"}",
        ));
    };
    if access.has_secret() {
        let mut with = HeaderMap::new();
        if let Ok(v) = format!("Bearer {password}").parse() {
            with.insert(axum::http::header::AUTHORIZATION, v);
        }
        if !access.carries_secret(&with) {
            return Err(detail(StatusCode::UNAUTHORIZED, "invalid credentials"));
        }
        let token = json!({ "access_token": password });
        return Ok((StatusCode::CREATED, axum::Json(token)).into_response());
    }
    access
        .check(&axum::http::Method::POST, &headers)
        .map_err(|denied| detail(denied.status(), denied.message()))?;
    Ok((StatusCode::CREATED, axum::Json(json!({"access_token": ""}))).into_response())
}

async fn version() -> Response {
    axum::Json(json!({
        "version": concat!("flowyt ", env!("CARGO_PKG_VERSION")),
        "git_version": null,
    }))
    .into_response()
}

/// The query string's pairs, in order (`tags=a&tags=b` gives two).
fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Refuses a query parameter flowyt does not implement (an ignored filter would answer the
/// wrong list), and an `order_by` other than `accepted`; an empty `cursor` (the first page of
/// Airflow's keyset paging) is accepted.
fn supported(
    pairs: &[(String, String)],
    known: &[&str],
    accepted_order: &[&str],
) -> Result<(), Refusal> {
    for (k, v) in pairs {
        if k == "order_by" {
            if !accepted_order.contains(&v.as_str()) {
                return Err(detail(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "`order_by={v}` is not supported: this list is ordered by {}",
                        accepted_order.first().copied().unwrap_or("its default")
                    ),
                ));
            }
        } else if k == "cursor" {
            if !v.is_empty() {
                return Err(detail(
                    StatusCode::BAD_REQUEST,
                    "`cursor` paging is not supported: use `limit` and `offset`",
                ));
            }
        } else if !known.contains(&k.as_str()) {
            return Err(detail(
                StatusCode::BAD_REQUEST,
                format!(
                    "the query parameter `{k}` is not supported by flowyt's Airflow API (it takes {})",
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// `limit` and `offset` of a list: non-negative integers, `limit` defaulting to Airflow's 50.
fn page(pairs: &[(String, String)]) -> Result<Page, Refusal> {
    let number = |name: &str, default: usize| -> Result<usize, Refusal> {
        match pairs.iter().rev().find(|(k, _)| k == name) {
            None => Ok(default),
            Some((_, v)) => v.parse().map_err(|_| {
                detail(
                    StatusCode::BAD_REQUEST,
                    format!("`{name}` must be a non-negative integer, not `{v}`"),
                )
            }),
        }
    };
    Ok(Page::new(
        number("limit", DEFAULT_LIMIT)?,
        number("offset", 0)?,
    ))
}

/// The workspaces served, by name.
fn workspaces(runs: &Runs) -> Vec<Workspace> {
    let mut names = runs.workspace_names().unwrap_or_default();
    names.sort();
    names.iter().filter_map(|n| runs.workspace(n)).collect()
}

/// The workspace and flow of `dag_id` (`<workspace>.<flow>`; either may hold dots, so every
/// split is tried).
fn resolve(runs: &Runs, dag_id: &str) -> Result<(Workspace, String), Refusal> {
    for (i, _) in dag_id.match_indices('.') {
        let (ws, flow) = (&dag_id[..i], &dag_id[i + 1..]);
        if let Some(w) = runs.workspace(ws)
            && w.flow_keys().any(|k| k == flow)
        {
            return Ok((w, flow.to_string()));
        }
    }
    Err(detail(
        StatusCode::NOT_FOUND,
        format!("The Dag with ID: `{dag_id}` was not found (DAG ids are `<workspace>.<flow>`)"),
    ))
}

/// Airflow's `dag_id_pattern`: SQL `LIKE` with `%` and `_`, case-insensitive, matching
/// anywhere.
///
/// Matched iteratively, going back only to the last `%` (at most pattern × text steps): a
/// recursive match tries every split at every `%`, which a client could make exponential.
fn like(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = format!("%{}%", pattern.to_lowercase()).chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // The last `%` seen, and the text position it currently stands for the text up to.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('%') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '_' || *c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                // The `%` takes one more character; retry after it.
                Some((sp, st)) => {
                    star = Some((sp, st + 1));
                    pi = sp + 1;
                    ti = st + 1;
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '%')
}

async fn list_dags(State(runs): State<Runs>, RawQuery(query): RawQuery) -> Answer {
    let pairs = pairs(query.as_deref());
    let known = [
        "limit",
        "offset",
        "dag_id_pattern",
        "dag_id_prefix_pattern",
        "tags",
        "tags_match_mode",
        "exclude_stale",
    ];
    supported(&pairs, &known, &["dag_id"])?;
    let page = page(&pairs)?;
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (pattern, prefix) = (value("dag_id_pattern"), value("dag_id_prefix_pattern"));
    let tags: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "tags")
        .map(|(_, v)| v.as_str())
        .collect();
    // A flow has one tag (its workspace): "all" of several tags matches nothing.
    let all_tags = match value("tags_match_mode") {
        None | Some("any") => false,
        Some("all") => true,
        Some(other) => {
            return Err(detail(
                StatusCode::BAD_REQUEST,
                format!("`tags_match_mode` is `any` or `all`, not `{other}`"),
            ));
        }
    };
    let mut dags = Vec::new();
    for ws in workspaces(&runs) {
        let tagged = if all_tags {
            tags.iter().all(|t| *t == ws.name())
        } else {
            tags.is_empty() || tags.contains(&ws.name())
        };
        if !tagged {
            continue;
        }
        let mut keys: Vec<&str> = ws.flow_keys().collect();
        keys.sort_unstable();
        for flow in keys {
            let id = models::dag_id(ws.name(), flow);
            if pattern.is_none_or(|p| like(p, &id)) && prefix.is_none_or(|p| id.starts_with(p)) {
                dags.push((ws.clone(), flow.to_string()));
            }
        }
    }
    let total = dags.len();
    let listed: Vec<Value> = dags
        .iter()
        .skip(page.offset)
        .take(page.limit)
        .map(|(ws, flow)| models::dag(ws, flow))
        .collect();
    Ok(axum::Json(json!({"dags": listed, "total_entries": total})).into_response())
}

async fn get_dag(State(runs): State<Runs>, Path(dag_id): Path<String>) -> Answer {
    let (ws, flow) = resolve(&runs, &dag_id)?;
    Ok(axum::Json(models::dag(&ws, &flow)).into_response())
}

/// What a trigger body may hold (`TriggerDAGRunPostBody`); the fields flowyt has no use for
/// (`note`, `data_interval_*`, `run_after`, `partition_key`) are accepted and ignored.
const TRIGGER_FIELDS: [&str; 8] = [
    "conf",
    "dag_run_id",
    "logical_date",
    "note",
    "data_interval_start",
    "data_interval_end",
    "run_after",
    "partition_key",
];

/// The trigger's options from its body, or the `400` that names what is wrong.
fn trigger_options(body: &serde_json::Map<String, Value>) -> Result<Trigger, Refusal> {
    let mut options = Trigger::new();
    match body.get("dag_run_id") {
        None | Some(Value::Null) => {}
        Some(Value::String(id)) if !id.is_empty() && id.len() <= 200 => {
            options = options.run_id(id.clone());
        }
        Some(_) => {
            return Err(detail(
                StatusCode::BAD_REQUEST,
                "`dag_run_id` must be a non-empty string of at most 200 characters",
            ));
        }
    }
    match body.get("logical_date") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => match models::parse_datetime(text) {
            Some(secs) => options = options.logical_date(secs),
            None => {
                return Err(detail(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "`logical_date` must be an RFC 3339 date and time such as \
                         2026-12-07T10:00:00Z, not `{text}`"
                    ),
                ));
            }
        },
        Some(_) => {
            return Err(detail(
                StatusCode::BAD_REQUEST,
                "`logical_date` must be a string (RFC 3339) or null",
            ));
        }
    }
    Ok(options)
}

async fn trigger_run(
    State(runs): State<Runs>,
    Path(dag_id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Answer {
    let (ws, flow) = resolve(&runs, &dag_id)?;
    let body = crate::runs::api::trigger_body(&body, &TRIGGER_FIELDS)
        .map_err(|m| detail(StatusCode::BAD_REQUEST, m))?;
    let mut options = trigger_options(&body)?;
    options.trace = crate::telemetry::TraceContext::from_headers(&headers);
    let conf = body.get("conf").cloned().unwrap_or(Value::Null);
    let run_id = runs
        .trigger_with(&ws, &flow, conf, options)
        .await
        .map_err(|e| match e {
            TriggerError::UnknownFlow(f) => {
                detail(StatusCode::NOT_FOUND, format!("unknown flow `{f}`"))
            }
            TriggerError::BadParams { param, message } => detail(
                StatusCode::BAD_REQUEST,
                format!("conf: param `{param}`: {message}"),
            ),
            e @ TriggerError::BadConf(_) => detail(StatusCode::BAD_REQUEST, format!("conf: {e}")),
            e @ TriggerError::Duplicate(_) => detail(StatusCode::CONFLICT, e.to_string()),
            e @ TriggerError::Busy(_) => detail(StatusCode::TOO_MANY_REQUESTS, e.to_string()),
            e @ TriggerError::Store(_) => detail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        })?;
    // The run as it stands now (it may have started already).
    let (run, display) = read_run(&runs, &ws, &flow, &dag_id, &run_id).await?;
    Ok(axum::Json(models::dag_run(&run, &display)).into_response())
}

/// The run status an Airflow `state` filter names (`failed` also covers cancelled runs only
/// when listing without a filter: the store filters one status).
fn state_filter(pairs: &[(String, String)]) -> Result<Option<RunStatus>, Refusal> {
    let states: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "state")
        .map(|(_, v)| v.as_str())
        .collect();
    match states.as_slice() {
        [] => Ok(None),
        [one] => match *one {
            "queued" | "running" | "success" | "failed" => Ok(RunStatus::parse(one)),
            other => Err(detail(
                StatusCode::BAD_REQUEST,
                format!("unknown state `{other}`: use queued, running, success or failed"),
            )),
        },
        _ => Err(detail(
            StatusCode::BAD_REQUEST,
            "filter on one `state` at a time",
        )),
    }
}

async fn list_runs(
    State(runs): State<Runs>,
    Path(dag_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    if dag_id == "~" {
        return Err(detail(
            StatusCode::BAD_REQUEST,
            "listing the runs of every DAG at once (`~`) is not supported: name one DAG",
        ));
    }
    let (ws, flow) = resolve(&runs, &dag_id)?;
    let pairs = pairs(query.as_deref());
    // Newest first is the store's order: Airflow's `-run_after` (and `-id`, its insertion order).
    supported(
        &pairs,
        &["limit", "offset", "state"],
        &["-run_after", "-id"],
    )?;
    let query = ListQuery {
        workspace: ws.name().to_string(),
        flow: Some(flow.clone()),
        status: state_filter(&pairs)?,
        page: page(&pairs)?,
    };
    let failed =
        |e: crate::runs::StoreError| detail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    let list = runs.store().list(&query).await.map_err(failed)?;
    let total = runs.store().count(&query).await.map_err(failed)?;
    let display = models::display_name(&ws, &flow);
    let listed: Vec<Value> = list.iter().map(|r| models::dag_run(r, &display)).collect();
    Ok(axum::Json(json!({"dag_runs": listed, "total_entries": total})).into_response())
}

/// One run of a DAG, or the `404` that says which is missing.
async fn find_run(
    runs: &Runs,
    dag_id: &str,
    run_id: &str,
) -> Result<(crate::runs::RunRecord, String), Refusal> {
    let (ws, flow) = resolve(runs, dag_id)?;
    read_run(runs, &ws, &flow, dag_id, run_id).await
}

/// Run `run_id` of flow `flow` of `ws` (the DAG `dag_id`), with the DAG's display name.
async fn read_run(
    runs: &Runs,
    ws: &Workspace,
    flow: &str,
    dag_id: &str,
    run_id: &str,
) -> Result<(crate::runs::RunRecord, String), Refusal> {
    match runs.store().get(ws.name(), flow, run_id).await {
        Ok(Some(run)) => Ok((run, models::display_name(ws, flow))),
        Ok(None) => Err(detail(
            StatusCode::NOT_FOUND,
            format!("The DagRun with dag_id: `{dag_id}` and run_id: `{run_id}` was not found"),
        )),
        Err(e) => Err(detail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

async fn get_run(
    State(runs): State<Runs>,
    Path((dag_id, run_id)): Path<(String, String)>,
) -> Answer {
    let (run, display) = find_run(&runs, &dag_id, &run_id).await?;
    Ok(axum::Json(models::dag_run(&run, &display)).into_response())
}

async fn task_instances(
    State(runs): State<Runs>,
    Path((dag_id, run_id)): Path<(String, String)>,
) -> Answer {
    let (run, display) = find_run(&runs, &dag_id, &run_id).await?;
    let tasks = models::task_instances(&run, &display);
    let total = tasks.len();
    Ok(axum::Json(json!({"task_instances": tasks, "total_entries": total})).into_response())
}

#[cfg(test)]
mod tests {
    use super::like;

    #[test]
    fn dag_id_patterns_match_as_sql_like() {
        assert!(like("github", "github.stars"));
        assert!(like("GIT%stars", "github.stars"));
        assert!(like("s_ars", "github.stars"));
        assert!(!like("gitlab", "github.stars"));
        assert!(like("", "anything"));
        assert!(!like("a_", "xa"));
        assert!(like("a%b%c", "xxaYYbZZcxx"));
        assert!(!like("a%b%c", "xxaYYcZZbxx"));
        // Many `%`s against a long id that almost matches: answered at once.
        let hostile = "%a".repeat(40) + "b";
        assert!(!like(&hostile, &"a".repeat(200)));
    }
}
