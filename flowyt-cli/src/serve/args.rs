//! `flowyt serve`'s command-line options, and what they become.

use crate::dotenv;
use flowyt_runtime::runs;
use flowyt_runtime::server::ConnectionLimits;
use std::path::PathBuf;

/// `flowyt serve`'s options.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// A folder of workspaces, or one workspace folder.
    #[arg(default_value = "workspaces")]
    pub dir: PathBuf,
    /// Address to listen on [default: APP_HOST from .env, else 127.0.0.1].
    #[arg(long)]
    pub host: Option<String>,
    /// Port to listen on, 0 for any free one [default: APP_PORT from .env, else 5000].
    #[arg(long)]
    pub port: Option<u16>,
    /// Refuse workspaces with dangling ids, unreachable actions or unknown kinds.
    #[arg(long)]
    pub strict: bool,
    /// The store [default: the SQLite file flowyt-runs.sqlite beside DIR].
    #[command(flatten)]
    pub store: crate::store::StoreArgs,
    /// Seconds a claimed run's lease lasts; a run whose instance dies resumes on another
    /// instance after this (renewed every third of it while the run is alive).
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub lease: f64,
    /// On SIGTERM, seconds the runs in flight get to finish before they are handed back to
    /// the queue for another instance to resume.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub grace: f64,
    /// Serve the workspaces a Flowyt Studio stored in Redis (`redis://host:port/db`) at
    /// `/<subdomain>/<workspace>/...` instead of DIR's [also: WORKSPACE_STORAGE_MODE=redis with
    /// REDIS_WORKSPACE_HOST/PORT/PASSWORD/DB].
    #[arg(long, value_name = "URL")]
    pub workspaces: Option<String>,
    /// Where redis mode counts each subdomain's quota [default: REDIS_QUOTA_HOST/PORT/PASSWORD/DB,
    /// else the workspaces' Redis].
    #[arg(long, value_name = "URL")]
    pub quotas: Option<String>,
    /// How log lines are written (filtered with `RUST_LOG` either way).
    #[arg(long, value_enum, default_value_t = crate::telemetry::LogFormat::Human)]
    pub log_format: crate::telemetry::LogFormat,
    /// Serve `GET /metrics` on this address instead, without the token (for scraping inside a
    /// private network); the main address then has no `/metrics`.
    #[arg(long, value_name = "HOST:PORT")]
    pub metrics_addr: Option<String>,
    /// Triggered runs this instance executes at once.
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub max_running: usize,
    /// Seconds a client may take to send a request's headers, from the connection's start or
    /// the end of its previous response (so also the keep-alive idle timeout).
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub header_timeout: f64,
    /// Most connections open at once; past it new ones wait (and a line is logged).
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub max_connections: usize,
    /// Seconds one request may take before it is answered 503.
    #[arg(long, default_value_t = 300.0, value_name = "SECONDS")]
    pub request_timeout: f64,
    /// Most bytes all published workspaces may take on disk together.
    #[arg(long, default_value_t = 512 * 1024 * 1024, value_name = "BYTES")]
    pub publish_quota: u64,
    /// Days a finished run stays in the history; older ones are deleted every hour (0 keeps
    /// them forever).
    #[arg(long, default_value_t = 30.0, value_name = "DAYS")]
    pub retention_days: f64,
    /// Where uploads are unpacked and checked before they are served [default: a
    /// `.flowyt-staging` folder beside DIR, outside the served tree].
    #[arg(long, value_name = "DIR")]
    pub staging: Option<PathBuf>,
}

/// How this instance works the run queue, from the command line.
pub(super) fn runs_options(args: &ServeArgs) -> Result<runs::RunsOptions, String> {
    let lease = std::time::Duration::try_from_secs_f64(args.lease)
        .ok()
        .filter(|d| d.as_secs_f64() >= 1.0)
        .ok_or_else(|| format!("--lease must be at least 1 second, not {}", args.lease))?;
    if args.max_running == 0 {
        return Err("--max-running must be at least 1".into());
    }
    Ok(runs::RunsOptions {
        lease,
        max_running: args.max_running,
        ..runs::RunsOptions::default()
    })
}

/// The grace period of a shutdown.
pub(super) fn grace(args: &ServeArgs) -> Result<std::time::Duration, String> {
    std::time::Duration::try_from_secs_f64(args.grace)
        .map_err(|_| format!("--grace must be a number of seconds, not {}", args.grace))
}

/// The Redis URL of the legacy `REDIS_<WHAT>_HOST/PORT/PASSWORD/DB` variables.
fn legacy_redis_url(env: &dotenv::Env, what: &str) -> String {
    flowyt_runtime::redis_url(&|k| env.get(&format!("REDIS_{what}_{k}")))
}

/// Redis mode's `(workspaces URL, quotas URL)`: `--workspaces`, or the legacy
/// `WORKSPACE_STORAGE_MODE=redis` with its `REDIS_WORKSPACE_*` variables; `None` in the
/// default mode (workspaces from DIR).
pub(super) fn studio_urls(args: &ServeArgs, env: &dotenv::Env) -> Option<(String, String)> {
    let workspaces = match &args.workspaces {
        Some(url) => url.clone(),
        None if env.get("WORKSPACE_STORAGE_MODE").as_deref() == Some("redis") => {
            legacy_redis_url(env, "WORKSPACE")
        }
        None => return None,
    };
    let quotas = args.quotas.clone().unwrap_or_else(|| {
        if env.get("REDIS_QUOTA_HOST").is_some() || args.workspaces.is_none() {
            legacy_redis_url(env, "QUOTA")
        } else {
            workspaces.clone()
        }
    });
    Some((workspaces, quotas))
}

/// The connection limits given on the command line.
pub(super) fn connection_limits(args: &ServeArgs) -> Result<ConnectionLimits, String> {
    let seconds = |flag: &str, v: f64| {
        std::time::Duration::try_from_secs_f64(v)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("--{flag} must be a positive number of seconds, not {v}"))
    };
    if args.max_connections == 0 {
        return Err("--max-connections must be at least 1".into());
    }
    Ok(ConnectionLimits {
        header_read_timeout: seconds("header-timeout", args.header_timeout)?,
        max_connections: args.max_connections,
        request_timeout: seconds("request-timeout", args.request_timeout)?,
    })
}
