//! Token positions for the core model, and core diagnostics back to `syn::Error`s.
//!
//! Lowering (in flowyt-core) hands out a `Loc` for every node it keeps; [`Table`] remembers the
//! token span behind each one, plus the string literal when there is one, so that a problem
//! inside a template can point into the literal. [`errors`] turns every error-level
//! diagnostic into one combined `syn::Error`: rustc then reports them all at once; [`warnings`]
//! turns the warnings into rustc warnings.

use flowyt_core::diag::Diagnostic;
use flowyt_core::loc::{Loc, LocTable};
use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned};
use std::ops::Range;

/// Where a node of the token tree came from: its span and, for string literals, the literal
/// (an index into [`Table`]'s literals; `Pos` must be `Copy` for core's lowering).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pos {
    pub span: Span,
    pub lit: Option<usize>,
}

impl Pos {
    pub(crate) fn new(span: Span) -> Pos {
        Pos { span, lit: None }
    }
}

/// The location table of one macro call.
#[derive(Default)]
pub(crate) struct Table {
    positions: Vec<Pos>,
    literals: Vec<Literal>,
}

impl LocTable for Table {
    type Pos = Pos;
    fn push(&mut self, pos: Pos) -> Loc {
        self.positions.push(pos);
        Loc(u32::try_from(self.positions.len() - 1).unwrap_or(u32::MAX))
    }
}

impl Table {
    /// Remembers a string literal and returns its position.
    pub(crate) fn literal(&mut self, lit: &syn::LitStr) -> Pos {
        self.literals.push(lit.token());
        Pos {
            span: lit.span(),
            lit: Some(self.literals.len() - 1),
        }
    }

    /// The span of `loc` (the call site if the table never handed it out, which would be a bug).
    pub(crate) fn span(&self, loc: Loc) -> Span {
        self.positions
            .get(loc.0 as usize)
            .map_or_else(Span::call_site, |p| p.span)
    }

    /// The span of `loc`, narrowed to `within` (a byte range of the decoded string) when the
    /// compiler can point inside literals (nightly); the whole literal otherwise.
    pub(crate) fn span_within(&self, loc: Loc, within: Option<Range<usize>>) -> Span {
        let Some(pos) = self.positions.get(loc.0 as usize) else {
            return Span::call_site();
        };
        let (Some(within), Some(lit)) = (within, pos.lit.and_then(|i| self.literals.get(i))) else {
            return pos.span;
        };
        match content_offset(&lit.to_string()) {
            Some(offset) => lit
                .subspan(offset + within.start..offset + within.end)
                .unwrap_or(pos.span),
            None => pos.span,
        }
    }
}

/// Where the text of a string literal starts in its source (`"` or `r#"`), when byte `i` of
/// the decoded value is byte `offset + i` of the source, i.e. when it has no escapes.
fn content_offset(source: &str) -> Option<usize> {
    if let Some(rest) = source.strip_prefix('r') {
        let hashes = rest.bytes().take_while(|b| *b == b'#').count();
        return rest[hashes..].starts_with('"').then_some(hashes + 2);
    }
    (source.starts_with('"') && !source.contains('\\')).then_some(1)
}

/// The message of a diagnostic as rustc shows it on stable: help and notes folded in, since
/// stable proc-macros cannot attach `help:` sub-diagnostics.
pub(crate) fn message(d: &Diagnostic) -> String {
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\n= help: ");
        message.push_str(help);
    }
    for (_, note) in &d.notes {
        message.push_str("\n= note: ");
        message.push_str(note);
    }
    message
}

/// Every error-level diagnostic as one combined `syn::Error`, in source order; `None` when
/// there are none (warnings alone do not stop the build).
pub(crate) fn errors(diags: &[Diagnostic], table: &Table) -> Option<syn::Error> {
    let mut errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
    errors.sort_by_key(|d| d.at);
    combine(
        errors
            .into_iter()
            .map(|d| syn::Error::new(table.span_within(d.at, d.within.clone()), message(d))),
    )
}

/// Every warning-level diagnostic as a rustc warning at its token (see [`warning_at`]), in
/// source order.
pub(crate) fn warnings(diags: &[Diagnostic], table: &Table) -> TokenStream {
    let mut warnings: Vec<&Diagnostic> = diags.iter().filter(|d| !d.is_error()).collect();
    warnings.sort_by_key(|d| d.at);
    let uses = warnings.into_iter().map(|d| {
        warning_at(
            table.span_within(d.at, d.within.clone()),
            d.code.name(),
            &message(d),
        )
    });
    quote!(#(#uses)*)
}

/// A warning rustc reports at `span` on stable, where proc-macros cannot emit warnings: a use
/// of a deprecated constant whose note is the message (what the proc-macro-warning crate does).
/// It is the `deprecated` lint, so `#![deny(warnings)]` turns it into an error and
/// `#[allow(deprecated)]` silences it.
pub(crate) fn warning_at(span: Span, code: &str, message: &str) -> TokenStream {
    let name = quote::format_ident!("flowyt_{}", code.replace('-', "_"), span = span);
    let note = format!("flowyt: {message}");
    quote_spanned! {span=>
        {
            #[deprecated(note = #note)]
            #[allow(non_upper_case_globals)]
            const #name: () = ();
            let () = #name;
        }
    }
}

/// Joins errors into one (rustc reports each), `None` for none.
pub(crate) fn combine(errors: impl IntoIterator<Item = syn::Error>) -> Option<syn::Error> {
    errors.into_iter().reduce(|mut all, e| {
        all.combine(e);
        all
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowyt_core::diag::Code;

    #[test]
    fn content_offset_skips_quotes_and_raw_prefix() {
        assert_eq!(content_offset(r#""a${x}""#), Some(1));
        assert_eq!(content_offset(r###"r#"a${x}"#"###), Some(3));
        assert_eq!(content_offset(r#"r"a""#), Some(2));
        // With escapes the decoded bytes no longer line up with the source.
        assert_eq!(content_offset(r#""a\n${x}""#), None);
    }

    #[test]
    fn message_folds_help_and_notes() {
        let d = Diagnostic::error(Code::DuplicateId, Loc(0), "duplicate action id `a`")
            .with_help(Some("give each action its own id".into()))
            .with_note(Loc(1), "`a` is first defined here");
        assert_eq!(
            message(&d),
            "duplicate action id `a`\n= help: give each action its own id\n= note: `a` is first defined here"
        );
    }

    #[test]
    fn warnings_do_not_become_errors() {
        let mut table = Table::default();
        let at = table.push(Pos::new(Span::call_site()));
        let warning = Diagnostic::warning(Code::MissingBranch, at, "no fail branch");
        assert!(errors(std::slice::from_ref(&warning), &table).is_none());
        let error = Diagnostic::error(Code::DanglingNext, at, "dangling");
        let combined = errors(&[warning, error.clone(), error], &table).expect("two errors");
        assert_eq!(combined.into_iter().count(), 2);
    }
}
