//! An operation's parameters: typed path captures, and the query parameters and headers read.

use serde_json::{Value, json};

use super::params;
use super::reads::Reads;
use crate::workspace::Route;

/// Header names a document does not list as parameters.
const STANDARD_HEADERS: &[&str] = &[
    "accept",
    "authorization",
    "content_type",
    "content_length",
    "cookie",
    "host",
    "connection",
    "transfer_encoding",
];

pub(super) fn path_parameters(route: &Route) -> Vec<Value> {
    route
        .params
        .iter()
        .map(|(name, conv)| {
            let (schema, description) = match conv.as_str() {
                "int" => (
                    json!({"type": "integer", "format": "int64"}),
                    "An integer (`int`); anything else answers 404.",
                ),
                "float" => (
                    json!({"type": "number"}),
                    "A number (`float`); anything else answers 404.",
                ),
                "path" => (
                    json!({"type": "string", "minLength": 1}),
                    "The rest of the path (`path`): it may contain `/`.",
                ),
                "uuid" => (
                    json!({"type": "string", "minLength": 1}),
                    "A UUID (`uuid`); the server does not check its form.",
                ),
                _ => (
                    json!({"type": "string", "minLength": 1}),
                    "One path segment.",
                ),
            };
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "description": description,
                "schema": schema,
            })
        })
        .collect()
}

pub(super) fn query_parameters(
    reads: &Reads,
    declared: Option<&[crate::params::Param]>,
    has_body: bool,
    notes: &mut Vec<String>,
) -> Vec<Value> {
    let param = |name: &str, required: bool, schema: Value| json!({"name": name, "in": "query", "required": required, "schema": schema});
    let mut out = Vec::new();
    match declared {
        Some(declared) => {
            for p in declared.iter().filter(|p| params::from_query(p)) {
                let required = params::needed(p) && !has_body;
                out.push(param(
                    &p.name,
                    required,
                    params::param_schema(p, params::Source::Query),
                ));
            }
            let undeclared: Vec<String> = reads
                .query
                .iter()
                .filter(|q| !declared.iter().any(|p| &p.name == *q))
                .map(|q| format!("`{q}`"))
                .collect();
            if !undeclared.is_empty() {
                notes.push(format!(
                    "Reads the query parameters {} but does not declare them as params: the \
                     server refuses them (400).",
                    undeclared.join(", ")
                ));
            }
        }
        None => {
            for q in &reads.query {
                out.push(param(q, false, json!({"type": "string"})));
            }
        }
    }
    if reads.query_dynamic {
        notes.push(
            "Reads the query string as a whole, or parameters by computed names: they cannot \
             be listed."
                .into(),
        );
    }
    out
}

pub(super) fn header_parameters(reads: &Reads, notes: &mut Vec<String>) -> Vec<Value> {
    let out = reads
        .headers
        .iter()
        .filter(|h| !STANDARD_HEADERS.contains(&h.as_str()))
        .map(|h| {
            json!({
                "name": h.replace('_', "-"),
                "in": "header",
                "required": false,
                "schema": {"type": "string"},
            })
        })
        .collect();
    if reads.headers_dynamic {
        notes.push("Reads headers as a whole, or by computed names: they cannot be listed.".into());
    }
    for h in &reads.headers_unmatched {
        notes.push(format!(
            "Reads header key `{h}`, which is never set: the engine names headers in lower \
             case with `_` for `-`."
        ));
    }
    out
}
