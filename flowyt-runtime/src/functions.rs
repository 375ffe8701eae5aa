//! Functions callable from templates as `${function.module.name(args)}`.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// A template function: JSON arguments in, a JSON value or an error message out.
pub type Function = Arc<dyn Fn(&[Value]) -> Result<Value, String> + Send + Sync>;

/// The functions registered with an engine, by dotted path under `function.`.
#[derive(Clone, Default)]
pub struct Functions {
    map: HashMap<String, Function>,
}

impl std::fmt::Debug for Functions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.map.keys()).finish()
    }
}

impl Functions {
    /// Registers `f` as `function.<path>` (`path` like `students.approved_list`).
    pub fn insert<F>(&mut self, path: impl Into<String>, f: F)
    where
        F: Fn(&[Value]) -> Result<Value, String> + Send + Sync + 'static,
    {
        self.map.insert(path.into(), Arc::new(f));
    }

    /// Calls `function.<path>`; `None` when nothing is registered there.
    pub fn call(&self, path: &[&str], args: &[Value]) -> Option<Result<Value, String>> {
        let key = path.join(".");
        self.map.get(&key).map(|f| f(args))
    }

    /// The registered paths.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }
}
