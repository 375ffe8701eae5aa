//! Workspaces stored in Redis by the original Flowyt Studio (the legacy `redis` storage mode):
//! key `<subdomain>.<workspace>` holds `{"config": {"settings"}, "flows", "functions",
//! "routes"}`, served at `/<subdomain>/<workspace>/<route path>`, re-read when the key changes,
//! with per-subdomain quotas (`{"used", "limit"}` in the quota Redis; `429` past the limit).
//!
//! ```no_run
//! # async fn demo(engine: flowyt_runtime::Engine) -> Result<(), String> {
//! use flowyt_runtime::studio::StudioWorkspaces;
//! let studio = StudioWorkspaces::connect(engine, "redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0").await?;
//! let app: axum::Router = axum::Router::new().fallback(move |req| {
//!     let studio = studio.clone();
//!     async move { studio.dispatch(req).await }
//! });
//! # Ok(())
//! # }
//! ```

use crate::{Engine, Workspace};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use flowyt_core::validate::Strictness;
use flowyt_core::workspace::Sources;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

/// The default quota of a subdomain without one (the legacy engine's).
pub const DEFAULT_LIMIT: i64 = 10_000;

/// Workspaces served from a Studio's Redis; cheap to clone.
#[derive(Clone)]
pub struct StudioWorkspaces {
    engine: Engine,
    workspaces: redis::aio::ConnectionManager,
    quotas: redis::aio::ConnectionManager,
    /// The last version of each key: its text and the router built from it.
    cache: Arc<tokio::sync::Mutex<HashMap<String, (String, axum::Router)>>>,
}

async fn manager(url: &str) -> Result<redis::aio::ConnectionManager, String> {
    let client = redis::Client::open(url).map_err(|e| format!("`{url}`: {e}"))?;
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Duration::from_secs(5))
        .set_response_timeout(Duration::from_secs(10))
        .set_number_of_retries(1);
    redis::aio::ConnectionManager::new_with_config(client, config)
        .await
        .map_err(|e| format!("cannot connect to `{url}`: {e}"))
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, axum::Json(json!({ "message": text }))).into_response()
}

/// The sources of a workspace in the Studio's format.
pub fn studio_sources(text: &str) -> Result<Sources, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let settings = doc
        .get("config")
        .and_then(|c| c.get("settings"))
        .cloned()
        .unwrap_or_else(|| json!({}));
    let routes = doc.get("routes").cloned().unwrap_or_else(|| json!([]));
    let flows = match doc.get("flows") {
        Some(Value::Object(flows)) => flows
            .iter()
            .map(|(k, f)| (k.clone(), format!("flows/{k}.json"), f.to_string()))
            .collect(),
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err("`flows` must be an object of flows by key".into()),
    };
    Ok(Sources {
        settings: Some(("config/settings.json".into(), settings.to_string())),
        flows,
        routes: Some(("routes.json".into(), routes.to_string())),
    })
}

impl StudioWorkspaces {
    /// Serves the workspaces of the Redis at `workspaces`, counting quotas in `quotas`.
    pub async fn connect(
        engine: Engine,
        workspaces: &str,
        quotas: &str,
    ) -> Result<StudioWorkspaces, String> {
        Ok(StudioWorkspaces {
            engine,
            workspaces: manager(workspaces).await?,
            quotas: manager(quotas).await?,
            cache: Arc::new(tokio::sync::Mutex::new(HashMap::new())),
        })
    }

    /// The router of `<subdomain>.<workspace>`, built again when its text changed; `Ok(None)`
    /// when there is no such key.
    async fn router(&self, sub: &str, ws: &str) -> Result<Option<axum::Router>, Response> {
        let key = format!("{sub}.{ws}");
        let mut conn = self.workspaces.clone();
        let text: Option<String> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .map_err(|e| {
                message(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &format!("the workspace store is unavailable: {e}"),
                )
            })?;
        let Some(text) = text else {
            return Ok(None);
        };
        let mut cache = self.cache.lock().await;
        if let Some((seen, router)) = cache.get(&key)
            && *seen == text
        {
            return Ok(Some(router.clone()));
        }
        let sources = studio_sources(&text).map_err(|e| {
            message(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("workspace `{key}`: {e}"),
            )
        })?;
        // The Studio's mode skips `env()` in settings: nothing is read from the environment.
        let loaded = flowyt_core::workspace::Workspace::from_sources(
            ws,
            &sources,
            &self.engine.catalog(),
            Strictness::Legacy,
            &|_| None,
        )
        .map_err(|e| {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({
                    "message": format!("workspace `{key}` has errors"),
                    "diagnostics": flowyt_core::diag::render_all(&e.diagnostics),
                })),
            )
                .into_response()
        })?;
        let workspace: Workspace = self.engine.workspace(loaded.workspace);
        let router = axum::Router::new().nest(&format!("/{sub}/{ws}"), workspace.router());
        cache.insert(key, (text, router.clone()));
        Ok(Some(router))
    }

    /// `{"used", "limit"}` of `sub` (the legacy default when it has none).
    async fn quota(&self, sub: &str) -> Result<(i64, i64), String> {
        let mut conn = self.quotas.clone();
        let text: Option<String> = redis::cmd("GET")
            .arg(sub)
            .query_async(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        let q: Value = text
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_else(|| json!({}));
        Ok((
            q.get("used").and_then(Value::as_i64).unwrap_or(0),
            q.get("limit")
                .and_then(Value::as_i64)
                .unwrap_or(DEFAULT_LIMIT),
        ))
    }

    /// Counts one run against `sub`'s quota, atomically.
    async fn count(&self, sub: &str) -> Result<(), String> {
        const SCRIPT: &str = r#"
            local text = redis.call('GET', KEYS[1])
            local q = {used = 0, limit = tonumber(ARGV[1])}
            if text then q = cjson.decode(text) end
            q.used = (tonumber(q.used) or 0) + 1
            if q.limit == nil then q.limit = tonumber(ARGV[1]) end
            redis.call('SET', KEYS[1], cjson.encode(q))
            return q.used
        "#;
        let mut conn = self.quotas.clone();
        let _: i64 = redis::cmd("EVAL")
            .arg(SCRIPT)
            .arg(1)
            .arg(sub)
            .arg(DEFAULT_LIMIT)
            .query_async(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Answers a request for `/<subdomain>/<workspace>/<route path>`.
    pub async fn dispatch(&self, req: Request) -> Response {
        let path = req.uri().path().to_string();
        let mut segments = path.trim_start_matches('/').splitn(3, '/');
        let (Some(sub), Some(ws)) = (segments.next(), segments.next()) else {
            return message(
                StatusCode::NOT_FOUND,
                "The requested URL was not found on the server.",
            );
        };
        if sub.is_empty() || ws.is_empty() {
            return message(
                StatusCode::NOT_FOUND,
                "The requested URL was not found on the server.",
            );
        }
        let (sub, ws) = (sub.to_string(), ws.to_string());
        let router = match self.router(&sub, &ws).await {
            Ok(Some(r)) => r,
            Ok(None) => {
                return message(
                    StatusCode::NOT_FOUND,
                    "The requested workspace was not found on the server.",
                );
            }
            Err(response) => return response,
        };
        match self.quota(&sub).await {
            Ok((used, limit)) if limit != -1 && used > limit => {
                return message(
                    StatusCode::TOO_MANY_REQUESTS,
                    "The request limit has been reached.",
                );
            }
            Ok(_) => {}
            Err(e) => {
                return message(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &format!("the quota store is unavailable: {e}"),
                );
            }
        }
        let response = match router.oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        if let Err(e) = self.count(&sub).await {
            tracing::warn!(subdomain = %sub, error = %e, "cannot count a run against its quota");
        }
        response
    }
}
