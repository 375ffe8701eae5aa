//! `redis`: `get`, `set` (with an optional `expire`) and `publish` on
//! `settings.integrations.redis` (`{HOST, PORT, PASSWORD, DB}`, the legacy upper-case keys),
//! through one reconnecting connection manager per server for each loaded workspace (not per
//! process: a manager's driver task lives on the tokio runtime that made it, and a program or
//! a test suite may run several runtimes).

use super::{Effect, eval};
use crate::context::Ctx;
use crate::engine::{Runner, fail};
use crate::error::{ErrorKind, RunError};
use flowyt_core::model::{Action, Redis, RedisOp};
use serde_json::{Value, json};

/// The setting `name` of `integrations.redis` (upper case as the legacy engine wrote it,
/// lower case too).
fn setting(conf: &Value, name: &str) -> Option<String> {
    match conf
        .get(name)
        .or_else(|| conf.get(name.to_ascii_lowercase()))
    {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    }
}

/// The `redis://` URL of legacy Redis settings read with `get` (`HOST`, `PORT`, `PASSWORD`,
/// `DB`; defaults `127.0.0.1`, `6379`, no password, `0`; an empty or `None` value is none): the
/// `redis` action's `integrations.redis`, and `flowyt serve`'s `REDIS_WORKSPACE_*` variables.
pub fn redis_url(get: &dyn Fn(&str) -> Option<String>) -> String {
    let value = |k: &str, default: &str| {
        get(k)
            .filter(|v| !v.is_empty() && v != "None")
            .unwrap_or_else(|| default.to_string())
    };
    let password = value("PASSWORD", "");
    let auth = if password.is_empty() {
        String::new()
    } else {
        let mut enc = String::with_capacity(password.len());
        flowyt_core::expr::url::encode_into(
            &mut enc,
            &password,
            flowyt_core::expr::url::UrlPart::Path,
        );
        format!(":{enc}@")
    };
    format!(
        "redis://{auth}{}:{}/{}",
        value("HOST", "127.0.0.1"),
        value("PORT", "6379"),
        value("DB", "0")
    )
}

/// A value as Redis stores it: text as is, anything else as JSON.
fn text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

pub(crate) async fn run<'a>(
    runner: &mut Runner<'_>,
    ctx: &mut Ctx,
    action: &'a Action,
    r: &Redis,
) -> Result<(Effect<'a>, Value), RunError> {
    let key = text(eval(action, &r.key, ctx)?);
    let data = eval(action, &r.data, ctx)?;
    let expire = match &r.expire {
        None => None,
        Some(d) => match eval(action, d, ctx)? {
            Value::Null => None,
            v => Some(v.as_u64().filter(|s| *s > 0).ok_or_else(|| {
                fail(
                    action,
                    ErrorKind::Action,
                    format!("`expire` must be a positive number of seconds, not {v}"),
                )
            })?),
        },
    };
    let conf = runner
        .shared
        .settings
        .integrations
        .get("redis")
        .cloned()
        .ok_or_else(|| {
            fail(
                action,
                ErrorKind::Action,
                "no `integrations.redis` in the workspace settings",
            )
        })?;
    let op = match r.op {
        RedisOp::Get => "get",
        RedisOp::Set => "set",
        RedisOp::Publish => "publish",
    };
    let evaluated = runner
        .shared
        .mask
        .masked(json!({"action_type": op, "key": key, "data": data, "expire": expire}));
    let url = redis_url(&|k| setting(&conf, k));
    let response = command(&runner.shared.redis, &url, r.op, &key, data, expire)
        .await
        .map_err(|m| fail(action, ErrorKind::Upstream, format!("redis: {m}")))?;
    Ok((
        Effect::Continue {
            produced: Some(response.into()),
            branch: None,
        },
        evaluated,
    ))
}

/// A workspace's Redis connection managers, one per server, made on first use.
#[derive(Default)]
pub(crate) struct Connections {
    #[cfg(feature = "redis")]
    managers: tokio::sync::Mutex<std::collections::HashMap<String, redis::aio::ConnectionManager>>,
}

#[cfg(not(feature = "redis"))]
async fn command(
    _connections: &Connections,
    _url: &str,
    _op: RedisOp,
    _key: &str,
    _data: Value,
    _expire: Option<u64>,
) -> Result<Value, String> {
    Err("this build of flowyt has no Redis client (feature `redis` of flowyt-runtime)".into())
}

#[cfg(feature = "redis")]
async fn command(
    connections: &Connections,
    url: &str,
    op: RedisOp,
    key: &str,
    data: Value,
    expire: Option<u64>,
) -> Result<Value, String> {
    let mut conn = manager(connections, url).await?;
    let e = |e: redis::RedisError| e.to_string();
    Ok(match op {
        RedisOp::Get => {
            let got: Option<Vec<u8>> = redis::cmd("GET")
                .arg(key)
                .query_async(&mut conn)
                .await
                .map_err(e)?;
            let value = match got {
                None => Value::Null,
                Some(bytes) => match String::from_utf8(bytes) {
                    Ok(s) => Value::String(s),
                    Err(b) => {
                        use base64::Engine as _;
                        Value::String(
                            base64::engine::general_purpose::STANDARD.encode(b.into_bytes()),
                        )
                    }
                },
            };
            json!({ "data": value })
        }
        RedisOp::Set => {
            let mut cmd = redis::cmd("SET");
            cmd.arg(key).arg(text(data));
            if let Some(secs) = expire {
                cmd.arg("EX").arg(secs);
            }
            let () = cmd.query_async(&mut conn).await.map_err(e)?;
            json!({ "data": null })
        }
        RedisOp::Publish => {
            let receivers: i64 = redis::cmd("PUBLISH")
                .arg(key)
                .arg(text(data))
                .query_async(&mut conn)
                .await
                .map_err(e)?;
            json!({ "data": null, "receivers": receivers })
        }
    })
}

/// The connection manager of `url`, made on first use and kept for the workspace (it
/// reconnects by itself when the server comes back).
#[cfg(feature = "redis")]
async fn manager(
    connections: &Connections,
    url: &str,
) -> Result<redis::aio::ConnectionManager, String> {
    use std::time::Duration;
    let mut managers = connections.managers.lock().await;
    if let Some(m) = managers.get(url) {
        return Ok(m.clone());
    }
    let client = redis::Client::open(url).map_err(|e| format!("bad settings: {e}"))?;
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Duration::from_secs(5))
        .set_response_timeout(Duration::from_secs(10))
        .set_number_of_retries(1);
    let manager = redis::aio::ConnectionManager::new_with_config(client, config)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    managers.insert(url.to_string(), manager.clone());
    Ok(manager)
}
