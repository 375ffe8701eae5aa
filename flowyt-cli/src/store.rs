//! Which store a command uses: `--store URL` (or `FLOWYT_STORE`), else the SQLite file of
//! `--runs-db`, else `flowyt-runs.sqlite` beside the workspaces folder.

use flowyt_runtime::store::{SqlStore, redact};
use std::path::{Path, PathBuf};

/// The store options shared by `serve` and `runs prune`.
#[derive(clap::Args, Clone, Debug)]
pub struct StoreArgs {
    /// Where runs, the run queue, schedules and registry leases live:
    /// `postgres://user@host:port/db` (several instances share it) or `sqlite://path`.
    #[arg(
        long,
        env = "FLOWYT_STORE",
        value_name = "URL",
        conflicts_with = "runs_db"
    )]
    pub store: Option<String>,
    /// The SQLite file of the run history (the same as `--store sqlite://PATH`).
    #[arg(long, value_name = "PATH")]
    pub runs_db: Option<PathBuf>,
}

impl StoreArgs {
    /// The store URL, `default` being the SQLite file used when none is given.
    pub fn url(&self, default: impl FnOnce() -> PathBuf) -> String {
        match (&self.store, &self.runs_db) {
            (Some(url), _) => url.clone(),
            (None, Some(path)) => SqlStore::sqlite_url(path),
            (None, None) => SqlStore::sqlite_url(&default()),
        }
    }

    /// Whether a store was named at all.
    pub fn given(&self) -> bool {
        self.store.is_some() || self.runs_db.is_some()
    }

    /// The SQLite file named by `--runs-db`, if that is how the store was given.
    pub fn file(&self) -> Option<&Path> {
        match (&self.store, &self.runs_db) {
            (None, Some(p)) => Some(p),
            _ => None,
        }
    }
}

/// Connects to `url`, saying what is wrong in one line if it cannot.
pub async fn open(url: &str) -> Result<SqlStore, String> {
    SqlStore::connect(url).await.map_err(|e| {
        format!(
            "{e}\n  help: the store is `{}`; check that the database is running and reachable",
            redact(url)
        )
    })
}
