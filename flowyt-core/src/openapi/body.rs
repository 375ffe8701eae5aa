//! An operation's request body: a `validation` schema that decides every run, or the fields read.

use serde_json::{Value, json};

use super::cerberus_to_json_schema;
use super::params;
use super::reads::Reads;
use super::responses;
use super::schema::{Obj, conj};
use super::walk::{self, At, Explored, Step};
use crate::model::Kind;
use crate::workspace::{Route, Workspace};

/// Whether the validation at `v` decides the body: every run passes it, and its failure
/// can only answer 4xx.
fn guards(ws: &Workspace, ex: &Explored<'_>, v: At<'_>) -> bool {
    let is_response = |at: &At<'_>| {
        matches!(
            walk::action(ws, *at).map(|a| &a.kind),
            Some(Kind::Response(_))
        )
    };
    let (around, ends) = ex.reach(&ex.start, Some(v));
    if !ends.is_empty() || around.iter().any(is_response) {
        return false;
    }
    let (seen, outcomes) = ex.reach(&walk::after_failure(ws, v), None);
    let answers_4xx = seen
        .iter()
        .all(|at| match walk::action(ws, *at).map(|a| &a.kind) {
            Some(Kind::Response(r)) => {
                let vias = ex.incoming.get(at).map_or(&[][..], Vec::as_slice);
                matches!(responses::status_of(r, vias), Some(Some(400..=499)) | None)
            }
            _ => true,
        });
    answers_4xx && !outcomes.contains(&Step::End)
}

pub(super) fn request_body(
    ws: &Workspace,
    route: &Route,
    ex: &Explored<'_>,
    reads: &Reads,
    declared: Option<&[crate::params::Param]>,
    notes: &mut Vec<String>,
) -> Option<Value> {
    let validations: Vec<At<'_>> = ex
        .order
        .iter()
        .filter(|at| {
            matches!(
                walk::action(ws, **at).map(|a| &a.kind),
                Some(Kind::Validation(_))
            )
        })
        .copied()
        .collect();
    let (guarding, loose): (Vec<At<'_>>, Vec<At<'_>>) =
        validations.into_iter().partition(|v| guards(ws, ex, *v));
    let named = |ats: &[At<'_>]| {
        ats.iter()
            .map(|at| {
                let id = walk::action(ws, *at).map_or("?", |a| a.id.as_str());
                format!("`{id}` (flow `{}`)", at.flow)
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let params_body = declared.map(params::body_schema);
    let body_for_params = declared.is_some_and(|ps| {
        !matches!(route.method.as_str(), "GET" | "HEAD" | "DELETE" | "OPTIONS")
            || ps.iter().any(|p| !params::from_query(p))
    });
    if !guarding.is_empty() {
        let mut parts: Vec<Value> = guarding
            .iter()
            .map(|at| {
                let raw = walk::action(ws, *at).and_then(|a| a.raw_data.get("schema"));
                cerberus_to_json_schema(raw.unwrap_or(&json!({})))
            })
            .collect();
        parts.extend(params_body);
        return Some(json!({
            "description": format!(
                "Checked by the `validation` action {}: a body that fails answers 4xx.",
                named(&guarding)
            ),
            "required": true,
            "content": {"application/json": {"schema": conj(parts)}},
        }));
    }
    let mut description = Vec::new();
    if !loose.is_empty() {
        description.push(format!(
            "Checked by the `validation` action {} on some runs only.",
            named(&loose)
        ));
        notes.push(format!(
            "The `validation` action {} does not decide every answer: the body is not \
             described by its schema.",
            named(&loose)
        ));
    }
    let mut content = Obj::new();
    let reads_json = !reads.body.is_empty() || reads.body_whole;
    if reads_json || !loose.is_empty() || body_for_params {
        let mut parts = Vec::new();
        if !reads.body.is_empty() {
            let props: Obj = reads.body.iter().map(|k| (k.clone(), json!({}))).collect();
            parts.push(json!({ "properties": props }));
        }
        parts.extend(params_body.filter(|_| body_for_params || reads_json));
        content.insert("application/json".into(), json!({"schema": conj(parts)}));
    }
    if !reads.form.is_empty() || reads.form_whole {
        let props: Obj = reads
            .form
            .iter()
            .map(|k| (k.clone(), json!({"type": "string"})))
            .collect();
        content.insert(
            "application/x-www-form-urlencoded".into(),
            json!({"schema": {"type": "object", "properties": props}}),
        );
    }
    if content.is_empty() {
        return None;
    }
    let mut body = Obj::new();
    if !description.is_empty() {
        body.insert("description".into(), json!(description.join(" ")));
    }
    body.insert("required".into(), json!(false));
    body.insert("content".into(), Value::Object(content));
    Some(Value::Object(body))
}
