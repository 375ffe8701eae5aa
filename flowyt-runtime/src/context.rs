//! The context a run evaluates templates against: the legacy roots `env`, `request`, `flow`,
//! `workspace`, `workspace_info`, `response`, `input`, `params`, `loop` and `function.*`.

use crate::functions::Functions;
use bytes::Bytes;
use flowyt_core::expr::{EvalLimits, Scope};
use serde_json::{Map, Value};
use std::sync::{Arc, OnceLock};

/// The `response` root: the previous action's result. An upstream's answer is kept as it
/// came (status, headers, body bytes) and turned into the legacy value
/// (`{"status", "headers", "elapsed", "data"}`) only the first time a template reads more
/// than its raw body, at most once.
#[derive(Clone, Debug, Default)]
pub(crate) struct ResponseSlot {
    /// The value; with an `answer`, its `data` (unless the body is raw).
    value: Value,
    answer: Option<Box<Answer>>,
    raw_data: Option<Bytes>,
    full: OnceLock<Value>,
}

/// An upstream's HTTP answer, before it becomes a value.
#[derive(Clone, Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    /// Seconds the call took.
    pub elapsed: f64,
}

impl ResponseSlot {
    /// An upstream's answer with its body: raw JSON bytes, or a value.
    pub(crate) fn answer(answer: Answer, raw_data: Option<Bytes>, data: Value) -> ResponseSlot {
        ResponseSlot {
            value: data,
            answer: Some(Box::new(answer)),
            raw_data,
            full: OnceLock::new(),
        }
    }

    /// The whole value, built (and a raw body parsed) on first use.
    pub(crate) fn get(&self) -> &Value {
        if self.answer.is_none() && self.raw_data.is_none() {
            return &self.value;
        }
        self.full.get_or_init(|| {
            let data = match &self.raw_data {
                Some(raw) => serde_json::from_slice(raw).unwrap_or(Value::Null),
                None => self.value.clone(),
            };
            let Some(answer) = &self.answer else {
                return data;
            };
            let mut headers = Map::new();
            for (name, value) in &answer.headers {
                headers.insert(
                    title_case(name.as_str()),
                    Value::String(String::from_utf8_lossy(value.as_bytes()).into_owned()),
                );
            }
            let mut elapsed = Map::new();
            elapsed.insert("total_seconds".into(), Value::from(answer.elapsed));
            let mut head = Map::with_capacity(4);
            head.insert("status".into(), Value::from(answer.status));
            head.insert("headers".into(), Value::Object(headers));
            head.insert("elapsed".into(), Value::Object(elapsed));
            head.insert("data".into(), data);
            Value::Object(head)
        })
    }

    /// The raw JSON of `data`, when it has not been parsed into the value.
    pub(crate) fn raw_data(&self) -> Option<&Bytes> {
        self.raw_data.as_ref()
    }
}

/// `content-type` → `Content-Type` (legacy flows read `response.headers['Content-Type']`).
pub(crate) fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper { c.to_ascii_uppercase() } else { c });
        upper = c == '-';
    }
    out
}

impl From<Value> for ResponseSlot {
    fn from(value: Value) -> ResponseSlot {
        ResponseSlot {
            value,
            answer: None,
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
