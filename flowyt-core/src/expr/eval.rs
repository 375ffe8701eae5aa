//! Evaluation of an [`Expr`] against a [`Scope`].

use std::cmp::Ordering;
use std::fmt;
use std::ops::Range;
use std::rc::Rc;
use std::time::Instant;

use serde_json::{Map, Value};

use super::ast::{BinOp, CmpOp, Expr, Generator, Kind, Kwarg, Node, UnaryOp};
use super::builtins::Builtin;
use super::value::{Body, Closure, Func, Num, Params, Val, View, int_float_eq, view_value, weight};

/// What an expression can read: the context roots and the registered functions.
///
/// Names the scope does not know fall back to the builtins (`len`, `json`, ...), and then to
/// a missing value.
pub trait Scope {
    /// A context root such as `request`, `env`, `flow`; `None` if the scope has no such root
    /// (the expression then sees a missing value, or a builtin of that name).
    fn root(&self, name: &str) -> Option<&Value>;

    /// The member `member` of root `root` (`request.qs`), when both exist. Scopes that build
    /// a root's members lazily answer this without building the whole root; the default
    /// looks the member up in [`Scope::root`].
    fn root_member(&self, root: &str, member: &str) -> Option<&Value> {
        self.root(root)?.get(member)
    }

    /// Calls `function.<path>(args)`. `path` is what follows `function`, e.g.
    /// `["students", "approved_list"]`. Returns `None` if no such function is registered,
    /// `Some(Err(message))` if it failed. A missing argument is passed as `null`.
    fn call(&self, path: &[&str], args: Vec<Value>) -> Option<Result<Value, String>>;

    /// Calls a bare name that is not a root, a local or a builtin, such as `env('NAME')` in
    /// legacy settings. `None` (the default) means there is no such function.
    fn call_name(&self, name: &str, args: Vec<Value>) -> Option<Result<Value, String>> {
        let _ = (name, args);
        None
    }

    /// The bounds on evaluations in this scope, used by [`Expr::eval`] and
    /// [`Template::render`](super::Template::render). A run's scope sets a
    /// [`deadline`](EvalLimits::deadline) here so a long expression stops at the run's time limit.
    fn limits(&self) -> EvalLimits {
        EvalLimits::default()
    }
}

/// The result of evaluating an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Evaluated {
    /// A JSON value (floats stay floats: `10 * 5 / 2` is `25.0`).
    Value(Value),
    /// The expression is a path that does not resolve, e.g. `request.qs.user` without
    /// `?user=`; `path` is its source text.
    Missing {
        /// Source text of the missing path, e.g. `request.qs.user.name`.
        path: String,
    },
}

impl Evaluated {
    /// The value, with a missing value as `null` (Python `None`).
    pub fn into_value(self) -> Value {
        match self {
            Evaluated::Value(v) => v,
            Evaluated::Missing { .. } => Value::Null,
        }
    }

    /// Whether the expression was a path that did not resolve.
    pub fn is_missing(&self) -> bool {
        matches!(self, Evaluated::Missing { .. })
    }
}

/// An expression that failed at run time.
///
/// Ranges are byte ranges in the string that was parsed: the expression source for
/// [`Expr::eval`], the whole template for [`Template::render`](super::Template::render).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalError {
    /// A missing value was used where a value is needed: spliced into text, in arithmetic,
    /// `len()`, iteration, a method call.
    Missing {
        /// Source text of the missing path, e.g. `request.qs.user`.
        path: String,
        /// Where the path is.
        range: Option<Range<usize>>,
    },
    /// Any other error: a type error, `division by zero`, an unknown function, ...
    Failed {
        /// One-line lowercase message, names in backticks.
        message: String,
        /// The smallest enclosing expression that failed.
        range: Option<Range<usize>>,
    },
    /// A resource bound of [`EvalLimits`] was hit.
    LimitExceeded {
        /// Which bound, e.g. "expression evaluation budget exceeded".
        message: String,
        /// Where evaluation was when the bound was hit.
        range: Option<Range<usize>>,
    },
}

/// The message of the [`EvalError::LimitExceeded`] an evaluation past its deadline gives.
const TIME_LIMIT_MESSAGE: &str =
    "the run's time limit was reached while evaluating this expression";

impl EvalError {
    /// Whether evaluation stopped because the run's deadline passed (rather than on a
    /// resource bound of the expression itself).
    pub fn is_time_limit(&self) -> bool {
        matches!(self, EvalError::LimitExceeded { message, .. } if message == TIME_LIMIT_MESSAGE)
    }

    /// Whether a resource bound of [`EvalLimits`] stopped evaluation (steps, sizes, depth, or
    /// the deadline).
    pub fn is_limit(&self) -> bool {
        matches!(self, EvalError::LimitExceeded { .. })
    }

    pub(super) fn failed(message: impl Into<String>) -> EvalError {
        EvalError::Failed {
            message: message.into(),
            range: None,
        }
    }

    pub(super) fn limit(message: impl Into<String>) -> EvalError {
        EvalError::LimitExceeded {
            message: message.into(),
            range: None,
        }
    }

    /// The byte range the error points at, if known.
    pub fn range(&self) -> Option<&Range<usize>> {
        match self {
            EvalError::Missing { range, .. }
            | EvalError::Failed { range, .. }
            | EvalError::LimitExceeded { range, .. } => range.as_ref(),
        }
    }

    fn range_mut(&mut self) -> &mut Option<Range<usize>> {
        match self {
            EvalError::Missing { range, .. }
            | EvalError::Failed { range, .. }
            | EvalError::LimitExceeded { range, .. } => range,
        }
    }

    /// Sets the range unless a more precise one is already known.
    pub(super) fn at(mut self, range: &Range<usize>) -> EvalError {
        let r = self.range_mut();
        if r.is_none() {
            *r = Some(range.clone());
        }
        self
    }

    /// Shifts the range by `by` bytes, for an expression embedded in a larger source.
    pub(crate) fn offset(mut self, by: usize) -> EvalError {
        if let Some(r) = self.range_mut() {
            *r = r.start + by..r.end + by;
        }
        self
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::Missing { path, .. } => write!(f, "`{path}` is missing"),
            EvalError::Failed { message, .. } | EvalError::LimitExceeded { message, .. } => {
                f.write_str(message)
            }
        }
    }
}

impl std::error::Error for EvalError {}

/// Bounds on one evaluation, so hostile expressions fail fast instead of hanging or
/// allocating without limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalLimits {
    /// Node visits and loop iterations (default 1,000,000).
    pub max_steps: u64,
    /// Length in bytes of any string the expression builds (default 16 MiB).
    pub max_string_bytes: usize,
    /// Number of items of any list or dict the expression builds (default 1,000,000).
    pub max_items: usize,
    /// Approximate bytes of all values built or copied during the evaluation (default 256 MiB).
    pub max_alloc_bytes: u64,
    /// Nesting of evaluation, including `lambda` calls (default 150). Parsing already bounds
    /// the height of a tree to 100, so this only matters for recursive `lambda`s. A level
    /// takes up to ~7 KiB of stack in an unoptimised build, far less in a release build.
    pub max_depth: usize,
    /// Nesting of `lambda` calls (default 32), e.g. a `lambda` that calls itself through
    /// its argument.
    pub max_call_depth: usize,
    /// A point in time the evaluation must not run past (default none), checked every few
    /// thousand steps, so a CPU-heavy expression ends at its run's time limit.
    pub deadline: Option<Instant>,
}

/// Steps between two looks at the clock when a deadline is set.
const CLOCK_EVERY: u64 = 4096;

impl Default for EvalLimits {
    fn default() -> EvalLimits {
        EvalLimits {
            max_steps: 1_000_000,
            max_string_bytes: 16 << 20,
            max_items: 1_000_000,
            max_alloc_bytes: 256 << 20,
            max_depth: 150,
            max_call_depth: 32,
            deadline: None,
        }
    }
}

impl Expr {
    /// Evaluates the expression with the scope's [`EvalLimits`] ([`Scope::limits`]).
    ///
    /// A path that does not resolve gives [`Evaluated::Missing`]; errors point into
    /// [`Expr::source`].
    pub fn eval(&self, scope: &dyn Scope) -> Result<Evaluated, EvalError> {
        self.eval_with(scope, &scope.limits())
    }

    /// Evaluates the expression with explicit limits.
    pub fn eval_with(
        &self,
        scope: &dyn Scope,
        limits: &EvalLimits,
    ) -> Result<Evaluated, EvalError> {
        let mut ctx = Ctx::new(&self.src, scope, *limits);
        let v = self.run(&mut ctx)?;
        ctx.finish(v).map_err(|e| e.at(&self.root.range))
    }

    /// Evaluates the whole expression in `ctx`: the code `flow!` generated for it, or the
    /// tree.
    pub(super) fn run<'a>(&'a self, ctx: &mut Ctx<'a>) -> EResult<Val<'a>> {
        match self.compiled.get() {
            Some(f) => super::compile::run(*f, ctx),
            None => ctx.eval(&self.root),
        }
    }
}

/// The state of one evaluation.
pub(super) struct Ctx<'a> {
    pub src: &'a str,
    pub scope: &'a dyn Scope,
    pub limits: EvalLimits,
    steps: u64,
    /// The step count at which to look at the clock next (when there is a deadline).
    next_clock: u64,
    alloc: u64,
    depth: usize,
    calls: usize,
    locals: Vec<(&'a str, Val<'a>)>,
}

type EResult<T> = Result<T, EvalError>;
type EvalFn<'a> = fn(&mut Ctx<'a>, &'a Node) -> EResult<Val<'a>>;
type CallFn<'a> = fn(&mut Ctx<'a>, &'a Node, &'a [Node], &'a [Kwarg]) -> EResult<Val<'a>>;

/// The dispatcher and the function it picked disagree; cannot happen.
#[cold]
fn wrong_kind() -> EvalError {
    EvalError::failed("internal error: unexpected expression kind")
}

/// The error of a keyword argument passed to `function.*`.
pub(super) fn registered_kwargs(full: &str, range: &Range<usize>) -> EvalError {
    EvalError::failed(format!("keyword arguments are not supported for `{full}`")).at(range)
}

/// The receiver of a method call (see [`Ctx::receiver`]).
pub(super) enum Receiver<'a> {
    /// A builtin's attribute, such as `json.dumps`.
    Builtin(Builtin),
    /// Any other value: a method of its type.
    Value(Val<'a>),
}

/// Items of an iterable value, borrowed where the iterable is borrowed.
pub(super) enum Items<'a> {
    Borrowed(std::slice::Iter<'a, Value>),
    Owned(std::vec::IntoIter<Value>),
    BorrowedKeys(serde_json::map::Keys<'a>),
    OwnedKeys(std::vec::IntoIter<String>),
    BorrowedChars(std::str::Chars<'a>),
    OwnedChars(std::vec::IntoIter<char>),
}

impl<'a> Iterator for Items<'a> {
    type Item = Val<'a>;

    fn next(&mut self) -> Option<Val<'a>> {
        Some(match self {
            Items::Borrowed(it) => Val::Ref(it.next()?),
            Items::Owned(it) => Val::Owned(it.next()?),
            Items::BorrowedKeys(it) => Val::StrRef(it.next()?),
            Items::OwnedKeys(it) => Val::str(it.next()?),
            Items::BorrowedChars(it) => Val::str(it.next()?.to_string()),
            Items::OwnedChars(it) => Val::str(it.next()?.to_string()),
        })
    }
}

impl<'a> Ctx<'a> {
    pub(super) fn new(src: &'a str, scope: &'a dyn Scope, limits: EvalLimits) -> Ctx<'a> {
        Ctx {
            src,
            scope,
            limits,
            steps: 0,
            next_clock: CLOCK_EVERY,
            alloc: 0,
            depth: 0,
            calls: 0,
            locals: Vec::new(),
        }
    }

    // ---- budget --------------------------------------------------------------------

    #[inline]
    pub(super) fn step(&mut self, n: u64) -> EResult<()> {
        self.steps = self.steps.saturating_add(n);
        if self.steps > self.limits.max_steps {
            return Err(EvalError::limit("expression evaluation budget exceeded"));
        }
        if self.steps >= self.next_clock {
            self.next_clock = self.steps.saturating_add(CLOCK_EVERY);
            if self.limits.deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(EvalError::limit(TIME_LIMIT_MESSAGE));
            }
        }
        Ok(())
    }

    /// Records `bytes` more bytes of built or copied data.
    pub(super) fn charge(&mut self, bytes: u64) -> EResult<()> {
        self.alloc = self.alloc.saturating_add(bytes);
        if self.alloc > self.limits.max_alloc_bytes {
            return Err(EvalError::limit(
                "expression evaluation used too much memory",
            ));
        }
        Ok(())
    }

    /// Checks a string about to be built.
    pub(super) fn check_str_len(&mut self, len: usize) -> EResult<()> {
        if len > self.limits.max_string_bytes {
            return Err(EvalError::limit(format!(
                "string too large: {len} bytes (limit {})",
                self.limits.max_string_bytes
            )));
        }
        self.charge(len as u64)
    }

    /// Checks the length of a list or dict being built.
    pub(super) fn check_items(&self, n: usize) -> EResult<()> {
        if n > self.limits.max_items {
            return Err(EvalError::limit(format!(
                "list too large: {n} items (limit {})",
                self.limits.max_items
            )));
        }
        Ok(())
    }

    /// Checks and charges for a list or dict of `n` items about to be built.
    pub(super) fn alloc_items(&mut self, n: usize) -> EResult<()> {
        self.check_items(n)?;
        self.charge(n as u64 * 16)
    }

    /// Clones a borrowed value, charging for it.
    pub(super) fn clone_value(&mut self, v: &Value) -> EResult<Value> {
        let remaining = self.limits.max_alloc_bytes.saturating_sub(self.alloc);
        let w = weight(v, remaining);
        self.charge(w)?;
        Ok(v.clone())
    }

    // ---- conversions ---------------------------------------------------------------

    pub(super) fn missing_err(&self, range: &Range<usize>) -> EvalError {
        let path = self.src.get(range.clone()).unwrap_or("").to_string();
        EvalError::Missing {
            path,
            range: Some(range.clone()),
        }
    }

    /// The view of a value that must not be missing.
    #[inline]
    pub(super) fn need<'v>(&self, v: &'v Val<'a>) -> EResult<View<'v>> {
        match v {
            Val::Missing(r) => Err(self.missing_err(r)),
            other => Ok(other.view()),
        }
    }

    /// Turns a value into JSON to store it in a list, dict or argument. A missing value
    /// becomes `null` there.
    pub(super) fn materialize(&mut self, v: Val<'a>) -> EResult<Value> {
        Ok(match v {
            Val::None | Val::Missing(_) => Value::Null,
            Val::Bool(b) => Value::Bool(b),
            Val::Int(i) => Value::from(i),
            Val::Float(f) => float_value(f)?,
            Val::StrRef(s) => {
                self.charge(s.len() as u64)?;
                Value::String(s.to_string())
            }
            Val::Ref(v) => self.clone_value(v)?,
            Val::Owned(v) => v,
            Val::Shared(rc) => match Rc::try_unwrap(rc) {
                Ok(v) => v,
                Err(rc) => self.clone_value(&rc)?,
            },
            Val::Func(f) => return Err(func_not_value(&f)),
        })
    }

    /// The final result: only here is a borrowed value cloned without charge.
    pub(super) fn finish(&mut self, v: Val<'a>) -> EResult<Evaluated> {
        Ok(match v {
            Val::Missing(r) => Evaluated::Missing {
                path: self.src.get(r).unwrap_or("").to_string(),
            },
            Val::Ref(v) => Evaluated::Value(v.clone()),
            Val::Shared(rc) => {
                Evaluated::Value(Rc::try_unwrap(rc).unwrap_or_else(|rc| (*rc).clone()))
            }
            other => Evaluated::Value(self.materialize(other)?),
        })
    }

    /// Iterates a list (items), a dict (keys) or a string (characters).
    pub(super) fn iterate(&mut self, v: Val<'a>) -> EResult<Items<'a>> {
        match v {
            Val::Missing(r) => Err(self.missing_err(&r)),
            Val::StrRef(s) => Ok(Items::BorrowedChars(s.chars())),
            Val::Ref(Value::Array(a)) => Ok(Items::Borrowed(a.iter())),
            Val::Ref(Value::Object(m)) => Ok(Items::BorrowedKeys(m.keys())),
            Val::Ref(Value::String(s)) => Ok(Items::BorrowedChars(s.chars())),
            Val::Owned(v) => owned_items(v),
            Val::Shared(rc) => {
                let v = match Rc::try_unwrap(rc) {
                    Ok(v) => v,
                    Err(rc) => self.clone_value(&rc)?,
                };
                owned_items(v)
            }
            other => Err(EvalError::failed(format!(
                "`{}` object is not iterable",
                other.view().type_name()
            ))),
        }
    }

    /// Collects an iterable into values, charging one step per item.
    pub(super) fn collect(&mut self, v: Val<'a>) -> EResult<Vec<Val<'a>>> {
        let mut out = Vec::new();
        for item in self.iterate(v)? {
            self.step(1)?;
            if out.len() >= self.limits.max_items {
                self.check_items(out.len() + 1)?;
            }
            out.push(item);
        }
        Ok(out)
    }

    // ---- evaluation ----------------------------------------------------------------

    pub(super) fn eval(&mut self, node: &'a Node) -> EResult<Val<'a>> {
        self.enter(&node.range)?;
        let r = self.eval_kind(node);
        self.leave(r, &node.range)
    }

    /// What evaluating any node starts with: a step of the budget and a level of depth.
    /// Generated code (`compile`) calls it too.
    #[inline]
    pub(super) fn enter(&mut self, range: &Range<usize>) -> EResult<()> {
        self.step(1).map_err(|e| e.at(range))?;
        if self.depth >= self.limits.max_depth {
            return Err(EvalError::limit("maximum recursion depth exceeded").at(range));
        }
        self.depth += 1;
        Ok(())
    }

    /// What evaluating any node ends with, after [`Ctx::enter`].
    pub(super) fn leave(&mut self, r: EResult<Val<'a>>, range: &Range<usize>) -> EResult<Val<'a>> {
        self.exit();
        r.map_err(|e| e.at(range))
    }

    /// The level of depth [`Ctx::enter`] took, given back.
    #[inline]
    pub(super) fn exit(&mut self) {
        self.depth -= 1;
    }

    /// Dispatches on the node kind. Every arm is a separate function so that this frame,
    /// which sits on the stack once per nesting level, stays small (debug builds do not
    /// share stack slots between arms).
    fn eval_kind(&mut self, node: &'a Node) -> EResult<Val<'a>> {
        // One call site through a function pointer: unoptimised builds give every call
        // site its own stack slots, and this frame sits on the stack once per level.
        let form: EvalFn<'a> = match &node.kind {
            Kind::Const(_) | Kind::Name(_) | Kind::Lambda { .. } => Self::eval_leaf,
            Kind::Attr { .. } => Self::eval_attr,
            Kind::Index { .. } => Self::eval_index,
            Kind::Slice { .. } => Self::eval_slice,
            Kind::Call { .. } => Self::eval_call,
            Kind::List(_) => Self::eval_list,
            Kind::Dict(_) => Self::eval_dict,
            Kind::Unary { .. } => Self::eval_unary,
            Kind::Binary { .. } => Self::eval_binary,
            Kind::And(..) | Kind::Or(..) => Self::eval_bool_op,
            Kind::Not(_) => Self::eval_not,
            Kind::Compare { .. } => Self::eval_compare,
            Kind::IfElse { .. } => Self::eval_if,
            Kind::ListComp { .. } => Self::eval_list_comp,
            Kind::DictComp { .. } => Self::eval_dict_comp,
        };
        form(self, node)
    }

    fn eval_leaf(&mut self, node: &'a Node) -> EResult<Val<'a>> {
        match &node.kind {
            Kind::Const(v) => Ok(Val::Ref(v)),
            Kind::Name(n) => Ok(self.lookup(n, &node.range)),
            Kind::Lambda { params, body } => Ok(self.make_lambda(params, body)),
            _ => Err(wrong_kind()),
        }
    }

    fn eval_attr(&mut self, node: &'a Node) -> EResult<Val<'a>> {
        let Kind::Attr { obj, name } = &node.kind else {
            return Err(wrong_kind());
        };
        let range = &node.range;
        if let Kind::Name(root) = &obj.kind
            && let Some(v) = self.root_member(root, name)
        {
            return Ok(v);
        }
        let base = self.eval(obj)?;
        self.get_attr(base, name, range)
    }

    /// `root.member`, asked of the scope directly so that a lazily built root builds only
    /// that member; `None` for a local or a missing root (the general path).
    #[inline]
    pub(super) fn root_member(&self, root: &str, name: &str) -> Option<Val<'a>> {
        if self.is_local(root) {
            return None;
        }
        self.scope.root_member(root, name).map(Val::Ref)
    }

    fn eval_index(&mut self, node: &'a Node) -> EResult<Val<'a>> {
        let Kind::Index { obj, index } = &node.kind else {
            return Err(wrong_kind());
        };
        let range = &node.range;
        let base = self.eval(obj)?;
        let index = self.eval(index)?;
        self.get_item(base, index, range)
    }

    fn eval_list(&mut self, node: &'a Node) -> EResult<Val<'a>> {
        let Kind::List(items) = &node.kind else {
            return Err(wrong_kind());
        };
        self.alloc_items(items.len())?;
        let mut out = Vec::with_capacity(items.len());
        for it in items {
            let v = self.eval(it)?;
            out.push(self.materialize(v)?);
        }
        Ok(Val::list(out))
    }

    fn eval_dict(&mut self, node: &'a Node) -> EResult<Val<'a>> {
        let Kind::Dict(pairs) = &node.kind else {
            return Err(wrong_kind());
        };
        self.alloc_items(pairs.len())?;
        let mut map = Map::new();
        for (k, v) in pairs {
            let key = self.eval(k)?;
            let key = self.dict_key(key).map_err(|e| e.at(&k.range))?;
            let value = self.eval(v)?;
            map.insert(key, self.materialize(value)?);
        }
        Ok(Val::Owned(Value::Object(map)))
    }

    fn eval_unary(&mut self, node: &'a Node) -> EResult<Val<'a>> {
        let Kind::Unary { op, operand } = &node.kind else {
            return Err(wrong_kind());
        };
        let v = self.eval(operand)?;
        self.unary(*op, v)
    }

    fn eval_binary(&mut self, node: &'a Node) -> EResult<Val<'a>> {
        let Kind::Binary { op, lhs, rhs } = &node.kind else {
            return Err(wrong_kind());
        };
        let a = self.eval(lhs)?;
        let b = self.eval(rhs)?;
        self.binary(*op, a, b)
    }

    /// `and` and `or`, returning an operand as Python does.
    fn eval_bool_op(&mut self, node: &'a Node) -> EResult<Val<'a>> {
        let (is_and, a, b) = match &node.kind {
            Kind::And(a, b) => (true, a, b),
            Kind::Or(a, b) => (false, a, b),
            _ => return Err(wrong_kind()),
        };
        let x = self.eval(a)?;
        if x.view().truthy() == is_and {
            self.eval(b)
        } else {
            Ok(x)
        }
    }

    fn eval_not(&mut self, node: &'a Node) -> EResult<Val<'a>> {
        let Kind::Not(x) = &node.kind else {
            return Err(wrong_kind());
        };
        let v = self.eval(x)?;
        Ok(Val::Bool(!v.view().truthy()))
    }

    fn eval_compare(&mut self, node: &'a Node) -> EResult<Val<'a>> {
        let Kind::Compare { first, rest } = &node.kind else {
            return Err(wrong_kind());
        };
        let mut left = self.eval(first)?;
        for (op, n) in rest {
            let right = self.eval(n)?;
            if !self.compare(*op, &left, &right)? {
                return Ok(Val::Bool(false));
            }
            left = right;
        }
        Ok(Val::Bool(true))
    }

    fn eval_if(&mut self, node: &'a Node) -> EResult<Val<'a>> {
        let Kind::IfElse { then, cond, orelse } = &node.kind else {
            return Err(wrong_kind());
        };
        let c = self.eval(cond)?;
        if c.view().truthy() {
            self.eval(then)
        } else {
            self.eval(orelse)
        }
    }

    fn eval_list_comp(&mut self, node: &'a Node) -> EResult<Val<'a>> {
        let Kind::ListComp { elt, gens } = &node.kind else {
            return Err(wrong_kind());
        };
        let mut out = Vec::new();
        self.generators(gens, &mut |ctx| {
            let v = ctx.eval(elt)?;
            ctx.comp_push(&mut out, v)
        })?;
        Ok(Val::list(out))
    }

    /// A list comprehension's element.
    pub(super) fn comp_push(&mut self, out: &mut Vec<Value>, v: Val<'a>) -> EResult<()> {
        let v = self.materialize(v)?;
        self.check_items(out.len() + 1)?;
        self.charge(16)?;
        out.push(v);
        Ok(())
    }

    /// A dict comprehension's entry.
    pub(super) fn comp_insert(
        &mut self,
        map: &mut Map<String, Value>,
        k: String,
        v: Val<'a>,
    ) -> EResult<()> {
        let v = self.materialize(v)?;
        self.check_items(map.len() + 1)?;
        self.charge(16)?;
        map.insert(k, v);
        Ok(())
    }

    fn eval_dict_comp(&mut self, node: &'a Node) -> EResult<Val<'a>> {
        let Kind::DictComp { key, value, gens } = &node.kind else {
            return Err(wrong_kind());
        };
        let mut map = Map::new();
        self.generators(gens, &mut |ctx| {
            let k = ctx.eval(key)?;
            let k = ctx.dict_key(k).map_err(|e| e.at(&key.range))?;
            let v = ctx.eval(value)?;
            ctx.comp_insert(&mut map, k, v)
        })?;
        Ok(Val::Owned(Value::Object(map)))
    }

    fn make_lambda(&mut self, params: &'a [(String, Range<usize>)], body: &'a Node) -> Val<'a> {
        self.lambda(Params::Tree(params), Body::Tree(body))
    }

    /// A `lambda` value, capturing the local variables.
    pub(super) fn lambda(&mut self, params: Params<'a>, body: Body<'a>) -> Val<'a> {
        let env = self.locals.clone();
        Val::Func(Func::Lambda(Rc::new(Closure { params, body, env })))
    }

    #[inline]
    pub(super) fn lookup(&self, name: &'a str, range: &Range<usize>) -> Val<'a> {
        if let Some((_, v)) = self.locals.iter().rev().find(|(n, _)| *n == name) {
            return v.clone();
        }
        if let Some(v) = self.scope.root(name) {
            return Val::Ref(v);
        }
        if let Some(b) = Builtin::from_name(name) {
            return Val::Func(Func::Builtin(b));
        }
        Val::Missing(range.clone())
    }

    #[inline]
    pub(super) fn is_local(&self, name: &str) -> bool {
        self.locals.iter().any(|(n, _)| *n == name)
    }

    pub(super) fn dict_key(&mut self, key: Val<'a>) -> EResult<String> {
        match key.view() {
            View::Str(s) => {
                self.charge(s.len() as u64)?;
                Ok(s.to_string())
            }
            View::Missing(r) => Err(self.missing_err(r)),
            other => Err(EvalError::failed(format!(
                "dict keys must be strings, not `{}`",
                other.type_name()
            ))),
        }
    }

    /// Runs the `for`/`if` clauses of a comprehension, calling `emit` for every binding.
    fn generators(
        &mut self,
        gens: &'a [Generator],
        emit: &mut dyn FnMut(&mut Ctx<'a>) -> EResult<()>,
    ) -> EResult<()> {
        let Some((g, rest)) = gens.split_first() else {
            return emit(self);
        };
        let iterable = self.eval(&g.iter)?;
        self.each_item(iterable, &g.iter.range, &mut |ctx, item| {
            ctx.bind_and_run(g, item, rest, emit)
        })
    }

    /// One `for` clause: `f` for every item of `iterable`, each a step, with the local
    /// variables it binds dropped after it.
    pub(super) fn each_item(
        &mut self,
        iterable: Val<'a>,
        iter_range: &Range<usize>,
        f: &mut dyn FnMut(&mut Ctx<'a>, Val<'a>) -> EResult<()>,
    ) -> EResult<()> {
        let items = self.iterate(iterable).map_err(|e| e.at(iter_range))?;
        for item in items {
            self.step(1)?;
            let mark = self.locals.len();
            let r = f(self, item);
            self.locals.truncate(mark);
            r?;
        }
        Ok(())
    }

    fn bind_and_run(
        &mut self,
        g: &'a Generator,
        item: Val<'a>,
        rest: &'a [Generator],
        emit: &mut dyn FnMut(&mut Ctx<'a>) -> EResult<()>,
    ) -> EResult<()> {
        self.bind(g.targets.iter().map(|(n, _)| n.as_str()), g.unpack, item)?;
        for cond in &g.ifs {
            if !self.eval(cond)?.view().truthy() {
                return Ok(());
            }
        }
        self.generators(rest, emit)
    }

    /// Binds loop variables, unpacking `for k, v in pairs`.
    pub(super) fn bind(
        &mut self,
        mut targets: impl ExactSizeIterator<Item = &'a str>,
        unpack: bool,
        item: Val<'a>,
    ) -> EResult<()> {
        if !unpack {
            if let Some(name) = targets.next() {
                self.locals.push((name, item.into_local()));
            }
            return Ok(());
        }
        let type_name = item.view().type_name();
        let values = match item {
            Val::Missing(r) => return Err(self.missing_err(&r)),
            Val::Ref(Value::Array(_) | Value::String(_) | Value::Object(_))
            | Val::Owned(Value::Array(_) | Value::String(_) | Value::Object(_))
            | Val::Shared(_)
            | Val::StrRef(_) => self.collect(item)?,
            _ => {
                return Err(EvalError::failed(format!(
                    "cannot unpack non-iterable `{type_name}` object"
                )));
            }
        };
        if values.len() != targets.len() {
            return Err(EvalError::failed(format!(
                "expected {} values to unpack, got {}",
                targets.len(),
                values.len()
            )));
        }
        for (name, v) in targets.zip(values) {
            self.locals.push((name, v.into_local()));
        }
        Ok(())
    }

    // ---- access --------------------------------------------------------------------

    #[inline]
    pub(super) fn get_attr(
        &mut self,
        base: Val<'a>,
        name: &str,
        range: &Range<usize>,
    ) -> EResult<Val<'a>> {
        match base {
            Val::Func(Func::Builtin(b)) => match b.attr(name) {
                Some(f) => Ok(Val::Func(Func::Builtin(f))),
                None => Err(EvalError::failed(format!(
                    "`{}` has no attribute `{name}`",
                    b.name()
                ))),
            },
            other => self.get_key(other, name, range),
        }
    }

    /// `base[key]` / `base.key` on a dict; anything else is missing.
    #[inline]
    fn get_key(&mut self, base: Val<'a>, key: &str, range: &Range<usize>) -> EResult<Val<'a>> {
        let missing = || Val::Missing(range.clone());
        Ok(match base {
            Val::Ref(Value::Object(m)) => m.get(key).map_or_else(missing, Val::Ref),
            Val::Owned(Value::Object(mut m)) => m.remove(key).map_or_else(missing, Val::Owned),
            Val::Shared(rc) => match &*rc {
                Value::Object(m) => match m.get(key) {
                    Some(v) => Val::Owned(self.clone_value(v)?),
                    None => missing(),
                },
                _ => missing(),
            },
            _ => missing(),
        })
    }

    pub(super) fn get_item(
        &mut self,
        base: Val<'a>,
        index: Val<'a>,
        range: &Range<usize>,
    ) -> EResult<Val<'a>> {
        let missing = Val::Missing(range.clone());
        if let View::Str(k) = index.view() {
            return self.get_key(base, k, range);
        }
        let Some(i) = index.view().int() else {
            return Ok(missing);
        };
        let list_len = match base.view() {
            View::List(items) => Some(items.len()),
            _ => None,
        };
        if let Some(len) = list_len {
            let Some(at) = normalize_index(i, len) else {
                return Ok(missing);
            };
            return Ok(match base {
                Val::Ref(Value::Array(a)) => a.get(at).map_or(missing, Val::Ref),
                Val::Owned(Value::Array(a)) => a.into_iter().nth(at).map_or(missing, Val::Owned),
                Val::Shared(rc) => match rc.as_array().and_then(|a| a.get(at)) {
                    Some(v) => Val::Owned(self.clone_value(v)?),
                    None => missing,
                },
                _ => missing,
            });
        }
        match base.view() {
            View::Str(s) => {
                let n = s.chars().count();
                Ok(
                    match normalize_index(i, n).and_then(|at| s.chars().nth(at)) {
                        Some(c) => Val::str(c.to_string()),
                        None => missing,
                    },
                )
            }
            _ => Ok(missing),
        }
    }

    fn eval_slice(&mut self, node: &'a Node) -> EResult<Val<'a>> {
        let Kind::Slice { obj, lo, hi, step } = &node.kind else {
            return Err(wrong_kind());
        };
        let range = &node.range;
        let base = self.eval(obj)?;
        let bound = |ctx: &mut Ctx<'a>, n: &'a Option<Box<Node>>| -> EResult<Option<i64>> {
            let Some(n) = n else { return Ok(None) };
            let v = ctx.eval(n)?;
            ctx.slice_bound(v, &n.range)
        };
        let lo = bound(self, lo)?;
        let hi = bound(self, hi)?;
        let step = bound(self, step)?;
        self.slice(base, lo, hi, step, range)
    }

    /// A slice bound's value: an integer, or `None` for no bound.
    pub(super) fn slice_bound(&self, v: Val<'a>, range: &Range<usize>) -> EResult<Option<i64>> {
        match v.view() {
            View::None => Ok(None),
            View::Missing(r) => Err(self.missing_err(r)),
            other => other.int().map(Some).ok_or_else(|| {
                EvalError::failed(format!(
                    "slice indices must be integers or `None`, not `{}`",
                    other.type_name()
                ))
                .at(range)
            }),
        }
    }

    /// `base[lo:hi:step]` once the bounds are known.
    pub(super) fn slice(
        &mut self,
        base: Val<'a>,
        lo: Option<i64>,
        hi: Option<i64>,
        step: Option<i64>,
        range: &Range<usize>,
    ) -> EResult<Val<'a>> {
        let step = step.unwrap_or(1);
        if step == 0 {
            return Err(EvalError::failed("slice step cannot be zero"));
        }
        match base.view() {
            View::List(items) => {
                let picked = slice_positions(items.len(), lo, hi, step);
                self.alloc_items(picked.len())?;
                let mut out = Vec::with_capacity(picked.len());
                for at in picked {
                    if let Some(v) = items.get(at) {
                        out.push(self.clone_value(v)?);
                    }
                }
                Ok(Val::list(out))
            }
            View::Str(s) => {
                let chars: Vec<char> = s.chars().collect();
                let picked = slice_positions(chars.len(), lo, hi, step);
                let out: String = picked.into_iter().filter_map(|at| chars.get(at)).collect();
                self.check_str_len(out.len())?;
                Ok(Val::str(out))
            }
            _ => Ok(Val::Missing(range.clone())),
        }
    }

    // ---- calls ---------------------------------------------------------------------

    fn eval_call(&mut self, node: &'a Node) -> EResult<Val<'a>> {
        let Kind::Call { func, args, kwargs } = &node.kind else {
            return Err(wrong_kind());
        };
        // Picked up front so that only one call site sits on the recursion path.
        let form: CallFn<'a> = if self.is_registered_call(func) {
            Self::call_registered
        } else if matches!(func.kind, Kind::Attr { .. }) {
            Self::eval_method_call
        } else {
            Self::call_value
        };
        form(self, func, args, kwargs)
    }

    /// `function.m.f(...)`, unless a local variable named `function` shadows the root.
    fn is_registered_call(&self, func: &Node) -> bool {
        func.dotted()
            .is_some_and(|p| p.len() > 1 && p.first() == Some(&"function"))
            && !self.is_local("function")
    }

    fn eval_method_call(
        &mut self,
        func: &'a Node,
        args: &'a [Node],
        kwargs: &'a [Kwarg],
    ) -> EResult<Val<'a>> {
        let Kind::Attr { obj, name } = &func.kind else {
            return Err(wrong_kind());
        };
        let recv = self.eval(obj)?;
        let recv = self.receiver(recv, name, &func.range)?;
        let (args, kwargs) = self.eval_args(args, kwargs)?;
        self.call_on(recv, name, args, kwargs)
    }

    /// What `recv.name(...)` calls, checked before its arguments are evaluated.
    pub(super) fn receiver(
        &self,
        recv: Val<'a>,
        name: &str,
        func_range: &Range<usize>,
    ) -> EResult<Receiver<'a>> {
        match recv {
            Val::Missing(r) => Err(self.missing_err(&r)),
            Val::Func(Func::Builtin(b)) => b.attr(name).map(Receiver::Builtin).ok_or_else(|| {
                EvalError::failed(format!("`{}` has no attribute `{name}`", b.name()))
                    .at(func_range)
            }),
            Val::Func(Func::Lambda(_)) => Err(EvalError::failed(format!(
                "`function` has no method `{name}`"
            ))),
            recv => Ok(Receiver::Value(recv)),
        }
    }

    /// Calls `name` on a [`Ctx::receiver`] with evaluated arguments.
    pub(super) fn call_on(
        &mut self,
        recv: Receiver<'a>,
        name: &str,
        args: Vec<Val<'a>>,
        kwargs: Vec<(&'a str, Val<'a>)>,
    ) -> EResult<Val<'a>> {
        match recv {
            Receiver::Builtin(f) => self.call_builtin(f, args, kwargs),
            Receiver::Value(recv) => self.call_method(recv, name, args, kwargs),
        }
    }

    fn call_value(
        &mut self,
        func: &'a Node,
        args: &'a [Node],
        kwargs: &'a [Kwarg],
    ) -> EResult<Val<'a>> {
        let callee = self.eval(func)?;
        let (args, kwargs) = self.eval_args(args, kwargs)?;
        let name = match &func.kind {
            Kind::Name(n) => Some(n.as_str()),
            _ => None,
        };
        self.call_callee(callee, name, &func.range, args, kwargs)
    }

    /// Calls an evaluated callee; `name` is the callee's name when it is written as one (a
    /// missing name may be a function of the scope).
    pub(super) fn call_callee(
        &mut self,
        callee: Val<'a>,
        name: Option<&str>,
        func_range: &Range<usize>,
        args: Vec<Val<'a>>,
        kwargs: Vec<(&'a str, Val<'a>)>,
    ) -> EResult<Val<'a>> {
        match callee {
            Val::Func(f) => self.call_func(&f, args, kwargs),
            Val::Missing(r) => {
                if let Some(n) = name
                    && r == *func_range
                {
                    return self.call_scope_name(n, func_range, args, kwargs);
                }
                Err(self.missing_err(&r))
            }
            other => Err(EvalError::failed(format!(
                "`{}` object is not callable",
                other.view().type_name()
            ))
            .at(func_range)),
        }
    }

    #[allow(clippy::type_complexity)]
    pub(super) fn eval_args(
        &mut self,
        args: &'a [Node],
        kwargs: &'a [Kwarg],
    ) -> EResult<(Vec<Val<'a>>, Vec<(&'a str, Val<'a>)>)> {
        let mut pos = Vec::with_capacity(args.len());
        for a in args {
            pos.push(self.eval(a)?);
        }
        let mut kw = Vec::with_capacity(kwargs.len());
        for k in kwargs {
            kw.push((k.name.as_str(), self.eval(&k.value)?));
        }
        Ok((pos, kw))
    }

    fn call_registered(
        &mut self,
        func: &'a Node,
        args: &'a [Node],
        kwargs: &'a [Kwarg],
    ) -> EResult<Val<'a>> {
        let dotted = func.dotted().unwrap_or_default();
        let path = dotted.get(1..).unwrap_or_default();
        let full = format!("function.{}", path.join("."));
        if let Some(k) = kwargs.first() {
            return Err(registered_kwargs(&full, &k.name_range));
        }
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            let v = self.eval(a)?;
            values.push(self.materialize(v)?);
        }
        self.call_registered_values(path, &full, &func.range, values)
    }

    /// Calls `function.<path>` with evaluated arguments.
    pub(super) fn call_registered_values(
        &mut self,
        path: &[&str],
        full: &str,
        func_range: &Range<usize>,
        values: Vec<Value>,
    ) -> EResult<Val<'a>> {
        match self.scope.call(path, values) {
            None => Err(EvalError::failed(format!("unknown function `{full}`")).at(func_range)),
            Some(Err(message)) => Err(EvalError::failed(format!("`{full}` failed: {message}"))),
            Some(Ok(v)) => Ok(Val::Owned(v)),
        }
    }

    /// A call of a bare name that is neither a local, a root nor a builtin: the scope may
    /// provide it (e.g. `env('NAME')` in legacy settings).
    fn call_scope_name(
        &mut self,
        name: &str,
        func_range: &Range<usize>,
        args: Vec<Val<'a>>,
        kwargs: Vec<(&'a str, Val<'a>)>,
    ) -> EResult<Val<'a>> {
        if !kwargs.is_empty() {
            return Err(EvalError::failed(format!(
                "keyword arguments are not supported for `{name}`"
            )));
        }
        let mut values = Vec::with_capacity(args.len());
        for v in args {
            values.push(self.materialize(v)?);
        }
        match self.scope.call_name(name, values) {
            None => Err(EvalError::failed(format!("unknown function `{name}`")).at(func_range)),
            Some(Err(message)) => Err(EvalError::failed(format!("`{name}` failed: {message}"))),
            Some(Ok(v)) => Ok(Val::Owned(v)),
        }
    }

    pub(super) fn call_func(
        &mut self,
        f: &Func<'a>,
        args: Vec<Val<'a>>,
        kwargs: Vec<(&'a str, Val<'a>)>,
    ) -> EResult<Val<'a>> {
        match f {
            Func::Builtin(b) => self.call_builtin(*b, args, kwargs),
            Func::Lambda(c) => self.call_lambda(c, args, kwargs),
        }
    }

    fn call_lambda(
        &mut self,
        c: &Rc<Closure<'a>>,
        args: Vec<Val<'a>>,
        kwargs: Vec<(&'a str, Val<'a>)>,
    ) -> EResult<Val<'a>> {
        if self.calls >= self.limits.max_call_depth {
            return Err(EvalError::limit("maximum recursion depth exceeded"));
        }
        let env = lambda_env(c, args, kwargs)?;
        let saved = std::mem::replace(&mut self.locals, env);
        self.calls += 1;
        let r = match c.body {
            Body::Tree(node) => self.eval(node),
            Body::Compiled(f) => super::compile::run(f, self),
        };
        self.calls -= 1;
        self.locals = saved;
        r
    }

    // ---- operators -----------------------------------------------------------------

    pub(super) fn unary(&mut self, op: UnaryOp, v: Val<'a>) -> EResult<Val<'a>> {
        let view = self.need(&v)?;
        let sym = if op == UnaryOp::Neg { "-" } else { "+" };
        match (op, view.num()) {
            (UnaryOp::Neg, Some(Num::I(i))) => i.checked_neg().map(Val::Int).ok_or_else(overflow),
            (UnaryOp::Neg, Some(Num::F(f))) => Ok(Val::Float(-f)),
            (UnaryOp::Pos, Some(Num::I(i))) => Ok(Val::Int(i)),
            (UnaryOp::Pos, Some(Num::F(f))) => Ok(Val::Float(f)),
            (_, None) => Err(EvalError::failed(format!(
                "bad operand type for unary `{sym}`: `{}`",
                view.type_name()
            ))),
        }
    }

    pub(super) fn binary(&mut self, op: BinOp, a: Val<'a>, b: Val<'a>) -> EResult<Val<'a>> {
        let (va, vb) = (self.need(&a)?, self.need(&b)?);
        if let (Some(x), Some(y)) = (va.num(), vb.num()) {
            return arith(op, x, y);
        }
        match (op, va, vb) {
            (BinOp::Add, View::Str(x), View::Str(y)) => {
                self.check_str_len(x.len().saturating_add(y.len()))?;
                let mut s = String::with_capacity(x.len() + y.len());
                s.push_str(x);
                s.push_str(y);
                Ok(Val::str(s))
            }
            (BinOp::Add, View::List(x), View::List(y)) => {
                self.alloc_items(x.len().saturating_add(y.len()))?;
                let y: Vec<Value> = {
                    let mut out = Vec::with_capacity(y.len());
                    for v in y {
                        out.push(self.clone_value(v)?);
                    }
                    out
                };
                let mut x = self.materialize(a)?;
                if let Value::Array(items) = &mut x {
                    items.extend(y);
                }
                Ok(Val::Owned(x))
            }
            (BinOp::Mul, View::Str(s), n @ (View::Int(_) | View::Bool(_)))
            | (BinOp::Mul, n @ (View::Int(_) | View::Bool(_)), View::Str(s)) => {
                let n = usize::try_from(n.int().unwrap_or(0).max(0)).unwrap_or(usize::MAX);
                self.check_str_len(s.len().saturating_mul(n))?;
                Ok(Val::str(s.repeat(n)))
            }
            (BinOp::Mul, View::List(l), n @ (View::Int(_) | View::Bool(_)))
            | (BinOp::Mul, n @ (View::Int(_) | View::Bool(_)), View::List(l)) => {
                let n = usize::try_from(n.int().unwrap_or(0).max(0)).unwrap_or(usize::MAX);
                if l.is_empty() || n == 0 {
                    return Ok(Val::list(Vec::new()));
                }
                self.alloc_items(l.len().saturating_mul(n))?;
                let mut out = Vec::with_capacity(l.len() * n);
                for _ in 0..n {
                    for v in l {
                        out.push(self.clone_value(v)?);
                    }
                }
                Ok(Val::list(out))
            }
            (BinOp::Mod, View::Str(_), _) => Err(EvalError::failed(
                "`%` string formatting is not supported, use `format`",
            )),
            (op, x, y) => Err(EvalError::failed(format!(
                "unsupported operand types for `{}`: `{}` and `{}`",
                op.as_str(),
                x.type_name(),
                y.type_name()
            ))),
        }
    }

    pub(super) fn compare(&mut self, op: CmpOp, a: &Val<'a>, b: &Val<'a>) -> EResult<bool> {
        match op {
            CmpOp::Eq => self.py_eq(a.view(), b.view()),
            CmpOp::Ne => Ok(!self.py_eq(a.view(), b.view())?),
            CmpOp::In => self.contains(b, a),
            CmpOp::NotIn => Ok(!self.contains(b, a)?),
            CmpOp::Is => Ok(is_same(a, b)),
            CmpOp::IsNot => Ok(!is_same(a, b)),
            CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
                let (x, y) = (self.need(a)?, self.need(b)?);
                let ord = self.py_cmp(op, x, y)?;
                Ok(match op {
                    CmpOp::Lt => ord == Some(Ordering::Less),
                    CmpOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                    CmpOp::Gt => ord == Some(Ordering::Greater),
                    _ => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
                })
            }
        }
    }

    /// Python `==`: numbers by value (`1 == 1.0`, `True == 1`), lists and dicts deeply,
    /// different types unequal, a missing value equal to `None`.
    pub(super) fn py_eq(&mut self, a: View<'_>, b: View<'_>) -> EResult<bool> {
        self.step(1)?;
        if let (Some(x), Some(y)) = (a.num(), b.num()) {
            return Ok(num_eq(x, y));
        }
        Ok(match (a, b) {
            (x, y) if x.is_none() && y.is_none() => true,
            (View::Str(x), View::Str(y)) => x == y,
            (View::List(x), View::List(y)) => {
                if x.len() != y.len() {
                    return Ok(false);
                }
                for (p, q) in x.iter().zip(y) {
                    if !self.py_eq(view_value(p), view_value(q))? {
                        return Ok(false);
                    }
                }
                true
            }
            (View::Dict(x), View::Dict(y)) => {
                if x.len() != y.len() {
                    return Ok(false);
                }
                for (k, p) in x {
                    match y.get(k) {
                        Some(q) if self.py_eq(view_value(p), view_value(q))? => {}
                        _ => return Ok(false),
                    }
                }
                true
            }
            _ => false,
        })
    }

    /// Python ordering for `<` and friends, sorting, `min` and `max`. `None` means the
    /// values are unordered (a NaN).
    pub(super) fn py_cmp(
        &mut self,
        op: CmpOp,
        a: View<'_>,
        b: View<'_>,
    ) -> EResult<Option<Ordering>> {
        self.step(1)?;
        if let (Some(x), Some(y)) = (a.num(), b.num()) {
            return Ok(match (x, y) {
                (Num::I(x), Num::I(y)) => Some(x.cmp(&y)),
                (x, y) => x.as_f64().partial_cmp(&y.as_f64()),
            });
        }
        match (a, b) {
            (View::Str(x), View::Str(y)) => Ok(Some(x.cmp(y))),
            (View::List(x), View::List(y)) => {
                for (p, q) in x.iter().zip(y) {
                    let (p, q) = (view_value(p), view_value(q));
                    if !self.py_eq(p, q)? {
                        return self.py_cmp(op, p, q);
                    }
                }
                Ok(Some(x.len().cmp(&y.len())))
            }
            (x, y) => Err(EvalError::failed(format!(
                "`{}` not supported between `{}` and `{}`",
                op.as_str(),
                x.type_name(),
                y.type_name()
            ))),
        }
    }

    /// Python `item in container`.
    fn contains(&mut self, container: &Val<'a>, item: &Val<'a>) -> EResult<bool> {
        let c = self.need(container)?;
        let it = item.view();
        match c {
            View::Str(s) => match it {
                View::Str(sub) => {
                    self.step(s.len() as u64 / 64)?;
                    Ok(s.contains(sub))
                }
                View::Missing(r) => Err(self.missing_err(r)),
                other => Err(EvalError::failed(format!(
                    "`in <string>` requires a string as left operand, not `{}`",
                    other.type_name()
                ))),
            },
            View::List(items) => {
                for v in items {
                    if self.py_eq(view_value(v), it)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            View::Dict(m) => Ok(match it {
                View::Str(k) => m.contains_key(k),
                _ => false,
            }),
            other => Err(EvalError::failed(format!(
                "argument of type `{}` is not iterable",
                other.type_name()
            ))),
        }
    }
}

/// The locals a `lambda` body sees: what it captured, then its parameters.
fn lambda_env<'a>(
    c: &Closure<'a>,
    args: Vec<Val<'a>>,
    kwargs: Vec<(&'a str, Val<'a>)>,
) -> EResult<Vec<(&'a str, Val<'a>)>> {
    let n = c.params.len();
    if args.len() > n {
        return Err(EvalError::failed(format!(
            "`lambda` takes {n} argument{} but {} were given",
            if n == 1 { "" } else { "s" },
            args.len()
        )));
    }
    let mut slots: Vec<Option<Val<'a>>> = args.into_iter().map(Some).collect();
    slots.resize(n, None);
    for (name, v) in kwargs {
        let Some(at) = c.params.iter().position(|p| p == name) else {
            return Err(EvalError::failed(format!(
                "`lambda` got an unexpected keyword argument `{name}`"
            )));
        };
        if slots[at].is_some() {
            return Err(EvalError::failed(format!(
                "`lambda` got multiple values for argument `{name}`"
            )));
        }
        slots[at] = Some(v);
    }
    let mut env = c.env.clone();
    for (p, slot) in c.params.iter().zip(slots) {
        let Some(v) = slot else {
            return Err(EvalError::failed(format!(
                "`lambda` is missing argument `{p}`"
            )));
        };
        env.push((p, v.into_local()));
    }
    Ok(env)
}

fn owned_items<'a>(v: Value) -> EResult<Items<'a>> {
    match v {
        Value::Array(a) => Ok(Items::Owned(a.into_iter())),
        Value::Object(m) => Ok(Items::OwnedKeys(
            m.into_iter()
                .map(|(k, _)| k)
                .collect::<Vec<_>>()
                .into_iter(),
        )),
        Value::String(s) => Ok(Items::OwnedChars(s.chars().collect::<Vec<_>>().into_iter())),
        other => Err(EvalError::failed(format!(
            "`{}` object is not iterable",
            view_value(&other).type_name()
        ))),
    }
}

pub(super) fn float_value(f: f64) -> EResult<Value> {
    serde_json::Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| {
            EvalError::failed(format!(
                "`{}` is not a valid JSON number",
                super::pystr::python_float_repr(f)
            ))
        })
}

pub(super) fn func_not_value(f: &Func<'_>) -> EvalError {
    let what = match f {
        Func::Builtin(b) => format!("`{}`", b.name()),
        Func::Lambda(_) => "a `lambda`".to_string(),
    };
    EvalError::failed(format!("{what} is a function, not a value"))
}

pub(super) fn overflow() -> EvalError {
    EvalError::failed("integer overflow")
}

fn num_eq(x: Num, y: Num) -> bool {
    match (x, y) {
        (Num::I(a), Num::I(b)) => a == b,
        (Num::F(a), Num::F(b)) => a == b,
        (Num::I(i), Num::F(f)) | (Num::F(f), Num::I(i)) => int_float_eq(i, f),
    }
}

/// Python `is`: `None` (and a missing value) is only itself; other scalars compare by type
/// and value (flowyt has no object identity for them); lists and dicts are identical only
/// when both sides are the same borrowed or shared value.
fn is_same(a: &Val<'_>, b: &Val<'_>) -> bool {
    match (a, b) {
        (Val::Ref(x), Val::Ref(y)) if x.is_array() || x.is_object() => return std::ptr::eq(*x, *y),
        (Val::Shared(x), Val::Shared(y)) => return Rc::ptr_eq(x, y),
        (Val::Func(Func::Builtin(x)), Val::Func(Func::Builtin(y))) => return x == y,
        (Val::Func(Func::Lambda(x)), Val::Func(Func::Lambda(y))) => return Rc::ptr_eq(x, y),
        _ => {}
    }
    match (a.view(), b.view()) {
        (x, y) if x.is_none() || y.is_none() => x.is_none() && y.is_none(),
        (View::Bool(x), View::Bool(y)) => x == y,
        (View::Int(x), View::Int(y)) => x == y,
        (View::Float(x), View::Float(y)) => x == y,
        (View::Str(x), View::Str(y)) => x == y,
        _ => false,
    }
}

fn normalize_index(i: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let at = if i < 0 { i.checked_add(len)? } else { i };
    if (0..len).contains(&at) {
        usize::try_from(at).ok()
    } else {
        None
    }
}

/// The positions `seq[lo:hi:step]` selects, with Python's clamping rules.
pub(super) fn slice_positions(
    len: usize,
    lo: Option<i64>,
    hi: Option<i64>,
    step: i64,
) -> Vec<usize> {
    let len = len as i128;
    let step = step as i128;
    let clamp = |v: Option<i64>, default: i128, low: i128, high: i128| -> i128 {
        match v {
            None => default,
            Some(v) => {
                let v = v as i128;
                let v = if v < 0 { v + len } else { v };
                v.clamp(low, high)
            }
        }
    };
    let mut out = Vec::new();
    if step > 0 {
        let start = clamp(lo, 0, 0, len);
        let stop = clamp(hi, len, 0, len);
        let mut i = start;
        while i < stop {
            out.push(i as usize);
            i += step;
        }
    } else {
        let start = clamp(lo, len - 1, -1, len - 1);
        let stop = clamp(hi, -1, -1, len - 1);
        let mut i = start;
        while i > stop {
            out.push(i as usize);
            i += step;
        }
    }
    out
}

fn arith<'a>(op: BinOp, x: Num, y: Num) -> EResult<Val<'a>> {
    use Num::I;
    let zero = || EvalError::failed("division by zero");
    Ok(match (op, x, y) {
        (BinOp::Add, I(a), I(b)) => Val::Int(a.checked_add(b).ok_or_else(overflow)?),
        (BinOp::Sub, I(a), I(b)) => Val::Int(a.checked_sub(b).ok_or_else(overflow)?),
        (BinOp::Mul, I(a), I(b)) => Val::Int(a.checked_mul(b).ok_or_else(overflow)?),
        (BinOp::Add, a, b) => Val::Float(a.as_f64() + b.as_f64()),
        (BinOp::Sub, a, b) => Val::Float(a.as_f64() - b.as_f64()),
        (BinOp::Mul, a, b) => Val::Float(a.as_f64() * b.as_f64()),
        (BinOp::Div, a, b) => {
            let d = b.as_f64();
            if d == 0.0 {
                return Err(zero());
            }
            Val::Float(a.as_f64() / d)
        }
        (BinOp::FloorDiv, I(a), I(b)) => {
            if b == 0 {
                return Err(zero());
            }
            let q = a.checked_div(b).ok_or_else(overflow)?;
            Val::Int(if a % b != 0 && ((a < 0) != (b < 0)) {
                q - 1
            } else {
                q
            })
        }
        (BinOp::Mod, I(a), I(b)) => {
            if b == 0 {
                return Err(zero());
            }
            let r = a.checked_rem(b).unwrap_or(0);
            Val::Int(if r != 0 && ((r < 0) != (b < 0)) {
                r + b
            } else {
                r
            })
        }
        (BinOp::FloorDiv | BinOp::Mod, a, b) => {
            let (a, b) = (a.as_f64(), b.as_f64());
            if b == 0.0 {
                return Err(zero());
            }
            let (div, m) = float_divmod(a, b);
            Val::Float(if op == BinOp::FloorDiv { div } else { m })
        }
        (BinOp::Pow, I(a), I(b)) => {
            if b < 0 {
                if a == 0 {
                    return Err(EvalError::failed(
                        "0.0 cannot be raised to a negative power",
                    ));
                }
                Val::Float((a as f64).powf(b as f64))
            } else {
                match u32::try_from(b) {
                    Ok(e) => Val::Int(a.checked_pow(e).ok_or_else(overflow)?),
                    Err(_) => match a {
                        0 | 1 => Val::Int(a),
                        -1 => Val::Int(if b % 2 == 0 { 1 } else { -1 }),
                        _ => return Err(overflow()),
                    },
                }
            }
        }
        (BinOp::Pow, a, b) => {
            let (a, b) = (a.as_f64(), b.as_f64());
            if a == 0.0 && b < 0.0 {
                return Err(EvalError::failed(
                    "0.0 cannot be raised to a negative power",
                ));
            }
            if a < 0.0 && b.is_finite() && b.fract() != 0.0 {
                return Err(EvalError::failed(
                    "negative number cannot be raised to a fractional power",
                ));
            }
            let r = a.powf(b);
            if r.is_infinite() && a.is_finite() && b.is_finite() {
                return Err(EvalError::failed("numerical result out of range"));
            }
            Val::Float(r)
        }
    })
}

/// CPython's `float_divmod`: floor division and a modulo with the divisor's sign.
fn float_divmod(vx: f64, wx: f64) -> (f64, f64) {
    let mut m = vx % wx;
    let mut div = (vx - m) / wx;
    if m != 0.0 {
        if (wx < 0.0) != (m < 0.0) {
            m += wx;
            div -= 1.0;
        }
    } else {
        m = 0.0_f64.copysign(wx);
    }
    let floordiv = if div != 0.0 {
        let f = div.floor();
        if div - f > 0.5 { f + 1.0 } else { f }
    } else {
        0.0_f64.copysign(vx / wx)
    };
    (floordiv, m)
}
