//! [`MemoryStore`]: runs, the queue and schedules in memory, for one process (tests, or a
//! server that keeps no history).

use super::{
    Cancelled, Claim, Claimed, Control, Fire, ListQuery, RunRecord, RunStatus, RunStore,
    ScheduleRow, StoreFuture, now,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::future::ready;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// A store in memory. Every method holds one lock, so each is atomic like a store
/// transaction.
#[derive(Default)]
pub struct MemoryStore(Mutex<State>);

#[derive(Default)]
struct State {
    /// Runs in insertion order, found by key through `index`.
    runs: Vec<Entry>,
    index: BTreeMap<(String, String, String), usize>,
    schedules: BTreeMap<(String, String), ScheduleRow>,
}

struct Entry {
    record: RunRecord,
    input: Option<Value>,
    owner: Option<String>,
    lease_until: f64,
    cancel_requested: bool,
    checkpoint: Option<Value>,
}

impl Entry {
    fn leased_by(&self, owner: &str) -> bool {
        self.record.status == RunStatus::Running && self.owner.as_deref() == Some(owner)
    }

    /// Ends the run; `error` is its kind and message (see `RunRecord::error_kind`).
    fn end(&mut self, status: RunStatus, error: Option<(String, String)>, at: f64) {
        self.record.status = status;
        (self.record.error_kind, self.record.error) = error.unzip();
        self.record.ended_at = Some(at);
        self.owner = None;
        self.input = None;
        self.checkpoint = None;
    }
}

fn key(workspace: &str, flow: &str, run_id: &str) -> (String, String, String) {
    (workspace.to_string(), flow.to_string(), run_id.to_string())
}

impl MemoryStore {
    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn entry_mut<'s>(state: &'s mut State, run: &RunRecord) -> Option<&'s mut Entry> {
        let i = *state
            .index
            .get(&key(&run.workspace, &run.flow, &run.run_id))?;
        state.runs.get_mut(i)
    }

    fn insert_now(state: &mut State, run: &RunRecord, input: &Value) -> bool {
        let k = key(&run.workspace, &run.flow, &run.run_id);
        if state.index.contains_key(&k) {
            return false;
        }
        state.index.insert(k, state.runs.len());
        state.runs.push(Entry {
            record: run.clone(),
            input: Some(input.clone()),
            owner: None,
            lease_until: 0.0,
            cancel_requested: false,
            checkpoint: None,
        });
        true
    }
}

/// Whether a list's query selects run `r` (its page aside).
fn matches(query: &ListQuery, r: &RunRecord) -> bool {
    r.workspace == query.workspace
        && query.flow.as_ref().is_none_or(|f| *f == r.flow)
        && query.status.is_none_or(|s| s == r.status)
}

impl RunStore for MemoryStore {
    fn insert<'a>(&'a self, run: &'a RunRecord, input: &'a Value) -> StoreFuture<'a, bool> {
        Box::pin(ready(Ok(Self::insert_now(&mut self.state(), run, input))))
    }

    fn queued(&self) -> StoreFuture<'_, usize> {
        let n = self
            .state()
            .runs
            .iter()
            .filter(|e| e.record.status == RunStatus::Queued)
            .count();
        Box::pin(ready(Ok(n)))
    }

    fn get<'a>(
        &'a self,
        workspace: &'a str,
        flow: &'a str,
        run_id: &'a str,
    ) -> StoreFuture<'a, Option<RunRecord>> {
        let state = self.state();
        let found = state
            .index
            .get(&key(workspace, flow, run_id))
            .and_then(|i| state.runs.get(*i))
            .map(|e| {
                let mut r = e.record.clone();
                r.progress = RunRecord::progress_of(e.checkpoint.as_ref());
                r
            });
        Box::pin(ready(Ok(found)))
    }

    fn list<'a>(&'a self, query: &'a ListQuery) -> StoreFuture<'a, Vec<RunRecord>> {
        let state = self.state();
        let mut matching: Vec<&RunRecord> = state
            .runs
            .iter()
            .map(|e| &e.record)
            .filter(|r| matches(query, r))
            .collect();
        // Newest first; among equal times, the later insertion first.
        matching.reverse();
        matching.sort_by(|a, b| b.queued_at.total_cmp(&a.queued_at));
        let page = matching
            .into_iter()
            .skip(query.page.offset)
            .take(query.page.limit)
            .map(|r| r.clone().summary())
            .collect();
        Box::pin(ready(Ok(page)))
    }

    fn count<'a>(&'a self, query: &'a ListQuery) -> StoreFuture<'a, usize> {
        let state = self.state();
        let n = state
            .runs
            .iter()
            .filter(|e| matches(query, &e.record))
            .count();
        Box::pin(ready(Ok(n)))
    }

    fn claim<'a>(&'a self, claim: &'a Claim) -> StoreFuture<'a, Vec<Claimed>> {
        let mut state = self.state();
        let now = now();
        let mut claimed = Vec::new();
        let mut order: Vec<usize> = (0..state.runs.len()).collect();
        order.sort_by(|a, b| {
            state.runs[*a]
                .record
                .queued_at
                .total_cmp(&state.runs[*b].record.queued_at)
        });
        for i in order {
            if claimed.len() >= claim.limit {
                break;
            }
            let e = &mut state.runs[i];
            let claimable = match e.record.status {
                RunStatus::Queued => true,
                RunStatus::Running => e.lease_until < now,
                _ => false,
            };
            let served = claim
                .workspaces
                .as_ref()
                .is_none_or(|w| w.contains(&e.record.workspace));
            if !claimable || !served || e.record.attempts >= claim.max_attempts {
                continue;
            }
            e.record.status = RunStatus::Running;
            e.record.attempts += 1;
            e.record.started_at.get_or_insert(now);
            e.owner = Some(claim.owner.clone());
            e.lease_until = now + claim.lease;
            claimed.push(Claimed {
                record: e.record.clone(),
                input: e.input.clone().unwrap_or(Value::Null),
                checkpoint: e.checkpoint.clone(),
            });
        }
        Box::pin(ready(Ok(claimed)))
    }

    fn sweep(&self, max_attempts: u32) -> StoreFuture<'_, usize> {
        let mut state = self.state();
        let now = now();
        let mut ended = 0;
        for e in &mut state.runs {
            if e.record.status != RunStatus::Running || e.lease_until >= now {
                continue;
            }
            if e.cancel_requested {
                e.end(
                    RunStatus::Cancelled,
                    Some(("cancelled".into(), "cancelled".into())),
                    now,
                );
            } else if e.record.attempts >= max_attempts {
                let why = abandoned(e.record.attempts);
                e.end(
                    RunStatus::Failed,
                    Some((crate::ErrorKind::Interrupted.as_str().into(), why)),
                    now,
                );
            } else {
                continue;
            }
            ended += 1;
        }
        Box::pin(ready(Ok(ended)))
    }

    fn renew<'a>(&'a self, owner: &'a str, lease: f64) -> StoreFuture<'a, usize> {
        let mut state = self.state();
        let until = now() + lease;
        let mut n = 0;
        for e in state.runs.iter_mut().filter(|e| e.leased_by(owner)) {
            e.lease_until = until;
            n += 1;
        }
        Box::pin(ready(Ok(n)))
    }

    fn checkpoint<'a>(
        &'a self,
        run: &'a RunRecord,
        owner: &'a str,
        checkpoint: &'a Value,
        lease: f64,
    ) -> StoreFuture<'a, Control> {
        let mut state = self.state();
        let control = match Self::entry_mut(&mut state, run) {
            Some(e) if e.leased_by(owner) => {
                e.checkpoint = Some(checkpoint.clone());
                e.lease_until = now() + lease;
                if e.cancel_requested {
                    Control::Cancel
                } else {
                    Control::Continue
                }
            }
            _ => Control::Lost,
        };
        Box::pin(ready(Ok(control)))
    }

    fn finish<'a>(&'a self, run: &'a RunRecord, owner: &'a str) -> StoreFuture<'a, bool> {
        let mut state = self.state();
        let done = match Self::entry_mut(&mut state, run) {
            Some(e) if e.leased_by(owner) => {
                e.record.result = run.result.clone();
                e.record.trace = run.trace.clone();
                e.end(run.status, None, now());
                // A run's end may carry a message without a kind (a store written by an
                // older version), so the two are copied as they are.
                e.record.error = run.error.clone();
                e.record.error_kind = run.error_kind.clone();
                true
            }
            _ => false,
        };
        Box::pin(ready(Ok(done)))
    }

    fn release<'a>(&'a self, owner: &'a str) -> StoreFuture<'a, usize> {
        let mut state = self.state();
        let mut n = 0;
        for e in state.runs.iter_mut().filter(|e| e.leased_by(owner)) {
            e.record.status = RunStatus::Queued;
            e.owner = None;
            n += 1;
        }
        Box::pin(ready(Ok(n)))
    }

    fn cancel<'a>(
        &'a self,
        workspace: &'a str,
        flow: &'a str,
        run_id: &'a str,
    ) -> StoreFuture<'a, Cancelled> {
        let mut state = self.state();
        let i = state.index.get(&key(workspace, flow, run_id)).copied();
        let outcome = match i.and_then(|i| state.runs.get_mut(i)) {
            None => Cancelled::NotFound,
            Some(e) => match e.record.status {
                RunStatus::Queued => {
                    e.end(
                        RunStatus::Cancelled,
                        Some(("cancelled".into(), "cancelled before it started".into())),
                        now(),
                    );
                    Cancelled::Now
                }
                RunStatus::Running => {
                    e.cancel_requested = true;
                    Cancelled::Requested
                }
                ended => Cancelled::AlreadyEnded(ended),
            },
        };
        Box::pin(ready(Ok(outcome)))
    }

    fn prune(&self, ended_before: f64) -> StoreFuture<'_, usize> {
        let mut state = self.state();
        let before = state.runs.len();
        state
            .runs
            .retain(|e| e.record.ended_at.is_none_or(|t| t >= ended_before));
        let removed = before - state.runs.len();
        let index = state
            .runs
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let r = &e.record;
                (key(&r.workspace, &r.flow, &r.run_id), i)
            })
            .collect();
        state.index = index;
        Box::pin(ready(Ok(removed)))
    }

    fn schedules(&self) -> StoreFuture<'_, Vec<ScheduleRow>> {
        let rows = self.state().schedules.values().cloned().collect();
        Box::pin(ready(Ok(rows)))
    }

    fn put_schedule<'a>(&'a self, row: &'a ScheduleRow) -> StoreFuture<'a, ()> {
        let mut state = self.state();
        let k = (row.workspace.clone(), row.flow.clone());
        if state.schedules.get(&k).is_none_or(|r| r.spec != row.spec) {
            state.schedules.insert(k, row.clone());
        }
        Box::pin(ready(Ok(())))
    }

    fn fire<'a>(&'a self, fire: &'a Fire) -> StoreFuture<'a, bool> {
        let mut state = self.state();
        let k = (fire.run.workspace.clone(), fire.run.flow.clone());
        let fired = match state.schedules.get_mut(&k) {
            Some(row) if row.next_fire == fire.due => {
                row.next_fire = fire.next;
                // The run's id names the tick: a tick queued already is not queued again.
                Self::insert_now(&mut state, &fire.run, &Value::Object(Default::default()));
                true
            }
            _ => false,
        };
        Box::pin(ready(Ok(fired)))
    }
}

/// Why a run whose instances kept dying is given up.
pub(crate) fn abandoned(attempts: u32) -> String {
    format!(
        "abandoned after {attempts} attempts: the instances running it stopped each time (a run that crashes its instance is not retried forever)"
    )
}
