//! Schedule ticks missed while every instance was down: only the latest runs by default
//! (Airflow's `catchup=False`), every one with `"catchup": true`; a tick is fired once.

mod support;

use flowyt_runtime::runs::{
    ListQuery, MemoryStore, Page, RunStore, Runs, RunsOptions, ScheduleRow, now, schedules,
};
use serde_json::json;
use std::sync::Arc;
use support::*;

#[tokio::test]
async fn missed_ticks_follow_the_catch_up_policy() {
    let scheduled = |catchup: Option<bool>| {
        let mut schedule = json!({"every": 1});
        if let Some(c) = catchup {
            schedule["catchup"] = json!(c);
        }
        json!({"id": "s", "name": "S", "schedule": schedule,
               "pipeline": [respond("1", json!("tick"), 200)]})
    };
    let ws = Case::new()
        .flow("latest", scheduled(None))
        .flow("every", scheduled(Some(true)))
        .flow("off", scheduled(Some(false)))
        .load();
    let store = Arc::new(MemoryStore::default());
    // Every instance was down for 10.5 s after these ticks were due.
    let due = now() - 10.5;
    for flow in ["latest", "every", "off"] {
        store
            .put_schedule(&ScheduleRow {
                workspace: "ws".into(),
                flow: flow.into(),
                spec: "every 1".into(),
                next_fire: due,
            })
            .await
            .expect("put");
    }
    let lookup = {
        let ws = ws.clone();
        move |name: &str| (name == "ws").then(|| ws.clone())
    };
    let runs = Runs::start(store.clone(), lookup, RunsOptions::default());
    let fired = schedules::fire_due(&runs, std::slice::from_ref(&ws))
        .await
        .expect("fires");
    assert_eq!(fired, 1 + 11 + 1);
    let ids = |flow: &str| {
        let query = ListQuery {
            workspace: "ws".into(),
            flow: Some(flow.into()),
            status: None,
            page: Page::new(1000, 0),
        };
        let store = store.clone();
        async move {
            let mut ids: Vec<String> = store
                .list(&query)
                .await
                .expect("list")
                .into_iter()
                .map(|r| r.run_id)
                .collect();
            ids.sort();
            ids
        }
    };
    let latest = ids("latest").await;
    assert_eq!(
        latest,
        [schedules::run_id(due + 10.0)],
        "only the latest missed tick"
    );
    assert_eq!(ids("off").await, latest);
    let every = ids("every").await;
    let expected: Vec<String> = (0..=10)
        .map(|i| schedules::run_id(due + f64::from(i)))
        .collect();
    assert_eq!(every, expected, "every missed tick, each once");
    // Fired ticks are not fired again; the next ones come on time.
    assert_eq!(
        schedules::fire_due(&runs, std::slice::from_ref(&ws)).await,
        Ok(0)
    );
    let rows = store.schedules().await.expect("rows");
    assert!(rows.iter().all(|r| r.next_fire > now() - 0.5), "{rows:?}");
}
