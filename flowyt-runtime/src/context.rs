//! The context a run evaluates templates against: the legacy roots `env`, `request`, `flow`,
//! `workspace`, `workspace_info`, `response`, `input`, `params`, `loop` and `function.*`.

use crate::functions::Functions;
use flowyt_core::expr::Scope;
use serde_json::{Map, Value};
use std::sync::Arc;

/// The state of one run, as templates see it.
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    pub env: Arc<Value>,
    pub workspace_info: Arc<Value>,
    pub request: Arc<Value>,
    pub input: Arc<Value>,
    pub params: Arc<Value>,
    pub flow: Value,
    pub workspace: Value,
    /// The previous action's result; visible to exactly one action, as in the legacy engine.
    pub response: Value,
    pub loop_item: Value,
    pub functions: Arc<Functions>,
}

impl Ctx {
    pub(crate) fn new(
        env: Arc<Value>,
        workspace_info: Arc<Value>,
        request: Arc<Value>,
        input: Arc<Value>,
        functions: Arc<Functions>,
    ) -> Ctx {
        Ctx {
            env,
            workspace_info,
            request,
            input,
            params: Arc::new(Value::Object(Map::new())),
            flow: Value::Object(Map::new()),
            workspace: Value::Object(Map::new()),
            response: Value::Object(Map::new()),
            loop_item: Value::Null,
            functions,
        }
    }
}

impl Scope for Ctx {
    fn root(&self, name: &str) -> Option<&Value> {
        Some(match name {
            "env" => &self.env,
            "request" => &self.request,
            "flow" => &self.flow,
            "workspace" => &self.workspace,
            "workspace_info" => &self.workspace_info,
            "response" => &self.response,
            "input" => &self.input,
            "params" => &self.params,
            "loop" => &self.loop_item,
            _ => return None,
        })
    }

    fn call(&self, path: &[&str], args: Vec<Value>) -> Option<Result<Value, String>> {
        self.functions.call(path, &args)
    }
}

/// The scope of `next_action` templates: only `pipeline`.
pub(crate) struct PipelineScope(pub Value);

impl Scope for PipelineScope {
    fn root(&self, name: &str) -> Option<&Value> {
        (name == "pipeline").then_some(&self.0)
    }

    fn call(&self, _path: &[&str], _args: Vec<Value>) -> Option<Result<Value, String>> {
        None
    }
}

/// Merges the members of `from` (an object) into `into` (made an object if it is not).
pub(crate) fn merge(into: &mut Value, from: Value) {
    if !into.is_object() {
        *into = Value::Object(Map::new());
    }
    if let (Value::Object(into), Value::Object(from)) = (into, from) {
        into.extend(from);
    }
}
