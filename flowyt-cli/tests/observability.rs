//! Observability of `flowyt serve`: `/metrics` after known traffic (exact counts and labels),
//! W3C trace context passed through, spans exported over OTLP/HTTP to a test receiver that
//! decodes them with the opentelemetry-proto types, and JSON log lines carrying trace ids.

mod support;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::{Span, span::SpanKind};
use prost::Message as _;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Server, free_port, start_with};

/// What the upstream saw: the `traceparent` of each call (`None` when there was none).
type Seen = Arc<Mutex<Vec<Option<String>>>>;

async fn spawn(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// An upstream answering `/ok` (200) and `/missing` (404), recording each `traceparent`.
async fn upstream(seen: Seen) -> SocketAddr {
    let record = move |headers: HeaderMap| {
        let seen = seen.clone();
        async move {
            let tp = headers
                .get("traceparent")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            seen.lock().expect("seen").push(tp);
        }
    };
    let ok = record.clone();
    let app = Router::new()
        .route(
            "/ok",
            get(move |h: HeaderMap| {
                let ok = ok.clone();
                async move {
                    ok(h).await;
                    axum::Json(json!({"fine": true}))
                }
            }),
        )
        .route(
            "/missing",
            get(move |h: HeaderMap| {
                let record = record.clone();
                async move {
                    record(h).await;
                    (StatusCode::NOT_FOUND, axum::Json(json!({"nope": true})))
                }
            }),
        );
    spawn(app).await
}

/// A workspace `ws` calling the upstream at `up` (and a closed port at `down`).
fn workspace(up: SocketAddr, down: u16) -> PathBuf {
    let root =
        std::env::temp_dir().join(format!("flowyt-obs-{}-{}", std::process::id(), free_port()));
    let ws = root.join("ws");
    std::fs::create_dir_all(ws.join("config")).expect("dirs");
    std::fs::create_dir_all(ws.join("flows")).expect("dirs");
    let settings = json!({
        "id": "obs", "name": "obs", "debug": false,
        "env": {"up": format!("http://{up}"), "down": format!("http://127.0.0.1:{down}")}
    });
    std::fs::write(ws.join("config/settings.json"), settings.to_string()).expect("settings");
    let routes = json!([
        {"method": "get", "path": "/call", "flow": "call"},
        {"method": "get", "path": "/miss", "flow": "miss"},
        {"method": "get", "path": "/down", "flow": "down"},
        {"method": "get", "path": "/items/<int:id>", "flow": "item"},
        {"method": "get", "path": "/broken", "flow": "broken"},
    ]);
    std::fs::write(ws.join("routes.json"), routes.to_string()).expect("routes");
    let calling = |url: &str, extra: Value| {
        let mut request = json!({"url": url, "method": "get", "headers": {}, "data": {},
            "next_action_success": "ok", "next_action_fail": "failed"});
        if let (Value::Object(r), Value::Object(e)) = (&mut request, extra) {
            r.extend(e);
        }
        json!({"pipeline": [
            {"id": "call_up", "action": "request", "data": request, "next_action": "${pipeline.next_action}"},
            {"id": "ok", "action": "response", "data": {"status": 200, "data": "${response.data}"}, "next_action": null},
            {"id": "failed", "action": "response", "data": {"status": 502, "data": {"status": "${response.status}"}}, "next_action": null}
        ]})
    };
    let flows = [
        (
            "call",
            calling("${env.up}/ok?api_key=hunter2&q=1", json!({})),
        ),
        ("miss", calling("${env.up}/missing", json!({}))),
        (
            "down",
            calling("${env.down}/x", json!({"retries": 1, "retry_delay": 0.01})),
        ),
        (
            "tick",
            json!({"schedule": {"every": 0.3}, "pipeline": [{"id": "note", "action": "flow_var",
                "data": {"ticked": true}, "next_action": null}]}),
        ),
        (
            "broken",
            calling("${env.up}/ok", json!({"method": "${request.qs.m}"})),
        ),
        (
            "item",
            json!({"pipeline": [{"id": "answer", "action": "response",
                "data": {"data": {"id": "${request.params.id}"}}, "next_action": null}]}),
        ),
    ];
    for (name, flow) in flows {
        std::fs::write(ws.join(format!("flows/{name}.json")), flow.to_string()).expect("flow");
    }
    root
}

/// The samples of a Prometheus text page: `name{labels}` → value.
fn samples(page: &str) -> BTreeMap<String, f64> {
    page.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

fn sample(all: &BTreeMap<String, f64>, key: &str) -> f64 {
    *all.get(key).unwrap_or_else(|| {
        panic!(
            "no sample `{key}` in:\n{}",
            all.keys().cloned().collect::<Vec<_>>().join("\n")
        )
    })
}

async fn wait_run(http: &reqwest::Client, server: &Server, flow: &str, run_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let run: Value = http
            .get(format!(
                "{}/_workspaces/ws/flows/{flow}/runs/{run_id}",
                server.base
            ))
            .send()
            .await
            .expect("run")
            .json()
            .await
            .expect("json");
        if run["status"] == "success" || run["status"] == "failed" {
            return run;
        }
        assert!(Instant::now() < deadline, "the run did not end: {run}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn metrics_count_known_traffic_with_bounded_labels() {
    let rt = support::multi_thread();
    let seen: Seen = Arc::default();
    let up = rt.block_on(upstream(seen.clone()));
    let down = free_port();
    let root = workspace(up, down);
    let server = start_with(&root, "127.0.0.1", &[], &[]);
    rt.block_on(async {
        let http = support::client(20);
        let get = |path: &str| {
            let http = http.clone();
            let url = format!("{}{path}", server.base);
            async move { http.get(url).send().await.expect("request").status().as_u16() }
        };
        for _ in 0..3 {
            assert_eq!(get("/ws/call").await, 200);
        }
        assert_eq!(get("/ws/items/5").await, 200);
        assert_eq!(get("/ws/items/6").await, 200);
        assert_eq!(get("/ws/miss").await, 502);
        assert_eq!(get("/ws/down").await, 502);
        // A caller's trace context goes upstream unchanged when no span is exported.
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let status = http
            .get(format!("{}/ws/call", server.base))
            .header("traceparent", tp)
            .send()
            .await
            .expect("traced call")
            .status();
        assert_eq!(status, 200);
        assert_eq!(seen.lock().expect("seen").last().cloned(), Some(Some(tp.to_string())));
        assert_eq!(seen.lock().expect("seen")[0], None, "no traceparent is invented");

        let queued: Value = http
            .post(format!("{}/_workspaces/ws/flows/call/runs", server.base))
            .header("traceparent", tp)
            .json(&json!({"run_id": "r1"}))
            .send()
            .await
            .expect("trigger")
            .json()
            .await
            .expect("json");
        assert_eq!(queued["run_id"], "r1");
        let run = wait_run(&http, &server, "call", "r1").await;
        assert_eq!(run["status"], "success");
        assert_eq!(run["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736", "{run}");

        // A registered instance, and a schedule that ticks every 0.3 s.
        let instance = json!({"instance": {
            "instanceId": "demo-1", "hostName": "localhost", "app": "DEMO", "ipAddr": "127.0.0.1",
            "status": "UP", "port": {"$": 8001, "@enabled": "true"},
            "dataCenterInfo": {"@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "name": "MyOwn"}
        }});
        let registered = http
            .post(format!("{}/eureka/apps/DEMO", server.base))
            .json(&instance)
            .send()
            .await
            .expect("register")
            .status();
        assert_eq!(registered, 204);
        let ticked = r#"flowyt_schedule_ticks_total{workspace="ws",flow="tick",outcome="queued"}"#;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let page = http
                .get(format!("{}/metrics", server.base))
                .send()
                .await
                .expect("scrape")
                .text()
                .await
                .expect("text");
            if samples(&page).get(ticked).is_some_and(|n| *n >= 1.0) {
                break;
            }
            assert!(Instant::now() < deadline, "the schedule never ticked:\n{page}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let response = http
            .get(format!("{}/metrics", server.base))
            .send()
            .await
            .expect("scrape");
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; version=0.0.4; charset=utf-8"
        );
        let page = response.text().await.expect("text");
        let all = samples(&page);
        let up = format!("127.0.0.1:{}", up.port());
        let down = format!("127.0.0.1:{down}");
        let expect = [
            (r#"flowyt_http_requests_total{workspace="ws",flow="call",route="/call",status="2xx"}"#.to_string(), 4.0),
            (r#"flowyt_http_requests_total{workspace="ws",flow="item",route="/items/{id}",status="2xx"}"#.to_string(), 2.0),
            (r#"flowyt_http_requests_total{workspace="ws",flow="miss",route="/miss",status="5xx"}"#.to_string(), 1.0),
            (r#"flowyt_http_requests_total{workspace="ws",flow="down",route="/down",status="5xx"}"#.to_string(), 1.0),
            (r#"flowyt_http_request_duration_seconds_count{workspace="ws",flow="call",route="/call"}"#.to_string(), 4.0),
            (format!(r#"flowyt_upstream_requests_total{{target="{up}",method="GET",status="200"}}"#), 5.0),
            (format!(r#"flowyt_upstream_requests_total{{target="{up}",method="GET",status="404"}}"#), 1.0),
            (format!(r#"flowyt_upstream_requests_total{{target="{down}",method="GET",status="0"}}"#), 2.0),
            (format!(r#"flowyt_upstream_errors_total{{target="{down}",method="GET",error="connect"}}"#), 2.0),
            (format!(r#"flowyt_upstream_retries_total{{target="{down}",method="GET"}}"#), 1.0),
            (format!(r#"flowyt_upstream_request_duration_seconds_count{{target="{up}",method="GET"}}"#), 6.0),
            (r#"flowyt_actions_total{workspace="ws",kind="request",outcome="success"}"#.to_string(), 5.0),
            (r#"flowyt_actions_total{workspace="ws",kind="request",outcome="fail"}"#.to_string(), 2.0),
            (r#"flowyt_actions_total{workspace="ws",kind="response",outcome="success"}"#.to_string(), 9.0),
            (r#"flowyt_action_duration_seconds_count{workspace="ws",kind="request"}"#.to_string(), 7.0),
            (r#"flowyt_runs_triggered_total{workspace="ws",flow="call"}"#.to_string(), 1.0),
            (r#"flowyt_runs_total{workspace="ws",flow="call",status="success"}"#.to_string(), 1.0),
            (r#"flowyt_registry_instances{service="DEMO",status="UP"}"#.to_string(), 1.0),
        ];
        for (key, value) in expect {
            assert_eq!(sample(&all, &key), value, "{key}");
        }
        assert!(sample(&all, r#"flowyt_run_queue_latency_seconds_count{workspace="ws"}"#) >= 1.0);
        // Read at the scrape (a tick may be queued or running right now).
        assert!(all.contains_key("flowyt_runs_queued") && all.contains_key("flowyt_runs_running"));
        // Histograms have buckets, ending with +Inf equal to the count.
        assert_eq!(
            sample(&all, r#"flowyt_http_request_duration_seconds_bucket{workspace="ws",flow="call",route="/call",le="+Inf"}"#),
            4.0
        );
        // Bounded labels: route patterns, never raw paths or run ids.
        assert!(!page.contains("/items/5") && !page.contains("r1\""), "{page}");
        assert!(page.contains("# HELP flowyt_http_requests_total"), "{page}");
    });
}

#[test]
fn metrics_are_token_protected_or_on_their_own_address() {
    let rt = support::rt();
    let secret = [("APP_SECRET_KEY", "s3cret-metrics")];
    let guarded = start_with(
        std::path::Path::new("examples/workspaces"),
        "127.0.0.1",
        &[],
        &secret,
    );
    let metrics_port = free_port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let separate = start_with(
        std::path::Path::new("examples/workspaces"),
        "127.0.0.1",
        &["--metrics-addr", &metrics_addr],
        &secret,
    );
    rt.block_on(async {
        let http = support::client(10);
        let status = |r: reqwest::Response| r.status().as_u16();
        let url = format!("{}/metrics", guarded.base);
        assert_eq!(status(http.get(&url).send().await.expect("scrape")), 401);
        let with_token = http
            .get(&url)
            .bearer_auth("s3cret-metrics")
            .send()
            .await
            .expect("scrape");
        assert_eq!(status(with_token), 200);
        // On its own address: open there (a private network), absent from the main one.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", metrics_port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the metrics listener did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let open = http
            .get(format!("http://{metrics_addr}/metrics"))
            .send()
            .await
            .expect("scrape");
        assert_eq!(open.status(), 200);
        assert!(
            open.text()
                .await
                .expect("text")
                .contains("flowyt_runs_queued")
        );
        let main = http
            .get(format!("{}/metrics", separate.base))
            .bearer_auth("s3cret-metrics")
            .send()
            .await
            .expect("scrape");
        assert_eq!(status(main), 404);
    });
}

/// The spans an OTLP/HTTP receiver got, decoded, with their service name.
#[derive(Default)]
struct Received {
    spans: Vec<Span>,
    services: Vec<String>,
}

async fn otlp_receiver(received: Arc<Mutex<Received>>) -> SocketAddr {
    let app = Router::new().route(
        "/v1/traces",
        post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let received = received.clone();
            async move {
                assert_eq!(headers["content-type"], "application/x-protobuf");
                let request = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                let mut r = received.lock().expect("received");
                for rs in request.resource_spans {
                    for attr in rs.resource.iter().flat_map(|r| r.attributes.iter()) {
                        if attr.key == "service.name"
                            && let Some(AnyValue::StringValue(s)) =
                                attr.value.as_ref().and_then(|v| v.value.clone())
                        {
                            r.services.push(s);
                        }
                    }
                    for ss in rs.scope_spans {
                        r.spans.extend(ss.spans);
                    }
                }
                StatusCode::OK
            }
        }),
    );
    spawn(app).await
}

fn attr(span: &Span, key: &str) -> Option<String> {
    span.attributes.iter().find(|a| a.key == key).and_then(|a| {
        match a.value.as_ref()?.value.as_ref()? {
            AnyValue::StringValue(s) => Some(s.clone()),
            AnyValue::IntValue(i) => Some(i.to_string()),
            AnyValue::BoolValue(b) => Some(b.to_string()),
            AnyValue::DoubleValue(d) => Some(d.to_string()),
            _ => None,
        }
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Waits until `pick` finds what it needs among the received spans.
async fn spans_until<T>(received: &Arc<Mutex<Received>>, pick: impl Fn(&[Span]) -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(found) = pick(&received.lock().expect("received").spans) {
            return found;
        }
        assert!(Instant::now() < deadline, "the spans did not arrive");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn a_request_continues_the_callers_trace_and_exports_its_span_tree() {
    let rt = support::multi_thread();
    let seen: Seen = Arc::default();
    let received: Arc<Mutex<Received>> = Arc::default();
    let up = rt.block_on(upstream(seen.clone()));
    let collector = rt.block_on(otlp_receiver(received.clone()));
    let root = workspace(up, free_port());
    let endpoint = format!("http://{collector}");
    let server = start_with(
        &root,
        "127.0.0.1",
        &["--log-format", "json"],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_SERVICE_NAME", "flowyt-under-test"),
            ("OTEL_BSP_SCHEDULE_DELAY", "50"),
            ("RUST_LOG", "info"),
            ("FLOWYT_TRACE_URL", "http://traces.example/trace/{trace_id}"),
        ],
    );
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let caller = "b7ad6b7169203331";
    let broken_span = rt.block_on(async {
        let http = support::client(20);
        let status = http
            .get(format!("{}/ws/call", server.base))
            .header("traceparent", format!("00-{trace}-{caller}-01"))
            .header("tracestate", "vendor=abc")
            .send()
            .await
            .expect("call")
            .status();
        assert_eq!(status, 200);
        let (server_span, action, client) = spans_until(&received, |spans| {
            let in_trace = |s: &&Span| hex(&s.trace_id) == trace;
            let server = spans
                .iter()
                .filter(in_trace)
                .find(|s| s.kind == SpanKind::Server as i32)?;
            let action = spans
                .iter()
                .filter(in_trace)
                .find(|s| attr(s, "flowyt.action.id").as_deref() == Some("call_up"))?;
            let client = spans
                .iter()
                .filter(in_trace)
                .find(|s| s.kind == SpanKind::Client as i32)?;
            Some((server.clone(), action.clone(), client.clone()))
        })
        .await;
        // request → action → upstream call, under the caller's span.
        assert_eq!(hex(&server_span.parent_span_id), caller);
        assert_eq!(server_span.name, "GET /call");
        assert_eq!(
            attr(&server_span, "http.request.method").as_deref(),
            Some("GET")
        );
        assert_eq!(attr(&server_span, "http.route").as_deref(), Some("/call"));
        assert_eq!(
            attr(&server_span, "http.response.status_code").as_deref(),
            Some("200")
        );
        assert_eq!(
            attr(&server_span, "flowyt.workspace").as_deref(),
            Some("ws")
        );
        assert_eq!(attr(&server_span, "flowyt.flow").as_deref(), Some("call"));
        assert_eq!(action.parent_span_id, server_span.span_id);
        assert_eq!(action.name, "call_up");
        assert_eq!(
            attr(&action, "flowyt.action.kind").as_deref(),
            Some("request")
        );
        assert_eq!(client.parent_span_id, action.span_id);
        assert_eq!(client.name, "GET");
        assert_eq!(attr(&client, "http.request.method").as_deref(), Some("GET"));
        assert_eq!(
            attr(&client, "http.response.status_code").as_deref(),
            Some("200")
        );
        assert_eq!(
            attr(&client, "url.full"),
            Some(format!("http://{up}/ok?api_key=REDACTED&q=1")),
            "no secret in url.full"
        );
        // The upstream got a traceparent whose parent is the client span.
        let sent = seen.lock().expect("seen").last().cloned().flatten();
        assert_eq!(
            sent,
            Some(format!("00-{trace}-{}-01", hex(&client.span_id)))
        );
        assert!(
            received
                .lock()
                .expect("received")
                .services
                .iter()
                .all(|s| s == "flowyt-under-test")
        );

        // A triggered run continues the trigger's trace: trigger (producer) → run (consumer)
        // → its actions, and the run shows the trace id.
        let queued = http
            .post(format!("{}/_workspaces/ws/flows/call/runs", server.base))
            .header("traceparent", format!("00-{trace}-{caller}-01"))
            .json(&json!({"run_id": "traced"}))
            .send()
            .await
            .expect("trigger");
        assert_eq!(queued.status(), 201);
        let run = wait_run(&http, &server, "call", "traced").await;
        assert_eq!(run["trace_id"], trace, "{run}");
        // The console's run page links the trace in the tracing backend.
        let page = http
            .get(format!("{}/_console/workspaces/ws/flows/call/runs/traced", server.base))
            .send()
            .await
            .expect("console")
            .text()
            .await
            .expect("html");
        assert!(
            page.contains(&format!(
                r#"<a class="mono" id="trace-id" href="http://traces.example/trace/{trace}">{trace}</a>"#
            )),
            "{page}"
        );
        // The run's trace shows the called URL with its secret query value masked.
        assert!(page.contains("api_key=***") && !page.contains("hunter2"), "{page}");
        let (trigger, run_span) = spans_until(&received, |spans| {
            let trigger = spans.iter().find(|s| s.kind == SpanKind::Producer as i32)?;
            let run = spans.iter().find(|s| s.kind == SpanKind::Consumer as i32)?;
            spans.iter().find(|s| s.parent_span_id == run.span_id)?;
            Some((trigger.clone(), run.clone()))
        })
        .await;
        assert_eq!(hex(&trigger.trace_id), trace);
        assert_eq!(hex(&trigger.parent_span_id), caller);
        assert_eq!(run_span.parent_span_id, trigger.span_id);
        assert_eq!(run_span.name, "run call");
        assert_eq!(attr(&run_span, "flowyt.run.id").as_deref(), Some("traced"));

        // A failing run: the server span is an error, and its log line names the trace
        // and the span.
        assert_eq!(
            http.get(format!("{}/ws/broken?m=BREW", server.base))
                .header("traceparent", format!("00-{trace}-{caller}-01"))
                .send()
                .await
                .expect("broken")
                .status(),
            500
        );
        let broken = spans_until(&received, |spans| {
            spans
                .iter()
                .find(|s| attr(s, "http.route").as_deref() == Some("/broken"))
                .cloned()
        })
        .await;
        assert_eq!(
            attr(&broken, "http.response.status_code").as_deref(),
            Some("500")
        );
        assert_eq!(
            broken.status.as_ref().map(|s| s.code),
            Some(2),
            "status ERROR"
        );
        hex(&broken.span_id)
    });
    // JSON log lines inside a run carry its trace and span ids.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = std::fs::read_to_string(&server.stderr).unwrap_or_default();
        let lines: Vec<Value> = log
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        let ended = lines.iter().find(|l| l["message"] == "run ended");
        let failed = lines.iter().find(|l| l["message"] == "flow run failed");
        if let (Some(ended), Some(failed)) = (ended, failed) {
            assert_eq!(ended["trace_id"], trace, "{ended}");
            assert_eq!(failed["span"]["trace_id"], trace, "{failed}");
            assert_eq!(failed["span"]["span_id"], broken_span, "{failed}");
            assert_eq!(failed["span"]["workspace"], "ws", "{failed}");
            break;
        }
        assert!(Instant::now() < deadline, "no `run ended` line in {log}");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(server);
    let _ = std::fs::remove_dir_all(root);
}

/// A collector that never answers: requests are still answered at once, and the spans that
/// do not fit the bounded export queue are dropped and counted.
#[test]
fn a_stuck_collector_never_blocks_requests_and_drops_are_counted() {
    let rt = support::multi_thread();
    let seen: Seen = Arc::default();
    let up = rt.block_on(upstream(seen));
    let stuck = rt.block_on(spawn(Router::new().route(
        "/v1/traces",
        post(|| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK
        }),
    )));
    let root = workspace(up, free_port());
    let endpoint = format!("http://{stuck}");
    let server = start_with(
        &root,
        "127.0.0.1",
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "4"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1"),
            ("OTEL_BSP_EXPORT_TIMEOUT", "60000"),
        ],
    );
    rt.block_on(async {
        // Each request would wait a minute if export blocked it; the client gives up sooner.
        let http = support::client(10);
        for _ in 0..20 {
            let status = http
                .get(format!("{}/ws/call", server.base))
                .send()
                .await
                .expect("answered while the collector is stuck")
                .status();
            assert_eq!(status, 200);
        }
        let page = http
            .get(format!("{}/metrics", server.base))
            .send()
            .await
            .expect("scrape")
            .text()
            .await
            .expect("text");
        let dropped = samples(&page)
            .get("flowyt_otel_spans_dropped_total")
            .copied()
            .unwrap_or(0.0);
        // 20 requests × 4 spans; one span is in the stuck export and 4 fit the queue.
        assert!(dropped >= 70.0, "dropped {dropped}:\n{page}");
    });
    drop(server);
    let _ = std::fs::remove_dir_all(root);
}

/// A protocol flowyt cannot speak is refused at start-up with what to do instead.
#[test]
fn grpc_export_is_refused_with_a_clear_error() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flowyt"))
        .args(["serve", "examples/workspaces", "--port", "0"])
        .current_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .output()
        .expect("flowyt runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("OTEL_EXPORTER_OTLP_PROTOCOL `grpc` is not supported")
            && stderr.contains("4318"),
        "{stderr}"
    );
}
