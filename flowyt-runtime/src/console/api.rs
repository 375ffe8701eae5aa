//! The console's API pages: an OpenAPI document (the operating API's, or a workspace's)
//! rendered as readable HTML, offline, with the JSON one click away.

use maud::{Markup, html};
use serde_json::Value;

/// The HTTP methods an OpenAPI path item may hold, in the order pages list them.
const METHODS: [&str; 8] = [
    "get", "post", "put", "patch", "delete", "head", "options", "trace",
];

/// A schema as compact JSON, `$ref`s shown as the name they point to.
fn schema_text(schema: &Value) -> String {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => r.rsplit('/').next().unwrap_or(r).to_string(),
        None if schema.as_object().is_some_and(serde_json::Map::is_empty) => "any".into(),
        None => serde_json::to_string(schema).unwrap_or_default(),
    }
}

fn parameters(op: &Value) -> Markup {
    let params: Vec<&Value> = op["parameters"].as_array().into_iter().flatten().collect();
    if params.is_empty() {
        return html! {};
    }
    html! {
        h4 { "Parameters" }
        table.api {
            thead { tr { th { "Name" } th { "In" } th { "Required" } th { "Schema" } th { "Description" } } }
            tbody {
                @for p in params {
                    tr {
                        td { code { (p["name"].as_str().unwrap_or("")) } }
                        td { (p["in"].as_str().unwrap_or("")) }
                        td { @if p["required"].as_bool() == Some(true) { "yes" } @else { "no" } }
                        td { code.schema { (schema_text(&p["schema"])) } }
                        td { (p["description"].as_str().unwrap_or("")) }
                    }
                }
            }
        }
    }
}

fn content(content: &Value) -> Markup {
    html! {
        @for (media, body) in content.as_object().into_iter().flatten() {
            div.media {
                span.media-type { (media) }
                @if let Some(schema) = body.get("schema") {
                    pre.schema { (schema_text(schema)) }
                }
            }
        }
    }
}

fn operation(method: &str, path: &str, op: &Value) -> Markup {
    let id = op["operationId"].as_str().unwrap_or("");
    let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
    html! {
        section.op id=(id) {
            h3 {
                span class=(format!("method {method}")) { (method.to_ascii_uppercase()) }
                " " code.path { (path) }
                @if secured { " " span.badge title="needs the operating token" { "token" } }
            }
            @if let Some(s) = op["summary"].as_str() { p.summary { (s) } }
            @if let Some(d) = op["description"].as_str() { p.description { (d) } }
            (parameters(op))
            @if let Some(body) = op.get("requestBody") {
                h4 {
                    "Request body"
                    @if body["required"].as_bool() == Some(true) { " (required)" }
                }
                (content(&body["content"]))
            }
            h4 { "Responses" }
            table.api {
                tbody {
                    @for (status, r) in op["responses"].as_object().into_iter().flatten() {
                        tr {
                            td { code { (status) } }
                            td {
                                (r["description"].as_str().unwrap_or(""))
                                @if let Some(c) = r.get("content") { (content(c)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The document as a page body: its title and description, a table of contents, then every
/// operation with its parameters, body and responses. `json_url` links the document itself.
pub(super) fn document(doc: &Value, json_url: &str) -> Markup {
    let mut ops: Vec<(&str, &str, &Value)> = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                ops.push((m, path.as_str(), op));
            }
        }
    }
    html! {
        h1 { (doc["info"]["title"].as_str().unwrap_or("API")) }
        p.meta {
            "OpenAPI " (doc["openapi"].as_str().unwrap_or("")) " · version "
            (doc["info"]["version"].as_str().unwrap_or("")) " · "
            a href=(json_url) { "the document as JSON" }
        }
        @if let Some(d) = doc["info"]["description"].as_str() { p { (d) } }
        nav.toc {
            ul {
                @for (method, path, op) in &ops {
                    li {
                        a href=(format!("#{}", op["operationId"].as_str().unwrap_or(""))) {
                            span class=(format!("method {method}")) { (method.to_ascii_uppercase()) }
                            " " (path)
                        }
                    }
                }
            }
        }
        @for (method, path, op) in &ops { (operation(method, path, op)) }
    }
}
