//! A JSON flow as `flow! { ... }` Rust source (`flowyt convert`).
//!
//! The output reads like hand-written `flow!`: identifier and integer ids are written bare,
//! `request`/`validation` branches become `-> success: A, fail: B`, empty data disappears.
//! The flow is taken as written: validate it first (a flow with errors converts, and then
//! fails to compile with the same diagnostics).

use serde_json::Value;
use std::fmt::Write as _;

/// Rust's reserved words: an id or key spelt like one is written as a string.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "union", "null", "success",
    "fail", "actions", "id", "name",
];

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s != "_"
        && !KEYWORDS.contains(&s)
}

/// An action id as `flow!` writes it: `fetch_user`, `2`, or `"a-uuid"`.
fn id(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) if is_ident(s) => Ok(s.clone()),
        Value::String(s)
            if !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit())
                && (s == "0" || !s.starts_with('0'))
                && s.len() < 19 =>
        {
            Ok(s.clone())
        }
        Value::String(s) if !s.is_empty() => Ok(format!("{s:?}")),
        Value::Number(n) if n.is_u64() => Ok(n.to_string()),
        other => Err(format!(
            "an action id must be a string or a number, found `{other}`"
        )),
    }
}

fn key(k: &str) -> String {
    if is_ident(k) {
        k.to_string()
    } else {
        format!("{k:?}")
    }
}

/// A JSON value in `flow!` data syntax.
fn value(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => {
            let _ = write!(out, "{s:?}");
        }
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                value(item, indent, out);
            }
            out.push(']');
        }
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Object(map) => {
            out.push_str("{\n");
            for (k, v) in map {
                let _ = write!(out, "{}{}: ", "    ".repeat(indent + 1), key(k));
                value(v, indent + 1, out);
                out.push_str(",\n");
            }
            let _ = write!(out, "{}}}", "    ".repeat(indent));
        }
    }
}

/// Converts the text of a JSON flow into a `flow! { ... }` expression.
pub fn to_flow_macro(text: &str) -> Result<String, String> {
    let flow: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let pipeline = flow
        .get("pipeline")
        .and_then(Value::as_array)
        .ok_or("the flow has no `pipeline` array")?;
    let mut out = String::from("flow! {\n");
    for field in ["id", "name", "params", "schedule"] {
        if let Some(v) = flow.get(field).filter(|v| !v.is_null()) {
            let _ = write!(out, "    {field} = ");
            value(v, 1, &mut out);
            out.push_str(";\n");
        }
    }
    for action in pipeline {
        let a_id = id(action.get("id").ok_or("an action has no `id`")?)?;
        let kind = action
            .get("action")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("action `{a_id}` has no `action` kind"))?;
        if !is_ident(kind) && kind != "loop" {
            return Err(format!(
                "action `{a_id}`: kind `{kind}` is not an identifier"
            ));
        }
        let mut data = match action.get("data") {
            None | Some(Value::Null) => serde_json::Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(other) => {
                return Err(format!(
                    "action `{a_id}`: `data` must be an object, found `{other}`"
                ));
            }
        };
        let next = action.get("next_action").unwrap_or(&Value::Null);
        let follows_branch = next
            .as_str()
            .is_some_and(|s| s.replace(' ', "") == "${pipeline.next_action}");
        let literal = |v: Option<&Value>| match v {
            Some(Value::String(s)) => !s.contains("${") && !s.is_empty(),
            Some(Value::Number(_)) => true,
            _ => false,
        };
        let mut edges = String::new();
        if follows_branch
            && kind != "switch"
            && literal(data.get("next_action_success"))
            && literal(data.get("next_action_fail"))
        {
            let success = data.remove("next_action_success").unwrap_or(Value::Null);
            let fail = data.remove("next_action_fail").unwrap_or(Value::Null);
            edges = format!(" -> success: {}, fail: {}", id(&success)?, id(&fail)?);
        } else {
            match next {
                Value::Null => {}
                Value::String(s) if s.is_empty() => {}
                Value::String(s) if s.contains("${") => edges = format!(" -> {s:?}"),
                other => edges = format!(" -> {}", id(other)?),
            }
        }
        let asynchronous = action.get("execute_async") == Some(&Value::Bool(true));
        let _ = write!(
            out,
            "    {a_id}: {}{kind}",
            if asynchronous { "async " } else { "" }
        );
        if !data.is_empty() {
            out.push(' ');
            value(&Value::Object(data), 1, &mut out);
        }
        out.push_str(&edges);
        out.push_str(";\n");
    }
    out.push('}');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_the_github_search_flow() {
        let text = r#"{"id": "f", "name": "Github", "pipeline": [
            {"id": "1", "action": "start", "data": {}, "next_action": "2"},
            {"id": "2", "action": "request", "data": {"url": "${env.baseUrl}/x", "method": "get", "headers": {}, "next_action_success": "4", "next_action_fail": "bad id"}, "next_action": "${pipeline.next_action}"},
            {"id": "4", "action": "response", "data": {"status": 201, "data": {"X-Key": [1, -2.5, null, true]}}, "next_action": null},
            {"id": "bad id", "action": "handle", "execute_async": true, "data": {"flow": "x"}, "next_action": "${'4' if pipeline.response else '4'}"}
        ]}"#;
        assert_eq!(
            to_flow_macro(text).as_deref(),
            Ok(r#"flow! {
    id = "f";
    name = "Github";
    1: start -> 2;
    2: request {
        url: "${env.baseUrl}/x",
        method: "get",
        headers: {},
    } -> success: 4, fail: "bad id";
    4: response {
        status: 201,
        data: {
            "X-Key": [1, -2.5, null, true],
        },
    };
    "bad id": async handle {
        flow: "x",
    } -> "${'4' if pipeline.response else '4'}";
}"#)
        );
    }

    #[test]
    fn refuses_what_it_cannot_write() {
        assert!(to_flow_macro("{").is_err());
        assert!(
            to_flow_macro(r#"{"pipeline": [{"id": {}, "action": "start", "next_action": null}]}"#)
                .is_err()
        );
        assert!(
            to_flow_macro(r#"{"pipeline": [{"id": "1", "action": "a-b", "next_action": null}]}"#)
                .is_err()
        );
    }
}
