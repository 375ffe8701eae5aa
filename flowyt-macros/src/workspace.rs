//! `include_workspace!`: a whole legacy workspace folder (settings, routes, flows) read, lowered
//! and validated at compile time with the cross-flow checks (`jump`/`handle`/`loop` targets,
//! routes to flows) and `${env.X}` against the settings' `env` keys. The flows and routes
//! expand to code that rebuilds them (`flowyt_core::bake`); the settings are embedded as text
//! and read when the program starts (`${env('NAME')}` in them reads its environment). Every
//! file is named by `include_str!`/`include_bytes!`, so cargo rebuilds when one changes.

use crate::diag;
use crate::flow::{catalog, custom_kinds};
use crate::include::{IncludeInput, located_message, resolve};
use flowyt_core::diag::Located;
use flowyt_core::model::{Edge, Flow, Tpl};
use flowyt_core::validate::{Strictness, for_each_data};
use flowyt_core::workspace::{Sources, Workspace, read_dir};
use proc_macro2::TokenStream;
use quote::quote;
use std::path::Path;

/// Expands `include_workspace!(...)`.
pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let input: IncludeInput = syn::parse2(input)?;
    let span = input.path.span();
    let rel = input.path.value().trim_end_matches('/').to_string();
    let dir = resolve(&input.path, "include_workspace!")?;
    if !dir.join("flows").is_dir() {
        return Err(syn::Error::new(
            span,
            format!(
                "`{rel}` is not a workspace folder (looked for `$CARGO_MANIFEST_DIR/{rel}/flows/`)\n= help: \
                 `include_workspace!` takes the folder holding `config/settings.json`, `routes.json` and `flows/`"
            ),
        ));
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| rel.clone());
    let sources = read_dir(&dir).map_err(|e| {
        let errors = e
            .diagnostics
            .iter()
            .map(|d| syn::Error::new(span, located_message(d)));
        diag::combine(errors).unwrap_or_else(|| syn::Error::new(span, "cannot read the workspace"))
    })?;
    // Diagnostics name files as the user wrote the path: `workspaces/shop/flows/x.json`.
    let shown = |full: &str| {
        Path::new(full)
            .strip_prefix(&dir)
            .map(|p| format!("{rel}/{}", p.display()))
            .unwrap_or_else(|_| full.to_string())
    };
    // `sources` names each file by its full path (what `include_str!` takes); `checked`, the
    // same texts as the diagnostics name them.
    let named = |entry: &Option<(String, String)>| {
        entry
            .as_ref()
            .map(|(file, text)| (shown(file), text.clone()))
    };
    let checked = Sources {
        settings: named(&sources.settings),
        routes: named(&sources.routes),
        flows: sources
            .flows
            .iter()
            .map(|(key, file, text)| (key.clone(), shown(file), text.clone()))
            .collect(),
    };
    let catalog = catalog(&input.actions);
    // `${env('NAME')}` in settings is read when the program starts, not at build time.
    let loaded = Workspace::from_sources(&name, &checked, &catalog, Strictness::Strict, &|_| None);
    let (workspace, warnings) = match loaded {
        Ok(l) => (l.workspace, l.warnings),
        Err(e) => {
            let errors = e.diagnostics.iter().filter(|d| d.diagnostic.is_error());
            let errors = errors.map(|d| syn::Error::new(span, located_message(d)));
            return Err(diag::combine(errors)
                .unwrap_or_else(|| syn::Error::new(span, "the workspace does not load")));
        }
    };
    if let Some(errors) = diag::combine(
        env_reads(&workspace, &checked)
            .into_iter()
            .map(|m| syn::Error::new(span, m)),
    ) {
        return Err(errors);
    }
    let warnings = warnings
        .iter()
        .map(|d: &Located| diag::warning_at(span, d.diagnostic.code.name(), &located_message(d)));
    let private = input.runtime.private();
    let declared = custom_kinds(&input.actions);
    let table = diag::Table::default();
    let walks = workspace
        .flows
        .iter()
        .map(|(key, flow)| {
            let walk = crate::codegen::walk(flow, &input.runtime, &declared, &table);
            (key.as_str(), walk)
        })
        .collect();
    let bind = crate::codegen::bind(
        &input.runtime,
        &declared,
        crate::codegen::Walks::Keyed(walks),
    );
    let exprs = crate::exprs::compiled(workspace.flows.values(), &input.runtime)?;
    let baker = input.runtime.baker().with_compiled(exprs.by_source);
    let expr_fns = exprs.items;
    let settings = match &sources.settings {
        Some((full, _)) => {
            let name = shown(full);
            quote!(::core::option::Option::Some((#name, ::core::include_str!(#full))))
        }
        None => quote!(::core::option::Option::None),
    };
    let routes = baker.bake(&workspace.routes);
    let flows = workspace.flows.iter().map(|(key, flow)| {
        let flow = baker.bake(flow);
        quote!((#key, #flow))
    });
    // The flows and routes are code now; naming their files keeps cargo rebuilding the crate
    // when one changes (the texts are not kept in the program).
    let tracked = sources
        .routes
        .iter()
        .map(|(full, _)| full)
        .chain(sources.flows.iter().map(|(_, full, _)| full))
        .map(|full| {
            quote!(
                const _: &[u8] = ::core::include_bytes!(#full);
            )
        });
    Ok(quote! {
        {
            #(#warnings)*
            #(#tracked)*
            #bind
            #expr_fns
            #private::included_workspace(
                #name,
                #settings,
                #routes,
                ::std::vec![#(#flows),*],
                __flowyt_actions,
                __flowyt_driver,
            )
        }
    })
}

/// Every `${env.NAME}` a flow reads whose NAME is not a key of the settings' `env`, as
/// `file:line:col: message` (a run would find nothing there).
fn env_reads(ws: &Workspace, sources: &Sources) -> Vec<String> {
    let keys: Vec<&String> = ws.settings.env.keys().collect();
    let mut out = Vec::new();
    for (key, file, text) in &sources.flows {
        let Some(flow) = ws.flows.get(key) else {
            continue;
        };
        for t in templates(flow) {
            for (name, _) in t.template.root_keys("env") {
                if ws.settings.env.contains_key(&name) {
                    continue;
                }
                let (line, col) = position(text, &t.source, &format!("env.{name}"));
                let known = if keys.is_empty() {
                    "the settings have no `env`".to_string()
                } else {
                    format!(
                        "its keys are {}",
                        keys.iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                let suggestion =
                    flowyt_core::suggest::closest(&name, keys.iter().map(|k| k.as_str()))
                        .map(|s| format!("\n= help: did you mean `{s}`?"))
                        .unwrap_or_default();
                out.push(format!(
                    "{file}:{line}:{col}: `${{env.{name}}}` reads `{name}`, which the settings' `env` does not define ({known}){suggestion}"
                ));
            }
        }
    }
    out
}

/// Every template of every action of `flow`, dynamic edges included.
fn templates(flow: &Flow) -> Vec<&Tpl> {
    let mut out: Vec<&Tpl> = Vec::new();
    for action in &flow.actions {
        for_each_data(&action.kind, &mut |d| {
            d.for_each_template(&mut |t| out.push(t))
        });
        for (edge, _) in action.kind.edges() {
            if let Edge::Dynamic(t) = edge {
                out.push(t);
            }
        }
    }
    out
}

/// The 1-based line and column of `needle` inside the first occurrence of `template` in
/// `text` (the file), or of the template itself; `(1, 1)` when neither is found as written
/// (a template with escapes).
fn position(text: &str, template: &str, needle: &str) -> (usize, usize) {
    let at = text
        .find(template)
        .map(|i| i + template.find(needle).unwrap_or(0))
        .unwrap_or(0);
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(at, |n| at - n - 1) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::position;

    #[test]
    fn positions_are_one_based() {
        let text = "{\n  \"url\": \"${env.baseUrl}/x\"\n}";
        assert_eq!(position(text, "${env.baseUrl}/x", "env.baseUrl"), (2, 13));
        assert_eq!(position(text, "not there", "env.x"), (1, 1));
    }
}
