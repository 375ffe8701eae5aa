//! Static types of expressions: what a value is known to be before a run (literals, declared
//! params, builtins' results, `#[flow_function]` results), and the operations that fail for
//! every value their operands can take.
//!
//! The checker does not re-state Python's rules: it asks the evaluator. For each pair of
//! types an operator may see, it applies the evaluator's own operator to a representative
//! value of each type (`3`, `1.5`, `'a'`, `[1]`, ...), so an operation is reported exactly when
//! the engine would fail it at run time whatever the values are, with the engine's message.

use std::fmt;
use std::ops::Range;

use serde_json::{Value, json};

use super::ast::{BinOp, CmpOp, Expr, Generator, Kind, Node, UnaryOp};
use super::builtins::Builtin;
use super::eval::{Ctx, EvalLimits, Scope};
use super::template::Template;
use super::value::{Val, View};

/// The set of JSON/Python types a value may have.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Types(u8);

impl Types {
    /// No value at all: the expression always fails (already reported).
    pub const NEVER: Types = Types(0);
    /// `None` (`null`).
    pub const NULL: Types = Types(1);
    /// `bool`.
    pub const BOOL: Types = Types(2);
    /// `int`.
    pub const INT: Types = Types(4);
    /// `float`.
    pub const FLOAT: Types = Types(8);
    /// `str`.
    pub const STR: Types = Types(16);
    /// `list`.
    pub const LIST: Types = Types(32);
    /// `dict`.
    pub const DICT: Types = Types(64);
    /// `int` or `float`.
    pub const NUMBER: Types = Types(4 | 8);
    /// Not known before the run.
    pub const ANY: Types = Types(127);

    const EACH: [(Types, &'static str); 7] = [
        (Types::NULL, "NoneType"),
        (Types::BOOL, "bool"),
        (Types::INT, "int"),
        (Types::FLOAT, "float"),
        (Types::STR, "str"),
        (Types::LIST, "list"),
        (Types::DICT, "dict"),
    ];

    /// The types of either.
    pub fn union(self, other: Types) -> Types {
        Types(self.0 | other.0)
    }

    /// Whether every type of `other` is in `self`.
    pub fn contains(self, other: Types) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether nothing is known (every type is possible).
    pub fn is_any(self) -> bool {
        self == Types::ANY
    }

    /// Whether the set holds exactly one type.
    pub fn is_single(self) -> bool {
        self.0.count_ones() == 1
    }

    /// The type of a JSON value.
    pub fn of(value: &Value) -> Types {
        match value {
            Value::Null => Types::NULL,
            Value::Bool(_) => Types::BOOL,
            Value::Number(n) if n.is_i64() => Types::INT,
            Value::Number(_) => Types::FLOAT,
            Value::String(_) => Types::STR,
            Value::Array(_) => Types::LIST,
            Value::Object(_) => Types::DICT,
        }
    }

    /// Each single type in the set.
    pub fn each(self) -> impl Iterator<Item = Types> {
        Types::EACH
            .into_iter()
            .map(|(t, _)| t)
            .filter(move |t| self.contains(*t))
    }

    fn sample(self) -> Value {
        match self {
            Types::NULL => Value::Null,
            Types::BOOL => Value::Bool(true),
            Types::INT => json!(3),
            Types::FLOAT => json!(1.5),
            Types::STR => json!("a"),
            Types::LIST => json!([1]),
            _ => json!({"a": 1}),
        }
    }

    fn of_view(view: View<'_>) -> Types {
        match view {
            View::None | View::Missing(_) => Types::NULL,
            View::Bool(_) => Types::BOOL,
            View::Int(_) => Types::INT,
            View::Float(_) => Types::FLOAT,
            View::Str(_) => Types::STR,
            View::List(_) => Types::LIST,
            View::Dict(_) => Types::DICT,
            View::Func(_) => Types::ANY,
        }
    }
}

/// Python's names, `int or str`; `any` when nothing is known.
impl fmt::Display for Types {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_any() {
            return f.write_str("any");
        }
        let names: Vec<&str> = Types::EACH
            .iter()
            .filter(|(t, _)| self.contains(*t))
            .map(|(_, n)| *n)
            .collect();
        f.write_str(&names.join(" or "))
    }
}

impl fmt::Debug for Types {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Types({self})")
    }
}

/// What the checker knows about the run's context.
pub trait TypeEnv {
    /// The type of `root.key` (`params.count`), [`Types::ANY`] when unknown.
    fn root_key(&self, root: &str, key: &str) -> Types {
        let _ = (root, key);
        Types::ANY
    }

    /// What `function.<path>(...)` returns, [`Types::ANY`] when unknown.
    fn function(&self, path: &[&str]) -> Types {
        let _ = path;
        Types::ANY
    }
}

/// Knows nothing about the context: only literals and builtins are typed.
pub struct Untyped;

impl TypeEnv for Untyped {}

/// An operation that fails for every value its operands can take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeError {
    /// The evaluator's message, e.g. "unsupported operand types for `+`: `int` and `str`".
    pub message: String,
    /// The operation's text in the expression (or template) source.
    pub range: Range<usize>,
    /// The operands whose types come from the context (`params.count`), with those types,
    /// for the diagnostic's help.
    pub sources: Vec<(String, Types)>,
}

/// A `function.<path>(...)` call and what is known of its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypedCall {
    /// The path after `function` (`["students", "approved"]`).
    pub path: Vec<String>,
    /// Each positional argument's types.
    pub args: Vec<Types>,
    /// For each positional argument that is itself a `function.*` call, its path: what it
    /// returns is known only to the function's Rust signature.
    pub arg_calls: Vec<Option<Vec<String>>>,
    /// Whether the call passes keyword arguments (which the engine refuses).
    pub kwargs: bool,
    /// The whole call in the source.
    pub range: Range<usize>,
}

/// An operand of an [`OpCheck`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operand {
    /// What the checker knows of it.
    Known(Types),
    /// The result of `function.<path>(...)`, known only to the function's Rust signature.
    Call(Vec<String>),
    /// The result of the operation at this index of the same [`TypeCheck::ops`] (an
    /// operation on a `function.*` result, `function.f(1) + 1` in `function.f(1) + 1 + 'x'`):
    /// its type follows from the function's Rust signature too.
    Op(usize),
}

/// An operation on the result of a `function.*` call, left for whoever knows what the
/// function returns (`flow!`, from the `#[flow_function]`'s Rust signature) to check with
/// [`op_succeeds`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpCheck {
    /// The operator, as [`op_succeeds`] names it (`+`, `<`, `in`, `neg`, ...).
    pub op: &'static str,
    /// One operand for `neg`/`pos`, else two.
    pub operands: Vec<Operand>,
    /// The operation in the source.
    pub range: Range<usize>,
}

/// The operators [`op_succeeds`] knows, by name: binary operators, comparisons that can
/// fail, and the unary `neg`/`pos`.
const OPS: [(&str, Op); 15] = [
    ("+", Op::Binary(BinOp::Add)),
    ("-", Op::Binary(BinOp::Sub)),
    ("*", Op::Binary(BinOp::Mul)),
    ("/", Op::Binary(BinOp::Div)),
    ("//", Op::Binary(BinOp::FloorDiv)),
    ("%", Op::Binary(BinOp::Mod)),
    ("**", Op::Binary(BinOp::Pow)),
    ("<", Op::Compare(CmpOp::Lt)),
    ("<=", Op::Compare(CmpOp::Le)),
    (">", Op::Compare(CmpOp::Gt)),
    (">=", Op::Compare(CmpOp::Ge)),
    ("in", Op::Compare(CmpOp::In)),
    ("not in", Op::Compare(CmpOp::NotIn)),
    ("neg", Op::Unary(UnaryOp::Neg)),
    ("pos", Op::Unary(UnaryOp::Pos)),
];

/// The operator names [`op_succeeds`] knows: binary operators, comparisons that can fail,
/// and the unary `neg`/`pos`.
pub const OPERATORS: [&str; 15] = {
    let mut names = [""; 15];
    let mut i = 0;
    while i < OPS.len() {
        names[i] = OPS[i].0;
        i += 1;
    }
    names
};

/// Whether `op` succeeds for some values of types `a` and `b` (`b` is ignored for `neg` and
/// `pos`), as the evaluator decides; `None` for an unknown operator.
pub fn op_succeeds(op: &str, a: Types, b: Types) -> Option<bool> {
    let (_, op) = OPS.iter().find(|(name, _)| *name == op)?;
    Some(apply(op, a, b).is_ok())
}

/// The types `op` gives for operands of types `a` and `b` (`b` is ignored for `neg` and
/// `pos`), as the evaluator decides; `None` for an unknown operator or one that always fails.
pub fn op_result(op: &str, a: Types, b: Types) -> Option<Types> {
    let (_, op) = OPS.iter().find(|(name, _)| *name == op)?;
    apply(op, a, b).ok()
}

/// The name of `op` in [`OPS`]; `None` for the comparisons that never fail (`==`, `is`, ...).
fn op_name(op: &Op) -> Option<&'static str> {
    OPS.iter().find(|(_, o)| o == op).map(|(name, _)| *name)
}

/// What [`Expr::check_types`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypeCheck {
    /// Operations that always fail.
    pub errors: Vec<TypeError>,
    /// Every `function.*` call, with its arguments' types.
    pub calls: Vec<TypedCall>,
    /// Operations on `function.*` results, for whoever knows what the functions return.
    pub ops: Vec<OpCheck>,
}

impl Expr {
    /// The expression's type and the operations in it that always fail, given what `env`
    /// knows of the context. Ranges are in the expression source.
    pub fn check_types(&self, env: &dyn TypeEnv) -> (Types, TypeCheck) {
        let mut c = Checker {
            src: &self.src,
            env,
            locals: Vec::new(),
            out: TypeCheck::default(),
            recorded: Vec::new(),
        };
        let t = c.infer(&self.root);
        (t, c.out)
    }
}

impl Template {
    /// [`Expr::check_types`] of every segment, ranges in the template source.
    pub fn check_types(&self, env: &dyn TypeEnv) -> TypeCheck {
        let mut out = TypeCheck::default();
        for s in self.segments() {
            let at = s.expr_range.start;
            let shift = |r: &Range<usize>| r.start + at..r.end + at;
            let (_, found) = s.expr.check_types(env);
            out.errors.extend(found.errors.into_iter().map(|mut e| {
                e.range = shift(&e.range);
                e
            }));
            out.calls.extend(found.calls.into_iter().map(|mut c| {
                c.range = shift(&c.range);
                c
            }));
            let first = out.ops.len();
            out.ops.extend(found.ops.into_iter().map(|mut o| {
                o.range = shift(&o.range);
                for operand in &mut o.operands {
                    if let Operand::Op(k) = operand {
                        *k += first;
                    }
                }
                o
            }));
        }
        out
    }
}

struct NoScope;

impl Scope for NoScope {
    fn root(&self, _: &str) -> Option<&Value> {
        None
    }
    fn call(&self, _: &[&str], _: Vec<Value>) -> Option<Result<Value, String>> {
        None
    }
}

/// An operation on samples of the operands' types, run by the evaluator.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Unary(UnaryOp),
    Binary(BinOp),
    Compare(CmpOp),
}

/// Applies `op` to a sample of each combination of the operands' types: the types of the
/// results, or the first failure's message when every combination fails.
fn apply(op: &Op, a: Types, b: Types) -> Result<Types, String> {
    let mut result = Types::NEVER;
    let mut first_error = None;
    let b_each: Vec<Types> = match op {
        Op::Unary(_) => vec![Types::NULL],
        _ => b.each().collect(),
    };
    for ta in a.each() {
        for &tb in &b_each {
            let (x, y) = (ta.sample(), tb.sample());
            let mut cx = Ctx::new("", &NoScope, EvalLimits::default());
            let outcome = match op {
                Op::Unary(u) => cx.unary(*u, Val::Ref(&x)).map(|v| Types::of_view(v.view())),
                Op::Binary(o) => cx
                    .binary(*o, Val::Ref(&x), Val::Ref(&y))
                    .map(|v| Types::of_view(v.view())),
                Op::Compare(o) => cx
                    .compare(*o, &Val::Ref(&x), &Val::Ref(&y))
                    .map(|_| Types::BOOL),
            };
            match outcome {
                Ok(t) => result = result.union(t),
                Err(e) => {
                    first_error.get_or_insert_with(|| e.to_string());
                }
            }
        }
    }
    match first_error {
        Some(message) if result == Types::NEVER => Err(message),
        _ => Ok(result),
    }
}

/// What a builtin returns when it succeeds.
fn builtin_returns(b: Builtin) -> Types {
    match b {
        Builtin::Len | Builtin::Int => Types::INT,
        Builtin::Str | Builtin::JsonDumps => Types::STR,
        Builtin::Float => Types::FLOAT,
        Builtin::Bool | Builtin::Any | Builtin::All => Types::BOOL,
        Builtin::Sorted
        | Builtin::Reversed
        | Builtin::List
        | Builtin::Range
        | Builtin::Enumerate
        | Builtin::Zip => Types::LIST,
        _ => Types::ANY,
    }
}

struct Checker<'n> {
    src: &'n str,
    env: &'n dyn TypeEnv,
    locals: Vec<&'n str>,
    out: TypeCheck,
    /// The nodes whose operation was recorded in `out.ops` (by address), with its index.
    recorded: Vec<(*const Node, usize)>,
}

impl<'n> Checker<'n> {
    /// The path of `function.<path>(...)` when `node` is such a call.
    fn call_path(&self, node: &Node) -> Option<Vec<String>> {
        let Kind::Call { func, .. } = &node.kind else {
            return None;
        };
        let path = func.dotted()?;
        (path.len() > 1 && path[0] == "function" && !self.locals.contains(&"function"))
            .then(|| path[1..].iter().map(|s| s.to_string()).collect())
    }

    /// What an operation's operand `node` (of inferred types `t`) is for an [`OpCheck`]: an
    /// operation recorded before it, a `function.*` call, or its types.
    fn operand(&self, node: &Node, t: Types) -> Operand {
        let at = std::ptr::from_ref(node);
        if let Some(&(_, k)) = self.recorded.iter().find(|(n, _)| *n == at) {
            return Operand::Op(k);
        }
        self.call_path(node)
            .map_or(Operand::Known(t), Operand::Call)
    }

    fn root_name<'x>(&self, node: &'x Node) -> Option<&'x str> {
        match &node.kind {
            Kind::Name(n) if !self.locals.contains(&n.as_str()) => Some(n),
            _ => None,
        }
    }

    fn text(&self, range: &Range<usize>) -> String {
        self.src.get(range.clone()).unwrap_or_default().to_string()
    }

    /// The operands among `nodes` whose types come from the context, for the help.
    fn sources(&self, nodes: &[(&Node, Types)]) -> Vec<(String, Types)> {
        nodes
            .iter()
            .filter(|(n, t)| !t.is_any() && !matches!(n.kind, Kind::Const(_)))
            .map(|(n, t)| (self.text(&n.range), *t))
            .collect()
    }

    fn check(&mut self, op: Op, node: &Node, operands: &[(&Node, Types)]) -> Types {
        let (a, b) = match operands {
            [(_, a)] => (*a, Types::NULL),
            [(_, a), (_, b), ..] => (*a, *b),
            [] => return Types::ANY,
        };
        if a == Types::NEVER || b == Types::NEVER {
            return Types::NEVER;
        }
        let refs: Vec<Operand> = operands.iter().map(|(n, t)| self.operand(n, *t)).collect();
        if refs.iter().any(|o| !matches!(o, Operand::Known(_)))
            && let Some(name) = op_name(&op)
        {
            self.recorded
                .push((std::ptr::from_ref(node), self.out.ops.len()));
            self.out.ops.push(OpCheck {
                op: name,
                operands: refs,
                range: node.range.clone(),
            });
        }
        match apply(&op, a, b) {
            Ok(t) => t,
            Err(message) => {
                let sources = self.sources(operands);
                self.out.errors.push(TypeError {
                    message,
                    range: node.range.clone(),
                    sources,
                });
                Types::NEVER
            }
        }
    }

    fn infer(&mut self, node: &'n Node) -> Types {
        match &node.kind {
            Kind::Const(v) => Types::of(v),
            Kind::Name(_) => Types::ANY,
            Kind::Attr { obj, name } => match self.root_name(obj) {
                Some(root) => self.env.root_key(root, name),
                None => {
                    self.infer(obj);
                    Types::ANY
                }
            },
            Kind::Index { obj, index } => match (self.root_name(obj), &index.kind) {
                (Some(root), Kind::Const(Value::String(key))) => self.env.root_key(root, key),
                _ => {
                    self.infer(obj);
                    self.infer(index);
                    Types::ANY
                }
            },
            Kind::Slice { obj, lo, hi, step } => {
                self.infer(obj);
                for n in [lo, hi, step].into_iter().flatten() {
                    self.infer(n);
                }
                Types::ANY
            }
            Kind::Call { func, args, kwargs } => self.call(node, func, args, !kwargs.is_empty(), {
                kwargs.iter().map(|k| &k.value).collect()
            }),
            Kind::List(items) => {
                for i in items {
                    self.infer(i);
                }
                Types::LIST
            }
            Kind::Dict(pairs) => {
                for (k, v) in pairs {
                    self.infer(k);
                    self.infer(v);
                }
                Types::DICT
            }
            Kind::Unary { op, operand } => {
                let t = self.infer(operand);
                self.check(Op::Unary(*op), node, &[(operand, t)])
            }
            Kind::Binary { op, lhs, rhs } => {
                let (a, b) = (self.infer(lhs), self.infer(rhs));
                self.check(Op::Binary(*op), node, &[(lhs, a), (rhs, b)])
            }
            Kind::And(a, b) | Kind::Or(a, b) => {
                let (x, y) = (self.infer(a), self.infer(b));
                x.union(y)
            }
            Kind::Not(x) => {
                self.infer(x);
                Types::BOOL
            }
            Kind::Compare { first, rest } => {
                let mut left: &Node = first;
                let mut lt = self.infer(first);
                let mut failed = false;
                for (op, right) in rest {
                    let rt = self.infer(right);
                    let span = Node {
                        kind: Kind::Const(Value::Null),
                        range: left.range.start..right.range.end,
                        depth: 1,
                    };
                    if self.check(Op::Compare(*op), &span, &[(left, lt), (right, rt)])
                        == Types::NEVER
                    {
                        failed = true;
                    }
                    left = right;
                    lt = rt;
                }
                if failed { Types::NEVER } else { Types::BOOL }
            }
            Kind::IfElse { then, cond, orelse } => {
                self.infer(cond);
                let (a, b) = (self.infer(then), self.infer(orelse));
                a.union(b)
            }
            Kind::ListComp { elt, gens } => {
                self.generators(gens, &[elt]);
                Types::LIST
            }
            Kind::DictComp { key, value, gens } => {
                self.generators(gens, &[key, value]);
                Types::DICT
            }
            Kind::Lambda { params, body } => {
                let mark = self.locals.len();
                self.locals.extend(params.iter().map(|(p, _)| p.as_str()));
                self.infer(body);
                self.locals.truncate(mark);
                Types::ANY
            }
        }
    }

    /// Comprehensions, in Python's scoping order (see `ast::walk_generators`).
    fn generators(&mut self, gens: &'n [Generator], elts: &[&'n Node]) {
        let mark = self.locals.len();
        for g in gens {
            self.infer(&g.iter);
            self.locals
                .extend(g.targets.iter().map(|(n, _)| n.as_str()));
            for cond in &g.ifs {
                self.infer(cond);
            }
        }
        for e in elts {
            self.infer(e);
        }
        self.locals.truncate(mark);
    }

    fn call(
        &mut self,
        node: &'n Node,
        func: &'n Node,
        args: &'n [Node],
        has_kwargs: bool,
        kwargs: Vec<&'n Node>,
    ) -> Types {
        let arg_types: Vec<Types> = args.iter().map(|a| self.infer(a)).collect();
        let arg_calls = args.iter().map(|a| self.call_path(a)).collect();
        for k in kwargs {
            self.infer(k);
        }
        if let Some(path) = func.dotted()
            && path.len() > 1
            && path.first() == Some(&"function")
            && !self.locals.contains(&"function")
        {
            let rest: Vec<&str> = path[1..].to_vec();
            self.out.calls.push(TypedCall {
                path: rest.iter().map(|s| s.to_string()).collect(),
                args: arg_types,
                arg_calls,
                kwargs: has_kwargs,
                range: node.range.clone(),
            });
            return self.env.function(&rest);
        }
        if let Some(name) = self.root_name(func)
            && let Some(b) = Builtin::from_name(name)
        {
            return builtin_returns(b);
        }
        if let Kind::Attr { obj, name } = &func.kind
            && self.root_name(obj) == Some("json")
            && name == "dumps"
        {
            return Types::STR;
        }
        self.infer(func);
        Types::ANY
    }
}

#[cfg(test)]
mod tests;
