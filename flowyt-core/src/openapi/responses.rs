//! The answers a route gives: its run's `response` actions and outcomes, and the engine's own.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::schema::{Obj, any_of};
use super::walk::{At, Explored, Via, action};
use crate::model::{Data, Kind, Response};
use crate::workspace::Workspace;

/// The media type of an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Media {
    /// Known: the media type without parameters, and whether the body is JSON text.
    Typed { essence: String, json: bool },
    /// Set by a template: anything.
    Unknown,
}

impl Media {
    fn json() -> Media {
        Media::Typed {
            essence: "application/json".into(),
            json: true,
        }
    }
}

/// One way the route answers.
#[derive(Clone, Debug)]
pub(super) struct Answer {
    /// The status; `None` when a template sets it.
    pub status: Option<u16>,
    /// The `Content-Type`.
    pub media: Media,
    /// The schema of a JSON body.
    pub schema: Value,
    /// Where it comes from, for the response's description.
    pub why: String,
    /// A run's outcome (a request with `Accept: application/xml` gets it as XML).
    pub run: bool,
}

/// What the run's `response` holds for an action entered only after a failed `validation`.
fn after_validation(vias: &[Via]) -> bool {
    !vias.is_empty() && vias.iter().all(|v| *v == Via::ValidationFail)
}

/// `{"errors": {...}}`, the body of a failed validation.
pub(super) fn errors_shape(debug: bool) -> Value {
    let mut props = Obj::new();
    props.insert("errors".into(), json!({"type": "object"}));
    closed(props, &["errors"], debug)
}

fn closed(mut props: Obj, required: &[&str], debug: bool) -> Value {
    if debug {
        props.insert("__debug__".into(), json!({"type": "object"}));
    }
    json!({
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": false,
    })
}

/// The status the `response` action answers with, `Some(None)` when a template sets it, and
/// `None` when it can never answer (a status that is not one).
pub(super) fn status_of(r: &Response, vias: &[Via]) -> Option<Option<u16>> {
    match &r.status {
        None => Some(Some(200)),
        Some(Data::Const(v)) => {
            let n = match v {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }?;
            let n = u16::try_from(n).ok().filter(|s| (100..=599).contains(s))?;
            Some(Some(n))
        }
        Some(Data::Template(t)) if after_validation(vias) && t.is_path("response", "status") => {
            Some(Some(400))
        }
        Some(Data::Template(_)) => Some(None),
        Some(_) => None,
    }
}

/// Whether a header value is one the HTTP layer accepts (else it is dropped).
fn valid_header_value(s: &str) -> bool {
    s.bytes().all(|b| (b >= 32 && b != 127) || b == b'\t')
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn media_of(value: &str) -> Media {
    if value == "application/xml" {
        return Media::Typed {
            essence: value.into(),
            json: false,
        };
    }
    if !valid_header_value(value) {
        return Media::Typed {
            essence: "application/octet-stream".into(),
            json: false,
        };
    }
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let essence = if essence.contains('/') {
        essence
    } else {
        "*/*".into()
    };
    let json = essence == "application/json" || essence.ends_with("+json");
    Media::Typed { essence, json }
}

/// The media type a `response` action's `headers` give (the engine sets
/// `application/json` unless they name another), or `None` when they make the action fail.
fn media_of_headers(headers: &Data) -> Option<Media> {
    let is_ct = |k: &str| k.eq_ignore_ascii_case("content-type");
    match headers {
        Data::Const(Value::Null) => Some(Media::json()),
        Data::Const(Value::Object(m)) => {
            let mut media = Media::json();
            for (k, v) in m {
                let text = scalar_text(v)?;
                if is_ct(k) {
                    media = media_of(&text);
                }
            }
            Some(media)
        }
        Data::Object(members) => {
            let mut media = Media::json();
            for (k, d) in members {
                let m = match d {
                    Data::Const(v) => media_of(&scalar_text(v)?),
                    Data::Template(_) => Media::Unknown,
                    Data::Array(_) | Data::Object(_) => return None,
                };
                if is_ct(k) {
                    media = m;
                }
            }
            Some(media)
        }
        Data::Template(_) => Some(Media::Unknown),
        _ => None,
    }
}

/// The schema of a `response` action's body.
fn body_schema(data: &Data, vias: &[Via]) -> Value {
    match data {
        Data::Const(v) => json!({ "const": v }),
        Data::Template(t) => {
            if let Some(text) = t.template.literal_text() {
                return json!({ "const": text });
            }
            if t.template.single().is_none() {
                return json!({"type": "string"});
            }
            match &t.path {
                Some((root, segs)) if root == "response" && after_validation(vias) => {
                    let keys: Vec<&str> = segs
                        .iter()
                        .map(|s| match s {
                            crate::expr::PathSeg::Key(k) => k.as_str(),
                            crate::expr::PathSeg::Index(_) => "",
                        })
                        .collect();
                    match keys.as_slice() {
                        [] => {
                            let mut props = Obj::new();
                            props.insert("status".into(), json!({"const": 400}));
                            props.insert("data".into(), errors_shape(false));
                            closed(props, &["status", "data"], false)
                        }
                        ["data"] => errors_shape(false),
                        ["data", "errors"] => json!({"type": "object"}),
                        ["status"] => json!({"const": 400}),
                        _ => json!({}),
                    }
                }
                _ => json!({}),
            }
        }
        Data::Array(items) => json!({
            "type": "array",
            "prefixItems": items.iter().map(|d| body_schema(d, vias)).collect::<Vec<_>>(),
            "minItems": items.len(),
            "maxItems": items.len(),
        }),
        Data::Object(members) => {
            let mut props = Obj::new();
            let mut required: Vec<&str> = Vec::new();
            for (k, d) in members {
                props.insert(k.clone(), body_schema(d, vias));
                if !required.contains(&k.as_str()) {
                    required.push(k);
                }
            }
            json!({
                "type": "object",
                "properties": props,
                "required": required,
                "additionalProperties": false,
            })
        }
    }
}

/// With debug on, a run's answer may carry `__debug__` (a non-object body is then wrapped
/// as `{"data": ...}`).
fn debuggable(schema: Value, debug: bool) -> Value {
    if debug {
        any_of(vec![
            schema,
            json!({"type": "object", "required": ["__debug__"]}),
        ])
    } else {
        schema
    }
}

fn place(ws: &Workspace, at: At<'_>) -> String {
    let id = action(ws, at).map_or("?", |a| a.id.as_str());
    format!("action `{id}` of flow `{}`", at.flow)
}

/// The answers of the run itself: every reachable `response` action, a natural end and the
/// validations that answer 400 by themselves.
pub(super) fn run_answers(ws: &Workspace, ex: &Explored<'_>) -> Vec<Answer> {
    let debug = ws.settings.debug;
    let mut out = Vec::new();
    for at in &ex.order {
        let Some(Kind::Response(r)) = action(ws, *at).map(|a| &a.kind) else {
            continue;
        };
        let vias = ex.incoming.get(at).map_or(&[][..], Vec::as_slice);
        let (Some(status), Some(media)) = (status_of(r, vias), media_of_headers(&r.headers)) else {
            continue;
        };
        out.push(Answer {
            status,
            media,
            schema: debuggable(body_schema(&r.body, vias), debug),
            why: format!("the `response` {}", place(ws, *at)),
            run: true,
        });
    }
    if ex.ends() {
        out.push(Answer {
            status: Some(200),
            media: Media::json(),
            schema: debuggable(json!({"const": {}}), debug),
            why: "the run ends without a `response` (body `{}`)".into(),
            run: true,
        });
    }
    for at in ex.invalid_from() {
        out.push(Answer {
            status: Some(400),
            media: Media::json(),
            schema: errors_shape(debug),
            why: format!(
                "the `validation` {} fails and has no `next_action_fail`",
                place(ws, at)
            ),
            run: true,
        });
    }
    out
}

/// What the HTTP layer and the engine answer for any run of the route.
pub(super) fn engine_answers(ws: &Workspace, checks_numbers: bool, params: bool) -> Vec<Answer> {
    let debug = ws.settings.debug;
    let message = |extra: bool| {
        let mut props = Obj::new();
        props.insert("message".into(), json!({"type": "string"}));
        if extra {
            props.insert("param".into(), json!({"type": "string"}));
        }
        json!({
            "type": "object",
            "properties": props,
            "required": ["message"],
            "additionalProperties": false,
        })
    };
    let answer = |status: u16, schema: Value, why: &str, run: bool| Answer {
        status: Some(status),
        media: Media::json(),
        schema,
        why: why.into(),
        run,
    };
    // With params, one shape (`param` optional) serves every message.
    let message = |_: bool| message(params);
    let mut out = vec![answer(
        400,
        message(params),
        if params {
            "the body is not valid JSON, or the flow's params are refused"
        } else {
            "the body is not valid JSON"
        },
        false,
    )];
    if checks_numbers {
        out.push(answer(
            404,
            message(false),
            "a path parameter is not a number",
            false,
        ));
    }
    out.push(answer(
        413,
        message(false),
        &format!(
            "the body is larger than `limits.max_body_bytes` ({} bytes)",
            ws.settings.limits.max_body_bytes
        ),
        false,
    ));
    let mut exception = Obj::new();
    exception.insert(
        "exception".into(),
        if debug {
            json!({"type": ["string", "object"]})
        } else {
            json!({"type": "string"})
        },
    );
    out.push(answer(
        500,
        closed(exception, &["exception"], debug),
        "the run fails: an error in a template or an action, an upstream failure, \
         `limits.max_steps`, or a time limit (`limits.max_seconds`, the route's `timeout`)",
        true,
    ));
    out.push(answer(
        500,
        message(false),
        "the answer cannot be written as the XML a request asked for",
        false,
    ));
    let mut msg = Obj::new();
    msg.insert("msg".into(), json!({"type": "string"}));
    out.push(answer(
        503,
        closed(msg, &["msg"], false),
        "the request takes longer than the server's own limit",
        false,
    ));
    out
}

/// The `responses` object: one entry per status some answer has, the engine's answers of
/// that status included, and `default` for the others. An answer whose status a template
/// sets joins every entry.
pub(super) fn responses(run: &[Answer], engine: &[Answer], bodiless: bool) -> Value {
    let mut by_status: BTreeMap<u16, Vec<&Answer>> = BTreeMap::new();
    let mut default: Vec<&Answer> = Vec::new();
    for a in run {
        if let Some(s) = a.status {
            by_status.entry(s).or_default().push(a);
        }
    }
    // An answer whose status a template sets may come with any status, listed or not.
    for a in run.iter().filter(|a| a.status.is_none()) {
        for group in by_status.values_mut() {
            group.push(a);
        }
        default.push(a);
    }
    for a in engine {
        match a.status.and_then(|s| by_status.get_mut(&s)) {
            Some(group) => group.push(a),
            None => default.push(a),
        }
    }
    let mut out = Obj::new();
    for (status, group) in &by_status {
        let no_body = bodiless || *status < 200 || *status == 204 || *status == 304;
        out.insert(status.to_string(), response(group, no_body, None));
    }
    let intro = "Errors the engine answers: invalid body, limits, upstream failures, timeouts";
    out.insert("default".into(), response(&default, bodiless, Some(intro)));
    Value::Object(out)
}

fn response(group: &[&Answer], no_body: bool, intro: Option<&str>) -> Value {
    let mut whys: Vec<&str> = Vec::new();
    for a in group {
        if !whys.contains(&a.why.as_str()) {
            whys.push(&a.why);
        }
    }
    let mut description = intro.map(str::to_string).unwrap_or_default();
    if !whys.is_empty() {
        if !description.is_empty() {
            description.push_str(": ");
        }
        description.push_str(&whys.join("; "));
    }
    // Capitalised first letter, a final full stop.
    let mut chars = description.chars();
    let mut description = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect::<String>(),
        None => "Answer.".into(),
    };
    if !description.ends_with('.') {
        description.push('.');
    }
    let mut out = Obj::new();
    out.insert("description".into(), Value::String(description));
    if no_body || group.iter().any(|a| a.media == Media::Unknown) {
        return Value::Object(out);
    }
    let mut content: BTreeMap<String, Option<Vec<Value>>> = BTreeMap::new();
    for a in group {
        if let Media::Typed { essence, json } = &a.media {
            let slot = content.entry(essence.clone()).or_insert(Some(Vec::new()));
            match (slot, *json) {
                (Some(schemas), true) => schemas.push(a.schema.clone()),
                (slot, _) => *slot = None,
            }
            if a.run && essence != "application/xml" {
                content.insert("application/xml".into(), None);
            }
        }
    }
    let content: Obj = content
        .into_iter()
        .map(|(mt, schemas)| {
            let media = match schemas {
                Some(s) if !s.is_empty() => json!({ "schema": any_of(s) }),
                _ => json!({}),
            };
            (mt, media)
        })
        .collect();
    if !content.is_empty() {
        out.insert("content".into(), Value::Object(content));
    }
    Value::Object(out)
}
