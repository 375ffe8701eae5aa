//! Syntax tree of an expression and the static analyses the validator uses.

use std::ops::Range;
use std::sync::OnceLock;

use serde_json::Value;

use super::SyntaxError;

/// A parsed expression, e.g. `request.qs.user` or `'yes' if x == 1 else 'no'`.
///
/// The tree is opaque; every node keeps its byte range in [`Expr::source`]. Parse with
/// [`Expr::parse`], evaluate with [`Expr::eval`](Expr::eval).
#[derive(Debug, Clone)]
pub struct Expr {
    pub(crate) src: Box<str>,
    pub(crate) root: Node,
    /// The code `flow!` generated for this expression, when it runs that instead of the tree.
    pub(crate) compiled: OnceLock<super::compile::CompiledFn>,
}

impl PartialEq for Expr {
    fn eq(&self, other: &Expr) -> bool {
        self.src == other.src && self.root == other.root
    }
}

/// One step of a pure path, see [`Expr::as_path`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSeg {
    /// `.name` or `['name']`.
    Key(String),
    /// `[0]` or `[-1]`.
    Index(i64),
}

#[derive(Debug, Clone, PartialEq)]
#[doc(hidden)]
pub struct Node {
    pub kind: Kind,
    pub range: Range<usize>,
    /// Height of the subtree (a leaf is 1); bounded by the parser.
    pub depth: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[doc(hidden)]
pub enum UnaryOp {
    Neg,
    Pos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[doc(hidden)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
}

impl BinOp {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
            BinOp::Pow => "**",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[doc(hidden)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Is,
    IsNot,
}

impl CmpOp {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::In => "in",
            CmpOp::NotIn => "not in",
            CmpOp::Is => "is",
            CmpOp::IsNot => "is not",
        }
    }
}

/// `for a, b in iter if cond if cond2`
#[derive(Debug, Clone, PartialEq)]
#[doc(hidden)]
pub struct Generator {
    /// The loop variables; more than one means tuple unpacking.
    pub targets: Vec<(String, Range<usize>)>,
    /// Whether the target was written as a tuple (`for (a,) in ...` unpacks one value).
    pub unpack: bool,
    pub iter: Node,
    pub ifs: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq)]
#[doc(hidden)]
pub struct Kwarg {
    pub name: String,
    pub name_range: Range<usize>,
    pub value: Node,
}

#[derive(Debug, Clone, PartialEq)]
#[doc(hidden)]
pub enum Kind {
    /// `None`, `True`, an int, a finite float or a string.
    Const(Value),
    Name(String),
    Attr {
        obj: Box<Node>,
        name: String,
    },
    Index {
        obj: Box<Node>,
        index: Box<Node>,
    },
    Slice {
        obj: Box<Node>,
        lo: Option<Box<Node>>,
        hi: Option<Box<Node>>,
        step: Option<Box<Node>>,
    },
    Call {
        func: Box<Node>,
        args: Vec<Node>,
        kwargs: Vec<Kwarg>,
    },
    List(Vec<Node>),
    Dict(Vec<(Node, Node)>),
    Unary {
        op: UnaryOp,
        operand: Box<Node>,
    },
    Binary {
        op: BinOp,
        lhs: Box<Node>,
        rhs: Box<Node>,
    },
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Compare {
        first: Box<Node>,
        rest: Vec<(CmpOp, Node)>,
    },
    IfElse {
        then: Box<Node>,
        cond: Box<Node>,
        orelse: Box<Node>,
    },
    ListComp {
        elt: Box<Node>,
        gens: Vec<Generator>,
    },
    DictComp {
        key: Box<Node>,
        value: Box<Node>,
        gens: Vec<Generator>,
    },
    Lambda {
        params: Vec<(String, Range<usize>)>,
        body: Box<Node>,
    },
}

impl Node {
    /// Calls `f` on every direct child, in source order where it matters little.
    pub(super) fn for_each_child<'n>(&'n self, f: &mut dyn FnMut(&'n Node)) {
        match &self.kind {
            Kind::Const(_) | Kind::Name(_) => {}
            Kind::Attr { obj, .. } => f(obj),
            Kind::Index { obj, index } => {
                f(obj);
                f(index);
            }
            Kind::Slice { obj, lo, hi, step } => {
                f(obj);
                for n in [lo, hi, step].into_iter().flatten() {
                    f(n);
                }
            }
            Kind::Call { func, args, kwargs } => {
                f(func);
                args.iter().for_each(&mut *f);
                kwargs.iter().for_each(|k| f(&k.value));
            }
            Kind::List(items) => items.iter().for_each(f),
            Kind::Dict(pairs) => {
                for (k, v) in pairs {
                    f(k);
                    f(v);
                }
            }
            Kind::Unary { operand, .. } => f(operand),
            Kind::Binary { lhs, rhs, .. } | Kind::And(lhs, rhs) | Kind::Or(lhs, rhs) => {
                f(lhs);
                f(rhs);
            }
            Kind::Not(x) => f(x),
            Kind::Compare { first, rest } => {
                f(first);
                rest.iter().for_each(|(_, n)| f(n));
            }
            Kind::IfElse { then, cond, orelse } => {
                f(then);
                f(cond);
                f(orelse);
            }
            Kind::ListComp { elt, gens } => {
                f(elt);
                for g in gens {
                    f(&g.iter);
                    g.ifs.iter().for_each(&mut *f);
                }
            }
            Kind::DictComp { key, value, gens } => {
                f(key);
                f(value);
                for g in gens {
                    f(&g.iter);
                    g.ifs.iter().for_each(&mut *f);
                }
            }
            Kind::Lambda { body, .. } => f(body),
        }
    }

    /// The dotted path `a.b.c` this node spells, if it is only names and attributes.
    pub(super) fn dotted(&self) -> Option<Vec<&str>> {
        match &self.kind {
            Kind::Name(n) => Some(vec![n.as_str()]),
            Kind::Attr { obj, name } => {
                let mut p = obj.dotted()?;
                p.push(name);
                Some(p)
            }
            _ => None,
        }
    }
}

impl Expr {
    /// Parses a single expression such as `request.data.list[0].x`.
    ///
    /// Errors carry byte ranges into `src`.
    pub fn parse(src: &str) -> Result<Expr, SyntaxError> {
        let root = super::parser::parse(src)?;
        Ok(Expr {
            src: src.into(),
            root,
            compiled: OnceLock::new(),
        })
    }

    /// The source text this expression was parsed from.
    pub fn source(&self) -> &str {
        &self.src
    }

    /// Root names the expression reads that are not bound by a comprehension or a `lambda`,
    /// in source order, one entry per occurrence. Builtins such as `len` and `json` are
    /// included; `function` too (see [`Expr::function_calls`]).
    pub fn free_names(&self) -> Vec<(String, Range<usize>)> {
        let mut out = Vec::new();
        let mut bound = Vec::new();
        free_names(&self.root, &mut bound, &mut out);
        out.sort_by_key(|(_, r)| r.start);
        out
    }

    /// Every call whose callee is a dotted path starting at the root `function`, as the path
    /// after `function` (`function.students.approved_list(x)` gives `["students",
    /// "approved_list"]`) and the byte range of the callee path.
    pub fn function_calls(&self) -> Vec<(Vec<String>, Range<usize>)> {
        let mut out = Vec::new();
        let mut bound = Vec::new();
        function_calls(&self.root, &mut bound, &mut out);
        out.sort_by_key(|(_, r)| r.start);
        out
    }

    /// The keys read directly on the root `root` (`params.user_id` and `params['user_id']`
    /// give `user_id`), with the byte range of the access; local variables shadow the root.
    pub fn root_keys(&self, root: &str) -> Vec<(String, Range<usize>)> {
        let mut out = Vec::new();
        let mut bound = Vec::new();
        root_keys(&self.root, root, &mut bound, &mut out);
        out.sort_by_key(|(_, r)| r.start);
        out
    }

    /// The attribute chains read on the root `root`, written with dots only
    /// (`response.data.user.name` gives `["data", "user", "name"]`), with the chain's byte
    /// range. A chain ends at the first index or call; a method call's name is not part of it
    /// (`response.data.items()` gives `["data"]`). Local variables shadow the root.
    pub fn attribute_chains(&self, root: &str) -> Vec<(Vec<String>, Range<usize>)> {
        let mut out = Vec::new();
        let mut bound = Vec::new();
        attribute_chains(&self.root, root, &mut bound, &mut out);
        out.sort_by_key(|(_, r)| r.start);
        out
    }

    /// Every string literal in the expression, in source order.
    pub fn string_literals(&self) -> Vec<&str> {
        let mut out: Vec<(usize, &str)> = Vec::new();
        fn walk<'n>(n: &'n Node, out: &mut Vec<(usize, &'n str)>) {
            if let Kind::Const(Value::String(s)) = &n.kind {
                out.push((n.range.start, s));
            }
            n.for_each_child(&mut |c| walk(c, out));
        }
        walk(&self.root, &mut out);
        out.sort_by_key(|(start, _)| *start);
        out.into_iter().map(|(_, s)| s).collect()
    }

    /// When the whole expression is a pure path such as `root.a.b[0]['c']` or `xs[-1]`,
    /// the root name and the steps after it. Indexes must be integer or string literals.
    pub fn as_path(&self) -> Option<(&str, Vec<PathSeg>)> {
        let mut segs = Vec::new();
        let mut node = &self.root;
        loop {
            match &node.kind {
                Kind::Name(n) => {
                    segs.reverse();
                    return Some((n.as_str(), segs));
                }
                Kind::Attr { obj, name } => {
                    segs.push(PathSeg::Key(name.clone()));
                    node = obj;
                }
                Kind::Index { obj, index } => {
                    match &index.kind {
                        Kind::Const(Value::String(s)) => segs.push(PathSeg::Key(s.clone())),
                        Kind::Const(Value::Number(n)) => segs.push(PathSeg::Index(n.as_i64()?)),
                        _ => return None,
                    }
                    node = obj;
                }
                _ => return None,
            }
        }
    }
}

fn bind_targets<'n>(gen_: &'n Generator, bound: &mut Vec<&'n str>) {
    bound.extend(gen_.targets.iter().map(|(n, _)| n.as_str()));
}

/// Walks comprehension generators in Python's scoping order: the first iterable is evaluated
/// outside, later iterables and the filters see the earlier targets, the element sees all.
fn walk_generators<'n>(
    gens: &'n [Generator],
    elts: &[&'n Node],
    bound: &mut Vec<&'n str>,
    visit: &mut dyn FnMut(&'n Node, &mut Vec<&'n str>),
) {
    let mark = bound.len();
    for g in gens {
        visit(&g.iter, bound);
        bind_targets(g, bound);
        for cond in &g.ifs {
            visit(cond, bound);
        }
    }
    for e in elts {
        visit(e, bound);
    }
    bound.truncate(mark);
}

fn free_names<'n>(node: &'n Node, bound: &mut Vec<&'n str>, out: &mut Vec<(String, Range<usize>)>) {
    match &node.kind {
        Kind::Name(n) => {
            if !bound.contains(&n.as_str()) {
                out.push((n.clone(), node.range.clone()));
            }
        }
        Kind::ListComp { elt, gens } => {
            walk_generators(gens, &[elt], bound, &mut |n, b| free_names(n, b, out));
        }
        Kind::DictComp { key, value, gens } => {
            walk_generators(gens, &[key, value], bound, &mut |n, b| {
                free_names(n, b, out)
            });
        }
        Kind::Lambda { params, body } => {
            let mark = bound.len();
            bound.extend(params.iter().map(|(p, _)| p.as_str()));
            free_names(body, bound, out);
            bound.truncate(mark);
        }
        _ => node.for_each_child(&mut |c| free_names(c, bound, out)),
    }
}

fn root_keys<'n>(
    node: &'n Node,
    root: &str,
    bound: &mut Vec<&'n str>,
    out: &mut Vec<(String, Range<usize>)>,
) {
    let on_root = |obj: &Node, bound: &[&str]| {
        matches!(&obj.kind, Kind::Name(n) if n == root) && !bound.contains(&root)
    };
    match &node.kind {
        Kind::Attr { obj, name } if on_root(obj, bound) => {
            out.push((name.clone(), node.range.clone()))
        }
        Kind::Index { obj, index } if on_root(obj, bound) => {
            if let Kind::Const(Value::String(key)) = &index.kind {
                out.push((key.clone(), node.range.clone()));
            }
        }
        Kind::ListComp { elt, gens } => {
            walk_generators(gens, &[elt], bound, &mut |n, b| root_keys(n, root, b, out));
        }
        Kind::DictComp { key, value, gens } => {
            walk_generators(gens, &[key, value], bound, &mut |n, b| {
                root_keys(n, root, b, out)
            });
        }
        Kind::Lambda { params, body } => {
            let mark = bound.len();
            bound.extend(params.iter().map(|(p, _)| p.as_str()));
            root_keys(body, root, bound, out);
            bound.truncate(mark);
        }
        _ => node.for_each_child(&mut |c| root_keys(c, root, bound, out)),
    }
}

fn attribute_chains<'n>(
    node: &'n Node,
    root: &str,
    bound: &mut Vec<&'n str>,
    out: &mut Vec<(Vec<String>, Range<usize>)>,
) {
    let chain = |n: &Node, bound: &[&str]| {
        n.dotted()
            .filter(|p| p.len() > 1 && p[0] == root && !bound.contains(&root))
            .map(|p| p[1..].iter().map(|s| s.to_string()).collect::<Vec<_>>())
    };
    match &node.kind {
        Kind::Attr { .. } => {
            if let Some(path) = chain(node, bound) {
                out.push((path, node.range.clone()));
            } else {
                node.for_each_child(&mut |c| attribute_chains(c, root, bound, out));
            }
        }
        Kind::Call { func, args, kwargs } if matches!(func.kind, Kind::Attr { .. }) => {
            match (chain(func, bound), &func.kind) {
                (Some(mut path), Kind::Attr { obj, .. }) => {
                    path.pop();
                    if !path.is_empty() {
                        out.push((path, obj.range.clone()));
                    }
                }
                _ => attribute_chains(func, root, bound, out),
            }
            for a in args {
                attribute_chains(a, root, bound, out);
            }
            for k in kwargs {
                attribute_chains(&k.value, root, bound, out);
            }
        }
        Kind::ListComp { elt, gens } => {
            walk_generators(gens, &[elt], bound, &mut |n, b| {
                attribute_chains(n, root, b, out)
            });
        }
        Kind::DictComp { key, value, gens } => {
            walk_generators(gens, &[key, value], bound, &mut |n, b| {
                attribute_chains(n, root, b, out)
            });
        }
        Kind::Lambda { params, body } => {
            let mark = bound.len();
            bound.extend(params.iter().map(|(p, _)| p.as_str()));
            attribute_chains(body, root, bound, out);
            bound.truncate(mark);
        }
        _ => node.for_each_child(&mut |c| attribute_chains(c, root, bound, out)),
    }
}

fn function_calls<'n>(
    node: &'n Node,
    bound: &mut Vec<&'n str>,
    out: &mut Vec<(Vec<String>, Range<usize>)>,
) {
    match &node.kind {
        Kind::Call { func, .. } => {
            if let Some(path) = func.dotted()
                && path.first() == Some(&"function")
                && !bound.contains(&"function")
            {
                out.push((
                    path[1..].iter().map(|s| s.to_string()).collect(),
                    func.range.clone(),
                ));
            }
            node.for_each_child(&mut |c| function_calls(c, bound, out));
        }
        Kind::ListComp { elt, gens } => {
            walk_generators(gens, &[elt], bound, &mut |n, b| function_calls(n, b, out));
        }
        Kind::DictComp { key, value, gens } => {
            walk_generators(gens, &[key, value], bound, &mut |n, b| {
                function_calls(n, b, out)
            });
        }
        Kind::Lambda { params, body } => {
            let mark = bound.len();
            bound.extend(params.iter().map(|(p, _)| p.as_str()));
            function_calls(body, bound, out);
            bound.truncate(mark);
        }
        _ => node.for_each_child(&mut |c| function_calls(c, bound, out)),
    }
}
