//! Scheduled flows, fired once per tick for every instance sharing a store: the store keeps
//! each schedule's next fire time, and an instance fires a tick by moving that time forward
//! and queueing the tick's run in one atomic step, so a tick is never fired twice and never
//! lost while any instance lives. After a full outage only the latest missed tick runs
//! (Airflow's `catchup=False`), or every missed one, oldest first, for a schedule with
//! `"catchup": true` (at most [`MAX_TICKS_PER_POLL`] per poll).

use super::{Fire, RunRecord, Runs, ScheduleRow, iso8601, now};
use crate::Workspace;
use flowyt_core::schedule::Catchup;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

/// How often [`run`] looks for due ticks.
pub const POLL: Duration = Duration::from_millis(200);

/// Most ticks of one schedule fired in one poll (a long outage with catch-up is worked
/// through over several polls).
pub const MAX_TICKS_PER_POLL: usize = 100;

/// The id of the run a tick queues: `scheduled__` and the tick's ISO-8601 time, as Airflow
/// names scheduled runs.
pub fn run_id(tick: f64) -> String {
    format!("scheduled__{}", iso8601(tick))
}

/// Fires the schedules of the workspaces `served` returns (asked anew every time, so a
/// reload changes the schedules) into `runs`' store, forever.
pub async fn run(runs: Runs, served: impl Fn() -> Vec<Workspace> + Send + 'static) {
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        if let Err(e) = fire_due(&runs, &served()).await {
            tracing::warn!(error = %e, "cannot fire schedules");
        }
    }
}

/// Fires every tick of `workspaces`' schedules that is due now. Returns how many this
/// instance fired.
pub async fn fire_due(runs: &Runs, workspaces: &[Workspace]) -> Result<usize, super::StoreError> {
    let store = runs.store();
    let rows: HashMap<(String, String), ScheduleRow> = store
        .schedules()
        .await?
        .into_iter()
        .map(|r| ((r.workspace.clone(), r.flow.clone()), r))
        .collect();
    let now = now();
    let mut fired = 0;
    for ws in workspaces {
        for (flow, schedule, catchup) in ws.schedules() {
            let spec = schedule.to_string();
            let due = match rows.get(&(ws.name().to_string(), flow.to_string())) {
                Some(row) if row.spec == spec => row.next_fire,
                _ => {
                    // New or changed: its first tick is one period from now.
                    let Some(first) = schedule.next_after(now) else {
                        continue;
                    };
                    store
                        .put_schedule(&ScheduleRow {
                            workspace: ws.name().to_string(),
                            flow: flow.to_string(),
                            spec,
                            next_fire: first,
                        })
                        .await?;
                    continue;
                }
            };
            let mut due = due;
            for _ in 0..MAX_TICKS_PER_POLL {
                if now < due {
                    break;
                }
                let tick = match catchup {
                    Catchup::Latest => schedule.latest_due(due, now),
                    Catchup::All => due,
                };
                let Some(next) = schedule.next_after(tick) else {
                    break;
                };
                let mut run = RunRecord::queued(ws.name(), flow, &run_id(tick), json!({}));
                run.logical_date = Some(tick);
                let span = crate::telemetry::trigger_span(ws.name(), flow, &run.run_id, None);
                run.traceparent =
                    crate::telemetry::context_of(&span, None).map(|t| t.traceparent());
                let fire = Fire { due, next, run };
                let fired_here = store.fire(&fire).await;
                let outcome = match &fired_here {
                    Ok(true) => "queued",
                    Ok(false) => "duplicate",
                    Err(_) => "error",
                };
                crate::measure::schedule_tick(ws.name(), flow, outcome);
                if !fired_here? {
                    // Another instance fired it: its state is theirs to move on.
                    break;
                }
                fired += 1;
                tracing::info!(workspace = %ws.name(), flow, run_id = %fire.run.run_id,
                    skipped_ticks = (tick > due), "scheduled run queued");
                runs.wake();
                due = next;
            }
        }
    }
    Ok(fired)
}
