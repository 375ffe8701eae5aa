//! What an expression reads from its context roots: every access path (`request.qs.q`) it
//! can follow, for tools that describe a flow from the outside (the OpenAPI document).

use serde_json::Value;

use super::ast::{Expr, Generator, Kind, Node};
use super::template::Template;

/// One step of a [`Read`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReadStep {
    /// `.name`, `['name']` or `.get('name')`.
    Key(String),
    /// `[0]` or `[-1]`.
    Index(i64),
    /// A key or index computed at run time (`[name]`, `.get(name)`): the read stops here.
    Computed,
}

/// An access path an expression reads from a context root (builtins such as `len` and `json`
/// are not roots): `request.qs.get('q', '')` is the
/// root `request` with the steps `qs`, `q`. A path whose last step is a method call other than
/// `get` (`request.qs.items()`), a slice, or a bare name (`request`) reads the whole value at
/// its end.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Read {
    /// The root name (`request`, `env`, `flow`...); names bound by a comprehension or a
    /// `lambda` are not roots.
    pub root: String,
    /// The steps after the root, up to the first [`ReadStep::Computed`] (included).
    pub steps: Vec<ReadStep>,
}

impl Expr {
    /// Every access path the expression may read from a root, in source order, inside
    /// operators, calls, conditionals, comprehensions and lambdas alike.
    ///
    /// ```
    /// use flowyt_core::expr::{Expr, Read, ReadStep};
    /// let e = Expr::parse("int(request.qs.get('limit', 10)) + len([x for x in request.data.items])")
    ///     .unwrap();
    /// let key = |k: &str| ReadStep::Key(k.to_string());
    /// assert_eq!(e.reads(), vec![
    ///     Read { root: "request".into(), steps: vec![key("qs"), key("limit")] },
    ///     Read { root: "request".into(), steps: vec![key("data"), key("items")] },
    /// ]);
    /// ```
    pub fn reads(&self) -> Vec<Read> {
        let mut out = Vec::new();
        let mut bound = Vec::new();
        walk(&self.root, &mut bound, &mut out);
        out.sort_by_key(|(start, _)| *start);
        out.into_iter().map(|(_, r)| r).collect()
    }
}

impl Template {
    /// [`Expr::reads`] of every `${...}` segment, in order.
    pub fn reads(&self) -> Vec<Read> {
        self.segments().flat_map(|s| s.expr.reads()).collect()
    }
}

/// An access chain rooted at a free name: its root, steps, and the nodes inside it that are
/// expressions of their own (computed indexes, `get` arguments).
struct Chain<'n> {
    root: &'n str,
    steps: Vec<ReadStep>,
    inner: Vec<&'n Node>,
}

impl Chain<'_> {
    fn push(&mut self, step: ReadStep) {
        if self.steps.last() != Some(&ReadStep::Computed) {
            self.steps.push(step);
        }
    }
}

/// The chain `node` spells, when it is a name followed by attributes, indexes and `get`
/// calls, and the name is not bound locally.
fn chain<'n>(node: &'n Node, bound: &[&str]) -> Option<Chain<'n>> {
    match &node.kind {
        Kind::Name(n) if !bound.contains(&n.as_str()) => Some(Chain {
            root: n,
            steps: Vec::new(),
            inner: Vec::new(),
        }),
        Kind::Attr { obj, name } => {
            let mut c = chain(obj, bound)?;
            c.push(ReadStep::Key(name.clone()));
            Some(c)
        }
        Kind::Index { obj, index } => {
            let mut c = chain(obj, bound)?;
            c.push(literal_step(index));
            c.inner.push(index);
            Some(c)
        }
        Kind::Call { func, args, kwargs } => {
            let Kind::Attr { obj, name } = &func.kind else {
                return None;
            };
            if name != "get" || args.is_empty() || args.len() > 2 || !kwargs.is_empty() {
                return None;
            }
            let mut c = chain(obj, bound)?;
            match &args[0].kind {
                Kind::Const(Value::String(k)) => c.push(ReadStep::Key(k.clone())),
                _ => c.push(ReadStep::Computed),
            }
            c.inner.extend(args.iter());
            Some(c)
        }
        _ => None,
    }
}

fn literal_step(index: &Node) -> ReadStep {
    match &index.kind {
        Kind::Const(Value::String(s)) => ReadStep::Key(s.clone()),
        Kind::Const(Value::Number(n)) => n.as_i64().map_or(ReadStep::Computed, ReadStep::Index),
        _ => ReadStep::Computed,
    }
}

fn record(start: usize, c: &Chain<'_>, out: &mut Vec<(usize, Read)>) {
    if super::is_builtin(c.root) {
        return;
    }
    out.push((
        start,
        Read {
            root: c.root.to_string(),
            steps: c.steps.clone(),
        },
    ));
}

fn walk<'n>(node: &'n Node, bound: &mut Vec<&'n str>, out: &mut Vec<(usize, Read)>) {
    if let Some(c) = chain(node, bound) {
        record(node.range.start, &c, out);
        for n in c.inner {
            walk(n, bound, out);
        }
        return;
    }
    match &node.kind {
        // `x.method(...)` other than `get`: the whole receiver is read.
        Kind::Call { func, args, kwargs } => {
            match &func.kind {
                Kind::Attr { obj, .. } => match chain(obj, bound) {
                    Some(c) => {
                        record(obj.range.start, &c, out);
                        for n in c.inner {
                            walk(n, bound, out);
                        }
                    }
                    None => walk(obj, bound, out),
                },
                _ => walk(func, bound, out),
            }
            for a in args {
                walk(a, bound, out);
            }
            for k in kwargs {
                walk(&k.value, bound, out);
            }
        }
        Kind::ListComp { elt, gens } => generators(gens, &[elt], bound, out),
        Kind::DictComp { key, value, gens } => generators(gens, &[key, value], bound, out),
        Kind::Lambda { params, body } => {
            let mark = bound.len();
            bound.extend(params.iter().map(|(p, _)| p.as_str()));
            walk(body, bound, out);
            bound.truncate(mark);
        }
        _ => node.for_each_child(&mut |c| walk(c, bound, out)),
    }
}

/// Python's comprehension scoping: the first iterable is read outside, the rest see the
/// earlier targets, the element sees them all.
fn generators<'n>(
    gens: &'n [Generator],
    elts: &[&'n Node],
    bound: &mut Vec<&'n str>,
    out: &mut Vec<(usize, Read)>,
) {
    let mark = bound.len();
    for g in gens {
        walk(&g.iter, bound, out);
        bound.extend(g.targets.iter().map(|(n, _)| n.as_str()));
        for cond in &g.ifs {
            walk(cond, bound, out);
        }
    }
    for e in elts {
        walk(e, bound, out);
    }
    bound.truncate(mark);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(src: &str) -> Vec<String> {
        let e = Expr::parse(src).expect("parses");
        e.reads()
            .into_iter()
            .map(|r| {
                let mut s = r.root;
                for step in r.steps {
                    match step {
                        ReadStep::Key(k) => s.push_str(&format!(".{k}")),
                        ReadStep::Index(i) => s.push_str(&format!("[{i}]")),
                        ReadStep::Computed => s.push_str("[?]"),
                    }
                }
                s
            })
            .collect()
    }

    #[test]
    fn paths_inside_operators_calls_and_conditionals() {
        assert_eq!(
            reads("request.qs.q if request['qs']['limit'] else int(request.qs.get('n', env.d))"),
            ["request.qs.q", "request.qs.limit", "request.qs.n", "env.d"]
        );
        assert_eq!(
            reads("request.qs[flow.k].x + request.headers.items()"),
            ["request.qs[?]", "flow.k", "request.headers"]
        );
        assert_eq!(
            reads("request.data.tags[0:2] and request.data.list[-1].name"),
            ["request.data.tags", "request.data.list[-1].name"]
        );
        assert_eq!(
            reads("len(request) + json.dumps(flow.x)"),
            ["request", "flow.x"]
        );
    }

    #[test]
    fn comprehensions_and_lambdas_bind_their_names() {
        assert_eq!(
            reads("[request.qs.a for request in flow.xs if request.ok]"),
            ["flow.xs"]
        );
        assert_eq!(
            reads("{k: request.qs.b for k in request.qs}"),
            ["request.qs.b", "request.qs"]
        );
        assert_eq!(
            reads("sorted(flow.xs, key=lambda x: x.n + request.qs.c)"),
            ["flow.xs", "request.qs.c"]
        );
    }

    #[test]
    fn the_fast_path_agrees() {
        let t = Template::parse("${request.qs['q']}").expect("parses");
        let (root, segs) = t
            .single()
            .and_then(|s| s.expr.as_path())
            .expect("pure path");
        let read = &t.reads()[0];
        assert_eq!(read.root, root);
        assert_eq!(read.steps.len(), segs.len());
    }
}
