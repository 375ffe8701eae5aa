//! The Rust `flow!` generates for a flow's `${...}` expressions: one function per distinct
//! expression, which the runtime runs instead of the expression's tree.

use crate::paths::Runtime;
use flowyt_core::expr::Expr;
use flowyt_core::model::Flow;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// The generated functions of some expressions.
pub(crate) struct Functions {
    /// The `fn __flowyt_expr_N` items.
    pub items: TokenStream,
    /// The function of each expression source that compiles.
    pub by_source: HashMap<String, TokenStream>,
    /// The tree each function was generated from, by source (for `Generated`'s fingerprint).
    fingerprints: Vec<(String, u64, proc_macro2::Ident)>,
}

/// The functions of every expression of `flows` that compiles (see
/// `flowyt_core::expr::compile`): the items, to expand beside the baked flows, and by source,
/// for the baker to put each in its expression.
pub(crate) fn compiled<'f>(
    flows: impl IntoIterator<Item = &'f Flow>,
    runtime: &Runtime,
) -> syn::Result<Functions> {
    let templates = flows
        .into_iter()
        .flat_map(flowyt_core::validate::evaluated_templates);
    functions(
        templates.flat_map(|t| t.segments().map(|s| &s.expr)),
        runtime,
    )
}

fn functions<'e>(
    exprs: impl IntoIterator<Item = &'e Expr>,
    runtime: &Runtime,
) -> syn::Result<Functions> {
    let private = runtime.private();
    let baker = runtime.baker();
    let mut sources = BTreeMap::new();
    for expr in exprs {
        let src = expr.source();
        if sources.contains_key(src) {
            continue;
        }
        if let Some(rust) = expr.to_rust() {
            sources.insert(src.to_string(), (expr.fingerprint(), rust));
        }
    }
    let mut items = Vec::with_capacity(sources.len());
    let mut by_source = HashMap::with_capacity(sources.len());
    let mut fingerprints = Vec::with_capacity(sources.len());
    for (k, (src, (fingerprint, rust))) in sources.into_iter().enumerate() {
        let body: TokenStream = syn::parse_str(&rust.body).map_err(|e| {
            syn::Error::new(
                Span::call_site(),
                format!("flowyt bug: the code generated for `${{{src}}}` does not parse: {e}"),
            )
        })?;
        let consts = if rust.consts.is_empty() {
            TokenStream::new()
        } else {
            let n = rust.consts.len();
            let values = rust.consts.iter().map(|v| baker.bake(v));
            quote! {
                static __C: ::std::sync::LazyLock<[#private::serde_json::Value; #n]> =
                    ::std::sync::LazyLock::new(|| [#(#values),*]);
            }
        };
        let name = format_ident!("__flowyt_expr_{}", k);
        items.push(quote! {
            #[allow(unused_variables, unused_mut, clippy::all)]
            fn #name<'a>(
                e: &mut #private::Eval<'a, '_>,
            ) -> ::core::result::Result<#private::V<'a>, #private::EvalError> {
                #[allow(unused_imports)]
                use #private::{Eval as __Eval, EvalError as __EvalError, V as __V};
                #consts
                #body
            }
        });
        by_source.insert(src.clone(), quote!(#name));
        fingerprints.push((src, fingerprint, name));
    }
    Ok(Functions {
        items: quote!(#(#items)*),
        by_source,
        fingerprints,
    })
}

/// Expands `__compiled_templates!("dir")` (see the macro).
pub(crate) fn expand_corpus(input: TokenStream) -> syn::Result<TokenStream> {
    let lit: syn::LitStr = syn::parse2(input)?;
    let root = crate::include::resolve(&lit, "__compiled_templates!")?;
    let mut files = Vec::new();
    json_files(&root, &mut files);
    files.sort();
    let mut exprs = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let Ok(value) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        templates(&value, &mut |s| {
            if let Ok(t) = flowyt_core::expr::Template::parse(s) {
                exprs.extend(t.segments().map(|seg| seg.expr.clone()));
            }
        });
    }
    let runtime = Runtime::default();
    let private = runtime.private();
    let Functions {
        items,
        fingerprints,
        ..
    } = functions(&exprs, &runtime)?;
    let entries = fingerprints.iter().map(|(source, fingerprint, name)| {
        quote!(#private::Generated { source: #source, fingerprint: #fingerprint, run: #name })
    });
    Ok(quote!({
        #items
        ::std::vec![#(#entries),*]
    }))
}

fn json_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn templates(v: &Value, f: &mut dyn FnMut(&str)) {
    match v {
        Value::String(s) if s.contains("${") => f(s),
        Value::Array(items) => items.iter().for_each(|i| templates(i, f)),
        Value::Object(map) => map.values().for_each(|i| templates(i, f)),
        _ => {}
    }
}
