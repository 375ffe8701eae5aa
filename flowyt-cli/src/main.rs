//! `flowyt`: serve and check legacy Flowyt workspaces.

use axum::Router;
use axum::routing::get;
use clap::{Parser, Subcommand};
use flowyt_runtime::core::diag::{Located, render_all};
use flowyt_runtime::core::validate::Context;
use flowyt_runtime::core::workspace::{FlowFile, count};
use flowyt_runtime::{Engine, Strictness, Workspace};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "flowyt",
    version,
    about = "Orchestrate microservices with declarative flows"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every workspace in a folder, each under /<workspace>/<route path>.
    ///
    /// Example: flowyt serve examples/workspaces --port 5000
    Serve {
        /// A folder of workspaces, or one workspace folder.
        #[arg(default_value = "workspaces")]
        dir: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 5000)]
        port: u16,
        /// Refuse workspaces with dangling ids, unreachable actions or unknown kinds.
        #[arg(long)]
        strict: bool,
    },
    /// Check workspaces or flow files without serving; exits 1 when there are errors.
    ///
    /// Example: flowyt check workspaces/github workspaces/github/flows/search.json
    Check {
        /// Workspace folders, folders of workspaces, or flow files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            dir,
            host,
            port,
            strict,
        } => serve(&dir, &host, port, strict),
        Command::Check { paths } => check(&paths),
    }
}

fn is_workspace(dir: &Path) -> bool {
    dir.join("flows").is_dir()
}

/// The workspace folders at `dir`: itself if it is one, else its sub-folders that are.
fn workspace_dirs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    if is_workspace(dir) {
        return Ok(vec![dir.to_path_buf()]);
    }
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| is_workspace(p))
        .collect();
    dirs.sort();
    Ok(dirs)
}

fn check(paths: &[PathBuf]) -> ExitCode {
    let engine = match Engine::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let catalog = engine.catalog();
    let mut all: Vec<Located> = Vec::new();
    let mut checked = 0;
    for path in paths {
        if path.is_file() {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: cannot read `{}`: {e}", path.display());
                    return ExitCode::from(2);
                }
            };
            let cx = Context {
                catalog: Some(&catalog),
                flows: None,
            };
            let file = FlowFile::parse(&path.display().to_string(), &text, cx, Strictness::Strict);
            all.extend(file.located());
            checked += 1;
            continue;
        }
        let dirs = match workspace_dirs(path) {
            Ok(d) if !d.is_empty() => d,
            Ok(_) => {
                eprintln!(
                    "error: `{}` holds no workspace (a folder with `flows/`)",
                    path.display()
                );
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        for dir in dirs {
            checked += 1;
            match flowyt_runtime::core::workspace::Workspace::load(
                &dir,
                &catalog,
                Strictness::Strict,
            ) {
                Ok(loaded) => all.extend(loaded.warnings),
                Err(e) => all.extend(e.diagnostics),
            }
        }
    }
    print!("{}", render_all(&all));
    let (errors, warnings) = count(&all);
    println!("checked {checked}: {errors} errors, {warnings} warnings");
    if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn serve(dir: &Path, host: &str, port: u16, strict: bool) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
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
    runtime.block_on(serve_async(dir, host, port, strict))
}

async fn serve_async(dir: &Path, host: &str, port: u16, strict: bool) -> ExitCode {
    let engine = match Engine::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let dirs = match workspace_dirs(dir) {
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
    let mut served: Vec<Workspace> = Vec::new();
    for dir in &dirs {
        match engine.load_workspace(dir, strictness) {
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
    let listing = routes_listing(&served);
    let mut app = Router::new()
        .route("/_workspaces/routes", get({
            let l = listing.clone();
            move || async move { axum::Json(l) }
        }))
        .route("/_engine/routes", get(move || async move { axum::Json(listing) }))
        .route("/_engine/ping", get(|| async {
            axum::Json(json!({"msg": "It's all good!", "curious?": "https://www.youtube.com/watch?v=c4nunES9DyI"}))
        }));
    let names: Vec<String> = served.iter().map(|w| w.name().to_string()).collect();
    app = app.route(
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
