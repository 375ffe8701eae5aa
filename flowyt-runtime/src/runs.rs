//! Triggered runs, as Airflow's `trigger_dag`: a run of a flow started from outside with a
//! `conf`, executed in the background, and recorded (status, times, trace, result) in a
//! [`RunStore`] so its history survives restarts.

use crate::{Outcome, RunInput, Workspace};
use serde_json::{Map, Value, json};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where a run is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus {
    /// Accepted, not started yet.
    Queued,
    /// Running.
    Running,
    /// Ended with a response below 400 (or without a response).
    Success,
    /// Failed: an error, a response of 400 or more, or the server stopped during the run.
    Failed,
}

impl RunStatus {
    /// The status as stored and shown (`queued`, `running`, `success`, `failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Success => "success",
            RunStatus::Failed => "failed",
        }
    }

    /// The status called `s`.
    pub fn parse(s: &str) -> Option<RunStatus> {
        Some(match s {
            "queued" => RunStatus::Queued,
            "running" => RunStatus::Running,
            "success" => RunStatus::Success,
            "failed" => RunStatus::Failed,
            _ => return None,
        })
    }
}

/// One triggered run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    /// Unique per workspace and flow.
    pub run_id: String,
    /// The workspace.
    pub workspace: String,
    /// The flow key.
    pub flow: String,
    /// Where it is.
    pub status: RunStatus,
    /// What the trigger gave.
    pub conf: Value,
    /// Unix time (seconds) it was accepted.
    pub queued_at: f64,
    /// Unix time it started.
    pub started_at: Option<f64>,
    /// Unix time it ended.
    pub ended_at: Option<f64>,
    /// The response the flow produced: `{"status", "headers", "data"}`.
    pub result: Option<Value>,
    /// The per-action trace (`__debug__.workspace`).
    pub trace: Option<Value>,
    /// Why it failed.
    pub error: Option<String>,
}

impl RunRecord {
    /// The record as the API shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "run_id": self.run_id,
            "workspace": self.workspace,
            "flow": self.flow,
            "status": self.status.as_str(),
            "conf": self.conf,
            "queued_at": self.queued_at,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "result": self.result,
            "trace": self.trace,
            "error": self.error,
        })
    }
}

/// A store failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "run store: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

/// Where run records live: an embedded SQLite file in `flowyt serve`, something shared when
/// several instances run side by side.
pub trait RunStore: Send + Sync + 'static {
    /// Adds a new run; fails if `(workspace, flow, run_id)` exists.
    fn insert(&self, run: &RunRecord) -> Result<(), StoreError>;
    /// Replaces a run's record.
    fn update(&self, run: &RunRecord) -> Result<(), StoreError>;
    /// One run.
    fn get(
        &self,
        workspace: &str,
        flow: &str,
        run_id: &str,
    ) -> Result<Option<RunRecord>, StoreError>;
    /// The runs of a flow, newest first.
    fn list(&self, workspace: &str, flow: &str) -> Result<Vec<RunRecord>, StoreError>;
    /// Marks every queued or running run failed with `reason` (at start-up: those runs died
    /// with the previous process). Returns how many.
    fn fail_in_flight(&self, reason: &str, now: f64) -> Result<usize, StoreError>;
}

/// A store in memory (tests, or a server that keeps no history).
#[derive(Default)]
pub struct MemoryStore(Mutex<Vec<RunRecord>>);

impl RunStore for MemoryStore {
    fn insert(&self, run: &RunRecord) -> Result<(), StoreError> {
        let mut runs = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if runs
            .iter()
            .any(|r| r.workspace == run.workspace && r.flow == run.flow && r.run_id == run.run_id)
        {
            return Err(StoreError(format!("run `{}` exists", run.run_id)));
        }
        runs.push(run.clone());
        Ok(())
    }

    fn update(&self, run: &RunRecord) -> Result<(), StoreError> {
        let mut runs = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match runs
            .iter_mut()
            .find(|r| r.workspace == run.workspace && r.flow == run.flow && r.run_id == run.run_id)
        {
            Some(r) => {
                *r = run.clone();
                Ok(())
            }
            None => Err(StoreError(format!("no run `{}`", run.run_id))),
        }
    }

    fn get(
        &self,
        workspace: &str,
        flow: &str,
        run_id: &str,
    ) -> Result<Option<RunRecord>, StoreError> {
        let runs = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(runs
            .iter()
            .find(|r| r.workspace == workspace && r.flow == flow && r.run_id == run_id)
            .cloned())
    }

    fn list(&self, workspace: &str, flow: &str) -> Result<Vec<RunRecord>, StoreError> {
        let runs = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out: Vec<RunRecord> = runs
            .iter()
            .filter(|r| r.workspace == workspace && r.flow == flow)
            .cloned()
            .collect();
        out.reverse();
        Ok(out)
    }

    fn fail_in_flight(&self, reason: &str, now: f64) -> Result<usize, StoreError> {
        let mut runs = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut n = 0;
        for r in runs
            .iter_mut()
            .filter(|r| matches!(r.status, RunStatus::Queued | RunStatus::Running))
        {
            r.status = RunStatus::Failed;
            r.error = Some(reason.to_string());
            r.ended_at = Some(now);
            n += 1;
        }
        Ok(n)
    }
}

/// Why a trigger was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TriggerError {
    /// The workspace has no such flow.
    UnknownFlow(String),
    /// The conf does not fit the flow's params.
    BadParams {
        /// The param at fault.
        param: String,
        /// What is wrong.
        message: String,
    },
    /// `conf` is not an object.
    BadConf(String),
    /// The run id is taken.
    Duplicate(String),
    /// The store failed.
    Store(StoreError),
}

impl fmt::Display for TriggerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TriggerError::UnknownFlow(flow) => write!(f, "unknown flow `{flow}`"),
            TriggerError::BadParams { message, .. } => f.write_str(message),
            TriggerError::BadConf(m) => f.write_str(m),
            TriggerError::Duplicate(id) => write!(f, "run `{id}` exists already"),
            TriggerError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for TriggerError {}

/// Seconds since the Unix epoch.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Starts a background run of `flow` in `ws` with `conf` (an object: the params, also the
/// `input` root), recorded in `store`. Returns the run id (`run_id` or a new UUID).
pub fn trigger(
    ws: &Workspace,
    store: Arc<dyn RunStore>,
    flow: &str,
    run_id: Option<String>,
    conf: Value,
) -> Result<String, TriggerError> {
    if !ws.flow_keys().any(|k| k == flow) {
        return Err(TriggerError::UnknownFlow(flow.to_string()));
    }
    let conf_map: Map<String, Value> = match &conf {
        Value::Object(m) => m.clone(),
        Value::Null => Map::new(),
        _ => return Err(TriggerError::BadConf("`conf` must be a JSON object".into())),
    };
    let params =
        ws.resolve_params(flow, &conf_map, false)
            .map_err(|e| TriggerError::BadParams {
                param: e.param,
                message: e.message,
            })?;
    let run_id = run_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut record = RunRecord {
        run_id: run_id.clone(),
        workspace: ws.name().to_string(),
        flow: flow.to_string(),
        status: RunStatus::Queued,
        conf: Value::Object(conf_map.clone()),
        queued_at: now(),
        started_at: None,
        ended_at: None,
        result: None,
        trace: None,
        error: None,
    };
    if store
        .get(&record.workspace, flow, &run_id)
        .map_err(TriggerError::Store)?
        .is_some()
    {
        return Err(TriggerError::Duplicate(run_id));
    }
    store.insert(&record).map_err(TriggerError::Store)?;
    let ws = ws.clone();
    let flow = flow.to_string();
    tokio::spawn(async move {
        record.status = RunStatus::Running;
        record.started_at = Some(now());
        if let Err(e) = store.update(&record) {
            tracing::error!(error = %e, "cannot record a run start");
        }
        let input = RunInput {
            request: json!({"method": "POST", "path": "", "headers": {}, "params": {}, "qs": {}, "form": {}, "data": record.conf, "debug": "true"}),
            input: record.conf.clone(),
            debug: true,
            request_id: Some(record.run_id.clone()),
            params,
        };
        let result = ws.run(&flow, input).await;
        record.ended_at = Some(now());
        record.trace = result.trace;
        match result.outcome {
            Outcome::Response {
                status,
                headers,
                body,
            } => {
                record.result = Some(json!({
                    "status": status,
                    "headers": headers.into_iter().map(|(k, v)| (k, Value::String(v))).collect::<Map<_, _>>(),
                    "data": body.to_value(),
                }));
                if status < 400 {
                    record.status = RunStatus::Success;
                } else {
                    record.status = RunStatus::Failed;
                    record.error = Some(format!("the flow answered {status}"));
                }
            }
            Outcome::Ended => {
                record.status = RunStatus::Success;
                record.result = Some(json!({"status": 200, "headers": {}, "data": {}}));
            }
            Outcome::Invalid(errors) => {
                record.status = RunStatus::Failed;
                record.result = Some(json!({"status": 400, "headers": {}, "data": errors}));
                record.error = Some("validation failed".into());
            }
            Outcome::Failed(e) => {
                record.status = RunStatus::Failed;
                record.error = Some(e.to_string());
            }
        }
        if let Err(e) = store.update(&record) {
            tracing::error!(error = %e, "cannot record a run end");
        }
    });
    Ok(run_id)
}

/// A typed client for the runs API of a `flowyt serve` (the `trigger_dag` of the seed's
/// Airflow demo):
///
/// ```no_run
/// # async fn demo() -> Result<(), flowyt_runtime::runs::ClientError> {
/// use flowyt_runtime::runs::RunsClient;
/// let client = RunsClient::new("http://127.0.0.1:5000", None)?;
/// let run_id = client.trigger("demo", "notify_user", serde_json::json!({"usuario_id": 1}), None).await?;
/// let run = client.wait("demo", "notify_user", &run_id, std::time::Duration::from_secs(30)).await?;
/// println!("{}", run["status"]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct RunsClient {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

/// Why a call to the runs API failed.
#[derive(Debug)]
pub enum ClientError {
    /// No answer (connection refused, timeout).
    Http(reqwest::Error),
    /// The server refused the call: its status and JSON answer.
    Refused(u16, Value),
    /// The run did not finish in time.
    Timeout(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Http(e) => write!(f, "the server did not answer: {e}"),
            ClientError::Refused(status, body) => {
                let msg = body["message"].as_str().or_else(|| body["msg"].as_str());
                write!(
                    f,
                    "the server answered {status}: {}",
                    msg.map_or_else(|| body.to_string(), str::to_string)
                )
            }
            ClientError::Timeout(id) => write!(f, "run `{id}` did not finish in time"),
        }
    }
}

impl std::error::Error for ClientError {}

impl RunsClient {
    /// A client for the server at `base` (`http://127.0.0.1:5000`), sending `token` as
    /// `X-Flowyt-Token` when given.
    pub fn new(base: &str, token: Option<String>) -> Result<RunsClient, ClientError> {
        crate::client::build()
            .map(|http| RunsClient {
                base: base.trim_end_matches('/').to_string(),
                token,
                http,
            })
            .map_err(ClientError::Http)
    }

    fn url(&self, workspace: &str, flow: &str) -> String {
        format!("{}/_workspaces/{workspace}/flows/{flow}/runs", self.base)
    }

    async fn call(&self, req: reqwest::RequestBuilder) -> Result<Value, ClientError> {
        let req = match &self.token {
            Some(t) => req.header("X-Flowyt-Token", t),
            None => req,
        };
        let r = req.send().await.map_err(ClientError::Http)?;
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            Ok(body)
        } else {
            Err(ClientError::Refused(status, body))
        }
    }

    /// Triggers a run; returns its id.
    pub async fn trigger(
        &self,
        workspace: &str,
        flow: &str,
        conf: Value,
        run_id: Option<&str>,
    ) -> Result<String, ClientError> {
        let body = json!({"conf": conf, "run_id": run_id});
        let answer = self
            .call(self.http.post(self.url(workspace, flow)).json(&body))
            .await?;
        Ok(answer["run_id"].as_str().unwrap_or_default().to_string())
    }

    /// One run's record.
    pub async fn run(
        &self,
        workspace: &str,
        flow: &str,
        run_id: &str,
    ) -> Result<Value, ClientError> {
        self.call(
            self.http
                .get(format!("{}/{run_id}", self.url(workspace, flow))),
        )
        .await
    }

    /// The runs of a flow, newest first.
    pub async fn runs(&self, workspace: &str, flow: &str) -> Result<Value, ClientError> {
        self.call(self.http.get(self.url(workspace, flow))).await
    }

    /// Polls a run until it is `success` or `failed`, or `limit` passes.
    pub async fn wait(
        &self,
        workspace: &str,
        flow: &str,
        run_id: &str,
        limit: std::time::Duration,
    ) -> Result<Value, ClientError> {
        let started = std::time::Instant::now();
        loop {
            let run = self.run(workspace, flow, run_id).await?;
            if matches!(run["status"].as_str(), Some("success" | "failed")) {
                return Ok(run);
            }
            if started.elapsed() > limit {
                return Err(ClientError::Timeout(run_id.to_string()));
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}
