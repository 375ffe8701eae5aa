//! The logs, metrics and traces of `flowyt serve`: the log subscriber (human or JSON lines),
//! the OTLP span exporter when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and `GET /metrics`.

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use flowyt_runtime::registry;
use flowyt_runtime::runs;
use std::sync::Arc;

/// How `flowyt serve` writes its log lines.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Log lines to stderr (human or JSON, filtered by `RUST_LOG`, default `info`) and, when
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is set, flowyt's spans exported over OTLP.
pub fn init(
    format: LogFormat,
) -> Result<Option<flowyt_runtime::telemetry::otlp::OtelGuard>, String> {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = match format {
        LogFormat::Human => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed(),
        // One JSON object per line: timestamp, level, target, the message and its fields at
        // the top level, and the current span (workspace, flow, request id, trace and span
        // ids) under `span`.
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed(),
    };
    let (otel, guard) = match flowyt_runtime::telemetry::otlp::layer_from_env() {
        Ok(Some((layer, guard))) => (Some(layer), Some(guard)),
        Ok(None) => (None, None),
        Err(e) => return Err(e.to_string()),
    };
    tracing_subscriber::registry()
        .with(logs)
        .with(otel)
        .try_init()
        .map_err(|e| format!("cannot install the log subscriber: {e}"))?;
    Ok(guard)
}

/// `GET /metrics`: the gauges read at scrape time (queue depth, runs here, registry
/// instances), then everything recorded, in the Prometheus text format.
pub fn metrics_router<S: Clone + Send + Sync + 'static>(
    prometheus: flowyt_runtime::prometheus::Prometheus,
    runs: runs::Runs,
    registry: Arc<registry::Registry>,
) -> Router<S> {
    Router::new().route(
        "/metrics",
        get(move || {
            let (prometheus, runs, registry) = (prometheus.clone(), runs.clone(), registry.clone());
            async move {
                runs.record_gauges().await;
                registry.record_gauges();
                match tokio::task::spawn_blocking(move || prometheus.response()).await {
                    Ok(r) => r,
                    Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                }
            }
        }),
    )
}
