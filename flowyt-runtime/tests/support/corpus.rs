//! The `${...}` strings of a folder of JSON files (the legacy corpus, the expression
//! fixtures), for the tests and benches that render them. Shared by `tests/compiled_corpus.rs`
//! and `benches/engine.rs`.

use serde_json::Value;
use std::path::{Path, PathBuf};

/// Every string containing `${` in the JSON files under `dir` (relative to this crate),
/// files in path order; a file that is not JSON is skipped.
pub fn templates(dir: &str) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) if s.contains("${") => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            Value::Object(map) => map.values().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    fn files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut paths = Vec::new();
    files(&root, &mut paths);
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{} does not read: {e}", path.display()));
        if let Ok(v) = serde_json::from_str::<Value>(&text) {
            walk(&v, &mut out);
        }
    }
    out
}
