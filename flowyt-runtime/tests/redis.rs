//! The `redis` action against the Redis our machines run (127.0.0.1:6379): get, set with and
//! without expiry, publish to a real subscriber, and a server that is not there.

mod support;

use flowyt_runtime::Workspace;
use futures_util::StreamExt;
use serde_json::{Value, json};
use support::*;

fn workspace(redis: Value) -> Workspace {
    let act = |name: &str, data: Value| {
        json!({"id": "f", "name": name, "pipeline": [
            {"id": "r", "action": "redis", "data": data, "next_action": "out"},
            {"id": "out", "action": "response", "data": {"data": "${response}"}, "next_action": null}
        ]})
    };
    Case::new()
        .settings(json!({"integrations": {"redis": redis}}))
        .flow("get", act("get", json!({"action_type": "get", "key": "${input.key}"})))
        .flow("set", act("set", json!({"action_type": "set", "key": "${input.key}", "data": "${input.value}"})))
        .flow("setex", act("setex", json!({"action_type": "set", "key": "${input.key}", "data": "${input.value}", "expire": "${input.ttl}"})))
        .flow("publish", act("publish", json!({"action_type": "publish", "key": "${input.key}", "data": "${input.value}"})))
        .load()
}

async fn run(ws: &Workspace, flow: &str, input: Value) -> Result<Value, String> {
    run_with_input(ws, flow, input).await
}

fn client() -> redis::Client {
    redis::Client::open("redis://127.0.0.1:6379/0").expect("url")
}

async fn direct() -> redis::aio::MultiplexedConnection {
    client()
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("this test needs Redis on 127.0.0.1:6379: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_set_and_publish_on_a_real_redis() {
    let ws = workspace(json!({"HOST": "127.0.0.1", "PORT": 6379, "PASSWORD": null, "DB": 0}));
    let key = format!("flowyt-test-{}", std::process::id());
    let mut conn = direct().await;

    assert_eq!(
        run(&ws, "get", json!({"key": key})).await,
        Ok(json!({"data": null}))
    );
    assert_eq!(
        run(&ws, "set", json!({"key": key, "value": "olá"})).await,
        Ok(json!({"data": null}))
    );
    assert_eq!(
        run(&ws, "get", json!({"key": key})).await,
        Ok(json!({"data": "olá"}))
    );
    // Anything but text is stored as JSON text, and comes back as that text.
    run(&ws, "set", json!({"key": key, "value": {"n": 1}}))
        .await
        .expect("set");
    assert_eq!(
        run(&ws, "get", json!({"key": key})).await,
        Ok(json!({"data": "{\"n\":1}"}))
    );
    // An expiring key.
    let temp = format!("{key}-ttl");
    run(
        &ws,
        "setex",
        json!({"key": temp, "value": "soon gone", "ttl": 30}),
    )
    .await
    .expect("setex");
    let ttl: i64 = redis::cmd("TTL")
        .arg(&temp)
        .query_async(&mut conn)
        .await
        .expect("ttl");
    assert!((1..=30).contains(&ttl), "{ttl}");
    let bad = run(&ws, "setex", json!({"key": temp, "value": "x", "ttl": -3})).await;
    assert!(bad.is_err_and(|e| e.contains("positive number of seconds")));

    // Publish to a real subscriber.
    let channel = format!("{key}-channel");
    let mut pubsub = client().get_async_pubsub().await.expect("pubsub");
    pubsub.subscribe(&channel).await.expect("subscribe");
    let published = run(&ws, "publish", json!({"key": channel, "value": "hello"}))
        .await
        .expect("publish");
    assert_eq!(published["receivers"], 1);
    let message = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        pubsub.on_message().next(),
    )
    .await
    .expect("a message in time")
    .expect("a message");
    let payload: String = message.get_payload().expect("text");
    assert_eq!(payload, "hello");

    let _: () = redis::cmd("DEL")
        .arg(&key)
        .arg(&temp)
        .query_async(&mut conn)
        .await
        .expect("cleanup");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_is_not_there_fails_the_run_cleanly() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let ws = workspace(json!({"HOST": "127.0.0.1", "PORT": port}));
    let started = std::time::Instant::now();
    let err = run(&ws, "get", json!({"key": "k"}))
        .await
        .expect_err("fails");
    assert!(err.contains("redis:"), "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "nothing hangs"
    );
    let none = Case::new()
        .flow("get", json!({"id": "f", "name": "g", "pipeline": [
            {"id": "r", "action": "redis", "data": {"action_type": "get", "key": "k"}, "next_action": null}]}))
        .load();
    let err = run(&none, "get", json!({})).await.expect_err("no settings");
    assert!(err.contains("no `integrations.redis`"), "{err}");
}

/// A `flow!` with `redis` actions and its JSON twin give the same answers to the same runs
/// (each on keys of its own): set, get, set with an expiry, a bad expiry, and a get of nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compiled_redis_flow_answers_like_its_json_twin() {
    let flow = flowyt_runtime::flow! {
        name = "cache";
        put: redis { action_type: "set", key: "${input.key}", data: "${input.value}", expire: "${input.ttl}" } -> read;
        read: redis { action_type: "get", key: "${input.key}" } -> out;
        out: response { data: { read: "${response.data}", upper: "${str(response.data).upper()}" } };
    };
    let redis = json!({"HOST": "127.0.0.1", "PORT": 6379, "PASSWORD": null, "DB": 0});
    let twin: Value = serde_json::from_str(flow.json()).expect("JSON");
    let twin = Case::new()
        .settings(json!({"integrations": {"redis": redis}}))
        .flow("cache", twin)
        .load();
    let (settings, diags, _) = flowyt_runtime::core::workspace::parse_settings(
        "settings.json",
        &json!({"integrations": {"redis": redis}}).to_string(),
        &|_| None,
    );
    assert!(diags.is_empty(), "{diags:?}");
    let engine = flowyt_runtime::Engine::new().expect("engine");
    let compiled = engine.checked_workspace("ws", settings, [("cache", flow)]);
    let mut conn = direct().await;
    let base = format!("flowyt-twin-{}", std::process::id());
    let cases = [
        json!({"value": "olá", "ttl": 30}),
        json!({"value": {"n": [1, 2]}, "ttl": 30}),
        json!({"value": "x", "ttl": -3}),
        json!({"value": null, "ttl": "soon"}),
    ];
    let mut keys = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let input = |side: &str| {
            let mut input = case.clone();
            input["key"] = json!(format!("{base}-{side}-{i}"));
            input
        };
        keys.extend([format!("{base}-c-{i}"), format!("{base}-j-{i}")]);
        let got = run(&compiled, "cache", input("c")).await;
        let want = run(&twin, "cache", input("j")).await;
        assert_eq!(got, want, "{case}");
    }
    assert_eq!(
        run(
            &compiled,
            "cache",
            json!({"key": format!("{base}-c-0"), "value": "again", "ttl": 30})
        )
        .await,
        Ok(json!({"read": "again", "upper": "AGAIN"}))
    );
    let _: () = redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut conn)
        .await
        .expect("cleanup");
}

/// A program may run several tokio runtimes one after another (tests do): a workspace loaded
/// in the second runtime reaches Redis after the first runtime, which made a connection to the
/// same server, is gone.
#[test]
fn a_second_runtime_reaches_redis_after_the_first_is_gone() {
    let settings = json!({"HOST": "127.0.0.1", "PORT": 6379, "PASSWORD": null, "DB": 0});
    let key = format!("flowyt-test-runtimes-{}", std::process::id());
    in_fresh_runtimes(2, |rt, round| {
        let ws = workspace(settings.clone());
        let got = rt.block_on(run(&ws, "get", json!({"key": key})));
        assert_eq!(got, Ok(json!({"data": null})), "round {round}");
    });
}
