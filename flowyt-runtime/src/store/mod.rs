//! The SQL store: one connection pool to SQLite or PostgreSQL, chosen by URL, holding the
//! schema flowyt creates and migrates itself at start-up (run records and queue, schedules,
//! the registry).
//!
//! ```no_run
//! # async fn demo() -> Result<(), flowyt_runtime::runs::StoreError> {
//! use flowyt_runtime::store::SqlStore;
//! let shared = SqlStore::connect("postgres://flowyt@127.0.0.1:5432/flowyt").await?;
//! let embedded = SqlStore::connect(&SqlStore::sqlite_url("flowyt-runs.sqlite".as_ref())).await?;
//! # Ok(())
//! # }
//! ```

mod migrate;

pub use crate::runs::StoreError;
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use std::path::Path;
use std::time::Duration;

/// Which database a [`SqlStore`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL: shared by several instances; claims use `FOR UPDATE SKIP LOCKED`.
    Postgres,
    /// SQLite: one machine; writes are serialised by the database.
    Sqlite,
}

/// Runs, the run queue, schedules and registry leases in SQLite or PostgreSQL. Cheap to clone
/// (clones share the pool).
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    /// For writes whose loss in a database crash costs only repeated work (checkpoints, lease
    /// renewals): PostgreSQL commits them without waiting for the disk.
    relaxed: AnyPool,
    dialect: Dialect,
    shown: String,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("dialect", &self.dialect)
            .field("url", &self.shown)
            .finish()
    }
}

/// `url` without its password, fit for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{tail}")
        }
        None => url.to_string(),
    }
}

impl SqlStore {
    /// The URL of the SQLite file at `path` (created if missing).
    pub fn sqlite_url(path: &Path) -> String {
        let text = path.to_string_lossy();
        // `?` and `#` would end the path; `%` would start an escape.
        let escaped = text
            .replace('%', "%25")
            .replace('?', "%3F")
            .replace('#', "%23");
        format!("sqlite://{escaped}?mode=rwc")
    }

    /// Connects to `url` (`postgres://user@host:port/db`, `postgresql://…`, `sqlite://path`,
    /// `sqlite::memory:`) and brings the schema up to date. Several instances may start at
    /// once: migrations run one at a time under a lock.
    pub async fn connect(url: &str) -> Result<SqlStore, StoreError> {
        let shown = redact(url);
        let dialect = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            if !cfg!(feature = "postgres") {
                return Err(StoreError(format!(
                    "`{shown}`: this build has no PostgreSQL support (the `postgres` feature of flowyt-runtime)"
                )));
            }
            Dialect::Postgres
        } else if url.starts_with("sqlite:") {
            if !cfg!(feature = "sqlite") {
                return Err(StoreError(format!(
                    "`{shown}`: this build has no SQLite support (the `sqlite` feature of flowyt-runtime)"
                )));
            }
            Dialect::Sqlite
        } else {
            return Err(StoreError(format!(
                "`{shown}` is not a store URL: use postgres://user@host:port/database or sqlite://path"
            )));
        };
        sqlx::any::install_default_drivers();
        let url = match dialect {
            Dialect::Sqlite if !url.contains('?') && !url.contains(":memory:") => {
                format!("{url}?mode=rwc")
            }
            _ => url.to_string(),
        };
        let options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            .max_connections(match dialect {
                Dialect::Postgres => 10,
                // One writer at a time anyway; one connection also keeps `:memory:` whole.
                Dialect::Sqlite => 1,
            });
        let pool = options.connect(&url).await.map_err(|e| {
            let hint = match dialect {
                Dialect::Postgres => "; is PostgreSQL running and the database created?",
                Dialect::Sqlite => "",
            };
            StoreError(format!("cannot open the store `{shown}`: {e}{hint}"))
        })?;
        let relaxed = match dialect {
            Dialect::Postgres => AnyPoolOptions::new()
                .acquire_timeout(Duration::from_secs(10))
                .max_connections(4)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        sqlx::Executor::execute(&mut *conn, "SET synchronous_commit = off")
                            .await
                            .map(|_| ())
                    })
                })
                .connect(&url)
                .await
                .map_err(|e| StoreError(format!("cannot open the store `{shown}`: {e}")))?,
            Dialect::Sqlite => pool.clone(),
        };
        let store = SqlStore {
            pool,
            relaxed,
            dialect,
            shown,
        };
        migrate::migrate(&store).await?;
        Ok(store)
    }

    /// The database kind.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The URL, password hidden.
    pub fn url(&self) -> &str {
        &self.shown
    }

    /// The schema version the store is at.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        migrate::current(self).await
    }

    /// Closes the pool (waits for connections in use to come back).
    pub async fn close(&self) {
        self.relaxed.close().await;
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The pool for checkpoints and lease renewals: losing the last few of them in a database
    /// crash only means a resumed run repeats a few more actions (still at least once), so
    /// PostgreSQL does not wait for the disk to commit them.
    pub(crate) fn relaxed(&self) -> &AnyPool {
        &self.relaxed
    }

    /// The database's clock as Unix seconds (one clock for every instance's leases).
    pub(crate) fn now_sql(&self) -> &'static str {
        match self.dialect {
            Dialect::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE PRECISION)",
            Dialect::Sqlite => "((julianday('now') - 2440587.5) * 86400.0)",
        }
    }

    /// What makes concurrent claimers skip each other's rows.
    pub(crate) fn skip_locked(&self) -> &'static str {
        match self.dialect {
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            // SQLite runs one write at a time: the claiming UPDATE is atomic as it is.
            Dialect::Sqlite => "",
        }
    }

    pub(crate) fn error(&self, doing: &str, e: sqlx::Error) -> StoreError {
        StoreError(format!("{doing} in `{}`: {e}", self.shown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
        assert_eq!(
            SqlStore::sqlite_url(Path::new("/tmp/a?b#c%d.db")),
            "sqlite:///tmp/a%3Fb%23c%25d.db?mode=rwc"
        );
    }
}
