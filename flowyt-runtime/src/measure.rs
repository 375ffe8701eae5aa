//! The metrics flowyt records: their names, labels and meaning, recorded through the
//! `metrics` facade into whichever recorder the program installed (none: nothing is kept).
//!
//! Nothing is recorded until [`enable`] is called ([`crate::prometheus::install`] calls
//! it): a program without metrics pays nothing for them. A program with its own `metrics`
//! recorder installs it, then calls [`enable`].
//!
//! Every label set is bounded: workspaces, flows, routes (patterns, never raw paths), action
//! kinds and outcomes come from loaded flows; upstream targets are capped at
//! [`MAX_TARGETS`] distinct values, past which they count as `other`.

use metrics::SharedString;
#[cfg(feature = "http-client")]
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
#[cfg(feature = "http-client")]
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Starts recording flowyt's metrics into the process's `metrics` recorder (install the
/// recorder first).
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Whether flowyt records metrics.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// HTTP requests a flow answered: `workspace`, `flow`, `route`, `status` (`2xx` … `5xx`).
pub const HTTP_REQUESTS: &str = "flowyt_http_requests_total";
/// Seconds a flow took to answer an HTTP request: `workspace`, `flow`, `route`.
pub const HTTP_DURATION: &str = "flowyt_http_request_duration_seconds";
/// Actions executed: `workspace`, `kind`, `outcome` (`success`, `fail` for a fail branch or
/// a failed validation, `error`).
pub const ACTIONS: &str = "flowyt_actions_total";
/// Seconds an action took: `workspace`, `kind`.
pub const ACTION_DURATION: &str = "flowyt_action_duration_seconds";
/// Upstream calls (each attempt): `target` (`host:port` or `service://NAME`), `method`,
/// `status` (the HTTP status, `0` when there was no answer).
pub const UPSTREAM_REQUESTS: &str = "flowyt_upstream_requests_total";
/// Upstream calls that got no HTTP answer: `target`, `method`, `error` (`connect`,
/// `timeout`, `body`, `body_too_large`, `invalid_url`, `discovery`, `redirect`, `request`).
pub const UPSTREAM_ERRORS: &str = "flowyt_upstream_errors_total";
/// Retries of upstream calls: `target`, `method`.
pub const UPSTREAM_RETRIES: &str = "flowyt_upstream_retries_total";
/// Seconds an upstream call took (each attempt): `target`, `method`.
pub const UPSTREAM_DURATION: &str = "flowyt_upstream_request_duration_seconds";
/// Triggered runs that ended here: `workspace`, `flow`, `status` (`success`, `failed`,
/// `cancelled`).
pub const RUNS: &str = "flowyt_runs_total";
/// Triggered runs accepted into the queue by this instance: `workspace`, `flow`.
pub const RUNS_TRIGGERED: &str = "flowyt_runs_triggered_total";
/// Runs waiting in the queue of the store (all instances), read at each scrape.
pub const RUNS_QUEUED: &str = "flowyt_runs_queued";
/// Runs executing on this instance, read at each scrape.
pub const RUNS_RUNNING: &str = "flowyt_runs_running";
/// Seconds a run waited in the queue before an instance first claimed it: `workspace`.
pub const RUN_QUEUE_LATENCY: &str = "flowyt_run_queue_latency_seconds";
/// Schedule ticks: `workspace`, `flow`, `outcome` (`queued`, `duplicate` when another
/// instance queued that tick first, `error`).
pub const SCHEDULE_TICKS: &str = "flowyt_schedule_ticks_total";
/// Registered service instances, read at each scrape: `service`, `status` (`UP`, `DOWN`, …).
pub const REGISTRY_INSTANCES: &str = "flowyt_registry_instances";
/// Spans dropped because the export queue was full.
pub const SPANS_DROPPED: &str = "flowyt_otel_spans_dropped_total";
/// Spans handed to the OTLP exporter, by `result` (`ok`, `error`).
pub const SPANS_EXPORTED: &str = "flowyt_otel_spans_exported_total";

/// Most distinct upstream targets labelled by name.
pub const MAX_TARGETS: usize = 256;

/// Tells the recorder what each metric means (its `# HELP` line).
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered by a flow.");
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time a flow took to answer an HTTP request."
    );
    describe_counter!(ACTIONS, "Actions executed, by kind and outcome.");
    describe_histogram!(ACTION_DURATION, Unit::Seconds, "Time an action took.");
    describe_counter!(UPSTREAM_REQUESTS, "Upstream HTTP calls (each attempt).");
    describe_counter!(UPSTREAM_ERRORS, "Upstream calls that got no HTTP answer.");
    describe_counter!(UPSTREAM_RETRIES, "Retries of upstream calls.");
    describe_histogram!(
        UPSTREAM_DURATION,
        Unit::Seconds,
        "Time an upstream call took (each attempt)."
    );
    describe_counter!(RUNS, "Triggered runs that ended on this instance.");
    describe_counter!(RUNS_TRIGGERED, "Runs queued by this instance.");
    describe_gauge!(RUNS_QUEUED, "Runs waiting in the store's queue.");
    describe_gauge!(RUNS_RUNNING, "Runs executing on this instance.");
    describe_histogram!(
        RUN_QUEUE_LATENCY,
        Unit::Seconds,
        "Time a run waited in the queue before it was first claimed."
    );
    describe_counter!(SCHEDULE_TICKS, "Schedule ticks, by outcome.");
    describe_gauge!(REGISTRY_INSTANCES, "Service instances in the registry.");
    describe_counter!(SPANS_DROPPED, "Spans dropped: the export queue was full.");
    describe_counter!(SPANS_EXPORTED, "Spans handed to the OTLP exporter.");
}

/// The status classes, as labels.
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// The index in [`CLASSES`] of an HTTP status's class (anything else counts as `5xx`).
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
fn class_index(status: u16) -> usize {
    match status {
        100..=499 => usize::from(status / 100 - 1),
        _ => 4,
    }
}

/// `2xx` … `5xx` for an HTTP status.
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
pub(crate) fn status_class(status: u16) -> &'static str {
    CLASSES[class_index(status)]
}

/// A flow answered an HTTP request.
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
pub(crate) fn http_request(
    workspace: &Arc<str>,
    flow: &Arc<str>,
    route: SharedString,
    status: u16,
    elapsed: Duration,
) {
    if !enabled() {
        return;
    }
    metrics::counter!(HTTP_REQUESTS, "workspace" => workspace.clone(), "flow" => flow.clone(),
        "route" => route.clone(), "status" => status_class(status))
    .increment(1);
    metrics::histogram!(HTTP_DURATION, "workspace" => workspace.clone(), "flow" => flow.clone(),
        "route" => route)
    .record(elapsed);
}

/// The HTTP metrics of one route, registered with the recorder on first use and kept, so a
/// request costs two atomic updates rather than two lookups by labels.
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
#[derive(Default, Debug)]
pub(crate) struct RouteHandles {
    cell: OnceLock<RouteSet>,
}

#[cfg_attr(not(feature = "axum"), allow(dead_code))]
#[derive(Debug)]
struct RouteSet {
    route: SharedString,
    /// By status class: 1xx … 5xx.
    by_class: [metrics::Counter; 5],
    duration: metrics::Histogram,
}

impl RouteHandles {
    /// A flow answered an HTTP request on `route`.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn record(
        &self,
        workspace: &Arc<str>,
        flow: &Arc<str>,
        route: SharedString,
        status: u16,
        elapsed: Duration,
    ) {
        if !enabled() {
            return;
        }
        let set = self.cell.get_or_init(|| {
            let class = |c: &'static str| {
                metrics::counter!(HTTP_REQUESTS, "workspace" => workspace.clone(), "flow" => flow.clone(),
                    "route" => route.clone(), "status" => c)
            };
            RouteSet {
                by_class: CLASSES.map(class),
                duration: metrics::histogram!(HTTP_DURATION, "workspace" => workspace.clone(),
                    "flow" => flow.clone(), "route" => route.clone()),
                route: route.clone(),
            }
        });
        // A service mounted by hand at several routes: the first is cached, the others looked up.
        if set.route != route {
            http_request(workspace, flow, route, status, elapsed);
            return;
        }
        set.by_class[class_index(status)].increment(1);
        set.duration.record(elapsed);
    }
}

/// The metrics of one action of a flow, registered on first use and kept.
#[derive(Default, Debug)]
pub(crate) struct ActionHandles {
    cell: OnceLock<([metrics::Counter; 3], metrics::Histogram)>,
}

impl ActionHandles {
    /// The action ran.
    pub(crate) fn record(
        &self,
        workspace: &Arc<str>,
        kind: &Arc<str>,
        outcome: ActionOutcome,
        elapsed: Duration,
    ) {
        if !enabled() {
            return;
        }
        let (counters, duration) = self.cell.get_or_init(|| {
            let counter = |o: &'static str| {
                metrics::counter!(ACTIONS, "workspace" => workspace.clone(), "kind" => kind.clone(),
                    "outcome" => o)
            };
            (
                [counter("success"), counter("fail"), counter("error")],
                metrics::histogram!(ACTION_DURATION, "workspace" => workspace.clone(),
                    "kind" => kind.clone()),
            )
        });
        let i = match outcome {
            ActionOutcome::Success => 0,
            ActionOutcome::Fail => 1,
            ActionOutcome::Error => 2,
        };
        counters[i].increment(1);
        duration.record(elapsed);
    }
}

/// How an action ended, as [`ACTIONS`] labels it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ActionOutcome {
    Success,
    Fail,
    Error,
}

/// The common statuses as static labels; others are formatted.
#[cfg(feature = "http-client")]
fn status_label(status: u16) -> SharedString {
    SharedString::const_str(match status {
        200 => "200",
        201 => "201",
        202 => "202",
        204 => "204",
        301 => "301",
        302 => "302",
        304 => "304",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        409 => "409",
        422 => "422",
        429 => "429",
        500 => "500",
        502 => "502",
        503 => "503",
        504 => "504",
        other => return SharedString::from(other.to_string()),
    })
}

/// The metrics of the calls to one upstream target, registered on first use and kept.
#[cfg(feature = "http-client")]
#[derive(Debug)]
pub(crate) struct UpstreamHandles {
    target: SharedString,
    /// By method: GET, POST, PUT, PATCH, DELETE, HEAD, other.
    methods: [OnceLock<MethodSet>; 7],
}

#[cfg(feature = "http-client")]
#[derive(Debug)]
struct MethodSet {
    retries: metrics::Counter,
    duration: metrics::Histogram,
    statuses: RwLock<Vec<(u16, metrics::Counter)>>,
    errors: RwLock<Vec<(&'static str, metrics::Counter)>>,
}

/// A method's slot in [`UpstreamHandles`] and its label.
#[cfg(feature = "http-client")]
fn method_slot(method: &http::Method) -> (usize, &'static str) {
    use http::Method;
    match *method {
        Method::GET => (0, "GET"),
        Method::POST => (1, "POST"),
        Method::PUT => (2, "PUT"),
        Method::PATCH => (3, "PATCH"),
        Method::DELETE => (4, "DELETE"),
        Method::HEAD => (5, "HEAD"),
        _ => (6, "OTHER"),
    }
}

/// The cached counter for `key` in `list`, registered with `make` the first time.
#[cfg(feature = "http-client")]
fn cached<K: PartialEq + Copy>(
    list: &RwLock<Vec<(K, metrics::Counter)>>,
    key: K,
    make: impl FnOnce() -> metrics::Counter,
) -> metrics::Counter {
    if let Some((_, c)) = list
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .find(|(k, _)| *k == key)
    {
        return c.clone();
    }
    let counter = make();
    let mut list = list.write().unwrap_or_else(PoisonError::into_inner);
    // Statuses and error kinds are few; past 64 they are not cached (still counted).
    if list.len() < 64 && !list.iter().any(|(k, _)| *k == key) {
        list.push((key, counter.clone()));
    }
    counter
}

#[cfg(feature = "http-client")]
impl UpstreamHandles {
    fn method(&self, method: &http::Method) -> (&MethodSet, &'static str) {
        let (slot, method) = method_slot(method);
        let set = self.methods[slot].get_or_init(|| MethodSet {
            retries: metrics::counter!(UPSTREAM_RETRIES, "target" => self.target.clone(),
                "method" => method),
            duration: metrics::histogram!(UPSTREAM_DURATION, "target" => self.target.clone(),
                "method" => method),
            statuses: RwLock::new(Vec::new()),
            errors: RwLock::new(Vec::new()),
        });
        (set, method)
    }

    /// One attempt: its HTTP status, or why there was none.
    pub(crate) fn attempt(
        &self,
        method: &http::Method,
        answer: Result<u16, &'static str>,
        elapsed: Duration,
    ) {
        let (set, method) = self.method(method);
        let status = answer.unwrap_or(0);
        cached(&set.statuses, status, || {
            let label = if status == 0 {
                SharedString::const_str("0")
            } else {
                status_label(status)
            };
            metrics::counter!(UPSTREAM_REQUESTS, "target" => self.target.clone(),
                "method" => method, "status" => label)
        })
        .increment(1);
        if let Err(error) = answer {
            cached(&set.errors, error, || {
                metrics::counter!(UPSTREAM_ERRORS, "target" => self.target.clone(),
                    "method" => method, "error" => error)
            })
            .increment(1);
        }
        set.duration.record(elapsed);
    }

    /// A retry.
    pub(crate) fn retry(&self, method: &http::Method) {
        self.method(method).0.retries.increment(1);
    }
}

/// The part of a URL that names its target (a cache key, never a label):
/// `service://NAME`, or `scheme://authority`.
#[cfg(feature = "http-client")]
fn origin_key(url: &str) -> &str {
    let Some(at) = url.find("://") else {
        return url;
    };
    let rest = &url[at + 3..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    &url[..at + 3 + end]
}

/// The metric handles for calls to `url`'s target; `None` while metrics are off.
#[cfg(feature = "http-client")]
pub(crate) fn upstream_handles(url: &str) -> Option<Arc<UpstreamHandles>> {
    static CACHE: OnceLock<RwLock<std::collections::HashMap<String, Arc<UpstreamHandles>>>> =
        OnceLock::new();
    if !enabled() {
        return None;
    }
    let cache = CACHE.get_or_init(Default::default);
    let key = origin_key(url);
    if let Some(h) = cache
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(key)
    {
        return Some(h.clone());
    }
    let handles = Arc::new(UpstreamHandles {
        target: target(url),
        methods: Default::default(),
    });
    let mut cache = cache.write().unwrap_or_else(PoisonError::into_inner);
    // Bounded: past this many distinct origins, calls are counted without caching.
    if cache.len() < 4 * MAX_TARGETS {
        cache.insert(key.to_string(), handles.clone());
    }
    Some(handles)
}

/// The `target` label of a URL: `service://NAME` for discovery, else `host:port`, or
/// `other` once [`MAX_TARGETS`] distinct targets were seen.
#[cfg(feature = "http-client")]
pub(crate) fn target(url: &str) -> SharedString {
    static SEEN: OnceLock<RwLock<HashSet<Arc<str>>>> = OnceLock::new();
    let name = match crate::discovery::parse(url) {
        Some((service, _)) => format!("service://{service}"),
        None => match url::Url::parse(url) {
            Ok(u) => match (u.host_str(), u.port_or_known_default()) {
                (Some(host), Some(port)) => format!("{host}:{port}"),
                (Some(host), None) => host.to_string(),
                _ => return SharedString::const_str("invalid"),
            },
            Err(_) => return SharedString::const_str("invalid"),
        },
    };
    let seen = SEEN.get_or_init(|| RwLock::new(HashSet::new()));
    if let Some(known) = seen
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(name.as_str())
    {
        return SharedString::from(known.clone());
    }
    let mut seen = seen.write().unwrap_or_else(PoisonError::into_inner);
    if seen.len() >= MAX_TARGETS && !seen.contains(name.as_str()) {
        return SharedString::const_str("other");
    }
    let name: Arc<str> = Arc::from(name);
    seen.insert(name.clone());
    SharedString::from(name)
}

/// A triggered run ended on this instance.
pub(crate) fn run_ended(workspace: &str, flow: &str, status: &'static str) {
    if !enabled() {
        return;
    }
    metrics::counter!(RUNS, "workspace" => workspace.to_string(), "flow" => flow.to_string(),
        "status" => status)
    .increment(1);
}

/// A run was queued by this instance.
pub(crate) fn run_triggered(workspace: &str, flow: &str) {
    if !enabled() {
        return;
    }
    metrics::counter!(RUNS_TRIGGERED, "workspace" => workspace.to_string(),
        "flow" => flow.to_string())
    .increment(1);
}

/// A run was claimed for the first time after waiting `waited` seconds.
pub(crate) fn queue_latency(workspace: &str, waited: f64) {
    if !enabled() {
        return;
    }
    metrics::histogram!(RUN_QUEUE_LATENCY, "workspace" => workspace.to_string())
        .record(waited.max(0.0));
}

/// A schedule ticked.
pub(crate) fn schedule_tick(workspace: &str, flow: &str, outcome: &'static str) {
    if !enabled() {
        return;
    }
    metrics::counter!(SCHEDULE_TICKS, "workspace" => workspace.to_string(),
        "flow" => flow.to_string(), "outcome" => outcome)
    .increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "http-client")]
    fn targets_are_host_and_port_or_the_service() {
        assert_eq!(
            &*target("http://127.0.0.1:8080/users/1?x=2"),
            "127.0.0.1:8080"
        );
        assert_eq!(
            &*target("https://api.github.com/users"),
            "api.github.com:443"
        );
        assert_eq!(&*target("service://users/x/1"), "service://users");
        assert_eq!(&*target("not a url"), "invalid");
    }

    #[test]
    #[cfg(feature = "http-client")]
    fn origin_keys_name_the_target() {
        assert_eq!(
            origin_key("http://127.0.0.1:8080/users/1?x=2"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            origin_key("https://api.example.com?q"),
            "https://api.example.com"
        );
        assert_eq!(origin_key("service://users/x"), "service://users");
        assert_eq!(origin_key("nonsense"), "nonsense");
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_class(204), "2xx");
        assert_eq!(status_class(404), "4xx");
        assert_eq!(status_class(0), "5xx");
    }

    #[test]
    #[cfg(feature = "http-client")]
    fn status_labels() {
        assert_eq!(&*status_label(418), "418");
        assert_eq!(&*status_label(200), "200");
    }
}
