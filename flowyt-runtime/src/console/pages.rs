//! The console's pages, as maud templates: every value from a flow or a run goes through maud's
//! escaping (only the SVG the layout produced, whose labels are escaped there, is inserted raw).

use super::auth::Level;
use super::{FlowView, svg};
use crate::Workspace;
use crate::runs::{RunRecord, RunStatus};
use axum::http::StatusCode;
use flowyt_core::graph::{self, Target};
use flowyt_core::model::Flow;
use flowyt_core::params::{Param, ParamType};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::Value;
use std::collections::BTreeSet;

/// Runs per page on a flow page.
pub(super) const RUNS_PER_PAGE: usize = 20;

/// `s` as one path segment: everything but unreserved characters percent-encoded.
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    flowyt_core::expr::url::encode_into(&mut out, s, flowyt_core::expr::url::UrlPart::Path);
    out
}

pub(super) fn workspace_url(ws: &str) -> String {
    format!("/_console/workspaces/{}", enc(ws))
}

pub(super) fn flow_url(ws: &str, flow: &str) -> String {
    format!("/_console/workspaces/{}/flows/{}", enc(ws), enc(flow))
}

pub(super) fn run_url(ws: &str, flow: &str, run_id: &str) -> String {
    format!("{}/runs/{}", flow_url(ws, flow), enc(run_id))
}

fn layout(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // No favicon request: the console loads nothing it does not serve.
                link rel="icon" href="data:,";
                title { (title) " · flowyt" }
                link rel="stylesheet" href="/_console/assets/console.css";
                script src="/_console/assets/console.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/_console/" { "flowyt" }
                    nav {
                        a href="/_console/" { "Workspaces" }
                        " "
                        a href="/_console/api" { "API" }
                    }
                }
                main { (body) }
            }
        }
    }
    .into_string()
}

/// An OpenAPI document as a page (see [`super::api`]).
pub(super) fn api(title: &str, doc: &Value, json_url: &str) -> String {
    layout(title, super::api::document(doc, json_url))
}

/// A page that says one thing (not found, refused, store down).
pub(super) fn message_page(status: StatusCode, text: &str) -> String {
    layout(
        status.canonical_reason().unwrap_or("Error"),
        html! {
            h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) }
            p.error-box { (text) }
            p { a href="/_console/" { "Back to the workspaces" } }
        },
    )
}

pub(super) fn login(next: &str, error: Option<&str>, has_secret: bool) -> String {
    layout(
        "Log in",
        html! {
            h1 { "Log in" }
            @if !has_secret {
                p.notice { "This server has no secret: there is nothing to log in to." }
            }
            @if let Some(e) = error { p.error-box role="alert" { (e) } }
            form.trigger.card method="post" action="/_console/login" {
                input type="hidden" name="next" value=(next);
                label for="token" { "Token " span.hint { "(the server's APP_SECRET_KEY)" } }
                input #token type="password" name="token" autocomplete="current-password" autofocus;
                button type="submit" { "Log in" }
            }
        },
    )
}

fn status_badge(status: RunStatus) -> Markup {
    html! { span class={ "status " (status.as_str()) } { (status.as_str()) } }
}

fn time(secs: Option<f64>) -> Markup {
    match secs {
        Some(t) => html! { time datetime=(crate::runs::iso8601(t)) { (crate::runs::iso8601(t)) } },
        None => html! { span.muted { "—" } },
    }
}

fn duration(r: &RunRecord) -> String {
    match (r.started_at, r.ended_at) {
        (Some(s), Some(e)) => format!("{:.3} s", (e - s).max(0.0)),
        (Some(_), None) => "running".into(),
        _ => "—".into(),
    }
}

fn schedule_text(ws: &Workspace, key: &str) -> Option<String> {
    ws.schedules()
        .find(|(k, _, _)| *k == key)
        .map(|(_, s, c)| match c {
            flowyt_core::schedule::Catchup::All => format!("{s} (catch up every missed tick)"),
            flowyt_core::schedule::Catchup::Latest => s.to_string(),
        })
}

fn sorted_keys(ws: &Workspace) -> Vec<&str> {
    let mut keys: Vec<&str> = ws.flow_keys().collect();
    keys.sort_unstable();
    keys
}

pub(super) fn home(
    workspaces: &[Workspace],
    failed: &[(String, String)],
    services: &[(String, String, String, String)],
) -> String {
    layout(
        "Workspaces",
        html! {
            h1 { "Workspaces" }
            @if workspaces.is_empty() && failed.is_empty() {
                p.empty { "No workspace is served. Put workspace folders in the folder `flowyt serve` was given, or publish one with POST /_engine/publish." }
            }
            @for (name, diagnostics) in failed {
                section.card.failed {
                    h2 { (name) " " span class="status failed" { "not loaded" } }
                    p { "This workspace has errors and is not served. Fix them and reload (POST /_engine/reload)." }
                    pre { (diagnostics) }
                }
            }
            div.grid {
                @for ws in workspaces {
                    section.card.workspace data-workspace=(ws.name()) {
                        h2 {
                            (ws.name()) " "
                            a.small href=(format!("{}/api", workspace_url(ws.name()))) { "API" }
                        }
                        @let keys = sorted_keys(ws);
                        table {
                            thead { tr { th { "Flow" } th { "Routes" } th { "Schedule" } } }
                            tbody {
                                @for key in &keys {
                                    tr {
                                        td { a href=(flow_url(ws.name(), key)) { (key) } }
                                        td.mono {
                                            @for r in ws.routes().iter().filter(|r| r.flow == *key) {
                                                (r.method) " /" (ws.name()) (r.path) br;
                                            }
                                        }
                                        td { (schedule_text(ws, key).unwrap_or_default()) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Services in the registry" }
            @if services.is_empty() {
                p.empty { "No service is registered. Services register with Eureka clients at /eureka (see the README's registry section)." }
            } @else {
                table.card {
                    thead { tr { th { "Service" } th { "Instance" } th { "Status" } th { "Address" } } }
                    tbody {
                        @for (app, id, status, address) in services {
                            tr { td { (app) } td.mono { (id) } td { (status) } td.mono { (address) } }
                        }
                    }
                }
            }
        },
    )
}

fn input_for(p: &Param, value: Option<&str>, error: bool) -> Markup {
    let default = p.default.as_ref().map(|d| match d {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let value = value.map(str::to_string).or(default);
    let described = format!("hint-{}", p.name);
    let invalid = if error { Some("true") } else { None };
    if let Some(choices) = &p.choices {
        return html! {
            select id=(format!("param-{}", p.name)) name=(p.name) aria-describedby=(described) aria-invalid=[invalid] {
                option value="" { "—" }
                @for c in choices {
                    @let text = match c { Value::String(s) => s.clone(), other => other.to_string() };
                    option value=(text) selected[value.as_deref() == Some(text.as_str())] { (text) }
                }
            }
        };
    }
    match p.ty {
        ParamType::Boolean => html! {
            select id=(format!("param-{}", p.name)) name=(p.name) aria-describedby=(described) aria-invalid=[invalid] {
                option value="" { "—" }
                option value="true" selected[value.as_deref() == Some("true")] { "true" }
                option value="false" selected[value.as_deref() == Some("false")] { "false" }
            }
        },
        ParamType::Object | ParamType::Array => html! {
            textarea id=(format!("param-{}", p.name)) name=(p.name) rows="3" aria-describedby=(described) aria-invalid=[invalid] { (value.unwrap_or_default()) }
        },
        ParamType::Integer | ParamType::Number => html! {
            input id=(format!("param-{}", p.name)) name=(p.name) type="number"
                step=(if p.ty == ParamType::Integer { "1" } else { "any" })
                min=[p.minimum] max=[p.maximum] value=[value] aria-describedby=(described) aria-invalid=[invalid];
        },
        ParamType::String => html! {
            input id=(format!("param-{}", p.name)) name=(p.name) type="text" value=[value] aria-describedby=(described) aria-invalid=[invalid];
        },
    }
}

fn param_hint(p: &Param) -> String {
    let mut rules = vec![format!("{:?}", p.ty).to_lowercase()];
    if p.required && p.default.is_none() {
        rules.push("required".into());
    }
    if let Some(m) = p.minimum {
        rules.push(format!("≥ {m}"));
    }
    if let Some(m) = p.maximum {
        rules.push(format!("≤ {m}"));
    }
    if let Some(d) = &p.default {
        rules.push(format!("default {d}"));
    }
    rules.join(", ")
}

fn runs_table(runs: &[RunRecord]) -> Markup {
    html! {
        table.runs {
            thead { tr { th { "Run" } th { "Status" } th { "Queued" } th { "Duration" } th { "Attempts" } } }
            tbody {
                @for r in runs {
                    tr data-run=(r.run_id) {
                        td.mono { a href=(run_url(&r.workspace, &r.flow, &r.run_id)) { (r.run_id) } }
                        td { (status_badge(r.status)) }
                        td { (time(Some(r.queued_at))) }
                        td { (duration(r)) }
                        td { (r.attempts) }
                    }
                }
            }
        }
    }
}

pub(super) fn flow(v: &FlowView<'_>) -> String {
    let ws = v.ws.name();
    let params: &[Param] = v.flow.params.as_deref().unwrap_or(&[]);
    let field_error = |name: &str| {
        v.error
            .as_ref()
            .filter(|(p, _)| p == name)
            .map(|(_, m)| m.as_str())
    };
    let general_error = v
        .error
        .as_ref()
        .filter(|(p, _)| !params.iter().any(|x| x.name == *p))
        .map(|(_, m)| m.as_str());
    layout(
        &format!("{ws}/{}", v.key),
        html! {
            p.muted { a href="/_console/" { "Workspaces" } " / " (ws) }
            h1 { (v.key) }
            dl.facts.card {
                dt { "Routes" }
                dd.mono {
                    @let routes: Vec<_> = v.ws.routes().iter().filter(|r| r.flow == v.key).collect();
                    @if routes.is_empty() { span.muted { "none: it runs when triggered" } }
                    @for r in routes { (r.method) " /" (ws) (r.path) br; }
                }
                dt { "Schedule" }
                dd { (schedule_text(v.ws, v.key).unwrap_or_else(|| "none".into())) }
                dt { "Actions" }
                dd { (v.flow.actions.len()) }
            }
            h2 { "Graph" }
            @match &v.svg {
                Ok(svg) => div.graph role="img" aria-label=(format!("the graph of flow {}", v.key)) { (PreEscaped(svg)) },
                Err(e) => p.error-box { "The graph cannot be drawn: " (e) },
            }
            @let jumps: BTreeSet<String> = graph::edges(v.flow).into_iter().filter_map(|e| match e.to { Target::Flow(f) => Some(f), Target::Action(_) => None }).collect();
            @if !jumps.is_empty() {
                p { "Other flows it runs: "
                    @for f in &jumps {
                        @if v.ws.flow_keys().any(|k| k == f) { a href=(flow_url(ws, f)) { (f) } " " } @else { code { (f) } " " }
                    }
                }
            }
            h2 { "Trigger a run" }
            @if v.level == Level::Read {
                p.notice { "The console is read-only here: the server listens beyond loopback and has no secret." }
            }
            @if let Some(e) = general_error { p.error-box role="alert" { (e) } }
            form.trigger.card method="post" action=(format!("{}/trigger", flow_url(ws, v.key))) novalidate {
                @if params.is_empty() { p.muted { "This flow declares no params." } }
                @for p in params {
                    @let error = field_error(&p.name);
                    div.field {
                        label for=(format!("param-{}", p.name)) { (p.name) " " span.hint id=(format!("hint-{}", p.name)) { "(" (param_hint(p)) ")" } }
                        (input_for(p, v.values.get(&p.name).map(String::as_str), error.is_some()))
                        @if let Some(e) = error { p.field-error id=(format!("error-{}", p.name)) role="alert" { (e) } }
                    }
                }
                button type="submit" disabled[v.level == Level::Read] { "Trigger" }
            }
            h2 { "Recent runs" }
            @match &v.runs {
                Err(e) => p.error-box { "The runs cannot be read: " (e) },
                Ok(runs) if runs.is_empty() && v.offset == 0 => p.empty { "No run yet. Trigger one above." },
                Ok(runs) => {
                    (runs_table(runs))
                    div.pager {
                        @if v.offset > 0 { a href=(format!("{}?offset={}", flow_url(ws, v.key), v.offset.saturating_sub(RUNS_PER_PAGE))) { "Newer" } }
                        @if runs.len() == RUNS_PER_PAGE { a href=(format!("{}?offset={}", flow_url(ws, v.key), v.offset + RUNS_PER_PAGE)) { "Older" } }
                    }
                }
            }
            @if let Some(source) = &v.source {
                h2 { "Source" }
                details.card { summary { "flows/" (v.key) ".json" } pre { (source) } }
            }
        },
    )
}

/// The executed actions of a run: from its trace once it ended, from its checkpoint while it
/// runs. Each with its kind, the branch it took (from the next executed action), its time and
/// its data.
fn steps(record: &RunRecord, flow: Option<&Flow>) -> Markup {
    let traced: Vec<&Value> = record
        .trace
        .as_ref()
        .and_then(|t| t.get("flows"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| f.get("actions").and_then(Value::as_array))
        .flatten()
        .collect();
    let ids: Vec<String> = if traced.is_empty() {
        record.progress.clone()
    } else {
        traced
            .iter()
            .filter_map(|a| a.get("id").and_then(Value::as_str).map(str::to_string))
            .collect()
    };
    let edges = flow.map(graph::edges).unwrap_or_default();
    let branch = |i: usize| -> String {
        let (Some(flow), Some(id), Some(next)) = (flow, ids.get(i), ids.get(i + 1)) else {
            return String::new();
        };
        let Some(from) = flow.position(id) else {
            return String::new();
        };
        edges
            .iter()
            .find(|e| e.from == from && e.to == Target::Action(next.clone()))
            .map(|e| {
                if e.label.is_empty() {
                    "next".to_string()
                } else {
                    e.label.clone()
                }
            })
            .unwrap_or_default()
    };
    html! {
        @if ids.is_empty() {
            p.empty { @if record.status.is_final() { "No action ran." } @else { "No action has completed yet." } }
        } @else {
            table.steps {
                thead { tr { th { "#" } th { "Action" } th { "Kind" } th { "Branch" } th { "Time" } th { "Input / output" } } }
                tbody {
                    @for (i, id) in ids.iter().enumerate() {
                        @let t = traced.get(i);
                        tr data-step=(id) {
                            td { (i + 1) }
                            td.mono { (id) }
                            td { (t.and_then(|a| a.get("name")).and_then(Value::as_str).map(str::to_string)
                                    .or_else(|| flow.and_then(|f| f.position(id)).and_then(|p| flow.map(|f| f.actions[p].kind_name.clone())))
                                    .unwrap_or_default()) }
                            td { (branch(i)) }
                            td { @if let Some(s) = t.and_then(|a| a.get("time_spent")).and_then(Value::as_f64) { (format!("{:.1} ms", s * 1000.0)) } }
                            td {
                                @if let Some(d) = t.and_then(|a| a.get("data")) {
                                    details { summary { "input" } pre { (serde_json::to_string_pretty(d).unwrap_or_default()) } }
                                }
                                @if let Some(o) = t.and_then(|a| a.get("output")) {
                                    details { summary { "output" } pre { (serde_json::to_string_pretty(o).unwrap_or_default()) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The part of a run page that changes while it runs (pushed by the events stream).
pub(super) fn live(record: &RunRecord, flow: Option<&Flow>, level: Level) -> String {
    let (ws, key, id) = (&record.workspace, &record.flow, &record.run_id);
    let marked: BTreeSet<usize> = flow
        .map(|f| {
            let ids: Vec<String> = match record
                .trace
                .as_ref()
                .and_then(|t| t.get("flows"))
                .and_then(Value::as_array)
            {
                Some(flows) => flows
                    .iter()
                    .filter_map(|f| f.get("actions").and_then(Value::as_array))
                    .flatten()
                    .filter_map(|a| a.get("id").and_then(Value::as_str).map(str::to_string))
                    .collect(),
                None => record.progress.clone(),
            };
            ids.iter().filter_map(|id| f.position(id)).collect()
        })
        .unwrap_or_default();
    html! {
        @if !record.status.is_final() {
            form method="post" action=(format!("{}/cancel", run_url(ws, key, id))) {
                button.secondary #cancel type="submit" disabled[level == Level::Read] { "Cancel this run" }
            }
        }
        dl.facts.card {
            dt { "Status" } dd #run-status data-status=(record.status.as_str()) { (status_badge(record.status)) }
            dt { "Queued" } dd { (time(Some(record.queued_at))) }
            dt { "Started" } dd { (time(record.started_at)) }
            dt { "Ended" } dd { (time(record.ended_at)) }
            dt { "Duration" } dd { (duration(record)) }
            dt { "Attempts" } dd { (record.attempts) }
            @if let Some(e) = &record.error {
                dt { "Error" }
                dd.mono {
                    @if let Some(kind) = &record.error_kind { span.status #run-error-kind { (kind) } " " }
                    (e)
                }
            }
        }
        h2 { "Steps" }
        (steps(record, flow))
        @if let Some(f) = flow {
            h2 { "Path" }
            @match svg(f, &marked) {
                Ok(svg) => div.graph role="img" aria-label="the flow's graph with the run's path highlighted" { (PreEscaped(svg)) },
                Err(e) => p.error-box { "The graph cannot be drawn: " (e) },
            }
        }
        @if let Some(result) = &record.result {
            h2 { "Result" }
            pre #run-result { (serde_json::to_string_pretty(result).unwrap_or_default()) }
        }
    }
    .into_string()
}

/// A run's page; `trace_link` is where its trace is shown in the tracing backend, when the
/// console knows one.
pub(super) fn run(
    record: &RunRecord,
    flow: Option<&Flow>,
    level: Level,
    trace_link: Option<String>,
) -> String {
    let (ws, key, id) = (&record.workspace, &record.flow, &record.run_id);
    let trace_id = record.trace_context().map(|t| t.trace_id());
    let events = format!("{}/events", run_url(ws, key, id));
    layout(
        &format!("Run {id}"),
        html! {
            p.muted { a href="/_console/" { "Workspaces" } " / " (ws) " / " a href=(flow_url(ws, key)) { (key) } }
            h1 { "Run " span.mono { (id) } }
            @if let Some(trace_id) = &trace_id {
                p.muted {
                    "Trace "
                    @match &trace_link {
                        Some(link) => a #trace-id.mono href=(link) { (trace_id) },
                        None => span #trace-id.mono { (trace_id) },
                    }
                }
            }
            div #live data-events=[(!record.status.is_final()).then_some(events)] aria-live="polite" {
                (PreEscaped(live(record, flow, level)))
            }
            h2 { "Params" }
            pre #run-conf { (serde_json::to_string_pretty(&record.conf).unwrap_or_default()) }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_run_shows_the_kind_of_failure_beside_its_message_escaped() {
        let mut record = RunRecord::queued("ws", "f", "r1", Value::Null);
        record.status = RunStatus::Failed;
        record.error = Some("`request.qs.x` is missing".into());
        record.error_kind = Some("<template>".into());
        let page = live(&record, None, Level::Read);
        assert!(
            page.contains(r#"<span class="status" id="run-error-kind">&lt;template&gt;</span>"#),
            "{page}"
        );
        assert!(page.contains("`request.qs.x` is missing"), "{page}");
    }
}
