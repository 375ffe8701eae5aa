//! Builtin functions (`len`, `str`, `sorted`, `json.dumps`, ...) and methods of dicts,
//! strings and lists.
//!
//! A builtin name resolves only when the scope has no root and no local of that name.

use std::cmp::Ordering;

use serde_json::Value;

use super::ast::{BinOp, CmpOp};
use super::eval::{Ctx, EvalError, func_not_value, overflow};
use super::pystr::{python_float_repr, write_quoted, write_repr, write_str};
use super::value::{Num, Val, View, view_value, weight};

type EResult<T> = Result<T, EvalError>;
type Kwargs<'a> = Vec<(&'a str, Val<'a>)>;
type BuiltinFn<'a> = fn(&mut Ctx<'a>, Builtin, Vec<Val<'a>>, Kwargs<'a>) -> EResult<Val<'a>>;

/// A builtin function or module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Builtin {
    Len,
    Str,
    Int,
    Float,
    Bool,
    Abs,
    Min,
    Max,
    Sum,
    Round,
    Sorted,
    Reversed,
    List,
    Range,
    Any,
    All,
    Enumerate,
    Zip,
    /// The `json` module.
    Json,
    JsonDumps,
    JsonLoads,
}

impl Builtin {
    pub(super) fn from_name(name: &str) -> Option<Builtin> {
        Some(match name {
            "len" => Builtin::Len,
            "str" => Builtin::Str,
            "int" => Builtin::Int,
            "float" => Builtin::Float,
            "bool" => Builtin::Bool,
            "abs" => Builtin::Abs,
            "min" => Builtin::Min,
            "max" => Builtin::Max,
            "sum" => Builtin::Sum,
            "round" => Builtin::Round,
            "sorted" => Builtin::Sorted,
            "reversed" => Builtin::Reversed,
            "list" => Builtin::List,
            "range" => Builtin::Range,
            "any" => Builtin::Any,
            "all" => Builtin::All,
            "enumerate" => Builtin::Enumerate,
            "zip" => Builtin::Zip,
            "json" => Builtin::Json,
            _ => return None,
        })
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Builtin::Len => "len",
            Builtin::Str => "str",
            Builtin::Int => "int",
            Builtin::Float => "float",
            Builtin::Bool => "bool",
            Builtin::Abs => "abs",
            Builtin::Min => "min",
            Builtin::Max => "max",
            Builtin::Sum => "sum",
            Builtin::Round => "round",
            Builtin::Sorted => "sorted",
            Builtin::Reversed => "reversed",
            Builtin::List => "list",
            Builtin::Range => "range",
            Builtin::Any => "any",
            Builtin::All => "all",
            Builtin::Enumerate => "enumerate",
            Builtin::Zip => "zip",
            Builtin::Json => "json",
            Builtin::JsonDumps => "json.dumps",
            Builtin::JsonLoads => "json.loads",
        }
    }

    pub(super) fn type_name(self) -> &'static str {
        match self {
            Builtin::Json => "module",
            _ => "builtin_function_or_method",
        }
    }

    /// `json.dumps` and `json.loads`.
    pub(super) fn attr(self, name: &str) -> Option<Builtin> {
        match (self, name) {
            (Builtin::Json, "dumps") => Some(Builtin::JsonDumps),
            (Builtin::Json, "loads") => Some(Builtin::JsonLoads),
            _ => None,
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn arity(name: &str, n: usize, min: usize, max: usize) -> EResult<()> {
    if n >= min && n <= max {
        return Ok(());
    }
    let message = if min == max {
        format!(
            "`{name}` takes exactly {min} argument{} ({n} given)",
            plural(min)
        )
    } else if n < min {
        format!(
            "`{name}` takes at least {min} argument{} ({n} given)",
            plural(min)
        )
    } else {
        format!(
            "`{name}` takes at most {max} argument{} ({n} given)",
            plural(max)
        )
    };
    Err(EvalError::failed(message))
}

/// The `i`-th positional argument; callers check the arity first, so this only guards
/// against a mistake in that check.
fn nth<'v, 'a>(args: &'v [Val<'a>], i: usize) -> EResult<&'v Val<'a>> {
    args.get(i)
        .ok_or_else(|| EvalError::failed(format!("missing argument {}", i + 1)))
}

fn take_kw<'a>(kw: &mut Kwargs<'a>, key: &str) -> Option<Val<'a>> {
    let at = kw.iter().position(|(k, _)| *k == key)?;
    Some(kw.remove(at).1)
}

fn no_kw(name: &str, kw: &Kwargs<'_>) -> EResult<()> {
    match kw.first() {
        Some((k, _)) => Err(EvalError::failed(format!(
            "`{name}` got an unexpected keyword argument `{k}`"
        ))),
        None => Ok(()),
    }
}

fn type_err(what: &str, v: View<'_>) -> EvalError {
    EvalError::failed(format!("{what}, not `{}`", v.type_name()))
}

impl<'a> Ctx<'a> {
    /// Python `str()` of a value; a missing value is an error, as when splicing.
    pub(super) fn py_str(&mut self, v: &Val<'a>) -> EResult<String> {
        let view = self.need(v)?;
        let mut out = String::new();
        write_str(&mut out, view);
        self.check_str_len(out.len())?;
        Ok(out)
    }

    fn int_arg(&self, name: &str, v: &Val<'a>) -> EResult<i64> {
        let view = self.need(v)?;
        view.int()
            .ok_or_else(|| type_err(&format!("`{name}` expects an integer"), view))
    }

    fn str_arg<'v>(&self, name: &str, v: &'v Val<'a>) -> EResult<&'v str> {
        match self.need(v)? {
            View::Str(s) => Ok(s),
            other => Err(type_err(&format!("`{name}` expects a string"), other)),
        }
    }

    /// Optional integer argument where `None` means absent.
    fn opt_int_arg(&self, name: &str, v: Option<&Val<'a>>) -> EResult<Option<i64>> {
        match v {
            None => Ok(None),
            Some(v) if matches!(v.view(), View::None) => Ok(None),
            Some(v) => self.int_arg(name, v).map(Some),
        }
    }

    fn values(&mut self, items: Vec<Val<'a>>) -> EResult<Vec<Value>> {
        self.alloc_items(items.len())?;
        let mut out = Vec::with_capacity(items.len());
        for v in items {
            out.push(self.materialize(v)?);
        }
        Ok(out)
    }

    pub(super) fn call_builtin(
        &mut self,
        b: Builtin,
        args: Vec<Val<'a>>,
        kw: Kwargs<'a>,
    ) -> EResult<Val<'a>> {
        // One call site through a function pointer keeps this frame small; it is on the
        // recursion path of `key=` functions.
        let f: BuiltinFn<'a> = match b {
            Builtin::Json => Self::builtin_json,
            Builtin::Len => Self::builtin_len,
            Builtin::Str => Self::builtin_str,
            Builtin::Bool => Self::builtin_bool,
            Builtin::Int => Self::builtin_int,
            Builtin::Float => Self::builtin_float,
            Builtin::Abs => Self::builtin_abs,
            Builtin::Min | Builtin::Max => Self::builtin_min,
            Builtin::Sum => Self::builtin_sum,
            Builtin::Round => Self::builtin_round,
            Builtin::Sorted => Self::builtin_sorted,
            Builtin::Reversed | Builtin::List => Self::builtin_reversed,
            Builtin::Range => Self::builtin_range,
            Builtin::Any | Builtin::All => Self::builtin_any,
            Builtin::Enumerate => Self::builtin_enumerate,
            Builtin::Zip => Self::builtin_zip,
            Builtin::JsonDumps => Self::builtin_json_dumps,
            Builtin::JsonLoads => Self::builtin_json_loads,
        };
        f(self, b, args, kw)
    }

    fn builtin_json(&mut self, _: Builtin, _: Vec<Val<'a>>, _: Kwargs<'a>) -> EResult<Val<'a>> {
        Err(EvalError::failed("`json` module is not callable"))
    }

    fn builtin_len(&mut self, b: Builtin, args: Vec<Val<'a>>, kw: Kwargs<'a>) -> EResult<Val<'a>> {
        let name = b.name();
        let n = args.len();
        no_kw(name, &kw)?;
        arity(name, n, 1, 1)?;
        let len = match self.need(nth(&args, 0)?)? {
            View::Str(s) => s.chars().count(),
            View::List(l) => l.len(),
            View::Dict(m) => m.len(),
            other => {
                return Err(EvalError::failed(format!(
                    "object of type `{}` has no len()",
                    other.type_name()
                )));
            }
        };
        Ok(Val::Int(i64::try_from(len).map_err(|_| overflow())?))
    }

    fn builtin_str(&mut self, b: Builtin, args: Vec<Val<'a>>, kw: Kwargs<'a>) -> EResult<Val<'a>> {
        let name = b.name();
        let n = args.len();
        no_kw(name, &kw)?;
        arity(name, n, 0, 1)?;
        match args.first() {
            None => Ok(Val::str(String::new())),
            Some(v) => Ok(Val::str(self.py_str(v)?)),
        }
    }

    fn builtin_bool(&mut self, b: Builtin, args: Vec<Val<'a>>, kw: Kwargs<'a>) -> EResult<Val<'a>> {
        let name = b.name();
        let n = args.len();
        no_kw(name, &kw)?;
        arity(name, n, 0, 1)?;
        Ok(Val::Bool(args.first().is_some_and(|v| v.view().truthy())))
    }

    fn builtin_int(
        &mut self,
        b: Builtin,
        args: Vec<Val<'a>>,
        mut kw: Kwargs<'a>,
    ) -> EResult<Val<'a>> {
        let name = b.name();
        let n = args.len();
        let base = take_kw(&mut kw, "base");
        no_kw(name, &kw)?;
        arity(name, n, 0, 2)?;
        let base = match (args.get(1), &base) {
            (Some(_), Some(_)) => {
                return Err(EvalError::failed("`int` got multiple values for `base`"));
            }
            (Some(b), None) | (None, Some(b)) => Some(self.int_arg(name, b)?),
            (None, None) => None,
        };
        match args.first() {
            None => Ok(Val::Int(0)),
            Some(v) => self.int_of(v, base),
        }
    }

    fn builtin_float(
        &mut self,
        b: Builtin,
        args: Vec<Val<'a>>,
        kw: Kwargs<'a>,
    ) -> EResult<Val<'a>> {
        let name = b.name();
        let n = args.len();
        no_kw(name, &kw)?;
        arity(name, n, 0, 1)?;
        match args.first() {
            None => Ok(Val::Float(0.0)),
            Some(v) => self.float_of(v),
        }
    }

    fn builtin_abs(&mut self, b: Builtin, args: Vec<Val<'a>>, kw: Kwargs<'a>) -> EResult<Val<'a>> {
        let name = b.name();
        let n = args.len();
        no_kw(name, &kw)?;
        arity(name, n, 1, 1)?;
        let view = self.need(nth(&args, 0)?)?;
        match view.num() {
            Some(Num::I(i)) => i.checked_abs().map(Val::Int).ok_or_else(overflow),
            Some(Num::F(f)) => Ok(Val::Float(f.abs())),
            None => Err(EvalError::failed(format!(
                "bad operand type for `abs`: `{}`",
                view.type_name()
            ))),
        }
    }

    fn builtin_min(&mut self, b: Builtin, args: Vec<Val<'a>>, kw: Kwargs<'a>) -> EResult<Val<'a>> {
        self.min_max(b, args, kw)
    }

    fn builtin_sum(
        &mut self,
        b: Builtin,
        args: Vec<Val<'a>>,
        mut kw: Kwargs<'a>,
    ) -> EResult<Val<'a>> {
        let name = b.name();
        let n = args.len();
        let start = take_kw(&mut kw, "start");
        no_kw(name, &kw)?;
        arity(name, n, 1, 2)?;
        let mut args = args.into_iter();
        let iterable = args.next().unwrap_or(Val::None);
        let mut acc = args.next().or(start).unwrap_or(Val::Int(0));
        if let View::Str(_) = acc.view() {
            return Err(EvalError::failed(
                "`sum` can't sum strings, use `''.join(seq)` instead",
            ));
        }
        for item in self.iterate(iterable)? {
            self.step(1)?;
            acc = self.binary(BinOp::Add, acc, item)?;
        }
        Ok(acc)
    }

    fn builtin_round(
        &mut self,
        b: Builtin,
        args: Vec<Val<'a>>,
        mut kw: Kwargs<'a>,
    ) -> EResult<Val<'a>> {
        let name = b.name();
        let n = args.len();
        let nd = take_kw(&mut kw, "ndigits");
        no_kw(name, &kw)?;
        arity(name, n, 1, 2)?;
        let nd = self.opt_int_arg(name, args.get(1).or(nd.as_ref()))?;
        self.round(nth(&args, 0)?, nd)
    }

    fn builtin_sorted(
        &mut self,
        b: Builtin,
        args: Vec<Val<'a>>,
        mut kw: Kwargs<'a>,
    ) -> EResult<Val<'a>> {
        let name = b.name();
        let n = args.len();
        let key = take_kw(&mut kw, "key");
        let reverse = take_kw(&mut kw, "reverse").is_some_and(|v| v.view().truthy());
        no_kw(name, &kw)?;
        arity(name, n, 1, 1)?;
        let iterable = args.into_iter().next().unwrap_or(Val::None);
        let items = self.collect(iterable)?;
        let keys = self.keys(&items, key.as_ref())?;
        let order = self.sort_order(&keys, reverse)?;
        let mut slots: Vec<Option<Val<'a>>> = items.into_iter().map(Some).collect();
        let mut out = Vec::with_capacity(slots.len());
        self.alloc_items(slots.len())?;
        for i in order {
            if let Some(v) = slots.get_mut(i).and_then(Option::take) {
                out.push(self.materialize(v)?);
            }
        }
        Ok(Val::list(out))
    }

    fn builtin_reversed(
        &mut self,
        b: Builtin,
        args: Vec<Val<'a>>,
        kw: Kwargs<'a>,
    ) -> EResult<Val<'a>> {
        let name = b.name();
        let n = args.len();
        no_kw(name, &kw)?;
        let min = if b == Builtin::List { 0 } else { 1 };
        arity(name, n, min, 1)?;
        let Some(iterable) = args.into_iter().next() else {
            return Ok(Val::list(Vec::new()));
        };
        let mut items = self.collect(iterable)?;
        if b == Builtin::Reversed {
            items.reverse();
        }
        Ok(Val::list(self.values(items)?))
    }

    fn builtin_range(
        &mut self,
        b: Builtin,
        args: Vec<Val<'a>>,
        kw: Kwargs<'a>,
    ) -> EResult<Val<'a>> {
        let name = b.name();
        let n = args.len();
        no_kw(name, &kw)?;
        arity(name, n, 1, 3)?;
        let mut ints = Vec::with_capacity(n);
        for a in &args {
            ints.push(self.int_arg(name, a)?);
        }
        let (start, stop, step) = match ints[..] {
            [stop] => (0, stop, 1),
            [start, stop] => (start, stop, 1),
            [start, stop, step] => (start, stop, step),
            _ => (0, 0, 1),
        };
        if step == 0 {
            return Err(EvalError::failed("`range` step must not be zero"));
        }
        let (s, e, st) = (i128::from(start), i128::from(stop), i128::from(step));
        let len = if st > 0 {
            (e - s + st - 1) / st
        } else {
            (s - e - st - 1) / -st
        }
        .max(0);
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        self.alloc_items(len)?;
        self.step(len as u64)?;
        let out = (0..len)
            .map(|i| Value::from((s + st * i as i128) as i64))
            .collect();
        Ok(Val::list(out))
    }

    fn builtin_any(&mut self, b: Builtin, args: Vec<Val<'a>>, kw: Kwargs<'a>) -> EResult<Val<'a>> {
        let name = b.name();
        let n = args.len();
        no_kw(name, &kw)?;
        arity(name, n, 1, 1)?;
        let want = b == Builtin::Any;
        let iterable = args.into_iter().next().unwrap_or(Val::None);
        for item in self.iterate(iterable)? {
            self.step(1)?;
            if item.view().truthy() == want {
                return Ok(Val::Bool(want));
            }
        }
        Ok(Val::Bool(!want))
    }

    fn builtin_enumerate(
        &mut self,
        b: Builtin,
        args: Vec<Val<'a>>,
        mut kw: Kwargs<'a>,
    ) -> EResult<Val<'a>> {
        let name = b.name();
        let n = args.len();
        let start = take_kw(&mut kw, "start");
        no_kw(name, &kw)?;
        arity(name, n, 1, 2)?;
        let mut args = args.into_iter();
        let iterable = args.next().unwrap_or(Val::None);
        let start = match args.next().or(start) {
            Some(v) => self.int_arg(name, &v)?,
            None => 0,
        };
        let items = self.collect(iterable)?;
        self.alloc_items(items.len())?;
        let mut out = Vec::with_capacity(items.len());
        for (i, v) in items.into_iter().enumerate() {
            let i = i64::try_from(i)
                .ok()
                .and_then(|i| i.checked_add(start))
                .ok_or_else(overflow)?;
            out.push(Value::Array(vec![Value::from(i), self.materialize(v)?]));
        }
        Ok(Val::list(out))
    }

    fn builtin_zip(&mut self, b: Builtin, args: Vec<Val<'a>>, kw: Kwargs<'a>) -> EResult<Val<'a>> {
        let name = b.name();
        let n = args.len();
        no_kw(name, &kw)?;
        let mut columns = Vec::with_capacity(n);
        for a in args {
            columns.push(self.collect(a)?.into_iter());
        }
        let mut out = Vec::new();
        if columns.is_empty() {
            return Ok(Val::list(out));
        }
        'rows: loop {
            let mut row = Vec::with_capacity(columns.len());
            for c in columns.iter_mut() {
                match c.next() {
                    Some(v) => row.push(self.materialize(v)?),
                    None => break 'rows,
                }
            }
            self.check_items(out.len() + 1)?;
            self.charge(16 * (row.len() as u64 + 1))?;
            out.push(Value::Array(row));
        }
        Ok(Val::list(out))
    }

    fn builtin_json_dumps(
        &mut self,
        b: Builtin,
        args: Vec<Val<'a>>,
        mut kw: Kwargs<'a>,
    ) -> EResult<Val<'a>> {
        let name = b.name();
        let n = args.len();
        let indent = take_kw(&mut kw, "indent");
        let sort_keys = take_kw(&mut kw, "sort_keys").is_some_and(|v| v.view().truthy());
        let ensure_ascii = take_kw(&mut kw, "ensure_ascii").is_none_or(|v| v.view().truthy());
        no_kw(name, &kw)?;
        arity(name, n, 1, 1)?;
        let indent = self
            .opt_int_arg(name, indent.as_ref())?
            .map(|i| i.max(0) as usize);
        let opts = DumpOpts {
            indent,
            sort_keys,
            ensure_ascii,
        };
        let mut out = String::new();
        let v = nth(&args, 0)?;
        match v {
            Val::Func(f) => return Err(func_not_value(f)),
            Val::Ref(x) => self.dump_value(&mut out, x, &opts, 0)?,
            Val::Owned(x) => self.dump_value(&mut out, x, &opts, 0)?,
            Val::Shared(x) => self.dump_value(&mut out, x, &opts, 0)?,
            v => self.dumps(&mut out, v.view(), &opts, 0)?,
        }
        self.check_str_len(out.len())?;
        Ok(Val::str(out))
    }

    fn builtin_json_loads(
        &mut self,
        b: Builtin,
        args: Vec<Val<'a>>,
        kw: Kwargs<'a>,
    ) -> EResult<Val<'a>> {
        let name = b.name();
        let n = args.len();
        no_kw(name, &kw)?;
        arity(name, n, 1, 1)?;
        let s = match self.need(nth(&args, 0)?)? {
            View::Str(s) => s,
            other => return Err(type_err("the JSON object must be `str`", other)),
        };
        let v: Value =
            serde_json::from_str(s).map_err(|e| EvalError::failed(format!("invalid JSON: {e}")))?;
        self.charge(weight(&v, u64::MAX))?;
        Ok(Val::Owned(v))
    }

    fn int_of(&mut self, v: &Val<'a>, base: Option<i64>) -> EResult<Val<'a>> {
        let view = self.need(v)?;
        if let Some(base) = base {
            let View::Str(s) = view else {
                return Err(EvalError::failed(
                    "`int` can't convert a non-string with an explicit base",
                ));
            };
            if base != 0 && !(2..=36).contains(&base) {
                return Err(EvalError::failed("`int` base must be >= 2 and <= 36, or 0"));
            }
            return parse_int(s, base as u32).map(Val::Int);
        }
        match view {
            View::Bool(b) => Ok(Val::Int(i64::from(b))),
            View::Int(i) => Ok(Val::Int(i)),
            View::Float(f) => float_to_int(f.trunc()).map(Val::Int),
            View::Str(s) => parse_int(s, 10).map(Val::Int),
            other => Err(type_err(
                "`int` argument must be a string or a number",
                other,
            )),
        }
    }

    fn float_of(&mut self, v: &Val<'a>) -> EResult<Val<'a>> {
        let view = self.need(v)?;
        match view {
            View::Bool(b) => Ok(Val::Float(f64::from(u8::from(b)))),
            View::Int(i) => Ok(Val::Float(i as f64)),
            View::Float(f) => Ok(Val::Float(f)),
            View::Str(s) => parse_float(s).map(Val::Float).ok_or_else(|| {
                let mut q = String::new();
                write_quoted(&mut q, s);
                EvalError::failed(format!("could not convert string to float: {q}"))
            }),
            other => Err(type_err(
                "`float` argument must be a string or a number",
                other,
            )),
        }
    }

    fn round(&mut self, v: &Val<'a>, nd: Option<i64>) -> EResult<Val<'a>> {
        let view = self.need(v)?;
        let Some(num) = view.num() else {
            return Err(EvalError::failed(format!(
                "type `{}` doesn't define `__round__`",
                view.type_name()
            )));
        };
        match (num, nd) {
            (Num::I(i), None) => Ok(Val::Int(i)),
            (Num::F(f), None) => float_to_int(f.round_ties_even()).map(Val::Int),
            (Num::I(i), Some(nd)) if nd >= 0 => Ok(Val::Int(i)),
            (Num::I(i), Some(nd)) => {
                // Round half to even at 10^-nd.
                let Some(p) = u32::try_from(-nd).ok().and_then(|e| 10i128.checked_pow(e)) else {
                    return Ok(Val::Int(0));
                };
                let x = i128::from(i);
                let q = x.div_euclid(p);
                let r = x.rem_euclid(p);
                let q = if 2 * r > p || (2 * r == p && q % 2 != 0) {
                    q + 1
                } else {
                    q
                };
                i64::try_from(q * p).map(Val::Int).map_err(|_| overflow())
            }
            (Num::F(f), Some(nd)) => {
                if !f.is_finite() {
                    return Ok(Val::Float(f));
                }
                if nd >= 0 {
                    if nd > 340 {
                        return Ok(Val::Float(f));
                    }
                    // Formatting rounds the exact binary value, as CPython does.
                    let s = format!("{:.*}", nd as usize, f);
                    Ok(Val::Float(s.parse().unwrap_or(f)))
                } else {
                    let p = 10f64.powi(i32::try_from(-nd).unwrap_or(i32::MAX));
                    if !p.is_finite() {
                        return Ok(Val::Float(0.0_f64.copysign(f)));
                    }
                    Ok(Val::Float((f / p).round_ties_even() * p))
                }
            }
        }
    }

    /// Sort keys, calling `key` when given. Missing keys are an error.
    fn keys(&mut self, items: &[Val<'a>], key: Option<&Val<'a>>) -> EResult<Vec<Val<'a>>> {
        let f = match key {
            None => None,
            Some(v) if matches!(v.view(), View::None) => None,
            Some(Val::Func(f)) => Some(f.clone()),
            Some(other) => {
                return Err(EvalError::failed(format!(
                    "`key` must be a function, not `{}`",
                    other.view().type_name()
                )));
            }
        };
        let mut keys = Vec::with_capacity(items.len());
        for item in items {
            let k = match &f {
                Some(f) => self.call_func(f, vec![item.clone()], Vec::new())?,
                None => item.clone(),
            };
            self.need(&k)?;
            keys.push(k.into_local());
        }
        Ok(keys)
    }

    /// A stable merge sort on the keys; the comparator may fail (Python's `TypeError`).
    fn sort_order(&mut self, keys: &[Val<'a>], reverse: bool) -> EResult<Vec<usize>> {
        let n = keys.len();
        let mut idx: Vec<usize> = (0..n).collect();
        let mut buf = idx.clone();
        let mut width = 1;
        while width < n {
            let mut lo = 0;
            while lo < n {
                let mid = (lo + width).min(n);
                let hi = (lo + 2 * width).min(n);
                let (mut a, mut b, mut k) = (lo, mid, lo);
                while a < mid && b < hi {
                    let (x, y) = (idx[a], idx[b]);
                    // Take from the right run only when it is strictly first: stability.
                    let right_first = if reverse {
                        self.py_cmp(CmpOp::Lt, keys[x].view(), keys[y].view())?
                            == Some(Ordering::Less)
                    } else {
                        self.py_cmp(CmpOp::Lt, keys[y].view(), keys[x].view())?
                            == Some(Ordering::Less)
                    };
                    if right_first {
                        buf[k] = y;
                        b += 1;
                    } else {
                        buf[k] = x;
                        a += 1;
                    }
                    k += 1;
                }
                buf[k..k + (mid - a)].copy_from_slice(&idx[a..mid]);
                let k = k + (mid - a);
                buf[k..k + (hi - b)].copy_from_slice(&idx[b..hi]);
                lo = hi;
            }
            std::mem::swap(&mut idx, &mut buf);
            width *= 2;
        }
        Ok(idx)
    }

    fn min_max(&mut self, b: Builtin, args: Vec<Val<'a>>, mut kw: Kwargs<'a>) -> EResult<Val<'a>> {
        let name = b.name();
        let key = take_kw(&mut kw, "key");
        let default = take_kw(&mut kw, "default");
        no_kw(name, &kw)?;
        arity(name, args.len(), 1, usize::MAX)?;
        let items = if args.len() == 1 {
            let iterable = args.into_iter().next().unwrap_or(Val::None);
            self.collect(iterable)?
        } else {
            if default.is_some() {
                return Err(EvalError::failed(format!(
                    "cannot specify a default for `{name}` with multiple positional arguments"
                )));
            }
            args
        };
        if items.is_empty() {
            return default
                .ok_or_else(|| EvalError::failed(format!("`{name}` arg is an empty sequence")));
        }
        let keys = self.keys(&items, key.as_ref())?;
        let mut best = 0;
        for i in 1..keys.len() {
            let better = if b == Builtin::Max {
                self.py_cmp(CmpOp::Gt, keys[i].view(), keys[best].view())?
                    == Some(Ordering::Greater)
            } else {
                self.py_cmp(CmpOp::Lt, keys[i].view(), keys[best].view())? == Some(Ordering::Less)
            };
            if better {
                best = i;
            }
        }
        Ok(items.into_iter().nth(best).unwrap_or(Val::None))
    }

    fn dumps(
        &mut self,
        out: &mut String,
        v: View<'_>,
        opts: &DumpOpts,
        level: usize,
    ) -> EResult<()> {
        self.step(1)?;
        if out.len() > self.limits.max_string_bytes {
            return self.check_str_len(out.len());
        }
        match v {
            View::None | View::Missing(_) => out.push_str("null"),
            View::Bool(b) => out.push_str(if b { "true" } else { "false" }),
            View::Int(i) => out.push_str(&i.to_string()),
            View::Float(f) if f.is_nan() => out.push_str("NaN"),
            View::Float(f) if f.is_infinite() => {
                out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
            }
            View::Float(f) => out.push_str(&python_float_repr(f)),
            View::Str(s) => json_quote(out, s, opts.ensure_ascii),
            View::Func(_) => return Err(EvalError::failed("a function is not JSON serializable")),
            View::List(items) => {
                if items.is_empty() {
                    out.push_str("[]");
                    return Ok(());
                }
                out.push('[');
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(if opts.indent.is_some() { "," } else { ", " });
                    }
                    opts.newline(out, level + 1);
                    self.dump_value(out, x, opts, level + 1)?;
                }
                opts.newline(out, level);
                out.push(']');
            }
            View::Dict(m) => {
                if m.is_empty() {
                    out.push_str("{}");
                    return Ok(());
                }
                let mut entries: Vec<(&String, &Value)> = m.iter().collect();
                if opts.sort_keys {
                    entries.sort_by(|a, b| a.0.cmp(b.0));
                }
                out.push('{');
                for (i, (k, x)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push_str(if opts.indent.is_some() { "," } else { ", " });
                    }
                    opts.newline(out, level + 1);
                    json_quote(out, k, opts.ensure_ascii);
                    out.push_str(": ");
                    self.dump_value(out, x, opts, level + 1)?;
                }
                opts.newline(out, level);
                out.push('}');
            }
        }
        Ok(())
    }

    fn dump_value(
        &mut self,
        out: &mut String,
        v: &Value,
        opts: &DumpOpts,
        level: usize,
    ) -> EResult<()> {
        match v {
            Value::Number(n) if n.as_i64().is_none() && n.as_u64().is_some() => {
                out.push_str(&n.to_string());
                Ok(())
            }
            other => self.dumps(out, view_value(other), opts, level),
        }
    }

    /// Method calls: `d.get('k')`, `s.upper()`, `xs.index(x)`.
    pub(super) fn call_method(
        &mut self,
        recv: Val<'a>,
        method: &str,
        args: Vec<Val<'a>>,
        mut kw: Kwargs<'a>,
    ) -> EResult<Val<'a>> {
        let view = recv.view();
        let type_name = view.type_name();
        let qualified = format!("{type_name}.{method}");
        if method == "format" && matches!(view, View::Str(_)) {
            let View::Str(s) = view else {
                return Ok(Val::None);
            };
            let out = self.format(s, &args, &mut kw)?;
            return Ok(Val::str(out));
        }
        no_kw(&qualified, &kw)?;
        let n = args.len();
        let no_method = || EvalError::failed(format!("`{type_name}` has no method `{method}`"));
        match view {
            View::Dict(m) => match method {
                "get" => {
                    arity(&qualified, n, 1, 2)?;
                    let mut args = args.into_iter();
                    let key = args.next().unwrap_or(Val::None);
                    let default = args.next().unwrap_or(Val::None);
                    let View::Str(k) = key.view() else {
                        return Ok(default);
                    };
                    if !m.contains_key(k) {
                        return Ok(default);
                    }
                    Ok(match recv {
                        Val::Ref(Value::Object(m)) => m.get(k).map_or(default, Val::Ref),
                        Val::Owned(Value::Object(mut m)) => m.remove(k).map_or(default, Val::Owned),
                        Val::Shared(rc) => match rc.get(k) {
                            Some(v) => Val::Owned(self.clone_value(v)?),
                            None => default,
                        },
                        _ => default,
                    })
                }
                "keys" => {
                    arity(&qualified, n, 0, 0)?;
                    self.alloc_items(m.len())?;
                    let mut out = Vec::with_capacity(m.len());
                    for k in m.keys() {
                        self.charge(k.len() as u64)?;
                        out.push(Value::String(k.clone()));
                    }
                    Ok(Val::list(out))
                }
                "values" => {
                    arity(&qualified, n, 0, 0)?;
                    self.alloc_items(m.len())?;
                    let mut out = Vec::with_capacity(m.len());
                    for v in m.values() {
                        out.push(self.clone_value(v)?);
                    }
                    Ok(Val::list(out))
                }
                "items" => {
                    arity(&qualified, n, 0, 0)?;
                    self.alloc_items(m.len() * 3)?;
                    let mut out = Vec::with_capacity(m.len());
                    for (k, v) in m {
                        self.charge(k.len() as u64)?;
                        out.push(Value::Array(vec![
                            Value::String(k.clone()),
                            self.clone_value(v)?,
                        ]));
                    }
                    Ok(Val::list(out))
                }
                "toDict" | "copy" => {
                    arity(&qualified, n, 0, 0)?;
                    // Values are immutable here, so a copy can share the original.
                    Ok(recv)
                }
                _ => Err(no_method()),
            },
            View::List(items) => match method {
                "index" | "count" => {
                    arity(&qualified, n, 1, 1)?;
                    let x = nth(&args, 0)?.view();
                    let mut count = 0;
                    for (i, v) in items.iter().enumerate() {
                        if self.py_eq(view_value(v), x)? {
                            if method == "index" {
                                return Ok(Val::Int(i64::try_from(i).map_err(|_| overflow())?));
                            }
                            count += 1;
                        }
                    }
                    if method == "index" {
                        let mut r = String::new();
                        write_repr(&mut r, x);
                        return Err(EvalError::failed(format!("{r} is not in list")));
                    }
                    Ok(Val::Int(count))
                }
                "copy" => {
                    arity(&qualified, n, 0, 0)?;
                    Ok(recv)
                }
                _ => Err(no_method()),
            },
            View::Str(s) => self
                .str_method(s, method, &qualified, args)
                .and_then(|r| r.ok_or_else(no_method)),
            _ => Err(no_method()),
        }
    }

    fn str_method(
        &mut self,
        s: &str,
        method: &str,
        qualified: &str,
        args: Vec<Val<'a>>,
    ) -> EResult<Option<Val<'a>>> {
        let n = args.len();
        let string = |ctx: &mut Ctx<'a>, out: String| -> EResult<Option<Val<'a>>> {
            ctx.check_str_len(out.len())?;
            Ok(Some(Val::str(out)))
        };
        let pred = |f: &dyn Fn(char) -> bool| Some(Val::Bool(!s.is_empty() && s.chars().all(f)));
        match method {
            "upper" | "lower" => {
                arity(qualified, n, 0, 0)?;
                self.step(s.len() as u64 / 64)?;
                let out = if method == "upper" {
                    s.to_uppercase()
                } else {
                    s.to_lowercase()
                };
                string(self, out)
            }
            "strip" | "lstrip" | "rstrip" => {
                arity(qualified, n, 0, 1)?;
                let chars: Option<Vec<char>> = match args.first().map(|a| a.view()) {
                    None | Some(View::None) => None,
                    Some(View::Str(c)) => Some(c.chars().collect()),
                    Some(other) => {
                        return Err(type_err(
                            &format!("`{qualified}` arg must be `None` or `str`"),
                            other,
                        ));
                    }
                };
                let is_strip = |c: char| match &chars {
                    Some(set) => set.contains(&c),
                    None => c.is_whitespace(),
                };
                let out = match method {
                    "strip" => s.trim_matches(is_strip),
                    "lstrip" => s.trim_start_matches(is_strip),
                    _ => s.trim_end_matches(is_strip),
                };
                string(self, out.to_string())
            }
            "split" => {
                arity(qualified, n, 0, 2)?;
                let sep = match args.first().map(|a| a.view()) {
                    None | Some(View::None) => None,
                    Some(View::Str(c)) => Some(c),
                    Some(other) => {
                        return Err(type_err(
                            &format!("`{qualified}` separator must be `None` or `str`"),
                            other,
                        ));
                    }
                };
                let maxsplit = self.opt_int_arg(qualified, args.get(1))?.unwrap_or(-1);
                let parts = python_split(s, sep, maxsplit)?;
                self.alloc_items(parts.len())?;
                self.charge(s.len() as u64)?;
                Ok(Some(Val::list(
                    parts
                        .into_iter()
                        .map(|p| Value::String(p.to_string()))
                        .collect(),
                )))
            }
            "join" => {
                arity(qualified, n, 1, 1)?;
                let iterable = args.into_iter().next().unwrap_or(Val::None);
                let items = self.collect(iterable)?;
                let mut out = String::new();
                for (i, item) in items.iter().enumerate() {
                    let View::Str(part) = self.need(item)? else {
                        return Err(EvalError::failed(format!(
                            "sequence item {i}: expected `str`, found `{}`",
                            item.view().type_name()
                        )));
                    };
                    if i > 0 {
                        out.push_str(s);
                    }
                    out.push_str(part);
                    if out.len() > self.limits.max_string_bytes {
                        break;
                    }
                }
                string(self, out)
            }
            "replace" => {
                arity(qualified, n, 2, 3)?;
                let old = self.str_arg(qualified, nth(&args, 0)?)?;
                let new = self.str_arg(qualified, nth(&args, 1)?)?;
                let count = self.opt_int_arg(qualified, args.get(2))?.unwrap_or(-1);
                let found = if old.is_empty() {
                    s.chars().count() + 1
                } else {
                    s.matches(old).count()
                };
                let times = if count < 0 {
                    found
                } else {
                    found.min(usize::try_from(count).unwrap_or(usize::MAX))
                };
                let len = s.len().saturating_add(times.saturating_mul(new.len()));
                self.check_str_len(len)?;
                self.step(s.len() as u64 / 64)?;
                let out = if count < 0 {
                    s.replace(old, new)
                } else {
                    s.replacen(old, new, times)
                };
                string(self, out)
            }
            "startswith" | "endswith" => {
                arity(qualified, n, 1, 1)?;
                let test = |p: &str| {
                    if method == "startswith" {
                        s.starts_with(p)
                    } else {
                        s.ends_with(p)
                    }
                };
                let found = match self.need(nth(&args, 0)?)? {
                    View::Str(p) => test(p),
                    View::List(ps) => ps.iter().any(|p| p.as_str().is_some_and(test)),
                    other => {
                        return Err(type_err(
                            &format!("`{qualified}` arg must be `str` or a list of `str`"),
                            other,
                        ));
                    }
                };
                Ok(Some(Val::Bool(found)))
            }
            "find" | "count" => {
                arity(qualified, n, 1, 3)?;
                let sub = self.str_arg(qualified, nth(&args, 0)?)?;
                let start = self.opt_int_arg(qualified, args.get(1))?;
                let end = self.opt_int_arg(qualified, args.get(2))?;
                self.step(s.len() as u64 / 64)?;
                let chars = s.chars().count();
                let (lo, hi) = (clamp_index(start, 0, chars), clamp_index(end, chars, chars));
                if lo > hi {
                    return Ok(Some(Val::Int(if method == "find" { -1 } else { 0 })));
                }
                let byte = |c: usize| s.char_indices().nth(c).map_or(s.len(), |(b, _)| b);
                let (blo, bhi) = (byte(lo), byte(hi));
                let hay = &s[blo..bhi];
                let r = if method == "find" {
                    match hay.find(sub) {
                        Some(b) => (lo + hay[..b].chars().count()) as i64,
                        None => -1,
                    }
                } else if sub.is_empty() {
                    (hi - lo + 1) as i64
                } else {
                    hay.matches(sub).count() as i64
                };
                Ok(Some(Val::Int(r)))
            }
            "isdigit" => {
                arity(qualified, n, 0, 0)?;
                Ok(pred(&|c: char| {
                    c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric())
                }))
            }
            "isalpha" => {
                arity(qualified, n, 0, 0)?;
                Ok(pred(&|c: char| c.is_alphabetic()))
            }
            "isalnum" => {
                arity(qualified, n, 0, 0)?;
                Ok(pred(&|c: char| c.is_alphanumeric()))
            }
            "isspace" => {
                arity(qualified, n, 0, 0)?;
                Ok(pred(&|c: char| c.is_whitespace()))
            }
            "islower" | "isupper" => {
                arity(qualified, n, 0, 0)?;
                let lower = method == "islower";
                let cased = s.chars().any(|c| c.is_lowercase() || c.is_uppercase());
                let ok = s.chars().all(|c| {
                    if lower {
                        !c.is_uppercase()
                    } else {
                        !c.is_lowercase()
                    }
                });
                Ok(Some(Val::Bool(cased && ok)))
            }
            _ => Ok(None),
        }
    }

    /// `str.format` with `{}`, `{0}` and `{name}` fields; format specs are not supported.
    fn format(&mut self, template: &str, args: &[Val<'a>], kw: &mut Kwargs<'a>) -> EResult<String> {
        let mut out = String::new();
        let mut auto = 0usize;
        let mut manual = false;
        let mut chars = template.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    out.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    out.push('}');
                }
                '}' => return Err(EvalError::failed("single `}` encountered in format string")),
                '{' => {
                    let mut field = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => field.push(c),
                            None => {
                                return Err(EvalError::failed(
                                    "single `{` encountered in format string",
                                ));
                            }
                        }
                    }
                    if field.contains([':', '!', '{', '[', '.']) {
                        return Err(EvalError::failed(format!(
                            "format field `{{{field}}}` is not supported, use `{{}}`, `{{0}}` or `{{name}}`"
                        )));
                    }
                    let v = if field.is_empty() {
                        if manual {
                            return Err(EvalError::failed(
                                "cannot switch from manual field numbering to automatic field numbering",
                            ));
                        }
                        auto += 1;
                        args.get(auto - 1).ok_or_else(|| {
                            EvalError::failed(format!("`format` has no argument {}", auto - 1))
                        })?
                    } else if let Ok(i) = field.parse::<usize>() {
                        if auto > 0 {
                            return Err(EvalError::failed(
                                "cannot switch from automatic field numbering to manual field specification",
                            ));
                        }
                        manual = true;
                        args.get(i).ok_or_else(|| {
                            EvalError::failed(format!("`format` has no argument {i}"))
                        })?
                    } else {
                        match kw.iter().find(|(k, _)| **k == *field) {
                            Some((_, v)) => v,
                            None => {
                                return Err(EvalError::failed(format!(
                                    "`format` has no keyword argument `{field}`"
                                )));
                            }
                        }
                    };
                    let s = self.py_str(v)?;
                    out.push_str(&s);
                    self.check_str_len(out.len())?;
                }
                c => out.push(c),
            }
        }
        Ok(out)
    }
}

struct DumpOpts {
    indent: Option<usize>,
    sort_keys: bool,
    ensure_ascii: bool,
}

impl DumpOpts {
    fn newline(&self, out: &mut String, level: usize) {
        if let Some(n) = self.indent {
            out.push('\n');
            out.extend(std::iter::repeat_n(
                ' ',
                n.saturating_mul(level).min(1 << 20),
            ));
        }
    }
}

/// A JSON string literal as Python's `json.dumps` writes it.
fn json_quote(out: &mut String, s: &str, ensure_ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (ensure_ascii && !(' '..='~').contains(&c)) => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn clamp_index(v: Option<i64>, default: usize, len: usize) -> usize {
    match v {
        None => default,
        Some(v) if v < 0 => usize::try_from(v.saturating_add(len as i64).max(0)).unwrap_or(0),
        Some(v) => usize::try_from(v).unwrap_or(usize::MAX).min(len),
    }
}

fn python_split<'s>(s: &'s str, sep: Option<&str>, maxsplit: i64) -> EResult<Vec<&'s str>> {
    let limit = usize::try_from(maxsplit).ok();
    match sep {
        Some("") => Err(EvalError::failed("empty separator")),
        Some(sep) => Ok(match limit {
            Some(m) => s.splitn(m.saturating_add(1), sep).collect(),
            None => s.split(sep).collect(),
        }),
        None => {
            // Runs of whitespace separate; leading and trailing whitespace is dropped.
            let mut out = Vec::new();
            let mut rest = s.trim_start();
            while !rest.is_empty() {
                if limit.is_some_and(|m| out.len() >= m) {
                    out.push(rest);
                    break;
                }
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                out.push(&rest[..end]);
                rest = rest[end..].trim_start();
            }
            Ok(out)
        }
    }
}

fn float_to_int(f: f64) -> EResult<i64> {
    if f.is_nan() {
        return Err(EvalError::failed("cannot convert float NaN to integer"));
    }
    if f.is_infinite() {
        return Err(EvalError::failed(
            "cannot convert float infinity to integer",
        ));
    }
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if (-LIMIT..LIMIT).contains(&f) {
        Ok(f as i64)
    } else {
        Err(overflow())
    }
}

/// Python `int(str, base)`: surrounding whitespace, a sign, `_` between digits, and a
/// `0x`/`0o`/`0b` prefix matching the base (any prefix with base 0).
fn parse_int(s: &str, base: u32) -> EResult<i64> {
    let invalid = || {
        let mut q = String::new();
        write_quoted(&mut q, s);
        EvalError::failed(format!("invalid literal for int() with base {base}: {q}"))
    };
    let t = s.trim();
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let lower = t.get(..2).map(str::to_ascii_lowercase);
    let prefixed = match lower.as_deref() {
        Some("0x") => Some(16),
        Some("0o") => Some(8),
        Some("0b") => Some(2),
        _ => None,
    };
    let (radix, digits) = match (base, prefixed) {
        (0, Some(r)) => (r, &t[2..]),
        (0, None) => {
            if t.len() > 1 && t.starts_with('0') && t.bytes().any(|b| b != b'0' && b != b'_') {
                return Err(invalid());
            }
            (10, t)
        }
        (b, Some(r)) if b == r => (r, &t[2..]),
        (b, _) => (b, t),
    };
    let digits = if prefixed.is_some() && radix != 10 {
        digits.strip_prefix('_').unwrap_or(digits)
    } else {
        digits
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return Err(invalid());
    }
    let mut acc: i128 = 0;
    for c in digits.chars().filter(|c| *c != '_') {
        let d = c.to_digit(radix).ok_or_else(invalid)?;
        acc = acc
            .checked_mul(i128::from(radix))
            .and_then(|a| a.checked_add(i128::from(d)))
            .ok_or_else(overflow)?;
        if acc > i128::from(i64::MAX) + 1 {
            return Err(overflow());
        }
    }
    let v = if neg { -acc } else { acc };
    i64::try_from(v).map_err(|_| overflow())
}

/// Python `float(str)`: whitespace, `inf`, `nan`, exponents and `_` between digits.
fn parse_float(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    let cleaned: String;
    let t = if t.contains('_') {
        let b = t.as_bytes();
        for (i, c) in b.iter().enumerate() {
            if *c == b'_' {
                let ok = i > 0
                    && b[i - 1].is_ascii_digit()
                    && b.get(i + 1).is_some_and(u8::is_ascii_digit);
                if !ok {
                    return None;
                }
            }
        }
        cleaned = t.replace('_', "");
        cleaned.as_str()
    } else {
        t
    };
    // Rust accepts a few spellings Python does not (e.g. `infinity` is fine in both).
    if t.bytes()
        .any(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-')))
    {
        return None;
    }
    t.parse().ok()
}
