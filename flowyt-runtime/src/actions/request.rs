//! `request`: calls an HTTP service with the shared client (spec decision 5).
//!
//! 2xx takes `next_action_success`; any other status, a refused connection, a timeout, a TLS
//! error or an invalid URL takes `next_action_fail`, with `response.status` 0 when there was
//! no HTTP answer and `response.data` saying what happened.

use super::{Effect, eval, eval_url, header_pairs};
use crate::context::{Answer, Ctx, ResponseSlot};
use crate::engine::{Runner, fail};
use crate::error::{ErrorKind, RunError};
use bytes::{Bytes, BytesMut};
use flowyt_core::expr::python_str;
use flowyt_core::model::{Action, Request};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};

/// The most an upstream body may weigh before the request counts as failed.
const MAX_UPSTREAM_BODY: usize = 32 * 1024 * 1024;

pub(super) async fn run<'a>(
    runner: &Runner<'_>,
    ctx: &Ctx,
    action: &'a Action,
    r: &'a Request,
) -> Result<(Effect<'a>, Value), RunError> {
    let (produced, ok, evaluated) = call(runner, ctx, action, r).await?;
    Ok((
        Effect::Continue {
            produced: Some(produced),
            branch: Some(if ok { &r.success } else { &r.fail }),
        },
        evaluated,
    ))
}

/// Makes the call a request describes: its result (`response` for the next action), whether
/// it succeeded, and its evaluated data for the trace.
pub(super) async fn call(
    runner: &Runner<'_>,
    ctx: &Ctx,
    action: &Action,
    r: &Request,
) -> Result<(ResponseSlot, bool, Value), RunError> {
    let url = eval_url(action, &r.url, ctx)?;
    let method_v = eval(action, &r.method, ctx)?;
    let headers_v = eval(action, &r.headers, ctx)?;
    let body = match &r.body {
        Some(d) => Some(eval(action, d, ctx)?),
        None => None,
    };
    let timeout = match number(action, ctx, r.timeout.as_ref(), "timeout", false)? {
        Some(t) => t,
        None => runner.shared.settings.limits.request_timeout,
    };
    let retries = match number(action, ctx, r.retries.as_ref(), "retries", true)? {
        Some(n) if n.fract() == 0.0 && n <= MAX_RETRIES as f64 => n as u32,
        Some(n) => {
            return Err(fail(
                action,
                ErrorKind::Action,
                format!("`retries` must be a whole number up to {MAX_RETRIES}, found `{n}`"),
            ));
        }
        None => 0,
    };
    let retry_delay =
        number(action, ctx, r.retry_delay.as_ref(), "retry_delay", false)?.unwrap_or(0.5);
    let retry_unsafe = match &r.retry_unsafe {
        Some(d) => match eval(action, d, ctx)? {
            Value::Bool(b) => b,
            other => {
                return Err(fail(
                    action,
                    ErrorKind::Action,
                    format!("`retry_unsafe` must be true or false, found `{other}`"),
                ));
            }
        },
        None => false,
    };
    let mut evaluated = if runner.tracing() {
        json!({"url": url, "method": method_v, "headers": headers_v, "data": body, "timeout": timeout})
    } else {
        Value::Null
    };

    let method = match method_v.as_str().map(str::to_ascii_uppercase).as_deref() {
        Some("GET") => Method::GET,
        Some("POST") => Method::POST,
        Some("PUT") => Method::PUT,
        Some("PATCH") => Method::PATCH,
        Some("DELETE") => Method::DELETE,
        Some("HEAD") => Method::HEAD,
        _ => {
            return Err(fail(
                action,
                ErrorKind::Action,
                format!("unknown HTTP method `{}`", python_str(&method_v)),
            ));
        }
    };
    let Value::String(url) = url else {
        return Err(fail(
            action,
            ErrorKind::Action,
            format!("`url` must be a string, found `{}`", python_str(&url)),
        ));
    };

    let mut headers = HeaderMap::with_capacity(4);
    headers.insert(
        reqwest::header::ACCEPT,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        reqwest::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(id) = HeaderValue::from_str(&runner.request_id) {
        headers.insert(HeaderName::from_static("x-request-id"), id);
    }
    for (k, v) in header_pairs(action, &headers_v)? {
        let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
            fail(
                action,
                ErrorKind::Action,
                format!("invalid header name `{k}`"),
            )
        })?;
        let value = HeaderValue::from_str(&v).map_err(|_| {
            fail(
                action,
                ErrorKind::Action,
                format!("invalid value for header `{k}`"),
            )
        })?;
        headers.insert(name, value);
    }

    // `service://NAME/path`: the instances of NAME, in round-robin order.
    let discovered: Option<Result<Vec<String>, String>> = match crate::discovery::parse(&url) {
        Some((name, path)) => Some(
            runner
                .shared
                .discovery
                .instances(&runner.shared.client, name)
                .await
                .map(|instances| {
                    instances
                        .into_iter()
                        .map(|base| format!("{}{path}", base.trim_end_matches('/')))
                        .collect()
                }),
        ),
        None => None,
    };
    let targets: Result<&[String], &String> = match &discovered {
        Some(Ok(instances)) => Ok(instances),
        Some(Err(message)) => Err(message),
        None => Ok(std::slice::from_ref(&url)),
    };
    let mut body = body;
    // Retry only what is safe: a refused connection never reached the service; 502/503/504
    // and timeouts may have, so they are retried for idempotent methods only (or when the
    // flow says `retry_unsafe`).
    let idempotent = matches!(
        method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE
    );
    let mut attempts = Vec::new();
    let mut attempt: u32 = 0;
    let target = crate::measure::upstream_handles(&url);
    let outcome = loop {
        attempt += 1;
        let outcome = match targets {
            // The last attempt at a single target takes the headers and body (no copy).
            Ok([only]) if attempt > retries => {
                let (headers, body) = (std::mem::take(&mut headers), body.take());
                send(runner, method.clone(), only, headers, body, timeout).await
            }
            Ok(targets) => send_any(runner, &method, targets, &headers, &body, timeout).await,
            Err(message) => Err(("discovery", message.clone(), 0.0)),
        };
        if let Some(target) = &target {
            match &outcome {
                Ok((status, _, _, elapsed)) => {
                    target.attempt(&method, Ok(*status), Duration::from_secs_f64(*elapsed))
                }
                Err((kind, _, elapsed)) => {
                    target.attempt(&method, Err(kind), Duration::from_secs_f64(*elapsed))
                }
            }
        }
        if runner.tracing() {
            attempts.push(match &outcome {
                Ok((status, _, _, elapsed)) => json!({"attempt": attempt, "status": status, "elapsed": elapsed}),
                Err((kind, message, elapsed)) => {
                    json!({"attempt": attempt, "status": 0, "error": kind, "message": message, "elapsed": elapsed})
                }
            });
        }
        let retryable = match &outcome {
            Err(("connect", _, _)) => true,
            Err(("timeout", _, _)) => idempotent || retry_unsafe,
            Ok((502..=504, ..)) => idempotent || retry_unsafe,
            _ => false,
        };
        if !retryable || attempt > retries {
            break outcome;
        }
        tracing::debug!(action = %action.id, attempt, "retrying request");
        if let Some(target) = &target {
            target.retry(&method);
        }
        tokio::time::sleep(backoff(retry_delay, attempt)).await;
    };
    if let Value::Object(map) = &mut evaluated {
        map.insert("attempts".into(), Value::Array(attempts));
    }
    let (produced, ok) = match outcome {
        Ok((status, headers, data, elapsed)) => {
            // A body that should be JSON but is not is a failed call, even with a 2xx: the
            // upstream is broken. A body declared as something else (`text/plain`) is kept.
            let declared_json = headers
                .get(reqwest::header::CONTENT_TYPE)
                .is_none_or(|ct| String::from_utf8_lossy(ct.as_bytes()).contains("json"));
            let broken = matches!(data, Data::Text(_)) && declared_json;
            let answer = Answer {
                status,
                headers,
                elapsed,
            };
            let slot = match data {
                Data::Raw(raw) => ResponseSlot::answer(answer, Some(raw), Value::Null),
                Data::Value(v) => ResponseSlot::answer(answer, None, v),
                Data::Text(text) => ResponseSlot::answer(answer, None, Value::String(text)),
            };
            (slot, (200..300).contains(&status) && !broken)
        }
        Err((kind, message, elapsed)) => {
            tracing::debug!(action = %action.id, %kind, %message, "request failed without an HTTP answer");
            (
                json!({
                    "status": 0,
                    "headers": {},
                    "data": {"error": kind, "message": message},
                    "elapsed": {"total_seconds": elapsed},
                })
                .into(),
                false,
            )
        }
    };
    Ok((produced, ok, evaluated))
}

/// Most retries a request action may ask for.
const MAX_RETRIES: u32 = 10;
/// A number field (seconds, counts), if present: positive, or zero when `zero_ok`.
/// A positive number field (seconds, counts), if present.
fn number(
    action: &Action,
    ctx: &Ctx,
    data: Option<&flowyt_core::model::Data>,
    name: &str,
    zero_ok: bool,
) -> Result<Option<f64>, RunError> {
    let Some(d) = data else { return Ok(None) };
    let v = eval(action, d, ctx)?;
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        .filter(|n: &f64| n.is_finite() && (*n > 0.0 || (zero_ok && *n == 0.0)))
        .map(Some)
        .ok_or_else(|| {
            fail(
                action,
                ErrorKind::Action,
                format!("`{name}` must be a positive number, found `{v}`"),
            )
        })
}

/// Exponential backoff with jitter: `delay * 2^(attempt-1)`, scaled by a random factor in
/// [0.5, 1), at most 30 s.
fn backoff(delay: f64, attempt: u32) -> Duration {
    let base = delay * f64::from(1u32 << (attempt - 1).min(16));
    Duration::from_secs_f64((base * (0.5 + jitter() * 0.5)).min(30.0))
}

/// A number in [0, 1) that differs between calls (no cryptographic quality needed).
fn jitter() -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut x = STATE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed) ^ seed;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

type Sent = (u16, HeaderMap, Data, f64);

/// Sends to the first target that accepts a connection: a refused connection moves on to the
/// next instance of the service.
async fn send_any(
    runner: &Runner<'_>,
    method: &Method,
    targets: &[String],
    headers: &HeaderMap,
    body: &Option<Value>,
    timeout: f64,
) -> Result<Sent, NotSent> {
    let mut last = Err(("connect", "no instance to call".to_string(), 0.0));
    for target in targets {
        last = send(
            runner,
            method.clone(),
            target,
            headers.clone(),
            body.clone(),
            timeout,
        )
        .await;
        if !matches!(last, Err(("connect", _, _))) {
            break;
        }
    }
    last
}

/// An upstream body: JSON kept as bytes until a template reads inside it, or a value.
pub(crate) enum Data {
    Raw(Bytes),
    Value(Value),
    /// A body that is not JSON.
    Text(String),
}
type NotSent = (&'static str, String, f64);

async fn send(
    runner: &Runner<'_>,
    method: Method,
    url: &str,
    mut headers: HeaderMap,
    body: Option<Value>,
    timeout: f64,
) -> Result<Sent, NotSent> {
    let url = reqwest::Url::parse(url)
        .map_err(|e| ("invalid_url", format!("invalid URL `{url}`: {e}"), 0.0))?;
    // One client span per attempt; the call carries its context (or the caller's trace,
    // unchanged, when no span is exported).
    let span = crate::telemetry::client_span(&runner.span, method.as_str(), &url);
    if let Some(tc) = crate::telemetry::context_of(&span, runner.propagate.as_ref()) {
        tc.inject(&mut headers);
    }
    let sent = send_traced(runner, method, url, headers, body, timeout).await;
    crate::telemetry::client_span_end(
        &span,
        match &sent {
            Ok((status, ..)) => Ok(*status),
            Err((kind, ..)) => Err(kind),
        },
    );
    sent
}

async fn send_traced(
    runner: &Runner<'_>,
    method: Method,
    url: reqwest::Url,
    headers: HeaderMap,
    body: Option<Value>,
    timeout: f64,
) -> Result<Sent, NotSent> {
    let started = Instant::now();
    let elapsed = || started.elapsed().as_secs_f64();
    let form = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let json_body = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let mut builder = runner.shared.client.request(method.clone(), url);
    let sends_body = matches!(method, Method::POST | Method::PUT | Method::PATCH);
    match body {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) if !sends_body => {
            if !map.is_empty() {
                builder = builder.query(&query_pairs(&map));
            }
        }
        Some(Value::String(s)) if sends_body && !json_body => builder = builder.body(s),
        Some(Value::Object(map)) if sends_body && form => {
            builder = builder.form(&query_pairs(&map))
        }
        Some(v) if sends_body => {
            let bytes = serde_json::to_vec(&v).map_err(|e| ("body", e.to_string(), 0.0))?;
            builder = builder.body(bytes);
        }
        Some(_) => {}
    }
    let mut request = builder
        .build()
        .map_err(|e| (classify(&e), error_chain(&e), elapsed()))?;
    // The flow's headers replace the builder's (a form body's content type is among them):
    // moved in, not inserted one by one.
    *request.headers_mut() = headers;
    // A timeout too large to represent is no timeout (the run's time limit still holds).
    *request.timeout_mut() = Duration::try_from_secs_f64(timeout).ok();
    let mut response = runner
        .shared
        .client
        .execute(request)
        .await
        .map_err(|e| (classify(&e), error_chain(&e), elapsed()))?;
    let status = response.status().as_u16();
    let resp_headers = std::mem::take(response.headers_mut());
    let too_large = || {
        (
            "body_too_large",
            format!("the response body is larger than {MAX_UPSTREAM_BODY} bytes"),
            elapsed(),
        )
    };
    let bytes = match response.content_length() {
        Some(n) if n > MAX_UPSTREAM_BODY as u64 => return Err(too_large()),
        Some(_) => response
            .bytes()
            .await
            .map_err(|e| (classify(&e), error_chain(&e), elapsed()))?,
        None => {
            let mut buf = BytesMut::new();
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        if buf.len() + chunk.len() > MAX_UPSTREAM_BODY {
                            return Err(too_large());
                        }
                        buf.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(e) => return Err((classify(&e), error_chain(&e), elapsed())),
                }
            }
            buf.freeze()
        }
    };
    Ok((status, resp_headers, classify_body(bytes), elapsed()))
}

/// A body as `response.data`: JSON (kept raw, checked without building a tree), `{}` when
/// empty, otherwise the text (spec decision 5: never the legacy `{}`).
pub(crate) fn classify_body(bytes: Bytes) -> Data {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Data::Value(Value::Object(Map::new()));
    }
    match serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
        Ok(_) => Data::Raw(bytes),
        Err(_) => Data::Text(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

fn query_pairs(map: &Map<String, Value>) -> Vec<(String, String)> {
    map.iter()
        .map(|(k, v)| (k.clone(), python_str(v)))
        .collect()
}

fn classify(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_redirect() {
        "redirect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "request"
    }
}

/// The error and its causes on one line ("error sending request: connection refused").
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
