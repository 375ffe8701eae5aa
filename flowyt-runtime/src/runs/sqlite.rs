//! [`SqliteStore`]: run history in an embedded SQLite file (what `flowyt serve` uses).

use super::{Page, RunRecord, RunStatus, RunStore, StoreError, StoreFuture};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Run records in one SQLite file. Every call runs on tokio's blocking pool, so a slow disk
/// never stalls the async workers; cheap to clone (clones share the connection).
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

impl SqliteStore {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path)
            .map_err(|e| err(format!("cannot open `{}`: {e}", path.display())))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE IF NOT EXISTS runs (
                 workspace TEXT NOT NULL,
                 flow TEXT NOT NULL,
                 run_id TEXT NOT NULL,
                 status TEXT NOT NULL,
                 conf TEXT NOT NULL,
                 queued_at REAL NOT NULL,
                 started_at REAL,
                 ended_at REAL,
                 result TEXT,
                 trace TEXT,
                 error TEXT,
                 PRIMARY KEY (workspace, flow, run_id)
             );",
        )
        .map_err(err)?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let conn = self
            .conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&conn).map_err(err)
    }
}

fn to_text(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(Value::to_string)
}

fn from_text(s: Option<String>) -> Option<Value> {
    s.and_then(|s| serde_json::from_str(&s).ok())
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
    let status: String = r.get(3)?;
    let conf: String = r.get(4)?;
    Ok(RunRecord {
        workspace: r.get(0)?,
        flow: r.get(1)?,
        run_id: r.get(2)?,
        status: RunStatus::parse(&status).unwrap_or(RunStatus::Failed),
        conf: serde_json::from_str(&conf).unwrap_or(Value::Null),
        queued_at: r.get(5)?,
        started_at: r.get(6)?,
        ended_at: r.get(7)?,
        result: from_text(r.get(8)?),
        trace: from_text(r.get(9)?),
        error: r.get(10)?,
    })
}

const COLUMNS: &str =
    "workspace, flow, run_id, status, conf, queued_at, started_at, ended_at, result, trace, error";

impl SqliteStore {
    /// Runs `sql` with the record's fields bound as `?1`..`?11` in `COLUMNS` order.
    fn write(&self, sql: &str, run: &RunRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                sql,
                params![
                    run.workspace,
                    run.flow,
                    run.run_id,
                    run.status.as_str(),
                    run.conf.to_string(),
                    run.queued_at,
                    run.started_at,
                    run.ended_at,
                    to_text(&run.result),
                    to_text(&run.trace),
                    run.error
                ],
            )
            .map(|_| ())
        })
    }
}

impl SqliteStore {
    fn insert_now(&self, run: &RunRecord) -> Result<(), StoreError> {
        self.write(
            &format!(
                "INSERT INTO runs ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
            ),
            run,
        )
    }

    fn update_now(&self, run: &RunRecord) -> Result<(), StoreError> {
        self.write(
            "UPDATE runs SET status = ?4, conf = ?5, queued_at = ?6, started_at = ?7, ended_at = ?8,
             result = ?9, trace = ?10, error = ?11 WHERE workspace = ?1 AND flow = ?2 AND run_id = ?3",
            run,
        )
    }

    fn get_now(
        &self,
        workspace: &str,
        flow: &str,
        run_id: &str,
    ) -> Result<Option<RunRecord>, StoreError> {
        self.with(|c| {
            c.query_row(
                &format!(
                    "SELECT {COLUMNS} FROM runs WHERE workspace = ?1 AND flow = ?2 AND run_id = ?3"
                ),
                params![workspace, flow, run_id],
                row,
            )
            .optional()
        })
    }

    fn list_now(
        &self,
        workspace: &str,
        flow: &str,
        page: Page,
    ) -> Result<Vec<RunRecord>, StoreError> {
        // Only the summary columns are read: conf, result and trace may be large.
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT workspace, flow, run_id, status, 'null', queued_at, started_at, ended_at, NULL, NULL, error
                 FROM runs WHERE workspace = ?1 AND flow = ?2
                 ORDER BY queued_at DESC, rowid DESC LIMIT ?3 OFFSET ?4",
            )?;
            let limit = i64::try_from(page.limit).unwrap_or(i64::MAX);
            let offset = i64::try_from(page.offset).unwrap_or(i64::MAX);
            let rows = stmt.query_map(params![workspace, flow, limit, offset], row)?;
            rows.collect()
        })
    }

    fn prune_now(&self, ended_before: f64) -> Result<usize, StoreError> {
        self.with(|c| {
            c.execute(
                "DELETE FROM runs WHERE ended_at IS NOT NULL AND ended_at < ?1",
                params![ended_before],
            )
        })
    }

    fn fail_in_flight_now(&self, reason: &str, now: f64) -> Result<usize, StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE runs SET status = 'failed', error = ?1, ended_at = ?2 WHERE status IN ('queued', 'running')",
                params![reason, now],
            )
        })
    }
}

/// Runs `f` on a clone of the store on the blocking pool.
fn off_thread<T: Send + 'static>(
    store: &SqliteStore,
    f: impl FnOnce(&SqliteStore) -> Result<T, StoreError> + Send + 'static,
) -> StoreFuture<'static, T> {
    let store = store.clone();
    Box::pin(async move {
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| StoreError(format!("the store call failed: {e}")))?
    })
}

impl RunStore for SqliteStore {
    fn insert<'a>(&'a self, run: &'a RunRecord) -> StoreFuture<'a, ()> {
        let run = run.clone();
        off_thread(self, move |s| s.insert_now(&run))
    }

    fn update<'a>(&'a self, run: &'a RunRecord) -> StoreFuture<'a, ()> {
        let run = run.clone();
        off_thread(self, move |s| s.update_now(&run))
    }

    fn get<'a>(
        &'a self,
        workspace: &'a str,
        flow: &'a str,
        run_id: &'a str,
    ) -> StoreFuture<'a, Option<RunRecord>> {
        let key = (workspace.to_string(), flow.to_string(), run_id.to_string());
        off_thread(self, move |s| s.get_now(&key.0, &key.1, &key.2))
    }

    fn list<'a>(
        &'a self,
        workspace: &'a str,
        flow: &'a str,
        page: Page,
    ) -> StoreFuture<'a, Vec<RunRecord>> {
        let key = (workspace.to_string(), flow.to_string());
        off_thread(self, move |s| s.list_now(&key.0, &key.1, page))
    }

    fn prune(&self, ended_before: f64) -> StoreFuture<'_, usize> {
        off_thread(self, move |s| s.prune_now(ended_before))
    }

    fn fail_in_flight<'a>(&'a self, reason: &'a str, now: f64) -> StoreFuture<'a, usize> {
        let reason = reason.to_string();
        off_thread(self, move |s| s.fail_in_flight_now(&reason, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn records_survive_reopening_and_in_flight_runs_fail() {
        let path = std::env::temp_dir().join(format!("flowyt-store-{}.sqlite", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let run = RunRecord {
            run_id: "r1".into(),
            workspace: "w".into(),
            flow: "f".into(),
            status: RunStatus::Running,
            conf: json!({"usuario_id": 1}),
            queued_at: 1.0,
            started_at: Some(2.0),
            ended_at: None,
            result: None,
            trace: None,
            error: None,
        };
        {
            let store = SqliteStore::open(&path).expect("opens");
            store.insert(&run).await.expect("insert");
            assert!(store.insert(&run).await.is_err(), "run ids are unique");
        }
        let store = SqliteStore::open(&path).expect("reopens");
        assert_eq!(
            store.get("w", "f", "r1").await.expect("get"),
            Some(run.clone())
        );
        assert_eq!(store.fail_in_flight("died", 3.0).await.expect("fail"), 1);
        let got = store
            .get("w", "f", "r1")
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(
            (got.status, got.error.as_deref(), got.ended_at),
            (RunStatus::Failed, Some("died"), Some(3.0))
        );
        assert_eq!(
            store
                .list("w", "f", Page::default())
                .await
                .expect("list")
                .len(),
            1
        );
        assert_eq!(store.get("w", "f", "nope").await.expect("get"), None);
        let _ = std::fs::remove_file(&path);
    }
}
