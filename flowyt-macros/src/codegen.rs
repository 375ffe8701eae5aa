//! `flow!`: parse, lower and validate with flowyt-core, then expand a validated flow into
//! tokens that call runtime helpers.
//!
//! What the expansion contains, and why:
//!
//! - an `enum` with one variant per action id, and every literal edge of the flow written as a
//!   pair of its variants: rustc itself cannot accept an edge to a missing action, and editors
//!   jump from an edge to the action it names (the variant carries the id's span);
//! - the flow's walk as a generated `loop { match state { ... } }` over that enum (see
//!   `driver`): literal edges are arms rustc compiles, typed actions are called directly;
//! - for each use of a typed custom action, a pattern naming every identifier key of its data
//!   against the action's input struct, so rustc rejects data that is not its input;
//! - one generated Rust function per `${...}` expression (see `exprs`), which the runtime runs
//!   instead of the expression's tree;
//! - the flow's model, lowered and validated here, as Rust that rebuilds it value for value
//!   (`flowyt_core::bake`): nothing is parsed, lowered or validated when the flow is built;
//! - the flow as legacy JSON text, for `CheckedFlow::json` (a JSON twin loads it).

use crate::diag::{self, Table};
use crate::flow::{ActionDef, Body, FlowInput};
use crate::paths::Runtime;
use flowyt_core::lower;
use flowyt_core::model::{Flow, Kind, Next};
use flowyt_core::validate::{self, Context};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use std::collections::HashMap;
use syn::Ident;

/// Expands `flow! { ... }` (the tokens inside the braces).
pub(crate) fn expand_flow(input: TokenStream) -> syn::Result<TokenStream> {
    let parsed: FlowInput = syn::parse2(input)?;
    let mut table = Table::default();
    let node = parsed.to_node(&mut table);
    let catalog = parsed.catalog();
    let (flow, mut diags) = lower::flow(&node, &mut table, &catalog);
    if let Some(flow) = &flow {
        diags.extend(validate::flow(
            flow,
            Context {
                catalog: Some(&catalog),
                flows: None,
            },
        ));
    }
    if let Some(errors) = diag::errors(&diags, &table) {
        return Err(errors);
    }
    let Some(flow) = flow else {
        return Err(syn::Error::new(Span::call_site(), "not a flow"));
    };
    let json = serde_json::to_string_pretty(&node.to_value())
        .map_err(|e| syn::Error::new(Span::call_site(), e))?;

    let warnings = diag::warnings(&diags, &table);
    let runtime = &parsed.runtime;
    let private = runtime.private();
    let declared = parsed.custom_kinds();
    let bind = bind(
        runtime,
        &declared,
        Walks::One(walk(&flow, runtime, &declared, &table)),
    );
    let checks = input_checks(&parsed);
    let calls = function_checks(&flow, &parsed, &table);
    let outputs = output_checks(&flow, &parsed, &table);
    let params = params_struct(&flow, &parsed, &table);
    let exprs = crate::exprs::compiled([&flow], runtime)?;
    let model = runtime.baker().with_compiled(exprs.by_source).bake(&flow);
    let expr_fns = exprs.items;
    let functions = crate::flow::function_names(&parsed.functions)
        .into_iter()
        .map(|(name, path)| {
            quote_spanned!(syn::spanned::Spanned::span(path)=> (#name, #path::__flowyt_call as #private::FunctionFn))
        });
    Ok(quote! {
        {
            #warnings
            #checks
            #calls
            #outputs
            #params
            #bind
            #expr_fns
            #private::checked_compiled(
                #json,
                #model,
                __flowyt_actions,
                ::std::vec![#(#functions),*],
                ::core::option::Option::Some(__flowyt_driver),
            )
        }
    })
}

/// The flow's action ids, and the id enum and the loop generated over it, `__flowyt_drive`
/// (spans from `table`; an empty table puts them at the call site). [`bind`] makes a driver
/// of them.
pub(crate) fn walk(
    flow: &Flow,
    runtime: &Runtime,
    declared: &[(String, &syn::Path)],
    table: &Table,
) -> Walk {
    let ids = id_enum(flow, table);
    let driver = driver(flow, runtime, declared);
    Walk {
        ids: flow.actions.iter().map(|a| a.id.clone()).collect(),
        items: quote!(#ids #driver),
    }
}

/// A flow's generated loop, before [`bind`] makes a driver of it.
pub(crate) struct Walk {
    /// The flow's action ids, in order (the loop's states).
    ids: Vec<String>,
    /// The id enum and the loop over it, `__flowyt_drive`.
    items: TokenStream,
}

/// One type parameter per declared action: a generated loop calls each as its own type.
fn generics(n: usize) -> Vec<Ident> {
    (0..n).map(|k| format_ident!("__FlowytA{}", k)).collect()
}

/// The loops [`bind`] makes drivers of.
pub(crate) enum Walks<'k> {
    /// One flow's (`flow!`, `include_flow!`): `__flowyt_driver` is its driver.
    One(Walk),
    /// A workspace's (`include_workspace!`): `__flowyt_driver` lists `(key, driver)`.
    Keyed(Vec<(&'k str, Walk)>),
}

/// The declared actions and the loops that call them:
/// `let (__flowyt_actions, __flowyt_driver) = __flowyt_bind(paths...);`. Each declared action's
/// path is named once, as an argument of the generated `__flowyt_bind`, so a path that is not
/// a typed action is one error, at the path. Each flow's walk is in a block of its own.
pub(crate) fn bind(
    runtime: &Runtime,
    declared: &[(String, &syn::Path)],
    walks: Walks<'_>,
) -> TokenStream {
    let private = runtime.private();
    let typed_action = runtime.typed_action();
    let generics = generics(declared.len());
    let args: Vec<Ident> = (0..declared.len())
        .map(|k| format_ident!("a{}", k))
        .collect();
    let names = declared.iter().map(|(name, _)| name);
    let paths = declared
        .iter()
        .map(|(_, path)| quote_spanned!(syn::spanned::Spanned::span(*path)=> #path));
    let driver = |Walk { ids, items }: &Walk| {
        quote!({
            #items
            #private::Driver {
                ids: &[#(#ids),*],
                drive: __flowyt_drive::<#(#generics),*>,
            }
        })
    };
    let (ty, drivers) = match &walks {
        Walks::One(walk) => (quote!(#private::Driver), driver(walk)),
        Walks::Keyed(walks) => {
            let each = walks.iter().map(|(key, walk)| {
                let d = driver(walk);
                quote!((#key, #d))
            });
            (
                quote!(::std::vec::Vec<(&'static str, #private::Driver)>),
                quote!(::std::vec![#(#each),*]),
            )
        }
    };
    quote! {
        /// The declared actions under their kind names, and the loops that call them.
        fn __flowyt_bind<#(#generics: #typed_action),*>(
            #(#args: #generics),*
        ) -> (::std::vec::Vec<#private::NamedAction>, #ty) {
            (::std::vec![#(#private::action(#names, #args)),*], #drivers)
        }
        let (__flowyt_actions, __flowyt_driver) = __flowyt_bind(#(#paths),*);
    }
}

/// The id enum and the edge table (see the module docs).
fn id_enum(flow: &Flow, table: &Table) -> TokenStream {
    let mut variants: HashMap<&str, Ident> = HashMap::new();
    let mut defs = Vec::new();
    for (i, action) in flow.actions.iter().enumerate() {
        let variant = variant_name(&action.id, i, table.span(action.id_loc));
        defs.push(variant.clone());
        variants.insert(&action.id, variant);
    }
    let mut edges = Vec::new();
    for action in &flow.actions {
        let Some(from) = variants.get(action.id.as_str()) else {
            continue;
        };
        for (t, _) in action.literal_edges() {
            if let Some(to) = variants.get(t.id.as_str()) {
                let mut to = to.clone();
                to.set_span(table.span(t.loc));
                let from = Ident::new(&from.to_string(), Span::call_site());
                edges.push(quote!((__FlowytAction::#from, __FlowytAction::#to)));
            }
        }
    }
    quote! {
        // Not every id is the target of an edge (the entry is not); the loop's states.
        #[allow(non_camel_case_types, dead_code)]
        #[derive(Clone, Copy)]
        enum __FlowytAction { #(#defs),* }
        const _: &[(__FlowytAction, __FlowytAction)] = &[#(#edges),*];
    }
}

/// The flow's walk as a loop over the id enum: `loop { match state { ... } }`, each action
/// run through the runtime's `Stepper` (a use of a typed action called directly, with its
/// Rust input and output types), then the next state matched from the action and the branch
/// it took. Only what the flow leaves to run time (a dynamic `next_action`, a branch without
/// a literal target) asks the `Stepper` to resolve it from the model.
fn driver(flow: &Flow, runtime: &Runtime, declared: &[(String, &syn::Path)]) -> TokenStream {
    let private = runtime.private();
    let variant = |i: usize| {
        let a = &flow.actions[i];
        let v = variant_name(&a.id, i, Span::call_site());
        quote!(__FlowytAction::#v)
    };
    let index: HashMap<&str, usize> = flow
        .actions
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.as_str(), i))
        .collect();
    let private = &private;
    let typed_action = runtime.typed_action();
    let generics = generics(declared.len());
    let slots: HashMap<&str, usize> = declared
        .iter()
        .enumerate()
        .map(|(k, (name, _))| (name.as_str(), k))
        .collect();
    let mut runs = Vec::new();
    let mut arms = Vec::new();
    for (i, action) in flow.actions.iter().enumerate() {
        let from = variant(i);
        if let (Kind::Custom(_), Some(&k)) = (&action.kind, slots.get(action.kind_name.as_str())) {
            let generic = &generics[k];
            runs.push(quote!(#from => s.typed::<#generic>(#i, #k).await?,));
        }
        match &action.next {
            Next::End => {
                arms.push(quote!((#from, _) => return ::core::result::Result::Ok(s.ended()),))
            }
            Next::To(t) => {
                if let Some(&j) = index.get(t.id.as_str()) {
                    let to = variant(j);
                    arms.push(quote!((#from, _) => #to,));
                }
            }
            Next::Branch(_) => {
                for (k, (edge, _)) in action.kind.edges().into_iter().enumerate() {
                    if let Some(j) = edge.target().and_then(|t| index.get(t.id.as_str())) {
                        let to = variant(*j);
                        arms.push(quote!((#from, ::core::option::Option::Some(#k)) => #to,));
                    }
                }
            }
            Next::Dynamic(_) => {}
        }
    }
    let all = (0..flow.actions.len()).map(variant);
    quote! {
        const __FLOWYT_STATES: &[__FlowytAction] = &[#(#all),*];

        async fn __flowyt_walk<#(#generics: #typed_action),*>(
            mut s: #private::Stepper<'_, '_>,
        ) -> ::core::result::Result<#private::Walked, #private::RunError> {
            let ::core::option::Option::Some(mut state) = s.entry(__FLOWYT_STATES) else {
                return ::core::result::Result::Ok(s.ended());
            };
            loop {
                #[allow(unreachable_patterns)]
                let stepped = match state {
                    #(#runs)*
                    _ => s.step(state as usize).await?,
                };
                let choice = match stepped {
                    #private::Stepped::Over(walked) => return ::core::result::Result::Ok(walked),
                    #private::Stepped::Chose(choice) => choice,
                };
                #[allow(unreachable_patterns)]
                {
                    state = match (state, choice) {
                        #(#arms)*
                        _ => match s.resolve(state as usize, __FLOWYT_STATES)? {
                            ::core::option::Option::Some(next) => next,
                            ::core::option::Option::None => return ::core::result::Result::Ok(s.ended()),
                        },
                    };
                }
                s.advance(state as usize).await?;
            }
        }

        fn __flowyt_drive<'a, #(#generics: #typed_action),*>(
            s: #private::Stepper<'a, '_>,
        ) -> #private::BoxFuture<'a, ::core::result::Result<#private::Walked, #private::RunError>> {
            ::std::boxed::Box::pin(__flowyt_walk::<#(#generics),*>(s))
        }
    }
}

/// For each `function.*` call of a declared `#[flow_function]`, a call of its generated
/// `__flowyt_args` with a marker per argument saying what the template passes (see
/// `kinds`; for an argument that is itself a declared function's call, that function's
/// `__FlowytReturns`), spanned at the template: rustc refuses a wrong argument count, and an
/// argument whose known type the parameter's Rust type can never be deserialised from. And
/// for each operation on a declared function's result, a call of `__private::ops::<op>`
/// with the operands' markers, which only the combinations the evaluator accepts implement.
/// In a function that never runs.
fn function_checks(flow: &Flow, parsed: &FlowInput, table: &Table) -> TokenStream {
    use flowyt_core::expr::Operand;
    let private = parsed.runtime.private();
    let declared: HashMap<String, &syn::Path> = crate::flow::function_names(&parsed.functions)
        .into_iter()
        .collect();
    // A declared function's result, as a type (for `ops`) and as a value (for arguments).
    let returns = |path: &[String]| -> Option<TokenStream> {
        declared
            .get(&path.join("."))
            .map(|p| quote!(#p::__FlowytReturns))
    };
    let returned = |path: &[String]| -> Option<TokenStream> {
        returns(path).map(|t| quote!(<#t as #private::kinds::Marker>::IT))
    };
    let known = |t: flowyt_core::expr::Types| {
        let m = crate::kinds::marker(t);
        quote!(#private::kinds::#m)
    };
    let mut calls = Vec::new();
    for (tpl, found) in validate::type_checks(flow) {
        let span = table.span(tpl.loc);
        for call in &found.calls {
            let Some(path) = declared.get(&call.path.join(".")) else {
                continue;
            };
            if call.kwargs {
                continue;
            }
            let markers = call.args.iter().zip(&call.arg_calls).map(|(t, inner)| {
                inner
                    .as_deref()
                    .and_then(returned)
                    .unwrap_or_else(|| known(*t))
            });
            // Every token of the call carries the template's span, so rustc points at the
            // template.
            calls.push(respan(quote!(#path::__flowyt_args((#(#markers,)*));), span));
        }
        // Each operation's result as a type: a chain (`function.f(1) + 1 + 'x'`) is one
        // nested projection through the operators' `Output`s, checked once, at its outermost
        // operation (an inner operation that cannot work is then reported once, by it).
        let mut types: Vec<Option<(TokenStream, bool)>> = Vec::with_capacity(found.ops.len());
        let inner: std::collections::HashSet<usize> = found
            .ops
            .iter()
            .flat_map(|o| &o.operands)
            .filter_map(|o| match o {
                Operand::Op(k) => Some(*k),
                _ => None,
            })
            .collect();
        for (i, op) in found.ops.iter().enumerate() {
            let mut any_declared = false;
            let mut operands = Vec::new();
            for o in &op.operands {
                operands.push(match o {
                    Operand::Call(path) => match returns(path) {
                        Some(r) => {
                            any_declared = true;
                            r
                        }
                        None => known(flowyt_core::expr::Types::ANY),
                    },
                    Operand::Known(t) => known(*t),
                    Operand::Op(k) => match types.get(*k).cloned().flatten() {
                        Some((t, declared)) => {
                            any_declared |= declared;
                            t
                        }
                        None => known(flowyt_core::expr::Types::ANY),
                    },
                });
            }
            let Some(tr) = crate::ops::trait_name(op.op) else {
                types.push(None);
                continue;
            };
            let result = match operands.as_slice() {
                [one] => quote!(<#one as #private::ops::#tr>::Output),
                [l, r] => quote!(<#l as #private::ops::#tr<#r>>::Output),
                _ => {
                    types.push(None);
                    continue;
                }
            };
            types.push(Some((result, any_declared)));
            if any_declared
                && !inner.contains(&i)
                && let Some(check) = crate::ops::check_fn(op.op)
            {
                calls.push(respan(
                    quote!(#private::ops::#check::<#(#operands),*>();),
                    span,
                ));
            }
        }
    }
    never_called("__flowyt_function_calls", calls)
}

/// Fields a template reads below `response.data`, by name (only names a template can write
/// after a dot), each with the spans of the templates that read it and what they read inside.
#[derive(Default)]
struct Reads(std::collections::BTreeMap<String, (Ident, Vec<Span>, Reads)>);

impl Reads {
    fn add(&mut self, chain: &[String], span: Span) {
        let [first, rest @ ..] = chain else { return };
        let Some(ident) = crate::output::field_ident(first) else {
            return;
        };
        let entry = self
            .0
            .entry(first.clone())
            .or_insert_with(|| (ident, Vec::new(), Reads::default()));
        entry.1.push(span);
        entry.2.add(rest, span);
    }

    /// Checks of these reads against the fields `probe` finds (through
    /// `__private::Probe`: a type without `#[derive(FlowOutput)]` is not checked), each access
    /// spanned at its template, and of the reads inside each field against that field's type.
    /// A field read inside is bound once, spanned at its first read, which is that read's
    /// check: a misspelt field is one error per template, never one at the macro call too.
    fn checks(&self, probe: TokenStream, private: &TokenStream) -> TokenStream {
        let access = |ident: &Ident, span: Span, binding: TokenStream| {
            let mut field = ident.clone();
            field.set_span(span);
            respan(quote!(let #binding = &fields.#field;), span)
        };
        let declared = self.0.values().map(|(ident, _, _)| ident);
        let mut body = Vec::new();
        for (ident, spans, inner) in self.0.values() {
            let (first, rest) = match spans.split_first() {
                Some((first, rest)) if !inner.0.is_empty() => (Some(first), rest),
                _ => (None, spans.as_slice()),
            };
            body.extend(rest.iter().map(|span| access(ident, *span, quote!(_))));
            if let Some(first) = first {
                let binding = access(ident, *first, quote!(__flowyt_field));
                let checks = inner.checks(quote!(#private::probe_of(__flowyt_field)), private);
                body.push(quote!({
                    #binding
                    #checks
                }));
            }
        }
        quote! {
            {
                #[allow(unused_imports)]
                use #private::{DescribedOutput as _, UndescribedOutput as _};
                #[allow(non_snake_case, dead_code)]
                struct __FlowytReads { #(#declared: #private::Field<()>,)* }
                if let ::core::option::Option::Some(fields) =
                    (&#probe).__flowyt_fields::<__FlowytReads>()
                {
                    #(#body)*
                }
            }
        }
    }
}

/// `checks` in a function that never runs (rustc checks them, nothing executes them), or
/// nothing when there are none.
fn never_called(name: &str, checks: Vec<TokenStream>) -> TokenStream {
    if checks.is_empty() {
        return TokenStream::new();
    }
    let name = Ident::new(name, Span::call_site());
    quote! {
        #[allow(dead_code)]
        fn #name() {
            #(#checks)*
        }
    }
}

/// For each typed action whose success branch leads to an action nothing else leads to, the
/// fields that action reads as `${response.data.NAME}`, checked against the output type's
/// `#[derive(FlowOutput)]` shadow struct (through `__private::Probe`: an output without the
/// derive is not checked), each access spanned at its template. In a function that never
/// runs. A flow with a dynamic edge is not checked (any action may follow any other).
fn output_checks(flow: &Flow, parsed: &FlowInput, table: &Table) -> TokenStream {
    use flowyt_core::model::{Edge, EdgeKind, Kind};
    let private = parsed.runtime.private();
    let typed = parsed.runtime.typed_action();
    let kinds: HashMap<String, &syn::Path> = parsed.custom_kinds().into_iter().collect();
    if flow.actions.iter().any(|a| a.has_dynamic_edge()) {
        return TokenStream::new();
    }
    let mut incoming: HashMap<&str, usize> = HashMap::new();
    for (t, _) in flow.actions.iter().flat_map(|a| a.literal_edges()) {
        *incoming.entry(t.id.as_str()).or_default() += 1;
    }
    let mut checks = Vec::new();
    for a in &flow.actions {
        let (Kind::Custom(_), Some(path)) = (&a.kind, kinds.get(&a.kind_name)) else {
            continue;
        };
        let Some(next) = a.kind.edges().into_iter().find_map(|(e, k)| match (e, k) {
            (Edge::To(t), EdgeKind::Success) => Some(t.id.as_str()),
            _ => None,
        }) else {
            continue;
        };
        if incoming.get(next) != Some(&1) {
            continue;
        }
        let Some(after) = flow.actions.iter().find(|b| b.id == next) else {
            continue;
        };
        // What the action after reads of `response.data`, as a tree of field names, each
        // with the spans of the templates reading it.
        let mut reads = Reads::default();
        flowyt_core::validate::for_each_data(&after.kind, &mut |d| {
            d.for_each_template(&mut |t| {
                for (chain, _) in t.template.attribute_chains("response") {
                    if let [data, fields @ ..] = chain.as_slice()
                        && data == "data"
                    {
                        reads.add(fields, table.span(t.loc));
                    }
                }
            })
        });
        if reads.0.is_empty() {
            continue;
        }
        let probe = quote!(#private::Probe::<<#path as #typed>::Output>::new());
        checks.push(reads.checks(probe, &private));
    }
    never_called("__flowyt_output_fields", checks)
}

/// For `params = Notify { ... }`: a pattern naming every declared param as a field of the
/// struct (rustc refuses a missing or an extra field), and a check that each field's type is
/// not one known to serialise to values the param refuses (`__private::ParamProbe`), spanned
/// at the param's declaration.
fn params_struct(flow: &Flow, parsed: &FlowInput, table: &Table) -> TokenStream {
    use flowyt_core::params::ParamType;
    let Some(ty) = &parsed.params_type else {
        return TokenStream::new();
    };
    let private = parsed.runtime.private();
    let declared = flow.params.as_deref().unwrap_or_default();
    let mut fields = Vec::new();
    let mut checks = Vec::new();
    for (i, p) in declared.iter().enumerate() {
        let Some(mut field) = crate::output::field_ident(&p.name) else {
            continue;
        };
        let span = table.span(p.loc);
        field.set_span(span);
        let var = format_ident!("__flowyt_param{}", i, span = span);
        let kind = format_ident!(
            "{}",
            match p.ty {
                ParamType::String => "str",
                ParamType::Integer => "int",
                ParamType::Number => "number",
                ParamType::Boolean => "bool",
                ParamType::Object => "dict",
                ParamType::Array => "list",
            }
        );
        checks.push(respan(
            quote!(#private::param_holds(
                (&#private::ParamProbe::<_, #private::kinds::#kind>::new(#var)).__flowyt_param()
            );),
            span,
        ));
        fields.push(quote!(#field: #var));
    }
    // Each field keeps its declaration's span (a missing one is reported there); the rest of
    // the pattern the struct's, where a field the flow does not declare is reported.
    let pattern = quote_spanned!(ty_span(ty)=> let #ty { #(#fields),* } = params;);
    quote! {
        #[allow(dead_code)]
        fn __flowyt_params_struct(params: &#ty) {
            #[allow(unused_imports)]
            use #private::{AcceptedParam as _, RejectedParam as _};
            #pattern
            #(#checks)*
        }
    }
}

fn ty_span(path: &syn::Path) -> Span {
    syn::spanned::Spanned::span(path)
}

/// `tokens` with every span (inside groups too) set to `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|t| match t {
            proc_macro2::TokenTree::Group(g) => {
                let mut out = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                out.set_span(span);
                proc_macro2::TokenTree::Group(out)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}

/// The variant for an action id: the id itself when it is an identifier, else `__flowyt_<i>`.
fn variant_name(id: &str, index: usize, span: Span) -> Ident {
    let plain = id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    match syn::parse_str::<Ident>(id) {
        Ok(_) if plain && !id.starts_with("__flowyt") => Ident::new(id, span),
        _ => format_ident!("__flowyt_{}", index, span = span),
    }
}

/// For each action of a typed custom kind, a pattern naming its identifier keys as fields of
/// the action's input type. String keys are not checked (they may be serde renames).
fn input_checks(flow: &FlowInput) -> TokenStream {
    let typed = flow.runtime.typed_action();
    let kinds = flow.custom_kinds();
    let mut checks = Vec::new();
    for action in &flow.pipeline {
        let ActionDef {
            kind,
            body: Body::Data(data),
            ..
        } = action
        else {
            continue;
        };
        let Some((_, path)) = kinds.iter().find(|(name, _)| kind == name) else {
            continue;
        };
        let keys: Vec<&Ident> = data.ident_keys().collect();
        if keys.is_empty() {
            continue;
        }
        let input = Ident::new("__FlowytInput", kind.span());
        checks.push(quote! {
            const _: () = {
                type #input = <#path as #typed>::Input;
                // Never called: rustc checks that every key names a field of the input.
                #[allow(dead_code)]
                fn __flowyt_check(input: #input) {
                    let #input { #(#keys: _,)* .. } = input;
                }
            };
        });
    }
    quote!(#(#checks)*)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(tokens: TokenStream) -> Result<String, Vec<String>> {
        expand_flow(tokens)
            .map(|t| t.to_string())
            .map_err(|e| e.into_iter().map(|e| e.to_string()).collect())
    }

    #[test]
    fn valid_flow_embeds_json_and_edges() {
        let out = expand(quote! {
            1: start -> fetch;
            fetch: request { url: "http://x" } -> success: ok, fail: "bad one";
            ok: response { data: "${response.data}" };
            "bad one": response { status: 502 };
        })
        .expect("valid");
        assert!(
            out.contains("enum __FlowytAction { __flowyt_0 , fetch , ok , __flowyt_3 }"),
            "{out}"
        );
        assert!(
            out.contains("(__FlowytAction :: __flowyt_0 , __FlowytAction :: fetch)"),
            "{out}"
        );
        assert!(
            out.contains("(__FlowytAction :: fetch , __FlowytAction :: __flowyt_3)"),
            "{out}"
        );
        assert!(out.contains(r#"\"next_action_success\": \"ok\""#), "{out}");
        assert!(
            out.contains(":: flowyt_runtime :: __private :: checked_compiled ("),
            "{out}"
        );
        // The model is code that builds it, not text to lower again.
        assert!(
            out.contains(":: flowyt_runtime :: __private :: core :: model :: Flow {"),
            "{out}"
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let errors = expand(quote! {
            1: start -> fetch_usr;
            fetch_user: reqest { url: "x" } -> done;
            fetch_user: response {};
            done: end;
            orphan: end;
        })
        .expect_err("invalid");
        assert_eq!(
            errors,
            [
                "`next_action` points to unknown action `fetch_usr`\n= help: did you mean `fetch_user`?",
                "unknown action kind `reqest`\n= help: did you mean `request`?",
                "duplicate action id `fetch_user`\n= help: give each action its own id\n= note: `fetch_user` is first defined here",
                "action `orphan` is never reached from the entry\n= help: point a `next_action` at it, or remove it",
            ]
        );
    }

    #[test]
    fn typed_actions_get_an_input_check_per_use() {
        let out = expand(quote! {
            actions = [sms::send];
            a: send { to: "x", "renamed-key": 1 } -> success: b, fail: b;
            b: end;
        })
        .expect("valid");
        assert!(
            out.contains(
                "type __FlowytInput = < sms :: send as :: flowyt_runtime :: TypedAction > :: Input"
            ),
            "{out}"
        );
        assert!(
            out.contains("let __FlowytInput { to : _ , .. } = input"),
            "{out}"
        );
        // The path is named once, bound to a type parameter the generated loop calls.
        assert!(out.contains("__flowyt_bind (sms :: send)"), "{out}");
        assert!(
            out.contains(":: flowyt_runtime :: __private :: action (\"send\" , a0)"),
            "{out}"
        );
        assert!(
            out.contains(
                "__FlowytAction :: a => s . typed :: < __FlowytA0 > (0usize , 0usize) . await ?"
            ),
            "{out}"
        );
        // Both branches are arms of the loop's match, not left to run time.
        for branch in ["0usize", "1usize"] {
            let arm = format!(
                "(__FlowytAction :: a , :: core :: option :: Option :: Some ({branch})) => __FlowytAction :: b"
            );
            assert!(out.contains(&arm), "{arm} in {out}");
        }
    }

    #[test]
    fn undeclared_custom_kind_is_an_unknown_kind() {
        let errors = expand(quote! { a: send_sms { to: "x" }; }).expect_err("invalid");
        assert!(
            errors[0].starts_with("unknown action kind `send_sms`"),
            "{errors:?}"
        );
    }
}
