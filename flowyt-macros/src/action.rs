//! `#[flow_action]`: an `async fn(input: T[, state: &S]) -> Result<O, E>` becomes a typed
//! custom action: a unit struct of the same name implementing `TypedAction` and
//! `CustomAction`, whose `run` associated function is the original function.
//!
//! The signature is parsed by hand (syn without its `full` feature has no `ItemFn`): the body
//! is kept as a token group, untouched. Type requirements are not checked here: they are
//! bounds on `TypedAction`'s associated types, and the generated items carry the user's type
//! spans, so rustc's error lands on the offending type.

use crate::paths;
use proc_macro2::{Delimiter, Group, Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, Token, Type, Visibility};

/// The parsed function.
pub(crate) struct ActionFn {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub asyncness: Option<Token![async]>,
    pub fn_token: Token![fn],
    pub ident: Ident,
    pub paren: syn::token::Paren,
    pub args: Vec<Arg>,
    pub output: Option<(Token![->], Type)>,
    pub body: Group,
}

/// `pattern: Type` (the pattern kept as tokens: an identifier, `mut x` or `_`).
pub(crate) struct Arg {
    pub attrs: Vec<Attribute>,
    pub pat: TokenStream,
    pub colon: Token![:],
    pub ty: Type,
}

impl Parse for ActionFn {
    fn parse(input: ParseStream) -> syn::Result<ActionFn> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let asyncness = input.parse()?;
        let fn_token = input.parse().map_err(|e: syn::Error| {
            syn::Error::new(
                e.span(),
                "`#[flow_action]` goes on an `async fn(input: T) -> Result<O, E>`",
            )
        })?;
        let ident = input.parse()?;
        if input.peek(Token![<]) {
            return Err(input.error("`#[flow_action]` functions cannot be generic"));
        }
        let content;
        let paren = syn::parenthesized!(content in input);
        let args = Punctuated::<Arg, Token![,]>::parse_terminated(&content)?
            .into_iter()
            .collect();
        let output = if input.peek(Token![->]) {
            Some((input.parse()?, input.parse()?))
        } else {
            None
        };
        if input.peek(Token![where]) {
            return Err(input.error("`#[flow_action]` functions cannot be generic"));
        }
        let body: Group = input.parse()?;
        if body.delimiter() != Delimiter::Brace {
            return Err(syn::Error::new(body.span(), "expected the function body"));
        }
        Ok(ActionFn {
            attrs,
            vis,
            asyncness,
            fn_token,
            ident,
            paren,
            args,
            output,
            body,
        })
    }
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Arg> {
        let attrs = input.call(Attribute::parse_outer)?;
        if input.peek(Token![self]) || input.peek(Token![&]) {
            return Err(input.error("`#[flow_action]` functions are free functions: no `self`"));
        }
        let mut pat = TokenStream::new();
        if input.peek(Token![mut]) {
            input.parse::<Token![mut]>()?.to_tokens(&mut pat);
        }
        if input.peek(Token![_]) {
            input.parse::<Token![_]>()?.to_tokens(&mut pat);
        } else {
            input
                .parse::<Ident>()
                .map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "expected an argument name (patterns are not supported)",
                    )
                })?
                .to_tokens(&mut pat);
        }
        Ok(Arg {
            attrs,
            pat,
            colon: input.parse()?,
            ty: input.parse()?,
        })
    }
}

/// Expands `#[flow_action]` on `item`. On error the function is emitted as written beside the
/// errors, so that its own body still gets checked and nothing else cascades.
pub(crate) fn expand_flow_action(attr: TokenStream, item: TokenStream) -> TokenStream {
    match expand(attr, item.clone()) {
        Ok(tokens) => tokens,
        Err(e) => {
            let errors = e.to_compile_error();
            quote!(#item #errors)
        }
    }
}

fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let runtime = paths::Runtime::from_attr(attr, "flow_action")?;
    let f: ActionFn = syn::parse2(item)?;
    if f.asyncness.is_none() {
        return Err(syn::Error::new(
            f.fn_token.span,
            "`#[flow_action]` functions must be `async`",
        ));
    }
    let (input_ty, state_ty) = match f.args.as_slice() {
        [input] => (&input.ty, None),
        [input, state] => match &state.ty {
            Type::Reference(r) if r.mutability.is_none() => (&input.ty, Some(&*r.elem)),
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "the second argument of a flow action is the application state, taken as `&State`",
                ));
            }
        },
        _ => {
            return Err(syn::Error::new(
                f.paren.span.join(),
                "a flow action takes its input, and optionally the application state: `(input: T)` or `(input: T, state: &S)`",
            ));
        }
    };
    let (ok_ty, err_ty) = result_types(&f)?;

    let private = runtime.private();
    let typed = runtime.typed_action();
    let custom = runtime.custom_action();
    let ActionFn {
        attrs,
        vis,
        asyncness,
        fn_token,
        ident,
        args,
        output,
        body,
        ..
    } = &f;
    let name = ident.to_string();
    let (docs, other_attrs): (Vec<&Attribute>, Vec<&Attribute>) =
        attrs.iter().partition(|a| a.path().is_ident("doc"));
    let args = args.iter().map(|a| {
        let (attrs, pat, colon, ty) = (&a.attrs, &a.pat, &a.colon, &a.ty);
        quote!(#(#attrs)* #pat #colon #ty)
    });
    let (arrow, ret) = match output {
        Some((arrow, ret)) => (arrow, ret),
        None => return Err(syn::Error::new(ident.span(), "missing return type")),
    };
    let input_assoc = quote_spanned!(input_ty.span()=> type Input = #input_ty;);
    let ok_assoc = quote_spanned!(ok_ty.span()=> type Output = #ok_ty;);
    let err_assoc = quote_spanned!(err_ty.span()=> type Error = #err_ty;);
    let required_state = match state_ty {
        Some(s) => quote! {
            fn required_state() -> ::core::option::Option<(::core::any::TypeId, &'static str)> {
                ::core::option::Option::Some((
                    ::core::any::TypeId::of::<#s>(),
                    ::core::any::type_name::<#s>(),
                ))
            }
        },
        None => quote!(),
    };
    let (cx, state, call) = match state_ty {
        Some(s) => (
            quote!(cx),
            quote! {
                let state = match #private::state::<Self, #s>(&cx) {
                    ::core::result::Result::Ok(s) => s,
                    ::core::result::Result::Err(e) => return ::core::result::Result::Err(e),
                };
            },
            quote!(Self::run(input, state)),
        ),
        None => (quote!(_cx), quote!(), quote!(Self::run(input))),
    };
    Ok(quote! {
        #(#docs)*
        // The action keeps the function's name, so flows and `actions = [...]` name it as written.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, Default)]
        #vis struct #ident;

        impl #ident {
            /// The action's function as written, callable directly (in unit tests, say).
            #(#other_attrs)*
            #vis #asyncness #fn_token run(#(#args),*) #arrow #ret #body
        }

        impl #typed for #ident {
            const NAME: &'static str = #name;
            #input_assoc
            #ok_assoc
            #err_assoc
            #required_state

            fn invoke(
                &self,
                input: Self::Input,
                #cx: #private::ActionContext,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<
                    ::core::result::Result<Self::Output, Self::Error>,
                    #private::serde_json::Value,
                >,
            > + ::core::marker::Send {
                async move {
                    #state
                    ::core::result::Result::Ok(#call.await)
                }
            }
        }

        impl #custom for #ident {
            fn call(
                &self,
                data: #private::serde_json::Value,
                cx: #private::ActionContext,
            ) -> #private::BoxFuture<'static, ::core::result::Result<#private::serde_json::Value, #private::serde_json::Value>> {
                let this = *self;
                ::std::boxed::Box::pin(async move { #private::call_typed(&this, &data, cx).await })
            }
        }
    })
}

/// `O` and `E` of the function's `Result<O, E>` return type.
fn result_types(f: &ActionFn) -> syn::Result<(&Type, &Type)> {
    let wrong = |span: Span| {
        syn::Error::new(
            span,
            "a flow action returns `Result<Output, Error>` (`Ok` takes the success branch, `Err` the fail branch)",
        )
    };
    let Some((_, ret)) = &f.output else {
        return Err(wrong(f.paren.span.join()));
    };
    let Type::Path(path) = ret else {
        return Err(wrong(ret.span()));
    };
    let Some(last) = path.path.segments.last() else {
        return Err(wrong(ret.span()));
    };
    let syn::PathArguments::AngleBracketed(generics) = &last.arguments else {
        return Err(wrong(ret.span()));
    };
    let types: Vec<&Type> = generics
        .args
        .iter()
        .filter_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .collect();
    match types.as_slice() {
        [ok, err] if last.ident == "Result" => Ok((ok, err)),
        _ => Err(wrong(ret.span())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(item: TokenStream) -> String {
        match expand(TokenStream::new(), item) {
            Ok(t) => panic!("expected an error, got {t}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn typed_action_keeps_the_function_and_names_the_types() {
        let out = expand(
            TokenStream::new(),
            quote! {
                /// Sends one SMS.
                pub async fn send_sms(input: Sms, state: &App) -> Result<Sent, Failed> { Err(Failed) }
            },
        )
        .expect("valid")
        .to_string();
        assert!(out.contains("pub struct send_sms ;"), "{out}");
        assert!(
            out.contains(
                "pub async fn run (input : Sms , state : & App) -> Result < Sent , Failed >"
            ),
            "{out}"
        );
        assert!(
            out.contains("const NAME : & 'static str = \"send_sms\""),
            "{out}"
        );
        assert!(out.contains("type Input = Sms ;"), "{out}");
        assert!(out.contains("state :: < Self , App > (& cx)"), "{out}");
    }

    #[test]
    fn signature_mistakes_are_explained() {
        assert_eq!(
            errors(quote! { fn f(input: In) -> Result<O, E> {} }),
            "`#[flow_action]` functions must be `async`"
        );
        assert!(
            errors(quote! { async fn f(input: In) -> Option<O> {} })
                .starts_with("a flow action returns `Result<Output, Error>`")
        );
        assert!(
            errors(quote! { async fn f(input: In, state: App) -> Result<O, E> {} })
                .starts_with("the second argument")
        );
        assert!(
            errors(quote! { async fn f() -> Result<O, E> {} })
                .starts_with("a flow action takes its input")
        );
        assert!(
            errors(quote! { async fn f<T>(input: T) -> Result<O, E> {} })
                .contains("cannot be generic")
        );
        assert!(errors(quote! { async fn f(&self) -> Result<O, E> {} }).contains("no `self`"));
        assert!(errors(quote! { struct S; }).starts_with("`#[flow_action]` goes on an `async fn"));
    }

    #[test]
    fn errors_keep_the_function_as_written() {
        let item = quote! { fn f(input: In) -> Result<O, E> { body() } };
        let out = expand_flow_action(TokenStream::new(), item).to_string();
        assert!(
            out.starts_with("fn f (input : In) -> Result < O , E > { body () }"),
            "{out}"
        );
        assert!(out.contains("compile_error"), "{out}");
    }
}
