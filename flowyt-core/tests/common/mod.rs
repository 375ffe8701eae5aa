//! Helpers shared by the integration tests: golden files and a template scope.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::path::{Path, PathBuf};

/// Compares `actual` with the golden file at `path`; with `FLOWYT_BLESS=1` rewrites it instead.
pub fn golden(path: &Path, actual: &str) -> Result<(), String> {
    if std::env::var_os("FLOWYT_BLESS").is_some() {
        std::fs::write(path, actual).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(());
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    if expected == actual {
        Ok(())
    } else {
        Err(format!(
            "{} differs (run with FLOWYT_BLESS=1 to rewrite, then review the diff)\n--- expected\n{expected}\n+++ actual\n{actual}",
            path.display()
        ))
    }
}

/// The legacy engine's example flows kept in the repository (`fixtures/legacy/`, see its README).
pub fn legacy_corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/legacy")
}

use flowyt_core::expr::{EvalError, Expr, Scope, Template};
use serde_json::{Value, json};

/// A scope with a few roots and registered functions.
pub struct TestScope {
    pub roots: Value,
}

impl TestScope {
    pub fn new() -> TestScope {
        TestScope {
            roots: json!({
                "request": {
                    "qs": {"flag": "true", "user": "octocat", "n": "7"},
                    "headers": {"x_api_key": "k1"},
                    "params": {},
                    "data": [{"n": 1, "ok": "true"}, {"n": 2, "ok": "false"}],
                    "debug": "false"
                },
                "env": {"baseUrl": "http://up.test", "items": "a key named items", "get": 5},
                "response": {"status": 200, "data": {"a": {"b": 1}, "list": [{"x": 1}, {"x": 2}], "f": 2.5, "none": null}},
                "workspace": {},
                "input": null,
                "nums": [3, 1, 2],
                "big": 18446744073709551615u64
            }),
        }
    }

    pub fn with(roots: Value) -> TestScope {
        TestScope { roots }
    }
}

impl Default for TestScope {
    fn default() -> TestScope {
        TestScope::new()
    }
}

impl Scope for TestScope {
    fn root(&self, name: &str) -> Option<&Value> {
        self.roots.get(name)
    }

    fn call(&self, path: &[&str], args: Vec<Value>) -> Option<Result<Value, String>> {
        match path {
            ["math", "double"] => Some(match args.first().and_then(Value::as_i64) {
                Some(i) => i
                    .checked_mul(2)
                    .map(|d| json!(d))
                    .ok_or_else(|| "overflow".to_string()),
                None => Err("expected an int".to_string()),
            }),
            ["util", "echo"] => Some(Ok(Value::Array(args))),
            ["students", "approved_list"] => Some(Ok(json!(["ana", "bia"]))),
            _ => None,
        }
    }
}

/// Evaluates with the default scope; missing becomes null.
pub fn ev(src: &str) -> Value {
    ev_in(&TestScope::new(), src)
}

pub fn ev_in(scope: &TestScope, src: &str) -> Value {
    let e = Expr::parse(src).unwrap_or_else(|e| panic!("parse {src:?}: {e} at {:?}", e.range));
    match e.eval(scope) {
        Ok(v) => v.into_value(),
        Err(e) => panic!("eval {src:?}: {e} at {:?}", e.range()),
    }
}

/// The evaluation error of `src`.
pub fn ev_err(src: &str) -> EvalError {
    let e = Expr::parse(src).unwrap_or_else(|e| panic!("parse {src:?}: {e}"));
    match e.eval(&TestScope::new()) {
        Ok(v) => panic!("{src:?} evaluated to {v:?}, expected an error"),
        Err(e) => e,
    }
}

pub fn render(src: &str) -> Value {
    render_in(&TestScope::new(), src)
}

pub fn render_in(scope: &TestScope, src: &str) -> Value {
    let t = Template::parse(src).unwrap_or_else(|e| panic!("parse {src:?}: {e} at {:?}", e.range));
    match t.render(scope) {
        Ok(v) => v,
        Err(e) => panic!("render {src:?}: {e} at {:?}", e.range()),
    }
}

pub fn render_err(src: &str) -> EvalError {
    let t = Template::parse(src).unwrap_or_else(|e| panic!("parse {src:?}: {e}"));
    match t.render(&TestScope::new()) {
        Ok(v) => panic!("{src:?} rendered to {v:?}, expected an error"),
        Err(e) => e,
    }
}
