//! Unit tests of the registry: leases, limits, the Eureka REST shapes.

use super::http::to_xml;
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
    reg.register("users", &body("a", 8001, 30), now, None)
        .expect("ok");
    reg.register("Users", &body("b", 8002, 30), now, None)
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
    reg.register("USERS", &body("a", 8001, 30), now, None)
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
    reg.register("USERS", &body("a", 8001, 3), t0, None)
        .expect("ok");
    reg.register("USERS", &body("b", 8002, 3), t0, None)
        .expect("ok");
    let mut no_lease = serde_json::from_slice::<Value>(&body("c", 8003, 0)).expect("json");
    no_lease["instance"]
        .as_object_mut()
        .expect("object")
        .remove("leaseInfo");
    reg.register("USERS", no_lease.to_string().as_bytes(), t0, None)
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
    let refused = |b: &str| match reg.register("USERS", b.as_bytes(), now, None) {
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
    reg.register("A", &body("1", 1, 30), now, None).expect("ok");
    reg.register("B", &body("2", 2, 30), now, None).expect("ok");
    assert_eq!(
        reg.register("C", &body("3", 3, 30), now, None),
        Err(Refused::Full(2))
    );
    // Re-registering a known instance is still accepted.
    reg.register("A", &body("1", 1, 30), now, None).expect("ok");
}

#[test]
fn one_app_and_one_client_cannot_fill_the_registry() {
    // Before: 1,000 junk registrations from one client locked real services out for an hour.
    let reg = Registry::new(Limits {
        max_per_app: 2,
        max_per_client: 3,
        ..Limits::default()
    });
    let now = Instant::now();
    let junk: Option<IpAddr> = "10.0.0.66".parse().ok();
    let real: Option<IpAddr> = "10.0.0.1".parse().ok();
    reg.register("JUNK", &body("1", 1, 30), now, junk)
        .expect("ok");
    reg.register("JUNK", &body("2", 2, 30), now, junk)
        .expect("ok");
    assert_eq!(
        reg.register("JUNK", &body("3", 3, 30), now, junk),
        Err(Refused::AppFull(2))
    );
    reg.register("JUNK2", &body("4", 4, 30), now, junk)
        .expect("ok");
    assert_eq!(
        reg.register("JUNK3", &body("5", 5, 30), now, junk),
        Err(Refused::ClientFull(3))
    );
    // Another client still registers; a known instance still renews its registration.
    reg.register("USERS", &body("u1", 8001, 30), now, real)
        .expect("ok");
    reg.register("JUNK", &body("1", 1, 30), now, junk)
        .expect("ok");
}

#[test]
fn leases_last_minutes_at_most() {
    let reg = Registry::new(Limits::default());
    let now = Instant::now();
    reg.register("USERS", &body("a", 8001, 3600), now, None)
        .expect("ok");
    let app = reg.application("USERS").expect("registered");
    assert_eq!(
        app["application"]["instance"][0]["leaseInfo"]["durationInSecs"],
        300
    );
}

#[test]
fn status_overrides_change_and_restore_the_status() {
    let reg = Registry::new(Limits::default());
    let now = Instant::now();
    reg.register("USERS", &body("a", 8001, 30), now, None)
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
    let router: Router = Router::new().nest("/eureka", router(Registry::new(Limits::default())));
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
