//! The seed's demo, end to end: `flowyt serve` (registry + the orchestrating flow) as a real
//! process, the users and messages services registering themselves with it, and the flow
//! triggered with its typed `usuario_id` param from Rust, over HTTP and from the CLI.

use example_demo_services::Services;
use flowyt_runtime::runs::{ClientError, RunsClient};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_seed_demo_runs_on_flowyt() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let db = std::env::temp_dir().join(format!("flowyt-demo-{}.sqlite", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowyt"))
        .args([
            "serve",
            "examples/demo/workspaces",
            "--port",
            &port.to_string(),
            "--runs-db",
            db.to_str().expect("utf-8"),
        ])
        .current_dir(&repo)
        .env("FLOWYT_REGISTRY", format!("{base}/eureka"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("flowyt starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    for line in lines.by_ref() {
        if line.expect("utf-8").contains("Running on") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let _server = Server(child);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("rt");
    let sent = rt.block_on(async {
        let services = Services::start(&format!("{base}/eureka"))
            .await
            .expect("the services register");
        let client = RunsClient::new(&base, None).expect("client");

        // Triggered, as Airflow's trigger_dag did.
        let id = client
            .trigger("demo", "notify_user", json!({"usuario_id": 1}), None)
            .await
            .expect("accepted");
        let run = client
            .wait("demo", "notify_user", &id, Duration::from_secs(20))
            .await
            .expect("finishes");
        assert_eq!(run["status"], "success", "{run}");
        assert_eq!(run["result"]["status"], 201);
        assert_eq!(run["result"]["data"]["usuario"]["nome"], "Ana");
        assert_eq!(run["result"]["data"]["mensagem"]["para"], "ana@example.com");

        // A bad param is refused before anything runs.
        match client
            .trigger("demo", "notify_user", json!({"usuario_id": 0}), None)
            .await
        {
            Err(ClientError::Refused(400, body)) => assert_eq!(body["param"], "usuario_id"),
            other => panic!("expected a 400, got {other:?}"),
        }

        // An unknown user: the flow answers 404 and the run is recorded as failed.
        let id = client
            .trigger("demo", "notify_user", json!({"usuario_id": 99}), None)
            .await
            .expect("accepted");
        let run = client
            .wait("demo", "notify_user", &id, Duration::from_secs(20))
            .await
            .expect("finishes");
        assert_eq!(
            (run["status"].as_str(), run["result"]["status"].as_u64()),
            (Some("failed"), Some(404)),
            "{run}"
        );

        // The same flow over HTTP, as a route of the workspace.
        let http = flowyt_runtime::http_client().expect("client");
        let r = http
            .post(format!("{base}/demo/notify"))
            .json(&json!({"usuario_id": 2}))
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status().as_u16(), 201);
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["mensagem"]["para"], "bruno@example.com");
        let sent = services.sent.lock().map(|s| s.len()).unwrap_or(0);
        services.deregister().await;
        sent
    });
    assert_eq!(sent, 2, "Ana's and Bruno's messages were sent");
    let _ = std::fs::remove_file(&db);
}
