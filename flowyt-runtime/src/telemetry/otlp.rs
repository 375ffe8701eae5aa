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
//! Export never blocks a request: an ended span joins a bounded queue under a short lock, or
//! is dropped (counted in `flowyt_otel_spans_dropped_total`) when the queue is full; nobody is
//! woken per span. One thread takes the queue when a batch is full or every
//! `OTEL_BSP_SCHEDULE_DELAY`, and sends it with the `opentelemetry-otlp` exporter. This small batcher
//! stands in for the SDK's `BatchSpanProcessor` only because that one does not say how many
//! spans it dropped.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{SpanExporter, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter as _, SpanProcessor};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

/// Keeps the exporter alive; dropping it (or [`OtelGuard::shutdown`]) sends what is queued.
#[derive(Debug)]
pub struct OtelGuard {
    provider: SdkTracerProvider,
    done: std::sync::atomic::AtomicBool,
}

impl OtelGuard {
    /// Sends the queued spans (waiting at most 5 seconds) and stops the exporter; once.
    pub fn shutdown(&self) {
        if self.done.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return;
        }
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

/// Where and how spans are exported.
#[derive(Clone, Debug, PartialEq)]
pub struct Otlp {
    /// The URL batches are POSTed to (`http://collector:4318/v1/traces`).
    pub endpoint: String,
    /// OTLP/HTTP with JSON bodies instead of protobuf.
    pub json: bool,
    /// Most spans waiting for export; past it they are dropped and counted.
    pub max_queue: usize,
    /// Most spans in one export.
    pub max_batch: usize,
    /// How long a span waits for its batch to fill before the batch is sent anyway.
    pub delay: Duration,
    /// The longest one export may take.
    pub timeout: Duration,
}

impl Otlp {
    /// Export to `endpoint` (the full `/v1/traces` URL) with the defaults: protobuf, a queue
    /// of 2048 spans, batches of 512 sent at least every second, 10 s per export.
    pub fn new(endpoint: impl Into<String>) -> Otlp {
        Otlp {
            endpoint: endpoint.into(),
            json: false,
            max_queue: 2048,
            max_batch: 512,
            delay: Duration::from_millis(1000),
            timeout: Duration::from_millis(10_000),
        }
    }

    /// The settings the `OTEL_*` variables give (see the module documentation); `None` when
    /// no endpoint is set, or export is disabled.
    pub fn from_env() -> Result<Option<Otlp>, OtelError> {
        let disabled = var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || var("OTEL_TRACES_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none"));
        // The per-signal variable is the URL as is; the general one gets `/v1/traces`.
        let endpoint = match (
            var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            var("OTEL_EXPORTER_OTLP_ENDPOINT"),
        ) {
            _ if disabled => return Ok(None),
            (Some(url), _) => url,
            (None, Some(base)) => format!("{}/v1/traces", base.trim_end_matches('/')),
            (None, None) => return Ok(None),
        };
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
        let timeout = match var("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") {
            Some(_) => millis("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", 10_000)?,
            None => match var("OTEL_EXPORTER_OTLP_TIMEOUT") {
                Some(_) => millis("OTEL_EXPORTER_OTLP_TIMEOUT", 10_000)?,
                None => millis("OTEL_BSP_EXPORT_TIMEOUT", 10_000)?,
            },
        };
        Ok(Some(Otlp {
            endpoint,
            json: protocol == "http/json",
            max_queue: count("OTEL_BSP_MAX_QUEUE_SIZE", 2048)?,
            max_batch: count("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512)?,
            delay: millis("OTEL_BSP_SCHEDULE_DELAY", 1000)?,
            timeout,
        }))
    }
}

/// [`layer`] with the settings of the `OTEL_*` variables; `None` when
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is not set (nothing is exported then, and nothing paid).
pub fn layer_from_env<S>() -> Result<Option<(impl Layer<S>, OtelGuard)>, OtelError>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    match Otlp::from_env()? {
        None => Ok(None),
        Some(otlp) => layer(otlp).map(Some),
    }
}

/// A tracing layer exporting flowyt's spans over OTLP/HTTP as `otlp` says (headers, service
/// name, resource attributes and sampler still come from their `OTEL_*` variables). Keep the
/// guard alive while the program runs.
///
/// The layer sees flowyt's spans only (`http_request`, `trigger`, `run`, `action`,
/// `upstream`); add it to a `tracing_subscriber::registry()` beside the program's own layers.
pub fn layer<S>(otlp: Otlp) -> Result<(impl Layer<S>, OtelGuard), OtelError>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let timeout = otlp.timeout;
    let batcher = BatchConfig {
        queue: otlp.max_queue.max(1),
        batch: otlp.max_batch.max(1),
        delay: otlp.delay,
        timeout,
    };
    let client = crate::client::build(crate::Redirects::None)
        .map_err(|e| OtelError(format!("cannot build the OTLP HTTP client: {e}")))?;
    let mut exporter = SpanExporter::builder()
        .with_http()
        .with_http_client(Http { client, timeout })
        .with_endpoint(otlp.endpoint.as_str())
        .with_protocol(if otlp.json {
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
    Ok((
        layer,
        OtelGuard {
            provider,
            done: Default::default(),
        },
    ))
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

/// What the export thread is asked for, beside spans.
#[derive(Default)]
struct Queue {
    spans: Vec<SpanData>,
    /// Flush requests: answered once what was queued before them is sent.
    flushes: Vec<SyncSender<()>>,
    /// A shutdown request: answered once everything is sent and the exporter stopped.
    shutdown: Option<SyncSender<()>>,
    /// Set once the thread stopped: spans are dropped from then on.
    stopped: bool,
}

/// The queue and the bell the export thread waits on.
#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    bell: Condvar,
}

/// The bounded, non-blocking span processor (see the module documentation). A span only
/// takes a short lock to join the queue; the export thread is rung when a batch is full or
/// something is asked of it, and otherwise wakes every `delay`.
struct Batcher {
    shared: Arc<Shared>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    config: BatchConfig,
}

impl std::fmt::Debug for Batcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher")
            .field("config", &self.config)
            .finish()
    }
}

impl Batcher {
    fn start(exporter: SpanExporter, config: BatchConfig) -> Result<Batcher, OtelError> {
        let shared = Arc::new(Shared::default());
        let for_thread = shared.clone();
        let thread = std::thread::Builder::new()
            .name("flowyt-otlp-export".into())
            .spawn(move || export_loop(exporter, &for_thread, config))
            .map_err(|e| OtelError(format!("cannot start the span export thread: {e}")))?;
        Ok(Batcher {
            shared,
            thread: Mutex::new(Some(thread)),
            config,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl SpanProcessor for Batcher {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &opentelemetry::Context) {}

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        let mut queue = self.lock();
        if queue.stopped || queue.spans.len() >= self.config.queue {
            drop(queue);
            metrics::counter!(crate::measure::SPANS_DROPPED).increment(1);
            return;
        }
        queue.spans.push(span);
        let full = queue.spans.len() == self.config.batch;
        drop(queue);
        if full {
            self.shared.bell.notify_one();
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        let (done, wait) = sync_channel(1);
        {
            let mut queue = self.lock();
            if queue.stopped {
                return Err(OTelSdkError::AlreadyShutdown);
            }
            queue.flushes.push(done);
        }
        self.shared.bell.notify_one();
        wait.recv_timeout(self.config.timeout)
            .map_err(|_| OTelSdkError::Timeout(self.config.timeout))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(thread) = thread else {
            return Err(OTelSdkError::AlreadyShutdown);
        };
        let (done, wait) = sync_channel(1);
        self.lock().shutdown = Some(done);
        self.shared.bell.notify_one();
        // A collector that does not answer must not hold the process: after `timeout` the
        // thread is left to end on its own.
        let answered = wait
            .recv_timeout(timeout)
            .map_err(|_| OTelSdkError::Timeout(timeout));
        if answered.is_ok() {
            let _ = thread.join();
        }
        answered
    }
}

/// The export thread: every `config.delay`, or when rung, sends what is queued in batches of
/// `config.batch`, then answers flushes and a shutdown.
fn export_loop(exporter: SpanExporter, shared: &Shared, config: BatchConfig) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the span export runtime: {e}; spans are not exported");
            shared
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .stopped = true;
            return;
        }
    };
    let send = |mut spans: Vec<SpanData>| {
        while !spans.is_empty() {
            let rest = spans.split_off(spans.len().min(config.batch));
            let batch = std::mem::replace(&mut spans, rest);
            let n = batch.len() as u64;
            let result = runtime.block_on(async {
                tokio::time::timeout(config.timeout, exporter.export(batch)).await
            });
            let ok = matches!(result, Ok(Ok(())));
            if !ok {
                tracing::warn!(spans = n, "cannot export spans to the OTLP endpoint");
            }
            metrics::counter!(crate::measure::SPANS_EXPORTED, "result" => if ok { "ok" } else { "error" })
                .increment(n);
        }
    };
    loop {
        let (spans, flushes, shutdown) = {
            let mut queue = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
            if queue.spans.len() < config.batch
                && queue.flushes.is_empty()
                && queue.shutdown.is_none()
            {
                queue = shared
                    .bell
                    .wait_timeout(queue, config.delay)
                    .map(|(q, _)| q)
                    .unwrap_or_else(|e| e.into_inner().0);
            }
            let shutdown = queue.shutdown.take();
            if shutdown.is_some() {
                queue.stopped = true;
            }
            (
                std::mem::take(&mut queue.spans),
                std::mem::take(&mut queue.flushes),
                shutdown,
            )
        };
        send(spans);
        for done in flushes {
            let _ = done.send(());
        }
        if let Some(done) = shutdown {
            let _ = exporter.shutdown();
            let _ = done.send(());
            return;
        }
    }
}
