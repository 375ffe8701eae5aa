//! `GET /metrics` in the Prometheus text format: the recorder flowyt installs for the
//! `metrics` facade, and the router that serves what it recorded.
//!
//! ```no_run
//! # async fn demo(ws: flowyt_runtime::Workspace) -> Result<(), Box<dyn std::error::Error>> {
//! let metrics = flowyt_runtime::prometheus::install()?;
//! let app = axum::Router::new()
//!     .nest("/github", ws.router())
//!     .merge(metrics.router());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await?;
//! # Ok(())
//! # }
//! ```
//!
//! A program that already installed its own `metrics` recorder gets flowyt's metrics there
//! and does not need this module; [`install`] then says so.

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The content type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Bounds of the latency histograms (seconds): from half a millisecond to a minute.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];
/// Bounds of the queue latency histogram (seconds): from 10 ms to an hour.
const QUEUE_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];

/// The installed exporter: renders what was recorded, after running the scrape hooks that
/// set gauges read at scrape time (queue depth, registry instances). Cheap to clone.
#[derive(Clone)]
pub struct Prometheus {
    handle: PrometheusHandle,
    on_scrape: Vec<Arc<dyn Fn() + Send + Sync>>,
}

impl std::fmt::Debug for Prometheus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prometheus")
            .field("on_scrape", &self.on_scrape.len())
            .finish()
    }
}

/// Why the exporter could not be installed.
#[derive(Debug)]
pub struct InstallError(String);

impl std::fmt::Display for InstallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InstallError {}

/// Installs flowyt's Prometheus recorder as the process's `metrics` recorder (once: later
/// calls return the same exporter). Fails when the program installed another recorder first;
/// flowyt's metrics are recorded there then.
pub fn install() -> Result<Prometheus, InstallError> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    let handle = HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(crate::measure::RUN_QUEUE_LATENCY.into()),
                QUEUE_BUCKETS,
            )
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            })
            .map_err(|e| format!("cannot configure the Prometheus exporter: {e}"))?
            .build_recorder();
        let handle = recorder.handle();
        metrics::set_global_recorder(recorder).map_err(|_| {
            "another `metrics` recorder is installed already: flowyt's metrics are recorded there"
                .to_string()
        })?;
        crate::measure::describe();
        crate::measure::enable();
        // Histogram samples wait in per-metric buffers until a scrape drains them; without
        // scrapes, upkeep drains them so memory stays bounded.
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("flowyt-metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(5));
                    upkeep.run_upkeep();
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the metrics upkeep thread");
        }
        Ok(handle)
    });
    match handle {
        Ok(handle) => Ok(Prometheus {
            handle: handle.clone(),
            on_scrape: Vec::new(),
        }),
        Err(e) => Err(InstallError(e.clone())),
    }
}

impl Prometheus {
    /// Runs `hook` before each scrape (to set gauges read from elsewhere).
    pub fn on_scrape(mut self, hook: impl Fn() + Send + Sync + 'static) -> Prometheus {
        self.on_scrape.push(Arc::new(hook));
        self
    }

    /// What was recorded, in the Prometheus text format.
    pub fn render(&self) -> String {
        for hook in &self.on_scrape {
            hook();
        }
        self.handle.render()
    }

    /// The `/metrics` answer.
    pub fn response(&self) -> Response {
        ([(header::CONTENT_TYPE, CONTENT_TYPE)], self.render()).into_response()
    }

    /// A router answering `GET /metrics` (add an access layer to it to protect it).
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let this = self.clone();
        Router::new().route(
            "/metrics",
            get(move || {
                let this = this.clone();
                // Rendering walks every series: off the async workers.
                async move {
                    match tokio::task::spawn_blocking(move || this.response()).await {
                        Ok(r) => r,
                        Err(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                    }
                }
            }),
        )
    }
}
