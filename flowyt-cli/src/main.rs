//! `flowyt`: serve, check, run and draw flows written for the Flowyt engine.

mod check;
mod dotenv;
mod graph;
mod openapi;
mod publish;
mod run;
mod serve;
mod store;
mod telemetry;

use clap::{Parser, Subcommand, ValueEnum};

/// mimalloc: a scalable allocator for the server's many small, short-lived allocations across
/// threads (glibc's arenas contend under load). The library leaves the choice to applications.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "flowyt",
    version,
    about = "Orchestrate microservices with declarative flows",
    after_help = "Examples:\n  flowyt serve examples/workspaces\n  flowyt check workspaces/\n  flowyt run workspaces/github/flows/search.json --query user=octocat\n  flowyt graph workspaces/github/flows/search.json --format dot"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every workspace in a folder, each under /WORKSPACE/ROUTE-PATH.
    #[command(
        after_help = "Examples:\n  flowyt serve                      # ./workspaces on 127.0.0.1:5000\n  flowyt serve examples/workspaces --port 8080\n  flowyt serve workspaces --strict  # refuse dangling ids and unknown kinds\n\nA `.env` beside DIR (or in the current folder) may set APP_HOST and APP_PORT;\nthe flags win over it. Its variables also answer ${env('NAME')} in settings."
    )]
    Serve(serve::ServeArgs),
    /// Trigger a run of a flow on a running `flowyt serve` (like Airflow's trigger_dag).
    #[command(
        after_help = "Examples:\n  flowyt trigger demo/notify_user --conf '{\"usuario_id\": 1}' --wait\n  flowyt trigger github/search --url http://127.0.0.1:8080 --run-id nightly-1\n\nThe token comes from --token or APP_SECRET_KEY."
    )]
    Trigger {
        /// `WORKSPACE/FLOW`.
        target: String,
        /// The run's conf (its params), as JSON.
        #[arg(long, default_value = "{}")]
        conf: String,
        /// A run id of your own (unique per flow).
        #[arg(long)]
        run_id: Option<String>,
        /// The server.
        #[arg(long, default_value = "http://127.0.0.1:5000")]
        url: String,
        /// X-Flowyt-Token for a server with a secret [default: APP_SECRET_KEY].
        #[arg(long)]
        token: Option<String>,
        /// Wait for the run to finish and print its record.
        #[arg(long)]
        wait: bool,
    },
    /// Check workspaces or flow files without serving; exits 1 when there are errors.
    #[command(
        after_help = "Examples:\n  flowyt check workspaces/                 # every workspace in the folder\n  flowyt check workspaces/github            # one workspace\n  flowyt check flows/search.json            # one flow file\n  flowyt check workspaces/ --format json    # for tools and CI"
    )]
    Check {
        /// Workspace folders, folders of workspaces, or flow files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Run one flow once and print its response.
    #[command(
        after_help = "Examples:\n  flowyt run workspaces/github/flows/search.json --query user=octocat\n  flowyt run flows/signup.json --method post --body '{\"name\": \"Ana\"}' --debug\n\nA flow inside a workspace (…/flows/NAME.json) runs with that workspace's settings,\nso `jump` and `handle` reach its other flows."
    )]
    Run {
        /// The flow file.
        flow: PathBuf,
        /// Query parameters, `key=value` (repeatable).
        #[arg(long = "query", short = 'q')]
        query: Vec<String>,
        /// Headers, `name=value` (repeatable).
        #[arg(long = "header", short = 'H')]
        headers: Vec<String>,
        /// JSON body (`request.data`).
        #[arg(long)]
        body: Option<String>,
        /// HTTP method seen by the flow.
        #[arg(long, default_value = "get")]
        method: String,
        /// JSON for the `input` root.
        #[arg(long)]
        input: Option<String>,
        /// Print the per-action trace.
        #[arg(long)]
        debug: bool,
    },
    /// Print a JSON flow as `flow! { ... }` Rust source.
    #[command(
        after_help = "Examples:\n  flowyt convert workspaces/github/flows/search.json > src/search_flow.rs\n\nThe output is an expression: `let search = <output>;` in a crate that depends on\nflowyt-runtime. A flow with errors is refused (run `flowyt check` for the details)."
    )]
    Convert {
        /// The flow file.
        flow: PathBuf,
    },
    /// Print the OpenAPI 3.1 document of a workspace's routes (or of the operating API).
    #[command(
        after_help = "Examples:\n  flowyt openapi examples/workspaces --workspace shop > shop.openapi.json\n  flowyt openapi examples/workspaces/shop --base-path /\n  flowyt openapi --engine                 # the operating API (runs, registry, Airflow subset)\n\nThe document is the one `flowyt serve` answers at /_workspaces/WORKSPACE/openapi.json."
    )]
    Openapi {
        /// A workspace folder, or a folder of workspaces (then name one with --workspace).
        dir: Option<PathBuf>,
        /// The workspace to document.
        #[arg(long)]
        workspace: Option<String>,
        /// The path its routes are mounted under [default: /WORKSPACE, as `flowyt serve` mounts them].
        #[arg(long)]
        base_path: Option<String>,
        /// Print the operating API's document instead.
        #[arg(long)]
        engine: bool,
    },
    /// Manage the run history.
    Runs {
        #[command(subcommand)]
        action: RunsCommand,
    },
    /// Draw a flow: actions, kinds and labelled edges.
    #[command(
        after_help = "Examples:\n  flowyt graph flows/search.json                 # Mermaid, for Markdown docs\n  flowyt graph flows/search.json --format dot | dot -Tsvg > search.svg"
    )]
    Graph {
        /// The flow file.
        flow: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = graph::GraphFormat::Mermaid)]
        format: graph::GraphFormat,
    },
}

/// `flowyt runs ...`.
#[derive(Subcommand)]
enum RunsCommand {
    /// Delete the runs that ended more than DAYS days ago.
    #[command(
        after_help = "Examples:\n  flowyt runs prune --runs-db flowyt-runs.sqlite --older-than 30\n\n`flowyt serve` prunes by itself every hour (see its --retention-days)."
    )]
    Prune {
        #[command(flatten)]
        store: store::StoreArgs,
        /// Age in days of the runs to delete.
        #[arg(long, value_name = "DAYS")]
        older_than: f64,
    },
}

/// How `check` prints.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// rustc-style, with the source line and a caret.
    Human,
    /// One JSON document: every diagnostic and the counts.
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve::serve(args),
        Command::Trigger {
            target,
            conf,
            run_id,
            url,
            token,
            wait,
        } => trigger(&target, &conf, run_id, &url, token, wait),
        Command::Check { paths, format } => check::check(&paths, format),
        Command::Run {
            flow,
            query,
            headers,
            body,
            method,
            input,
            debug,
        } => run::run(run::RunArgs {
            flow,
            query,
            headers,
            body,
            method,
            input,
            debug,
        }),
        Command::Graph { flow, format } => graph::graph(&flow, format),
        Command::Convert { flow } => convert(&flow),
        Command::Openapi {
            dir,
            workspace,
            base_path,
            engine,
        } => openapi::openapi(&openapi::Args {
            dir: dir.as_deref(),
            workspace: workspace.as_deref(),
            base_path: base_path.as_deref(),
            engine,
        }),
        Command::Runs {
            action: RunsCommand::Prune { store, older_than },
        } => prune(&store, older_than),
    }
}

/// A tokio runtime for one command (`multi_thread` for `serve`), or why none could start.
pub fn runtime(multi_thread: bool) -> Result<tokio::runtime::Runtime, String> {
    let mut builder = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// `flowyt runs prune`.
fn prune(store: &store::StoreArgs, older_than: f64) -> ExitCode {
    use flowyt_runtime::runs::{RunStore, now};
    if !(older_than.is_finite() && older_than >= 0.0) {
        eprintln!("error: --older-than must be a number of days, not {older_than}");
        return ExitCode::FAILURE;
    }
    if !store.given() {
        eprintln!("error: name the store: --store URL (or FLOWYT_STORE) or --runs-db PATH");
        return ExitCode::FAILURE;
    }
    if let Some(file) = store.file()
        && !file.is_file()
    {
        eprintln!("error: no run history at `{}`", file.display());
        return ExitCode::FAILURE;
    }
    let runtime = match runtime(false) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let url = store.url(PathBuf::new);
    let pruned = runtime.block_on(async {
        let s = store::open(&url).await?;
        let n = s
            .prune(now() - older_than * 86_400.0)
            .await
            .map_err(|e| e.to_string());
        s.close().await;
        n
    });
    match pruned {
        Ok(n) => {
            println!("deleted {n} run(s) that ended more than {older_than} days ago");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn trigger(
    target: &str,
    conf: &str,
    run_id: Option<String>,
    url: &str,
    token: Option<String>,
    wait: bool,
) -> ExitCode {
    let Some((workspace, flow)) = target.split_once('/') else {
        eprintln!("error: name the flow as WORKSPACE/FLOW, e.g. `demo/notify_user`");
        return ExitCode::from(2);
    };
    let conf: serde_json::Value = match serde_json::from_str(conf) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: --conf is not valid JSON: {e}");
            return ExitCode::from(2);
        }
    };
    let token = token
        .or_else(|| std::env::var("APP_SECRET_KEY").ok())
        .filter(|t| !t.is_empty());
    let runtime = match runtime(false) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let client = match flowyt_runtime::runs::RunsClient::new(url, token) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        let run_id = match client
            .trigger(workspace, flow, conf, run_id.as_deref())
            .await
        {
            Ok(id) => id,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        if !wait {
            println!("{run_id}");
            return ExitCode::SUCCESS;
        }
        match client
            .wait(
                workspace,
                flow,
                &run_id,
                std::time::Duration::from_secs(300),
            )
            .await
        {
            Ok(run) => {
                println!("{}", serde_json::to_string_pretty(&run).unwrap_or_default());
                if run["status"] == "success" {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Reads and checks one flow file; on errors prints them and gives the exit code.
pub fn flow_file(
    path: &std::path::Path,
    strictness: flowyt_runtime::Strictness,
) -> Result<(String, flowyt_runtime::core::workspace::FlowFile), ExitCode> {
    use flowyt_runtime::core::diag::render_all;
    use flowyt_runtime::core::validate::Context;
    use flowyt_runtime::core::workspace::FlowFile;
    let text = std::fs::read_to_string(path).map_err(|e| {
        eprintln!("error: cannot read `{}`: {e}", path.display());
        ExitCode::from(2)
    })?;
    let file = FlowFile::parse(
        &path.display().to_string(),
        &text,
        Context::default(),
        strictness,
    );
    if file.has_errors() || file.flow.is_none() {
        eprint!("{}", render_all(&file.located()));
        return Err(ExitCode::FAILURE);
    }
    Ok((text, file))
}

fn convert(path: &std::path::Path) -> ExitCode {
    let text = match flow_file(path, flowyt_runtime::Strictness::Strict) {
        Ok((text, _)) => text,
        Err(code) => {
            eprintln!("error: the flow has errors; `flow!` would refuse it");
            return code;
        }
    };
    match flowyt_runtime::core::convert::to_flow_macro(&text) {
        Ok(source) => {
            println!("// Converted from {} by `flowyt convert`.", path.display());
            println!("flowyt_runtime::{source}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Whether `dir` is a workspace folder (it has `flows/`).
pub fn is_workspace(dir: &std::path::Path) -> bool {
    dir.join("flows").is_dir()
}

/// The workspace folders at `dir`: itself if it is one, else its sub-folders that are.
pub fn workspace_dirs(dir: &std::path::Path) -> Result<Vec<PathBuf>, String> {
    if is_workspace(dir) {
        return Ok(vec![dir.to_path_buf()]);
    }
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        // Hidden folders are never served (editors' and tools' scratch space).
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
                && is_workspace(p)
        })
        .collect();
    dirs.sort();
    Ok(dirs)
}
