//! The engine's `.env` (legacy §2.4): read at start-up, never written into the process
//! environment; process variables win over it.

use std::collections::HashMap;
use std::path::Path;

/// Variables of the `.env` beside `dir` (in its parent), else of `./.env`.
pub fn load(dir: &Path) -> Result<Env, String> {
    let beside = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.parent().map(|p| p.join(".env")));
    let candidates = beside.into_iter().chain([Path::new(".env").to_path_buf()]);
    for path in candidates {
        if !path.is_file() {
            continue;
        }
        let iter = dotenvy::from_path_iter(&path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let mut vars = HashMap::new();
        for item in iter {
            let (k, v) = item.map_err(|e| format!("`{}`: {e}", path.display()))?;
            vars.insert(k, v);
        }
        return Ok(Env { vars });
    }
    Ok(Env::default())
}

/// The `.env` variables.
#[derive(Default, Clone)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    /// A variable: from the process environment, else from `.env`.
    pub fn get(&self, key: &str) -> Option<String> {
        std::env::var(key)
            .ok()
            .or_else(|| self.vars.get(key).cloned())
    }
}
