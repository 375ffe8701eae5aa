//! `flowyt serve`: every workspace of a folder behind one axum server.

use crate::dotenv;
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use flowyt_runtime::core::diag::render_all;
use flowyt_runtime::{Engine, Strictness, Workspace};
use serde_json::{Value, json};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

pub fn serve(dir: &Path, host: Option<String>, port: Option<u16>, strict: bool) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let env = match dotenv::load(dir) {
        Ok(env) => env,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let host = host
        .or_else(|| env.get("APP_HOST"))
        .map(|h| {
            h.trim_start_matches("http://")
                .trim_start_matches("https://")
                .to_string()
        })
        .unwrap_or_else(|| "127.0.0.1".into());
    let port = match port {
        Some(p) => p,
        None => match env.get("APP_PORT").map(|p| p.parse::<u16>()) {
            None => 5000,
            Some(Ok(p)) => p,
            Some(Err(_)) => {
                eprintln!("error: APP_PORT in .env is not a port number");
                return ExitCode::FAILURE;
            }
        },
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve_async(dir, &host, port, strict, env))
}

async fn serve_async(
    dir: &Path,
    host: &str,
    port: u16,
    strict: bool,
    env: dotenv::Env,
) -> ExitCode {
    let engine = match Engine::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let dirs = match crate::workspace_dirs(dir) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let strictness = if strict {
        Strictness::Strict
    } else {
        Strictness::Legacy
    };
    let getenv = |k: &str| env.get(k);
    let mut served: Vec<Workspace> = Vec::new();
    for dir in &dirs {
        match engine.load_workspace_with_env(dir, strictness, &getenv) {
            Ok(loaded) => {
                if !loaded.warnings.is_empty() {
                    eprint!("{}", render_all(&loaded.warnings));
                }
                served.push(loaded.workspace);
            }
            Err(e) => {
                eprint!("{}", render_all(&e.diagnostics));
                eprintln!("workspace `{}` has errors and is not served", dir.display());
            }
        }
    }
    if served.is_empty() {
        eprintln!("error: no workspace to serve in `{}`", dir.display());
        return ExitCode::FAILURE;
    }
    let secret: Arc<str> = Arc::from(env.get("APP_SECRET_KEY").unwrap_or_default());
    let listing = Arc::new(routes_listing(&served));
    let names: Vec<String> = served.iter().map(|w| w.name().to_string()).collect();
    let list = {
        let (listing, secret) = (listing.clone(), secret.clone());
        move |headers: HeaderMap| {
            let (listing, secret) = (listing.clone(), secret.clone());
            async move {
                if !authorized(&headers, &secret) {
                    return unauthorized();
                }
                axum::Json(listing.as_ref().clone()).into_response()
            }
        }
    };
    let mut app = Router::new()
        .route("/_workspaces/routes", get(list.clone()))
        .route("/_engine/routes", get(list))
        .route(
            "/_engine/ping",
            get(|| async {
                axum::Json(json!({"msg": "It's all good!", "curious?": "https://www.youtube.com/watch?v=c4nunES9DyI"}))
            }),
        )
        .route(
            "/_engine/health",
            get(move || async move { axum::Json(json!({"status": "ok", "workspaces": names})) }),
        );
    for ws in &served {
        app = app.nest(&format!("/{}", ws.name()), ws.router());
    }
    let listener = match tokio::net::TcpListener::bind((host, port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {host}:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addr = listener
        .local_addr()
        .map_or_else(|_| format!("{host}:{port}"), |a| a.to_string());
    println!(
        "flowyt {} serving {} workspace(s)",
        env!("CARGO_PKG_VERSION"),
        served.len()
    );
    println!(" * Check available routes at http://{addr}/_workspaces/routes");
    println!(" * Running on http://{addr}/ (Press CTRL+C to quit)");
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
    {
        eprintln!("error: server failed: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Decision 14: open without a secret; with one, `X-Flowyt-Token` (or the legacy
/// `X-Orchestryzi-Token`) must match it.
fn authorized(headers: &HeaderMap, secret: &str) -> bool {
    if secret.is_empty() {
        return true;
    }
    ["x-flowyt-token", "x-orchestryzi-token"]
        .iter()
        .filter_map(|h| headers.get(*h))
        .any(|v| v.as_bytes() == secret.as_bytes())
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"msg": "You are not authorized to perform this action"})),
    )
        .into_response()
}

/// The legacy listing: one element per route of every workspace.
fn routes_listing(served: &[Workspace]) -> Value {
    Value::Array(
        served
            .iter()
            .flat_map(|ws| {
                ws.routes().iter().map(move |r| {
                    json!({
                        "path": format!("/{}{}", ws.name(), r.path),
                        "methods": [r.method],
                        "workspace": ws.name(),
                        "flow": r.flow,
                        "subdomain": null,
                    })
                })
            })
            .collect(),
    )
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    eprintln!("shutting down: finishing in-flight requests");
}
