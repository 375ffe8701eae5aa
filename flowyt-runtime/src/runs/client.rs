//! [`RunsClient`]: a typed client for the runs API of a flowyt server.

use serde_json::{Value, json};
use std::fmt;

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
#[non_exhaustive]
pub enum ClientError {
    /// The client could not be built.
    Build(crate::BuildError),
    /// No answer (connection refused, timeout).
    Http(reqwest::Error),
    /// The server refused the call: its status and JSON answer.
    Refused(u16, Value),
    /// The run did not finish in time.
    Timeout(String),
    /// The params do not serialise to a JSON object.
    Params(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Build(e) => write!(f, "{e}"),
            ClientError::Params(e) => f.write_str(e),
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
        crate::client::build(crate::Redirects::default())
            .map(|http| RunsClient {
                base: base.trim_end_matches('/').to_string(),
                token,
                http,
            })
            .map_err(ClientError::Build)
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

    /// [`RunsClient::trigger`] with the flow's params as their Rust struct (see
    /// [`FlowParams`](crate::FlowParams)): misspelt or mistyped params do not compile.
    pub async fn trigger_params<P: crate::FlowParams>(
        &self,
        workspace: &str,
        flow: &str,
        params: &P,
        run_id: Option<&str>,
    ) -> Result<String, ClientError> {
        let conf = params.to_conf().map_err(ClientError::Params)?;
        self.trigger(workspace, flow, Value::Object(conf), run_id)
            .await
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

    /// Polls a run until it has ended (`success`, `failed` or `cancelled`), or `limit` passes.
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
            if matches!(
                run["status"].as_str(),
                Some("success" | "failed" | "cancelled")
            ) {
                return Ok(run);
            }
            if started.elapsed() > limit {
                return Err(ClientError::Timeout(run_id.to_string()));
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}
