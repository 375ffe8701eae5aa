//! Template value types at the Rust boundary: which JSON types a `#[flow_function]` parameter
//! accepts (read from its Rust type), and the marker types `flow!` passes to say what a call's
//! arguments are known to be, so rustc checks one against the other.

use flowyt_core::expr::Types;
use proc_macro2::{Ident, Span};
use syn::{GenericArgument, PathArguments, Type};

/// The JSON types serde_json can deserialise into `ty` (a `#[flow_function]` parameter), read
/// from how the type is written; [`Types::ANY`] for types it cannot tell (your own types,
/// aliases).
pub(crate) fn accepted(ty: &Type) -> Types {
    json_types(ty, false)
}

/// The JSON types serde_json serialises `ty` to (what a `#[flow_function]` returns), read
/// from how the type is written; [`Types::ANY`] for types it cannot tell.
pub(crate) fn produced(ty: &Type) -> Types {
    json_types(ty, true)
}

/// The two differ in floats (`f64` takes an integer, but writes `2.0`) and references (a
/// parameter is deserialised into an owned value; a result may borrow).
fn json_types(ty: &Type, serialising: bool) -> Types {
    let again = |t: &Type| json_types(t, serialising);
    match ty {
        Type::Paren(p) => again(&p.elem),
        Type::Group(g) => again(&g.elem),
        Type::Reference(r) if serialising => again(&r.elem),
        Type::Array(_) | Type::Slice(_) => Types::LIST,
        Type::Tuple(t) if t.elems.is_empty() => Types::NULL,
        Type::Tuple(_) => Types::LIST,
        Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return Types::ANY;
            };
            let inner = || match &last.arguments {
                PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
                    GenericArgument::Type(t) => Some(t),
                    _ => None,
                }),
                _ => None,
            };
            match last.ident.to_string().as_str() {
                "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64"
                | "u128" | "usize" => Types::INT,
                "f32" | "f64" if serialising => Types::FLOAT,
                "f32" | "f64" => Types::NUMBER,
                "bool" => Types::BOOL,
                "String" | "char" => Types::STR,
                "str" if serialising => Types::STR,
                "Vec" | "VecDeque" | "HashSet" | "BTreeSet" | "LinkedList" => Types::LIST,
                "HashMap" | "BTreeMap" | "Map" | "IndexMap" => Types::DICT,
                "Option" => inner().map_or(Types::ANY, |t| Types::NULL.union(again(t))),
                "Box" | "Rc" | "Arc" => inner().map_or(Types::ANY, again),
                _ => Types::ANY,
            }
        }
        _ => Types::ANY,
    }
}

/// The marker type for what a template passes (`runtime::__private::kinds::<name>`), or
/// `unknown` when it could be several things.
pub(crate) fn marker(t: Types) -> Ident {
    Ident::new(
        match t {
            Types::NULL => "NoneType",
            Types::BOOL => "bool",
            Types::INT => "int",
            Types::FLOAT => "float",
            Types::STR => "str",
            Types::LIST => "list",
            Types::DICT => "dict",
            Types::NUMBER => "number",
            _ => "unknown",
        },
        Span::call_site(),
    )
}

/// Every marker with the types it stands for.
pub(crate) fn markers() -> impl Iterator<Item = (Ident, Types)> {
    [
        Types::NULL,
        Types::BOOL,
        Types::INT,
        Types::FLOAT,
        Types::STR,
        Types::LIST,
        Types::DICT,
        Types::NUMBER,
    ]
    .into_iter()
    .map(|t| (marker(t), t))
}

/// `Vec < u32 >` as `Vec<u32>`, for messages.
pub(crate) fn show(ty: &Type) -> String {
    let s = quote::quote!(#ty).to_string();
    s.replace(" < ", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" :: ", "::")
        .replace(" ,", ",")
        .replace("& ", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(src: &str) -> Types {
        accepted(&syn::parse_str(src).expect("a type"))
    }

    #[test]
    fn types_read_from_rust_types() {
        assert_eq!(of("i64"), Types::INT);
        assert_eq!(of("f64"), Types::NUMBER);
        assert_eq!(of("std::string::String"), Types::STR);
        assert_eq!(of("Vec<u32>"), Types::LIST);
        assert_eq!(of("[u8; 4]"), Types::LIST);
        assert_eq!(of("(i64, String)"), Types::LIST);
        assert_eq!(of("HashMap<String, i64>"), Types::DICT);
        assert_eq!(of("Option<String>"), Types::NULL.union(Types::STR));
        assert_eq!(of("Box<i64>"), Types::INT);
        assert_eq!(of("serde_json::Value"), Types::ANY);
        assert_eq!(of("Order"), Types::ANY);
        assert_eq!(of("Option<Order>"), Types::ANY);
        assert_eq!(
            show(&syn::parse_str("Vec<Option<u32>>").expect("a type")),
            "Vec<Option<u32>>"
        );
        let made = |src: &str| produced(&syn::parse_str(src).expect("a type"));
        assert_eq!(made("f64"), Types::FLOAT);
        assert_eq!(made("&'static str"), Types::STR);
        assert_eq!(made("Option<i64>"), Types::NULL.union(Types::INT));
        assert_eq!(made("MyType"), Types::ANY);
    }
}
