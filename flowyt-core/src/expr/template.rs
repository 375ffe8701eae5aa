//! Templates: text with `${expr}` segments.

use std::ops::Range;

use serde_json::Value;

use super::SyntaxError;
use super::ast::Expr;
use super::eval::{Ctx, EvalError, EvalLimits, Evaluated, Scope};
use super::pystr::write_str;
use super::value::Val;

/// A parsed template such as `"${env.baseUrl}/users/${request.qs.user}"`.
///
/// A `${` ends at its *matching* `}`: braces nest, and string literals inside the expression
/// are skipped, so `${ {'a': 1}['a'] }` works. `$${` is a literal `${`. A lone `$` or `{` is
/// literal text.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub(crate) parts: Vec<Part>,
}

/// A piece of a [`Template`].
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Literal text, with `$${` already turned into `${`.
    Text(String),
    /// A `${...}` segment.
    Expr(Segment),
}

/// One `${...}` of a template.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// The parsed expression; its own ranges are relative to `expr_range.start`.
    pub expr: Expr,
    /// The whole `${...}` in the template source.
    pub range: Range<usize>,
    /// The text between `${` and `}` in the template source.
    pub expr_range: Range<usize>,
}

impl Template {
    /// Parses a template. Errors carry byte ranges into `src`.
    pub fn parse(src: &str) -> Result<Template, SyntaxError> {
        let bytes = src.as_bytes();
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut lit_start = 0;
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'$' {
                i += 1;
                continue;
            }
            if bytes.get(i + 1) == Some(&b'$') && bytes.get(i + 2) == Some(&b'{') {
                text.push_str(&src[lit_start..i]);
                text.push_str("${");
                i += 3;
                lit_start = i;
                continue;
            }
            if bytes.get(i + 1) != Some(&b'{') {
                i += 1;
                continue;
            }
            text.push_str(&src[lit_start..i]);
            let inner = i + 2;
            let close = find_close(src, i)?;
            let body = &src[inner..close];
            if body.trim().is_empty() {
                return Err(SyntaxError::new("empty template expression", i..close + 1));
            }
            let expr = Expr::parse(body).map_err(|e| e.offset(inner))?;
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(Part::Expr(Segment {
                expr,
                range: i..close + 1,
                expr_range: inner..close,
            }));
            i = close + 1;
            lit_start = i;
        }
        text.push_str(&src[lit_start..]);
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template { parts })
    }

    /// A guess of the rendered text's length, to allocate it once: the literal text plus a
    /// few bytes per `${...}`.
    pub(crate) fn size_hint(&self) -> usize {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.len(),
                Part::Expr(_) => 16,
            })
            .sum()
    }

    /// The text and expression parts, in order. Adjacent text is merged into one part.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The `${...}` segments, in order.
    pub fn segments(&self) -> impl Iterator<Item = &Segment> {
        self.parts.iter().filter_map(|p| match p {
            Part::Expr(s) => Some(s),
            Part::Text(_) => None,
        })
    }

    /// Whether the template has no `${...}` at all.
    pub fn is_literal(&self) -> bool {
        self.segments().next().is_none()
    }

    /// The segment, when the whole template is exactly one `${...}` (no text around it, not
    /// even whitespace). Such a template renders to the typed value.
    pub fn single(&self) -> Option<&Segment> {
        match self.parts.as_slice() {
            [Part::Expr(s)] => Some(s),
            _ => None,
        }
    }

    /// The text of a literal template (with `$${` unescaped), `None` if it has expressions.
    pub fn literal_text(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [Part::Text(t)] => Some(t),
            _ => None,
        }
    }

    /// [`Expr::free_names`] of every segment, with ranges in the template source.
    pub fn free_names(&self) -> Vec<(String, Range<usize>)> {
        self.segments()
            .flat_map(|s| {
                let at = s.expr_range.start;
                s.expr
                    .free_names()
                    .into_iter()
                    .map(move |(n, r)| (n, r.start + at..r.end + at))
            })
            .collect()
    }

    /// [`Expr::function_calls`] of every segment, with ranges in the template source.
    pub fn function_calls(&self) -> Vec<(Vec<String>, Range<usize>)> {
        self.segments()
            .flat_map(|s| {
                let at = s.expr_range.start;
                s.expr
                    .function_calls()
                    .into_iter()
                    .map(move |(p, r)| (p, r.start + at..r.end + at))
            })
            .collect()
    }

    /// [`Expr::root_keys`] of every segment, ranges in the template source.
    pub fn root_keys(&self, root: &str) -> Vec<(String, Range<usize>)> {
        self.segments()
            .flat_map(|s| {
                let at = s.expr_range.start;
                s.expr
                    .root_keys(root)
                    .into_iter()
                    .map(move |(k, r)| (k, r.start + at..r.end + at))
            })
            .collect()
    }

    /// [`Expr::attribute_chains`] of every segment, ranges in the template source.
    pub fn attribute_chains(&self, root: &str) -> Vec<(Vec<String>, Range<usize>)> {
        self.segments()
            .flat_map(|s| {
                let at = s.expr_range.start;
                s.expr
                    .attribute_chains(root)
                    .into_iter()
                    .map(move |(p, r)| (p, r.start + at..r.end + at))
            })
            .collect()
    }

    /// [`Expr::string_literals`] of every segment.
    pub fn string_literals(&self) -> Vec<&str> {
        self.segments()
            .flat_map(|s| s.expr.string_literals())
            .collect()
    }

    /// Renders the template with the scope's [`EvalLimits`] ([`Scope::limits`]).
    ///
    /// - exactly one `${expr}`: the typed JSON value (`${1 + 2}` is `3`, `${None}` is `null`,
    ///   a missing path is `null`);
    /// - otherwise a string, each expression spliced in with Python `str()` (`True`, `None`,
    ///   `25.0`, `['a', 1]`); splicing a missing path is [`EvalError::Missing`];
    /// - a literal template is its text.
    ///
    /// Error ranges point into the template source.
    pub fn render(&self, scope: &dyn Scope) -> Result<Value, EvalError> {
        self.render_with(scope, &scope.limits())
    }

    /// [`Template::render`] with explicit limits (applied to each segment).
    pub fn render_with(&self, scope: &dyn Scope, limits: &EvalLimits) -> Result<Value, EvalError> {
        if let Some(seg) = self.single() {
            return seg
                .expr
                .eval_with(scope, limits)
                .map(Evaluated::into_value)
                .map_err(|e| e.offset(seg.expr_range.start));
        }
        let mut out = String::with_capacity(self.size_hint());
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Expr(seg) => splice(&mut out, &seg.expr, scope, limits)
                    .map_err(|e| e.offset(seg.expr_range.start))?,
            }
        }
        Ok(Value::String(out))
    }
}

fn splice(
    out: &mut String,
    expr: &Expr,
    scope: &dyn Scope,
    limits: &EvalLimits,
) -> Result<(), EvalError> {
    let mut ctx = Ctx::new(&expr.src, scope, *limits);
    let v = expr.run(&mut ctx)?;
    if let Val::Missing(r) = &v {
        return Err(ctx.missing_err(r));
    }
    write_str(out, v.view());
    Ok(())
}

/// The byte index of the `}` closing the `${` at `dollar`, skipping nested braces and
/// string literals.
fn find_close(src: &str, dollar: usize) -> Result<usize, SyntaxError> {
    let bytes = src.as_bytes();
    let mut depth = 0usize;
    let mut i = dollar + 2;
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'\'' | b'"') => {
                let triple = bytes.get(i + 1) == Some(&q) && bytes.get(i + 2) == Some(&q);
                let open = if triple { 3 } else { 1 };
                let mut j = i + open;
                let mut closed = None;
                while j < bytes.len() {
                    match bytes[j] {
                        b'\\' => j += 2,
                        c if c == q => {
                            if !triple {
                                closed = Some(j + 1);
                                break;
                            }
                            if bytes.get(j + 1) == Some(&q) && bytes.get(j + 2) == Some(&q) {
                                closed = Some(j + 3);
                                break;
                            }
                            j += 1;
                        }
                        _ => j += 1,
                    }
                }
                match closed {
                    Some(end) => i = end,
                    None => {
                        return Err(SyntaxError::new("unterminated string literal", i..i + open));
                    }
                }
            }
            b'{' => {
                depth += 1;
                i += 1;
            }
            b'}' => {
                if depth == 0 {
                    return Ok(i);
                }
                depth -= 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    Err(SyntaxError::new(
        "unterminated `${`: no matching `}`",
        dollar..dollar + 2,
    ))
}
