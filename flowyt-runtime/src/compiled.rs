//! A flow prepared once for all its runs: action ids indexed, kind names and metric handles
//! per action, `${pipeline.next_action}` edges recognised, and a `flow!`'s state machine.

use flowyt_core::model::{Flow, Next};
use std::collections::HashMap;
use std::sync::Arc;

/// Where a `flow!`'s generated state machine goes after an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// To the action at this index.
    To(usize),
    /// The flow ends here.
    End,
    /// Not known at compile time (a dynamic `next_action`, a branch without a target): the
    /// engine resolves it as for a JSON flow.
    Runtime,
}

/// A `flow!`'s generated transition function: the current action's index and the index of
/// the branch it chose (in `Kind::edges()` order) to the next step.
pub type Machine = fn(usize, Option<usize>) -> Step;

/// A flow ready to run: the model plus an id index built once, and, for a `flow!`, the state
/// machine rustc compiled from its edges.
#[derive(Debug)]
pub(crate) struct CompiledFlow {
    pub flow: Flow,
    pub(crate) index: HashMap<String, usize>,
    /// Each action's kind name, shared (a metric label per action run).
    pub(crate) kinds: Vec<Arc<str>>,
    /// Each action's metric handles.
    pub(crate) metrics: Vec<crate::measure::ActionHandles>,
    /// Per action: its `next_action` is exactly `${pipeline.next_action}` (the branch chosen),
    /// so it is resolved without building the `pipeline` scope (which holds the response).
    pub(crate) branch_next: Vec<bool>,
    pub(crate) machine: Option<Machine>,
}

impl CompiledFlow {
    pub(crate) fn new(flow: Flow) -> CompiledFlow {
        let mut index = HashMap::with_capacity(flow.actions.len());
        for (i, a) in flow.actions.iter().enumerate() {
            // Duplicates are rejected by the validator; keep the first if a legacy flow has them.
            index.entry(a.id.clone()).or_insert(i);
        }
        let kinds = flow
            .actions
            .iter()
            .map(|a| Arc::from(a.kind_name.as_str()))
            .collect();
        let branch_next = flow
            .actions
            .iter()
            .map(|a| match &a.next {
                Next::Dynamic(tpl) => is_pipeline_next_action(tpl),
                _ => false,
            })
            .collect();
        let metrics = flow.actions.iter().map(|_| Default::default()).collect();
        CompiledFlow {
            flow,
            index,
            kinds,
            metrics,
            branch_next,
            machine: None,
        }
    }

    pub(crate) fn with_machine(mut self, machine: Option<Machine>) -> CompiledFlow {
        self.machine = machine;
        self
    }
}

/// Whether a `next_action` template is exactly `${pipeline.next_action}`.
fn is_pipeline_next_action(tpl: &flowyt_core::model::Tpl) -> bool {
    use flowyt_core::expr::PathSeg;
    let Some(segment) = tpl.template.single() else {
        return false;
    };
    matches!(
        segment.expr.as_path(),
        Some(("pipeline", steps)) if matches!(steps.as_slice(), [PathSeg::Key(k)] if k == "next_action")
    )
}
