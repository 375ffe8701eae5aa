//! `flowyt convert`: every legacy flow that passes the strict checks converts to `flow!`
//! source that compiles, runs, and describes the same flow as the JSON it came from.

use flowyt_core::convert::to_flow_macro;
use flowyt_core::validate::{Context, Strictness};
use flowyt_core::workspace::FlowFile;
use std::path::{Path, PathBuf};

fn flow_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            flow_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json")
            && p.parent()
                .and_then(Path::file_name)
                .is_some_and(|n| n == "flows")
        {
            out.push(p);
        }
    }
}

/// The generated program: one function per converted flow checking that the `flow!` JSON
/// matches the original, all in one file so the cases build together.
fn program(cases: &[(String, String, String)]) -> String {
    let mut out = String::from(
        r####"//! Converted legacy flows.
use serde_json::{Value, json};

/// An id as text (`2` and `"2"` are the same id).
fn id(v: &Value) -> Value {
    match v {
        Value::Number(n) => Value::String(n.to_string()),
        Value::String(s) if s.is_empty() => Value::Null,
        other => other.clone(),
    }
}

/// A flow reduced to what defines it: ids as text, data objects, next_action.
fn canonical(text: &str) -> Value {
    let flow: Value = serde_json::from_str(text).expect("json");
    let actions: Vec<Value> = flow["pipeline"]
        .as_array()
        .expect("pipeline")
        .iter()
        .map(|a| {
            let mut data = if a["data"].is_null() { json!({}) } else { a["data"].clone() };
            for edge in ["next_action_success", "next_action_fail", "next_action_else"] {
                if let Some(v) = data.get_mut(edge) {
                    *v = id(v);
                }
            }
            json!({"id": id(&a["id"]), "action": a["action"], "data": data, "next_action": id(&a["next_action"]),
                   "execute_async": a["execute_async"].as_bool().unwrap_or(false)})
        })
        .collect();
    json!({"id": flow["id"], "name": flow["name"], "pipeline": actions})
}
"####,
    );
    for (i, (name, original, converted)) in cases.iter().enumerate() {
        out.push_str(&format!(
            "\n/// {name}\nfn case_{i}() {{\n    let flow: flowyt_runtime::CheckedFlow = flowyt_runtime::{converted};\n    assert_eq!(canonical(flow.json()), canonical(r###\"{original}\"###), \"{name}\");\n}}\n"
        ));
    }
    out.push_str("\nfn main() {\n");
    for i in 0..cases.len() {
        out.push_str(&format!("    case_{i}();\n"));
    }
    out.push_str("}\n");
    out
}

#[test]
fn converted_legacy_flows_compile_and_match() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/legacy");
    let mut files = Vec::new();
    flow_files(&corpus, &mut files);
    flow_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/workspaces"),
        &mut files,
    );
    assert!(
        files.len() > 30,
        "the legacy corpus is missing: {}",
        corpus.display()
    );

    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("convert");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).expect("tmp dir");
    let mut cases = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable");
        let file = FlowFile::parse("x.json", &text, Context::default(), Strictness::Strict);
        let source = to_flow_macro(&text);
        if file.has_errors() {
            // A flow with errors must not pass as valid Rust either: its conversion (when there
            // is one) is left to the compile-fail cases of `tests/ui`.
            continue;
        }
        let source = source.unwrap_or_else(|e| {
            panic!(
                "{} passes the checks but does not convert: {e}",
                path.display()
            )
        });
        cases.push((path.display().to_string(), text, source));
    }
    assert!(cases.len() >= 5, "only {} flows converted", cases.len());
    std::fs::write(out.join("converted.rs"), program(&cases)).expect("write the program");
    let t = trybuild::TestCases::new();
    t.pass(out.join("converted.rs"));
}
