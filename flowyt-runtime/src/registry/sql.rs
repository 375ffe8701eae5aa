//! [`RegistryStore`] on the SQL store: one row of `flowyt_registry` per registered instance.

use super::shared::{RegistryRow, RegistryStore};
use crate::runs::StoreFuture;
use crate::store::SqlStore;
use serde_json::{Map, Value};
use sqlx::Row;

impl RegistryStore for SqlStore {
    fn put<'a>(&'a self, row: &'a RegistryRow) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO flowyt_registry (app, instance_id, instance, reported, owner, lease_secs, lease_until)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (app, instance_id) DO UPDATE SET instance = excluded.instance,
                     reported = excluded.reported, owner = excluded.owner,
                     lease_secs = excluded.lease_secs, lease_until = excluded.lease_until",
            )
            .bind(row.app.as_str())
            .bind(row.id.as_str())
            .bind(Value::Object(row.instance.clone()).to_string())
            .bind(row.reported.as_str())
            .bind(row.owner.clone())
            .bind(row.lease_secs)
            .bind(row.lease_until)
            .execute(self.pool())
            .await
            .map_err(|e| self.error("cannot register an instance", e))?;
            Ok(())
        })
    }

    fn renew<'a>(&'a self, app: &'a str, id: &'a str, lease_until: f64) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let done = sqlx::query(
                "UPDATE flowyt_registry SET lease_until = $1 WHERE app = $2 AND instance_id = $3",
            )
            .bind(lease_until)
            .bind(app)
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(|e| self.error("cannot renew a lease", e))?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn delete<'a>(&'a self, app: &'a str, id: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let done =
                sqlx::query("DELETE FROM flowyt_registry WHERE app = $1 AND instance_id = $2")
                    .bind(app)
                    .bind(id)
                    .execute(self.pool())
                    .await
                    .map_err(|e| self.error("cannot cancel an instance", e))?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn all(&self) -> StoreFuture<'_, Vec<RegistryRow>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT app, instance_id, instance, reported, owner, lease_secs, lease_until
                 FROM flowyt_registry",
            )
            .fetch_all(self.pool())
            .await
            .map_err(|e| self.error("cannot read the registry", e))?;
            rows.iter()
                .map(|row| {
                    let instance: String = row.try_get("instance")?;
                    Ok(RegistryRow {
                        app: row.try_get("app")?,
                        id: row.try_get("instance_id")?,
                        instance: serde_json::from_str::<Map<String, Value>>(&instance)
                            .unwrap_or_default(),
                        reported: row.try_get("reported")?,
                        owner: row.try_get("owner")?,
                        lease_secs: row.try_get("lease_secs")?,
                        lease_until: row.try_get("lease_until")?,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()
                .map_err(|e| self.error("cannot read the registry", e))
        })
    }

    fn evict(&self, now: f64) -> StoreFuture<'_, usize> {
        Box::pin(async move {
            let done = sqlx::query("DELETE FROM flowyt_registry WHERE lease_until < $1")
                .bind(now)
                .execute(self.pool())
                .await
                .map_err(|e| self.error("cannot evict expired leases", e))?;
            Ok(usize::try_from(done.rows_affected()).unwrap_or(usize::MAX))
        })
    }
}
