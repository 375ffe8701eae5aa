//! Runtime values of the evaluator.
//!
//! [`Val`] avoids cloning the context: values read from a [`Scope`](super::Scope) root or from
//! a literal in the tree are borrowed (`Ref`), and only values the expression builds are
//! owned. [`View`] is the normalised shape every operator inspects.

use std::ops::Range;
use std::rc::Rc;

use serde_json::{Map, Value};

use super::ast::Node;
use super::builtins::Builtin;

/// A value during evaluation. `'a` is the lifetime of the expression tree and the scope.
#[derive(Debug, Clone)]
pub(super) enum Val<'a> {
    None,
    Bool(bool),
    Int(i64),
    /// May be `inf` or `nan`, which JSON cannot hold (Python can, and prints them).
    Float(f64),
    /// A borrowed string, e.g. a key of a borrowed dict.
    StrRef(&'a str),
    /// Borrowed from the scope or from a literal in the tree.
    Ref(&'a Value),
    /// Built by the expression. Never stored in a local variable (see [`Val::into_local`]).
    Owned(Value),
    /// An owned value bound to a local, shared so that reading the local is cheap.
    Shared(Rc<Value>),
    /// A path that did not resolve; the range is the path's text in the source.
    Missing(Range<usize>),
    Func(Func<'a>),
}

/// A callable value.
#[derive(Debug, Clone)]
pub(super) enum Func<'a> {
    Builtin(Builtin),
    Lambda(Rc<Closure<'a>>),
}

/// A `lambda` with the local variables it captured.
#[derive(Debug)]
pub(super) struct Closure<'a> {
    pub params: &'a [(String, Range<usize>)],
    pub body: &'a Node,
    pub env: Vec<(&'a str, Val<'a>)>,
}

/// A borrowed, normalised look at a [`Val`].
#[derive(Debug, Clone, Copy)]
pub(super) enum View<'v> {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'v str),
    List(&'v [Value]),
    Dict(&'v Map<String, Value>),
    Missing(&'v Range<usize>),
    /// A callable; the payload is its Python type name.
    Func(&'static str),
}

/// A number operand: `bool` counts as an int, as in Python.
#[derive(Debug, Clone, Copy)]
pub(super) enum Num {
    I(i64),
    F(f64),
}

impl<'a> Val<'a> {
    pub(super) fn view(&self) -> View<'_> {
        match self {
            Val::None => View::None,
            Val::Bool(b) => View::Bool(*b),
            Val::Int(i) => View::Int(*i),
            Val::Float(f) => View::Float(*f),
            Val::StrRef(s) => View::Str(s),
            Val::Ref(v) => view_value(v),
            Val::Owned(v) => view_value(v),
            Val::Shared(v) => view_value(v),
            Val::Missing(r) => View::Missing(r),
            Val::Func(Func::Builtin(b)) => View::Func(b.type_name()),
            Val::Func(Func::Lambda(_)) => View::Func("function"),
        }
    }

    /// Owned values become shared so that locals can be cloned cheaply.
    pub(super) fn into_local(self) -> Val<'a> {
        match self {
            Val::Owned(v) => match v {
                Value::Null => Val::None,
                Value::Bool(b) => Val::Bool(b),
                Value::Number(n) => match n.as_i64() {
                    Some(i) => Val::Int(i),
                    None => Val::Float(n.as_f64().unwrap_or(f64::NAN)),
                },
                other => Val::Shared(Rc::new(other)),
            },
            other => other,
        }
    }

    pub(super) fn str(s: String) -> Val<'a> {
        Val::Owned(Value::String(s))
    }

    pub(super) fn list(items: Vec<Value>) -> Val<'a> {
        Val::Owned(Value::Array(items))
    }
}

pub(super) fn view_value(v: &Value) -> View<'_> {
    match v {
        Value::Null => View::None,
        Value::Bool(b) => View::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => View::Int(i),
            None => View::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => View::Str(s),
        Value::Array(a) => View::List(a),
        Value::Object(m) => View::Dict(m),
    }
}

impl<'v> View<'v> {
    /// Python's type name, for messages.
    pub(super) fn type_name(&self) -> &'static str {
        match self {
            View::None | View::Missing(_) => "NoneType",
            View::Bool(_) => "bool",
            View::Int(_) => "int",
            View::Float(_) => "float",
            View::Str(_) => "str",
            View::List(_) => "list",
            View::Dict(_) => "dict",
            View::Func(name) => name,
        }
    }

    /// Python truthiness; a missing value is falsy.
    pub(super) fn truthy(&self) -> bool {
        match self {
            View::None | View::Missing(_) => false,
            View::Bool(b) => *b,
            View::Int(i) => *i != 0,
            View::Float(f) => *f != 0.0,
            View::Str(s) => !s.is_empty(),
            View::List(l) => !l.is_empty(),
            View::Dict(d) => !d.is_empty(),
            View::Func(_) => true,
        }
    }

    pub(super) fn num(&self) -> Option<Num> {
        match self {
            View::Bool(b) => Some(Num::I(i64::from(*b))),
            View::Int(i) => Some(Num::I(*i)),
            View::Float(f) => Some(Num::F(*f)),
            _ => None,
        }
    }

    /// An integer operand (`bool` included), for indexes and counts.
    pub(super) fn int(&self) -> Option<i64> {
        match self {
            View::Bool(b) => Some(i64::from(*b)),
            View::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub(super) fn is_none(&self) -> bool {
        matches!(self, View::None | View::Missing(_))
    }
}

impl Num {
    pub(super) fn as_f64(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::F(f) => f,
        }
    }
}

/// Exact comparison of an int and a float, as Python does.
pub(super) fn int_float_eq(i: i64, f: f64) -> bool {
    // 2^63 as f64; every finite float in [-2^63, 2^63) with no fraction fits an i64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    f.is_finite() && f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f) && f as i64 == i
}

/// An approximation of the memory a value takes, used by the allocation budget. Stops
/// counting once `limit` is passed.
pub(super) fn weight(v: &Value, limit: u64) -> u64 {
    fn walk(v: &Value, acc: &mut u64, limit: u64) {
        if *acc > limit {
            return;
        }
        *acc += 16;
        match v {
            Value::String(s) => *acc += s.len() as u64,
            Value::Array(a) => {
                for x in a {
                    walk(x, acc, limit);
                    if *acc > limit {
                        return;
                    }
                }
            }
            Value::Object(m) => {
                for (k, x) in m {
                    *acc += 16 + k.len() as u64;
                    walk(x, acc, limit);
                    if *acc > limit {
                        return;
                    }
                }
            }
            _ => {}
        }
    }
    let mut acc = 0;
    walk(v, &mut acc, limit);
    acc
}
