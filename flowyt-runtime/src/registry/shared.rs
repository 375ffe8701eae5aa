//! The registry shared by several flowyt instances: every change is written through to a
//! [`RegistryStore`] (the source of truth) and every instance refreshes its in-memory view
//! from it each second, so a service registered through one instance is discoverable from all
//! of them and a lease expires once for the whole cluster.

use super::{Lease, Registry, changed};
use crate::runs::StoreFuture;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// One instance's registration as a store keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct RegistryRow {
    /// The application (upper case).
    pub app: String,
    /// The instance id.
    pub id: String,
    /// The instance as Eureka shows it.
    pub instance: Map<String, Value>,
    /// The status the client reported (restored when an override is removed).
    pub reported: String,
    /// The client address that registered it.
    pub owner: Option<String>,
    /// The lease's length, seconds.
    pub lease_secs: f64,
    /// Unix time the lease ends unless renewed.
    pub lease_until: f64,
}

/// Where a shared registry keeps its rows (`SqlStore` with feature `sqlite` or `postgres`).
pub trait RegistryStore: Send + Sync + 'static {
    /// Adds or replaces a registration.
    fn put<'a>(&'a self, row: &'a RegistryRow) -> StoreFuture<'a, ()>;
    /// Extends a lease to `lease_until`; `false` if the instance is not registered.
    fn renew<'a>(&'a self, app: &'a str, id: &'a str, lease_until: f64) -> StoreFuture<'a, bool>;
    /// Removes a registration; `false` if there was none.
    fn delete<'a>(&'a self, app: &'a str, id: &'a str) -> StoreFuture<'a, bool>;
    /// Every registration.
    fn all(&self) -> StoreFuture<'_, Vec<RegistryRow>>;
    /// Removes the registrations whose lease ended before `now` (Unix seconds).
    fn evict(&self, now: f64) -> StoreFuture<'_, usize>;
}

fn wall() -> f64 {
    crate::runs::now()
}

impl Registry {
    /// The row of a registration, as the local view has it.
    pub(super) fn row(&self, app: &str, id: &str, now: Instant) -> Option<RegistryRow> {
        let app = app.to_ascii_uppercase();
        let inner = self.lock();
        let lease = inner.apps.get(&app)?.get(id)?;
        let left = lease
            .duration
            .saturating_sub(now.saturating_duration_since(lease.renewed));
        Some(RegistryRow {
            app,
            id: id.to_string(),
            instance: lease.instance.clone(),
            reported: lease.reported.clone(),
            owner: lease.owner.map(|ip| ip.to_string()),
            lease_secs: lease.duration.as_secs_f64(),
            lease_until: wall() + left.as_secs_f64(),
        })
    }

    /// Makes the local view the store's `rows`, recording what changed for `apps/delta`.
    pub(super) fn replace(&self, rows: Vec<RegistryRow>, now: Instant) {
        let wall_now = wall();
        let mut apps: BTreeMap<String, BTreeMap<String, Lease>> = BTreeMap::new();
        for row in rows {
            let duration =
                Duration::try_from_secs_f64(row.lease_secs).unwrap_or(super::DEFAULT_LEASE);
            let left = Duration::try_from_secs_f64(row.lease_until - wall_now).unwrap_or_default();
            let renewed = now
                .checked_sub(duration.saturating_sub(left))
                .unwrap_or(now);
            let mut instance = row.instance;
            if let Some(Value::Object(info)) = instance.get_mut("leaseInfo") {
                let renewed_ms = ((row.lease_until - row.lease_secs) * 1000.0).max(0.0) as u64;
                info.insert("lastRenewalTimestamp".into(), json!(renewed_ms));
            }
            apps.entry(row.app).or_default().insert(
                row.id,
                Lease {
                    instance,
                    renewed,
                    duration,
                    reported: row.reported,
                    owner: row.owner.and_then(|o| o.parse().ok()),
                },
            );
        }
        let mut inner = self.lock();
        let old = std::mem::take(&mut inner.apps);
        let same = |a: &Map<String, Value>, b: &Map<String, Value>| {
            a.iter()
                .filter(|(k, _)| k.as_str() != "leaseInfo" && k.as_str() != "actionType")
                .all(|(k, v)| b.get(k) == Some(v))
                && a.len() == b.len()
        };
        let mut changes = Vec::new();
        for (app, instances) in &apps {
            for (id, lease) in instances {
                let before = old.get(app).and_then(|a| a.get(id));
                let action = match before {
                    None => "ADDED",
                    Some(b) if !same(&b.instance, &lease.instance) => "MODIFIED",
                    Some(_) => continue,
                };
                let mut instance = lease.instance.clone();
                instance.insert("actionType".into(), json!(action));
                changes.push((app.clone(), instance));
            }
        }
        for (app, instances) in &old {
            for (id, lease) in instances {
                if apps.get(app).is_none_or(|a| !a.contains_key(id)) {
                    let mut instance = lease.instance.clone();
                    instance.insert("actionType".into(), json!("DELETED"));
                    changes.push((app.clone(), instance));
                }
            }
        }
        inner.apps = apps;
        for (app, instance) in changes {
            changed(&mut inner, now, app, instance);
        }
    }

    /// Refreshes the local view from the store after removing the leases that expired.
    pub(super) async fn refresh(
        &self,
        store: &dyn RegistryStore,
    ) -> Result<usize, crate::runs::StoreError> {
        let evicted = store.evict(wall()).await?;
        let rows = store.all().await?;
        self.replace(rows, Instant::now());
        Ok(evicted)
    }
}
