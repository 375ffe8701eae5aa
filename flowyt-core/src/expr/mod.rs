//! Flowyt's template and expression language.
//!
//! Legacy flows embed Python expressions in strings: `"${env.baseUrl}/users/${request.qs.user}"`.
//! This module parses such strings once into a [`Template`] (text and [`Expr`] segments) and
//! evaluates them against a [`Scope`] (the context roots `request`, `env`, `flow`, ... and the
//! registered `function.*` callables).
//!
//! The language is a Python subset: literals, names, attribute and index access, slices, calls,
//! arithmetic and comparison operators with Python's precedence and semantics, `and`/`or`/`not`,
//! conditional expressions, list and dict comprehensions and `lambda`. Where the legacy engine
//! was inconsistent, the decisions of the flowyt spec apply:
//!
//! - a template that is exactly one `${expr}` yields the typed JSON value; a template embedded
//!   in longer text is spliced in with Python `str()` rendering (`True`, `None`, `25.0`);
//! - a path that does not resolve is *missing*: it behaves as `None`, and splicing it into text
//!   is an [`EvalError::Missing`] naming the path;
//! - `${` ends at its matching `}`, and `$${` is a literal `${`.
//!
//! Evaluation is bounded: a step budget, caps on produced strings and lists and on the total
//! amount of data built, and a recursion limit (see [`EvalLimits`]).
//!
//! ```
//! use flowyt_core::expr::{Scope, Template};
//! use serde_json::{Value, json};
//!
//! struct Ctx(Value);
//! impl Scope for Ctx {
//!     fn root(&self, name: &str) -> Option<&Value> {
//!         self.0.get(name)
//!     }
//!     fn call(&self, _path: &[&str], _args: Vec<Value>) -> Option<Result<Value, String>> {
//!         None
//!     }
//! }
//!
//! let ctx = Ctx(json!({"request": {"qs": {"n": "3"}}}));
//! let t = Template::parse("${int(request.qs.n) * 2}").unwrap();
//! assert_eq!(t.render(&ctx).unwrap(), json!(6));
//! let t = Template::parse("n=${int(request.qs.n) / 2}").unwrap();
//! assert_eq!(t.render(&ctx).unwrap(), json!("n=1.5"));
//! ```

use std::fmt;
use std::ops::Range;

mod ast;
mod builtins;
#[doc(hidden)]
pub mod compile;
mod eval;
mod lexer;
mod parser;
mod pystr;
mod reads;
mod template;
mod types;
pub mod url;
mod value;

#[doc(hidden)]
pub use ast::{BinOp, CmpOp, Generator, Kind as ExprKind, Kwarg, Node, UnaryOp};
pub use ast::{Expr, PathSeg};
pub use eval::{EvalError, EvalLimits, Evaluated, Scope};
pub use pystr::{python_float_repr, python_repr, python_str};
pub use reads::{Read, ReadStep};
pub use template::{Part, Segment, Template};
pub use types::{
    OPERATORS, OpCheck, Operand, TypeCheck, TypeEnv, TypeError, TypedCall, Types, Untyped,
    op_result, op_succeeds,
};

/// True for the names expressions may use without any context root: `len`, `str`, `json`, …
pub fn is_builtin(name: &str) -> bool {
    builtins::Builtin::from_name(name).is_some() || matches!(name, "True" | "False" | "None")
}

/// A template or expression that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// One-line lowercase message, names in backticks, e.g. "expected an expression after `+`".
    pub message: String,
    /// Byte range of the offending text in the string that was parsed (for a [`Template`], the
    /// whole template source).
    pub range: Range<usize>,
}

impl SyntaxError {
    pub(crate) fn new(message: impl Into<String>, range: Range<usize>) -> SyntaxError {
        SyntaxError {
            message: message.into(),
            range,
        }
    }

    /// Shifts the range by `by` bytes, for an expression embedded in a larger source.
    pub(crate) fn offset(mut self, by: usize) -> SyntaxError {
        self.range = self.range.start + by..self.range.end + by;
        self
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SyntaxError {}
