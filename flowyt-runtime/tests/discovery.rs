//! `service://NAME/path` through a static list or an Eureka registry: round-robin, failover
//! to the next instance on a refused connection, clear failures.

mod support;

use axum::Router;
use axum::extract::Path;
use axum::routing::get as route_get;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::*;

/// A service instance that says who it is.
async fn instance(name: &'static str) -> String {
    let app = Router::new().route(
        "/whoami",
        route_get(move || async move { axum::Json(json!({"instance": name})) }),
    );
    format!("http://{}", spawn(app).await)
}

/// Serves one flow on `GET /t` that calls `service_url`, with `settings_patch` in its settings.
async fn flow_calling(service_url: &str, settings_patch: Value) -> Served {
    let actions = vec![
        json!({"id": "r", "action": "request", "data": {"url": service_url, "next_action_success": "ok", "next_action_fail": "ko"}, "next_action": "${pipeline.next_action}"}),
        respond("ok", json!("${response.data}"), 200),
        respond("ko", json!("${response.data}"), 502),
    ];
    Case::new()
        .settings(settings_patch)
        .single_flow("get", actions)
        .serve()
        .await
}

#[tokio::test]
async fn static_instances_are_balanced_round_robin() {
    let (a, b) = (instance("a").await, instance("b").await);
    let served = flow_calling(
        "service://users/whoami",
        json!({"services": {"users": [a, b]}}),
    )
    .await;
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(served.get("/t").await.json()["instance"].clone());
    }
    assert_eq!(seen, [json!("a"), json!("b"), json!("a"), json!("b")]);
}

#[tokio::test]
async fn a_refused_instance_fails_over_to_the_next() {
    let b = instance("b").await;
    let served = flow_calling(
        "service://users/whoami",
        json!({"services": {"users": ["http://127.0.0.1:9", b]}}),
    )
    .await;
    for _ in 0..3 {
        let got = served.get("/t").await;
        assert_eq!((got.status, got.json()), (200, json!({"instance": "b"})));
    }
}

#[tokio::test]
async fn an_unknown_service_takes_the_fail_branch() {
    let served = flow_calling("service://nobody/whoami", json!({"services": {}})).await;
    let got = served.get("/t").await;
    assert_eq!(got.status, 502);
    assert_eq!(got.json()["error"], "discovery");
}

#[tokio::test]
async fn eureka_registry_resolves_up_instances_and_caches_them() {
    let (a, b) = (instance("a").await, instance("b").await);
    let port = |u: &str| {
        u.rsplit(':')
            .next()
            .and_then(|p| p.parse::<u16>().ok())
            .unwrap_or(0)
    };
    let (pa, pb) = (port(&a), port(&b));
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let eureka = Router::new().route(
        "/eureka/apps/{app}",
        route_get(move |Path(app): Path<String>| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                if app != "USERS" {
                    return (axum::http::StatusCode::NOT_FOUND, axum::Json(json!({}))).into_response_pair();
                }
                (axum::http::StatusCode::OK, axum::Json(json!({"application": {"name": "USERS", "instance": [
                    {"instanceId": "a", "ipAddr": "127.0.0.1", "port": {"$": pa, "@enabled": "true"}, "status": "UP"},
                    {"instanceId": "b", "ipAddr": "127.0.0.1", "port": {"$": pb, "@enabled": "true"}, "status": "DOWN"}
                ]}})))
                    .into_response_pair()
            }
        }),
    );
    let registry = format!("http://{}/eureka", spawn(eureka).await);
    let served = flow_calling(
        "service://users/whoami",
        json!({"registry": {"eureka": registry, "refresh": 60}}),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(served.get("/t").await.json(), json!({"instance": "a"}));
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "the instance list is cached for `refresh` seconds"
    );

    let served = flow_calling(
        "service://ghost/whoami",
        json!({"registry": {"eureka": registry}}),
    )
    .await;
    let got = served.get("/t").await;
    assert_eq!(got.status, 502);
    assert_eq!(got.json()["message"], "service `ghost` is not registered");
}

/// A tiny helper so both arms of the fake registry have one type.
trait IntoResponsePair {
    fn into_response_pair(self) -> axum::response::Response;
}

impl<T: axum::response::IntoResponse> IntoResponsePair for T {
    fn into_response_pair(self) -> axum::response::Response {
        self.into_response()
    }
}
