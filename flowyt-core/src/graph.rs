//! A flow as a diagram: its edges (next actions, success and fail branches, switch
//! conditions, `else`, dynamic targets, jumps and sub-flows), drawn as Mermaid or Graphviz DOT.
//! `flowyt graph` prints these; the console lays the DOT out as SVG.

use crate::expr::Part;
use crate::model::{Action, Edge, EdgeKind, Flow, FlowRef, Kind, Next, ParallelBranch};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// An edge of the diagram: from the action at index `from` to `to`, labelled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The index of the action it leaves.
    pub from: usize,
    /// Where it goes.
    pub to: Target,
    /// `success`, `fail`, a switch operator, `else`, `dynamic`, `jump`, … or empty.
    pub label: String,
}

/// Where an edge goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// An action of the same flow, by id (it may not exist: a dangling id).
    Action(String),
    /// Another flow (`jump`, `handle`, `loop`, `parallel`), by name; `(dynamic)` when
    /// computed at run time.
    Flow(String),
}

/// Diagram languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Mermaid `flowchart` (renders in GitHub and most Markdown tools).
    Mermaid,
    /// Graphviz `digraph`.
    Dot,
}

/// Every edge of `flow`, in action order.
pub fn edges(flow: &Flow) -> Vec<Line> {
    let mut out = Vec::new();
    for (i, a) in flow.actions.iter().enumerate() {
        match &a.next {
            Next::To(t) => out.push(Line {
                from: i,
                to: Target::Action(t.id.clone()),
                label: String::new(),
            }),
            Next::Branch(_) => {
                for (edge, kind) in a.kind.edges() {
                    let label = match (kind, &a.kind) {
                        (EdgeKind::Switch, Kind::Switch(s)) => s
                            .conditions
                            .iter()
                            .find(|c| std::ptr::eq(&c.target, edge))
                            .map_or_else(|| "when".to_string(), condition_label),
                        (EdgeKind::Success, _) => "success".into(),
                        (EdgeKind::Fail, _) => "fail".into(),
                        (EdgeKind::Else, _) => "else".into(),
                        _ => String::new(),
                    };
                    push_edge(&mut out, i, edge, label);
                }
            }
            Next::Dynamic(t) => {
                for part in t.template.parts() {
                    if let Part::Expr(seg) = part {
                        for id in seg.expr.string_literals() {
                            if flow.position(id).is_some() {
                                out.push(Line {
                                    from: i,
                                    to: Target::Action(id.to_string()),
                                    label: "dynamic".into(),
                                });
                            }
                        }
                    }
                }
            }
            Next::End => {}
        }
        for (label, r) in flow_refs(a) {
            let name = r
                .literal()
                .map_or_else(|| "(dynamic)".to_string(), str::to_string);
            out.push(Line {
                from: i,
                to: Target::Flow(name),
                label: label.into(),
            });
        }
    }
    out
}

/// A switch condition as an edge label: `${flow.n} equal 1`, shortened past 40 characters.
fn condition_label(c: &crate::model::Condition) -> String {
    let text = |d: &crate::model::Data| match d {
        crate::model::Data::Const(serde_json::Value::String(s)) => s.clone(),
        crate::model::Data::Const(v) => v.to_string(),
        crate::model::Data::Template(t) => t.source.clone(),
        other => format!("{other:?}").chars().take(12).collect(),
    };
    let label = format!(
        "{} {} {}",
        text(&c.first),
        c.operator.name(),
        text(&c.second)
    );
    if label.chars().count() > 40 {
        let short: String = label.chars().take(39).collect();
        format!("{short}…")
    } else {
        label
    }
}

/// The other flows an action runs, with how.
fn flow_refs(a: &Action) -> Vec<(&'static str, &FlowRef)> {
    match &a.kind {
        Kind::Jump(r) => vec![("jump", r)],
        Kind::Handle(r) => vec![("handle", r)],
        Kind::Loop(l) => vec![("loop", &l.flow)],
        Kind::Parallel(p) => p
            .branches
            .iter()
            .filter_map(|(_, b)| match b {
                ParallelBranch::Flow(r) => Some(("parallel", r)),
                ParallelBranch::Request(_) => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn push_edge(out: &mut Vec<Line>, from: usize, edge: &Edge, label: String) {
    match edge {
        Edge::To(t) => out.push(Line {
            from,
            to: Target::Action(t.id.clone()),
            label,
        }),
        Edge::Dynamic(t) => out.push(Line {
            from,
            to: Target::Action(t.source.clone()),
            label,
        }),
        Edge::None => {}
    }
}

/// `id: kind`, as a node is labelled.
pub fn node_label(a: &Action) -> String {
    format!("{}: {}", a.id, a.kind_name)
}

/// A name as an identifier every diagram language accepts.
fn hex(name: &str) -> String {
    name.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Text inside a double-quoted label: no quote, backslash or line break can end or escape it.
fn esc(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// The diagram's node id of an edge's target.
pub fn target_id(flow: &Flow, target: &Target) -> String {
    match target {
        Target::Action(id) => flow
            .position(id)
            .map_or_else(|| format!("missing_{}", hex(id)), |i| format!("a{i}")),
        Target::Flow(name) => format!("flow_{}", hex(name)),
    }
}

/// Renders the diagram.
pub fn draw(flow: &Flow, format: Format) -> String {
    draw_marked(flow, format, &BTreeSet::new())
}

/// Renders the diagram with the actions at the indexes of `marked` (a run's path) and the
/// edges between consecutive marked actions drawn in bold.
pub fn draw_marked(flow: &Flow, format: Format, marked: &BTreeSet<usize>) -> String {
    let edges = edges(flow);
    let mut out = String::new();
    let mut flows: Vec<(String, String)> = Vec::new();
    for e in &edges {
        if let Target::Flow(name) = &e.to {
            let id = target_id(flow, &e.to);
            if !flows.iter().any(|(i, _)| *i == id) {
                flows.push((id, name.clone()));
            }
        }
    }
    let missing: Vec<(String, String)> = edges
        .iter()
        .filter_map(|e| match &e.to {
            Target::Action(id) if flow.position(id).is_none() => {
                Some((target_id(flow, &e.to), id.clone()))
            }
            _ => None,
        })
        .collect();
    match format {
        Format::Mermaid => {
            out.push_str("flowchart TD\n");
            for (i, a) in flow.actions.iter().enumerate() {
                let _ = writeln!(out, "    a{i}[\"{}\"]", esc(&node_label(a)));
            }
            for (id, name) in &flows {
                let _ = writeln!(out, "    {id}[[\"flow {}\"]]", esc(name));
            }
            for (id, name) in &missing {
                let _ = writeln!(out, "    {id}{{{{\"missing: {}\"}}}}", esc(name));
            }
            for e in &edges {
                let arrow = if matches!(e.to, Target::Flow(_)) {
                    "-.->"
                } else {
                    "-->"
                };
                let to = target_id(flow, &e.to);
                if e.label.is_empty() {
                    let _ = writeln!(out, "    a{} {arrow} {to}", e.from);
                } else {
                    let _ = writeln!(out, "    a{} {arrow}|{}| {to}", e.from, esc(&e.label));
                }
            }
            for i in marked {
                let _ = writeln!(out, "    style a{i} stroke-width:3px");
            }
        }
        Format::Dot => {
            out.push_str("digraph flow {\n    node [shape=box];\n");
            for (i, a) in flow.actions.iter().enumerate() {
                let style = if marked.contains(&i) {
                    ", style=filled, fillcolor=\"#cfe8d5\", color=\"#1e7b34\""
                } else {
                    ""
                };
                let _ = writeln!(out, "    a{i} [label=\"{}\"{style}];", esc(&node_label(a)));
            }
            for (id, name) in &flows {
                let _ = writeln!(
                    out,
                    "    {id} [label=\"flow {}\", shape=component];",
                    esc(name)
                );
            }
            for (id, name) in &missing {
                let _ = writeln!(
                    out,
                    "    {id} [label=\"missing: {}\", shape=octagon, color=red];",
                    esc(name)
                );
            }
            for e in &edges {
                let mut style = String::new();
                if matches!(e.to, Target::Flow(_)) {
                    style.push_str(", style=dashed");
                }
                let to_index = match &e.to {
                    Target::Action(id) => flow.position(id),
                    Target::Flow(_) => None,
                };
                if marked.contains(&e.from) && to_index.is_some_and(|t| marked.contains(&t)) {
                    style.push_str(", color=\"#1e7b34\"");
                }
                let _ = writeln!(
                    out,
                    "    a{} -> {} [label=\"{}\"{style}];",
                    e.from,
                    target_id(flow, &e.to),
                    esc(&e.label)
                );
            }
            out.push_str("}\n");
        }
    }
    out
}
