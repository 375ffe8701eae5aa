//! The library's `/metrics`: a flow mounted by hand in an axum app is counted under the route
//! axum matched, and `prometheus::router` serves it beside the app's own routes.

use axum::Router;
use axum::routing::get;
use flowyt_runtime::Engine;

#[tokio::test]
async fn a_hand_mounted_flow_is_counted_under_its_route_pattern() {
    let metrics = flowyt_runtime::prometheus::install().expect("install");
    // Installing again returns the same exporter.
    flowyt_runtime::prometheus::install().expect("install again");
    let metrics = metrics.on_scrape(|| metrics::gauge!("app_scrapes_seen").set(1.0));
    let engine = Engine::new().expect("engine");
    let hello = engine
        .service_from_json(
            r#"{"pipeline": [{"id": "hi", "action": "response",
                "data": {"data": {"hello": "${request.params.name}"}}, "next_action": null}]}"#,
        )
        .expect("flow");
    let app = Router::new()
        .route("/hello/{name}", get(hello))
        .merge(metrics.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let http = flowyt_runtime::http_client().expect("client");
    for name in ["ada", "grace"] {
        let status = http
            .get(format!("http://{addr}/hello/{name}"))
            .send()
            .await
            .expect("hello")
            .status();
        assert_eq!(status, 200);
    }
    let response = http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(
        response.headers()["content-type"],
        flowyt_runtime::prometheus::CONTENT_TYPE
    );
    let page = response.text().await.expect("text");
    let line = r#"flowyt_http_requests_total{workspace="flow",flow="main",route="/hello/{name}",status="2xx"} 2"#;
    assert!(page.lines().any(|l| l == line), "{page}");
    assert!(
        page.lines().any(|l| l
            == r#"flowyt_actions_total{workspace="flow",kind="response",outcome="success"} 2"#),
        "{page}"
    );
    assert!(page.lines().any(|l| l == "app_scrapes_seen 1"), "{page}");
    assert!(!page.contains("/hello/ada"), "{page}");
}
