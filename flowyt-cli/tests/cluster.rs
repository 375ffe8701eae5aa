//! Cluster mode: three `flowyt serve` processes on one PostgreSQL database share the run queue
//! and the schedules. One is SIGKILLed in the middle of hundreds of runs: every run still ends
//! `success` exactly once, visible from every instance, and the only repeated upstream calls
//! are the actions that were in flight on the killed instance. A one-second schedule fires
//! about once a second in total, and keeps firing when an instance dies.

#[path = "../../flowyt-runtime/tests/pg/mod.rs"]
mod pg;
mod support;

use axum::Router;
use axum::extract::{Path as UrlPath, Query, State};
use serde_json::{Value, json};
use sqlx::Row;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Server, client, multi_thread, start_on_store};

/// Calls per `(step, run)`; `/slow/...` takes 40 ms so runs are caught in flight.
#[derive(Clone, Default)]
struct Upstream(Arc<Mutex<HashMap<(String, String), usize>>>);

impl Upstream {
    async fn serve(&self) -> String {
        async fn step(
            State(up): State<Upstream>,
            UrlPath((kind, name)): UrlPath<(String, String)>,
            Query(q): Query<HashMap<String, String>>,
        ) -> axum::Json<Value> {
            let run = q.get("run").cloned().unwrap_or_default();
            *up.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry((name.clone(), run))
                .or_default() += 1;
            match kind.as_str() {
                "slow" => tokio::time::sleep(Duration::from_millis(40)).await,
                "long" => tokio::time::sleep(Duration::from_secs(2)).await,
                _ => {}
            }
            axum::Json(json!({"n": name}))
        }
        let app = Router::new()
            .route("/{kind}/{name}", axum::routing::get(step))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    fn calls(&self) -> HashMap<(String, String), usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// A folder with workspace `ops`: flow `job` (three upstream calls, a flow variable between)
/// and, when `tick` is set, a flow `tick` scheduled every second.
fn workspace(tag: &str, upstream: &str, tick: bool) -> PathBuf {
    let root = std::env::temp_dir().join(format!("flowyt-cluster-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let ws = root.join("ops");
    std::fs::create_dir_all(ws.join("flows")).expect("mkdir");
    std::fs::create_dir_all(ws.join("config")).expect("mkdir");
    std::fs::write(
        ws.join("config/settings.json"),
        json!({"env": {"baseUrl": upstream}}).to_string(),
    )
    .expect("write");
    std::fs::write(ws.join("routes.json"), "[]").expect("write");
    let request = |id: &str, url: &str, next: &str| {
        json!({"id": id, "action": "request", "data": {
            "url": format!("${{env.baseUrl}}{url}?run=${{params.run}}"), "method": "get",
            "next_action_success": next, "next_action_fail": "9"
        }, "next_action": "${pipeline.next_action}"})
    };
    let job = json!({
        "params": {"run": {"type": "string", "required": true}},
        "pipeline": [
            request("1", "/slow/one", "2"),
            {"id": "2", "action": "flow_var", "data": {"first": "${response.data.n}"}, "next_action": "3"},
            request("3", "/slow/two", "4"),
            request("4", "/slow/three", "5"),
            {"id": "5", "action": "response", "data": {"data": {"first": "${flow.first}", "last": "${response.data.n}"}}, "next_action": null},
            {"id": "9", "action": "response", "data": {"status": 500, "data": {"failed": true}}, "next_action": null}
        ]
    });
    std::fs::write(ws.join("flows/job.json"), job.to_string()).expect("write");
    let long = json!({
        "params": {"run": {"type": "string", "required": true}},
        "pipeline": [
            request("1", "/long/wait", "2"),
            {"id": "2", "action": "response", "data": {"data": {"waited": "${response.data.n}"}}, "next_action": null},
            {"id": "9", "action": "response", "data": {"status": 500, "data": {"failed": true}}, "next_action": null}
        ]
    });
    std::fs::write(ws.join("flows/long.json"), long.to_string()).expect("write");
    if tick {
        std::fs::write(
            ws.join("flows/tick.json"),
            r#"{"schedule": {"every": 1}, "pipeline": [{"id": "1", "action": "response", "data": {"data": {"ok": true}}, "next_action": null}]}"#,
        )
        .expect("write");
    }
    root
}

/// GETs `url` as JSON. A test keeps one client (`http`), so connections are reused: a new
/// connection per request costs tens of milliseconds here.
async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    http.get(url)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json")
}

async fn runs_of(http: &reqwest::Client, base: &str, flow: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut offset = 0;
    loop {
        let page: Value = get_json(
            http,
            &format!("{base}/_workspaces/ops/flows/{flow}/runs?limit=1000&offset={offset}"),
        )
        .await;
        all.extend(page["runs"].as_array().cloned().unwrap_or_default());
        match page["next_offset"].as_u64() {
            Some(next) => offset = next,
            None => return all,
        }
    }
}

const RUNS: usize = 300;

#[test]
fn three_instances_share_the_queue_and_a_killed_one_loses_nothing() {
    let rt = multi_thread();
    let db = rt.block_on(pg::TestDb::create("cluster"));
    let http = client(10);
    let up = Upstream::default();
    let url = rt.block_on(up.serve());
    let root = workspace("queue", &url, false);
    let mut servers: Vec<Option<Server>> = (0..3)
        .map(|_| {
            Some(start_on_store(
                &root,
                &db.url,
                &["--max-running", "16", "--lease", "2"],
            ))
        })
        .collect();
    let bases: Vec<String> = servers.iter().flatten().map(|s| s.base.clone()).collect();
    rt.block_on(async {
        // Hundreds of triggers, spread over the three instances.
        let mut posts = Vec::new();
        for i in 0..RUNS {
            let (http, base) = (http.clone(), bases[i % 3].clone());
            posts.push(tokio::spawn(async move {
                let id = format!("run-{i:03}");
                let answer = http
                    .post(format!("{base}/_workspaces/ops/flows/job/runs"))
                    .json(&json!({"run_id": id, "conf": {"run": id}}))
                    .send()
                    .await
                    .expect("trigger");
                assert_eq!(answer.status(), 201);
            }));
        }
        for p in posts {
            p.await.expect("trigger task");
        }
        // A duplicate id is refused wherever it is sent.
        let dup = http
            .post(format!("{}/_workspaces/ops/flows/job/runs", bases[2]))
            .json(&json!({"run_id": "run-000", "conf": {"run": "x"}}))
            .send()
            .await
            .expect("trigger");
        assert_eq!(dup.status(), 409);
        // Once a third has ended, instance 1 dies without warning.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let done = runs_of(&http, &bases[0], "job")
                .await
                .iter()
                .filter(|r| r["status"] == "success")
                .count();
            if done >= RUNS / 3 {
                break;
            }
            assert!(Instant::now() < deadline, "runs do not progress");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // ... at a moment it holds runs in flight (its leases name its process id), so the
        // kill always interrupts some: on a loaded machine it may otherwise be between runs.
        let pid = servers[1].as_ref().map_or(0, |s| s.child.id());
        let pool = sqlx::AnyPool::connect(&db.url).await.expect("db");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n FROM flowyt_runs WHERE status = 'running' AND owner LIKE $1",
            )
            .bind(format!("%-{pid}-%"))
            .fetch_one(&pool)
            .await
            .expect("count");
            let n: i64 = row.try_get("n").expect("n");
            if n > 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "instance 1 never held a run in flight"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        pool.close().await;
    });
    servers[1] = None; // SIGKILL
    let survivors = [bases[0].clone(), bases[2].clone()];
    let records = rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let runs = runs_of(&http, &survivors[0], "job").await;
            let ended = runs
                .iter()
                .filter(|r| r["status"] != "queued" && r["status"] != "running")
                .count();
            if ended == RUNS {
                return runs;
            }
            assert!(
                Instant::now() < deadline,
                "{ended} of {RUNS} runs ended after the kill"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    // Every run ended `success`, once, and every survivor shows the same records.
    assert_eq!(records.len(), RUNS);
    let failed: Vec<&Value> = records
        .iter()
        .filter(|r| r["status"] != "success")
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    rt.block_on(async {
        for base in &survivors {
            for i in 0..RUNS {
                let run: Value = get_json(
                    &http,
                    &format!("{base}/_workspaces/ops/flows/job/runs/run-{i:03}"),
                )
                .await;
                assert_eq!(run["status"], "success", "{run}");
                assert_eq!(
                    run["result"]["data"],
                    json!({"first": "one", "last": "three"}),
                    "{run}"
                );
            }
        }
        let pool = sqlx::AnyPool::connect(&db.url).await.expect("db");
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, COUNT(DISTINCT run_id) AS d,
                    SUM(CASE WHEN status = 'success' THEN 1 ELSE 0 END) AS ok FROM flowyt_runs",
        )
        .fetch_one(&pool)
        .await
        .expect("count");
        let (n, d, ok): (i64, i64, i64) = (
            row.try_get("n").expect("n"),
            row.try_get("d").expect("d"),
            row.try_get("ok").expect("ok"),
        );
        assert_eq!((n, d, ok), (RUNS as i64, RUNS as i64, RUNS as i64));
        pool.close().await;
    });
    // Repeated upstream calls: only in runs the dead instance had started (attempts > 1), at
    // most one action each (the one in flight when it died).
    let calls = up.calls();
    let mut resumed = 0;
    for run in &records {
        let id = run["run_id"].as_str().expect("id");
        let attempts = run["attempts"].as_u64().expect("attempts");
        let mut repeated = 0;
        for step in ["one", "two", "three"] {
            let n = calls
                .get(&(step.to_string(), id.to_string()))
                .copied()
                .unwrap_or(0);
            assert!(n >= 1, "{id} never called {step}");
            repeated += n - 1;
        }
        assert!(
            (repeated as u64) < attempts,
            "{id}: {repeated} repeated call(s) in {attempts} attempt(s)"
        );
        if attempts > 1 {
            resumed += 1;
        }
    }
    assert!(
        resumed > 0,
        "the killed instance had runs in flight, resumed elsewhere"
    );
    drop(servers);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_one_second_schedule_fires_once_a_second_across_three_instances() {
    let rt = multi_thread();
    let db = rt.block_on(pg::TestDb::create("schedule"));
    let root = workspace("tick", "http://127.0.0.1:9", true);
    let mut servers: Vec<Option<Server>> = (0..3)
        .map(|_| Some(start_on_store(&root, &db.url, &[])))
        .collect();
    let base = servers[2].as_ref().map(|s| s.base.clone()).expect("base");
    std::thread::sleep(Duration::from_millis(4500));
    servers[0] = None; // SIGKILL: the others keep the schedule going.
    std::thread::sleep(Duration::from_millis(3500));
    let runs = rt.block_on(runs_of(&client(10), &base, "tick"));
    let mut ticks: Vec<String> = runs
        .iter()
        .filter_map(|r| r["run_id"].as_str().map(str::to_string))
        .collect();
    ticks.sort();
    // About eight seconds: one tick per second, give or take the first and the last.
    assert!(
        (6..=9).contains(&ticks.len()),
        "{} ticks: {ticks:?}",
        ticks.len()
    );
    let times: Vec<f64> = {
        let mut t: Vec<f64> = runs
            .iter()
            .filter_map(|r| r["queued_at"].as_f64())
            .collect();
        t.sort_by(f64::total_cmp);
        t
    };
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            (0.5..1.6).contains(&gap),
            "ticks {gap:.2} s apart: {times:?}"
        );
    }
    assert!(
        ticks.iter().all(|t| t.starts_with("scheduled__")),
        "{ticks:?}"
    );
    drop(servers);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn sigterm_hands_unfinished_runs_to_another_instance_at_once() {
    let rt = multi_thread();
    let db = rt.block_on(pg::TestDb::create("handoff"));
    let http = client(10);
    let up = Upstream::default();
    let url = rt.block_on(up.serve());
    let root = workspace("handoff", &url, false);
    // Long leases: a run resumed within seconds was handed back, not left to expire.
    let mut a = start_on_store(&root, &db.url, &["--lease", "60", "--grace", "0.3"]);
    let a_base = a.base.clone();
    rt.block_on(async {
        for i in 0..4 {
            let answer = client(10)
                .post(format!("{a_base}/_workspaces/ops/flows/long/runs"))
                .json(&json!({"run_id": format!("h{i}"), "conf": {"run": format!("h{i}")}}))
                .send()
                .await
                .expect("trigger");
            assert_eq!(answer.status(), 201);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while (0..4).any(|i| {
            !up.calls()
                .contains_key(&("wait".to_string(), format!("h{i}")))
        }) {
            assert!(Instant::now() < deadline, "the runs did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let b = start_on_store(&root, &db.url, &["--lease", "60"]);
    let stopped = Instant::now();
    let term = Command::new("kill")
        .args(["-TERM", &a.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(term.success());
    let exit = a.child.wait().expect("exits");
    assert!(exit.success(), "{exit:?}");
    let log = std::fs::read_to_string(&a.stderr).unwrap_or_default();
    assert!(
        log.contains("4 unfinished run(s) handed back to the queue"),
        "{log}"
    );
    rt.block_on(async {
        for i in 0..4 {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let run: Value = get_json(
                    &http,
                    &format!("{}/_workspaces/ops/flows/long/runs/h{i}", b.base),
                )
                .await;
                if run["status"] == "success" {
                    assert_eq!(run["attempts"], 2, "{run}");
                    break;
                }
                assert!(Instant::now() < deadline, "{run}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    });
    assert!(
        stopped.elapsed() < Duration::from_secs(20),
        "resumed long before the 60 s lease"
    );
    drop(b);
    drop(a);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_service_registered_through_one_instance_is_seen_by_every_instance() {
    let rt = multi_thread();
    let db = rt.block_on(pg::TestDb::create("registry"));
    let root = workspace("registry", "http://127.0.0.1:9", false);
    let servers: Vec<Server> = (0..3)
        .map(|_| start_on_store(&root, &db.url, &[]))
        .collect();
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    let register = |base: &str, app: &str, id: &str, lease: u64| {
        let body = json!({"instance": {
            "instanceId": id, "hostName": "localhost", "app": app, "ipAddr": "127.0.0.1",
            "status": "UP", "port": {"$": 8001, "@enabled": "true"},
            "leaseInfo": {"durationInSecs": lease},
            "dataCenterInfo": {"@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "name": "MyOwn"}
        }});
        let url = format!("{base}/eureka/apps/{app}");
        async move {
            client(10)
                .post(url)
                .json(&body)
                .send()
                .await
                .expect("register")
                .status()
                .as_u16()
        }
    };
    let instances = |base: &str, app: &str| {
        let url = format!("{base}/eureka/apps/{app}");
        async move {
            let answer = client(10)
                .get(url)
                .header("accept", "application/json")
                .send()
                .await
                .expect("fetch");
            if answer.status() == 404 {
                return Vec::new();
            }
            let body: Value = answer.json().await.expect("json");
            body["application"]["instance"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        }
    };
    rt.block_on(async {
        /// Waits up to ten seconds for `$check` (an async expression) to hold.
        macro_rules! until {
            ($what:expr, $check:expr) => {{
                let deadline = Instant::now() + Duration::from_secs(10);
                while !$check {
                    assert!(Instant::now() < deadline, "timed out: {}", $what);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }};
        }
        assert_eq!(register(&bases[0], "users", "users-1", 60).await, 204);
        for base in &bases {
            until!(
                "every instance lists users-1",
                instances(base, "USERS").await.len() == 1
            );
        }
        // Renewing through another instance works: the store knows the lease.
        let renew = client(10)
            .put(format!("{}/eureka/apps/USERS/users-1?status=UP", bases[2]))
            .send()
            .await
            .expect("renew");
        assert_eq!(renew.status(), 200);
        // A status override through instance 1 shows on instance 0.
        let status = client(10)
            .put(format!(
                "{}/eureka/apps/USERS/users-1/status?value=OUT_OF_SERVICE",
                bases[1]
            ))
            .send()
            .await
            .expect("status");
        assert_eq!(status.status(), 200);
        until!(
            "the override reaches instance 0",
            instances(&bases[0], "USERS")
                .await
                .first()
                .map(|i| i["status"].clone())
                == Some(json!("OUT_OF_SERVICE"))
        );
        // Cancelling through instance 2 removes it everywhere.
        let cancel = client(10)
            .delete(format!("{}/eureka/apps/USERS/users-1", bases[2]))
            .send()
            .await
            .expect("cancel");
        assert_eq!(cancel.status(), 200);
        until!(
            "users-1 is gone from instance 0",
            instances(&bases[0], "USERS").await.is_empty()
        );
        // A lease that is never renewed expires once, for the whole cluster. It lasts 4 s, so
        // every instance's view (refreshed each second) sees it before it expires, even on a
        // loaded machine (with 1 s an instance could miss it between two refreshes).
        assert_eq!(register(&bases[1], "orders", "orders-1", 4).await, 204);
        until!(
            "orders-1 reaches instance 2",
            instances(&bases[2], "ORDERS").await.len() == 1
        );
        for base in &bases {
            until!(
                "orders-1 expires everywhere",
                instances(base, "ORDERS").await.is_empty()
            );
        }
        let renew = client(10)
            .put(format!(
                "{}/eureka/apps/ORDERS/orders-1?status=UP",
                bases[0]
            ))
            .send()
            .await
            .expect("renew");
        assert_eq!(renew.status(), 404, "an expired instance registers again");
    });
    drop(servers);
    let _ = std::fs::remove_dir_all(&root);
}
