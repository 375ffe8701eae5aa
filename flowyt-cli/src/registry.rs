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
//! [`evict_expired`]. What one client can store is bounded by [`Limits`].

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What the registry accepts, so a misbehaving client cannot exhaust memory.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Instances held at once, over all applications.
    pub max_instances: usize,
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
            max_body: 16 * 1024,
            max_name: 200,
            max_lease: Duration::from_secs(3600),
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

/// The in-memory registry shared by the handlers and the eviction task.
#[derive(Debug)]
pub struct Registry {
    inner: Mutex<Inner>,
    limits: Limits,
}

/// Why a registration was refused.
#[derive(Debug, PartialEq)]
enum Refused {
    Bad(String),
    Full(usize),
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
            inner: Mutex::new(Inner::default()),
            limits,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers (or replaces) an instance of `app` from a `{"instance": {...}}` body.
    fn register(&self, app: &str, body: &[u8], now: Instant) -> Result<(), Refused> {
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
        if !exists && count >= self.limits.max_instances {
            return Err(Refused::Full(self.limits.max_instances));
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
        };
        inner.apps.entry(app.clone()).or_default().insert(id, lease);
        changed(&mut inner, now, app, instance);
        Ok(())
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

/// Removes expired leases every second, until the server stops.
pub async fn evict_expired(registry: Arc<Registry>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        for (app, id) in registry.evict(Instant::now()) {
            tracing::info!(%app, instance = %id, "registry: lease expired, instance evicted");
        }
    }
}

/// The Eureka endpoints, at the root and under `/v2`; nest it under `/eureka`.
/// No token is needed: services must be able to register themselves.
pub fn router<S: Clone + Send + Sync + 'static>(registry: Arc<Registry>) -> Router<S> {
    let limit = registry.limits.max_body;
    Router::new()
        .merge(routes())
        .nest("/v2", routes())
        .layer(DefaultBodyLimit::max(limit))
        .with_state(registry)
}

fn routes() -> Router<Arc<Registry>> {
    Router::new()
        .route("/apps", get(list_apps))
        .route("/apps/", get(list_apps))
        .route("/apps/delta", get(delta))
        .route("/apps/{app}", get(get_app).post(register))
        .route(
            "/apps/{app}/{id}",
            get(get_instance).put(renew).delete(cancel),
        )
        .route(
            "/apps/{app}/{id}/status",
            put(set_status).delete(delete_status),
        )
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, axum::Json(json!({ "message": text }))).into_response()
}

/// JSON when the client asks for it, else XML (Eureka's default, what py_eureka_client parses).
fn answer(headers: &HeaderMap, body: &Value) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if wants_json {
        return axum::Json(body).into_response();
    }
    let mut xml = String::from(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    if let Value::Object(root) = body {
        for (name, value) in root {
            to_xml(name, value, &mut xml);
        }
    }
    ([(header::CONTENT_TYPE, "application/xml")], xml).into_response()
}

/// Eureka's JSON ↔ XML convention: `@name` keys are attributes, `$` is the text, arrays repeat
/// the element. Keys that are not XML names (client metadata can hold anything) are left out.
fn to_xml(name: &str, value: &Value, out: &mut String) {
    if !is_xml_name(name) {
        return;
    }
    match value {
        Value::Null => {}
        Value::Array(items) => {
            for item in items {
                to_xml(name, item, out);
            }
        }
        Value::Object(fields) => {
            out.push('<');
            out.push_str(name);
            for (k, v) in fields {
                if let Some(attr) = k.strip_prefix('@')
                    && is_xml_name(attr)
                {
                    out.push_str(&format!(" {attr}=\"{}\"", escape(&scalar(v))));
                }
            }
            out.push('>');
            for (k, v) in fields {
                if k == "$" {
                    out.push_str(&escape(&scalar(v)));
                } else if !k.starts_with('@') {
                    to_xml(k, v, out);
                }
            }
            out.push_str(&format!("</{name}>"));
        }
        scalar_value => {
            out.push_str(&format!(
                "<{name}>{}</{name}>",
                escape(&scalar(scalar_value))
            ));
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !name.to_ascii_lowercase().starts_with("xml")
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

async fn list_apps(State(reg): State<Arc<Registry>>, headers: HeaderMap) -> Response {
    answer(&headers, &reg.applications(false))
}

async fn delta(State(reg): State<Arc<Registry>>, headers: HeaderMap) -> Response {
    answer(&headers, &reg.applications(true))
}

async fn get_app(
    State(reg): State<Arc<Registry>>,
    Path(app): Path<String>,
    headers: HeaderMap,
) -> Response {
    match reg.application(&app) {
        Some(body) => answer(&headers, &body),
        None => message(
            StatusCode::NOT_FOUND,
            &format!(
                "no application `{}` is registered",
                app.to_ascii_uppercase()
            ),
        ),
    }
}

async fn get_instance(
    State(reg): State<Arc<Registry>>,
    Path((app, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    match reg.instance(&app, &id) {
        Some(body) => answer(&headers, &body),
        None => unknown(&app, &id),
    }
}

fn unknown(app: &str, id: &str) -> Response {
    message(
        StatusCode::NOT_FOUND,
        &format!(
            "no instance `{id}` of `{}` is registered",
            app.to_ascii_uppercase()
        ),
    )
}

async fn register(
    State(reg): State<Arc<Registry>>,
    Path(app): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    match reg.register(&app, &body, Instant::now()) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(Refused::Bad(text)) => message(StatusCode::BAD_REQUEST, &text),
        Err(Refused::Full(max)) => message(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("the registry already holds its maximum of {max} instances"),
        ),
    }
}

async fn renew(
    State(reg): State<Arc<Registry>>,
    Path((app, id)): Path<(String, String)>,
) -> Response {
    if reg.renew(&app, &id, Instant::now()) {
        StatusCode::OK.into_response()
    } else {
        unknown(&app, &id)
    }
}

async fn cancel(
    State(reg): State<Arc<Registry>>,
    Path((app, id)): Path<(String, String)>,
) -> Response {
    if reg.cancel(&app, &id, Instant::now()) {
        StatusCode::OK.into_response()
    } else {
        unknown(&app, &id)
    }
}

async fn set_status(
    State(reg): State<Arc<Registry>>,
    Path((app, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(value) = query
        .get("value")
        .filter(|v| !v.is_empty() && v.len() <= 32)
    else {
        return message(
            StatusCode::BAD_REQUEST,
            "the new status goes in `?value=` (UP, DOWN, OUT_OF_SERVICE, ...)",
        );
    };
    if reg.override_status(&app, &id, Some(value), Instant::now()) {
        StatusCode::OK.into_response()
    } else {
        unknown(&app, &id)
    }
}

async fn delete_status(
    State(reg): State<Arc<Registry>>,
    Path((app, id)): Path<(String, String)>,
) -> Response {
    if reg.override_status(&app, &id, None, Instant::now()) {
        StatusCode::OK.into_response()
    } else {
        unknown(&app, &id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    fn body(id: &str, port: u16, lease: u64) -> Vec<u8> {
        json!({"instance": {
            "instanceId": id, "hostName": "localhost", "app": "USERS", "ipAddr": "127.0.0.1",
            "status": "UP", "port": {"$": port, "@enabled": "true"},
            "dataCenterInfo": {"@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "name": "MyOwn"},
            "leaseInfo": {"renewalIntervalInSecs": 1, "durationInSecs": lease},
            "metadata": {"management.port": "8001", "bad key<": "x"}
        }})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn registered_instances_are_listed_under_the_upper_cased_name() {
        let reg = Registry::new(Limits::default());
        let now = Instant::now();
        reg.register("users", &body("a", 8001, 30), now)
            .expect("ok");
        reg.register("Users", &body("b", 8002, 30), now)
            .expect("ok");
        let app = reg.application("USERS").expect("registered");
        assert_eq!(app["application"]["name"], "USERS");
        let ids: Vec<&str> = app["application"]["instance"]
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|i| i["instanceId"].as_str())
            .collect();
        assert_eq!(ids, ["a", "b"]);
        let all = reg.applications(false);
        assert_eq!(all["applications"]["apps__hashcode"], "UP_2_");
        assert_eq!(all["applications"]["versions__delta"], "2");
        assert_eq!(all["applications"]["application"][0]["name"], "USERS");
        assert!(reg.instance("users", "a").is_some());
    }

    #[test]
    fn renew_and_cancel_answer_false_for_unknown_instances() {
        let reg = Registry::new(Limits::default());
        let now = Instant::now();
        assert!(!reg.renew("USERS", "a", now));
        reg.register("USERS", &body("a", 8001, 30), now)
            .expect("ok");
        assert!(reg.renew("users", "a", now));
        assert!(!reg.renew("USERS", "zzz", now));
        assert!(reg.cancel("USERS", "a", now));
        assert!(!reg.cancel("USERS", "a", now));
        assert!(reg.application("USERS").is_none());
        let delta = reg.applications(true);
        let actions: Vec<&str> = delta["applications"]["application"][0]["instance"]
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|i| i["actionType"].as_str())
            .collect();
        assert_eq!(actions, ["ADDED", "DELETED"]);
    }

    #[test]
    fn leases_expire_unless_renewed() {
        let reg = Registry::new(Limits::default());
        let t0 = Instant::now();
        reg.register("USERS", &body("a", 8001, 3), t0).expect("ok");
        reg.register("USERS", &body("b", 8002, 3), t0).expect("ok");
        let mut no_lease = serde_json::from_slice::<Value>(&body("c", 8003, 0)).expect("json");
        no_lease["instance"]
            .as_object_mut()
            .expect("object")
            .remove("leaseInfo");
        reg.register("USERS", no_lease.to_string().as_bytes(), t0)
            .expect("ok");
        assert!(reg.evict(t0 + Duration::from_secs(2)).is_empty());
        assert!(reg.renew("USERS", "b", t0 + Duration::from_secs(2)));
        assert_eq!(
            reg.evict(t0 + Duration::from_secs(4)),
            [("USERS".to_string(), "a".to_string())]
        );
        assert!(reg.evict(t0 + Duration::from_secs(5)).is_empty());
        assert_eq!(
            reg.evict(t0 + Duration::from_secs(6)),
            [("USERS".to_string(), "b".to_string())]
        );
        // Without a leaseInfo the lease lasts Eureka's default 90 s.
        assert!(reg.evict(t0 + Duration::from_secs(89)).is_empty());
        assert_eq!(reg.evict(t0 + Duration::from_secs(91)).len(), 1);
    }

    #[test]
    fn malformed_registrations_are_refused_with_a_reason() {
        let reg = Registry::new(Limits::default());
        let now = Instant::now();
        let refused = |b: &str| match reg.register("USERS", b.as_bytes(), now) {
            Err(Refused::Bad(m)) => m,
            other => panic!("expected a refusal for {b}, got {other:?}"),
        };
        assert!(refused("not json").starts_with("the body must be JSON"));
        assert!(refused(r#"{"instance": 3}"#).contains("as an object"));
        assert!(refused(r#"{"instance": {"ipAddr": "h", "port": 1}}"#).contains("instanceId"));
        assert!(refused(r#"{"instance": {"instanceId": "a", "port": 1}}"#).contains("ipAddr"));
        assert!(
            refused(r#"{"instance": {"instanceId": "a", "ipAddr": "h", "port": {"$": "x"}}}"#)
                .contains("`port`")
        );
        assert!(
            refused(r#"{"instance": {"instanceId": "a", "ipAddr": "h", "port": 1, "leaseInfo": {"durationInSecs": "soon"}}}"#)
                .contains("durationInSecs")
        );
        assert!(
            reg.applications(false)["applications"]["application"]
                .as_array()
                .is_some_and(Vec::is_empty)
        );
    }

    #[test]
    fn the_instance_count_is_bounded() {
        let reg = Registry::new(Limits {
            max_instances: 2,
            ..Limits::default()
        });
        let now = Instant::now();
        reg.register("A", &body("1", 1, 30), now).expect("ok");
        reg.register("B", &body("2", 2, 30), now).expect("ok");
        assert_eq!(
            reg.register("C", &body("3", 3, 30), now),
            Err(Refused::Full(2))
        );
        // Re-registering a known instance is still accepted.
        reg.register("A", &body("1", 1, 30), now).expect("ok");
    }

    #[test]
    fn status_overrides_change_and_restore_the_status() {
        let reg = Registry::new(Limits::default());
        let now = Instant::now();
        reg.register("USERS", &body("a", 8001, 30), now)
            .expect("ok");
        assert!(reg.override_status("USERS", "a", Some("OUT_OF_SERVICE"), now));
        assert_eq!(
            reg.instance("USERS", "a").expect("known")["instance"]["status"],
            "OUT_OF_SERVICE"
        );
        assert_eq!(
            reg.applications(false)["applications"]["apps__hashcode"],
            "OUT_OF_SERVICE_1_"
        );
        assert!(reg.override_status("USERS", "a", None, now));
        assert_eq!(
            reg.instance("USERS", "a").expect("known")["instance"]["status"],
            "UP"
        );
        assert!(!reg.override_status("USERS", "nope", None, now));
    }

    #[test]
    fn xml_follows_eurekas_convention() {
        let mut out = String::new();
        to_xml(
            "application",
            &json!({"name": "USERS", "instance": [
                {"port": {"$": 8001, "@enabled": "true"}, "metadata": {"management.port": "1", "bad key": "x"}, "n": null},
                {"hostName": "a&b<c>"}
            ]}),
            &mut out,
        );
        assert_eq!(
            out,
            "<application><name>USERS</name>\
             <instance><port enabled=\"true\">8001</port><metadata><management.port>1</management.port></metadata></instance>\
             <instance><hostName>a&amp;b&lt;c&gt;</hostName></instance></application>"
        );
    }

    async fn call(
        router: &Router,
        method: &str,
        uri: &str,
        accept: Option<&str>,
        body: Vec<u8>,
    ) -> (StatusCode, String) {
        let mut req = axum::http::Request::builder().method(method).uri(uri);
        if let Some(a) = accept {
            req = req.header(header::ACCEPT, a);
        }
        let req = req
            .header(header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(body))
            .expect("request");
        let res = router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn the_http_api_speaks_json_and_xml_under_both_prefixes() {
        let router: Router =
            Router::new().nest("/eureka", router(Registry::new(Limits::default())));
        let (s, _) = call(
            &router,
            "POST",
            "/eureka/v2/apps/users",
            None,
            body("a", 8001, 30),
        )
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, text) = call(
            &router,
            "GET",
            "/eureka/apps/USERS",
            Some("application/json"),
            vec![],
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let v: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(v["application"]["instance"][0]["port"]["$"], 8001);
        let (s, xml) = call(&router, "GET", "/eureka/v2/apps/", None, vec![]).await;
        assert_eq!(s, StatusCode::OK);
        assert!(xml.contains("<applications><versions__delta>1</versions__delta><apps__hashcode>UP_1_</apps__hashcode><application><name>USERS</name><instance>"), "{xml}");
        assert!(xml.contains("<dataCenterInfo class=\"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo\"><name>MyOwn</name></dataCenterInfo>"), "{xml}");
        let (s, _) = call(
            &router,
            "PUT",
            "/eureka/apps/USERS/a?status=UP&lastDirtyTimestamp=1",
            None,
            vec![],
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = call(
            &router,
            "PUT",
            "/eureka/apps/USERS/ghost?status=UP",
            None,
            vec![],
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, text) = call(&router, "POST", "/eureka/apps/USERS", None, b"{".to_vec()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(text.contains("the body must be JSON"), "{text}");
        let (s, _) = call(
            &router,
            "POST",
            "/eureka/apps/USERS",
            None,
            vec![b' '; 20_000],
        )
        .await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
        let (s, _) = call(&router, "DELETE", "/eureka/apps/USERS/a", None, vec![]).await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = call(&router, "GET", "/eureka/apps/USERS", None, vec![]).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
}
