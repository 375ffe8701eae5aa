//! The `__debug__` trace (legacy shape): one entry per flow run, one per action.

use flowyt_core::model::Flow;
use serde_json::{Value, json};
use std::time::Instant;

pub(crate) struct FlowTrace {
    id: Value,
    name: Value,
    started: Instant,
    pub actions: Vec<ActionTrace>,
}

pub(crate) struct ActionTrace {
    pub id: String,
    pub kind: String,
    pub data: Value,
    pub time_spent: f64,
    /// What the action produced (`response` for the next action); recorded for triggered
    /// runs only, so HTTP debug traces keep the legacy shape.
    pub output: Option<Value>,
}

impl FlowTrace {
    pub(crate) fn new(flow: &Flow) -> FlowTrace {
        FlowTrace {
            id: flow.id.clone(),
            name: flow.name.clone(),
            started: Instant::now(),
            actions: Vec::new(),
        }
    }

    pub(crate) fn into_json(self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "elapsed_time": self.started.elapsed().as_secs_f64(),
            "actions": self.actions.into_iter().map(|a| {
                let mut entry = json!({
                    "id": a.id,
                    "name": a.kind,
                    "data": a.data,
                    "time_spent": a.time_spent,
                });
                if let (Some(output), Value::Object(map)) = (a.output, &mut entry) {
                    map.insert("output".into(), output);
                }
                entry
            }).collect::<Vec<_>>(),
        })
    }
}
