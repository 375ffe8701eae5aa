//! Expressions compiled to Rust: the source `flow!` generates for an expression, and the
//! primitives that source calls, which are the interpreter's own steps.
//!
//! Every form compiles: literals, names, attributes, indexes, slices, lists, dicts,
//! operators, comparisons, `and`/`or`/`not`, conditionals, calls (`function.*`, builtins,
//! methods), comprehensions and `lambda`s (a nested function each). An expression stays
//! interpreted when it is nested deeper than [`MAX_DEPTH`], or when it binds a local variable
//! named `function` (which would shadow the `function.*` root for the calls under it).
//!
//! The generated code walks no tree: each node is a call of an [`Eval`] method with its byte
//! range, and each method is the interpreter's step for that node (the same budget, depth,
//! errors and ranges), so a compiled expression gives what the interpreter gives, error
//! messages included. Nothing here is a stable API: it is what `flow!` expands to.

use std::fmt::Write as _;
use std::ops::Range;

use serde_json::{Map, Value};

use super::ast::{BinOp, CmpOp, Expr, Kind, Node, UnaryOp};
use super::eval::{Ctx, EvalError, Receiver, registered_kwargs};
use super::value::{Body, Params, Val};

/// Deepest expression compiled (deeper ones are interpreted): each level is a nested closure
/// for rustc to check.
pub const MAX_DEPTH: u32 = 32;

/// A compiled expression: evaluates the expression it was generated from.
pub type CompiledFn = for<'a, 'c, 'd> fn(&'d mut Eval<'a, 'c>) -> Result<V<'a>, EvalError>;

/// The code generated for one expression, as the runtime receives it.
#[derive(Clone, Copy, Debug)]
pub struct Generated {
    /// The expression's source text (what it is looked up by).
    pub source: &'static str,
    /// [`Expr::fingerprint`] of the tree the code was generated from.
    pub fingerprint: u64,
    /// The code.
    pub run: CompiledFn,
}

/// One evaluation, as generated code sees it.
#[repr(transparent)]
pub struct Eval<'a, 'c>(&'c mut Ctx<'a>);

/// A value during evaluation, as generated code sees it.
#[repr(transparent)]
pub struct V<'a>(Val<'a>);

/// Positional and keyword arguments of a call, being evaluated.
pub struct Args<'a> {
    pos: Vec<Val<'a>>,
    kw: Vec<(&'a str, Val<'a>)>,
}

/// The receiver of a method call, checked before its arguments are evaluated.
pub struct Recv<'a>(Receiver<'a>);

type R<'a> = Result<V<'a>, EvalError>;

/// An error of a node, located at it (unless a node inside it already was).
#[cold]
fn located(e: EvalError, range: &Range<usize>) -> EvalError {
    e.at(range)
}

/// Runs a compiled expression in an evaluation.
#[inline]
pub(super) fn run<'a>(f: CompiledFn, ctx: &mut Ctx<'a>) -> Result<Val<'a>, EvalError> {
    f(&mut Eval(ctx)).map(|v| v.0)
}

#[doc(hidden)]
#[allow(missing_docs)]
impl<'a> Eval<'a, '_> {
    /// Every node: a step of the budget, a level of depth, errors located at `range`.
    #[inline]
    pub fn node(&mut self, range: Range<usize>, f: impl FnOnce(&mut Self) -> R<'a>) -> R<'a> {
        self.0.enter(&range)?;
        let r = f(self);
        self.0.exit();
        match r {
            Ok(v) => Ok(v),
            Err(e) => Err(located(e, &range)),
        }
    }

    #[inline]
    pub fn konst(&mut self, v: &'static Value) -> R<'a> {
        Ok(V(Val::Ref(v)))
    }

    #[inline]
    pub fn name(&mut self, name: &'static str, range: Range<usize>) -> R<'a> {
        Ok(V(self.0.lookup(name, &range)))
    }

    /// `obj.name`; `root` is the object's name when it is written as one.
    #[inline]
    pub fn attr(
        &mut self,
        root: Option<&'static str>,
        name: &'static str,
        range: Range<usize>,
        obj: impl FnOnce(&mut Self) -> R<'a>,
    ) -> R<'a> {
        if let Some(root) = root
            && let Some(v) = self.0.root_member(root, name)
        {
            return Ok(V(v));
        }
        let base = obj(self)?;
        self.0.get_attr(base.0, name, &range).map(V)
    }

    #[inline]
    pub fn item(&mut self, base: V<'a>, index: V<'a>, range: Range<usize>) -> R<'a> {
        self.0.get_item(base.0, index.0, &range).map(V)
    }

    #[inline]
    pub fn bound(&mut self, v: V<'a>, range: Range<usize>) -> Result<Option<i64>, EvalError> {
        self.0.slice_bound(v.0, &range)
    }

    #[inline]
    pub fn slice(
        &mut self,
        base: V<'a>,
        lo: Option<i64>,
        hi: Option<i64>,
        step: Option<i64>,
        range: Range<usize>,
    ) -> R<'a> {
        self.0.slice(base.0, lo, hi, step, &range).map(V)
    }

    #[inline]
    pub fn list_new(&mut self, n: usize) -> Result<Vec<Value>, EvalError> {
        self.0.alloc_items(n)?;
        Ok(Vec::with_capacity(n))
    }

    #[inline]
    pub fn list_push(&mut self, list: &mut Vec<Value>, v: V<'a>) -> Result<(), EvalError> {
        list.push(self.0.materialize(v.0)?);
        Ok(())
    }

    #[inline]
    pub fn list_end(&mut self, list: Vec<Value>) -> R<'a> {
        Ok(V(Val::list(list)))
    }

    #[inline]
    pub fn dict_new(&mut self, n: usize) -> Result<Map<String, Value>, EvalError> {
        self.0.alloc_items(n)?;
        Ok(Map::new())
    }

    #[inline]
    /// An empty dict for a comprehension (charged entry by entry).
    pub fn map(&mut self) -> Map<String, Value> {
        Map::new()
    }

    #[inline]
    pub fn dict_key(&mut self, k: V<'a>, range: Range<usize>) -> Result<String, EvalError> {
        self.0.dict_key(k.0).map_err(|e| e.at(&range))
    }

    #[inline]
    pub fn dict_insert(
        &mut self,
        map: &mut Map<String, Value>,
        k: String,
        v: V<'a>,
    ) -> Result<(), EvalError> {
        map.insert(k, self.0.materialize(v.0)?);
        Ok(())
    }

    #[inline]
    pub fn dict_end(&mut self, map: Map<String, Value>) -> R<'a> {
        Ok(V(Val::Owned(Value::Object(map))))
    }

    #[inline]
    pub fn unary(&mut self, op: u8, v: V<'a>) -> R<'a> {
        let op = if op == 0 { UnaryOp::Neg } else { UnaryOp::Pos };
        self.0.unary(op, v.0).map(V)
    }

    #[inline]
    pub fn binary(&mut self, op: u8, a: V<'a>, b: V<'a>) -> R<'a> {
        let op = BIN_OPS.get(usize::from(op)).copied().unwrap_or(BinOp::Add);
        self.0.binary(op, a.0, b.0).map(V)
    }

    #[inline]
    pub fn compare(&mut self, op: u8, a: &V<'a>, b: &V<'a>) -> Result<bool, EvalError> {
        let op = CMP_OPS.get(usize::from(op)).copied().unwrap_or(CmpOp::Eq);
        self.0.compare(op, &a.0, &b.0)
    }

    #[inline]
    pub fn truthy(&self, v: &V<'a>) -> bool {
        v.0.view().truthy()
    }

    #[inline]
    pub fn not(&mut self, v: V<'a>) -> R<'a> {
        Ok(V(Val::Bool(!v.0.view().truthy())))
    }

    #[inline]
    pub fn boolean(&mut self, b: bool) -> R<'a> {
        Ok(V(Val::Bool(b)))
    }

    #[inline]
    pub fn keep(&mut self, v: V<'a>) -> R<'a> {
        Ok(v)
    }

    #[inline]
    pub fn args(&mut self, pos: usize, kw: usize) -> Args<'a> {
        Args {
            pos: Vec::with_capacity(pos),
            kw: Vec::with_capacity(kw),
        }
    }

    #[inline]
    pub fn arg(&mut self, args: &mut Args<'a>, v: V<'a>) {
        args.pos.push(v.0);
    }

    #[inline]
    pub fn kwarg(&mut self, args: &mut Args<'a>, name: &'static str, v: V<'a>) {
        args.kw.push((name, v.0));
    }

    #[inline]
    pub fn registered_kwargs(&mut self, full: &str, range: Range<usize>) -> R<'a> {
        Err(registered_kwargs(full, &range))
    }

    #[inline]
    pub fn call_registered(
        &mut self,
        path: &[&str],
        full: &str,
        func_range: Range<usize>,
        values: Vec<Value>,
    ) -> R<'a> {
        self.0
            .call_registered_values(path, full, &func_range, values)
            .map(V)
    }

    #[inline]
    pub fn receiver(
        &mut self,
        recv: V<'a>,
        name: &str,
        func_range: Range<usize>,
    ) -> Result<Recv<'a>, EvalError> {
        self.0.receiver(recv.0, name, &func_range).map(Recv)
    }

    #[inline]
    pub fn call_method(&mut self, recv: Recv<'a>, name: &str, args: Args<'a>) -> R<'a> {
        self.0.call_on(recv.0, name, args.pos, args.kw).map(V)
    }

    #[inline]
    /// A comprehension's `for` clause over `iterable`: `body` for every item, its names bound.
    pub fn comp(
        &mut self,
        iterable: V<'a>,
        iter_range: Range<usize>,
        names: &'static [&'static str],
        unpack: bool,
        body: &mut dyn FnMut(&mut Eval<'a, '_>) -> Result<(), EvalError>,
    ) -> Result<(), EvalError> {
        self.0.each_item(iterable.0, &iter_range, &mut |ctx, item| {
            ctx.bind(names.iter().copied(), unpack, item)?;
            body(&mut Eval(ctx))
        })
    }

    #[inline]
    pub fn comp_push(&mut self, out: &mut Vec<Value>, v: V<'a>) -> Result<(), EvalError> {
        self.0.comp_push(out, v.0)
    }

    #[inline]
    pub fn comp_insert(
        &mut self,
        map: &mut Map<String, Value>,
        k: String,
        v: V<'a>,
    ) -> Result<(), EvalError> {
        self.0.comp_insert(map, k, v.0)
    }

    #[inline]
    pub fn lambda(&mut self, names: &'static [&'static str], body: CompiledFn) -> R<'a> {
        Ok(V(self.0.lambda(Params::Names(names), Body::Compiled(body))))
    }

    #[inline]
    pub fn call_value(
        &mut self,
        callee: V<'a>,
        name: Option<&str>,
        func_range: Range<usize>,
        args: Args<'a>,
    ) -> R<'a> {
        self.0
            .call_callee(callee.0, name, &func_range, args.pos, args.kw)
            .map(V)
    }
}

const BIN_OPS: [BinOp; 7] = [
    BinOp::Add,
    BinOp::Sub,
    BinOp::Mul,
    BinOp::Div,
    BinOp::FloorDiv,
    BinOp::Mod,
    BinOp::Pow,
];

const CMP_OPS: [CmpOp; 10] = [
    CmpOp::Eq,
    CmpOp::Ne,
    CmpOp::Lt,
    CmpOp::Le,
    CmpOp::Gt,
    CmpOp::Ge,
    CmpOp::In,
    CmpOp::NotIn,
    CmpOp::Is,
    CmpOp::IsNot,
];

/// The Rust source of an expression (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
pub struct RustSource {
    /// An expression of type `Result<V<'a>, EvalError>` over `e: &mut Eval<'a, '_>`, which
    /// reads literal `i` as `__C[i]`, and whose `lambda`s are nested functions naming the
    /// types as `__Eval`, `__V` and `__EvalError`.
    pub body: String,
    /// The literals, in the order the body indexes them.
    pub consts: Vec<Value>,
}

impl Expr {
    /// The Rust source `flow!` generates for this expression, or `None` when it stays
    /// interpreted (see the [module docs](self)).
    #[doc(hidden)]
    pub fn to_rust(&self) -> Option<RustSource> {
        if self.root.depth > MAX_DEPTH {
            return None;
        }
        let mut g = Gen {
            out: String::new(),
            consts: Vec::new(),
            lambdas: 0,
        };
        g.node(&self.root)?;
        Some(RustSource {
            body: g.out,
            consts: g.consts,
        })
    }

    /// Runs this expression through `g` from now on when `g` was generated from this very
    /// expression: the same source and the same tree (a parser that changed between the
    /// macro and the runtime would give another tree, and the expression stays interpreted).
    /// Returns whether it runs generated code now.
    #[doc(hidden)]
    pub fn attach(&self, g: &Generated) -> bool {
        if g.source == self.source() && g.fingerprint == self.fingerprint() {
            let _ = self.compiled.set(g.run);
        }
        self.is_compiled()
    }

    /// A hash of the expression's tree (FNV-1a of its debug form), the same for the same tree
    /// whoever parsed it.
    #[doc(hidden)]
    pub fn fingerprint(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in format!("{:?}", self.root).bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    }

    /// Whether this expression runs generated code rather than the interpreter.
    #[doc(hidden)]
    pub fn is_compiled(&self) -> bool {
        self.compiled.get().is_some()
    }
}

struct Gen {
    out: String,
    consts: Vec<Value>,
    /// Lambdas generated so far (each a function named by its number).
    lambdas: usize,
}

fn range(r: &Range<usize>) -> String {
    format!("{}..{}", r.start, r.end)
}

fn lit(s: &str) -> String {
    format!("{s:?}")
}

impl Gen {
    fn push(&mut self, s: &str) {
        self.out.push_str(s);
    }

    /// Writes the code of `node`: an expression of type `R`.
    fn node(&mut self, node: &Node) -> Option<()> {
        let r = range(&node.range);
        let _ = write!(self.out, "e.node({r}, |e| {{ ");
        self.kind(node)?;
        self.push(" })");
        Some(())
    }

    /// `let NAME = <node>?; `
    fn bind(&mut self, name: &str, node: &Node) -> Option<()> {
        let _ = write!(self.out, "let {name} = ");
        self.node(node)?;
        self.push("?; ");
        Some(())
    }

    fn kind(&mut self, node: &Node) -> Option<()> {
        let r = range(&node.range);
        match &node.kind {
            Kind::Const(v) => {
                let _ = write!(self.out, "e.konst(&__C[{}])", self.consts.len());
                self.consts.push(v.clone());
            }
            Kind::Name(n) => {
                let _ = write!(self.out, "e.name({}, {r})", lit(n));
            }
            Kind::Attr { obj, name } => {
                let root = match &obj.kind {
                    Kind::Name(n) => format!("::core::option::Option::Some({})", lit(n)),
                    _ => "::core::option::Option::None".to_string(),
                };
                let _ = write!(self.out, "e.attr({root}, {}, {r}, |e| ", lit(name));
                self.node(obj)?;
                self.push(")");
            }
            Kind::Index { obj, index } => {
                self.bind("__b", obj)?;
                self.bind("__i", index)?;
                let _ = write!(self.out, "e.item(__b, __i, {r})");
            }
            Kind::Slice { obj, lo, hi, step } => {
                self.bind("__b", obj)?;
                for (name, bound) in [("__lo", lo), ("__hi", hi), ("__st", step)] {
                    match bound {
                        None => {
                            let _ = write!(self.out, "let {name} = ::core::option::Option::None; ");
                        }
                        Some(n) => {
                            self.bind(name, n)?;
                            let _ = write!(
                                self.out,
                                "let {name} = e.bound({name}, {})?; ",
                                range(&n.range)
                            );
                        }
                    }
                }
                let _ = write!(self.out, "e.slice(__b, __lo, __hi, __st, {r})");
            }
            Kind::Call { func, args, kwargs } => self.call(func, args, kwargs)?,
            Kind::List(items) => {
                let _ = write!(self.out, "let mut __l = e.list_new({})?; ", items.len());
                for it in items {
                    self.bind("__v", it)?;
                    self.push("e.list_push(&mut __l, __v)?; ");
                }
                self.push("e.list_end(__l)");
            }
            Kind::Dict(pairs) => {
                let _ = write!(self.out, "let mut __m = e.dict_new({})?; ", pairs.len());
                for (k, v) in pairs {
                    self.bind("__k", k)?;
                    let _ = write!(
                        self.out,
                        "let __k = e.dict_key(__k, {})?; ",
                        range(&k.range)
                    );
                    self.bind("__v", v)?;
                    self.push("e.dict_insert(&mut __m, __k, __v)?; ");
                }
                self.push("e.dict_end(__m)");
            }
            Kind::Unary { op, operand } => {
                self.bind("__v", operand)?;
                let code = u8::from(*op != UnaryOp::Neg);
                let _ = write!(self.out, "e.unary({code}, __v)");
            }
            Kind::Binary { op, lhs, rhs } => {
                self.bind("__a", lhs)?;
                self.bind("__b", rhs)?;
                let code = BIN_OPS.iter().position(|o| o == op)?;
                let _ = write!(self.out, "e.binary({code}, __a, __b)");
            }
            Kind::And(a, b) | Kind::Or(a, b) => {
                let is_and = matches!(node.kind, Kind::And(..));
                self.bind("__x", a)?;
                let _ = write!(self.out, "if e.truthy(&__x) == {is_and} {{ ");
                self.node(b)?;
                self.push(" } else { e.keep(__x) }");
            }
            Kind::Not(x) => {
                self.bind("__v", x)?;
                self.push("e.not(__v)");
            }
            Kind::Compare { first, rest } => {
                self.bind("__l", first)?;
                for (op, n) in rest {
                    let code = CMP_OPS.iter().position(|o| o == op)?;
                    self.bind("__r", n)?;
                    let _ = write!(
                        self.out,
                        "if !e.compare({code}, &__l, &__r)? {{ return e.boolean(false); }} let __l = __r; "
                    );
                }
                self.push("let _ = __l; e.boolean(true)");
            }
            Kind::IfElse { then, cond, orelse } => {
                self.bind("__c", cond)?;
                self.push("if e.truthy(&__c) { ");
                self.node(then)?;
                self.push(" } else { ");
                self.node(orelse)?;
                self.push(" }");
            }
            Kind::ListComp { elt, gens } => {
                self.push("let mut __out = ::std::vec::Vec::new(); ");
                self.generators(gens, &mut |g| {
                    g.bind("__v", elt)?;
                    g.push("e.comp_push(&mut __out, __v)?; ");
                    Some(())
                })?;
                self.push("e.list_end(__out)");
            }
            Kind::DictComp { key, value, gens } => {
                self.push("let mut __m = e.map(); ");
                self.generators(gens, &mut |g| {
                    g.bind("__k", key)?;
                    let _ = write!(g.out, "let __k = e.dict_key(__k, {})?; ", range(&key.range));
                    g.bind("__v", value)?;
                    g.push("e.comp_insert(&mut __m, __k, __v)?; ");
                    Some(())
                })?;
                self.push("e.dict_end(__m)");
            }
            Kind::Lambda { params, body } => {
                if params.iter().any(|(p, _)| p == "function") {
                    return None;
                }
                let name = format!("__flowyt_lambda{}", self.lambdas);
                self.lambdas += 1;
                let _ = write!(
                    self.out,
                    "fn {name}<'a>(e: &mut __Eval<'a, '_>) -> ::core::result::Result<__V<'a>, __EvalError> {{ "
                );
                self.node(body)?;
                let names: Vec<String> = params.iter().map(|(p, _)| lit(p)).collect();
                let _ = write!(self.out, " }} e.lambda(&[{}], {name})", names.join(", "));
            }
        }
        Some(())
    }

    /// The `for` clauses of a comprehension from `gens[0]` on, `emit` innermost: statements.
    fn generators(
        &mut self,
        gens: &[super::ast::Generator],
        emit: &mut dyn FnMut(&mut Gen) -> Option<()>,
    ) -> Option<()> {
        let Some((g, rest)) = gens.split_first() else {
            return emit(self);
        };
        if g.targets.iter().any(|(t, _)| t == "function") {
            return None;
        }
        self.bind("__it", &g.iter)?;
        let names: Vec<String> = g.targets.iter().map(|(t, _)| lit(t)).collect();
        let _ = write!(
            self.out,
            "e.comp(__it, {}, &[{}], {}, &mut |e| {{ ",
            range(&g.iter.range),
            names.join(", "),
            g.unpack
        );
        for cond in &g.ifs {
            self.bind("__c", cond)?;
            self.push("if !e.truthy(&__c) { return ::core::result::Result::Ok(()); } ");
        }
        self.generators(rest, emit)?;
        self.push("::core::result::Result::Ok(()) })?; ");
        Some(())
    }

    /// A call, as the interpreter's `eval_call` dispatches it.
    fn call(&mut self, func: &Node, args: &[Node], kwargs: &[super::ast::Kwarg]) -> Option<()> {
        let fr = range(&func.range);
        if let Some(dotted) = func.dotted()
            && dotted.len() > 1
            && dotted.first() == Some(&"function")
        {
            // No local is named `function` (`to_rust` refuses such bindings): it is the root.
            let path = &dotted[1..];
            let full = format!("function.{}", path.join("."));
            if let Some(k) = kwargs.first() {
                let _ = write!(
                    self.out,
                    "e.registered_kwargs({}, {})",
                    lit(&full),
                    range(&k.name_range)
                );
                return Some(());
            }
            let _ = write!(
                self.out,
                "let mut __vs = ::std::vec::Vec::with_capacity({}); ",
                args.len()
            );
            for a in args {
                self.bind("__v", a)?;
                self.push("e.list_push(&mut __vs, __v)?; ");
            }
            let path: Vec<String> = path.iter().map(|p| lit(p)).collect();
            let _ = write!(
                self.out,
                "e.call_registered(&[{}], {}, {fr}, __vs)",
                path.join(", "),
                lit(&full)
            );
            return Some(());
        }
        match &func.kind {
            Kind::Attr { obj, name } => {
                self.bind("__o", obj)?;
                let _ = write!(
                    self.out,
                    "let __o = e.receiver(__o, {}, {fr})?; ",
                    lit(name)
                );
                self.args(args, kwargs)?;
                let _ = write!(self.out, "e.call_method(__o, {}, __as)", lit(name));
            }
            other => {
                self.bind("__f", func)?;
                self.args(args, kwargs)?;
                let name = match other {
                    Kind::Name(n) => format!("::core::option::Option::Some({})", lit(n)),
                    _ => "::core::option::Option::None".to_string(),
                };
                let _ = write!(self.out, "e.call_value(__f, {name}, {fr}, __as)");
            }
        }
        Some(())
    }

    /// `let mut __as = ...;` with every argument evaluated in order.
    fn args(&mut self, args: &[Node], kwargs: &[super::ast::Kwarg]) -> Option<()> {
        let _ = write!(
            self.out,
            "let mut __as = e.args({}, {}); ",
            args.len(),
            kwargs.len()
        );
        for a in args {
            self.bind("__v", a)?;
            self.push("e.arg(&mut __as, __v); ");
        }
        for k in kwargs {
            self.bind("__v", &k.value)?;
            let _ = write!(self.out, "e.kwarg(&mut __as, {}, __v); ", lit(&k.name));
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rust(src: &str) -> Option<RustSource> {
        Expr::parse(src).expect("parses").to_rust()
    }

    #[test]
    fn every_form_without_locals_compiles() {
        for src in [
            "request.qs.user",
            "[1, 'a', None, True, 2.5][-1]",
            "{'k': request.data}['k']",
            "'abc'[1:] + 'x'[::1]",
            "-n if not a or b and c else +n ** 2 // 3 % 4",
            "1 < n <= 7 != 8 and x in y and z not in w and q is None and r is not None",
            "function.students.approved(request.data, 6)",
            "'-'.join(['x', 'y']).upper()",
            "len(json.dumps({'a': 1}, indent=2))",
            "sorted([3, 1], reverse=True)",
        ] {
            assert!(rust(src).is_some(), "{src}");
        }
    }

    #[test]
    fn comprehensions_and_lambdas_compile_unless_they_shadow_function() {
        for src in [
            "[x for x in xs]",
            "{k: v for k, v in d.items() if v if k}",
            "sorted(xs, key=lambda s: len(s))",
            "[1, [x * y for x in xs for y in range(x)]]",
            "(lambda a, b: lambda c: a + b + c)(1, 2)(3)",
        ] {
            assert!(rust(src).is_some(), "{src}");
        }
        for src in [
            "[function for function in xs]",
            "(lambda function: function.x(1))(d)",
        ] {
            assert!(rust(src).is_none(), "{src}");
        }
    }

    #[test]
    fn literals_are_collected_in_the_order_the_body_reads_them() {
        let r = rust("['a', 1, 2.5, None]").expect("compiles");
        assert_eq!(
            r.consts,
            [
                Value::from("a"),
                Value::from(1),
                Value::from(2.5),
                Value::Null
            ]
        );
        assert!(r.body.contains("e.konst(&__C[0])"), "{}", r.body);
        assert!(r.body.contains("e.konst(&__C[3])"), "{}", r.body);
    }

    /// Stands for generated code: answers `True` whatever the expression.
    fn always_true<'a>(e: &mut Eval<'a, '_>) -> Result<V<'a>, EvalError> {
        e.boolean(true)
    }

    #[test]
    fn generated_code_attaches_only_to_the_tree_it_was_made_from() {
        struct NoScope;
        impl super::super::Scope for NoScope {
            fn root(&self, _: &str) -> Option<&Value> {
                None
            }
            fn call(&self, _: &[&str], _: Vec<Value>) -> Option<Result<Value, String>> {
                None
            }
        }
        let expr = Expr::parse("1 + 2").expect("parses");
        let generated = |source: &'static str, fingerprint: u64| Generated {
            source,
            fingerprint,
            run: always_true,
        };
        // Another source, or the same source parsed into another tree, stays interpreted.
        assert!(!expr.attach(&generated("1 + 3", expr.fingerprint())));
        assert!(!expr.attach(&generated("1 + 2", expr.fingerprint() ^ 1)));
        assert_eq!(
            expr.eval(&NoScope).map(|v| v.into_value()),
            Ok(Value::from(3))
        );
        assert_ne!(
            expr.fingerprint(),
            Expr::parse("1 - 2").expect("parses").fingerprint()
        );
        assert_eq!(
            expr.fingerprint(),
            Expr::parse("1 + 2").expect("parses").fingerprint()
        );
        assert!(expr.attach(&generated("1 + 2", expr.fingerprint())));
        assert_eq!(
            expr.eval(&NoScope).map(|v| v.into_value()),
            Ok(Value::Bool(true))
        );
    }

    #[test]
    fn too_deep_an_expression_stays_interpreted() {
        let deep = format!("{}1{}", "(".repeat(40), ")".repeat(40));
        let nested = format!("{}1{}", "[".repeat(40), "]".repeat(40));
        assert!(rust(&deep).is_some(), "parentheses add no node");
        assert!(rust(&nested).is_none());
    }
}
