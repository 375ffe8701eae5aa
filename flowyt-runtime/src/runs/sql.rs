//! [`RunStore`] on the SQL store: the run queue as rows of `flowyt_runs`, claimed with
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL, leases and times on the database's clock.

use super::memory::abandoned;
use super::{
    Cancelled, Claim, Claimed, Control, Fire, ListQuery, RunRecord, RunStatus, RunStore,
    ScheduleRow, StoreError, StoreFuture,
};
use crate::store::SqlStore;
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

const SUMMARY: &str = "workspace, flow, run_id, status, queued_at, started_at, ended_at, attempts, error, error_kind, traceparent, logical_date";
const FULL: &str = "workspace, flow, run_id, status, queued_at, started_at, ended_at, attempts, error, error_kind, traceparent, logical_date, conf, result, trace, checkpoint";

/// An optional number bound as text and cast back in SQL: the `Any` driver cannot bind a
/// `NULL` float to PostgreSQL. Rust prints the shortest text that reads back as the same f64.
fn float_text(v: Option<f64>) -> Option<String> {
    v.map(|f| f.to_string())
}

fn json_text(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(Value::to_string)
}

fn json_of(s: Option<String>) -> Option<Value> {
    s.and_then(|s| serde_json::from_str(&s).ok())
}

/// A record from a row of the [`SUMMARY`] columns (and [`FULL`]'s when `full`).
fn record(row: &AnyRow, full: bool) -> Result<RunRecord, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let attempts: i64 = row.try_get("attempts")?;
    let mut r = RunRecord {
        workspace: row.try_get("workspace")?,
        flow: row.try_get("flow")?,
        run_id: row.try_get("run_id")?,
        status: RunStatus::parse(&status).unwrap_or(RunStatus::Failed),
        conf: Value::Null,
        queued_at: row.try_get("queued_at")?,
        started_at: row.try_get("started_at")?,
        ended_at: row.try_get("ended_at")?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        result: None,
        trace: None,
        error: row.try_get("error")?,
        error_kind: row.try_get("error_kind")?,
        progress: Vec::new(),
        traceparent: row.try_get("traceparent")?,
        logical_date: row.try_get("logical_date")?,
    };
    if full {
        let conf: String = row.try_get("conf")?;
        r.conf = serde_json::from_str(&conf).unwrap_or(Value::Null);
        r.result = json_of(row.try_get("result")?);
        r.trace = json_of(row.try_get("trace")?);
        r.progress = RunRecord::progress_of(json_of(row.try_get("checkpoint")?).as_ref());
    }
    Ok(r)
}

/// The `WHERE` clause of a list (workspace, then flow and status when given) and the number
/// of the next placeholder.
fn list_filter(query: &ListQuery) -> (String, usize) {
    let mut filter = String::from("workspace = $1");
    let mut next = 2;
    if query.flow.is_some() {
        filter.push_str(&format!(" AND flow = ${next}"));
        next += 1;
    }
    if query.status.is_some() {
        filter.push_str(&format!(" AND status = ${next}"));
        next += 1;
    }
    (filter, next)
}

/// Binds the values of [`list_filter`]'s clause, in its order.
fn bind_filter<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    query: &'q ListQuery,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut q = q.bind(query.workspace.as_str());
    if let Some(flow) = &query.flow {
        q = q.bind(flow.as_str());
    }
    if let Some(status) = query.status {
        q = q.bind(status.as_str());
    }
    q
}

fn count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn int(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl SqlStore {
    async fn claim_now(&self, claim: &Claim) -> Result<Vec<Claimed>, StoreError> {
        let now = self.now_sql();
        let served = match &claim.workspaces {
            None => String::new(),
            Some(names) if names.is_empty() => return Ok(Vec::new()),
            Some(names) => {
                let marks: Vec<String> = (0..names.len()).map(|i| format!("${}", i + 5)).collect();
                format!(" AND workspace IN ({})", marks.join(", "))
            }
        };
        let sql = format!(
            "UPDATE flowyt_runs SET status = 'running', owner = $1, attempts = attempts + 1,
                 lease_until = {now} + $2, started_at = COALESCE(started_at, {now})
             WHERE (workspace, flow, run_id) IN (
                 SELECT workspace, flow, run_id FROM flowyt_runs
                 WHERE (status = 'queued' OR (status = 'running' AND (lease_until IS NULL OR lease_until < {now})))
                   AND attempts < $3{served}
                 ORDER BY queued_at LIMIT $4{skip})
             RETURNING {FULL}, input",
            skip = self.skip_locked()
        );
        let mut q = sqlx::query(&sql)
            .bind(claim.owner.as_str())
            .bind(claim.lease)
            .bind(i64::from(claim.max_attempts))
            .bind(int(claim.limit));
        for name in claim.workspaces.iter().flatten() {
            q = q.bind(name.as_str());
        }
        let rows = q
            .fetch_all(self.pool())
            .await
            .map_err(|e| self.error("cannot claim runs", e))?;
        let mut claimed = rows
            .iter()
            .map(|row| {
                Ok(Claimed {
                    record: record(row, true)?,
                    input: json_of(row.try_get("input")?).unwrap_or(Value::Null),
                    checkpoint: json_of(row.try_get("checkpoint")?),
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(|e| self.error("cannot read claimed runs", e))?;
        // RETURNING keeps no order: oldest first, as claimed.
        claimed.sort_by(|a, b| a.record.queued_at.total_cmp(&b.record.queued_at));
        Ok(claimed)
    }

    async fn list_now(&self, query: &ListQuery) -> Result<Vec<RunRecord>, StoreError> {
        let (filter, next) = list_filter(query);
        // Only the summary columns are read: conf, result and trace may be large.
        let sql = format!(
            "SELECT {SUMMARY} FROM flowyt_runs WHERE {filter}
             ORDER BY queued_at DESC, run_id DESC LIMIT ${next} OFFSET ${}",
            next + 1
        );
        let rows = bind_filter(sqlx::query(&sql), query)
            .bind(int(query.page.limit))
            .bind(int(query.page.offset))
            .fetch_all(self.pool())
            .await
            .map_err(|e| self.error("cannot list runs", e))?;
        rows.iter()
            .map(|row| record(row, false))
            .collect::<Result<_, _>>()
            .map_err(|e| self.error("cannot read runs", e))
    }

    async fn count_now(&self, query: &ListQuery) -> Result<usize, StoreError> {
        let (filter, _) = list_filter(query);
        let sql = format!("SELECT COUNT(*) AS n FROM flowyt_runs WHERE {filter}");
        let n: i64 = bind_filter(sqlx::query(&sql), query)
            .fetch_one(self.pool())
            .await
            .and_then(|row| row.try_get("n"))
            .map_err(|e| self.error("cannot count runs", e))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    async fn cancel_now(
        &self,
        workspace: &str,
        flow: &str,
        run_id: &str,
    ) -> Result<Cancelled, StoreError> {
        let key = "workspace = $1 AND flow = $2 AND run_id = $3";
        let queued = format!(
            "UPDATE flowyt_runs SET status = 'cancelled', ended_at = {}, error = 'cancelled before it started', error_kind = 'cancelled',
                 input = NULL WHERE {key} AND status = 'queued'",
            self.now_sql()
        );
        let bind = |sql| {
            sqlx::query(sql)
                .bind(workspace.to_string())
                .bind(flow.to_string())
                .bind(run_id.to_string())
        };
        let err = |e| self.error("cannot cancel a run", e);
        if bind(&queued)
            .execute(self.pool())
            .await
            .map_err(err)?
            .rows_affected()
            > 0
        {
            return Ok(Cancelled::Now);
        }
        let running = format!(
            "UPDATE flowyt_runs SET cancel_requested = 1 WHERE {key} AND status = 'running'"
        );
        if bind(&running)
            .execute(self.pool())
            .await
            .map_err(err)?
            .rows_affected()
            > 0
        {
            return Ok(Cancelled::Requested);
        }
        Ok(match self.get_now(workspace, flow, run_id).await? {
            None => Cancelled::NotFound,
            Some(r) => Cancelled::AlreadyEnded(r.status),
        })
    }

    async fn get_now(
        &self,
        workspace: &str,
        flow: &str,
        run_id: &str,
    ) -> Result<Option<RunRecord>, StoreError> {
        let sql = format!(
            "SELECT {FULL} FROM flowyt_runs WHERE workspace = $1 AND flow = $2 AND run_id = $3"
        );
        let row = sqlx::query(&sql)
            .bind(workspace)
            .bind(flow)
            .bind(run_id)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| self.error("cannot read a run", e))?;
        row.map(|r| record(&r, true))
            .transpose()
            .map_err(|e| self.error("cannot read a run", e))
    }

    async fn fire_now(&self, fire: &Fire) -> Result<bool, StoreError> {
        let err = |e| self.error("cannot fire a schedule", e);
        let mut tx = self.pool().begin().await.map_err(err)?;
        // Moving the schedule first takes its row lock: a second instance firing the same
        // tick waits here, then finds `next_fire` moved and does nothing.
        let moved = sqlx::query(
            "UPDATE flowyt_schedules SET next_fire = $1 WHERE workspace = $2 AND flow = $3 AND next_fire = $4",
        )
        .bind(fire.next)
        .bind(fire.run.workspace.as_str())
        .bind(fire.run.flow.as_str())
        .bind(fire.due)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        if moved.rows_affected() == 0 {
            tx.rollback().await.map_err(err)?;
            return Ok(false);
        }
        let sql = format!(
            "INSERT INTO flowyt_runs (workspace, flow, run_id, status, conf, input, queued_at, traceparent, logical_date)
             VALUES ($1, $2, $3, 'queued', '{{}}', '{{}}', {}, $4, CAST($5 AS DOUBLE PRECISION)) ON CONFLICT DO NOTHING",
            self.now_sql()
        );
        sqlx::query(&sql)
            .bind(fire.run.workspace.as_str())
            .bind(fire.run.flow.as_str())
            .bind(fire.run.run_id.as_str())
            .bind(fire.run.traceparent.as_deref())
            .bind(float_text(fire.run.logical_date))
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        tx.commit().await.map_err(err)?;
        Ok(true)
    }
}

impl RunStore for SqlStore {
    fn insert<'a>(&'a self, run: &'a RunRecord, input: &'a Value) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let sql = format!(
                "INSERT INTO flowyt_runs (workspace, flow, run_id, status, conf, input, queued_at, traceparent, logical_date)
                 VALUES ($1, $2, $3, 'queued', $4, $5, {}, $6, CAST($7 AS DOUBLE PRECISION)) ON CONFLICT DO NOTHING",
                self.now_sql()
            );
            let done = sqlx::query(&sql)
                .bind(run.workspace.as_str())
                .bind(run.flow.as_str())
                .bind(run.run_id.as_str())
                .bind(run.conf.to_string())
                .bind(input.to_string())
                .bind(run.traceparent.as_deref())
                .bind(float_text(run.logical_date))
                .execute(self.pool())
                .await
                .map_err(|e| self.error("cannot queue a run", e))?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn queued(&self) -> StoreFuture<'_, usize> {
        Box::pin(async move {
            let n: i64 =
                sqlx::query("SELECT COUNT(*) AS n FROM flowyt_runs WHERE status = 'queued'")
                    .fetch_one(self.pool())
                    .await
                    .and_then(|row| row.try_get("n"))
                    .map_err(|e| self.error("cannot count queued runs", e))?;
            Ok(usize::try_from(n).unwrap_or(0))
        })
    }

    fn get<'a>(
        &'a self,
        workspace: &'a str,
        flow: &'a str,
        run_id: &'a str,
    ) -> StoreFuture<'a, Option<RunRecord>> {
        Box::pin(self.get_now(workspace, flow, run_id))
    }

    fn list<'a>(&'a self, query: &'a ListQuery) -> StoreFuture<'a, Vec<RunRecord>> {
        Box::pin(self.list_now(query))
    }

    fn count<'a>(&'a self, query: &'a ListQuery) -> StoreFuture<'a, usize> {
        Box::pin(self.count_now(query))
    }

    fn claim<'a>(&'a self, claim: &'a Claim) -> StoreFuture<'a, Vec<Claimed>> {
        Box::pin(self.claim_now(claim))
    }

    fn sweep(&self, max_attempts: u32) -> StoreFuture<'_, usize> {
        Box::pin(async move {
            let now = self.now_sql();
            let sql = format!(
                "UPDATE flowyt_runs SET
                     status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'failed' END,
                     error = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE $1 END,
                     error_kind = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE $3 END,
                     ended_at = {now}, owner = NULL, lease_until = NULL, input = NULL, checkpoint = NULL
                 WHERE status = 'running' AND (lease_until IS NULL OR lease_until < {now})
                   AND (cancel_requested = 1 OR attempts >= $2)"
            );
            let done = sqlx::query(&sql)
                .bind(abandoned(max_attempts))
                .bind(i64::from(max_attempts))
                .bind(crate::ErrorKind::Interrupted.as_str())
                .execute(self.pool())
                .await
                .map_err(|e| self.error("cannot end abandoned runs", e))?;
            Ok(count(done.rows_affected()))
        })
    }

    fn renew<'a>(&'a self, owner: &'a str, lease: f64) -> StoreFuture<'a, usize> {
        Box::pin(async move {
            let sql = format!(
                "UPDATE flowyt_runs SET lease_until = {} + $1 WHERE owner = $2 AND status = 'running'",
                self.now_sql()
            );
            let done = sqlx::query(&sql)
                .bind(lease)
                .bind(owner)
                .execute(self.relaxed())
                .await
                .map_err(|e| self.error("cannot renew leases", e))?;
            Ok(count(done.rows_affected()))
        })
    }

    fn checkpoint<'a>(
        &'a self,
        run: &'a RunRecord,
        owner: &'a str,
        checkpoint: &'a Value,
        lease: f64,
    ) -> StoreFuture<'a, Control> {
        Box::pin(async move {
            let sql = format!(
                "UPDATE flowyt_runs SET checkpoint = $1, lease_until = {} + $2
                 WHERE workspace = $3 AND flow = $4 AND run_id = $5 AND owner = $6 AND status = 'running'
                 RETURNING cancel_requested",
                self.now_sql()
            );
            let row = sqlx::query(&sql)
                .bind(checkpoint.to_string())
                .bind(lease)
                .bind(run.workspace.as_str())
                .bind(run.flow.as_str())
                .bind(run.run_id.as_str())
                .bind(owner)
                .fetch_optional(self.relaxed())
                .await
                .map_err(|e| self.error("cannot checkpoint a run", e))?;
            Ok(match row {
                None => Control::Lost,
                Some(row) => match row.try_get::<i64, _>("cancel_requested") {
                    Ok(0) => Control::Continue,
                    Ok(_) => Control::Cancel,
                    Err(e) => return Err(self.error("cannot checkpoint a run", e)),
                },
            })
        })
    }

    fn finish<'a>(&'a self, run: &'a RunRecord, owner: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let sql = format!(
                "UPDATE flowyt_runs SET status = $1, ended_at = {}, result = $2, trace = $3, error = $4,
                     error_kind = $9, owner = NULL, lease_until = NULL, input = NULL, checkpoint = NULL
                 WHERE workspace = $5 AND flow = $6 AND run_id = $7 AND owner = $8 AND status = 'running'",
                self.now_sql()
            );
            let done = sqlx::query(&sql)
                .bind(run.status.as_str())
                .bind(json_text(&run.result))
                .bind(json_text(&run.trace))
                .bind(run.error.clone())
                .bind(run.workspace.as_str())
                .bind(run.flow.as_str())
                .bind(run.run_id.as_str())
                .bind(owner)
                .bind(run.error_kind.clone())
                .execute(self.pool())
                .await
                .map_err(|e| self.error("cannot record a run's end", e))?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn release<'a>(&'a self, owner: &'a str) -> StoreFuture<'a, usize> {
        Box::pin(async move {
            let done = sqlx::query(
                "UPDATE flowyt_runs SET status = 'queued', owner = NULL, lease_until = NULL
                 WHERE owner = $1 AND status = 'running'",
            )
            .bind(owner)
            .execute(self.pool())
            .await
            .map_err(|e| self.error("cannot hand runs back", e))?;
            Ok(count(done.rows_affected()))
        })
    }

    fn cancel<'a>(
        &'a self,
        workspace: &'a str,
        flow: &'a str,
        run_id: &'a str,
    ) -> StoreFuture<'a, Cancelled> {
        Box::pin(self.cancel_now(workspace, flow, run_id))
    }

    fn prune(&self, ended_before: f64) -> StoreFuture<'_, usize> {
        Box::pin(async move {
            let done =
                sqlx::query("DELETE FROM flowyt_runs WHERE ended_at IS NOT NULL AND ended_at < $1")
                    .bind(ended_before)
                    .execute(self.pool())
                    .await
                    .map_err(|e| self.error("cannot delete old runs", e))?;
            Ok(count(done.rows_affected()))
        })
    }

    fn schedules(&self) -> StoreFuture<'_, Vec<ScheduleRow>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT workspace, flow, spec, next_fire FROM flowyt_schedules")
                .fetch_all(self.pool())
                .await
                .map_err(|e| self.error("cannot read schedules", e))?;
            rows.iter()
                .map(|row| {
                    Ok(ScheduleRow {
                        workspace: row.try_get("workspace")?,
                        flow: row.try_get("flow")?,
                        spec: row.try_get("spec")?,
                        next_fire: row.try_get("next_fire")?,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()
                .map_err(|e| self.error("cannot read schedules", e))
        })
    }

    fn put_schedule<'a>(&'a self, row: &'a ScheduleRow) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO flowyt_schedules (workspace, flow, spec, next_fire) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (workspace, flow) DO UPDATE SET spec = excluded.spec, next_fire = excluded.next_fire
                 WHERE flowyt_schedules.spec <> excluded.spec",
            )
            .bind(row.workspace.as_str())
            .bind(row.flow.as_str())
            .bind(row.spec.as_str())
            .bind(row.next_fire)
            .execute(self.pool())
            .await
            .map_err(|e| self.error("cannot record a schedule", e))?;
            Ok(())
        })
    }

    fn fire<'a>(&'a self, fire: &'a Fire) -> StoreFuture<'a, bool> {
        Box::pin(self.fire_now(fire))
    }
}
