//! Walks the whole legacy corpus (`fixtures/legacy`): every workspace is loaded the way
//! `flowyt serve` loads it (legacy strictness) and the way `flowyt check` does (strict), every
//! other JSON file is tried as a flow, and the outcome is compared with `fixtures/corpus.txt`.

mod common;

use flowyt_core::catalog::Catalog;
use flowyt_core::diag::{Code, render_all};
use flowyt_core::validate::{Context, Strictness};
use flowyt_core::workspace::{FlowFile, Workspace};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    let dir = common::legacy_corpus();
    assert!(dir.is_dir(), "{} is missing", dir.display());
    dir
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("readable")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    out.extend(entries.iter().filter(|p| p.is_file()).cloned());
    for e in entries.iter().filter(|p| p.is_dir()) {
        walk(e, out);
    }
}

fn is_workspace(dir: &Path) -> bool {
    dir.join("flows").is_dir()
}

fn report() -> String {
    let root = corpus();
    let prefix = format!("{}/", root.display());
    let mut files = Vec::new();
    walk(&root, &mut files);
    let mut out = String::new();
    let mut done = std::collections::BTreeSet::new();
    for file in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "json"))
    {
        let ws = file
            .ancestors()
            .skip(1)
            .take_while(|a| a.starts_with(&root))
            .find(|a| is_workspace(a));
        if let Some(ws) = ws {
            if !done.insert(ws.to_path_buf()) {
                continue;
            }
            let rel = ws
                .strip_prefix(&root)
                .expect("inside")
                .display()
                .to_string();
            for (mode, strictness) in [("serve", Strictness::Legacy), ("check", Strictness::Strict)]
            {
                let mut catalog = Catalog::new();
                catalog.check_functions();
                let (verdict, diags) = match Workspace::load(ws, &catalog, strictness) {
                    Ok(loaded) => (
                        format!(
                            "loads: {} flows, {} routes",
                            loaded.workspace.flows.len(),
                            loaded.workspace.routes.len()
                        ),
                        loaded.warnings,
                    ),
                    Err(e) => ("rejected".to_string(), e.diagnostics),
                };
                let _ = writeln!(out, "== workspace {rel} ({mode}): {verdict}");
                out.push_str(&render_all(&diags).replace(&prefix, ""));
            }
        } else {
            let rel = file
                .strip_prefix(&root)
                .expect("inside")
                .display()
                .to_string();
            let text = std::fs::read_to_string(file).expect("readable");
            let f = FlowFile::parse(&rel, &text, Context::default(), Strictness::Strict);
            let verdict = match (&f.flow, f.has_errors()) {
                (None, _) => "not a flow",
                (Some(_), true) => "flow with errors",
                (Some(_), false) => "flow",
            };
            let _ = writeln!(out, "== file {rel}: {verdict}");
            out.push_str(&render_all(&f.located()));
        }
    }
    out
}

#[test]
fn whole_corpus_matches_golden_report() {
    let actual = report();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus.txt");
    if let Err(e) = common::golden(&golden, &actual) {
        panic!("{e}");
    }
}

#[test]
fn spec_case_60_legacy_flows_load_with_warnings() {
    let root = corpus();
    let catalog = Catalog::new();
    // The documented example: `start` points at a missing "2" — a warning when serving.
    let example = root.join("flowyt-engine/docs/examples/workspaces/example");
    let loaded = Workspace::load(&example, &catalog, Strictness::Legacy).expect("served");
    assert!(
        loaded
            .warnings
            .iter()
            .any(|d| d.diagnostic.code == Code::DanglingNext)
    );
    // ...and an error for `flowyt check`.
    let err = Workspace::load(&example, &catalog, Strictness::Strict).expect_err("strict");
    assert!(
        err.diagnostics
            .iter()
            .any(|d| d.diagnostic.code == Code::DanglingNext && d.diagnostic.is_error())
    );

    // The GitHub workspace is clean apart from its Python function call.
    let github = root.join("flowyt-engine/docs/examples/workspaces/github");
    let loaded = Workspace::load(&github, &catalog, Strictness::Legacy).expect("served");
    assert_eq!(loaded.workspace.routes.len(), 1);
    assert_eq!(loaded.workspace.routes[0].flow, "search");
    assert_eq!(loaded.workspace.flows.len(), 2);

    // The pre-release draft is rejected: its actions have no `next_action` key.
    let draft = root.join("flowyt-engine/workspaces/agenda_medica");
    let err = Workspace::load(&draft, &catalog, Strictness::Legacy).expect_err("rejected");
    assert!(
        err.diagnostics
            .iter()
            .any(|d| d.diagnostic.code == Code::MissingKey
                && d.diagnostic.message.contains("`next_action`"))
    );

    // Dangling references in real workers are warnings when serving.
    for ws in ["massification", "servicenow", "sapi", "service-now"] {
        let dir = root.join("flowyt-engine/workspaces").join(ws);
        let result = Workspace::load(&dir, &catalog, Strictness::Legacy);
        let diags = match &result {
            Ok(l) => &l.warnings,
            Err(e) => &e.diagnostics,
        };
        assert!(
            diags
                .iter()
                .filter(|d| matches!(d.diagnostic.code, Code::DanglingNext | Code::DanglingFail))
                .all(|d| !d.diagnostic.is_error()),
            "{ws}: dangling ids must be warnings in legacy mode"
        );
    }
}
