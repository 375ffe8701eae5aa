//! An embedded, in-memory Eureka-compatible registry: `flowyt serve` answers the Eureka REST API
//! under `/eureka` (and `/eureka/v2`, the path the seed's services use), so services using
//! py_eureka_client or Spring's Eureka client register with flowyt itself and flows call them
//! as `service://NAME/path`.
//!
//! What clients send and expect (checked against py_eureka_client 0.13):
//! - register: `POST apps/{APP}` with JSON `{"instance": {...}}` → 204;
//! - renew: `PUT apps/{APP}/{id}?status=UP&lastDirtyTimestamp=..` → 200, or 404 when the
//!   instance is unknown (expired, never registered): the client then registers again;
//! - cancel: `DELETE apps/{APP}/{id}` → 200 (404 when unknown);
//! - status override: `PUT apps/{APP}/{id}/status?value=OUT_OF_SERVICE`, `DELETE` the same;
//! - fetch: `GET apps/`, `GET apps/delta`, `GET apps/{APP}`, `GET apps/{APP}/{id}`. Without an
//!   `Accept: application/json` header the answer is XML, which is what py_eureka_client parses.
//!
//! A lease not renewed within its `leaseInfo.durationInSecs` (default 90 s) is evicted by
//! [`evict_expired`]. What one client can store is bounded by [`Limits`]. Several flowyt
//! instances share one registry through a [`RegistryStore`] ([`Registry::shared`]).

mod http;
mod shared;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(test)]
mod tests;

pub use http::router;
pub use shared::{RegistryRow, RegistryStore};

use axum::Extension;
use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What the registry accepts, so a misbehaving client cannot exhaust memory.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Instances held at once, over all applications.
    pub max_instances: usize,
    /// Instances of one application.
    pub max_per_app: usize,
    /// Instances registered from one client address (when the server knows it: see
    /// [`crate::server::serve`], or axum's `into_make_service_with_connect_info`).
    pub max_per_client: usize,
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Longest application name or instance id.
    pub max_name: usize,
    /// Longest lease a client may ask for.
    pub max_lease: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_instances: 1000,
            max_per_app: 100,
            max_per_client: 100,
            max_body: 16 * 1024,
            max_name: 200,
            // Clients renew every 30 s by default; a dead or junk instance goes in minutes.
            max_lease: Duration::from_secs(300),
        }
    }
}

/// How long a lease lasts when the client does not say (Eureka's default).
const DEFAULT_LEASE: Duration = Duration::from_secs(90);
/// How long a change stays in `apps/delta` (Eureka keeps three minutes).
const DELTA_RETENTION: Duration = Duration::from_secs(180);

/// One registered instance: what the client sent, completed by the registry.
#[derive(Debug, Clone)]
struct Lease {
    instance: Map<String, Value>,
    renewed: Instant,
    duration: Duration,
    /// The status the client reported, restored when an override is deleted.
    reported: String,
    /// The address that registered it, when known.
    owner: Option<IpAddr>,
}

#[derive(Debug, Default)]
struct Inner {
    /// APP → instance id → lease, both sorted so answers are stable.
    apps: BTreeMap<String, BTreeMap<String, Lease>>,
    /// Bumped on every change (`versions__delta`).
    version: u64,
    /// Recent changes for `apps/delta`: when, the app, the instance with its `actionType`.
    recent: VecDeque<(Instant, String, Map<String, Value>)>,
}

/// The registry: an in-memory view shared by the handlers and the eviction task, backed by a
/// [`RegistryStore`] when several flowyt instances share it.
pub struct Registry {
    inner: Mutex<Inner>,
    limits: Limits,
    store: Option<Arc<dyn RegistryStore>>,
    /// The `(service, status)` pairs the last [`Registry::record_gauges`] set.
    gauged: Mutex<Vec<(String, String)>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("limits", &self.limits)
            .field("shared", &self.store.is_some())
            .finish()
    }
}

/// Why a registration was refused.
#[derive(Debug, PartialEq)]
enum Refused {
    Bad(String),
    Full(usize),
    AppFull(usize),
    ClientFull(usize),
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Registry {
    /// An empty registry with these limits.
    pub fn new(limits: Limits) -> Arc<Registry> {
        Arc::new(Registry {
            gauged: Mutex::default(),
            inner: Mutex::new(Inner::default()),
            limits,
            store: None,
        })
    }

    /// A registry kept in `store`, shared with every flowyt instance using the same store:
    /// changes are written through, and [`evict_expired`] refreshes this instance's view
    /// every second.
    pub fn shared(limits: Limits, store: Arc<dyn RegistryStore>) -> Arc<Registry> {
        Arc::new(Registry {
            gauged: Mutex::default(),
            inner: Mutex::new(Inner::default()),
            limits,
            store: Some(store),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers (or replaces) an instance of `app` from a `{"instance": {...}}` body; returns
    /// its id.
    fn register(
        &self,
        app: &str,
        body: &[u8],
        now: Instant,
        client: Option<IpAddr>,
    ) -> Result<String, Refused> {
        let app = app.to_ascii_uppercase();
        if app.is_empty() || app.len() > self.limits.max_name {
            return Err(Refused::Bad(format!(
                "the application name must have 1 to {} characters",
                self.limits.max_name
            )));
        }
        let body: Value = serde_json::from_slice(body).map_err(|e| {
            Refused::Bad(format!(
                "the body must be JSON `{{\"instance\": {{...}}}}`: {e}"
            ))
        })?;
        let Some(Value::Object(instance)) = body.get("instance") else {
            return Err(Refused::Bad(
                "the body must be `{\"instance\": {...}}` with the instance as an object".into(),
            ));
        };
        let mut instance = instance.clone();
        let id = ["instanceId", "hostName"]
            .iter()
            .find_map(|k| instance.get(*k).and_then(Value::as_str))
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                Refused::Bad("the instance needs an `instanceId` (or a `hostName`)".into())
            })?
            .to_string();
        if id.len() > self.limits.max_name {
            return Err(Refused::Bad(format!(
                "`instanceId` is longer than {} characters",
                self.limits.max_name
            )));
        }
        if !["ipAddr", "hostName"].iter().any(|k| {
            instance
                .get(*k)
                .and_then(Value::as_str)
                .is_some_and(|h| !h.is_empty())
        }) {
            return Err(Refused::Bad(
                "the instance needs an `ipAddr` or a `hostName`".into(),
            ));
        }
        let port_ok = match instance.get("port") {
            Some(Value::Object(p)) => p
                .get("$")
                .is_some_and(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()).is_some()),
            Some(v) => v.as_u64().is_some(),
            None => false,
        };
        if !port_ok {
            return Err(Refused::Bad(
                "the instance needs a `port`, as `{\"$\": 8080, \"@enabled\": \"true\"}`".into(),
            ));
        }
        let duration = match instance
            .get("leaseInfo")
            .and_then(|l| l.get("durationInSecs"))
        {
            None | Some(Value::Null) => DEFAULT_LEASE,
            Some(v) => match v.as_u64().or_else(|| v.as_str()?.parse().ok()) {
                Some(0) => DEFAULT_LEASE,
                Some(s) => Duration::from_secs(s).min(self.limits.max_lease),
                None => {
                    return Err(Refused::Bad(
                        "`leaseInfo.durationInSecs` must be a number of seconds".into(),
                    ));
                }
            },
        };
        let status = match instance.get("status") {
            None | Some(Value::Null) => "UP".to_string(),
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 32 => s.to_ascii_uppercase(),
            Some(_) => return Err(Refused::Bad("`status` must be a short string".into())),
        };
        let mut inner = self.lock();
        let exists = inner.apps.get(&app).is_some_and(|a| a.contains_key(&id));
        let count: usize = inner.apps.values().map(BTreeMap::len).sum();
        if !exists {
            if count >= self.limits.max_instances {
                return Err(Refused::Full(self.limits.max_instances));
            }
            if inner.apps.get(&app).map_or(0, BTreeMap::len) >= self.limits.max_per_app {
                return Err(Refused::AppFull(self.limits.max_per_app));
            }
            let from_client = |ip: IpAddr| {
                inner
                    .apps
                    .values()
                    .flat_map(BTreeMap::values)
                    .filter(|l| l.owner == Some(ip))
                    .count()
            };
            if client.is_some_and(|ip| from_client(ip) >= self.limits.max_per_client) {
                return Err(Refused::ClientFull(self.limits.max_per_client));
            }
        }
        let ms = now_ms();
        let mut lease_info = match instance.remove("leaseInfo") {
            Some(Value::Object(l)) => l,
            _ => Map::new(),
        };
        lease_info.insert("durationInSecs".into(), json!(duration.as_secs()));
        lease_info.insert("registrationTimestamp".into(), json!(ms));
        lease_info.insert("lastRenewalTimestamp".into(), json!(ms));
        lease_info.insert("serviceUpTimestamp".into(), json!(ms));
        lease_info.insert("evictionTimestamp".into(), json!(0));
        instance.insert("leaseInfo".into(), Value::Object(lease_info));
        instance.insert("app".into(), json!(app));
        instance.insert("instanceId".into(), json!(id));
        instance.insert("status".into(), json!(status));
        instance.insert("lastUpdatedTimestamp".into(), json!(ms.to_string()));
        instance.insert(
            "actionType".into(),
            json!(if exists { "MODIFIED" } else { "ADDED" }),
        );
        let lease = Lease {
            instance: instance.clone(),
            renewed: now,
            duration,
            reported: status,
            owner: client,
        };
        inner
            .apps
            .entry(app.clone())
            .or_default()
            .insert(id.clone(), lease);
        changed(&mut inner, now, app, instance);
        Ok(id)
    }

    /// Every registered instance: `(app, instance id, status, address)`, the address being
    /// `ipAddr:port` (or `hostName:port`). For dashboards such as the console.
    pub fn instances(&self) -> Vec<(String, String, String, String)> {
        let inner = self.lock();
        inner
            .apps
            .iter()
            .flat_map(|(app, instances)| {
                instances.iter().map(move |(id, lease)| {
                    let i = &lease.instance;
                    let text = |k: &str| i.get(k).and_then(Value::as_str).unwrap_or("");
                    let host = if text("ipAddr").is_empty() {
                        text("hostName")
                    } else {
                        text("ipAddr")
                    };
                    let port = match i.get("port") {
                        Some(Value::Object(p)) => p.get("$").map(|v| match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        }),
                        Some(v) => Some(v.to_string()),
                        None => None,
                    };
                    let address = match port {
                        Some(p) => format!("{host}:{p}"),
                        None => host.to_string(),
                    };
                    (app.clone(), id.clone(), text("status").to_string(), address)
                })
            })
            .collect()
    }

    /// Sets `flowyt_registry_instances` by service and status (a pair gone since the last
    /// call is set to 0); call it before a metrics scrape.
    pub fn record_gauges(&self) {
        use std::collections::BTreeMap;
        if !crate::measure::enabled() {
            return;
        }
        let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
        for (app, _, status, _) in self.instances() {
            *counts.entry((app, status)).or_default() += 1;
        }
        let mut seen = self.gauged.lock().unwrap_or_else(PoisonError::into_inner);
        for gone in seen.iter().filter(|k| !counts.contains_key(*k)) {
            metrics::gauge!(crate::measure::REGISTRY_INSTANCES, "service" => gone.0.clone(),
                "status" => gone.1.clone())
            .set(0.0);
        }
        for ((app, status), n) in &counts {
            metrics::gauge!(crate::measure::REGISTRY_INSTANCES, "service" => app.clone(),
                "status" => status.clone())
            .set(*n as f64);
        }
        *seen = counts.into_keys().collect();
    }

    /// The lease length of a registration (Eureka's default when unknown here).
    fn lease_of(&self, app: &str, id: &str) -> Duration {
        self.lock()
            .apps
            .get(&app.to_ascii_uppercase())
            .and_then(|a| a.get(id))
            .map_or(DEFAULT_LEASE, |l| l.duration)
    }

    /// Renews a lease; `false` when the instance is unknown.
    fn renew(&self, app: &str, id: &str, now: Instant) -> bool {
        let mut inner = self.lock();
        match inner
            .apps
            .get_mut(&app.to_ascii_uppercase())
            .and_then(|a| a.get_mut(id))
        {
            Some(lease) => {
                lease.renewed = now;
                if let Some(Value::Object(l)) = lease.instance.get_mut("leaseInfo") {
                    l.insert("lastRenewalTimestamp".into(), json!(now_ms()));
                }
                true
            }
            None => false,
        }
    }

    /// Removes an instance; `false` when it was unknown.
    fn cancel(&self, app: &str, id: &str, now: Instant) -> bool {
        let app = app.to_ascii_uppercase();
        let mut inner = self.lock();
        let Some(instances) = inner.apps.get_mut(&app) else {
            return false;
        };
        let Some(lease) = instances.remove(id) else {
            return false;
        };
        if instances.is_empty() {
            inner.apps.remove(&app);
        }
        let mut instance = lease.instance;
        instance.insert("actionType".into(), json!("DELETED"));
        changed(&mut inner, now, app, instance);
        true
    }

    /// Sets (`Some`) or removes (`None`) a status override; `false` when the instance is unknown.
    fn override_status(&self, app: &str, id: &str, value: Option<&str>, now: Instant) -> bool {
        let app = app.to_ascii_uppercase();
        let mut inner = self.lock();
        let Some(lease) = inner.apps.get_mut(&app).and_then(|a| a.get_mut(id)) else {
            return false;
        };
        let status = value.map_or_else(|| lease.reported.clone(), str::to_ascii_uppercase);
        let overridden = value.map_or("UNKNOWN".to_string(), str::to_ascii_uppercase);
        lease.instance.insert("status".into(), json!(status));
        lease
            .instance
            .insert("overriddenstatus".into(), json!(overridden));
        lease
            .instance
            .insert("actionType".into(), json!("MODIFIED"));
        lease
            .instance
            .insert("lastUpdatedTimestamp".into(), json!(now_ms().to_string()));
        let instance = lease.instance.clone();
        changed(&mut inner, now, app, instance);
        true
    }

    /// Removes every lease not renewed within its duration; returns `(app, id)` of each.
    pub fn evict(&self, now: Instant) -> Vec<(String, String)> {
        let inner = self.lock();
        let expired: Vec<(String, String)> = inner
            .apps
            .iter()
            .flat_map(|(app, instances)| {
                instances
                    .iter()
                    .filter(|(_, l)| now.saturating_duration_since(l.renewed) > l.duration)
                    .map(|(id, _)| (app.clone(), id.clone()))
            })
            .collect();
        drop(inner);
        for (app, id) in &expired {
            self.cancel(app, id, now);
        }
        let mut inner = self.lock();
        while inner
            .recent
            .front()
            .is_some_and(|(at, _, _)| now.saturating_duration_since(*at) > DELTA_RETENTION)
        {
            inner.recent.pop_front();
        }
        expired
    }

    /// `{"applications": {...}}` with every application, or only the recent changes (`delta`).
    fn applications(&self, delta: bool) -> Value {
        let inner = self.lock();
        let mut grouped: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
        if delta {
            for (_, app, instance) in &inner.recent {
                grouped
                    .entry(app)
                    .or_default()
                    .push(Value::Object(instance.clone()));
            }
        } else {
            for (app, instances) in &inner.apps {
                grouped.insert(
                    app,
                    instances
                        .values()
                        .map(|l| Value::Object(l.instance.clone()))
                        .collect(),
                );
            }
        }
        let application: Vec<Value> = grouped
            .into_iter()
            .map(|(name, instance)| json!({"name": name, "instance": instance}))
            .collect();
        json!({"applications": {
            "versions__delta": inner.version.to_string(),
            "apps__hashcode": hashcode(&inner),
            "application": application,
        }})
    }

    /// `{"application": {...}}`, or `None` when the app has no instance.
    fn application(&self, app: &str) -> Option<Value> {
        let app = app.to_ascii_uppercase();
        let inner = self.lock();
        let instances = inner.apps.get(&app)?;
        let instance: Vec<Value> = instances
            .values()
            .map(|l| Value::Object(l.instance.clone()))
            .collect();
        Some(json!({"application": {"name": app, "instance": instance}}))
    }

    /// `{"instance": {...}}`, or `None` when unknown.
    fn instance(&self, app: &str, id: &str) -> Option<Value> {
        let inner = self.lock();
        let lease = inner.apps.get(&app.to_ascii_uppercase())?.get(id)?;
        Some(json!({"instance": lease.instance}))
    }
}

/// Records a change for `apps/delta` and bumps the version.
fn changed(inner: &mut Inner, now: Instant, app: String, instance: Map<String, Value>) {
    inner.version = inner.version.wrapping_add(1);
    inner.recent.push_back((now, app, instance));
    // Bounded whatever the churn: a client re-registering in a loop cannot grow it forever.
    while inner.recent.len() > 1000 {
        inner.recent.pop_front();
    }
}

/// Eureka's `apps__hashcode`: `STATUS_count_` per status, sorted (`"DOWN_1_UP_2_"`).
fn hashcode(inner: &Inner) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for lease in inner.apps.values().flat_map(BTreeMap::values) {
        let status = lease
            .instance
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("UNKNOWN");
        *counts.entry(status.to_ascii_uppercase()).or_default() += 1;
    }
    counts.iter().map(|(s, n)| format!("{s}_{n}_")).collect()
}

/// Removes expired leases every second, until the server stops; a shared registry also
/// refreshes its view from the store.
pub async fn evict_expired(registry: Arc<Registry>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        if let Some(store) = &registry.store {
            match registry.refresh(store.as_ref()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(evicted = n, "registry: leases expired"),
                Err(e) => tracing::warn!(error = %e, "registry: cannot refresh from the store"),
            }
            continue;
        }
        for (app, id) in registry.evict(Instant::now()) {
            tracing::info!(%app, instance = %id, "registry: lease expired, instance evicted");
        }
    }
}
