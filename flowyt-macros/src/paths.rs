//! Every runtime path the generated code names, in one place: a rename in the runtime is one
//! edit here. Paths are absolute so that users depend on `flowyt-runtime` only.

use proc_macro2::TokenStream;
use quote::quote;

/// `::flowyt_runtime::__private`: helpers the generated code calls.
pub(crate) fn private() -> TokenStream {
    quote!(::flowyt_runtime::__private)
}

/// `::flowyt_runtime::TypedAction`: the trait `#[flow_action]` implements.
pub(crate) fn typed_action() -> TokenStream {
    quote!(::flowyt_runtime::TypedAction)
}

/// `::flowyt_runtime::CustomAction`: what the engine calls.
pub(crate) fn custom_action() -> TokenStream {
    quote!(::flowyt_runtime::CustomAction)
}
