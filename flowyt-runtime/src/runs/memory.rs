//! [`MemoryStore`]: run records in memory, for tests and servers that keep no history.

use super::{Page, RunRecord, RunStatus, RunStore, StoreError, StoreFuture};
use std::future::ready;
use std::sync::Mutex;

/// A store in memory (tests, or a server that keeps no history).
#[derive(Default)]
pub struct MemoryStore(Mutex<Vec<RunRecord>>);

impl MemoryStore {
    fn insert_now(&self, run: &RunRecord) -> Result<(), StoreError> {
        let mut runs = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if runs
            .iter()
            .any(|r| r.workspace == run.workspace && r.flow == run.flow && r.run_id == run.run_id)
        {
            return Err(StoreError(format!("run `{}` exists", run.run_id)));
        }
        runs.push(run.clone());
        Ok(())
    }

    fn update_now(&self, run: &RunRecord) -> Result<(), StoreError> {
        let mut runs = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match runs
            .iter_mut()
            .find(|r| r.workspace == run.workspace && r.flow == run.flow && r.run_id == run.run_id)
        {
            Some(r) => {
                *r = run.clone();
                Ok(())
            }
            None => Err(StoreError(format!("no run `{}`", run.run_id))),
        }
    }

    fn get_now(
        &self,
        workspace: &str,
        flow: &str,
        run_id: &str,
    ) -> Result<Option<RunRecord>, StoreError> {
        let runs = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(runs
            .iter()
            .find(|r| r.workspace == workspace && r.flow == flow && r.run_id == run_id)
            .cloned())
    }

    fn list_now(
        &self,
        workspace: &str,
        flow: &str,
        page: Page,
    ) -> Result<Vec<RunRecord>, StoreError> {
        let runs = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(runs
            .iter()
            .rev()
            .filter(|r| r.workspace == workspace && r.flow == flow)
            .skip(page.offset)
            .take(page.limit)
            .map(|r| r.clone().summary())
            .collect())
    }

    fn prune_now(&self, ended_before: f64) -> Result<usize, StoreError> {
        let mut runs = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let before = runs.len();
        runs.retain(|r| r.ended_at.is_none_or(|t| t >= ended_before));
        Ok(before - runs.len())
    }

    fn fail_in_flight_now(&self, reason: &str, now: f64) -> Result<usize, StoreError> {
        let mut runs = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut n = 0;
        for r in runs
            .iter_mut()
            .filter(|r| matches!(r.status, RunStatus::Queued | RunStatus::Running))
        {
            r.status = RunStatus::Failed;
            r.error = Some(reason.to_string());
            r.ended_at = Some(now);
            n += 1;
        }
        Ok(n)
    }
}

impl RunStore for MemoryStore {
    fn insert<'a>(&'a self, run: &'a RunRecord) -> StoreFuture<'a, ()> {
        Box::pin(ready(self.insert_now(run)))
    }

    fn update<'a>(&'a self, run: &'a RunRecord) -> StoreFuture<'a, ()> {
        Box::pin(ready(self.update_now(run)))
    }

    fn get<'a>(
        &'a self,
        workspace: &'a str,
        flow: &'a str,
        run_id: &'a str,
    ) -> StoreFuture<'a, Option<RunRecord>> {
        Box::pin(ready(self.get_now(workspace, flow, run_id)))
    }

    fn list<'a>(
        &'a self,
        workspace: &'a str,
        flow: &'a str,
        page: Page,
    ) -> StoreFuture<'a, Vec<RunRecord>> {
        Box::pin(ready(self.list_now(workspace, flow, page)))
    }

    fn prune(&self, ended_before: f64) -> StoreFuture<'_, usize> {
        Box::pin(ready(self.prune_now(ended_before)))
    }

    fn fail_in_flight<'a>(&'a self, reason: &'a str, now: f64) -> StoreFuture<'a, usize> {
        Box::pin(ready(self.fail_in_flight_now(reason, now)))
    }
}
