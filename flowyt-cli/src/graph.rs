//! `flowyt graph`: a flow as a Mermaid or Graphviz diagram, or laid out as SVG.

use clap::ValueEnum;
use flowyt_runtime::Strictness;
use flowyt_runtime::core::graph::{self, Format};
use std::path::Path;
use std::process::ExitCode;

/// Diagram languages.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Mermaid `flowchart` (renders in GitHub and most Markdown tools).
    Mermaid,
    /// Graphviz `digraph`.
    Dot,
    /// An SVG image, laid out by flowyt itself (no Graphviz needed), as the console draws it.
    Svg,
}

pub fn graph(path: &Path, format: GraphFormat) -> ExitCode {
    let file = match crate::flow_file(path, Strictness::Legacy) {
        Ok((_, file)) => file,
        Err(code) => return code,
    };
    let Some(flow) = file.flow.as_ref() else {
        return ExitCode::FAILURE;
    };
    match format {
        GraphFormat::Mermaid => print!("{}", graph::draw(flow, Format::Mermaid)),
        GraphFormat::Dot => print!("{}", graph::draw(flow, Format::Dot)),
        GraphFormat::Svg => match flowyt_runtime::console::svg(flow, &Default::default()) {
            Ok(svg) => print!("{svg}"),
            Err(e) => {
                eprintln!("error: cannot lay the graph out: {e}");
                return ExitCode::FAILURE;
            }
        },
    }
    ExitCode::SUCCESS
}
