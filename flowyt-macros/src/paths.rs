//! Every runtime path the generated code names, in one place: a rename in the runtime is one
//! edit here. Paths start at `::flowyt_runtime`, so users depend on `flowyt-runtime` only, or
//! at what `crate = "..."` names, for a crate that re-exports flowyt under another path (as
//! serde's and tokio's macros allow).

use proc_macro2::{TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use syn::LitStr;

/// The path of the runtime crate in generated code.
#[derive(Clone)]
pub(crate) struct Runtime(TokenStream);

impl Default for Runtime {
    fn default() -> Runtime {
        Runtime(quote!(::flowyt_runtime))
    }
}

impl Runtime {
    /// The path `crate = "..."` gives (`"my_app::flowyt"`, `"::reexport::flowyt"`).
    pub(crate) fn from_lit(lit: &LitStr) -> syn::Result<Runtime> {
        let path: syn::Path = lit.parse().map_err(|_| {
            syn::Error::new(
                lit.span(),
                format!(
                    "`crate = \"{}\"` is not a path\n= help: name the path flowyt-runtime is \
                     re-exported under, e.g. `crate = \"my_app::flowyt\"`",
                    lit.value()
                ),
            )
        })?;
        Ok(Runtime(quote_spanned!(lit.span()=> #path)))
    }

    /// The `crate = "..."` setting of a function-like macro's input that may not parse as a
    /// whole (so its errors still name the right paths): the first `crate = "..."` at the top
    /// level, else the default.
    pub(crate) fn sniff(input: &TokenStream) -> Runtime {
        let tokens: Vec<TokenTree> = input.clone().into_iter().collect();
        tokens
            .windows(3)
            .find_map(|w| match w {
                [
                    TokenTree::Ident(k),
                    TokenTree::Punct(eq),
                    TokenTree::Literal(lit),
                ] if k == "crate" && eq.as_char() == '=' => {
                    syn::parse2::<LitStr>(TokenTree::Literal(lit.clone()).into())
                        .ok()
                        .and_then(|l| Runtime::from_lit(&l).ok())
                }
                _ => None,
            })
            .unwrap_or_default()
    }

    /// The arguments of an attribute macro: nothing, or `crate = "path"`.
    pub(crate) fn from_attr(attr: TokenStream, macro_name: &str) -> syn::Result<Runtime> {
        let mut runtime = Runtime::default();
        let parser = syn::meta::parser(|meta| {
            if meta.path.is_ident("crate") {
                runtime = Runtime::from_lit(&meta.value()?.parse()?)?;
                Ok(())
            } else {
                Err(meta.error(format!(
                    "`#[{macro_name}]` takes no arguments but `crate = \"path\"` (the action \
                     or function is named after the `fn`)"
                )))
            }
        });
        syn::parse::Parser::parse2(parser, attr)?;
        Ok(runtime)
    }

    /// `<runtime>::__private`: helpers the generated code calls.
    pub(crate) fn private(&self) -> TokenStream {
        let r = &self.0;
        quote!(#r::__private)
    }

    /// Bakes model values as code that names flowyt-core through `<runtime>::__private::core`.
    pub(crate) fn baker(&self) -> flowyt_core::bake::Baker {
        let private = self.private();
        flowyt_core::bake::Baker::new(quote!(#private::core))
    }

    /// `<runtime>::TypedAction`: the trait `#[flow_action]` implements.
    pub(crate) fn typed_action(&self) -> TokenStream {
        let r = &self.0;
        quote!(#r::TypedAction)
    }

    /// `<runtime>::CustomAction`: what the engine calls.
    pub(crate) fn custom_action(&self) -> TokenStream {
        let r = &self.0;
        quote!(#r::CustomAction)
    }
}
