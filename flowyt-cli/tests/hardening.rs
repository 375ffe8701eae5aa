//! Publishing and connections under attack (issue: hardening): each test reproduces a finding
//! of the security review against a real `flowyt serve` process and asserts the fix.

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod support;
use support::{Server, rt, start_with, workspace_files, zip_of};

/// An empty served folder of its own, removed when dropped.
struct Folder(PathBuf);

impl Folder {
    fn new(tag: &str) -> Folder {
        let root =
            std::env::temp_dir().join(format!("flowyt-hardening-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let served = root.join("served");
        std::fs::create_dir_all(&served).expect("served folder");
        Folder(root)
    }

    fn served(&self) -> PathBuf {
        self.0.join("served")
    }

    /// Writes a workspace folder `name` from `workspace_files`.
    fn put(&self, name: &str, files: &[(&str, String)]) {
        for (path, content) in files {
            let path = self.served().join(name).join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, content).expect("write");
        }
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn client() -> reqwest::Client {
    support::client(20)
}

async fn publish(base: &str, file_name: &str, files: &[(&str, String)]) -> (u16, Value) {
    let files: Vec<(&str, &str)> = files.iter().map(|(p, c)| (*p, c.as_str())).collect();
    let part = reqwest::multipart::Part::bytes(zip_of(&files)).file_name(file_name.to_string());
    let form = reqwest::multipart::Form::new().part("workpace_zip_file", part);
    let r = client()
        .post(format!("{base}/_engine/publish"))
        .multipart(form)
        .send()
        .await
        .expect("answer");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn get(base: &str, path: &str) -> (u16, Value) {
    let r = client()
        .get(format!("{base}{path}"))
        .send()
        .await
        .expect("answer");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn serve(folder: &Folder, args: &[&str], envs: &[(&str, &str)]) -> Server {
    start_with(&folder.served(), "127.0.0.1", args, envs)
}

const READS_ENV: &str = r#"{"name": "leaky", "env": {"v": "${env('FLOWYT_TEST_DB_PASSWORD')}"}}"#;

#[test]
fn published_workspaces_read_no_environment_variable_unless_the_operator_allows_it() {
    // Before: anyone who could publish read any variable of the server's process and served it
    // back through a route.
    let folder = Folder::new("env");
    folder.put("local", &workspace_files(READS_ENV, r#""${env.v}""#));
    let secret_env = [("FLOWYT_TEST_DB_PASSWORD", "hunter2")];
    let server = serve(&folder, &[], &secret_env);
    rt().block_on(async {
        // A workspace the operator put on disk keeps reading its variables.
        assert_eq!(
            get(&server.base, "/local/hi").await,
            (200, json!("hunter2"))
        );
        let (status, body) = publish(
            &server.base,
            "leak.zip",
            &workspace_files(READS_ENV, r#""${env.v}""#),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        let diagnostics = body["diagnostics"].as_str().unwrap_or_default();
        assert!(
            diagnostics.contains(
                "reads environment variables this server does not allow: `FLOWYT_TEST_DB_PASSWORD`"
            ) && diagnostics.contains("FLOWYT_ENV_ALLOW"),
            "{body}"
        );
        assert!(!body.to_string().contains("hunter2"), "{body}");
        assert_eq!(get(&server.base, "/leak/hi").await.0, 404);
    });
    drop(server);

    // The operator allows a prefix: published workspaces read those, and never the secret.
    let allow = [
        ("FLOWYT_TEST_DB_PASSWORD", "hunter2"),
        ("FLOWYT_ENV_ALLOW", "FLOWYT_TEST_*"),
        ("APP_SECRET_KEY", "tok"),
    ];
    let server = serve(&folder, &[], &allow);
    rt().block_on(async {
        let c = client();
        let files = workspace_files(READS_ENV, r#""${env.v}""#);
        let files: Vec<(&str, &str)> = files.iter().map(|(p, c)| (*p, c.as_str())).collect();
        let up = |name: &str, zip: Vec<u8>| {
            let part = reqwest::multipart::Part::bytes(zip).file_name(name.to_string());
            c.post(format!("{}/_engine/publish", server.base))
                .header("X-Flowyt-Token", "tok")
                .multipart(reqwest::multipart::Form::new().part("workpace_zip_file", part))
                .send()
        };
        let r = up("allowed.zip", zip_of(&files)).await.expect("answer");
        assert_eq!(r.status(), 200);
        assert_eq!(
            get(&server.base, "/allowed/hi").await,
            (200, json!("hunter2"))
        );
        let secret = workspace_files(
            r#"{"env": {"v": "${env('APP_SECRET_KEY')}"}}"#,
            r#""${env.v}""#,
        );
        let secret: Vec<(&str, &str)> = secret.iter().map(|(p, c)| (*p, c.as_str())).collect();
        let r = up("thief.zip", zip_of(&secret)).await.expect("answer");
        assert_eq!(r.status(), 400);
        let body: Value = r.json().await.unwrap_or_default();
        assert!(
            body["diagnostics"]
                .as_str()
                .unwrap_or_default()
                .contains("settings may not read `APP_SECRET_KEY`"),
            "{body}"
        );
        assert!(!body.to_string().contains("\"tok\""), "{body}");
    });
}

#[test]
fn reserved_names_quota_staging_and_relative_diagnostics() {
    // Before: a workspace could be named `_engine`; there was no disk quota; uploads were
    // unpacked inside the served folder (a concurrent reload served them) and diagnostics
    // showed the server's absolute paths.
    let folder = Folder::new("publish");
    folder.put("home", &workspace_files("{}", "1"));
    let server = serve(&folder, &["--publish-quota", "40000"], &[]);
    let base = server.base.clone();
    rt().block_on(async {
        for name in [
            "_engine",
            "_workspaces",
            "_console",
            "eureka",
            "metrics",
            "_x",
        ] {
            let (status, body) =
                publish(&base, &format!("{name}.zip"), &workspace_files("{}", "1")).await;
            assert_eq!(status, 400, "{name}: {body}");
            assert!(
                body["msg"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("is reserved"),
                "{name}: {body}"
            );
        }
        // Over the quota: refused, nothing served, nothing left on disk.
        let big = format!("\"{}\"", "x".repeat(50_000));
        let (status, body) = publish(&base, "big.zip", &workspace_files("{}", &big)).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["msg"].as_str().unwrap_or_default().contains("bytes"),
            "{body}"
        );
        assert_eq!(get(&base, "/big/hi").await.0, 404);

        // Diagnostics name files inside the workspace, not the server's folders.
        let mut broken = workspace_files("{}", "1");
        broken[2].1 = "{\"pipeline\": [".into();
        let (status, body) = publish(&base, "broken.zip", &broken).await;
        assert_eq!(status, 400, "{body}");
        let diagnostics = body["diagnostics"].as_str().unwrap_or_default();
        assert!(
            diagnostics.starts_with("broken/flows/hi.json:1:"),
            "{diagnostics}"
        );
        assert!(
            !diagnostics.contains(&*folder.0.to_string_lossy()),
            "{diagnostics}"
        );
        assert!(!diagnostics.contains("/tmp"), "{diagnostics}");

        // Publishes racing reloads: every listing shows only real workspaces.
        let c = client();
        let mut tasks = Vec::new();
        for i in 0..6 {
            let base = base.clone();
            tasks.push(tokio::spawn(async move {
                publish(
                    &base,
                    &format!("w{i}.zip"),
                    &workspace_files("{}", &i.to_string()),
                )
                .await
            }));
        }
        for _ in 0..6 {
            let r = c
                .post(format!("{base}/_engine/reload"))
                .send()
                .await
                .expect("reload answers");
            let body: Value = r.json().await.unwrap_or_default();
            for name in body["workspaces"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap_or_default();
                assert!(
                    name == "home" || (name.len() == 2 && name.starts_with('w')),
                    "served a workspace named {name}: {body}"
                );
            }
        }
        for t in tasks {
            assert_eq!(t.await.expect("publish task").0, 200);
        }
        for i in 0..6 {
            assert_eq!(get(&base, &format!("/w{i}/hi")).await, (200, json!(i)));
        }
    });
    // Staging happened beside the served folder, and left nothing behind in it.
    let served: Vec<String> = std::fs::read_dir(folder.served())
        .expect("served folder")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        served.iter().all(|n| n == "home" || n.starts_with('w')),
        "{served:?}"
    );
    drop(server);
}

/// Reads from `stream` until the server closes it, or `limit` passes. Returns how long it took.
fn closed_within(mut stream: TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).expect("read timeout");
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(started.elapsed());
            }
            Err(_) => return None,
        }
    }
}

fn addr(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_string()
}

#[test]
fn slowloris_and_idle_connections_are_closed_after_the_header_timeout() {
    // Before: half-sent headers and silent connections stayed open for minutes.
    let folder = Folder::new("slow");
    folder.put("home", &workspace_files("{}", "1"));
    let server = serve(&folder, &["--header-timeout", "1"], &[]);
    let mut slow = TcpStream::connect(addr(&server)).expect("connect");
    slow.write_all(b"GET /home/hi HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .expect("half a request");
    let idle = TcpStream::connect(addr(&server)).expect("connect");
    // Generous bounds: the point is that they close at all, long before minutes.
    let took = closed_within(slow, Duration::from_secs(10)).expect("slowloris closed");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(
        closed_within(idle, Duration::from_secs(10)).is_some(),
        "idle connection closed"
    );
    // A normal client is served as before.
    let mut ok = TcpStream::connect(addr(&server)).expect("connect");
    ok.write_all(b"GET /home/hi HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .expect("request");
    let mut answer = String::new();
    ok.read_to_string(&mut answer).expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn past_the_connection_cap_new_clients_wait_and_the_server_says_so() {
    // Before: 1,100 idle connections exhausted the file descriptors.
    let folder = Folder::new("cap");
    folder.put("home", &workspace_files("{}", "1"));
    let server = serve(
        &folder,
        &["--max-connections", "3", "--header-timeout", "30"],
        &[],
    );
    // The start-up probe's connection may still hold a slot for a moment.
    std::thread::sleep(Duration::from_millis(300));
    let hogs: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(addr(&server)).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let waiting = std::thread::spawn({
        let addr = addr(&server);
        move || {
            let mut s = TcpStream::connect(&addr).expect("the kernel accepts into the backlog");
            s.write_all(b"GET /home/hi HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .expect("request");
            let mut answer = String::new();
            s.read_to_string(&mut answer).expect("answer");
            answer
        }
    });
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        !waiting.is_finished(),
        "a fourth connection was served past the cap of 3"
    );
    let log = std::fs::read_to_string(&server.stderr).unwrap_or_default();
    assert!(log.contains("connection limit reached"), "{log}");
    drop(hogs);
    let answer = waiting.join().expect("client thread");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn bad_connection_settings_are_refused_at_start() {
    let folder = Folder::new("flags");
    folder.put("home", &workspace_files("{}", "1"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flowyt"))
        .arg("serve")
        .arg(folder.served())
        .args(["--port", "0", "--header-timeout", "0"])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .expect("flowyt runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--header-timeout must be a positive number of seconds"),
        "{err}"
    );
}

#[test]
fn one_client_cannot_fill_the_registry() {
    // Before: 1,000 junk registrations from one client locked real services out for an hour.
    let folder = Folder::new("registry");
    folder.put("home", &workspace_files("{}", "1"));
    let server = serve(&folder, &[], &[]);
    rt().block_on(async {
        let c = client();
        let mut last = 0;
        for i in 0..101 {
            let app = format!("JUNK{}", i % 3);
            let instance = json!({"instance": {
                "instanceId": format!("junk-{i}"), "hostName": "evil", "app": app, "ipAddr": "127.0.0.1",
                "status": "UP", "port": {"$": 9, "@enabled": "true"},
                "dataCenterInfo": {"@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "name": "MyOwn"}
            }});
            let r = c
                .post(format!("{}/eureka/apps/{app}", server.base))
                .json(&instance)
                .send()
                .await
                .expect("answer");
            last = r.status().as_u16();
            if i < 100 {
                assert_eq!(last, 204, "registration {i}");
            }
        }
        assert_eq!(last, 429, "the 101st registration from one client is refused");
    });
}

/// `--log-format json`: every line of the log is one JSON object with a timestamp, a level, a
/// target and a message; a run's lines carry its workspace, flow and run id.
#[test]
fn json_logs_are_one_object_per_line() {
    let server = start_with(
        Path::new("examples/workspaces"),
        "127.0.0.1",
        &["--log-format", "json"],
        &[("RUST_LOG", "info")],
    );
    let rt = rt();
    rt.block_on(async {
        let http = support::client(10);
        let queued: serde_json::Value = http
            .post(format!(
                "{}/_workspaces/github/flows/stars/runs",
                server.base
            ))
            .json(&serde_json::json!({"run_id": "logged"}))
            .send()
            .await
            .expect("trigger")
            .json()
            .await
            .expect("json");
        assert_eq!(queued["run_id"], "logged");
        for _ in 0..100 {
            let log = std::fs::read_to_string(&server.stderr).unwrap_or_default();
            if log.contains("run ended") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let log = std::fs::read_to_string(&server.stderr).expect("log");
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(!lines.is_empty());
    for line in &lines {
        for key in ["timestamp", "level", "target"] {
            assert!(line.get(key).is_some(), "no `{key}` in {line}");
        }
    }
    let ended = lines
        .iter()
        .find(|l| l["message"] == "run ended")
        .unwrap_or_else(|| panic!("no `run ended` line in {log}"));
    assert_eq!(
        (
            ended["workspace"].clone(),
            ended["flow"].clone(),
            ended["run_id"].clone()
        ),
        (
            serde_json::json!("github"),
            serde_json::json!("stars"),
            serde_json::json!("logged")
        )
    );
}
