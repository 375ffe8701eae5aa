//! The store's schema, as numbered migrations applied in order at start-up and recorded in
//! `flowyt_schema`. Instances starting together take turns: PostgreSQL under an advisory
//! lock, SQLite inside an immediate (write-locked) transaction.

use super::{Dialect, SqlStore, StoreError};
use sqlx::AnyConnection;
use sqlx::Row;

/// One step of a migration.
enum Step {
    /// A statement valid in both dialects.
    Sql(&'static str),
    /// SQLite only: moves the rows of the `runs` table earlier flowyt versions kept into
    /// `flowyt_runs`, if there is one.
    AdoptLegacyRuns,
}

struct Migration {
    version: i64,
    name: &'static str,
    steps: &'static [Step],
}

/// Every migration, oldest first. Never edit one that shipped: add the next.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "runs, run queue and schedules",
        steps: &[
            Step::Sql(
                "CREATE TABLE flowyt_runs (
                workspace TEXT NOT NULL,
                flow TEXT NOT NULL,
                run_id TEXT NOT NULL,
                status TEXT NOT NULL,
                conf TEXT NOT NULL,
                input TEXT,
                queued_at DOUBLE PRECISION NOT NULL,
                started_at DOUBLE PRECISION,
                ended_at DOUBLE PRECISION,
                attempts BIGINT NOT NULL DEFAULT 0,
                owner TEXT,
                lease_until DOUBLE PRECISION,
                cancel_requested BIGINT NOT NULL DEFAULT 0,
                checkpoint TEXT,
                result TEXT,
                trace TEXT,
                error TEXT,
                PRIMARY KEY (workspace, flow, run_id)
            )",
            ),
            Step::Sql("CREATE INDEX flowyt_runs_queue ON flowyt_runs (status, queued_at)"),
            Step::Sql("CREATE INDEX flowyt_runs_flow ON flowyt_runs (workspace, flow, queued_at)"),
            Step::Sql("CREATE INDEX flowyt_runs_workspace ON flowyt_runs (workspace, queued_at)"),
            Step::Sql("CREATE INDEX flowyt_runs_ended ON flowyt_runs (ended_at)"),
            Step::Sql("CREATE INDEX flowyt_runs_owner ON flowyt_runs (owner)"),
            Step::Sql(
                "CREATE TABLE flowyt_schedules (
                workspace TEXT NOT NULL,
                flow TEXT NOT NULL,
                spec TEXT NOT NULL,
                next_fire DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (workspace, flow)
            )",
            ),
            Step::AdoptLegacyRuns,
        ],
    },
    Migration {
        version: 2,
        name: "registry",
        steps: &[Step::Sql(
            "CREATE TABLE flowyt_registry (
            app TEXT NOT NULL,
            instance_id TEXT NOT NULL,
            instance TEXT NOT NULL,
            reported TEXT NOT NULL,
            owner TEXT,
            lease_secs DOUBLE PRECISION NOT NULL,
            lease_until DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (app, instance_id)
        )",
        )],
    },
    Migration {
        version: 3,
        name: "the trace a run belongs to",
        steps: &[Step::Sql(
            "ALTER TABLE flowyt_runs ADD COLUMN traceparent TEXT",
        )],
    },
    Migration {
        version: 4,
        name: "the logical date of a run",
        steps: &[Step::Sql(
            "ALTER TABLE flowyt_runs ADD COLUMN logical_date DOUBLE PRECISION",
        )],
    },
    Migration {
        version: 5,
        name: "what kind of failure ended a run",
        steps: &[Step::Sql(
            "ALTER TABLE flowyt_runs ADD COLUMN error_kind TEXT",
        )],
    },
];

/// The newest schema this build knows.
pub(crate) const LATEST: i64 = 5;

const SCHEMA_TABLE: &str = "CREATE TABLE IF NOT EXISTS flowyt_schema (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at DOUBLE PRECISION NOT NULL
)";

/// An arbitrary constant: the advisory lock flowyt's migrations take in PostgreSQL.
const PG_LOCK: i64 = 0x666c_6f77_7974;

pub(crate) async fn current(store: &SqlStore) -> Result<i64, StoreError> {
    let mut conn = store
        .pool()
        .acquire()
        .await
        .map_err(|e| store.error("cannot connect", e))?;
    version(store, &mut conn).await
}

async fn version(store: &SqlStore, conn: &mut AnyConnection) -> Result<i64, StoreError> {
    sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM flowyt_schema")
        .fetch_one(&mut *conn)
        .await
        .and_then(|row| row.try_get::<i64, _>("v"))
        .map_err(|e| store.error("cannot read the schema version", e))
}

async fn exec(store: &SqlStore, conn: &mut AnyConnection, sql: &str) -> Result<(), StoreError> {
    sqlx::query(sql)
        .execute(&mut *conn)
        .await
        .map(|_| ())
        .map_err(|e| store.error("cannot migrate the schema", e))
}

/// Brings the schema up to [`LATEST`].
pub(crate) async fn migrate(store: &SqlStore) -> Result<(), StoreError> {
    let mut conn = store
        .pool()
        .acquire()
        .await
        .map_err(|e| store.error("cannot connect", e))?;
    let (lock, unlock, commit) = match store.dialect() {
        Dialect::Postgres => (
            format!("SELECT pg_advisory_lock({PG_LOCK})"),
            format!("SELECT pg_advisory_unlock({PG_LOCK})"),
            None,
        ),
        Dialect::Sqlite => (
            "BEGIN IMMEDIATE".to_string(),
            "ROLLBACK".to_string(),
            Some("COMMIT"),
        ),
    };
    exec(store, &mut conn, &lock).await?;
    let applied = apply_pending(store, &mut conn).await;
    let finish = match (&applied, commit) {
        (Ok(()), Some(commit)) => commit,
        _ => unlock.as_str(),
    };
    let released = exec(store, &mut conn, finish).await;
    applied.and(released)
}

async fn apply_pending(store: &SqlStore, conn: &mut AnyConnection) -> Result<(), StoreError> {
    exec(store, conn, SCHEMA_TABLE).await?;
    let at = version(store, conn).await?;
    if at > LATEST {
        return Err(StoreError(format!(
            "the schema of `{}` is at version {at}, newer than this flowyt knows ({LATEST}): run a newer flowyt",
            store.url()
        )));
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > at) {
        // PostgreSQL runs DDL in transactions: a migration applies whole or not at all.
        // (SQLite already is inside the immediate transaction.)
        let pg = store.dialect() == Dialect::Postgres;
        if pg {
            exec(store, conn, "BEGIN").await?;
        }
        let applied = apply(store, conn, m).await;
        if pg {
            let end = if applied.is_ok() {
                "COMMIT"
            } else {
                "ROLLBACK"
            };
            exec(store, conn, end).await?;
        }
        applied?;
        tracing::info!(
            version = m.version,
            name = m.name,
            store = store.url(),
            "store schema migrated"
        );
    }
    Ok(())
}

async fn apply(
    store: &SqlStore,
    conn: &mut AnyConnection,
    m: &Migration,
) -> Result<(), StoreError> {
    for step in m.steps {
        match step {
            Step::Sql(sql) => exec(store, conn, sql).await?,
            Step::AdoptLegacyRuns => adopt_legacy_runs(store, conn).await?,
        }
    }
    let record = format!(
        "INSERT INTO flowyt_schema (version, name, applied_at) VALUES ($1, $2, {})",
        store.now_sql()
    );
    sqlx::query(&record)
        .bind(m.version)
        .bind(m.name)
        .execute(&mut *conn)
        .await
        .map_err(|e| store.error("cannot record a migration", e))?;
    Ok(())
}

/// Earlier versions kept runs in an SQLite table `runs` without a queue: its ended runs are
/// kept, and the ones it left in flight (never resumable: it kept no checkpoints) are failed.
async fn adopt_legacy_runs(store: &SqlStore, conn: &mut AnyConnection) -> Result<(), StoreError> {
    if store.dialect() != Dialect::Sqlite {
        return Ok(());
    }
    let found: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'runs'",
    )
    .fetch_one(&mut *conn)
    .await
    .and_then(|row| row.try_get("n"))
    .map_err(|e| store.error("cannot look for an older run table", e))?;
    if found == 0 {
        return Ok(());
    }
    exec(
        store,
        conn,
        "INSERT INTO flowyt_runs (workspace, flow, run_id, status, conf, queued_at, started_at,
             ended_at, attempts, result, trace, error)
         SELECT workspace, flow, run_id,
             CASE WHEN status IN ('queued', 'running') THEN 'failed' ELSE status END,
             conf, queued_at, started_at,
             CASE WHEN status IN ('queued', 'running') THEN COALESCE(ended_at, queued_at) ELSE ended_at END,
             CASE WHEN started_at IS NULL THEN 0 ELSE 1 END,
             result, trace,
             CASE WHEN status IN ('queued', 'running')
                 THEN 'the server stopped while the run was in flight' ELSE error END
         FROM runs",
    )
    .await?;
    exec(store, conn, "DROP TABLE runs").await
}
