//! The run store on real databases (SQLite files and the PostgreSQL our machines run): the
//! queue's guarantees (one claimer per run, leases, checkpoints, cancel, hand-back), schedule
//! ticks fired once, and migrations that several instances may run at once.

mod pg;

use flowyt_runtime::runs::{
    Cancelled, Claim, Control, Fire, ListQuery, MemoryStore, Page, RunRecord, RunStatus, RunStore,
    ScheduleRow,
};
use flowyt_runtime::store::SqlStore;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

fn queued(flow: &str, id: &str) -> RunRecord {
    RunRecord::queued("ws", flow, id, json!({"who": id}))
}

fn claim(owner: &str, limit: usize, lease: f64) -> Claim {
    Claim {
        owner: owner.into(),
        workspaces: Some(vec!["ws".into()]),
        limit,
        lease,
        max_attempts: 3,
    }
}

async fn sqlite(tag: &str) -> (SqlStore, std::path::PathBuf) {
    let path =
        std::env::temp_dir().join(format!("flowyt-store-{tag}-{}.sqlite", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let store = SqlStore::connect(&SqlStore::sqlite_url(&path))
        .await
        .expect("opens");
    (store, path)
}

fn ids(runs: &[RunRecord]) -> Vec<&str> {
    runs.iter().map(|r| r.run_id.as_str()).collect()
}

/// The life of runs in the queue, as one instance and another see it.
async fn queue_semantics(store: &dyn RunStore) {
    for id in ["r1", "r2", "r3", "r4"] {
        let mut run = queued("f", id);
        // A trigger may give the date the run is for (Airflow's logical date).
        run.logical_date = (id == "r4").then_some(1_796_637_600.5);
        assert!(
            store
                .insert(&run, &json!({"who": id, "password": "pw"}))
                .await
                .expect("insert")
        );
        // Distinct queue times (the database's clock has millisecond steps in SQLite).
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    assert!(
        store
            .insert(&queued("g", "other"), &json!({}))
            .await
            .expect("insert")
    );
    assert!(
        !store
            .insert(&queued("f", "r1"), &json!({}))
            .await
            .expect("insert"),
        "duplicates are refused"
    );
    assert_eq!(store.queued().await.expect("count"), 5);

    // Lists: newest first, by flow or for the whole workspace, by status, paged.
    let list = |flow: Option<&str>, status: Option<RunStatus>, limit, offset| ListQuery {
        workspace: "ws".into(),
        flow: flow.map(str::to_string),
        status,
        page: Page::new(limit, offset),
    };
    let page = store
        .list(&list(Some("f"), None, 2, 1))
        .await
        .expect("list");
    assert_eq!(ids(&page), ["r3", "r2"]);
    assert_eq!(page[0].conf, serde_json::Value::Null, "lists are summaries");
    let all = store.list(&list(None, None, 100, 0)).await.expect("list");
    assert_eq!(ids(&all), ["other", "r4", "r3", "r2", "r1"]);
    assert_eq!(
        (all[1].logical_date, all[2].logical_date),
        (Some(1_796_637_600.5), None)
    );
    // Counts ignore the page (a list's total).
    assert_eq!(
        store
            .count(&list(Some("f"), None, 2, 1))
            .await
            .expect("count"),
        4
    );
    assert_eq!(
        store.count(&list(None, None, 1, 0)).await.expect("count"),
        5
    );
    assert_eq!(
        store
            .count(&list(None, Some(RunStatus::Running), 100, 0))
            .await
            .expect("count"),
        0
    );

    // Claims: oldest first, never the same run twice.
    let a = store.claim(&claim("a", 2, 60.0)).await.expect("claim");
    assert_eq!(
        a.iter()
            .map(|c| c.record.run_id.as_str())
            .collect::<Vec<_>>(),
        ["r1", "r2"]
    );
    assert_eq!(
        (a[0].record.status, a[0].record.attempts),
        (RunStatus::Running, 1)
    );
    assert_eq!(
        a[0].input,
        json!({"who": "r1", "password": "pw"}),
        "the run gets its whole conf"
    );
    assert!(a[0].record.started_at.is_some() && a[0].checkpoint.is_none());
    let b = store.claim(&claim("b", 1, 60.0)).await.expect("claim");
    assert_eq!(b[0].record.run_id, "r3");
    let running = store
        .list(&list(Some("f"), Some(RunStatus::Running), 100, 0))
        .await
        .expect("list");
    assert_eq!(ids(&running), ["r3", "r2", "r1"]);

    // Checkpoints belong to the lease holder; a cancel reaches the run at its next one.
    let r1 = &a[0].record;
    let cp = json!({"flow": "f", "next": "2"});
    assert_eq!(
        store.checkpoint(r1, "a", &cp, 60.0).await.expect("cp"),
        Control::Continue
    );
    assert_eq!(
        store.checkpoint(r1, "b", &cp, 60.0).await.expect("cp"),
        Control::Lost
    );
    assert_eq!(
        store.cancel("ws", "f", "r2").await.expect("cancel"),
        Cancelled::Requested
    );
    assert_eq!(
        store
            .checkpoint(&a[1].record, "a", &cp, 60.0)
            .await
            .expect("cp"),
        Control::Cancel
    );

    // Only the holder records the end.
    let mut done = r1.clone();
    done.status = RunStatus::Success;
    done.error_kind = Some("kept as given".into());
    done.result = Some(json!({"status": 200, "data": {"ok": true}}));
    assert!(!store.finish(&done, "b").await.expect("finish"));
    assert!(store.finish(&done, "a").await.expect("finish"));
    assert!(
        !store.finish(&done, "a").await.expect("finish"),
        "an end is recorded once"
    );
    let got = store
        .get("ws", "f", "r1")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(got.status, RunStatus::Success);
    assert_eq!(got.result, done.result);
    assert_eq!(got.error_kind.as_deref(), Some("kept as given"));
    assert_eq!(got.conf, json!({"who": "r1"}));
    assert!(got.ended_at >= got.started_at && got.started_at.is_some());

    // Cancel: queued at once; ended runs say so; unknown ones are not found.
    assert_eq!(
        store.cancel("ws", "f", "r4").await.expect("cancel"),
        Cancelled::Now
    );
    let r4 = store
        .get("ws", "f", "r4")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(r4.status, RunStatus::Cancelled);
    assert_eq!(r4.error_kind.as_deref(), Some("cancelled"));
    assert_eq!(
        store.cancel("ws", "f", "r1").await.expect("cancel"),
        Cancelled::AlreadyEnded(RunStatus::Success)
    );
    assert_eq!(
        store.cancel("ws", "f", "zz").await.expect("cancel"),
        Cancelled::NotFound
    );

    // Hand-back: b's run is queued again with its checkpoint, for anyone to resume.
    let r3 = &b[0].record;
    assert_eq!(
        store
            .checkpoint(r3, "b", &json!({"next": "3"}), 60.0)
            .await
            .expect("cp"),
        Control::Continue
    );
    assert_eq!(store.release("b").await.expect("release"), 1);
    let again = store.claim(&claim("c", 10, 0.2)).await.expect("claim");
    let r3_again = again
        .iter()
        .find(|c| c.record.run_id == "r3")
        .expect("r3 claimed again");
    assert_eq!(r3_again.record.attempts, 2);
    assert_eq!(r3_again.checkpoint, Some(json!({"next": "3"})));

    // Lease expiry: c "dies"; after its lease another instance takes the runs over.
    assert_eq!(
        store
            .claim(&claim("d", 10, 60.0))
            .await
            .expect("claim")
            .len(),
        0,
        "leases hold"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let taken = store.claim(&claim("d", 10, 0.2)).await.expect("claim");
    assert!(
        taken
            .iter()
            .any(|c| c.record.run_id == "r3" && c.record.attempts == 3)
    );
    assert_eq!(
        store.checkpoint(r3, "c", &cp, 60.0).await.expect("cp"),
        Control::Lost,
        "c's lease is gone"
    );
    // Renewing keeps a lease alive.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(store.renew("d", 60.0).await.expect("renew") >= 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        store
            .claim(&claim("e", 10, 60.0))
            .await
            .expect("claim")
            .len(),
        0
    );
    // A run that ran out of attempts (r3: 3 of 3) is failed when its lease expires; the
    // cancelled one (r2, also expired on a) ends cancelled.
    store.renew("d", 0.05).await.expect("renew");
    store.renew("a", 0.05).await.expect("renew");
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(store.sweep(3).await.expect("sweep") >= 1);
    let r3 = store
        .get("ws", "f", "r3")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(r3.status, RunStatus::Failed);
    assert_eq!(r3.error_kind.as_deref(), Some("interrupted"));
    assert!(
        r3.error
            .as_deref()
            .unwrap_or("")
            .contains("abandoned after 3 attempts"),
        "{r3:?}"
    );
    let r2 = store
        .get("ws", "f", "r2")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(r2.status, RunStatus::Cancelled, "{r2:?}");

    // Retention.
    assert_eq!(store.prune(0.0).await.expect("prune"), 0);
    assert!(
        store
            .prune(flowyt_runtime::runs::now() + 5.0)
            .await
            .expect("prune")
            >= 4
    );
    assert!(store.get("ws", "f", "r1").await.expect("get").is_none());
}

/// Many claimers at once: every run is claimed exactly once.
async fn claims_never_overlap(store: Arc<dyn RunStore>) {
    for i in 0..200 {
        store
            .insert(&queued("f", &format!("c{i:03}")), &json!({}))
            .await
            .expect("insert");
    }
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = store
                    .claim(&claim(&format!("w{worker}"), 7, 60.0))
                    .await
                    .expect("claim");
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().map(|c| c.record.run_id));
            }
        }));
    }
    let mut seen = Vec::new();
    for t in tasks {
        seen.extend(t.await.expect("claimer"));
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(
        (seen.len(), unique.len()),
        (200, 200),
        "each run claimed once"
    );
}

/// Instances racing to fire one tick: one wins, one run is queued.
async fn a_tick_fires_once(store: Arc<dyn RunStore>) {
    let row = ScheduleRow {
        workspace: "ws".into(),
        flow: "tick".into(),
        spec: "every 1".into(),
        next_fire: 100.0,
    };
    store.put_schedule(&row).await.expect("put");
    // Recording it again with the same spec keeps its state; a changed spec starts over.
    store
        .put_schedule(&ScheduleRow {
            next_fire: 555.0,
            ..row.clone()
        })
        .await
        .expect("put");
    assert_eq!(store.schedules().await.expect("rows")[0].next_fire, 100.0);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut run = RunRecord::queued("ws", "tick", "scheduled__100", json!({}));
            run.logical_date = Some(100.0);
            let fire = Fire {
                due: 100.0,
                next: 101.0,
                run,
            };
            store.fire(&fire).await.expect("fire")
        }));
    }
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.expect("firer"));
    }
    assert_eq!(won, 1);
    assert_eq!(store.schedules().await.expect("rows")[0].next_fire, 101.0);
    assert_eq!(store.queued().await.expect("count"), 1);
    // The tick's time is the run's logical date, kept by the store.
    let fired = store
        .get("ws", "tick", "scheduled__100")
        .await
        .expect("get")
        .expect("the tick's run");
    assert_eq!(fired.logical_date, Some(100.0));
    assert_eq!(
        fired.summary_json()["logical_date_iso"],
        "1970-01-01T00:01:40.000Z"
    );
    store
        .put_schedule(&ScheduleRow {
            spec: "every 2".into(),
            next_fire: 7.0,
            ..row
        })
        .await
        .expect("put");
    assert_eq!(store.schedules().await.expect("rows")[0].next_fire, 7.0);
}

#[tokio::test]
async fn the_queue_in_memory() {
    queue_semantics(&MemoryStore::default()).await;
    claims_never_overlap(Arc::new(MemoryStore::default())).await;
    a_tick_fires_once(Arc::new(MemoryStore::default())).await;
}

#[tokio::test]
async fn the_queue_in_sqlite() {
    let (store, path) = sqlite("queue").await;
    queue_semantics(&store).await;
    store.close().await;
    let (store, path2) = sqlite("claims").await;
    claims_never_overlap(Arc::new(store)).await;
    let (store, path3) = sqlite("tick").await;
    a_tick_fires_once(Arc::new(store)).await;
    for p in [path, path2, path3] {
        let _ = std::fs::remove_file(p);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_queue_in_postgres() {
    let db = pg::TestDb::create("queue").await;
    let store = SqlStore::connect(&db.url).await.expect("connects");
    assert_eq!(store.dialect(), flowyt_runtime::store::Dialect::Postgres);
    queue_semantics(&store).await;
    store.close().await;
    let db2 = pg::TestDb::create("claims").await;
    claims_never_overlap(Arc::new(
        SqlStore::connect(&db2.url).await.expect("connects"),
    ))
    .await;
    let db3 = pg::TestDb::create("tick").await;
    a_tick_fires_once(Arc::new(
        SqlStore::connect(&db3.url).await.expect("connects"),
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_starting_together_migrate_once() {
    let db = pg::TestDb::create("migrate").await;
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let url = db.url.clone();
        tasks.push(tokio::spawn(async move { SqlStore::connect(&url).await }));
    }
    for t in tasks {
        let store = t.await.expect("task").expect("every instance starts");
        assert_eq!(store.schema_version().await.expect("version"), 5);
        store.close().await;
    }
    // SQLite too, several pools on one file.
    let path = std::env::temp_dir().join(format!("flowyt-migrate-{}.sqlite", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let url = SqlStore::sqlite_url(&path);
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let url = url.clone();
        tasks.push(tokio::spawn(async move { SqlStore::connect(&url).await }));
    }
    for t in tasks {
        let store = t.await.expect("task").expect("every instance starts");
        assert_eq!(store.schema_version().await.expect("version"), 5);
    }
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn stores_say_what_is_wrong() {
    // Both wait out the connect timeout (the pool retries a refused connection): together.
    let (e, e2) = tokio::join!(
        SqlStore::connect("postgres://nobody@127.0.0.1:1/none"),
        SqlStore::connect("postgres://u:hunter2@127.0.0.1:1/none")
    );
    let (e, e2) = (e.expect_err("refused"), e2.expect_err("refused"));
    assert!(e.to_string().contains("is PostgreSQL running"), "{e}");
    assert!(
        !e2.to_string().contains("hunter2"),
        "passwords never show: {e2}"
    );
    let e = SqlStore::connect("mysql://x").await.expect_err("refused");
    assert!(e.to_string().contains("not a store URL"), "{e}");
    let e = SqlStore::connect("sqlite:///nonexistent-dir/x/y.sqlite")
        .await
        .expect_err("refused");
    assert!(e.to_string().contains("cannot open the store"), "{e}");
}

#[tokio::test]
async fn an_older_sqlite_history_is_adopted() {
    use sqlx::Executor;
    let path = std::env::temp_dir().join(format!("flowyt-legacy-{}.sqlite", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let url = SqlStore::sqlite_url(&path);
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.expect("creates");
    pool.execute(
        "CREATE TABLE runs (workspace TEXT NOT NULL, flow TEXT NOT NULL, run_id TEXT NOT NULL,
             status TEXT NOT NULL, conf TEXT NOT NULL, queued_at REAL NOT NULL, started_at REAL,
             ended_at REAL, result TEXT, trace TEXT, error TEXT, PRIMARY KEY (workspace, flow, run_id))",
    )
    .await
    .expect("legacy table");
    pool.execute(
        "INSERT INTO runs VALUES ('w', 'f', 'done', 'success', '{\"a\":1}', 1.0, 2.0, 3.0, '{\"status\":200}', NULL, NULL),
                                 ('w', 'f', 'cut', 'running', '{}', 4.0, 5.0, NULL, NULL, NULL, NULL)",
    )
    .await
    .expect("legacy rows");
    pool.close().await;
    let store = SqlStore::connect(&url).await.expect("migrates");
    let done = store
        .get("w", "f", "done")
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(
        (done.status, done.conf.clone(), done.ended_at),
        (RunStatus::Success, json!({"a": 1}), Some(3.0))
    );
    let cut = store
        .get("w", "f", "cut")
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(cut.status, RunStatus::Failed);
    assert_eq!(
        cut.error.as_deref(),
        Some("the server stopped while the run was in flight")
    );
    let _ = std::fs::remove_file(&path);
}
