//! The console in a real browser (Debian's headless Chromium driven by Playwright's Python
//! client, `tests/python/console_browser.py`), plus what needs no browser: escaping, the
//! read-only mode, cross-site refusals and `flowyt graph --format svg`.
//!
//! Needs `/usr/bin/chromium` (`apt-get install chromium`) and `python3 -m pip install
//! playwright`; the README's test command installs both. Screenshots of every page land in
//! `target/console-screenshots/`.

mod support;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::{client, multi_thread as rt, start_with};

fn python() -> String {
    std::env::var("FLOWYT_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// A slow upstream (300 ms per answer), so a run is seen queued and running before success.
fn upstream(rt: &tokio::runtime::Runtime) -> String {
    rt.block_on(async {
        let app = axum::Router::new().route(
            "/slow",
            axum::routing::get(|| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                axum::Json(json!({"ok": true}))
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    })
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// Workspaces `shop` (a flow with params, a 40-action flow), `evil` (hostile ids, names and
/// data) and `broken` (does not load).
fn workspaces(tag: &str, upstream: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("flowyt-console-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let dir = root.join("workspaces");
    let settings = json!({"env": {"baseUrl": upstream}}).to_string();
    write(&dir.join("shop/config/settings.json"), &settings);
    write(
        &dir.join("shop/routes.json"),
        r#"[{"method": "get", "path": "/order", "flow": "order"}]"#,
    );
    let order = json!({
        "params": {"qty": {"type": "integer", "minimum": 1, "required": true},
                   "note": {"type": "string", "default": "none"}},
        "pipeline": [
            {"id": "fetch", "action": "request", "data": {"url": "${env.baseUrl}/slow", "method": "get",
             "next_action_success": "keep", "next_action_fail": "failed"}, "next_action": "${pipeline.next_action}"},
            {"id": "keep", "action": "flow_var", "data": {"ok": "${response.data.ok}"}, "next_action": "answer"},
            {"id": "answer", "action": "response", "data": {"data": {"qty": "${params.qty}", "ok": "${flow.ok}"}}, "next_action": null},
            {"id": "failed", "action": "response", "data": {"status": 502, "data": {"failed": true}}, "next_action": null}
        ]
    });
    write(&dir.join("shop/flows/order.json"), &order.to_string());
    // 40 actions: a switch every fifth action (two conditions and an else), a loop back.
    let mut big = Vec::new();
    for i in 1..=40 {
        let id = format!("s{i}");
        let next = |k: usize| Value::String(format!("s{}", k.min(40)));
        if i == 40 {
            big.push(json!({"id": id, "action": "response", "data": {"data": {"done": true}}, "next_action": null}));
        } else if i % 5 == 0 {
            big.push(json!({"id": id, "action": "switch", "data": {"conditions": [
                {"operator": "equal", "first_expression": "${flow.n}", "second_expression": "1", "next_action": next(i + 1)},
                {"operator": "equal", "first_expression": "${flow.n}", "second_expression": "2", "next_action": next(i + 2)}
            ], "next_action_else": if i == 35 { Value::String("s3".into()) } else { next(i + 3) }}, "next_action": "${pipeline.next_action}"}));
        } else {
            big.push(json!({"id": id, "action": "flow_var", "data": {"n": i}, "next_action": next(i + 1)}));
        }
    }
    write(
        &dir.join("shop/flows/big.json"),
        &json!({"pipeline": big}).to_string(),
    );

    let hostile = "<img src=x onerror=window.__xss=1>";
    write(&dir.join("evil/config/settings.json"), "{}");
    // A route, so its API page documents the hostile name and default too.
    write(
        &dir.join("evil/routes.json"),
        r#"[{"method": "get", "path": "/x", "flow": "x"}]"#,
    );
    let x = json!({
        "name": "<b onmouseover=window.__xss=4>name</b>",
        "params": {"who": {"type": "string", "default": "<script>window.__xss=5</script>"}},
        "pipeline": [
            {"id": hostile, "action": "flow_var", "data": {"html": "<script>window.__xss=3</script>"}, "next_action": "end"},
            {"id": "end", "action": "response", "data": {"data": {"who": "${params.who}", "html": "${flow.html}"}}, "next_action": null}
        ]
    });
    write(&dir.join("evil/flows/x.json"), &x.to_string());

    write(&dir.join("broken/config/settings.json"), "{}");
    write(&dir.join("broken/routes.json"), "[]");
    write(
        &dir.join("broken/flows/bad.json"),
        r#"{"pipeline": [{"id": "1", "action": "response", "data": {"data": "${params."}, "next_action": null}]}"#,
    );
    root
}

fn screenshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/console-screenshots")
}

/// Runs the browser scenarios of `mode` against `base`; panics with their output on failure.
fn browser(base: &str, mode: &str, token: &str) {
    let chromium = std::env::var("FLOWYT_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "the console tests need Chromium at {chromium}: `apt-get install -y chromium` (the README's test command does it), or set FLOWYT_CHROMIUM"
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/console_browser.py");
    let out = Command::new(python())
        .arg(&script)
        .args([base, screenshots().to_str().expect("utf-8"), mode, token])
        .output()
        .expect("python3 runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "browser scenarios `{mode}` failed ({:?}):\n{stdout}\n{stderr}{}",
        out.status.code(),
        if out.status.code() == Some(3) {
            "\nthe console tests need Playwright: `python3 -m pip install playwright==1.65.2` (the README's test command does it)"
        } else {
            ""
        }
    );
    println!("{stdout}");
}

#[test]
fn the_console_in_a_real_browser() {
    let rt = rt();
    let root = workspaces("browser", &upstream(&rt));
    let server = start_with(&root.join("workspaces"), "127.0.0.1", &[], &[]);
    browser(&server.base, "open", "");
    drop(server);
    let secret = "s3cret; with=odd chars";
    let guarded = start_with(
        &root.join("workspaces"),
        "127.0.0.1",
        &[],
        &[("APP_SECRET_KEY", secret)],
    );
    browser(&guarded.base, "secret", secret);
    drop(guarded);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn console_pages_escape_read_only_beyond_loopback_and_refuse_other_sites() {
    let rt = rt();
    let root = workspaces("http", &upstream(&rt));
    let local = start_with(&root.join("workspaces"), "127.0.0.1", &[], &[]);
    let wide = start_with(&root.join("workspaces"), "0.0.0.0", &[], &[]);
    rt.block_on(async {
        let http = client(10);
        let page = http
            .get(format!("{}/_console/workspaces/evil/flows/x", local.base))
            .send()
            .await
            .expect("page");
        assert_eq!(page.status(), 200);
        let csp = page
            .headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        let html = page.text().await.expect("text");
        assert!(!html.contains("<img src=x"), "hostile ids are escaped");
        assert!(
            html.contains("&lt;img src=x onerror=window.__xss=1&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script>window"), "hostile data is escaped");
        // The API pages: the operating API's and each workspace's document, escaped too, and
        // the documents themselves as JSON behind the same login.
        for path in ["/_console/api", "/_console/workspaces/evil/api"] {
            let page = http
                .get(format!("{}{path}", local.base))
                .send()
                .await
                .expect("page");
            assert_eq!(page.status(), 200, "{path}");
            let html = page.text().await.expect("text");
            assert!(html.contains("section class=\"op\""), "{path}: {html}");
            assert!(
                !html.contains("<b onmouseover"),
                "{path}: hostile names are escaped"
            );
        }
        let doc: Value = http
            .get(format!("{}/_console/workspaces/shop/api.json", local.base))
            .send()
            .await
            .expect("doc")
            .json()
            .await
            .expect("json");
        assert!(doc["paths"]["/shop/order"]["get"].is_object(), "{doc}");
        let missing = http
            .get(format!("{}/_console/workspaces/nope/api", local.base))
            .send()
            .await
            .expect("page");
        assert_eq!(missing.status(), 404);
        // A form posted from another site is refused, whatever it carries.
        let trigger = format!(
            "{}/_console/workspaces/shop/flows/order/trigger",
            local.base
        );
        let cross = http
            .post(&trigger)
            .header("origin", "http://attacker.example")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("qty=2")
            .send()
            .await
            .expect("post");
        assert_eq!(cross.status(), 403);
        let foreign = http
            .get(format!("{}/_console/", local.base))
            .header("host", "attacker.example")
            .send()
            .await
            .expect("get");
        assert_eq!(foreign.status(), 403, "DNS rebinding is refused");
        // Beyond loopback without a secret: pages are read-only.
        let wide_base = wide.base.clone();
        let home = http
            .get(format!("{wide_base}/_console/"))
            .send()
            .await
            .expect("home");
        assert_eq!(home.status(), 200);
        let flow = http
            .get(format!("{wide_base}/_console/workspaces/shop/flows/order"))
            .send()
            .await
            .expect("flow")
            .text()
            .await
            .expect("text");
        assert!(flow.contains("read-only"), "the page says so");
        let refused = http
            .post(format!(
                "{wide_base}/_console/workspaces/shop/flows/order/trigger"
            ))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("qty=2")
            .send()
            .await
            .expect("post");
        assert_eq!(refused.status(), 403);
        let runs: Value = http
            .get(format!("{}/_workspaces/shop/flows/order/runs", local.base))
            .send()
            .await
            .expect("runs")
            .json()
            .await
            .expect("json");
        assert_eq!(runs["runs"], json!([]), "no refused trigger started a run");
    });
    drop((local, wide));
    // The graph as SVG from the command line, laid out by flowyt itself.
    let out = Command::new(env!("CARGO_BIN_EXE_flowyt"))
        .args(["graph", "--format", "svg"])
        .arg(root.join("workspaces/shop/flows/big.json"))
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = String::from_utf8_lossy(&out.stdout);
    assert!(
        svg.contains("<svg") && svg.trim_end().ends_with("</svg>"),
        "{svg}"
    );
    assert_eq!(
        svg.matches(": flow_var").count() + svg.matches(": switch").count(),
        39
    );
    let _ = std::fs::remove_dir_all(&root);
}
