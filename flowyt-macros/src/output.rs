//! `#[derive(FlowOutput)]`: the JSON field names a typed action's output serialises to, read
//! from the struct and its serde attributes, as a shadow struct with one `Field<T>` per name
//! (`T` the field's Rust type). `flow!` checks `${response.data.NAME.SUB}` in the action after
//! a typed action against it, and against `T`'s own shadow when `T` derives it too.

use crate::paths::Runtime;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Fields, LitStr};

pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    let mut runtime = Runtime::default();
    let mut rename_all: Option<(String, Span)> = None;
    let mut open = false;
    for attr in &input.attrs {
        if attr.path().is_ident("flowyt") {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("crate") {
                    runtime = Runtime::from_lit(&meta.value()?.parse()?)?;
                    Ok(())
                } else {
                    Err(meta.error("`#[flowyt(...)]` takes `crate = \"path\"`"))
                }
            })?;
        } else if attr.path().is_ident("serde") {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename_all") {
                    rename_all = serialized_name(&meta)?.map(|l| (l.value(), l.span()));
                } else if ["tag", "transparent", "into", "remote"]
                    .iter()
                    .any(|k| meta.path.is_ident(k))
                {
                    // The JSON is not the struct's fields one to one.
                    open = true;
                    skip_value(&meta)?;
                } else {
                    skip_value(&meta)?;
                }
                Ok(())
            })?;
        }
    }
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            input.ident.span(),
            "`FlowOutput` describes a struct with named fields (what a template reads as \
             `${response.data.NAME}`)",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new(
            input.ident.span(),
            "`FlowOutput` describes a struct with named fields (what a template reads as \
             `${response.data.NAME}`)",
        ));
    };
    let rule = match &rename_all {
        Some((r, span)) => Some(Rule::parse(r).ok_or_else(|| {
            syn::Error::new(*span, format!("unknown serde `rename_all` rule `{r}`"))
        })?),
        None => None,
    };
    // The JSON name of each field, with its Rust type (so a template's
    // `${response.data.a.b}` can be checked against `a`'s own fields).
    let mut names: Vec<(String, &syn::Type)> = Vec::new();
    for field in &fields.named {
        let Some(ident) = &field.ident else { continue };
        let mut name = None;
        let mut skipped = false;
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    name = serialized_name(&meta)?.map(|l| l.value());
                } else if meta.path.is_ident("skip") || meta.path.is_ident("skip_serializing") {
                    skipped = true;
                } else if meta.path.is_ident("flatten") {
                    open = true;
                } else {
                    skip_value(&meta)?;
                }
                Ok(())
            })?;
        }
        if skipped {
            continue;
        }
        let written = ident.to_string();
        let written = written.strip_prefix("r#").unwrap_or(&written).to_string();
        let name = name.unwrap_or_else(|| match rule {
            Some(rule) => rule.apply(&written),
            None => written,
        });
        names.push((name, &field.ty));
    }
    let private = runtime.private();
    let name = &input.ident;
    let shadow = format_ident!("{}JsonFields", name);
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    if open {
        // Fields come from elsewhere too (`flatten`, an internally tagged enum's tag): no
        // check rather than a wrong one.
        return Ok(quote! {
            impl #impl_generics #private::OutputFields for #name #ty_generics #where_clause {
                type Fields = #private::AnyFields;
            }
        });
    }
    // Two fields may serialise to one name (serde allows it); the shadow has it once, as a
    // value whose own fields are not known. So is every field of a generic struct (the shadow
    // cannot name its parameters).
    let generic = !input.generics.params.is_empty();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    let mut shadow_fields = Vec::new();
    for (i, (name, ty)) in names.iter().enumerate() {
        if i > 0 && names[i - 1].0 == *name {
            continue;
        }
        let Some(ident) = field_ident(name) else {
            continue;
        };
        let repeated = names.get(i + 1).is_some_and(|next| next.0 == *name);
        let ty = if generic || repeated {
            quote!(())
        } else {
            quote!(#ty)
        };
        shadow_fields.push(quote!(pub #ident: #private::Field<#ty>));
    }
    Ok(quote! {
        /// The JSON fields of the type this is named after, each with its Rust type, for
        /// `flow!`'s checks (generated by `#[derive(FlowOutput)]`).
        #[doc(hidden)]
        #[allow(non_snake_case, non_camel_case_types, dead_code, private_interfaces)]
        pub struct #shadow {
            #(#shadow_fields,)*
        }

        impl #private::Described for #shadow {}

        impl #impl_generics #private::OutputFields for #name #ty_generics #where_clause {
            type Fields = #shadow;
        }
    })
}

/// An identifier for a JSON name, raw for keywords; `None` for names a template cannot write
/// after a dot (`kebab-case`, `self`).
pub(crate) fn field_ident(name: &str) -> Option<Ident> {
    if matches!(name, "self" | "Self" | "super" | "crate" | "_" | "") {
        return None;
    }
    match syn::parse_str::<Ident>(name) {
        Ok(i) => Some(i),
        Err(_) if syn::parse_str::<Ident>(&format!("r#{name}")).is_ok() => {
            Some(Ident::new_raw(name, Span::call_site()))
        }
        Err(_) => None,
    }
}

/// `= "name"` or `(serialize = "name", ...)`: the name used when serialising.
fn serialized_name(meta: &syn::meta::ParseNestedMeta) -> syn::Result<Option<LitStr>> {
    if meta.input.peek(syn::Token![=]) {
        return Ok(Some(meta.value()?.parse()?));
    }
    let mut found = None;
    meta.parse_nested_meta(|inner| {
        let lit: LitStr = inner.value()?.parse()?;
        if inner.path.is_ident("serialize") {
            found = Some(lit);
        }
        Ok(())
    })?;
    Ok(found)
}

/// Consumes whatever follows a serde key flowyt does not read (`= value`, `(...)`).
fn skip_value(meta: &syn::meta::ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _: syn::Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _group: proc_macro2::Group = meta.input.parse()?;
    }
    Ok(())
}

/// serde's `rename_all` rules, applied to a field name written in snake_case.
#[derive(Clone, Copy)]
enum Rule {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl Rule {
    fn parse(s: &str) -> Option<Rule> {
        Some(match s {
            "lowercase" => Rule::Lower,
            "UPPERCASE" => Rule::Upper,
            "PascalCase" => Rule::Pascal,
            "camelCase" => Rule::Camel,
            "snake_case" => Rule::Snake,
            "SCREAMING_SNAKE_CASE" => Rule::ScreamingSnake,
            "kebab-case" => Rule::Kebab,
            "SCREAMING-KEBAB-CASE" => Rule::ScreamingKebab,
            _ => return None,
        })
    }

    /// What serde's `RenameRule::apply_to_field` does (serde_derive's `internals/case.rs`):
    /// fields are taken as written in snake_case, `lowercase` and `snake_case` keep them.
    fn apply(self, field: &str) -> String {
        match self {
            Rule::Lower | Rule::Snake => field.to_owned(),
            Rule::Upper | Rule::ScreamingSnake => field.to_ascii_uppercase(),
            Rule::Kebab => field.replace('_', "-"),
            Rule::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
            Rule::Pascal => {
                let mut pascal = String::new();
                let mut capitalize = true;
                for ch in field.chars() {
                    if ch == '_' {
                        capitalize = true;
                    } else if capitalize {
                        pascal.push(ch.to_ascii_uppercase());
                        capitalize = false;
                    } else {
                        pascal.push(ch);
                    }
                }
                pascal
            }
            Rule::Camel => {
                let pascal = Rule::Pascal.apply(field);
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => pascal,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rename_rules_match_serde() {
        let f = "user_id_v2";
        let all = [
            ("lowercase", "user_id_v2"),
            ("UPPERCASE", "USER_ID_V2"),
            ("PascalCase", "UserIdV2"),
            ("camelCase", "userIdV2"),
            ("snake_case", "user_id_v2"),
            ("SCREAMING_SNAKE_CASE", "USER_ID_V2"),
            ("kebab-case", "user-id-v2"),
            ("SCREAMING-KEBAB-CASE", "USER-ID-V2"),
        ];
        for (rule, want) in all {
            assert_eq!(
                Rule::parse(rule).map(|r| r.apply(f)).as_deref(),
                Some(want),
                "{rule}"
            );
        }
        // As serde: `lowercase` keeps a field as written, `camelCase` lowers only the first
        // character of the PascalCase form.
        assert_eq!(Rule::Lower.apply("userID"), "userID");
        assert_eq!(Rule::Camel.apply("_links"), "links");
        assert_eq!(Rule::Camel.apply("URL"), "uRL");
        assert!(field_ident("type").is_some());
        assert!(field_ident("user-id").is_none());
        assert!(field_ident("self").is_none());
    }
}
