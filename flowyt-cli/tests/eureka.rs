//! `flowyt serve` as the Eureka registry: two real Python services register through the real
//! `py_eureka_client` (as in the seed), a flow calls them as `service://USERS/...`, round-robin;
//! a killed instance is failed over and then expires; a stopped one unregisters.
//!
//! Needs `python3` with `py_eureka_client` (`python3 -m pip install py_eureka_client`); `.ci/run`
//! installs it. `FLOWYT_PYTHON` names another interpreter.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn python() -> String {
    std::env::var("FLOWYT_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A child process killed (and reaped) when the test ends, however it ends.
struct Proc {
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits (bounded) for the process to exit by itself.
    fn terminate(&mut self, within: Duration) -> bool {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + within;
        while sent && Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

fn flowyt(dir: &Path, port: u16, root: &Path) -> Proc {
    let log = root.join("flowyt.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowyt"))
        .arg("serve")
        .arg(dir)
        .args(["--port", &port.to_string(), "--runs-db"])
        .arg(root.join("runs.sqlite"))
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("flowyt starts");
    let stdout = child.stdout.take().expect("stdout");
    let proc = Proc { child, log };
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        if line.expect("utf-8").contains("Running on") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    proc
}

fn users_service(eureka: &str, port: u16, name: &str, root: &Path) -> Proc {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/users_service.py");
    let log = root.join(format!("{name}.log"));
    let child = Command::new(python())
        .arg(script)
        .args([eureka, &port.to_string(), name])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("python3 starts");
    Proc { child, log }
}

async fn get(client: &reqwest::Client, url: &str, accept_json: bool) -> (u16, Value) {
    let mut req = client.get(url);
    if accept_json {
        req = req.header("accept", "application/json");
    }
    match req.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        }
        Err(e) => (0, Value::String(e.to_string())),
    }
}

/// Polls `probe` every 200 ms until it returns `Some`, for at most `within`.
async fn until<T, F, Fut>(within: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The instance ids the registry holds for USERS (empty when none).
async fn registered(client: &reqwest::Client, base: &str) -> Vec<String> {
    let (status, body) = get(client, &format!("{base}/eureka/apps/USERS"), true).await;
    if status != 200 {
        return Vec::new();
    }
    body["application"]["instance"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|i| i["instanceId"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn python_services_register_with_flowyt_and_flows_call_them_by_name() {
    let import = Command::new(python())
        .args(["-c", "import py_eureka_client"])
        .output();
    assert!(
        import.as_ref().is_ok_and(|o| o.status.success()),
        "this test needs py_eureka_client: run `{} -m pip install py_eureka_client` ({import:?})",
        python()
    );
    let _engine = flowyt_runtime::Engine::new().expect("engine");

    let root = std::env::temp_dir().join(format!("flowyt-eureka-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let ws = root.join("workspaces/demo");
    std::fs::create_dir_all(ws.join("flows")).expect("mkdir");
    std::fs::create_dir_all(ws.join("config")).expect("mkdir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    std::fs::write(
        ws.join("config/settings.json"),
        json!({"registry": {"eureka": format!("{base}/eureka"), "refresh": 1}}).to_string(),
    )
    .expect("write");
    std::fs::write(
        ws.join("routes.json"),
        r#"[{"method": "get", "path": "/usuario", "flow": "usuario"}]"#,
    )
    .expect("write");
    std::fs::write(
        ws.join("flows/usuario.json"),
        r#"{"pipeline": [
            {"id": "busca", "action": "request", "data": {"url": "service://USERS/usuarios/1", "next_action_success": "ok", "next_action_fail": "ko"}, "next_action": "${pipeline.next_action}"},
            {"id": "ok", "action": "response", "data": {"data": "${response.data}", "status": 200}, "next_action": null},
            {"id": "ko", "action": "response", "data": {"data": "${response.data}", "status": 502}, "next_action": null}]}"#,
    )
    .expect("write");
    let server = flowyt(&root.join("workspaces"), port, &root);

    // The services use the seed's `/eureka/v2` path; flowyt's own discovery uses `/eureka`.
    let eureka = format!("{base}/eureka/v2");
    let (pa, pb) = (free_port(), free_port());
    let mut a = users_service(&eureka, pa, "a", &root);
    let mut b = users_service(&eureka, pb, "b", &root);
    let logs = |a: &Proc, b: &Proc| {
        format!(
            "\n--- flowyt ---\n{}\n--- a ---\n{}\n--- b ---\n{}",
            server.log(),
            a.log(),
            b.log()
        )
    };

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let client = flowyt_runtime::http_client_builder()
        .expect("TLS configuration")
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let c = &client;
    let flow = format!("{base}/demo/usuario");
    let flow = flow.as_str();

    let ids = rt.block_on(until(Duration::from_secs(30), "both registrations", || {
        let base = base.clone();
        let running = a.child.try_wait().ok().flatten().is_none()
            && b.child.try_wait().ok().flatten().is_none();
        async move {
            assert!(running, "a Python service exited");
            let ids = registered(c, &base).await;
            (ids.len() == 2).then_some(ids)
        }
    }));
    assert_eq!(
        ids,
        [
            format!("127.0.0.1:users:{}", pa.min(pb)),
            format!("127.0.0.1:users:{}", pa.max(pb))
        ],
        "{}",
        logs(&a, &b)
    );

    rt.block_on(async {
        // Balanced round-robin across the two Python instances.
        let mut seen = Vec::new();
        for _ in 0..4 {
            let (status, body) = get(c, flow, false).await;
            assert_eq!(status, 200, "{body}{}", logs(&a, &b));
            assert_eq!(body["usuario"]["nome"], "Alice");
            seen.push(body["instancia"].as_str().unwrap_or_default().to_string());
        }
        assert_ne!(seen[0], seen[1], "{seen:?}");
        assert_eq!((&seen[0], &seen[1]), (&seen[2], &seen[3]), "{seen:?}");

        // The Python client's own discovery (XML full fetch, then deltas) sees both instances.
        let (_, found) = get(c, &format!("http://127.0.0.1:{pa}/_discovered"), false).await;
        let discovered = until(
            Duration::from_secs(15),
            "py_eureka_client to see both",
            || async move {
                let (_, v) = get(c, &format!("http://127.0.0.1:{pa}/_discovered"), false).await;
                (v["USERS"] == 2).then_some(v)
            },
        )
        .await;
        assert_eq!(discovered, json!({"USERS": 2}), "first saw {found}");
    });

    // Killed without unregistering: calls fail over to the live instance at once...
    b.kill();
    rt.block_on(async {
        for _ in 0..4 {
            let (status, body) = get(c, flow, false).await;
            assert_eq!(
                (status, &body["instancia"]),
                (200, &json!("a")),
                "{body}{}",
                logs(&a, &b)
            );
        }
        // ...and its lease (3 s) expires: the registry drops it.
        let left = until(
            Duration::from_secs(20),
            "the lease of `b` to expire",
            || {
                let base = base.clone();
                async move {
                    let ids = registered(c, &base).await;
                    (ids.len() == 1).then_some(ids)
                }
            },
        )
        .await;
        assert_eq!(left, [format!("127.0.0.1:users:{pa}")]);
        let (status, body) = get(c, flow, false).await;
        assert_eq!((status, &body["instancia"]), (200, &json!("a")), "{body}");
    });

    // A service stopped gracefully unregisters itself (status DOWN, then cancel).
    assert!(
        a.terminate(Duration::from_secs(15)),
        "`a` did not stop{}",
        logs(&a, &b)
    );
    rt.block_on(async {
        let (status, body) = get(c, &format!("{base}/eureka/apps/USERS"), true).await;
        assert_eq!(status, 404, "{body}");
        until(
            Duration::from_secs(5),
            "the flow to see no instance",
            || async move {
                let (status, body) = get(c, flow, false).await;
                (status == 502 && body["message"] == "service `USERS` is not registered")
                    .then_some(())
            },
        )
        .await;
    });
    drop(server);
    let _ = std::fs::remove_dir_all(&root);
}
