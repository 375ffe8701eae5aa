//! Redis mode: `flowyt serve --workspaces redis://...` serves the workspaces a Flowyt Studio
//! stored in Redis (key `<subdomain>.<workspace>`, the Studio's JSON) at
//! `/<subdomain>/<workspace>/<route>`, picks up a changed workspace without a restart, answers
//! the legacy 404 for an unknown one, and counts per-subdomain quotas (429 past the limit).

mod support;

use serde_json::{Value, json};
use support::{client, start_with};

fn studio_workspace(answer: &str) -> String {
    json!({
        "config": {"settings": {"env": {"word": answer}}},
        "flows": {"hi": {"pipeline": [
            {"id": "1", "action": "response", "data": {"data": {"hi": "${env.word}", "who": "${request.qs.who}"}}, "next_action": null}
        ]}},
        "functions": [],
        "routes": [{"method": "get", "path": "/hi", "flow": "hi"}]
    })
    .to_string()
}

#[test]
fn studio_workspaces_are_served_from_redis_with_quotas() {
    let rt = support::multi_thread();
    let sub = format!("flowyt-test-{}", std::process::id());
    let redis = redis::Client::open("redis://127.0.0.1:6379/0").expect("url");
    let mut conn = rt
        .block_on(redis.get_multiplexed_async_connection())
        .unwrap_or_else(|e| panic!("this test needs Redis on 127.0.0.1:6379: {e}"));
    let set = |conn: &mut redis::aio::MultiplexedConnection, key: String, value: String| {
        rt.block_on(async {
            let () = redis::cmd("SET")
                .arg(key)
                .arg(value)
                .query_async(conn)
                .await
                .expect("set");
        })
    };
    set(&mut conn, format!("{sub}.shop"), studio_workspace("v1"));
    set(
        &mut conn,
        sub.clone(),
        json!({"used": 0, "limit": 2}).to_string(),
    );
    let empty = std::env::temp_dir().join(format!("flowyt-studio-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("dir");
    let server = start_with(
        &empty,
        "127.0.0.1",
        &[
            "--workspaces",
            "redis://127.0.0.1:6379/0",
            "--quotas",
            "redis://127.0.0.1:6379/0",
        ],
        &[],
    );
    let get = |path: &str| {
        let url = format!("{}{path}", server.base);
        rt.block_on(async {
            let r = client(10).get(url).send().await.expect("answer");
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        })
    };
    assert_eq!(
        get(&format!("/{sub}/shop/hi?who=ana")),
        (200, json!({"hi": "v1", "who": "ana"}))
    );
    // A changed workspace is served at once, without a restart.
    set(&mut conn, format!("{sub}.shop"), studio_workspace("v2"));
    assert_eq!(get(&format!("/{sub}/shop/hi?who=bo")).1["hi"], "v2");
    assert_eq!(
        get(&format!("/{sub}/nope/hi")),
        (
            404,
            json!({"message": "The requested workspace was not found on the server."})
        )
    );
    // Two runs counted; the limit is 2, so the next runs once more (used 3 > 2) and then 429.
    assert_eq!(get(&format!("/{sub}/shop/hi")).0, 200);
    assert_eq!(
        get(&format!("/{sub}/shop/hi")),
        (
            429,
            json!({"message": "The request limit has been reached."})
        )
    );
    let used: String = rt
        .block_on(redis::cmd("GET").arg(&sub).query_async(&mut conn))
        .expect("quota");
    let used: Value = serde_json::from_str(&used).expect("json");
    assert_eq!(
        (used["used"].clone(), used["limit"].clone()),
        (json!(3), json!(2))
    );
    // The legacy engine's variables say the same.
    let legacy = start_with(
        &empty,
        "127.0.0.1",
        &[],
        &[
            ("WORKSPACE_STORAGE_MODE", "redis"),
            ("REDIS_WORKSPACE_HOST", "127.0.0.1"),
            ("REDIS_WORKSPACE_DB", "0"),
            ("REDIS_QUOTA_DB", "0"),
        ],
    );
    set(
        &mut conn,
        sub.clone(),
        json!({"used": 0, "limit": -1}).to_string(),
    );
    let answer = rt.block_on(async {
        client(10)
            .get(format!("{}/{sub}/shop/hi?who=cy", legacy.base))
            .send()
            .await
            .expect("answer")
            .json::<Value>()
            .await
            .expect("json")
    });
    assert_eq!(answer, json!({"hi": "v2", "who": "cy"}));
    drop(legacy);
    // A broken workspace answers its diagnostics, the server keeps serving.
    set(&mut conn, format!("{sub}.broken"), json!({"flows": {"x": {"pipeline": []}}, "routes": [{"method": "get", "path": "/x", "flow": "x"}]}).to_string());
    let (status, body) = get(&format!("/{sub}/broken/x"));
    assert_eq!(status, 500, "{body}");
    assert!(
        body["diagnostics"]
            .as_str()
            .unwrap_or("")
            .contains("empty-pipeline"),
        "{body}"
    );
    rt.block_on(async {
        let _: () = redis::cmd("DEL")
            .arg(format!("{sub}.shop"))
            .arg(format!("{sub}.broken"))
            .arg(&sub)
            .query_async(&mut conn)
            .await
            .expect("cleanup");
    });
    drop(server);
    let _ = std::fs::remove_dir_all(&empty);
}
