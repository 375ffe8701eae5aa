//! Distributed tracing: the W3C Trace Context a caller sends, the spans flowyt opens for a
//! request, a triggered run, an action and an upstream call, and the `traceparent` each
//! upstream call carries.
//!
//! Spans are `tracing` spans named and attributed per the OpenTelemetry semantic conventions.
//! They are opened only while an exporter is installed ([`exporting`]; with the `otel`
//! feature, [`otlp::layer_from_env`] installs one from the standard `OTEL_*` variables);
//! otherwise nothing is opened and a caller's `traceparent` is passed upstream unchanged, so
//! flowyt stays transparent to a trace it does not record.

#[cfg(feature = "otel")]
pub mod otlp;

use http::HeaderMap;
use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
use std::sync::atomic::{AtomicBool, Ordering};
use tracing::Span;
use tracing::field::Empty;

static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Whether spans are being exported (an exporter layer is installed).
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// Says spans are exported from now on (the exporter layer calls it when it is built).
pub fn set_exporting(on: bool) {
    EXPORTING.store(on, Ordering::Relaxed);
}

/// A W3C trace context: where a request or a run sits in a distributed trace.
///
/// ```
/// use flowyt_runtime::telemetry::TraceContext;
/// let tc = TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", None)
///     .unwrap();
/// assert_eq!(tc.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert!(TraceContext::parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01", None).is_none());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TraceContext {
    context: SpanContext,
}

impl TraceContext {
    /// Parses a `traceparent` (and `tracestate`): `None` when it is not a valid version-00
    /// (or later, read as 00) header, or names the all-zero trace or parent.
    pub fn parse(traceparent: &str, tracestate: Option<&str>) -> Option<TraceContext> {
        let mut parts = traceparent.trim().split('-');
        let version = parts.next()?;
        let (trace, parent, flags) = (parts.next()?, parts.next()?, parts.next()?);
        let hex = |s: &str, n: usize| {
            s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        // Version 00 has exactly four fields; a later version may add fields after them.
        if !hex(version, 2) || version == "ff" || (version == "00" && parts.next().is_some()) {
            return None;
        }
        if !hex(trace, 32) || !hex(parent, 16) || !hex(flags, 2) {
            return None;
        }
        let trace_id = TraceId::from_hex(trace).ok()?;
        let span_id = SpanId::from_hex(parent).ok()?;
        let flags = u8::from_str_radix(flags, 16).ok()?;
        let state = tracestate
            .and_then(|s| s.parse::<TraceState>().ok())
            .unwrap_or_default();
        let context = SpanContext::new(trace_id, span_id, TraceFlags::new(flags), true, state);
        context.is_valid().then_some(TraceContext { context })
    }

    /// The context a request carries in `traceparent` and `tracestate`.
    pub fn from_headers(headers: &HeaderMap) -> Option<TraceContext> {
        let parent = headers.get("traceparent")?.to_str().ok()?;
        let state = headers.get("tracestate").and_then(|v| v.to_str().ok());
        TraceContext::parse(parent, state)
    }

    /// The context of an OpenTelemetry span.
    pub fn from_span_context(context: SpanContext) -> Option<TraceContext> {
        context.is_valid().then_some(TraceContext { context })
    }

    /// The trace id, 32 lowercase hex digits.
    pub fn trace_id(&self) -> String {
        self.context.trace_id().to_string()
    }

    /// The parent (span) id, 16 lowercase hex digits.
    pub fn span_id(&self) -> String {
        self.context.span_id().to_string()
    }

    /// The `traceparent` header value.
    pub fn traceparent(&self) -> String {
        format!(
            "00-{}-{}-{:02x}",
            self.context.trace_id(),
            self.context.span_id(),
            self.context.trace_flags().to_u8()
        )
    }

    /// The `tracestate` header value, if there is one.
    pub fn tracestate(&self) -> Option<String> {
        let state = self.context.trace_state().header();
        (!state.is_empty()).then_some(state)
    }

    /// The OpenTelemetry span context.
    pub fn span_context(&self) -> &SpanContext {
        &self.context
    }

    /// Sets `traceparent` (and `tracestate`) on an outgoing request.
    pub fn inject(&self, headers: &mut HeaderMap) {
        if let Ok(v) = self.traceparent().parse() {
            headers.insert("traceparent", v);
        }
        match self.tracestate().and_then(|s| s.parse().ok()) {
            Some(v) => {
                headers.insert("tracestate", v);
            }
            None => {
                headers.remove("tracestate");
            }
        }
    }
}

/// The context of `span` when it is exported, else `fallback`.
pub(crate) fn context_of(span: &Span, fallback: Option<&TraceContext>) -> Option<TraceContext> {
    #[cfg(feature = "otel")]
    if exporting() && !span.is_disabled() {
        use opentelemetry::trace::TraceContextExt as _;
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        let cx = span.context();
        if let Some(tc) = TraceContext::from_span_context(cx.span().span_context().clone()) {
            return Some(tc);
        }
    }
    #[cfg(not(feature = "otel"))]
    let _ = span;
    fallback.cloned()
}

/// Makes `span` a child of a remote parent.
fn set_parent(span: &Span, parent: Option<&TraceContext>) {
    #[cfg(feature = "otel")]
    if let Some(parent) = parent {
        use opentelemetry::trace::TraceContextExt as _;
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        let cx = opentelemetry::Context::new().with_remote_span_context(parent.context.clone());
        // Fails only for a span the layer does not track (then there is nothing to parent).
        let _ = span.set_parent(cx);
    }
    #[cfg(not(feature = "otel"))]
    let _ = (span, parent);
}

/// The server span of an HTTP request a flow answers, continuing the caller's trace.
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
pub(crate) fn server_span(
    workspace: &str,
    flow: &str,
    method: &str,
    route: &str,
    path: &str,
    parent: &Option<TraceContext>,
) -> Span {
    if !exporting() {
        return Span::none();
    }
    let span = tracing::debug_span!(
        "http_request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = method,
        http.route = route,
        url.path = path,
        http.response.status_code = Empty,
        flowyt.workspace = workspace,
        flowyt.flow = flow,
    );
    set_parent(&span, parent.as_ref());
    span
}

/// Records the answer's status on a server span (5xx is an error, per the conventions).
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
pub(crate) fn server_span_end(span: &Span, status: u16) {
    if span.is_disabled() {
        return;
    }
    span.record("http.response.status_code", status);
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
}

/// The consumer span of a triggered run, child of the span that queued it.
pub(crate) fn run_span(
    workspace: &str,
    flow: &str,
    run_id: &str,
    parent: Option<&TraceContext>,
) -> Span {
    if !exporting() {
        return Span::none();
    }
    let span = tracing::debug_span!(
        "run",
        otel.name = %format_args!("run {flow}"),
        otel.kind = "consumer",
        otel.status_code = Empty,
        flowyt.workspace = workspace,
        flowyt.flow = flow,
        flowyt.run.id = run_id,
    );
    set_parent(&span, parent);
    span
}

/// The producer span of a trigger (an API call or a schedule tick) that queues a run; its
/// context is kept with the run so the run's span continues the same trace.
pub(crate) fn trigger_span(
    workspace: &str,
    flow: &str,
    run_id: &str,
    parent: Option<&TraceContext>,
) -> Span {
    if !exporting() {
        return Span::none();
    }
    let span = tracing::debug_span!(
        "trigger",
        otel.name = %format_args!("trigger {flow}"),
        otel.kind = "producer",
        flowyt.workspace = workspace,
        flowyt.flow = flow,
        flowyt.run.id = run_id,
    );
    set_parent(&span, parent);
    span
}

/// The client span of one upstream call attempt, child of `parent` (the action's span).
#[cfg(feature = "http-client")]
pub(crate) fn client_span(parent: &Span, method: &str, url: &url::Url) -> Span {
    if !exporting() {
        return Span::none();
    }
    tracing::debug_span!(
        parent: parent,
        "upstream",
        otel.name = method,
        otel.kind = "client",
        otel.status_code = Empty,
        http.request.method = method,
        url.full = redacted_url(url),
        server.address = url.host_str().unwrap_or(""),
        server.port = url.port_or_known_default().unwrap_or(0),
        http.response.status_code = Empty,
        error.type = Empty,
    )
}

/// Records an upstream answer (or why there was none) on its client span.
#[cfg(feature = "http-client")]
pub(crate) fn client_span_end(span: &Span, answer: Result<u16, &'static str>) {
    if span.is_disabled() {
        return;
    }
    match answer {
        Ok(status) => {
            span.record("http.response.status_code", status);
            if status >= 400 {
                span.record("error.type", status);
                span.record("otel.status_code", "ERROR");
            }
        }
        Err(kind) => {
            span.record("error.type", kind);
            span.record("otel.status_code", "ERROR");
        }
    }
}

/// Query parameters whose value is a credential (the semantic conventions' list, plus the
/// usual names of keys and tokens).
#[cfg(feature = "http-client")]
const SECRET_PARAMS: &[&str] = &[
    "awsaccesskeyid",
    "signature",
    "sig",
    "x-goog-signature",
    "token",
    "access_token",
    "api_key",
    "apikey",
    "key",
    "password",
    "secret",
    "client_secret",
    "code",
];

/// Whether a query parameter's value is a credential.
#[cfg(feature = "http-client")]
fn is_secret_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_PARAMS.contains(&lower.as_str())
        || lower.contains("token")
        || lower.contains("secret")
        || lower.contains("password")
}

/// `url.full` without secrets: user and password become `REDACTED`, and the values of
/// credential-looking query parameters too.
#[cfg(feature = "http-client")]
pub(crate) fn redacted_url(url: &url::Url) -> String {
    let secret_query = url.query_pairs().any(|(k, _)| is_secret_param(&k));
    if url.username().is_empty() && url.password().is_none() && !secret_query {
        return url.as_str().to_string();
    }
    let mut url = url.clone();
    if !url.username().is_empty() {
        let _ = url.set_username("REDACTED");
    }
    if url.password().is_some() {
        let _ = url.set_password(Some("REDACTED"));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_param(&k) {
                    "REDACTED".to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_traceparents() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let tc = TraceContext::parse(tp, Some("congo=t61rcWkgMzE")).expect("valid");
        assert_eq!(tc.traceparent(), tp);
        assert_eq!(tc.span_id(), "00f067aa0ba902b7");
        assert_eq!(tc.tracestate().as_deref(), Some("congo=t61rcWkgMzE"));
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert!(TraceContext::parse(bad, None).is_none(), "{bad:?}");
        }
        // A later version may carry more fields; the first four are read.
        assert!(
            TraceContext::parse(
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-xyz",
                None
            )
            .is_some()
        );
    }

    #[test]
    #[cfg(feature = "http-client")]
    fn urls_lose_their_secrets() {
        let url = url::Url::parse(
            "https://bob:hunter2@api.example.com/v1/x?q=rust&api_key=abc&X-Goog-Signature=s&page=2",
        )
        .expect("url");
        assert_eq!(
            redacted_url(&url),
            "https://REDACTED:REDACTED@api.example.com/v1/x?q=rust&api_key=REDACTED&X-Goog-Signature=REDACTED&page=2"
        );
    }
}
