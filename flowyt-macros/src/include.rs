//! `include_flow!("flows/x.json")`: resolve the path against the including crate's root, read
//! the file, lower and validate it with flowyt-core, and embed it with `include_str!` so that
//! cargo rebuilds the crate when the file changes.

use crate::diag;
use crate::flow::{catalog, custom_kinds};
use crate::paths;
use flowyt_core::diag::Located;
use flowyt_core::validate::{Context, Strictness};
use flowyt_core::workspace::FlowFile;
use proc_macro2::TokenStream;
use quote::quote;
use std::path::{Path, PathBuf};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{LitStr, Token};

mod kw {
    syn::custom_keyword!(actions);
}

/// `"flows/x.json"` optionally followed by `, actions = [a, b]` and `, crate = "path"`, in
/// either order.
pub(crate) struct IncludeInput {
    pub path: LitStr,
    pub actions: Vec<syn::Path>,
    pub runtime: paths::Runtime,
}

impl Parse for IncludeInput {
    fn parse(input: ParseStream) -> syn::Result<IncludeInput> {
        let path = input.parse()?;
        let mut actions = Vec::new();
        let mut runtime = paths::Runtime::default();
        while input.peek(Token![,]) && !input.peek2(syn::parse::End) {
            input.parse::<Token![,]>()?;
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::actions) {
                input.parse::<kw::actions>()?;
                input.parse::<Token![=]>()?;
                let content;
                syn::bracketed!(content in input);
                actions.extend(Punctuated::<syn::Path, Token![,]>::parse_terminated(
                    &content,
                )?);
            } else if lookahead.peek(Token![crate]) {
                input.parse::<Token![crate]>()?;
                input.parse::<Token![=]>()?;
                runtime = paths::Runtime::from_lit(&input.parse()?)?;
            } else {
                return Err(lookahead.error());
            }
        }
        input.parse::<Option<Token![,]>>()?;
        Ok(IncludeInput {
            path,
            actions,
            runtime,
        })
    }
}

/// Expands `include_flow!(...)`.
pub(crate) fn expand_include_flow(input: TokenStream) -> syn::Result<TokenStream> {
    let input: IncludeInput = syn::parse2(input)?;
    let rel = input.path.value();
    let full = resolve(&input.path, "include_flow!")?;
    let text = std::fs::read_to_string(&full).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            _ => e.to_string(),
        };
        syn::Error::new(
            input.path.span(),
            format!(
                "cannot read `{rel}` (looked for `$CARGO_MANIFEST_DIR/{rel}`): {why}\n= help: \
                 `include_flow!` paths are relative to the crate root (the folder of its \
                 Cargo.toml), not to the current file as with `include_str!`"
            ),
        )
    })?;
    let catalog = catalog(&input.actions);
    let file = FlowFile::parse(
        &rel,
        &text,
        Context {
            catalog: Some(&catalog),
            flows: None,
        },
        Strictness::Strict,
    );
    let (errors, warnings): (Vec<Located>, Vec<Located>) = file
        .located()
        .into_iter()
        .partition(|d| d.diagnostic.is_error());
    let errors = errors
        .iter()
        .map(|d| syn::Error::new(input.path.span(), located_message(d)));
    if let Some(errors) = diag::combine(errors) {
        return Err(errors);
    }
    // Warnings become rustc warnings on the path, each naming `file:line:col`.
    let warnings = warnings.iter().map(|d| {
        diag::warning_at(
            input.path.span(),
            d.diagnostic.code.name(),
            &located_message(d),
        )
    });
    let private = input.runtime.private();
    let full = full.to_string_lossy().into_owned();
    let declared = custom_kinds(&input.actions);
    let Some(flow) = file.flow.as_ref() else {
        return Err(syn::Error::new(
            input.path.span(),
            format!("`{rel}` is not a flow"),
        ));
    };
    let walk = crate::codegen::walk(flow, &input.runtime, &declared, &diag::Table::default());
    let bind = crate::codegen::bind(&input.runtime, &declared, crate::codegen::Walks::One(walk));
    let exprs = crate::exprs::compiled([flow], &input.runtime)?;
    let model = input
        .runtime
        .baker()
        .with_compiled(exprs.by_source)
        .bake(flow);
    let expr_fns = exprs.items;
    Ok(quote! {
        {
            #(#warnings)*
            #bind
            #expr_fns
            #private::included_flow(
                ::core::include_str!(#full),
                #model,
                __flowyt_actions,
                __flowyt_driver,
            )
        }
    })
}

/// `<crate root>/<path>`; absolute paths are refused (they break on any other machine).
pub(crate) fn resolve(lit: &LitStr, macro_name: &str) -> syn::Result<PathBuf> {
    let rel = lit.value();
    if rel.is_empty() {
        return Err(syn::Error::new(
            lit.span(),
            "expected a path to a JSON flow file",
        ));
    }
    if Path::new(&rel).is_absolute() {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "`{macro_name}` takes a path relative to the crate root, found the absolute path `{rel}`\n= help: write the path from the folder of the crate's Cargo.toml, e.g. `flows/search.json`"
            ),
        ));
    }
    let root = std::env::var_os("CARGO_MANIFEST_DIR").ok_or_else(|| {
        syn::Error::new(
            lit.span(),
            format!("`CARGO_MANIFEST_DIR` is not set: `{macro_name}` must be built by cargo"),
        )
    })?;
    Ok(Path::new(&root).join(rel))
}

/// `flows/x.json:14:28: <message>` plus the help and notes, as the runtime loader prints it.
pub(crate) fn located_message(d: &Located) -> String {
    let mut message = format!(
        "{}:{}:{}: {}",
        d.file,
        d.line,
        d.col,
        diag::message(&d.diagnostic)
    );
    if !d.notes.is_empty() {
        // `diag::message` folded the notes in without positions; the file has them.
        let mut lines = message.lines().map(str::to_string).collect::<Vec<_>>();
        let mut notes = d.notes.iter();
        for line in &mut lines {
            if line.starts_with("= note: ")
                && let Some(note) = notes.next()
            {
                *line = format!(
                    "= note: {}:{}:{}: {}",
                    d.file, note.line, note.col, note.text
                );
            }
        }
        message = lines.join("\n");
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowyt_core::model::Flow;

    #[test]
    fn absolute_and_empty_paths_are_refused() {
        let abs: LitStr = syn::parse_quote!("/etc/flow.json");
        let e = resolve(&abs, "include_flow!").expect_err("absolute");
        assert!(
            e.to_string()
                .contains("found the absolute path `/etc/flow.json`")
        );
        let empty: LitStr = syn::parse_quote!("");
        assert!(resolve(&empty, "include_flow!").is_err());
    }

    #[test]
    fn located_messages_name_file_line_col_and_notes() {
        let err = Flow::from_json_named(
            "flows/x.json",
            "{\"pipeline\": [\n{\"id\": 1, \"action\": \"start\", \"next_action\": null},\n{\"id\": 1, \"action\": \"end\", \"next_action\": null}]}",
            &Default::default(),
        )
        .expect_err("duplicate");
        let d = err
            .diagnostics
            .iter()
            .find(|d| d.diagnostic.code == flowyt_core::diag::Code::DuplicateId)
            .expect("duplicate-id");
        assert_eq!(
            located_message(d),
            "flows/x.json:3:8: duplicate action id `1`\n= help: give each action its own id\n= note: flows/x.json:2:8: `1` is first defined here"
        );
    }

    #[test]
    fn parses_actions_list() {
        let input: IncludeInput =
            syn::parse_quote!("flows/x.json", actions = [send_sms, other::act],);
        assert_eq!(input.path.value(), "flows/x.json");
        assert_eq!(input.actions.len(), 2);
    }
}
