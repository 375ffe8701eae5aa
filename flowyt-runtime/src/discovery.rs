//! Service discovery for `service://NAME/path` URLs: a static list of instances from settings,
//! or an Eureka server (the REST API py_eureka_client and Spring speak), balanced round-robin.

use flowyt_core::workspace::{Registry, Settings};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Resolves service names to instance base URLs.
#[derive(Debug, Default)]
pub(crate) struct Discovery {
    services: HashMap<String, Vec<String>>,
    registry: Option<Registry>,
    cache: Mutex<HashMap<String, (Instant, Vec<String>)>>,
    next: Mutex<HashMap<String, usize>>,
}

/// `service://users/api/1?x=y` → (`users`, `/api/1?x=y`).
pub(crate) fn parse(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("service://")?;
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (name, path) = rest.split_at(split);
    (!name.is_empty()).then_some((name, path))
}

impl Discovery {
    pub(crate) fn new(settings: &Settings) -> Discovery {
        Discovery {
            services: settings
                .services
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            registry: settings.registry.clone(),
            ..Discovery::default()
        }
    }

    /// The instances of `name`, in the order to try them: rotated by one on every call, so
    /// calls are balanced round-robin and a refused instance is followed by the next.
    pub(crate) async fn instances(
        &self,
        client: &reqwest::Client,
        name: &str,
    ) -> Result<Vec<String>, String> {
        let mut list = match self.services.get(name) {
            Some(list) => list.clone(),
            None => match &self.registry {
                Some(registry) => self.eureka(client, registry, name).await?,
                None => {
                    return Err(format!(
                        "no service `{name}`: list it under `services` in settings or configure a `registry`"
                    ));
                }
            },
        };
        if list.is_empty() {
            return Err(format!("service `{name}` has no instance up"));
        }
        let start = {
            let mut next = self
                .next
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let n = next.entry(name.to_string()).or_insert(0);
            let start = *n % list.len();
            *n = n.wrapping_add(1);
            start
        };
        list.rotate_left(start);
        Ok(list)
    }

    async fn eureka(
        &self,
        client: &reqwest::Client,
        registry: &Registry,
        name: &str,
    ) -> Result<Vec<String>, String> {
        // A refresh too long to represent never expires.
        let refresh = Duration::try_from_secs_f64(registry.refresh).unwrap_or(Duration::MAX);
        if let Some((at, list)) = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
            && at.elapsed() < refresh
        {
            return Ok(list.clone());
        }
        let url = format!("{}/apps/{}", registry.eureka, name.to_ascii_uppercase());
        let response = client
            .get(&url)
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| format!("the registry at {} did not answer: {e}", registry.eureka))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(format!("service `{name}` is not registered"));
        }
        if !status.is_success() {
            return Err(format!("the registry answered {status} for `{name}`"));
        }
        let body: Value = response
            .json()
            .await
            .map_err(|e| format!("the registry's answer for `{name}` is not JSON: {e}"))?;
        let list = up_instances(&body);
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(name.to_string(), (Instant::now(), list.clone()));
        Ok(list)
    }
}

/// The base URLs of the `UP` instances of an Eureka `{"application": {"instance": [...]}}`.
pub(crate) fn up_instances(body: &Value) -> Vec<String> {
    let instances = match &body["application"]["instance"] {
        Value::Array(items) => items.clone(),
        Value::Object(_) => vec![body["application"]["instance"].clone()],
        _ => Vec::new(),
    };
    instances
        .iter()
        .filter(|i| i["status"].as_str().is_none_or(|s| s == "UP"))
        .filter_map(|i| {
            let port = match &i["port"] {
                Value::Object(p) => p
                    .get("$")
                    .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok())),
                v => v.as_u64(),
            };
            let host = i["ipAddr"].as_str().or_else(|| i["hostName"].as_str());
            match (host, port) {
                (Some(h), Some(p)) => Some(format!("http://{h}:{p}")),
                _ => i["homePageUrl"]
                    .as_str()
                    .map(|u| u.trim_end_matches('/').to_string()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn service_urls_split_into_name_and_path() {
        assert_eq!(
            parse("service://users/api/1?x=y"),
            Some(("users", "/api/1?x=y"))
        );
        assert_eq!(parse("service://users?x"), Some(("users", "?x")));
        assert_eq!(parse("service://users"), Some(("users", "")));
        assert_eq!(parse("service:///x"), None);
        assert_eq!(parse("http://users/x"), None);
    }

    #[test]
    fn only_up_instances_are_kept() {
        let body = json!({"application": {"name": "USERS", "instance": [
            {"ipAddr": "127.0.0.1", "port": {"$": 8001, "@enabled": "true"}, "status": "UP"},
            {"ipAddr": "127.0.0.1", "port": {"$": "8002", "@enabled": "true"}, "status": "DOWN"},
            {"hostName": "localhost", "port": 8003, "status": "UP"},
            {"homePageUrl": "http://10.0.0.1:9000/", "status": "UP"}
        ]}});
        assert_eq!(
            up_instances(&body),
            [
                "http://127.0.0.1:8001",
                "http://localhost:8003",
                "http://10.0.0.1:9000"
            ]
        );
        let single =
            json!({"application": {"instance": {"ipAddr": "h", "port": {"$": 1}, "status": "UP"}}});
        assert_eq!(up_instances(&single), ["http://h:1"]);
    }
}
