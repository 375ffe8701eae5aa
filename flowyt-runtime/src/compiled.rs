//! A flow prepared once for all its runs: action ids indexed, kind names and metric handles
//! per action, `${pipeline.next_action}` edges recognised, and a `flow!`'s generated loop.

use flowyt_core::model::{Flow, Next};
use std::collections::HashMap;
use std::sync::Arc;

/// A flow ready to run: the model plus an id index built once, and, for a `flow!`, the loop
/// rustc compiled from its edges.
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
    pub(crate) generated: Option<crate::drive::GeneratedLoop>,
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
            generated: None,
        }
    }

    pub(crate) fn with_loop(
        mut self,
        generated: Option<crate::drive::GeneratedLoop>,
    ) -> CompiledFlow {
        self.generated = generated.filter(|g| {
            let fits = g.driver.fits(&self.flow);
            if !fits {
                tracing::error!(
                    flow = ?self.flow.name,
                    "flowyt bug: a generated loop does not match its flow's actions \
                     (are flowyt-macros and flowyt-runtime the same version?); the engine walks it"
                );
            }
            fits
        });
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
