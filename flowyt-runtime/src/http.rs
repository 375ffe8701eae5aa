//! axum integration: a flow is a handler, a workspace is a `Router`.
//!
//! The incoming request becomes the legacy `request` root (`headers` with names lower-cased and
//! `-` turned into `_`, `qs` and `form` with the first value of each key, `data` the JSON body,
//! `params` the path captures, plus `method` and `path`), and the run's outcome becomes the
//! response (spec §2.2–2.3 and decisions 9–10).

use crate::engine::{Outcome, RunInput, Shared};
use axum::body::Body;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use serde_json::{Map, Value, json};
use std::panic::AssertUnwindSafe;
use tracing::Instrument;

use crate::MASKED_ERROR;

/// Runs a flow for one HTTP request, counted in the metrics and traced as a server span.
/// Never panics: a panic inside the run becomes a 500 for this request only.
pub(crate) async fn handle(service: crate::FlowService, req: Request<Body>) -> Response {
    let started = std::time::Instant::now();
    // The route label: only built when metrics or spans need it.
    let route: metrics::SharedString = match &service.route {
        Some(r) => r.clone().into(),
        None if crate::measure::enabled() || crate::telemetry::exporting() => req
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map_or_else(|| service.key.to_string(), |m| m.as_str().to_string())
            .into(),
        None => metrics::SharedString::const_str(""),
    };
    let trace = crate::telemetry::TraceContext::from_headers(req.headers());
    let span = crate::telemetry::server_span(
        &service.shared.name,
        &service.key,
        req.method().as_str(),
        &route,
        req.uri().path(),
        &trace,
    );
    let shared = &service.shared;
    // Boxed before it is wrapped (see `Shared::run_inner`).
    let inner = Box::pin(handle_inner(
        shared,
        &service.key,
        &service.params,
        service.time_limit,
        trace,
        req,
    ));
    let run = AssertUnwindSafe(inner.instrument(span.clone())).catch_unwind();
    let response = match run.await {
        Ok(response) => response,
        Err(_) => {
            tracing::error!(workspace = %shared.name, flow = %service.key, "a flow run panicked");
            json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({ "exception": MASKED_ERROR }),
            )
        }
    };
    let status = response.status().as_u16();
    crate::telemetry::server_span_end(&span, status);
    service.metrics.record(
        &shared.label,
        &service.key,
        route,
        status,
        started.elapsed(),
    );
    response
}

async fn handle_inner(
    shared: &Shared,
    key: &str,
    converters: &[(String, String)],
    time_limit: Option<std::time::Duration>,
    trace: Option<crate::telemetry::TraceContext>,
    req: Request<Body>,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let mut params = Map::new();
    if let Ok(raw) = RawPathParams::from_request_parts(&mut parts, &()).await {
        for (name, value) in &raw {
            let conv = converters
                .iter()
                .find(|(n, _)| n == name)
                .map_or("string", |(_, c)| c.as_str());
            let ok = match conv {
                "int" => value.parse::<i64>().is_ok(),
                "float" => value.parse::<f64>().is_ok(),
                _ => true,
            };
            if !ok {
                return message(
                    StatusCode::NOT_FOUND,
                    "The requested URL was not found on the server.",
                );
            }
            let typed = match conv {
                "int" => value.parse::<i64>().map(Value::from).unwrap_or(Value::Null),
                "float" => value
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::Null, Value::Number),
                _ => Value::String(value.to_string()),
            };
            params.insert(name.to_string(), typed);
        }
    }
    let limit = usize::try_from(shared.settings.limits.max_body_bytes).unwrap_or(usize::MAX);
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return message(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("The request body is larger than the limit of {limit} bytes."),
            );
        }
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut data = Value::Null;
    let mut form = Map::new();
    if content_type.starts_with("application/json") && !bytes.is_empty() {
        match serde_json::from_slice(&bytes) {
            Ok(v) => data = v,
            Err(e) => {
                return message(
                    StatusCode::BAD_REQUEST,
                    &format!("The request body is not valid JSON: {e}"),
                );
            }
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        crate::context::first_values(&bytes, &mut form);
    }
    let debug_header = ["x-flowyt-debug", "x-orchestryzi-debug"]
        .iter()
        .find_map(|h| parts.headers.get(*h))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let debug = shared.settings.debug && debug_header.as_deref() == Some("true");
    let request_id = parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .map(str::to_string);
    let accept_xml = parts
        .headers
        .get(header::ACCEPT)
        .is_some_and(|v| v == "application/xml");
    let extensions = std::mem::take(&mut parts.extensions);
    // The `request` root: its members become values only when a template reads them.
    let request = crate::context::HttpRequest::new(
        parts.method,
        parts.uri,
        parts.headers,
        Value::Object(params),
        Value::Object(form),
        data,
        debug_header,
    );
    // A flow that declares params takes them from the query string and a JSON object body.
    let mut flow_params = Map::new();
    if shared.has_params(key) {
        let mut given = match &request.data {
            Value::Object(body) => body.clone(),
            _ => Map::new(),
        };
        if let Value::Object(qs) = request.qs() {
            for (k, v) in qs {
                given.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        match shared.resolve_params(key, &given, true) {
            Ok(p) => flow_params = p,
            Err(e) => {
                return json_response(
                    StatusCode::BAD_REQUEST,
                    &json!({"message": e.message, "param": e.param}),
                );
            }
        }
    }
    let result = shared
        .run_http(
            key,
            std::sync::Arc::new(request),
            RunInput {
                request: Value::Null,
                input: Value::Null,
                debug,
                request_id: request_id.clone(),
                params: flow_params,
                time_limit,
                trace,
                extensions,
            },
        )
        .await;
    let mut response = outcome_response(result.outcome, result.trace, accept_xml);
    if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        response.headers_mut().insert("x-request-id", id);
    }
    response
}

/// Builds the HTTP response of a run.
pub(crate) fn outcome_response(
    outcome: Outcome,
    trace: Option<Value>,
    accept_xml: bool,
) -> Response {
    let flow_xml = matches!(&outcome, Outcome::Response { headers, .. } if headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v == "application/xml"));
    let xml = accept_xml || flow_xml;
    // The fast path: a plain JSON answer is written as is, raw upstream parts included.
    if let Outcome::Response {
        status,
        headers,
        body,
    } = &outcome
        && trace.is_none()
        && !xml
    {
        let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::OK);
        let bytes: bytes::Bytes = match body.as_raw() {
            Some(raw) => raw.clone(),
            None => body.to_bytes().into(),
        };
        let mut response = (status, bytes).into_response();
        set_headers(&mut response, headers);
        return response;
    }
    let (status, headers, mut body) = match outcome {
        Outcome::Response {
            status,
            headers,
            body,
        } => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            headers,
            body.to_value(),
        ),
        Outcome::Ended => (StatusCode::OK, Vec::new(), Value::Object(Map::new())),
        Outcome::Invalid(errors) => (StatusCode::BAD_REQUEST, Vec::new(), errors),
        Outcome::Failed(e) => {
            let body = match &trace {
                Some(_) => json!({ "exception": e.to_json() }),
                None => json!({ "exception": MASKED_ERROR }),
            };
            (StatusCode::INTERNAL_SERVER_ERROR, Vec::new(), body)
        }
    };
    if let Some(trace) = trace {
        if !body.is_object() {
            body = json!({ "data": body });
        }
        if let Value::Object(map) = &mut body {
            map.insert("__debug__".into(), json!({ "workspace": trace }));
        }
    }
    let mut response = if xml {
        match to_xml(&body) {
            Ok(text) => {
                let mut r = (status, text).into_response();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/xml"),
                );
                r
            }
            // The flow chose XML for an answer XML cannot hold: the flow's fault. The client
            // asked for it: it cannot be given that representation (the legacy engine
            // answered 500 either way, which let any client provoke server errors).
            Err(why) if flow_xml => message(StatusCode::INTERNAL_SERVER_ERROR, &why),
            Err(why) => message(
                StatusCode::NOT_ACCEPTABLE,
                &format!("this answer cannot be written as the XML `Accept` asks for: {why}"),
            ),
        }
    } else {
        json_response(status, &body)
    };
    if !xml {
        set_headers(&mut response, &headers);
    }
    response
}

/// Sets the flow's headers (which start with `Content-Type`); invalid ones are skipped.
fn set_headers(response: &mut Response, headers: &[(String, String)]) {
    if headers.is_empty() {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    for (k, v) in headers {
        if k.eq_ignore_ascii_case("content-type") && v == "application/json" {
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut r = (status, bytes).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// A `{"message": ...}` error response, as the legacy engine's HTTP errors looked.
pub(crate) fn message(status: StatusCode, text: &str) -> Response {
    json_response(status, &json!({ "message": text }))
}

/// `xmltodict.unparse`: one top-level key becomes the root element.
/// The body as XML (the legacy xmltodict shape), or why it cannot be: it must have exactly
/// one top-level key, and every key must be a valid element name (keys come from data, so
/// `{"a><script": 1}` is refused, never written as markup).
fn to_xml(body: &Value) -> Result<String, String> {
    let Value::Object(map) = body else {
        return Err("An XML response needs a body with exactly one top-level key.".into());
    };
    if map.len() != 1 {
        return Err("An XML response needs a body with exactly one top-level key.".into());
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    for (k, v) in map {
        xml_element(k, v, &mut out)?;
    }
    Ok(out)
}

fn xml_element(name: &str, v: &Value, out: &mut String) -> Result<(), String> {
    if !crate::xml::is_name(name) {
        let shown: String = name.chars().take(40).collect();
        return Err(format!(
            "An XML response cannot have an element named {shown:?}: names start with a letter or `_` and use letters, digits, `_`, `-` and `.`."
        ));
    }
    match v {
        Value::Array(items) => {
            for item in items {
                xml_element(name, item, out)?;
            }
        }
        Value::Object(map) => {
            out.push_str(&format!("<{name}>"));
            for (k, v) in map {
                xml_element(k, v, out)?;
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Null => out.push_str(&format!("<{name}></{name}>")),
        other => {
            let text = crate::xml::escape_text(&flowyt_core::expr::python_str(other));
            out.push_str(&format!("<{name}>{text}</{name}>"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_matches_xmltodict() {
        assert_eq!(
            to_xml(&json!({"root": {"a": "1"}})).as_deref(),
            Ok("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<root><a>1</a></root>")
        );
        assert!(to_xml(&json!({"a": 1, "b": 2})).is_err());
    }

    #[test]
    fn xml_refuses_names_from_data_that_would_be_markup() {
        // Before: `{"a><evil/><b": 1}` became `<a><evil/><b>1</a><evil/><b>`.
        for bad in ["a><evil/><b", "1abc", "a b", "xmlns", "", "a\"b"] {
            let got = to_xml(&json!({"root": {bad: 1}}));
            assert!(
                got.as_ref()
                    .is_err_and(|e| e.contains("cannot have an element named")),
                "{bad:?}: {got:?}"
            );
        }
        assert_eq!(
            to_xml(&json!({"r": {"t": "<b>&'\"\u{1}"}})).as_deref(),
            Ok("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<r><t>&lt;b&gt;&amp;'\"</t></r>")
        );
    }
}
