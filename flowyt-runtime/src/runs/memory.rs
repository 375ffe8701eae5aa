//! [`MemoryStore`]: run records in memory, for tests and servers that keep no history.

use super::{Page, RunRecord, RunStatus, RunStore, StoreError};
use std::sync::Mutex;

/// A store in memory (tests, or a server that keeps no history).
#[derive(Default)]
pub struct MemoryStore(Mutex<Vec<RunRecord>>);

impl RunStore for MemoryStore {
    fn insert(&self, run: &RunRecord) -> Result<(), StoreError> {
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

    fn update(&self, run: &RunRecord) -> Result<(), StoreError> {
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

    fn get(
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

    fn list(&self, workspace: &str, flow: &str, page: Page) -> Result<Vec<RunRecord>, StoreError> {
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

    fn prune(&self, ended_before: f64) -> Result<usize, StoreError> {
        let mut runs = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let before = runs.len();
        runs.retain(|r| r.ended_at.is_none_or(|t| t >= ended_before));
        Ok(before - runs.len())
    }

    fn fail_in_flight(&self, reason: &str, now: f64) -> Result<usize, StoreError> {
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
