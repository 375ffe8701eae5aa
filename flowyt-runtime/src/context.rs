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
    pub headers: http::HeaderMap,
    /// Seconds the call took.
    pub elapsed: f64,
}

impl ResponseSlot {
    /// An upstream's answer with its body: raw JSON bytes, or a value.
    #[cfg(feature = "http-client")]
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

/// The `request` root: given whole (a triggered run, `flowyt run`), or an HTTP request whose
/// parts become values member by member, the first time a template reads each.
#[derive(Clone, Debug)]
pub(crate) enum RequestRoot {
    Value(Arc<Value>),
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    Http(Arc<HttpRequest>),
}

/// An HTTP request as the `request` root shows it (spec §2.2): `method`, `path`, `headers`
/// (names lower-cased, `-` as `_`), `params`, `qs` and `form` (first value of each key),
/// `data` (the JSON body) and `debug`.
#[derive(Debug)]
pub(crate) struct HttpRequest {
    pub method: http::Method,
    pub uri: http::Uri,
    pub headers: http::HeaderMap,
    pub params: Value,
    pub form: Value,
    pub data: Value,
    /// The debug header's text, `None` when absent (read as `"false"`); a value only when
    /// a template reads it.
    debug: Option<String>,
    debug_v: OnceLock<Value>,
    method_v: OnceLock<Value>,
    path_v: OnceLock<Value>,
    headers_v: OnceLock<Value>,
    qs_v: OnceLock<Value>,
    full: OnceLock<Value>,
}

impl HttpRequest {
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn new(
        method: http::Method,
        uri: http::Uri,
        headers: http::HeaderMap,
        params: Value,
        form: Value,
        data: Value,
        debug: Option<String>,
    ) -> HttpRequest {
        HttpRequest {
            method,
            uri,
            headers,
            params,
            form,
            data,
            debug,
            debug_v: OnceLock::new(),
            method_v: OnceLock::new(),
            path_v: OnceLock::new(),
            headers_v: OnceLock::new(),
            qs_v: OnceLock::new(),
            full: OnceLock::new(),
        }
    }

    /// `qs`: the first value of each query key.
    pub(crate) fn qs(&self) -> &Value {
        self.qs_v.get_or_init(|| {
            let mut map = Map::new();
            first_values(self.uri.query().unwrap_or("").as_bytes(), &mut map);
            Value::Object(map)
        })
    }

    fn member(&self, name: &str) -> Option<&Value> {
        Some(match name {
            "method" => self
                .method_v
                .get_or_init(|| Value::String(self.method.as_str().to_string())),
            "path" => self
                .path_v
                .get_or_init(|| Value::String(self.uri.path().to_string())),
            "headers" => self
                .headers_v
                .get_or_init(|| Value::Object(header_map(&self.headers))),
            "params" => &self.params,
            "qs" => self.qs(),
            "form" => &self.form,
            "data" => &self.data,
            "debug" => self.debug_v.get_or_init(|| {
                Value::String(self.debug.as_deref().unwrap_or("false").to_string())
            }),
            _ => return None,
        })
    }

    fn full(&self) -> &Value {
        self.full.get_or_init(|| {
            let mut map = Map::with_capacity(8);
            for name in [
                "method", "path", "headers", "params", "qs", "form", "data", "debug",
            ] {
                if let Some(v) = self.member(name) {
                    map.insert(name.to_string(), v.clone());
                }
            }
            Value::Object(map)
        })
    }
}

impl RequestRoot {
    /// The whole root.
    pub(crate) fn get(&self) -> &Value {
        match self {
            RequestRoot::Value(v) => v,
            RequestRoot::Http(r) => r.full(),
        }
    }

    /// One member (`request.qs`), built alone.
    pub(crate) fn member(&self, name: &str) -> Option<&Value> {
        match self {
            RequestRoot::Value(v) => v.get(name),
            RequestRoot::Http(r) => r.member(name),
        }
    }
}

/// The first value of each key of a `application/x-www-form-urlencoded` text.
pub(crate) fn first_values(input: &[u8], into: &mut Map<String, Value>) {
    for (k, v) in form_urlencoded::parse(input) {
        if !into.contains_key(k.as_ref()) {
            into.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
}

/// Header names lower-cased with `-` turned into `_` (`X-Api-Key` → `x_api_key`).
pub(crate) fn header_map(headers: &http::HeaderMap) -> Map<String, Value> {
    let mut map = Map::new();
    for (name, value) in headers {
        let key = name.as_str().replace('-', "_");
        if !map.contains_key(&key) {
            map.insert(
                key,
                Value::String(String::from_utf8_lossy(value.as_bytes()).into_owned()),
            );
        }
    }
    map
}

/// The state of one run, as templates see it.
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    pub env: Arc<Value>,
    pub workspace_info: Arc<Value>,
    pub request: RequestRoot,
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
        request: RequestRoot,
        input: Arc<Value>,
        functions: Arc<Functions>,
    ) -> Ctx {
        Ctx {
            env,
            workspace_info,
            request,
            input,
            params: shared_value(Value::Object(Map::new())),
            flow: Value::Object(Map::new()),
            workspace: Value::Object(Map::new()),
            response: ResponseSlot::from(Value::Object(Map::new())),
            loop_item: Value::Null,
            functions,
            limits: EvalLimits::default(),
        }
    }
}

/// `v` behind an `Arc`; `null` and `{}` (a run without input or params) are shared, not
/// allocated per run.
pub(crate) fn shared_value(v: Value) -> Arc<Value> {
    static NULL: OnceLock<Arc<Value>> = OnceLock::new();
    static EMPTY: OnceLock<Arc<Value>> = OnceLock::new();
    match &v {
        Value::Null => NULL.get_or_init(|| Arc::new(Value::Null)).clone(),
        Value::Object(m) if m.is_empty() => EMPTY
            .get_or_init(|| Arc::new(Value::Object(Map::new())))
            .clone(),
        _ => Arc::new(v),
    }
}

impl Scope for Ctx {
    fn root(&self, name: &str) -> Option<&Value> {
        Some(match name {
            "env" => &self.env,
            "request" => self.request.get(),
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

    fn root_member(&self, root: &str, member: &str) -> Option<&Value> {
        match root {
            "request" => self.request.member(member),
            _ => self.root(root)?.get(member),
        }
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
