//! `flowyt graph`: a flow as a Mermaid or Graphviz diagram.

use clap::ValueEnum;
use flowyt_runtime::Strictness;
use flowyt_runtime::core::expr::Part;
use flowyt_runtime::core::model::{Action, Edge, EdgeKind, Flow, Kind, Next};
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

/// Diagram languages.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Mermaid `flowchart` (renders in GitHub and most Markdown tools).
    Mermaid,
    /// Graphviz `digraph`.
    Dot,
}

pub fn graph(path: &Path, format: GraphFormat) -> ExitCode {
    let file = match crate::flow_file(path, Strictness::Legacy) {
        Ok((_, file)) => file,
        Err(code) => return code,
    };
    let Some(flow) = file.flow.as_ref() else {
        return ExitCode::FAILURE;
    };
    print!("{}", draw(flow, format));
    ExitCode::SUCCESS
}

/// An edge of the diagram.
struct Line {
    from: usize,
    to: Target,
    label: String,
}

enum Target {
    Action(String),
    Flow(String),
}

fn edges(flow: &Flow) -> Vec<Line> {
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
                            .map_or_else(|| "when".to_string(), |c| c.operator.name().to_string()),
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
        let flow_refs: Vec<(&str, &flowyt_runtime::core::model::FlowRef)> = match &a.kind {
            Kind::Jump(r) => vec![("jump", r)],
            Kind::Handle(r) => vec![("handle", r)],
            Kind::Loop(l) => vec![("loop", &l.flow)],
            Kind::Parallel(p) => p
                .branches
                .iter()
                .filter_map(|(_, b)| match b {
                    flowyt_runtime::core::model::ParallelBranch::Flow(r) => Some(("parallel", r)),
                    flowyt_runtime::core::model::ParallelBranch::Request(_) => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for (label, r) in flow_refs {
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

fn node_label(a: &Action) -> String {
    format!("{}: {}", a.id, a.kind_name)
}

/// A name as an identifier every diagram language accepts.
fn hex(name: &str) -> String {
    name.bytes().map(|b| format!("{b:02x}")).collect()
}

fn esc(s: &str) -> String {
    s.replace('"', "'")
}

/// Renders the diagram.
pub fn draw(flow: &Flow, format: GraphFormat) -> String {
    let edges = edges(flow);
    let id_of = |target: &Target| -> String {
        match target {
            Target::Action(id) => flow
                .position(id)
                .map_or_else(|| format!("missing_{}", hex(id)), |i| format!("a{i}")),
            Target::Flow(name) => format!("flow_{}", hex(name)),
        }
    };
    let mut out = String::new();
    let mut flows: Vec<(String, String)> = Vec::new();
    for e in &edges {
        if let Target::Flow(name) = &e.to {
            let id = id_of(&e.to);
            if !flows.iter().any(|(i, _)| *i == id) {
                flows.push((id, name.clone()));
            }
        }
    }
    let missing: Vec<(String, String)> = edges
        .iter()
        .filter_map(|e| match &e.to {
            Target::Action(id) if flow.position(id).is_none() => Some((id_of(&e.to), id.clone())),
            _ => None,
        })
        .collect();
    match format {
        GraphFormat::Mermaid => {
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
                if e.label.is_empty() {
                    let _ = writeln!(out, "    a{} {arrow} {}", e.from, id_of(&e.to));
                } else {
                    let _ = writeln!(
                        out,
                        "    a{} {arrow}|{}| {}",
                        e.from,
                        esc(&e.label),
                        id_of(&e.to)
                    );
                }
            }
        }
        GraphFormat::Dot => {
            out.push_str("digraph flow {\n    node [shape=box];\n");
            for (i, a) in flow.actions.iter().enumerate() {
                let _ = writeln!(out, "    a{i} [label=\"{}\"];", esc(&node_label(a)));
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
                let style = if matches!(e.to, Target::Flow(_)) {
                    ", style=dashed"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "    a{} -> {} [label=\"{}\"{style}];",
                    e.from,
                    id_of(&e.to),
                    esc(&e.label)
                );
            }
        }
    }
    if format == GraphFormat::Dot {
        out.push_str("}\n");
    }
    out
}
