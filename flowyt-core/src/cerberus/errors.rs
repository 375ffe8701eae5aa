//! Errors as Cerberus records them: paths, `ValidationError`s and their order.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::model::RuleName;

/// An element of a document or schema path: a field name or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Key {
    Int(usize),
    Str(String),
}

impl Key {
    pub(super) fn rule(name: RuleName) -> Key {
        Key::Str(name.as_str().to_owned())
    }

    /// Python's `str()` of the key, which is also its JSON object key.
    pub(super) fn py_str(&self) -> String {
        match self {
            Key::Int(i) => i.to_string(),
            Key::Str(s) => s.clone(),
        }
    }
}

/// A Cerberus `ValidationError`. Group errors (`schema`, `items`, `keysrules`,
/// `valuesrules`) have no message of their own and carry their children.
#[derive(Debug, Clone)]
pub(super) struct VError {
    pub(super) doc_path: Vec<Key>,
    pub(super) schema_path: Vec<Key>,
    pub(super) message: Option<String>,
    pub(super) children: Vec<VError>,
}

pub(super) fn extended(path: &[Key], more: &[Key]) -> Vec<Key> {
    let mut out = Vec::with_capacity(path.len() + more.len());
    out.extend_from_slice(path);
    out.extend_from_slice(more);
    out
}

/// Cerberus' `utils.compare_paths_lt`.
fn paths_lt(x: &[Key], y: &[Key]) -> bool {
    let m = x.len().min(y.len());
    if x[..m] == y[..m] {
        return x.len() == m;
    }
    for (a, b) in x.iter().zip(y) {
        match (a, b) {
            (Key::Int(a), Key::Int(b)) if a == b => {}
            (Key::Int(a), Key::Int(b)) => return a < b,
            (Key::Str(a), Key::Str(b)) if a == b => {}
            (Key::Str(a), Key::Str(b)) => return a < b,
            _ => return true,
        }
    }
    false
}

/// Cerberus' `ValidationError.__lt__` (note: true for equal paths).
fn error_lt(a: &VError, b: &VError) -> bool {
    if a.doc_path != b.doc_path {
        paths_lt(&a.doc_path, &b.doc_path)
    } else {
        paths_lt(&a.schema_path, &b.schema_path)
    }
}

fn error_cmp(a: &VError, b: &VError) -> Ordering {
    if a.doc_path == b.doc_path && a.schema_path == b.schema_path {
        Ordering::Equal
    } else if error_lt(a, b) {
        Ordering::Less
    } else {
        Ordering::Greater
    }
}

/// CPython's `list.sort()` on fewer than 64 elements (one run: `count_run`, then binary
/// insertion, exactly as `listobject.c` does), which Cerberus runs after every error it
/// records. `error_lt` says "less" for equal paths, which reorders errors with equal paths
/// in a way only this reproduces.
fn python_sort(v: &mut [VError]) {
    let n = v.len();
    if n < 2 {
        return;
    }
    let mut run = 2;
    if error_lt(&v[1], &v[0]) {
        while run < n && error_lt(&v[run], &v[run - 1]) {
            run += 1;
        }
        v[..run].reverse();
    } else {
        while run < n && !error_lt(&v[run], &v[run - 1]) {
            run += 1;
        }
    }
    for start in run..n {
        let (mut l, mut r) = (0, start);
        while l < r {
            let p = l + (r - l) / 2;
            if error_lt(&v[start], &v[p]) {
                r = p;
            } else {
                l = p + 1;
            }
        }
        v[l..=start].rotate_right(1);
    }
}

/// A validator's `_errors`, kept in the order Cerberus keeps it (it re-sorts the list after
/// every error it records).
#[derive(Default)]
pub(super) struct ErrorList {
    items: Vec<VError>,
    mode: SortMode,
}

enum SortMode {
    /// All paths distinct so far: any sort gives Cerberus' order, so sort once at the end.
    /// Holds hashes of the paths seen.
    Distinct(HashSet<u64>),
    /// Two errors share their paths: replay CPython's sort after every addition.
    Replay,
    /// Too many errors to replay (64 or more): sort once at the end, stably. Errors with
    /// equal paths may then be ordered differently from Cerberus.
    Approximate,
}

impl Default for SortMode {
    fn default() -> Self {
        SortMode::Distinct(HashSet::new())
    }
}

impl ErrorList {
    pub(super) fn push(&mut self, error: VError) {
        self.extend(vec![error]);
    }

    pub(super) fn extend(&mut self, errors: Vec<VError>) {
        if errors.is_empty() {
            return;
        }
        match &mut self.mode {
            SortMode::Distinct(seen) => {
                let mut duplicate = false;
                for e in &errors {
                    let mut h = DefaultHasher::new();
                    e.doc_path.hash(&mut h);
                    e.schema_path.hash(&mut h);
                    duplicate |= !seen.insert(h.finish());
                }
                if !duplicate {
                    self.items.extend(errors);
                    return;
                }
                // Until now Cerberus' list was plainly sorted.
                self.items.sort_by(error_cmp);
                self.mode = SortMode::Replay;
            }
            SortMode::Replay => {}
            SortMode::Approximate => {
                self.items.extend(errors);
                return;
            }
        }
        self.items.extend(errors);
        if self.items.len() < 64 {
            python_sort(&mut self.items);
        } else {
            self.mode = SortMode::Approximate;
        }
    }

    pub(super) fn finish(mut self) -> Vec<VError> {
        if !matches!(self.mode, SortMode::Replay) {
            self.items.sort_by(error_cmp);
        }
        self.items
    }
}

/// Cerberus' `_drop_nodes_from_errorpaths` for schema paths.
pub(super) fn drop_schema_nodes(errors: &mut [VError], base: usize, nodes: &[usize]) {
    for e in errors.iter_mut() {
        for i in nodes.iter().rev() {
            let at = base + i;
            if at < e.schema_path.len() {
                e.schema_path.remove(at);
            }
        }
        drop_schema_nodes(&mut e.children, base, nodes);
    }
}
