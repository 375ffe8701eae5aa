//! Span export over OTLP/HTTP, configured from the standard `OTEL_*` variables.
//!
//! - `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) turns export on;
//!   unset, [`layer_from_env`] returns `None` and nothing is exported or paid for.
//! - `OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf` (the default) or `http/json`; `grpc` is
//!   refused with a clear error (point at the collector's OTLP/HTTP port, 4318).
//! - `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_SERVICE_NAME`
//!   (default `flowyt`), `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER` and
//!   `OTEL_TRACES_SAMPLER_ARG` (default `parentbased_always_on`), `OTEL_SDK_DISABLED`,
//!   `OTEL_TRACES_EXPORTER=none`.
//! - `OTEL_BSP_MAX_QUEUE_SIZE` (2048), `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` (512),
//!   `OTEL_BSP_SCHEDULE_DELAY` (1000 ms), `OTEL_BSP_EXPORT_TIMEOUT` (10000 ms).
//!
//! Export never blocks a request: an ended span is offered to a bounded queue, and dropped
//! (counted in `flowyt_otel_spans_dropped_total`) when the queue is full. One thread batches
//! the queue and sends each batch with the `opentelemetry-otlp` exporter. This small batcher
//! stands in for the SDK's `BatchSpanProcessor` only because that one does not say how many
//! spans it dropped.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{SpanExporter, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter as _, SpanProcessor};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

/// Keeps the exporter alive; dropping it (or [`OtelGuard::shutdown`]) sends what is queued.
#[derive(Debug)]
pub struct OtelGuard {
    provider: SdkTracerProvider,
}

impl OtelGuard {
    /// Sends the queued spans and stops the exporter.
    pub fn shutdown(&self) {
        super::set_exporting(false);
        if let Err(e) = self.provider.shutdown() {
            eprintln!("warning: the span exporter did not shut down cleanly: {e}");
        }
    }
}

impl Drop for OtelGuard {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Why export could not be configured.
#[derive(Debug)]
pub struct OtelError(String);

impl std::fmt::Display for OtelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OtelError {}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn millis(name: &str, default: u64) -> Result<Duration, OtelError> {
    match var(name) {
        None => Ok(Duration::from_millis(default)),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| {
                OtelError(format!(
                    "{name} must be a number of milliseconds, not `{v}`"
                ))
            }),
    }
}

fn count(name: &str, default: usize) -> Result<usize, OtelError> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| OtelError(format!("{name} must be a positive number, not `{v}`"))),
    }
}

/// A tracing layer exporting flowyt's spans over OTLP/HTTP, configured from the `OTEL_*`
/// variables (see the module documentation); `None` when `OTEL_EXPORTER_OTLP_ENDPOINT` is not
/// set. Keep the guard alive while the program runs.
///
/// The layer sees flowyt's spans only (`http_request`, `trigger`, `run`, `action`,
/// `upstream`); add it to a `tracing_subscriber::registry()` beside the program's own layers.
pub fn layer_from_env<S>() -> Result<Option<(impl Layer<S>, OtelGuard)>, OtelError>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let disabled = var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
        || var("OTEL_TRACES_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none"));
    let endpoint =
        var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT"));
    if disabled || endpoint.is_none() {
        return Ok(None);
    }
    let protocol = var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        .or_else(|| var("OTEL_EXPORTER_OTLP_PROTOCOL"))
        .unwrap_or_else(|| "http/protobuf".into());
    if !matches!(protocol.as_str(), "http/protobuf" | "http/json") {
        return Err(OtelError(format!(
            "OTEL_EXPORTER_OTLP_PROTOCOL `{protocol}` is not supported: flowyt exports over OTLP/HTTP \
             (`http/protobuf` or `http/json`); point OTEL_EXPORTER_OTLP_ENDPOINT at the collector's \
             HTTP port (4318)"
        )));
    }
    let timeout = millis("OTEL_BSP_EXPORT_TIMEOUT", 10_000)?;
    let batcher = BatchConfig {
        queue: count("OTEL_BSP_MAX_QUEUE_SIZE", 2048)?,
        batch: count("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512)?,
        delay: millis("OTEL_BSP_SCHEDULE_DELAY", 1000)?,
        timeout,
    };
    let client = crate::client::build(crate::Redirects::None)
        .map_err(|e| OtelError(format!("cannot build the OTLP HTTP client: {e}")))?;
    let mut exporter = SpanExporter::builder()
        .with_http()
        .with_http_client(Http { client, timeout })
        .with_protocol(if protocol == "http/json" {
            opentelemetry_otlp::Protocol::HttpJson
        } else {
            opentelemetry_otlp::Protocol::HttpBinary
        })
        .with_timeout(timeout)
        .build()
        .map_err(|e| OtelError(format!("cannot configure the OTLP exporter: {e}")))?;
    let mut resource = Resource::builder();
    let named = var("OTEL_SERVICE_NAME").is_some()
        || var("OTEL_RESOURCE_ATTRIBUTES").is_some_and(|a| a.contains("service.name="));
    if !named {
        resource = resource.with_service_name("flowyt");
    }
    let resource = resource.build();
    exporter.set_resource(&resource);
    let processor = Batcher::start(exporter, batcher)?;
    // The builder reads OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG.
    let provider = SdkTracerProvider::builder()
        .with_resource(resource)
        .with_span_processor(processor)
        .build();
    let tracer = provider.tracer("flowyt");
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_level(false)
        .with_tracked_inactivity(false)
        .with_filter(tracing_subscriber::filter::filter_fn(|meta| {
            meta.is_span()
                && meta.target().starts_with("flowyt_runtime")
                && matches!(
                    meta.name(),
                    "http_request" | "trigger" | "run" | "action" | "upstream"
                )
        }));
    super::set_exporting(true);
    Ok(Some((layer, OtelGuard { provider })))
}

/// The OTLP exporter's HTTP client: flowyt's own reqwest client (rustls, no OpenSSL).
#[derive(Debug)]
struct Http {
    client: reqwest::Client,
    timeout: Duration,
}

impl opentelemetry_http::HttpClient for Http {
    fn send_bytes<'life0, 'async_trait>(
        &'life0 self,
        request: opentelemetry_http::Request<bytes::Bytes>,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<
                    Output = Result<
                        opentelemetry_http::Response<bytes::Bytes>,
                        opentelemetry_http::HttpError,
                    >,
                > + Send
                + 'async_trait,
        >,
    >
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let response = self
                .client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .timeout(self.timeout)
                .body(body)
                .send()
                .await?;
            let mut out = opentelemetry_http::Response::builder().status(response.status());
            if let Some(headers) = out.headers_mut() {
                *headers = response.headers().clone();
            }
            let body = response.bytes().await?;
            Ok(out.body(body)?)
        })
    }
}

#[derive(Clone, Copy, Debug)]
struct BatchConfig {
    queue: usize,
    batch: usize,
    delay: Duration,
    timeout: Duration,
}

enum Message {
    Span(Box<SpanData>),
    /// Export what is queued, then answer.
    Flush(SyncSender<()>),
    /// Export what is queued, shut the exporter down, answer and stop.
    Shutdown(SyncSender<()>),
}

/// The bounded, non-blocking span processor (see the module documentation).
#[derive(Debug)]
struct Batcher {
    queue: SyncSender<Message>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    timeout: Duration,
}

impl Batcher {
    fn start(exporter: SpanExporter, config: BatchConfig) -> Result<Batcher, OtelError> {
        let (queue, receiver) = sync_channel(config.queue);
        let thread = std::thread::Builder::new()
            .name("flowyt-otlp-export".into())
            .spawn(move || export_loop(exporter, receiver, config))
            .map_err(|e| OtelError(format!("cannot start the span export thread: {e}")))?;
        Ok(Batcher {
            queue,
            thread: Mutex::new(Some(thread)),
            timeout: config.timeout,
        })
    }

    fn ask(&self, message: impl FnOnce(SyncSender<()>) -> Message) -> OTelSdkResult {
        let (done, wait) = sync_channel(1);
        self.queue
            .send(message(done))
            .map_err(|_| OTelSdkError::AlreadyShutdown)?;
        wait.recv_timeout(self.timeout * 2)
            .map_err(|_| OTelSdkError::Timeout(self.timeout * 2))
    }
}

impl SpanProcessor for Batcher {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &opentelemetry::Context) {}

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        match self.queue.try_send(Message::Span(Box::new(span))) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                metrics::counter!(crate::measure::SPANS_DROPPED).increment(1);
            }
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.ask(Message::Flush)
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(thread) = thread else {
            return Err(OTelSdkError::AlreadyShutdown);
        };
        let asked = self.ask(Message::Shutdown);
        if asked.is_ok() {
            let _ = thread.join();
        }
        asked
    }
}

/// The export thread: collects spans into batches of `config.batch`, sending a batch when it
/// is full or `config.delay` after its first span.
fn export_loop(exporter: SpanExporter, receiver: Receiver<Message>, config: BatchConfig) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the span export runtime: {e}; spans are not exported");
            return;
        }
    };
    let send = |batch: &mut Vec<SpanData>| {
        if batch.is_empty() {
            return;
        }
        let spans = std::mem::take(batch);
        let n = spans.len() as u64;
        let result = runtime
            .block_on(async { tokio::time::timeout(config.timeout, exporter.export(spans)).await });
        let ok = matches!(result, Ok(Ok(())));
        if !ok {
            tracing::warn!(spans = n, "cannot export spans to the OTLP endpoint");
        }
        metrics::counter!(crate::measure::SPANS_EXPORTED, "result" => if ok { "ok" } else { "error" })
            .increment(n);
    };
    let mut batch = Vec::with_capacity(config.batch);
    let mut first: Option<Instant> = None;
    loop {
        let wait = match first {
            Some(at) => config.delay.saturating_sub(at.elapsed()),
            None => Duration::from_secs(3600),
        };
        match receiver.recv_timeout(wait) {
            Ok(Message::Span(span)) => {
                first.get_or_insert_with(Instant::now);
                batch.push(*span);
                if batch.len() >= config.batch {
                    send(&mut batch);
                    first = None;
                }
            }
            Ok(Message::Flush(done)) => {
                while let Ok(Message::Span(span)) = receiver.try_recv() {
                    batch.push(*span);
                }
                send(&mut batch);
                first = None;
                let _ = done.send(());
            }
            Ok(Message::Shutdown(done)) => {
                while let Ok(Message::Span(span)) = receiver.try_recv() {
                    batch.push(*span);
                }
                send(&mut batch);
                let _ = exporter.shutdown();
                let _ = done.send(());
                return;
            }
            Err(RecvTimeoutError::Timeout) => {
                send(&mut batch);
                first = None;
            }
            Err(RecvTimeoutError::Disconnected) => {
                send(&mut batch);
                return;
            }
        }
    }
}
