//! The operating endpoints are closed by default (issue: hardening). Each test reproduces an
//! attack on a real `flowyt serve` process and asserts the refusal.

use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

mod support;
use support::{Server, rt, start_in};

/// `flowyt serve examples/workspaces --host HOST` with `envs`; waits until it answers.
fn start(host: &str, envs: &[(&str, &str)]) -> Server {
    start_in(Path::new("examples/workspaces"), host, envs)
}

fn client() -> reqwest::Client {
    support::client(10)
}

async fn status(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.expect("answer");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

const RUNS: &str = "/_workspaces/github/flows/search/runs";

fn eureka_instance() -> Value {
    json!({"instance": {
        "instanceId": "evil-1", "hostName": "evil", "app": "USERS", "ipAddr": "127.0.0.1",
        "status": "UP", "port": {"$": 9, "@enabled": "true"},
        "dataCenterInfo": {"@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "name": "MyOwn"}
    }})
}

#[test]
fn without_a_secret_a_foreign_host_is_refused_dns_rebinding() {
    let server = start("127.0.0.1", &[]);
    let c = client();
    rt().block_on(async {
        let b = &server.base;
        // The same loopback server, reached through a name that resolves to it.
        for (method, path) in [
            ("GET", "/_workspaces/routes"),
            ("POST", RUNS),
            ("GET", RUNS),
            ("POST", "/_engine/reload"),
            ("POST", "/eureka/apps/USERS"),
        ] {
            let req = c
                .request(method.parse().expect("method"), format!("{b}{path}"))
                .header("host", "attacker.example:5000")
                .json(&eureka_instance());
            let (code, body) = status(req).await;
            assert_eq!(code, 403, "{method} {path}: {body}");
            assert!(
                body["msg"].as_str().unwrap_or("").contains("loopback Host"),
                "{body}"
            );
        }
        // The flows themselves are served to any Host.
        let flow = c
            .get(format!("{b}/github/getReposByUser?user=nobody"))
            .header("host", "attacker.example");
        assert_eq!(status(flow).await.0, 400);
        // A loopback Host is let through.
        assert_eq!(
            status(c.get(format!("{b}/_workspaces/routes"))).await.0,
            200
        );
        assert_eq!(
            status(c.post(format!("{b}{RUNS}")).json(&json!({"conf": {}})))
                .await
                .0,
            201
        );
    });
}

#[test]
fn cross_site_browser_requests_are_refused() {
    let server = start("127.0.0.1", &[]);
    let c = client();
    rt().block_on(async {
        let b = &server.base;
        let forged = c
            .post(format!("{b}{RUNS}"))
            .header("origin", "http://attacker.example")
            .json(&json!({"conf": {}}));
        assert_eq!(status(forged).await.0, 403);
        let fetch = c
            .post(format!("{b}/_engine/reload"))
            .header("sec-fetch-site", "cross-site");
        assert_eq!(status(fetch).await.0, 403);
        let same = c
            .post(format!("{b}/_engine/reload"))
            .header("origin", b.as_str())
            .header("sec-fetch-site", "same-origin");
        assert_eq!(status(same).await.0, 200);
        // State changes are POST only.
        assert_eq!(status(c.get(format!("{b}/_engine/reload"))).await.0, 405);
    });
}

#[test]
fn a_wide_bind_without_a_secret_warns_and_closes_the_operating_endpoints() {
    let server = start("0.0.0.0", &[]);
    let c = client();
    rt().block_on(async {
        let b = &server.base;
        let (code, body) = status(c.get(format!("{b}/_workspaces/routes"))).await;
        assert_eq!(code, 403, "{body}");
        assert!(
            body["msg"]
                .as_str()
                .unwrap_or("")
                .contains("APP_SECRET_KEY"),
            "{body}"
        );
        assert_eq!(
            status(c.post(format!("{b}{RUNS}")).json(&json!({})))
                .await
                .0,
            403
        );
        let register = c
            .post(format!("{b}/eureka/apps/USERS"))
            .json(&eureka_instance());
        assert_eq!(status(register).await.0, 403);
        assert_eq!(status(c.get(format!("{b}/_engine/ping"))).await.0, 200);
    });
    let log = std::fs::read_to_string(&server.stderr).unwrap_or_default();
    assert!(
        log.contains("no APP_SECRET_KEY is set and the server listens beyond loopback"),
        "{log}"
    );
}

#[test]
fn with_a_secret_the_registry_needs_it_and_health_says_only_ok() {
    let server = start("127.0.0.1", &[("APP_SECRET_KEY", "s3cret")]);
    let c = client();
    rt().block_on(async {
        let b = &server.base;
        let apps = format!("{b}/eureka/apps/USERS");
        // Hijack attempts: register an attacker instance, deregister a real one.
        assert_eq!(status(c.post(&apps).json(&eureka_instance())).await.0, 401);
        assert_eq!(status(c.delete(format!("{apps}/users-1"))).await.0, 401);
        // An Eureka client with the secret in its URL sends it as the basic-auth password.
        let ok = c
            .post(&apps)
            .basic_auth("eureka", Some("s3cret"))
            .json(&eureka_instance());
        assert_eq!(status(ok).await.0, 204);
        let (code, body) = status(c.get(&apps).header("accept", "application/json")).await;
        assert_eq!(code, 200);
        assert_eq!(body["application"]["instance"][0]["instanceId"], "evil-1");
        let wrong = c
            .put(format!("{apps}/evil-1"))
            .basic_auth("eureka", Some("guess"));
        assert_eq!(status(wrong).await.0, 401);

        assert_eq!(
            status(c.get(format!("{b}/_engine/health"))).await,
            (200, json!({"status": "ok"}))
        );
        let (code, body) = status(
            c.get(format!("{b}/_engine/health"))
                .header("x-flowyt-token", "s3cret"),
        )
        .await;
        assert_eq!(code, 200);
        assert!(
            body["workspaces"].as_array().is_some_and(|w| !w.is_empty()),
            "{body}"
        );
        let bearer = c
            .get(format!("{b}/_workspaces/routes"))
            .bearer_auth("s3cret");
        assert_eq!(status(bearer).await.0, 200);
        assert_eq!(
            status(c.get(format!("{b}/_workspaces/routes"))).await.0,
            401
        );
    });
}

/// Writes a workspace `cpu` whose `/burn` computes for about `items` heavy actions, with
/// `max_seconds` as its time limit. Returns the folder holding it.
fn cpu_workspace(max_seconds: u32) -> std::path::PathBuf {
    let root = std::env::temp_dir().join(format!("flowyt-cpu-{}", std::process::id()));
    let ws = root.join("cpu");
    std::fs::create_dir_all(ws.join("flows")).expect("workspace folder");
    std::fs::create_dir_all(ws.join("config")).expect("config folder");
    let write = |path: &str, v: Value| {
        std::fs::write(ws.join(path), v.to_string()).expect("write workspace file");
    };
    write(
        "config/settings.json",
        json!({"name": "cpu", "debug": true, "limits": {"max_seconds": max_seconds, "max_steps": 100000}}),
    );
    write(
        "routes.json",
        json!([{"method": "get", "path": "/burn", "flow": "burn"}]),
    );
    let start = json!({"id": "s", "action": "start", "data": {}, "next_action": "l"});
    write(
        "flows/burn.json",
        json!({"id": "burn", "name": "burn", "pipeline": [
            start,
            {"id": "l", "action": "loop", "data": {"type": "range", "data": 50000, "flow": "heavy"}, "next_action": "r"},
            {"id": "r", "action": "response", "data": {"status": 200, "data": "done"}, "next_action": null}
        ]}),
    );
    write(
        "flows/heavy.json",
        json!({"id": "heavy", "name": "heavy", "pipeline": [
            {"id": "s", "action": "start", "data": {}, "next_action": "v"},
            {"id": "v", "action": "flow_var", "data": {"x": "${sum([i * i for i in range(20000)])}"}, "next_action": null}
        ]}),
    );
    root
}

#[test]
fn cpu_bound_runs_stop_at_their_limit_while_ping_stays_fast() {
    // Before: the run's future never yielded, so `max_seconds: 2` ran for minutes and two such
    // requests held both worker threads (`/_engine/ping` took 19 s).
    let root = cpu_workspace(2);
    let server = start_in(&root, "127.0.0.1", &[]);
    rt().block_on(async {
        let c = support::client(60);
        let burn = format!("{}/cpu/burn", server.base);
        let started = Instant::now();
        let runs = tokio::spawn({
            let (c, burn) = (c.clone(), burn.clone());
            async move {
                let a = c.get(&burn).header("x-flowyt-debug", "true").send();
                let b = c.get(&burn).header("x-flowyt-debug", "true").send();
                let (a, b) = tokio::join!(a, b);
                let mut out = Vec::new();
                for r in [a, b] {
                    let r = r.expect("the run answers");
                    out.push((r.status().as_u16(), r.text().await.unwrap_or_default()));
                }
                out
            }
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut slowest = Duration::ZERO;
        for _ in 0..5 {
            let t = Instant::now();
            let r = c
                .get(format!("{}/_engine/ping", server.base))
                .send()
                .await
                .expect("ping answers");
            assert_eq!(r.status(), 200);
            slowest = slowest.max(t.elapsed());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let answers = runs.await.expect("runs task");
        let took = started.elapsed();
        for (status, body) in &answers {
            assert_eq!(*status, 500, "{body}");
            // Stopped between two actions, or inside an expression's evaluation.
            assert!(
                body.contains("the run took longer than the limit of 2 seconds")
                    || body.contains("the run's time limit was reached"),
                "{body}"
            );
        }
        // Generous bounds that the old behaviour missed by an order of magnitude: this is a
        // liveness check, not a benchmark.
        assert!(slowest < Duration::from_secs(2), "ping took {slowest:?}");
        assert!(took < Duration::from_secs(15), "the runs took {took:?}");
    });
    drop(server);
    let _ = std::fs::remove_dir_all(root);
}
