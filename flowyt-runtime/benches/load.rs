//! Load benchmark: the GitHub-search job done four ways, each served by its own process and
//! driven by one load generator, against one local upstream (a 30-repository, ~6 KB JSON list).
//!
//! - `naive proxy`: a hand-written axum handler that calls the upstream with reqwest, parses the
//!   JSON body into a tree and re-serialises it;
//! - `tuned proxy`: the best hand-written equivalent: it checks the body is JSON with
//!   `serde::de::IgnoredAny` and answers the upstream's bytes as they came;
//! - `json flow`: the legacy `search` flow loaded from JSON and mounted with `Workspace::router`;
//! - `compiled flow`: the same flow written with `flow!`, checked at compile time.
//!
//! Run: `cargo bench -p flowyt-runtime --features prometheus,otel --bench load` (env
//! `LOAD_SECONDS`, `LOAD_CONNECTIONS`). Every target must give the same answer before it is
//! measured. Prints requests/s, p50 and p99 at `LOAD_CONNECTIONS` connections (32) and p50 at 1
//! connection, each server's CPU time per request and peak RSS, and every ratio to the tuned
//! proxy. `LOAD_ONLY=json:off` (or `tuned:off`, `json:traced`, …) serves one target and
//! prints its process id, for `perf record -p`.
//!
//! `LOAD_CALLGRIND=N` adds a stable measure beside the timings, which move between runs on a
//! shared machine: each target served under `valgrind --tool=callgrind`, warmed up, its
//! counters zeroed, then `N` requests one at a time; the server's instructions per request
//! and their ratio to the tuned proxy. (Instructions are not time: they miss cache misses,
//! system calls and waits, but the same binary gives the same count whatever else the
//! machine is doing.)
//!
//! Then the cost of observability: `LOAD_ROUNDS` rounds (3) in which the tuned proxy and the
//! JSON flow are measured in fresh processes with nothing installed, with the Prometheus
//! recorder installed, and with the recorder plus every request traced and exported over
//! OTLP/HTTP to a local collector stand-in (a recorder and a subscriber cannot be
//! uninstalled). Each phase's ratio to the round's tuned proxy cancels the machine's drift;
//! the overhead is the change of the median ratio from the first phase (`LOAD_ROUNDS=0` skips
//! them).

mod common;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::spawn;
use flowyt_runtime::core::workspace::{Sources, Workspace as CoreWorkspace};
use flowyt_runtime::{Engine, Strictness};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A GitHub-like list of 30 repositories (about 6 KB of JSON).
fn repos(user: &str) -> Value {
    Value::Array(
        (0..30)
            .map(|i| {
                json!({
                    "id": 1000 + i,
                    "name": format!("repo-{i}"),
                    "full_name": format!("{user}/repo-{i}"),
                    "private": false,
                    "description": "A repository used to measure flowyt against a hand-written proxy",
                    "stargazers_count": i * 7,
                    "language": "Rust",
                    "topics": ["flows", "orchestration"],
                })
            })
            .collect(),
    )
}

async fn upstream() -> SocketAddr {
    let body = bytes::Bytes::from(serde_json::to_vec(&repos("octocat")).expect("json"));
    let app = Router::new().route(
        "/users/{user}/repos",
        get(move || {
            let body = body.clone();
            async move { ([("content-type", "application/json")], body) }
        }),
    );
    spawn(app).await
}

#[derive(Clone)]
struct Proxy {
    client: reqwest::Client,
    base: String,
}

fn upstream_url(s: &Proxy, q: &HashMap<String, String>) -> String {
    let user = q.get("user").map(String::as_str).unwrap_or_default();
    format!("{}/users/{user}/repos?sort=updated&direction=asc", s.base)
}

fn bad_gateway() -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"msg": "Something went wrong"})),
    )
        .into_response()
}

/// What a team writes by hand today: call, parse, answer.
async fn naive_handler(
    State(s): State<Proxy>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match s.client.get(upstream_url(&s, &q)).send().await {
        Ok(r) if r.status().is_success() => match r.json::<Value>().await {
            Ok(v) => axum::Json(v).into_response(),
            Err(_) => bad_gateway(),
        },
        _ => bad_gateway(),
    }
}

/// The best hand-written equivalent: check the body is JSON without building a tree, answer
/// its bytes.
async fn tuned_handler(
    State(s): State<Proxy>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match s.client.get(upstream_url(&s, &q)).send().await {
        Ok(r) if r.status().is_success() => match r.bytes().await {
            Ok(body) if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_ok() => {
                ([("content-type", "application/json")], body).into_response()
            }
            _ => bad_gateway(),
        },
        _ => bad_gateway(),
    }
}

struct Stats {
    requests: u64,
    errors: u64,
    seconds: f64,
    p50: Duration,
    p99: Duration,
}

impl Stats {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// `connections` tasks, each sending requests back to back for `seconds` (after a warm-up).
async fn drive(url: &str, connections: usize, seconds: f64) -> Stats {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .expect("client");
    // Warm-up: open connections, fill caches.
    for _ in 0..connections * 4 {
        let _ = client
            .get(url)
            .send()
            .await
            .and_then(|r| r.error_for_status());
    }
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let client = client.clone();
        let url = url.to_string();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let ok = match client.get(&url).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                latencies.push(t.elapsed());
                if !ok {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            all.extend(l);
            errors += e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Stats {
        requests: all.len() as u64,
        errors,
        seconds: elapsed,
        p50: pct(0.50),
        p99: pct(0.99),
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// A child process serving one target (`LOAD_SERVE`), calling the upstream at
/// `LOAD_UPSTREAM`, with the observability `LOAD_OBS` asks for (`off`, `metrics`, `traced`
/// exporting to `LOAD_OTLP`). Prints `LISTENING <addr>` and serves until killed.
fn serve_child(target: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let obs = std::env::var("LOAD_OBS").unwrap_or_else(|_| "off".into());
        let metrics =
            (obs != "off").then(|| flowyt_runtime::prometheus::install().expect("prometheus"));
        // Kept alive while the process serves; it is killed at the end.
        let _guard = if obs == "traced" {
            let otlp = std::env::var("LOAD_OTLP").expect("LOAD_OTLP");
            let (layer, guard) = flowyt_runtime::telemetry::otlp::layer(
                flowyt_runtime::telemetry::otlp::Otlp::new(otlp),
            )
            .expect("otlp");
            use tracing_subscriber::layer::SubscriberExt as _;
            use tracing_subscriber::util::SubscriberInitExt as _;
            tracing_subscriber::registry().with(layer).init();
            Some(guard)
        } else {
            None
        };
        // Building the engine installs rustls' ring provider, which every reqwest client
        // here needs.
        let engine = Engine::new().expect("engine");
        let up = std::env::var("LOAD_UPSTREAM").expect("LOAD_UPSTREAM");
        let proxy = Proxy {
            client: reqwest::Client::new(),
            base: up.clone(),
        };
        let (app, path): (Router, &str) = match target {
            "naive" => (
                Router::new()
                    .route("/getReposByUser", get(naive_handler))
                    .with_state(proxy),
                "/getReposByUser",
            ),
            "tuned" => (
                Router::new()
                    .route("/getReposByUser", get(tuned_handler))
                    .with_state(proxy),
                "/getReposByUser",
            ),

            "json" => {
                let sources = Sources {
                    settings: Some((
                        "settings.json".into(),
                        json!({"env": {"baseUrl": up}}).to_string(),
                    )),
                    flows: vec![(
                        "search".into(),
                        "search.json".into(),
                        common::search_flow().to_string(),
                    )],
                    routes: Some((
                        "routes.json".into(),
                        json!([{"method": "get", "path": "/getReposByUser", "flow": "search"}])
                            .to_string(),
                    )),
                };
                let loaded = CoreWorkspace::from_sources(
                    "github",
                    &sources,
                    &engine.catalog(),
                    Strictness::Strict,
                    &|_| None,
                )
                .unwrap_or_else(|e| panic!("{e}"));
                let ws = engine.workspace(loaded.workspace);
                (
                    Router::new().nest("/github", ws.router()),
                    "/github/getReposByUser",
                )
            }
            "compiled" => {
                let mut settings = flowyt_runtime::core::workspace::Settings::default();
                settings.env.insert("baseUrl".into(), Value::String(up));
                let compiled = common::compiled_search().service_with(&engine, settings);
                (
                    Router::new().route("/getReposByUser", get(compiled)),
                    "/getReposByUser",
                )
            }
            other => panic!("unknown target {other}"),
        };
        let app = match metrics {
            Some(m) => app.merge(m.router()),
            None => app,
        };
        let addr = spawn(app).await;
        println!("LISTENING http://{addr}{path}?user=octocat http://{addr}");
        std::future::pending::<()>().await;
    });
}

/// A served target: its process, URL and address.
struct Target {
    child: Child,
    url: String,
    base: String,
}

impl Target {
    fn start(target: &str, upstream: &str, obs: &str, otlp: &str) -> Target {
        Target::start_with(
            Command::new(std::env::current_exe().expect("exe")),
            target,
            upstream,
            obs,
            otlp,
        )
    }

    /// Like `start`, under callgrind (`out`: its output file).
    fn start_callgrind(target: &str, upstream: &str, out: &str) -> Target {
        let mut valgrind = Command::new("valgrind");
        valgrind
            .arg("--tool=callgrind")
            .arg(format!("--callgrind-out-file={out}"))
            .arg(std::env::current_exe().expect("exe"))
            .stderr(Stdio::null());
        Target::start_with(valgrind, target, upstream, "off", "")
    }

    fn start_with(
        mut command: Command,
        target: &str,
        upstream: &str,
        obs: &str,
        otlp: &str,
    ) -> Target {
        let mut child = command
            .arg("--bench")
            .env("LOAD_SERVE", target)
            .env("LOAD_UPSTREAM", upstream)
            .env("LOAD_OBS", obs)
            .env("LOAD_OTLP", otlp)
            .stdout(Stdio::piped())
            .spawn()
            .expect("target process");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("LISTENING");
        let (url, base) = line
            .trim()
            .strip_prefix("LISTENING ")
            .and_then(|l| l.split_once(' '))
            .unwrap_or_else(|| panic!("{target} printed {line:?}"));
        Target {
            url: url.to_string(),
            base: base.to_string(),
            child,
        }
    }

    /// The sum of a metric's samples on the target's `/metrics`.
    async fn metric(&self, name: &str) -> f64 {
        let page = match reqwest::get(format!("{}/metrics", self.base)).await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        page.lines()
            .filter(|l| l.starts_with(name))
            .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum::<f64>()
            + 0.0
    }

    /// CPU seconds (user + system) the process has used.
    fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name (which may hold spaces) start after the last `)`.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(f64::NAN)
        };
        // utime and stime are fields 14 and 15 of the file: 11 and 12 after the name.
        (ticks(11) + ticks(12)) / 100.0
    }

    /// The process's peak resident memory (VmHWM), in MiB.
    fn peak_rss_mib(&self) -> f64 {
        common::peak_rss_mib(&format!("/proc/{}/status", self.child.id()))
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Instructions per request of one target under callgrind: `n` requests, one at a time,
/// after a warm-up, counted from zeroed counters to a dump.
async fn instructions(target: &str, upstream: &str, n: usize) -> f64 {
    let out = std::env::temp_dir().join(format!("flowyt-load-{target}-{}.cg", std::process::id()));
    let out = out.to_string_lossy().to_string();
    let t = Target::start_callgrind(target, upstream, &out);
    let client = reqwest::Client::new();
    let once = |client: &reqwest::Client| {
        let req = client.get(&t.url).send();
        async move {
            let r = req.await.expect("request under callgrind");
            assert!(r.status().is_success(), "{target} answered {}", r.status());
            r.bytes().await.expect("body");
        }
    };
    for _ in 0..200 {
        once(&client).await;
    }
    let control = |arg: &str| {
        let ok = Command::new("callgrind_control")
            .arg(arg)
            .arg(t.child.id().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "callgrind_control {arg} failed");
    };
    control("-z");
    for _ in 0..n {
        once(&client).await;
    }
    control("-d");
    // The dump is `<out>.1`; its `totals:` line holds the instructions since the zeroing.
    let dump = format!("{out}.1");
    let mut totals = None;
    for _ in 0..100 {
        totals = std::fs::read_to_string(&dump).ok().and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("totals:"))
                .and_then(|v| v.trim().parse::<f64>().ok())
        });
        if totals.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(t);
    for f in [out.clone(), dump] {
        let _ = std::fs::remove_file(f);
    }
    totals.expect("callgrind dump") / n as f64
}

/// A collector stand-in: takes OTLP/HTTP batches and answers 200 (a real collector runs
/// elsewhere; decoding here would charge its cost to flowyt).
async fn collector() -> SocketAddr {
    let app = Router::new().route(
        "/v1/traces",
        axum::routing::post(|_body: axum::body::Bytes| async { StatusCode::OK }),
    );
    spawn(app).await
}

struct Row {
    name: &'static str,
    many: Stats,
    one: Stats,
    rss: f64,
    /// Server CPU per request at `connections` connections, in µs.
    cpu: f64,
}

fn main() {
    // The hand-written baselines are applications: they choose the process's rustls provider
    // (flowyt's own clients are given theirs and never install one).
    let _ = rustls::crypto::ring::default_provider().install_default();
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass other flags: only run
    // the load when invoked as a benchmark.
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "load benchmark: run with `cargo bench -p flowyt-runtime --features prometheus,otel --bench load`"
        );
        return;
    }
    if let Ok(target) = std::env::var("LOAD_SERVE") {
        serve_child(&target);
        return;
    }
    let seconds: f64 = env_or("LOAD_SECONDS", 8.0);
    let connections: usize = env_or("LOAD_CONNECTIONS", 32);
    let rounds: usize = env_or("LOAD_ROUNDS", 3);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let up = format!("http://{}", upstream().await);
        let otlp = format!("http://{}/v1/traces", collector().await);

        // `LOAD_ONLY=target:phase` (e.g. `json:traced`): only that target, for profiling its
        // process (`perf record -p PID`).
        if let Ok(only) = std::env::var("LOAD_ONLY") {
            let (key, phase) = only.split_once(':').unwrap_or((only.as_str(), "off"));
            let target = Target::start(key, &up, phase, &otlp);
            println!("PID {}", target.child.id());
            tokio::time::sleep(Duration::from_secs(1)).await;
            let cpu = target.cpu_seconds();
            let s = drive(&target.url, connections, seconds).await;
            let cpu = target.cpu_seconds() - cpu;
            println!(
                "{only}: {:.0} req/s, p50 {:.2} ms, server CPU {:.1} µs per request (warm-up included)",
                s.rps(),
                s.p50.as_secs_f64() * 1e3,
                cpu / (s.requests + connections as u64 * 4) as f64 * 1e6
            );
            return;
        }
        println!(
            "load: each target in its own process; {connections} connections for {seconds} s, then 1 connection for {} s; 2-core machine shared with the generator and the upstream",
            seconds / 2.0
        );
        let mut reference: Option<Value> = None;
        let mut rows = Vec::new();
        for (key, name) in [
            ("naive", "naive proxy"),
            ("tuned", "tuned proxy"),
            ("json", "json flow"),
            ("compiled", "compiled flow"),
        ] {
            let target = Target::start(key, &up, "off", &otlp);
            let answer: Value = reqwest::get(&target.url).await.expect("answer").json().await.expect("json");
            match &reference {
                None => reference = Some(answer),
                Some(r) => assert_eq!(&answer, r, "{name} must answer what the naive proxy answers"),
            }
            let cpu = target.cpu_seconds();
            let many = drive(&target.url, connections, seconds).await;
            let cpu = (target.cpu_seconds() - cpu) / (many.requests + connections as u64 * 4) as f64 * 1e6;
            let one = drive(&target.url, 1, seconds / 2.0).await;
            let rss = target.peak_rss_mib();
            rows.push(Row { name, many, one, rss, cpu });
        }
        let tuned = rows.iter().find(|r| r.name == "tuned proxy").map(|r| (r.many.rps(), r.one.p50, r.rss)).expect("tuned");
        println!(
            "{:<14} {:>9} {:>9} {:>9} {:>10} {:>9} {:>9} | vs tuned: {:>6} {:>7} {:>7}",
            "target", "req/s", "p50 ms", "p99 ms", "p50@1 ms", "RSS MiB", "CPU µs", "req/s", "p50@1", "RSS"
        );
        for r in &rows {
            println!(
                "{:<14} {:>9.0} {:>9.2} {:>9.2} {:>10.3} {:>9.1} {:>9.1} | {:>13.2}x {:>6.2}x {:>6.2}x   errors {}",
                r.name,
                r.many.rps(),
                r.many.p50.as_secs_f64() * 1e3,
                r.many.p99.as_secs_f64() * 1e3,
                r.one.p50.as_secs_f64() * 1e3,
                r.rss,
                r.cpu,
                r.many.rps() / tuned.0,
                r.one.p50.as_secs_f64() / tuned.1.as_secs_f64(),
                r.rss / tuned.2,
                r.many.errors + r.one.errors,
            );
        }

        if let Ok(n) = std::env::var("LOAD_CALLGRIND") {
            let n: usize = n.parse().expect("LOAD_CALLGRIND: a number of requests");
            println!();
            println!("instructions per request (callgrind, server process, {n} requests one at a time after 200 to warm up):");
            let mut counts = Vec::new();
            for (key, name) in [("naive", "naive proxy"), ("tuned", "tuned proxy"), ("json", "json flow"), ("compiled", "compiled flow")] {
                counts.push((name, instructions(key, &up, n).await));
            }
            let tuned = counts.iter().find(|(n, _)| *n == "tuned proxy").map(|(_, c)| *c).expect("tuned");
            for (name, count) in &counts {
                println!("{name:<14} {count:>9.0} | {:>5.2}x the tuned proxy", count / tuned);
            }
        }
        if rounds == 0 {
            return;
        }
        println!();
        println!("observability: {rounds} rounds; in each, the tuned proxy, then the json flow with nothing installed, with metrics on, and with metrics on and every request traced ({} s each, {connections} connections)", seconds / 2.0);
        let phases = ["off", "metrics", "traced"];
        let mut ratios: HashMap<&str, Vec<f64>> = HashMap::new();
        let mut p50s: HashMap<&str, Vec<f64>> = HashMap::new();
        let (mut exported, mut dropped, mut traced_requests) = (0.0, 0.0, 0u64);
        for _ in 0..rounds {
            let tuned = {
                let t = Target::start("tuned", &up, "off", &otlp);
                drive(&t.url, connections, seconds / 2.0).await
            };
            for phase in phases {
                let t = Target::start("json", &up, phase, &otlp);
                let s = drive(&t.url, connections, seconds / 2.0).await;
                if phase == "traced" {
                    // Spans still queued are in flight: let the export thread catch up.
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                    exported += t.metric("flowyt_otel_spans_exported_total").await;
                    dropped += t.metric("flowyt_otel_spans_dropped_total").await;
                    traced_requests += s.requests;
                }
                ratios.entry(phase).or_default().push(s.rps() / tuned.rps());
                p50s.entry(phase).or_default().push(s.p50.as_secs_f64() / tuned.p50.as_secs_f64());
            }
        }
        let median = |xs: &[f64]| {
            let mut xs = xs.to_vec();
            xs.sort_by(f64::total_cmp);
            xs[xs.len() / 2]
        };
        let (off, off_p50) = (median(&ratios["off"]), median(&p50s["off"]));
        for (phase, name) in [("off", "nothing installed"), ("metrics", "metrics on"), ("traced", "metrics + every request traced")] {
            let rs = &ratios[phase];
            let (lo, hi) = rs.iter().fold((f64::MAX, f64::MIN), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
            println!(
                "{name:<31} json flow / tuned proxy {:.3} (median of {}, range {lo:.3}-{hi:.3}): overhead {:+.1}% throughput, {:+.1}% p50",
                median(rs),
                rs.len(),
                (1.0 - median(rs) / off) * 100.0,
                (median(&p50s[phase]) / off_p50 - 1.0) * 100.0,
            );
        }
        println!("traced phases: {traced_requests} measured requests (plus warm-up), {exported:.0} spans exported, {dropped:.0} dropped (queue full)");
    });
}
