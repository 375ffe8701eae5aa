//! `flowyt openapi`: print a workspace's OpenAPI document (or the operating API's) without
//! serving, for client generation in CI pipelines.

use flowyt_runtime::core::diag::render_all;
use flowyt_runtime::core::openapi::{DocOptions, workspace_document};
use flowyt_runtime::core::workspace::Workspace;
use flowyt_runtime::{Engine, Strictness};
use std::path::Path;
use std::process::ExitCode;

/// What `flowyt openapi` prints.
pub struct Args<'a> {
    /// A workspace folder or a folder of workspaces.
    pub dir: Option<&'a Path>,
    /// Which workspace of the folder.
    pub workspace: Option<&'a str>,
    /// The path the routes are mounted under (default `/<workspace>`, as `flowyt serve` does).
    pub base_path: Option<&'a str>,
    /// The operating API's document instead.
    pub engine: bool,
}

pub fn openapi(args: &Args<'_>) -> ExitCode {
    match document(args) {
        Ok(doc) => match serde_json::to_string_pretty(&doc) {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot write the document: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprint!("{e}");
            if !e.ends_with('\n') {
                eprintln!();
            }
            ExitCode::FAILURE
        }
    }
}

fn document(args: &Args<'_>) -> Result<serde_json::Value, String> {
    if args.engine {
        if args.dir.is_some() || args.workspace.is_some() {
            return Err("error: --engine prints the operating API's document; it takes no DIR or --workspace".into());
        }
        return Ok(flowyt_runtime::openapi::operating_document());
    }
    let Some(dir) = args.dir else {
        return Err(
            "error: name a workspace folder (or a folder of workspaces), or pass --engine".into(),
        );
    };
    let dirs = crate::workspace_dirs(dir).map_err(|e| format!("error: {e}"))?;
    let name_of = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let names: Vec<String> = dirs.iter().map(|d| name_of(d)).collect();
    let chosen = match (args.workspace, dirs.as_slice()) {
        (_, []) => {
            return Err(format!(
                "error: `{}` holds no workspace (a folder with `flows/`)",
                dir.display()
            ));
        }
        (None, [one]) => one.clone(),
        (None, _) => {
            return Err(format!(
                "error: `{}` holds several workspaces; choose one with --workspace ({})",
                dir.display(),
                names.join(", ")
            ));
        }
        (Some(ws), _) => match dirs.iter().find(|d| name_of(d) == ws) {
            Some(d) => d.clone(),
            None => {
                return Err(format!(
                    "error: no workspace `{ws}` in `{}` (it holds: {})",
                    dir.display(),
                    names.join(", ")
                ));
            }
        },
    };
    let env = crate::dotenv::load(dir).map_err(|e| format!("error: {e}"))?;
    let engine = Engine::new().map_err(|e| format!("error: {e}"))?;
    let loaded = Workspace::load_with_env(&chosen, &engine.catalog(), Strictness::Legacy, &|k| {
        env.get(k)
    })
    .map_err(|e| render_all(&e.diagnostics))?;
    let base = args
        .base_path
        .map_or_else(|| format!("/{}", loaded.workspace.name), str::to_string);
    Ok(workspace_document(
        &loaded.workspace,
        &DocOptions::new(base),
    ))
}
