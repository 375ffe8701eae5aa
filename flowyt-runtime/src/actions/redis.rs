//! `redis`: `get`, `set` (with an optional `expire`) and `publish` on
//! `settings.integrations.redis` (`{HOST, PORT, PASSWORD, DB}`, the legacy upper-case keys),
//! through one reconnecting connection manager per server for the whole process.

use super::{Effect, eval};
use crate::context::Ctx;
use crate::engine::{Runner, fail};
use crate::error::RunError;
use flowyt_core::model::{Action, Redis, RedisOp};
use serde_json::{Value, json};

/// The setting `name` (upper case as the legacy engine wrote it, lower case too).
fn setting(conf: &Value, name: &str) -> String {
    let v = conf
        .get(name)
        .or_else(|| conf.get(name.to_ascii_lowercase()));
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// The `redis://` URL of the settings.
fn url(conf: &Value) -> String {
    let host = match setting(conf, "HOST") {
        h if h.is_empty() => "127.0.0.1".to_string(),
        h => h,
    };
    let port = match setting(conf, "PORT") {
        p if p.is_empty() => "6379".to_string(),
        p => p,
    };
    let db = match setting(conf, "DB") {
        d if d.is_empty() => "0".to_string(),
        d => d,
    };
    let password = setting(conf, "PASSWORD");
    let auth = if password.is_empty() || password == "None" {
        String::new()
    } else {
        let enc: String = form_urlencoded::byte_serialize(password.as_bytes()).collect();
        format!(":{}@", enc.replace('+', "%20"))
    };
    format!("redis://{auth}{host}:{port}/{db}")
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
        .ok_or_else(|| fail(action, "no `integrations.redis` in the workspace settings"))?;
    let op = match r.op {
        RedisOp::Get => "get",
        RedisOp::Set => "set",
        RedisOp::Publish => "publish",
    };
    let evaluated = runner
        .shared
        .mask
        .masked(json!({"action_type": op, "key": key, "data": data, "expire": expire}));
    let response = command(&url(&conf), r.op, &key, data, expire)
        .await
        .map_err(|m| fail(action, format!("redis: {m}")))?;
    Ok((
        Effect::Continue {
            produced: Some(response.into()),
            branch: None,
        },
        evaluated,
    ))
}

#[cfg(not(feature = "redis"))]
async fn command(
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
    url: &str,
    op: RedisOp,
    key: &str,
    data: Value,
    expire: Option<u64>,
) -> Result<Value, String> {
    let mut conn = manager(url).await?;
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

/// The connection manager of `url`, made on first use and kept for the process (it
/// reconnects by itself when the server comes back).
#[cfg(feature = "redis")]
async fn manager(url: &str) -> Result<redis::aio::ConnectionManager, String> {
    use std::collections::HashMap;
    use std::sync::OnceLock;
    use std::time::Duration;
    static MANAGERS: OnceLock<tokio::sync::Mutex<HashMap<String, redis::aio::ConnectionManager>>> =
        OnceLock::new();
    let mut managers = MANAGERS
        .get_or_init(|| tokio::sync::Mutex::new(HashMap::new()))
        .lock()
        .await;
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
