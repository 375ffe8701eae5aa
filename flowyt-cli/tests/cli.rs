//! The `flowyt` binary as a real process: `serve` on a free port called with a real HTTP client,
//! and `check` on the example and on the legacy corpus.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod support;
use support::{free_port, rt, workspace_files, zip_of};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `flowyt serve ARGS --port PORT` in the repository with `envs` (and a throwaway run
/// history), waits for its banner, and returns the server with the banner lines.
fn start(args: &[&str], envs: &[(&str, &str)], port: u16) -> (Server, Vec<String>) {
    let db = std::env::temp_dir().join(format!(
        "flowyt-cli-test-{}-{port}.sqlite",
        std::process::id()
    ));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowyt"));
    cmd.arg("serve")
        .args(args)
        .args(["--port", &port.to_string()]);
    if !args.contains(&"--runs-db") {
        cmd.args(["--runs-db", db.to_str().expect("utf-8")]);
    }
    cmd.current_dir(repo())
        .env_remove("FLOWYT_STORE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("flowyt starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut banner = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("utf-8");
        banner.push(line.clone());
        if line.contains("Running on") {
            break;
        }
    }
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    (server, banner)
}

/// Starts `flowyt serve examples/workspaces` and checks its banner.
fn serve() -> Server {
    let port = free_port();
    let api = format!("http://127.0.0.1:{port}/fake-github");
    let (server, banner) = start(&["examples/workspaces"], &[("GITHUB_API", &api)], port);
    assert!(
        banner.iter().any(|l| l.contains(&format!(
            "Check available routes at http://127.0.0.1:{port}/_workspaces/routes"
        ))),
        "banner: {banner:?}"
    );
    server
}

fn get(url: &str) -> (u16, Value) {
    let rt = rt();
    rt.block_on(async {
        let client = support::client(10);
        let r = client.get(url).send().await.expect("server answers");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    })
}

#[test]
fn serve_runs_the_example_end_to_end() {
    // reqwest here needs a crypto provider; building an engine installs one.
    let _engine = flowyt_runtime::Engine::new().expect("engine");
    let server = serve();
    let b = &server.base;
    assert_eq!(
        get(&format!("{b}/github/getReposByUser?user=octocat")),
        (
            201,
            json!([{"name": "octocat/flowyt", "stars": 42}, {"name": "octocat/orchestra", "stars": 7}])
        )
    );
    assert_eq!(
        get(&format!("{b}/github/getReposByUser?user=nobody")),
        (
            400,
            json!({"msg": "Something went wrong", "data": {"message": "Not Found"}})
        )
    );
    let (status, routes) = get(&format!("{b}/_workspaces/routes"));
    assert_eq!(status, 200);
    // The GitHub example's two; the shop example (the API-contracts one) has its own.
    let github: Vec<&Value> = routes
        .as_array()
        .expect("a list")
        .iter()
        .filter(|r| r["workspace"] != "shop")
        .collect();
    assert!(routes.as_array().is_some_and(|r| r.len() > github.len()));
    assert_eq!(
        json!(github),
        json!([
            {"path": "/fake-github/users/<string:user>/repos", "methods": ["GET"], "workspace": "fake-github", "flow": "repos", "subdomain": null},
            {"path": "/github/getReposByUser", "methods": ["GET"], "workspace": "github", "flow": "search", "subdomain": null}
        ])
    );
    assert_eq!(get(&format!("{b}/_engine/routes")).1, routes);
    assert_eq!(get(&format!("{b}/_engine/ping")).1["msg"], "It's all good!");
    assert_eq!(get(&format!("{b}/nope/x")).0, 404);
}

#[test]
fn serve_stops_gracefully_on_sigterm() {
    let mut server = serve();
    let pid = server.child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = server.child.wait().expect("exits");
    assert!(status.success(), "{status:?}");
}

fn check(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_flowyt"))
        .arg("check")
        .args(args)
        .current_dir(repo())
        .output()
        .expect("flowyt runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn check_passes_on_the_example() {
    let (code, out) = check(&["examples/workspaces"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "checked 3: 0 errors, 0 warnings\n")
    );
}

#[test]
fn check_fails_on_a_dangling_id_with_its_location() {
    let corpus = repo().join("fixtures/legacy/flowyt-engine/docs/examples/workspaces/example");
    let (code, out) = check(&[corpus.to_str().expect("utf-8 path")]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error[dangling-next]: `next_action` points to unknown action `2`"),
        "{out}"
    );
    assert!(out.contains("flows/example.json:9:28"), "{out}");
    assert!(out.ends_with("checked 1: 1 errors, 0 warnings\n"), "{out}");
}

#[test]
fn routes_listing_needs_the_token_when_a_secret_is_set() {
    let _engine = flowyt_runtime::Engine::new().expect("engine");
    let (server, _) = start(
        &["examples/workspaces"],
        &[("APP_SECRET_KEY", "s3cret")],
        free_port(),
    );
    let rt = rt();
    let (denied, allowed, legacy) = rt.block_on(async {
        let client = support::client(10);
        let url = format!("{}/_workspaces/routes", server.base);
        let denied = client.get(&url).send().await.expect("answer");
        let allowed = client
            .get(&url)
            .header("X-Flowyt-Token", "s3cret")
            .send()
            .await
            .expect("answer");
        let legacy = client
            .get(&url)
            .header("X-Orchestryzi-Token", "s3cret")
            .send()
            .await
            .expect("answer");
        (
            (
                denied.status().as_u16(),
                denied.json::<Value>().await.unwrap_or_default(),
            ),
            allowed.status().as_u16(),
            legacy.status().as_u16(),
        )
    });
    assert_eq!(
        denied,
        (
            401,
            json!({"msg": "You are not authorized to perform this action"})
        )
    );
    assert_eq!((allowed, legacy), (200, 200));
}

#[test]
fn serve_refuses_a_folder_without_workspaces() {
    let out = Command::new(env!("CARGO_BIN_EXE_flowyt"))
        .args(["serve", "flowyt-cli", "--port", "0"])
        .current_dir(repo())
        .output()
        .expect("flowyt runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no workspace to serve"));
}

fn flowyt(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_flowyt"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("flowyt runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn run_prints_the_response_of_one_run() {
    let (code, out, err) = flowyt(&["run", "examples/workspaces/fake-github/flows/repos.json"]);
    // The stand-in needs a path parameter the CLI cannot give: a clean failure naming it.
    assert_eq!(code, 1);
    assert!(
        err.contains("`request.params.user` is missing in action `repos`"),
        "{err}"
    );
    assert!(out.is_empty());

    let dir = std::env::temp_dir().join(format!("flowyt-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let flow = dir.join("hello.json");
    std::fs::write(
        &flow,
        r#"{"pipeline": [
            {"id": "v", "action": "validation", "data": {"schema": {"name": {"type": "string", "required": true}}, "next_action_success": "ok"}, "next_action": "${pipeline.next_action}"},
            {"id": "ok", "action": "response", "data": {"status": 201, "data": {"hello": "${request.data.name}", "q": "${request.qs.x}", "h": "${request.headers.x_api_key}"}}, "next_action": null}
        ]}"#,
    )
    .expect("write");
    let path = flow.to_str().expect("utf-8");
    let (code, out, err) = flowyt(&[
        "run",
        path,
        "--method",
        "post",
        "--body",
        r#"{"name": "Ana"}"#,
        "-q",
        "x=1",
        "-H",
        "X-Api-Key=k",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("status: 201"), "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).ok(),
        Some(json!({"hello": "Ana", "q": "1", "h": "k"}))
    );

    let (code, out, err) = flowyt(&["run", path, "--body", r#"{"nam": "Ana"}"#]);
    assert_eq!(code, 0);
    assert!(err.contains("status: 400"));
    assert_eq!(
        serde_json::from_str::<Value>(&out).ok(),
        Some(json!({"errors": {"nam": ["unknown field"], "name": ["required field"]}}))
    );

    let (code, _, err) = flowyt(&["run", path, "--body", "{bad"]);
    assert_eq!(code, 2);
    assert!(err.contains("--body is not valid JSON"), "{err}");

    let (code, _, err) = flowyt(&["run", path, "--debug", "--body", r#"{"name": "x"}"#]);
    assert_eq!(code, 0);
    assert!(
        err.contains("\"name\": \"validation\""),
        "the trace lists the actions: {err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn graph_draws_labelled_edges() {
    let (code, out, _) = flowyt(&["graph", "examples/workspaces/github/flows/search.json"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("flowchart TD\n"));
    for line in [
        "a2[\"3: request\"]",
        "a2 -->|success| a3",
        "a2 -->|fail| a5",
        "a4 -.->|jump| flow_6d696e696e67",
        "flow_6d696e696e67[[\"flow mining\"]]",
    ] {
        assert!(out.contains(line), "missing `{line}` in\n{out}");
    }
    let (code, out, _) = flowyt(&[
        "graph",
        "examples/workspaces/fake-github/flows/repos.json",
        "--format",
        "dot",
    ]);
    assert_eq!(code, 0);
    assert!(out.starts_with("digraph flow {"));
    assert!(
        out.contains("a1 -> a3 [label=\"${request.params.user} equal nobody\"];"),
        "{out}"
    );
    assert!(out.contains("a1 -> a2 [label=\"else\"];"), "{out}");
}

#[test]
fn check_speaks_json_for_tools() {
    let corpus = repo().join("fixtures/legacy/flowyt-engine/docs/examples/workspaces/example");
    let (code, out, _) = flowyt(&["check", "--format", "json", corpus.to_str().expect("utf-8")]);
    assert_eq!(code, 1);
    let doc: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        (doc["errors"].as_u64(), doc["warnings"].as_u64()),
        (Some(1), Some(0))
    );
    let d = &doc["diagnostics"][0];
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64(), d["code"].as_str()),
        (Some(9), Some(28), Some("dangling-next"))
    );
}

#[test]
fn human_check_output_shows_the_source_line_and_a_caret() {
    let corpus = repo().join("fixtures/legacy/flowyt-engine/docs/examples/workspaces/example");
    let (_, out, _) = flowyt(&["check", corpus.to_str().expect("utf-8")]);
    assert!(
        out.contains("error[dangling-next]: `next_action` points to unknown action `2`"),
        "{out}"
    );
    assert!(
        out.contains("9 │             \"next_action\": \"2\""),
        "{out}"
    );
    assert!(out.contains("^^^"), "{out}");
}

fn hello_workspace(body: &str) -> Vec<(&'static str, String)> {
    workspace_files(r#"{"name": "hello"}"#, body)
}

#[test]
fn publish_and_reload_swap_workspaces_and_refuse_bad_ones() {
    let _engine = flowyt_runtime::Engine::new().expect("engine");
    let dir = std::env::temp_dir().join(format!("flowyt-publish-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for ws in ["github", "fake-github"] {
        for entry in ["config/settings.json", "routes.json"] {
            let from = repo().join("examples/workspaces").join(ws).join(entry);
            let to = dir.join(ws).join(entry);
            std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
            std::fs::copy(from, to).expect("copy");
        }
        let flows = repo().join("examples/workspaces").join(ws).join("flows");
        std::fs::create_dir_all(dir.join(ws).join("flows")).expect("mkdir");
        for f in std::fs::read_dir(flows).expect("flows") {
            let f = f.expect("entry").path();
            std::fs::copy(
                &f,
                dir.join(ws)
                    .join("flows")
                    .join(f.file_name().expect("name")),
            )
            .expect("copy");
        }
    }
    let (server, _) = start(
        &[dir.to_str().expect("utf-8")],
        &[("APP_SECRET_KEY", "tok")],
        free_port(),
    );
    let base = server.base.clone();
    let rt = rt();
    rt.block_on(async {
        let client = support::client(10);
        let publish = |name: &str, zip: Vec<u8>, token: Option<&str>| {
            let part = reqwest::multipart::Part::bytes(zip).file_name(name.to_string());
            let form = reqwest::multipart::Form::new().part("workpace_zip_file", part);
            let mut req = client.post(format!("{base}/_engine/publish")).multipart(form);
            if let Some(t) = token {
                req = req.header("X-Flowyt-Token", t);
            }
            async move {
                let r = req.send().await.expect("answer");
                (r.status().as_u16(), r.json::<Value>().await.unwrap_or_default())
            }
        };
        let get = |path: &str| {
            let req = client.get(format!("{base}{path}")).header("X-Flowyt-Token", "tok");
            async move {
                let r = req.send().await.expect("answer");
                (r.status().as_u16(), r.json::<Value>().await.unwrap_or_default())
            }
        };
        let reload = || {
            let req = client.post(format!("{base}/_engine/reload")).header("X-Flowyt-Token", "tok");
            async move {
                let r = req.send().await.expect("answer");
                (r.status().as_u16(), r.json::<Value>().await.unwrap_or_default())
            }
        };
        let files = hello_workspace(r#"{"hi": 1}"#);
        let files: Vec<(&str, &str)> = files.iter().map(|(p, c)| (*p, c.as_str())).collect();

        assert_eq!(publish("hello.zip", zip_of(&files), None).await.0, 401);
        assert_eq!(get("/hello/hi").await.0, 404);
        let (status, body) = publish("hello.zip", zip_of(&files), Some("tok")).await;
        assert_eq!((status, body), (200, json!({"msg": "The workspace hello upload was completed successfully!"})));
        assert_eq!(get("/hello/hi").await, (200, json!({"hi": 1})));
        let listing = get("/_workspaces/routes").await.1;
        assert!(listing.as_array().is_some_and(|l| l.iter().any(|r| r["path"] == "/hello/hi")), "{listing}");

        // A broken upload is refused with its diagnostics; the running version stays.
        let broken = [("config/settings.json", "{}"), ("routes.json", "[]"), ("flows/hi.json", "{\"pipeline\": [")];
        let (status, body) = publish("hello.zip", zip_of(&broken), Some("tok")).await;
        assert_eq!(status, 400, "{body}");
        assert!(body["diagnostics"].as_str().unwrap_or("").contains("error[json-syntax]"), "{body}");
        assert_eq!(get("/hello/hi").await, (200, json!({"hi": 1})));

        // Hostile or malformed uploads.
        let escape = [("../evil/flows/x.json", "{}")];
        assert_eq!(publish("evil.zip", zip_of(&escape), Some("tok")).await.0, 400);
        assert!(!dir.join("../evil").exists());
        let (status, body) = publish("x.zip", b"not a zip".to_vec(), Some("tok")).await;
        assert_eq!(status, 400);
        assert!(body["msg"].as_str().unwrap_or("").starts_with("The file is not a zip"), "{body}");
        assert_eq!(publish("x.txt", zip_of(&files), Some("tok")).await.1, json!({"msg": "The file is not a zip"}));
        assert_eq!(publish("../x.zip", zip_of(&files), Some("tok")).await.0, 400);

        // Reload picks up edits on disk; a workspace that broke keeps its running version.
        std::fs::write(
            dir.join("hello/flows/hi.json"),
            r#"{"pipeline": [{"id": "1", "action": "response", "data": {"data": {"hi": 2}}, "next_action": null}]}"#,
        )
        .expect("edit");
        assert_eq!(get("/hello/hi").await, (200, json!({"hi": 1})), "loaded once, not per request");
        assert_eq!(reload().await.0, 200);
        assert_eq!(get("/hello/hi").await, (200, json!({"hi": 2})));
        std::fs::write(dir.join("hello/flows/hi.json"), "{").expect("break");
        let (status, body) = reload().await;
        assert_eq!(status, 409, "{body}");
        assert!(body["errors"]["hello"].as_str().unwrap_or("").contains("json-syntax"), "{body}");
        assert_eq!(get("/hello/hi").await, (200, json!({"hi": 2})));
        assert_eq!(client.post(format!("{base}/_engine/reload")).send().await.expect("answer").status().as_u16(), 401);
        // A state change is never a GET.
        assert_eq!(get("/_engine/reload").await.0, 405);
    });
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts `flowyt serve DIR --runs-db DB --lease 1` on a free port.
fn serve_dir(dir: &Path, db: &Path) -> Server {
    let args = [
        dir.to_str().expect("utf-8"),
        "--runs-db",
        db.to_str().expect("utf-8"),
        "--lease",
        "1",
    ];
    start(&args, &[], free_port()).0
}

#[test]
fn triggered_runs_are_validated_recorded_and_survive_a_restart() {
    let _engine = flowyt_runtime::Engine::new().expect("engine");
    // A service that accepts connections and never answers: a run calling it stays in flight.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_url = format!("http://{}/never", silent.local_addr().expect("addr"));
    let root = std::env::temp_dir().join(format!("flowyt-runs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let ws = root.join("workspaces/demo");
    std::fs::create_dir_all(ws.join("flows")).expect("mkdir");
    std::fs::create_dir_all(ws.join("config")).expect("mkdir");
    std::fs::write(ws.join("config/settings.json"), "{}").expect("write");
    std::fs::write(ws.join("routes.json"), "[]").expect("write");
    std::fs::write(
        ws.join("flows/notify.json"),
        r#"{"params": {"usuario_id": {"type": "integer", "minimum": 1, "required": true}},
            "pipeline": [{"id": "1", "action": "response", "data": {"data": {"notified": "${params.usuario_id}"}}, "next_action": null}]}"#,
    )
    .expect("write");
    std::fs::write(
        ws.join("flows/hang.json"),
        format!(
            r#"{{"pipeline": [{{"id": "1", "action": "request", "data": {{"url": "{silent_url}", "timeout": 60, "next_action_success": "2", "next_action_fail": "2"}}, "next_action": "${{pipeline.next_action}}"}},
                {{"id": "2", "action": "end", "data": {{}}, "next_action": null}}]}}"#
        ),
    )
    .expect("write");
    let db = root.join("runs.sqlite");
    let workspaces = root.join("workspaces");
    let rt = rt();
    let server = serve_dir(&workspaces, &db);
    let base = server.base.clone();
    let client = flowyt_runtime::runs::RunsClient::new(&base, None).expect("client");
    let (done_id, hang_id) = rt.block_on(async {
        let id = client
            .trigger("demo", "notify", json!({"usuario_id": 7}), None)
            .await
            .expect("accepted");
        let run = client
            .wait("demo", "notify", &id, Duration::from_secs(10))
            .await
            .expect("finishes");
        assert_eq!(run["status"], "success", "{run}");
        assert_eq!(run["result"]["data"], json!({"notified": 7}));
        assert_eq!(run["conf"], json!({"usuario_id": 7}));
        assert!(
            run["trace"]["flows"][0]["actions"][0]["name"] == "response",
            "{run}"
        );
        let (q, s, e) = (
            run["queued_at"].as_f64(),
            run["started_at"].as_f64(),
            run["ended_at"].as_f64(),
        );
        assert!(q <= s && s <= e && e.is_some(), "{run}");

        let refused = client
            .trigger("demo", "notify", json!({"usuario_id": 0}), None)
            .await;
        match refused {
            Err(flowyt_runtime::runs::ClientError::Refused(400, body)) => assert_eq!(
                body,
                json!({"message": "param `usuario_id` must be at least 1", "param": "usuario_id"})
            ),
            other => panic!("expected a 400, got {other:?}"),
        }
        assert!(matches!(
            client.trigger("demo", "nope", json!({}), None).await,
            Err(flowyt_runtime::runs::ClientError::Refused(404, _))
        ));
        client
            .trigger("demo", "notify", json!({"usuario_id": 1}), Some("mine"))
            .await
            .expect("own id");
        assert!(matches!(
            client
                .trigger("demo", "notify", json!({"usuario_id": 1}), Some("mine"))
                .await,
            Err(flowyt_runtime::runs::ClientError::Refused(409, _))
        ));
        let listed = client.runs("demo", "notify").await.expect("list");
        assert_eq!(listed["runs"].as_array().map(Vec::len), Some(2));

        let hang = client
            .trigger("demo", "hang", json!({}), None)
            .await
            .expect("accepted");
        for _ in 0..100 {
            if client.run("demo", "hang", &hang).await.expect("run")["status"] == "running" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            client.run("demo", "hang", &hang).await.expect("run")["status"],
            "running"
        );
        (id, hang)
    });
    // The server dies with a run in flight (SIGKILL: no chance to clean up). The service it
    // waited on goes away too, so the resumed call fails at once and takes the fail branch.
    drop(server);
    drop(silent);
    let server = serve_dir(&workspaces, &db);
    let client = flowyt_runtime::runs::RunsClient::new(&server.base, None).expect("client");
    rt.block_on(async {
        let done = client
            .run("demo", "notify", &done_id)
            .await
            .expect("history kept");
        assert_eq!(done["status"], "success");
        // The run in flight is resumed by the new process once its lease (1 s) expires.
        let hang = client
            .wait("demo", "hang", &hang_id, Duration::from_secs(20))
            .await
            .expect("resumed and finished");
        assert_eq!(hang["status"], "success", "{hang}");
        assert_eq!(hang["attempts"], 2, "{hang}");
    });

    // The CLI does the same job as the client.
    let (code, out, err) = flowyt(&[
        "trigger",
        "demo/notify",
        "--conf",
        r#"{"usuario_id": 3}"#,
        "--url",
        &server.base,
        "--wait",
    ]);
    assert_eq!(code, 0, "{err}");
    let run: Value = serde_json::from_str(&out).expect("the record as JSON");
    assert_eq!(
        (run["status"].as_str(), run["result"]["data"].clone()),
        (Some("success"), json!({"notified": 3}))
    );
    let (code, _, err) = flowyt(&[
        "trigger",
        "demo/notify",
        "--conf",
        r#"{"usuario_id": "x"}"#,
        "--url",
        &server.base,
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("param `usuario_id` must be an integer"),
        "{err}"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn convert_prints_flow_macro_source_or_refuses_a_broken_flow() {
    let (code, out, err) = flowyt(&["convert", "examples/workspaces/github/flows/search.json"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("// Converted from examples/workspaces/github/flows/search.json by `flowyt convert`.\nflowyt_runtime::flow! {\n"), "{out}");
    assert!(out.contains("    3: request {\n"), "{out}");
    assert!(out.contains("} -> success: 4, fail: 6;"), "{out}");
    let corpus = repo()
        .join("fixtures/legacy/flowyt-engine/docs/examples/workspaces/example/flows/example.json");
    let (code, _, err) = flowyt(&["convert", corpus.to_str().expect("utf-8")]);
    assert_eq!(code, 1);
    assert!(err.contains("error[dangling-next]"), "{err}");
}

#[test]
fn scheduled_flows_run_by_themselves() {
    let _engine = flowyt_runtime::Engine::new().expect("engine");
    let root = std::env::temp_dir().join(format!("flowyt-schedule-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let ws = root.join("workspaces/clock");
    std::fs::create_dir_all(ws.join("flows")).expect("mkdir");
    std::fs::write(
        ws.join("flows/tick.json"),
        r#"{"schedule": {"every": 0.3},
            "params": {"label": {"type": "string", "default": "tick"}},
            "pipeline": [{"id": "1", "action": "response", "data": {"data": {"label": "${params.label}"}}, "next_action": null}]}"#,
    )
    .expect("write");
    let db = root.join("runs.sqlite");
    let server = serve_dir(&root.join("workspaces"), &db);
    let client = flowyt_runtime::runs::RunsClient::new(&server.base, None).expect("client");
    let rt = rt();
    let runs = rt.block_on(async {
        for _ in 0..100 {
            let listed = client.runs("clock", "tick").await.expect("list");
            let done = listed["runs"]
                .as_array()
                .map(|r| r.iter().filter(|r| r["status"] == "success").count())
                .unwrap_or(0);
            if done >= 2 {
                return listed;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the schedule did not fire twice");
    });
    let first = &runs["runs"][0];
    assert!(
        first["run_id"]
            .as_str()
            .unwrap_or("")
            .starts_with("scheduled__"),
        "{runs}"
    );
    let run = rt
        .block_on(client.run("clock", "tick", first["run_id"].as_str().unwrap_or("")))
        .expect("run");
    assert_eq!(run["result"]["data"], json!({"label": "tick"}));
    drop(server);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn runs_prune_deletes_only_old_finished_runs() {
    use sqlx::Executor;
    let db = std::env::temp_dir().join(format!("flowyt-prune-{}.sqlite", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let url = flowyt_runtime::store::SqlStore::sqlite_url(&db);
    let rt = rt();
    let now = flowyt_runtime::runs::now();
    rt.block_on(async {
        let store = flowyt_runtime::store::SqlStore::connect(&url)
            .await
            .expect("opens");
        store.close().await;
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&url).await.expect("connects");
        for (id, status, ended) in [
            ("old", "success", format!("{}", now - 40.0 * 86_400.0)),
            ("recent", "success", format!("{}", now - 86_400.0)),
            ("running", "running", "NULL".to_string()),
        ] {
            pool.execute(
                format!(
                    "INSERT INTO flowyt_runs (workspace, flow, run_id, status, conf, queued_at, ended_at)
                     VALUES ('w', 'f', '{id}', '{status}', '{{}}', 1.0, {ended})"
                )
                .as_str(),
            )
            .await
            .expect("insert");
        }
        pool.close().await;
    });
    let db_arg = db.to_str().expect("utf-8");
    let (code, out, err) = flowyt(&["runs", "prune", "--runs-db", db_arg, "--older-than", "30"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "deleted 1 run(s) that ended more than 30 days ago"
    );
    let left = rt.block_on(async {
        use flowyt_runtime::runs::RunStore;
        let store = flowyt_runtime::store::SqlStore::connect(&url)
            .await
            .expect("opens");
        let mut left = Vec::new();
        for id in ["old", "recent", "running"] {
            if store.get("w", "f", id).await.expect("get").is_some() {
                left.push(id);
            }
        }
        left
    });
    assert_eq!(left, ["recent", "running"]);
    let (code, _, err) = flowyt(&[
        "runs",
        "prune",
        "--runs-db",
        "/nonexistent/x.sqlite",
        "--older-than",
        "1",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("no run history at"), "{err}");
    let (code, _, err) = flowyt(&["runs", "prune", "--older-than", "1"]);
    assert_eq!(code, 1);
    assert!(err.contains("name the store"), "{err}");
    let _ = std::fs::remove_file(&db);
}
