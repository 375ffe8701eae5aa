//! The table of which operand types each template operator accepts, as trait impls over the
//! runtime's marker types, generated from the evaluator's own verdicts
//! (`flowyt_core::expr::op_succeeds`) so the compile-time checks of operations on
//! `#[flow_function]` results can never disagree with a run.

use crate::kinds;
use flowyt_core::expr::{OPERATORS, Types, op_result};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

/// The trait, and the function `flow!` calls, for an operator.
fn names(op: &str) -> Option<(&'static str, &'static str)> {
    Some(match op {
        "+" => ("Add", "add"),
        "-" => ("Sub", "sub"),
        "*" => ("Mul", "mul"),
        "/" => ("Div", "div"),
        "//" => ("FloorDiv", "floor_div"),
        "%" => ("Mod", "modulo"),
        "**" => ("Pow", "pow"),
        "<" => ("Lt", "lt"),
        "<=" => ("Le", "le"),
        ">" => ("Gt", "gt"),
        ">=" => ("Ge", "ge"),
        "in" => ("In", "is_in"),
        "not in" => ("NotIn", "not_in"),
        "neg" => ("Neg", "neg"),
        "pos" => ("Pos", "pos"),
        _ => return None,
    })
}

/// The check function `flow!` calls for `op`.
pub(crate) fn check_fn(op: &str) -> Option<Ident> {
    names(op).map(|(_, f)| Ident::new(f, Span::call_site()))
}

/// The trait for `op`, whose `Output` is the marker of the operation's result.
pub(crate) fn trait_name(op: &str) -> Option<Ident> {
    names(op).map(|(t, _)| Ident::new(t, Span::call_site()))
}

/// `__private::ops`' contents (the `__op_table!()` the runtime expands).
pub(crate) fn table() -> TokenStream {
    let markers: Vec<(Ident, Types)> = kinds::markers().collect();
    let mut out = TokenStream::new();
    for op in OPERATORS {
        let Some((tr, f)) = names(op) else { continue };
        let tr = format_ident!("{}", tr);
        let f = format_ident!("{}", f);
        let unary = matches!(op, "neg" | "pos");
        let shown = if unary {
            format!("unary `{}`", if op == "neg" { "-" } else { "+" })
        } else {
            format!("`{op}`")
        };
        if unary {
            let message = format!("bad operand type for {shown}: `{{Self}}`");
            let ok = markers.iter().filter_map(|(m, t)| {
                let result = kinds::marker(op_result(op, *t, Types::NULL)?);
                Some(quote!(impl #tr for #m { type Output = #result; }))
            });
            out.extend(quote! {
                #[diagnostic::on_unimplemented(message = #message, label = "a `#[flow_function]` returns this")]
                pub trait #tr {
                    /// The marker of the result.
                    type Output;
                }
                impl #tr for unknown { type Output = unknown; }
                #(#ok)*
                /// Requires the operand to take the operator; called by code that never runs.
                pub fn #f<T: #tr>() {}
            });
        } else {
            let message = format!("unsupported operand types for {shown}: `{{Self}}` and `{{R}}`");
            let mut impls = Vec::new();
            for (a, ta) in &markers {
                impls.push(quote!(impl #tr<unknown> for #a { type Output = unknown; }));
                for (b, tb) in &markers {
                    if let Some(result) = op_result(op, *ta, *tb) {
                        let result = kinds::marker(result);
                        impls.push(quote!(impl #tr<#b> for #a { type Output = #result; }));
                    }
                }
            }
            out.extend(quote! {
                #[diagnostic::on_unimplemented(message = #message, label = "a `#[flow_function]` returns one of these")]
                pub trait #tr<R> {
                    /// The marker of the result.
                    type Output;
                }
                impl<R> #tr<R> for unknown { type Output = unknown; }
                #(#impls)*
                /// Requires the operands to take the operator; called by code that never runs.
                pub fn #f<L: #tr<R>, R>() {}
            });
        }
    }
    out
}
