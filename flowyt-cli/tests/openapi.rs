//! API contracts: the operating API's and each workspace's OpenAPI documents, held to the live
//! server (every documented operation answers a documented status; schemathesis finds no
//! server error and no answer the document forbids), the Airflow-compatible subset driven by
//! the official `apache-airflow-client`, and `flowyt openapi`.
//!
//! Needs `python3` with `schemathesis` and `apache-airflow-client`
//! (`python3 -m pip install schemathesis==4.32.5 apache-airflow-client==3.3.2`); the README's test
//! command installs them. `FLOWYT_PYTHON` names another interpreter.

mod support;

use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use support::{Server, client, rt};

const TOKEN: &str = "contract-token";

fn python() -> String {
    std::env::var("FLOWYT_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Fails with what to install when `module` is missing.
fn require_python_module(module: &str, package: &str) {
    let import = Command::new(python())
        .args(["-c", &format!("import {module}")])
        .output();
    assert!(
        import.as_ref().is_ok_and(|o| o.status.success()),
        "this test needs {package}: run `{} -m pip install {package}` ({import:?})",
        python()
    );
}

/// `flowyt serve examples/workspaces` with the operating token, its GitHub workspace calling
/// the local stand-in served by the same process.
fn serve() -> Server {
    let port = support::free_port();
    let api = format!("http://127.0.0.1:{port}/fake-github");
    support::start_at(
        Path::new("examples/workspaces"),
        "127.0.0.1",
        port,
        &[],
        &[("APP_SECRET_KEY", TOKEN), ("GITHUB_API", &api)],
    )
}

async fn get_json(c: &reqwest::Client, url: &str) -> (u16, Value) {
    let r = c.get(url).bearer_auth(TOKEN).send().await.expect("answer");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A value for a path parameter: a served workspace, flow or DAG where one fits.
fn sample(name: &str) -> &'static str {
    match name {
        "workspace" => "github",
        "flow" => "stars",
        "dag_id" => "github.stars",
        "run_id" | "dag_run_id" => "no-such-run",
        "app" => "NO-SUCH-APP",
        _ => "x",
    }
}

#[test]
fn every_documented_operation_answers_a_documented_status() {
    let server = serve();
    rt().block_on(async {
        let c = client(10);
        let (status, doc) = get_json(&c, &format!("{}/_engine/openapi.json", server.base)).await;
        assert_eq!(status, 200);
        assert_eq!(doc["openapi"], "3.1.0");
        // The document served is the one the library builds.
        assert_eq!(doc, flowyt_runtime::openapi::operating_document());
        let paths = doc["paths"].as_object().expect("paths");
        let mut checked = 0;
        for (path, ops) in paths {
            for (method, op) in ops.as_object().expect("operations") {
                let mut url = path.clone();
                for p in op["parameters"].as_array().into_iter().flatten() {
                    if p["in"] == "path" {
                        let name = p["name"].as_str().expect("name");
                        url = url.replace(&format!("{{{name}}}"), sample(name));
                    }
                }
                let url = format!("{}{url}", server.base);
                let req = c
                    .request(method.to_uppercase().parse().expect("method"), &url)
                    .bearer_auth(TOKEN);
                let req = match op["requestBody"]["content"].as_object() {
                    Some(c) if c.contains_key("application/json") => req.json(&json!({})),
                    _ => req,
                };
                let r = req.send().await.expect("answer");
                let status = r.status().as_u16().to_string();
                let documented: Vec<&String> = op["responses"]
                    .as_object()
                    .expect("responses")
                    .keys()
                    .filter(|k| *k != "default")
                    .collect();
                assert!(
                    documented.contains(&&status),
                    "{method} {path} answered {status}, documented: {documented:?}: {:?}",
                    r.text().await
                );
                checked += 1;
            }
        }
        assert_eq!(checked, flowyt_runtime::openapi::operations().len());
        assert!(checked >= 30, "{checked}");

        // A workspace's document: its routes under its name, and unknown workspaces are 404.
        let (status, shop) = get_json(
            &c,
            &format!("{}/_workspaces/shop/openapi.json", server.base),
        )
        .await;
        assert_eq!(status, 200, "{shop}");
        assert_eq!(shop["openapi"], "3.1.0");
        assert!(
            shop["paths"]
                .as_object()
                .expect("paths")
                .keys()
                .all(|p| p.starts_with("/shop/"))
        );
        let (status, _) = get_json(
            &c,
            &format!("{}/_workspaces/nope/openapi.json", server.base),
        )
        .await;
        assert_eq!(status, 404);
        // Workspace documents are operating data: the token is needed, as for the routes listing.
        let r = c
            .get(format!("{}/_workspaces/shop/openapi.json", server.base))
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status().as_u16(), 401);
    });
}

/// Runs schemathesis against the document at `path` of `server` (with `config`, a file of
/// `tests/fixtures`, if given); panics with its report unless it finds nothing.
fn schemathesis(server: &Server, path: &str, config: Option<&str>, extra: &[&str]) {
    require_python_module("schemathesis", "schemathesis==4.32.5");
    let mut cmd = Command::new(python());
    cmd.args(["-m", "schemathesis.cli"]);
    if let Some(config) = config {
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(config);
        cmd.arg("--config-file").arg(file);
    }
    let (ok, report) = run_schemathesis(&cmd, server, path, extra);
    assert!(ok, "schemathesis found problems:\n{report}");
}

fn run_schemathesis(cmd: &Command, server: &Server, path: &str, extra: &[&str]) -> (bool, String) {
    // Its working folder is a scratch one: schemathesis keeps state in `.schemathesis/` there.
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let scratch =
        std::env::temp_dir().join(format!("flowyt-schemathesis-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch folder");
    let out = Command::new(cmd.get_program())
        .args(cmd.get_args())
        .current_dir(&scratch)
        .arg("run")
        .arg(format!("{}{path}", server.base))
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--header",
            &format!("Authorization: Bearer {TOKEN}"),
            "--max-examples",
            "25",
            "--seed",
            "20261207",
            // One worker: CPython 3.11's AST constructor is not thread-safe, and hypothesis
            // parses sources (to describe its strategies' lambdas) from every worker thread;
            // two workers crashed inside the tool now and then with "AST constructor recursion
            // depth mismatch".
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--no-color",
            "--request-timeout",
            "10",
        ])
        .args(extra)
        .env("SCHEMATHESIS_HOOKS", "")
        .output()
        .expect("schemathesis runs");
    let _ = std::fs::remove_dir_all(&scratch);
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), report)
}

#[test]
fn schemathesis_finds_nothing_wrong_with_the_operating_api() {
    let server = serve();
    // Publishing would replace served workspaces with what the fuzzer uploads (always refused,
    // but slow to unpack and check): it is fuzzed on its own below with few examples.
    schemathesis(
        &server,
        "/_engine/openapi.json",
        None,
        &["--exclude-operation-id", "publish"],
    );
    schemathesis(
        &server,
        "/_engine/openapi.json",
        None,
        &[
            "--include-operation-id",
            "publish",
            "--max-examples",
            "5",
            // No links lead to or from it: the stateful phase has nothing to follow.
            "--phases",
            "examples,coverage,fuzzing",
        ],
    );
    // Again with the served workspace, flow and DAG as path parameters: triggers succeed and
    // the stateful phase follows the links to the runs they create.
    schemathesis(
        &server,
        "/_engine/openapi.json",
        Some("schemathesis-served.toml"),
        &["--include-tag", "runs", "--include-tag", "airflow"],
    );
}

#[test]
fn schemathesis_finds_nothing_wrong_with_a_workspace() {
    let server = serve();
    schemathesis(&server, "/_workspaces/shop/openapi.json", None, &[]);
}

#[test]
fn the_official_airflow_client_triggers_lists_and_follows_runs() {
    require_python_module("airflow_client.client", "apache-airflow-client==3.3.2");
    let server = serve();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/airflow_trigger.py");
    let out = Command::new(python())
        .arg(&script)
        .args([server.base.as_str(), TOKEN])
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.starts_with("ok"),
        "the Airflow client failed:\n{stdout}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(&server.stderr).unwrap_or_default()
    );
    let summary: Value =
        serde_json::from_str(stdout.lines().nth(1).unwrap_or("{}")).expect("summary");
    assert_eq!(summary["tasks"], json!(["fetch", "answer"]));
    assert!(
        summary["bad_conf"]
            .as_str()
            .is_some_and(|d| d.contains("`user`")),
        "{summary}"
    );
}

#[test]
fn the_airflow_subset_refuses_what_it_does_not_support_with_a_reason() {
    let server = serve();
    rt().block_on(async {
        let c = client(10);
        let base = &server.base;
        let post = |url: String, body: Value| {
            let c = c.clone();
            async move {
                let r = c.post(url).bearer_auth(TOKEN).json(&body).send().await.expect("answer");
                let status = r.status().as_u16();
                (status, r.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        let runs = format!("{base}/api/v2/dags/github.stars/dagRuns");
        let (status, body) = post(runs.clone(), json!({"logical_date": "yesterday"})).await;
        assert_eq!((status, body["detail"].as_str().is_some_and(|d| d.contains("logical_date"))), (400, true), "{body}");
        let (status, body) = post(runs.clone(), json!({"conf": [1]})).await;
        assert_eq!(status, 400, "{body}");
        let (status, body) = post(runs.clone(), json!({"dag_run_id": ""})).await;
        assert_eq!(status, 400, "{body}");
        let (status, body) = post(format!("{base}/api/v2/dags/github/dagRuns"), json!({})).await;
        assert_eq!(status, 404, "{body}");
        // A logical date given is kept and shown.
        let (status, body) = post(
            runs.clone(),
            json!({"dag_run_id": "dated", "logical_date": "2026-12-07T12:00:00+02:00", "conf": null}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["logical_date"], "2026-12-07T10:00:00.000Z");
        let (_, run) = get_json(&c, &format!("{base}/_workspaces/github/flows/stars/runs/dated")).await;
        assert_eq!(run["logical_date_iso"], "2026-12-07T10:00:00.000Z", "{run}");

        for (query, word) in [
            ("?run_id_pattern=x", "run_id_pattern"),
            ("?state=up_for_retry", "up_for_retry"),
            ("?state=queued&state=failed", "one `state`"),
            ("?limit=-1", "limit"),
            ("?order_by=start_date", "order_by"),
        ] {
            let (status, body) = get_json(&c, &format!("{runs}{query}")).await;
            assert_eq!(status, 400, "{query}: {body}");
            assert!(body["detail"].as_str().is_some_and(|d| d.contains(word)), "{query}: {body}");
        }
        let (status, body) = get_json(&c, &format!("{base}/api/v2/dags/~/dagRuns")).await;
        assert_eq!(status, 400, "{body}");
        let (status, body) = get_json(&c, &format!("{base}/api/v2/dags?dag_id_pattern=GIT%25STA")).await;
        assert_eq!((status, body["total_entries"].clone()), (200, json!(1)), "{body}");
        assert_eq!(body["dags"][0]["dag_id"], "github.stars");

        // The token exchange.
        let exchange = |password: &str| {
            let c = c.clone();
            let body = json!({"username": "u", "password": password});
            let url = format!("{base}/auth/token");
            async move {
                let r = c.post(url).json(&body).send().await.expect("answer");
                r.status().as_u16()
            }
        };
        assert_eq!(exchange(TOKEN).await, 201);
        assert_eq!(exchange("wrong").await, 401);
        let r = c.get(format!("{base}/api/v2/dags")).send().await.expect("answer");
        assert_eq!(r.status().as_u16(), 401);
    });
}

fn flowyt(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_flowyt"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .expect("flowyt runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn flowyt_openapi_prints_documents_without_serving() {
    let (ok, out, err) = flowyt(&["openapi", "examples/workspaces", "--workspace", "shop"]);
    assert!(ok, "{err}");
    let doc: Value = serde_json::from_str(&out).expect("JSON");
    assert!(
        doc["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .all(|p| p.starts_with("/shop/"))
    );

    let (ok, out, err) = flowyt(&["openapi", "examples/workspaces/shop", "--base-path", ""]);
    assert!(ok, "{err}");
    let bare: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        bare["paths"].as_object().map(|p| p.len()),
        doc["paths"].as_object().map(|p| p.len())
    );
    assert!(
        bare["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .all(|p| !p.starts_with("/shop/"))
    );

    let (ok, out, _) = flowyt(&["openapi", "--engine"]);
    assert!(ok);
    let engine: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(engine, flowyt_runtime::openapi::operating_document());

    let (ok, _, err) = flowyt(&["openapi", "examples/workspaces"]);
    assert!(!ok);
    assert!(err.contains("--workspace") && err.contains("shop"), "{err}");
    let (ok, _, err) = flowyt(&["openapi", "examples/workspaces", "--workspace", "nope"]);
    assert!(!ok);
    assert!(err.contains("no workspace `nope`"), "{err}");
    let (ok, _, err) = flowyt(&["openapi"]);
    assert!(!ok);
    assert!(err.contains("--engine"), "{err}");
}
