//! The context a run evaluates templates against: the legacy roots `env`, `request`, `flow`,
//! `workspace`, `workspace_info`, `response`, `input`, `params`, `loop` and `function.*`.

use crate::functions::Functions;
use bytes::Bytes;
use flowyt_core::expr::{EvalLimits, Scope};
use serde_json::{Map, Value};
use std::sync::{Arc, OnceLock};

/// The `response` root: the previous action's result. A request's JSON body may still be raw
/// bytes; it is parsed the first time a template reads it, at most once.
#[derive(Clone, Debug, Default)]
pub(crate) struct ResponseSlot {
    value: Value,
    raw_data: Option<Bytes>,
    full: OnceLock<Value>,
}

impl ResponseSlot {
    /// A result whose `data` is the raw JSON body `raw_data`.
    pub(crate) fn with_raw_data(head: Value, raw_data: Bytes) -> ResponseSlot {
        ResponseSlot {
            value: head,
            raw_data: Some(raw_data),
            full: OnceLock::new(),
        }
    }

    /// The whole value, `data` parsed if it was raw.
    pub(crate) fn get(&self) -> &Value {
        match &self.raw_data {
            None => &self.value,
            Some(raw) => self.full.get_or_init(|| {
                let mut v = self.value.clone();
                if let Value::Object(map) = &mut v {
                    map.insert(
                        "data".into(),
                        serde_json::from_slice(raw).unwrap_or(Value::Null),
                    );
                }
                v
            }),
        }
    }

    /// The raw JSON of `data`, when it has not been parsed into the value.
    pub(crate) fn raw_data(&self) -> Option<&Bytes> {
        self.raw_data.as_ref()
    }
}

impl From<Value> for ResponseSlot {
    fn from(value: Value) -> ResponseSlot {
        ResponseSlot {
            value,
            raw_data: None,
            full: OnceLock::new(),
        }
    }
}

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
    pub response: ResponseSlot,
    pub loop_item: Value,
    pub functions: Arc<Functions>,
    /// Bounds of every evaluation in the run, with the run's deadline.
    pub limits: EvalLimits,
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
            response: ResponseSlot::from(Value::Object(Map::new())),
            loop_item: Value::Null,
            functions,
            limits: EvalLimits::default(),
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
            "response" => self.response.get(),
            "input" => &self.input,
            "params" => &self.params,
            "loop" => &self.loop_item,
            _ => return None,
        })
    }

    fn call(&self, path: &[&str], args: Vec<Value>) -> Option<Result<Value, String>> {
        self.functions.call(path, &args)
    }

    fn limits(&self) -> EvalLimits {
        self.limits
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
