//! Request values never rewrite where a flow calls (issue: hardening): spliced values are
//! percent-encoded where they land in the URL, and redirects stay on the same origin.

mod support;

use flowyt_runtime::{Engine, Redirects};
use serde_json::json;
use support::*;

/// A flow `GET /t` that calls `url` and answers `{"status", "data"}` of the upstream answer.
async fn calling(case: Case, url: &str, headers: serde_json::Value) -> Served {
    case.single_flow(
        "get",
        vec![
            start("1", json!("2")),
            json!({"id": "2", "action": "request", "data": {
                "url": url, "method": "get", "headers": headers,
                "next_action_success": "3", "next_action_fail": "3"
            }, "next_action": "${pipeline.next_action}"}),
            respond(
                "3",
                json!({"status": "${response.status}", "data": "${response.data}"}),
                200,
            ),
        ],
    )
    .serve()
    .await
}

#[tokio::test]
async fn a_spliced_path_value_stays_one_segment() {
    // Before: `user=../../echo#` turned `${env.baseUrl}/users/${request.qs.user}` into a call
    // of another path of the upstream (the review reached flowyt's own runs API this way).
    let fx = calling(
        Case::with_upstream().await,
        "${env.baseUrl}/users/${request.qs.user}",
        json!({}),
    )
    .await;
    let got = fx.get("/t?user=..%2F..%2Fecho%23").await.json();
    assert_eq!(
        got["data"],
        json!({"login": "../../echo#", "ok": true}),
        "{got}"
    );
    let got = fx.get("/t?user=octocat").await.json();
    assert_eq!(got["data"], json!({"login": "octocat", "ok": true}));
    // A bare dot segment is refused rather than resolved.
    let fx = calling(
        Case::with_upstream().await.settings(json!({"debug": true})),
        "${env.baseUrl}/users/${request.qs.user}/repos",
        json!({}),
    )
    .await;
    let got = fx.debug_get("/t?user=..").await;
    assert_eq!(got.status, 500, "{}", got.text);
    assert!(
        got.text.contains("cannot be spliced into a URL path"),
        "{}",
        got.text
    );
}

#[tokio::test]
async fn a_spliced_query_value_stays_one_value() {
    let fx = calling(
        Case::with_upstream().await,
        "${env.baseUrl}/echo?q=${request.qs.q}&x=1",
        json!({}),
    )
    .await;
    let got = fx.get("/t?q=a%26admin%3D1%23f").await.json();
    assert_eq!(got["data"]["query"], "q=a%26admin%3D1%23f&x=1", "{got}");
}

#[tokio::test]
async fn redirects_to_another_origin_are_not_followed_by_default() {
    // Before: a cross-host redirect was followed with `X-Api-Key` and a `Referer` carrying
    // the full URL.
    let other = upstream_url().await;
    let case = Case::with_upstream().await;
    let away = format!("${{env.baseUrl}}/away?to={other}/echo");
    let headers = json!({"X-Api-Key": "k-1", "Authorization": "Bearer t"});
    let fx = calling(case, &away, headers.clone()).await;
    let got = fx.get("/t").await.json();
    assert_eq!(got["status"], 307, "{got}");

    // Same origin is followed, as before.
    let fx = calling(
        Case::with_upstream().await,
        "${env.baseUrl}/redirect/200",
        json!({}),
    )
    .await;
    assert_eq!(fx.get("/t").await.json()["status"], 200);

    // An operator who opts in gets python-requests' behaviour: followed, credentials
    // dropped, and never a Referer.
    let engine = Engine::builder()
        .redirects(Redirects::Any)
        .build()
        .expect("engine");
    let fx = calling(Case::with_upstream().await.engine(engine), &away, headers).await;
    let got = fx.get("/t").await.json();
    assert_eq!(got["status"], 200, "{got}");
    let seen = &got["data"]["headers"];
    assert!(seen.get("authorization").is_none(), "{seen}");
    assert!(seen.get("referer").is_none(), "{seen}");
}
