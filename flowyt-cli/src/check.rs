//! `flowyt check`: validate without serving, rustc-style or as JSON.

use crate::Format;
use codespan_reporting::diagnostic::{Diagnostic, Label, Severity as CsSeverity};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor};
use flowyt_runtime::core::diag::{Located, Severity};
use flowyt_runtime::core::validate::Context;
use flowyt_runtime::core::workspace::{FlowFile, Workspace, count};
use flowyt_runtime::{Engine, Strictness};
use serde_json::json;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

pub fn check(paths: &[PathBuf], format: Format) -> ExitCode {
    let engine = match Engine::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let catalog = engine.catalog();
    let mut all: Vec<Located> = Vec::new();
    let mut checked = 0;
    for path in paths {
        if path.is_file() {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: cannot read `{}`: {e}", path.display());
                    return ExitCode::from(2);
                }
            };
            let cx = Context {
                catalog: Some(&catalog),
                flows: None,
            };
            let file = FlowFile::parse(&path.display().to_string(), &text, cx, Strictness::Strict);
            all.extend(file.located());
            checked += 1;
            continue;
        }
        let dirs = match crate::workspace_dirs(path) {
            Ok(d) if !d.is_empty() => d,
            Ok(_) => {
                eprintln!(
                    "error: `{}` is not a flow file and holds no workspace (a folder with `flows/`)",
                    path.display()
                );
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        for dir in dirs {
            checked += 1;
            match Workspace::load(&dir, &catalog, Strictness::Strict) {
                Ok(loaded) => all.extend(loaded.warnings),
                Err(e) => all.extend(e.diagnostics),
            }
        }
    }
    let (errors, warnings) = count(&all);
    match format {
        Format::Human => human(&all),
        Format::Json => {
            let diagnostics: Vec<_> = all
                .iter()
                .map(|d| {
                    json!({
                        "file": d.file,
                        "line": d.line,
                        "column": d.col,
                        "range": [d.range.start, d.range.end],
                        "severity": d.diagnostic.severity.to_string(),
                        "code": d.diagnostic.code.name(),
                        "message": d.diagnostic.message,
                        "help": d.diagnostic.help,
                        "notes": d.notes.iter().map(|n| json!({"line": n.line, "column": n.col, "message": n.text})).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let doc = json!({"checked": checked, "errors": errors, "warnings": warnings, "diagnostics": diagnostics});
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
    }
    if format == Format::Human {
        println!("checked {checked}: {errors} errors, {warnings} warnings");
    }
    if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// rustc-style output with the source line and a caret under the offending token.
fn human(diags: &[Located]) {
    let choice = if std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        termcolor::ColorChoice::Auto
    } else {
        termcolor::ColorChoice::Never
    };
    let writer = termcolor::StandardStream::stdout(choice);
    let config = term::Config::default();
    let mut files = SimpleFiles::new();
    let mut ids: HashMap<String, Option<usize>> = HashMap::new();
    for d in diags {
        let id = *ids.entry(d.file.clone()).or_insert_with(|| {
            std::fs::read_to_string(&d.file)
                .ok()
                .map(|text| files.add(d.file.clone(), text))
        });
        let rendered = id.map(|id| {
            let severity = match d.diagnostic.severity {
                Severity::Error => CsSeverity::Error,
                Severity::Warning => CsSeverity::Warning,
            };
            let mut labels = vec![Label::primary(id, d.range.clone())];
            labels.extend(
                d.notes
                    .iter()
                    .map(|n| Label::secondary(id, n.range.clone()).with_message(n.text.clone())),
            );
            let diagnostic = Diagnostic::new(severity)
                .with_code(d.diagnostic.code.name())
                .with_message(d.diagnostic.message.clone())
                .with_labels(labels)
                .with_notes(
                    d.diagnostic
                        .help
                        .iter()
                        .map(|h| format!("help: {h}"))
                        .collect(),
                );
            term::emit_to_write_style(&mut writer.lock(), &config, &files, &diagnostic)
        });
        // A file that cannot be read again (or a rendering error) still gets the plain line.
        if !matches!(rendered, Some(Ok(()))) {
            println!("{d}");
        }
    }
}
