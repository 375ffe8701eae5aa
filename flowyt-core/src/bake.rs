//! Baking: Rust code that rebuilds a lowered flow model value for value, which `flow!`,
//! `include_flow!` and `include_workspace!` expand to instead of JSON text the runtime would
//! lower again.
//!
//! The generated code only constructs values (through [`crate::baked`] where fields are
//! private): nothing is parsed, lowered or validated when it runs, and nothing in it can fail.
//! Feature `bake` (flowyt-macros enables it; the runtime does not need it).

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

/// Where generated code finds `flowyt_core` (for example
/// `::flowyt_runtime::__private::core`), and the values shared through an `Arc` baked so far.
#[derive(Debug)]
pub struct Baker {
    core: TokenStream,
    shared: RefCell<Shared>,
    /// The function generated for each expression source, put in each expression baked.
    compiled: HashMap<String, TokenStream>,
}

/// Each `Arc` is baked once, as a `let`, and cloned where it is used: a compiled Cerberus
/// schema shares its rule sets (a field named like a rule, `schema`, is read both as a field
/// and as the rule, so each level can reach the next twice), and copies would grow
/// exponentially with the nesting.
#[derive(Debug, Default)]
struct Shared {
    /// By the address of the shared value: the name of its `let`.
    seen: HashMap<usize, Ident>,
    /// The `let`s, inner values first.
    lets: Vec<TokenStream>,
}

impl Baker {
    /// A baker whose code names `flowyt_core` as `core`.
    pub fn new(core: TokenStream) -> Baker {
        Baker {
            core,
            shared: RefCell::default(),
            compiled: HashMap::new(),
        }
    }

    /// The same baker, baking each expression whose source is a key of `compiled` with that
    /// function (code naming a `CompiledFn`) to run instead of its tree.
    pub fn with_compiled(mut self, compiled: HashMap<String, TokenStream>) -> Baker {
        self.compiled = compiled;
        self
    }

    /// Code that evaluates to `value`: one block, with the `let`s of its shared values.
    pub fn bake<T: Bake + ?Sized>(&self, value: &T) -> TokenStream {
        let value = value.bake(self);
        let shared = self.shared.take();
        if shared.lets.is_empty() {
            return value;
        }
        let lets = shared.lets;
        quote!({ #(#lets)* #value })
    }

    fn baked(&self) -> TokenStream {
        let core = &self.core;
        quote!(#core::baked)
    }
}

/// A value that generated Rust code can rebuild.
pub trait Bake {
    /// Code that evaluates to a value equal to `self`.
    fn bake(&self, baker: &Baker) -> TokenStream;
}

impl<T: Bake + ?Sized> Bake for &T {
    fn bake(&self, baker: &Baker) -> TokenStream {
        (**self).bake(baker)
    }
}

macro_rules! literal {
    ($($ty:ty => $make:ident),* $(,)?) => {$(
        impl Bake for $ty {
            fn bake(&self, _: &Baker) -> TokenStream {
                let lit = Literal::$make(*self);
                quote!(#lit)
            }
        }
    )*};
}

literal!(u8 => u8_suffixed, u16 => u16_suffixed, u32 => u32_suffixed, u64 => u64_suffixed,
    usize => usize_suffixed, i64 => i64_suffixed, i128 => i128_suffixed);

impl Bake for bool {
    fn bake(&self, _: &Baker) -> TokenStream {
        quote!(#self)
    }
}

impl Bake for f64 {
    fn bake(&self, _: &Baker) -> TokenStream {
        let bits = Literal::u64_suffixed(self.to_bits());
        quote!(::core::primitive::f64::from_bits(#bits))
    }
}

impl Bake for str {
    fn bake(&self, _: &Baker) -> TokenStream {
        quote!(#self)
    }
}

impl Bake for String {
    fn bake(&self, _: &Baker) -> TokenStream {
        let s = self.as_str();
        quote!(::std::string::String::from(#s))
    }
}

impl Bake for Box<str> {
    fn bake(&self, _: &Baker) -> TokenStream {
        let s = &**self;
        quote!(::std::boxed::Box::<str>::from(#s))
    }
}

impl<T: Bake> Bake for Option<T> {
    fn bake(&self, baker: &Baker) -> TokenStream {
        match self {
            Some(v) => {
                let v = v.bake(baker);
                quote!(::core::option::Option::Some(#v))
            }
            None => quote!(::core::option::Option::None),
        }
    }
}

impl<T: Bake> Bake for [T] {
    fn bake(&self, baker: &Baker) -> TokenStream {
        if self.is_empty() {
            return quote!(::std::vec::Vec::new());
        }
        // A call, not `vec![..]`: nested data does not nest macro expansions.
        let items = self.iter().map(|v| v.bake(baker));
        quote!(::std::vec::Vec::from([#(#items),*]))
    }
}

impl<T: Bake> Bake for Vec<T> {
    fn bake(&self, baker: &Baker) -> TokenStream {
        self.as_slice().bake(baker)
    }
}

impl<T: Bake> Bake for Box<T> {
    fn bake(&self, baker: &Baker) -> TokenStream {
        let v = (**self).bake(baker);
        quote!(::std::boxed::Box::new(#v))
    }
}

impl<T: Bake> Bake for Arc<T> {
    fn bake(&self, baker: &Baker) -> TokenStream {
        // The address identifies the value while the model is borrowed (every `Arc` in it is
        // alive); `Baker::bake` forgets them when it returns.
        let at = Arc::as_ptr(self).cast::<()>() as usize;
        let known = baker.shared.borrow().seen.get(&at).cloned();
        let name = match known {
            Some(name) => name,
            None => {
                let value = (**self).bake(baker);
                let mut shared = baker.shared.borrow_mut();
                let name = Ident::new(
                    &format!("__flowyt_shared_{}", shared.lets.len()),
                    Span::call_site(),
                );
                shared
                    .lets
                    .push(quote!(let #name = ::std::sync::Arc::new(#value);));
                shared.seen.insert(at, name.clone());
                name
            }
        };
        quote!(::std::sync::Arc::clone(&#name))
    }
}

impl<A: Bake, B: Bake> Bake for (A, B) {
    fn bake(&self, baker: &Baker) -> TokenStream {
        let (a, b) = (self.0.bake(baker), self.1.bake(baker));
        quote!((#a, #b))
    }
}

impl Bake for Range<usize> {
    fn bake(&self, baker: &Baker) -> TokenStream {
        let (start, end) = (self.start.bake(baker), self.end.bake(baker));
        quote!(#start..#end)
    }
}

impl Bake for Value {
    fn bake(&self, baker: &Baker) -> TokenStream {
        let baked = baker.baked();
        let json = quote!(#baked::serde_json::Value);
        match self {
            Value::Null => quote!(#json::Null),
            Value::Bool(b) => quote!(#json::Bool(#b)),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    let u = Literal::u64_suffixed(u);
                    quote!(#json::from(#u))
                } else if let Some(i) = n.as_i64() {
                    let i = Literal::i64_suffixed(i);
                    quote!(#json::from(#i))
                } else {
                    let bits = Literal::u64_suffixed(n.as_f64().unwrap_or(0.0).to_bits());
                    quote!(#baked::float(#bits))
                }
            }
            Value::String(s) => {
                let s = s.as_str();
                quote!(#json::String(::std::string::String::from(#s)))
            }
            Value::Array(items) => {
                let items = items.bake(baker);
                quote!(#json::Array(#items))
            }
            Value::Object(members) => {
                let members = members.iter().map(|(k, v)| {
                    let (k, v) = (k.as_str(), v.bake(baker));
                    quote!((#k, #v))
                });
                quote!(#baked::object([#(#members),*]))
            }
        }
    }
}

/// `Bake` for a struct with public fields, built as a struct literal at `core::<module>`. The
/// fields are destructured, so a field added to the struct and not listed here does not compile.
macro_rules! bake_struct {
    ($module:ident :: $ty:ident { $($field:ident),* $(,)? }) => {
        impl Bake for $crate::$module::$ty {
            fn bake(&self, baker: &Baker) -> TokenStream {
                let core = &baker.core;
                let $crate::$module::$ty { $($field),* } = self;
                $( let $field = $field.bake(baker); )*
                quote!(#core :: $module :: $ty { $( $field: #$field ),* })
            }
        }
    };
}

/// `Bake` for an enum, variant by variant: `Unit`, `Tuple(a, b)` or `Struct { a, b }` (the
/// names bind the fields).
macro_rules! bake_enum {
    ($module:ident :: $ty:ident {
        $( $variant:ident $( ( $($t:ident),+ ) )? $( { $($f:ident),+ } )? ),* $(,)?
    }) => {
        impl Bake for $crate::$module::$ty {
            #[allow(unused_variables)]
            fn bake(&self, baker: &Baker) -> TokenStream {
                let core = &baker.core;
                let path = quote!(#core :: $module :: $ty);
                use $crate::$module::$ty as This;
                match self {
                    $( This::$variant $( ( $($t),+ ) )? $( { $($f),+ } )? => {
                        $( $( let $t = $t.bake(baker); )+ )?
                        $( $( let $f = $f.bake(baker); )+ )?
                        quote!(#path :: $variant $( ( $(#$t),+ ) )? $( { $($f: #$f),+ } )?)
                    } )*
                }
            }
        }
    };
}

// The flow model.
bake_struct!(model::Flow {
    id,
    name,
    actions,
    loc,
    params,
    schedule,
    catchup
});
bake_struct!(model::Action {
    id,
    id_loc,
    kind_name,
    kind_loc,
    kind,
    next,
    execute_async,
    raw_data
});
bake_enum!(model::Next { End, To(t), Branch(loc), Dynamic(tpl) });
bake_struct!(model::Target { id, loc });
bake_enum!(model::Edge { None, To(t), Dynamic(tpl) });
bake_struct!(model::Tpl {
    template,
    source,
    loc,
    path
});
bake_enum!(model::Data { Const(v), Template(t), Array(items), Object(members) });
bake_enum!(model::Kind {
    Start, End, FlowVar(d), WorkspaceVar(d), Run(d), Request(r), Response(r), Switch(s),
    Validation(v), Jump(f), Handle(f), Loop(l), Parallel(p), SqlDb(s), Redis(r),
    Integration(d), Custom(c), Unknown(d),
});
bake_enum!(model::RedisOp { Get, Set, Publish });
bake_struct!(model::Redis {
    op,
    key,
    data,
    expire
});
bake_struct!(model::SqlDb {
    conn,
    sql,
    sql_data
});
bake_struct!(model::Request {
    url,
    method,
    headers,
    body,
    timeout,
    retries,
    retry_delay,
    retry_unsafe,
    success,
    fail,
});
bake_struct!(model::Response {
    status,
    headers,
    body
});
bake_struct!(model::Switch {
    conditions,
    otherwise
});
bake_struct!(model::Condition {
    operator,
    operator_loc,
    first,
    second,
    target
});
bake_enum!(model::Operator {
    Equal,
    Different,
    GreaterThan,
    LessThan,
    GreaterOrEqual,
    LessOrEqual,
    Contains,
    In,
});
bake_struct!(model::Validation {
    schema,
    success,
    fail
});
bake_struct!(model::Custom {
    data,
    success,
    fail
});
bake_struct!(model::Parallel {
    branches,
    success,
    fail
});
bake_enum!(model::ParallelBranch { Request(r), Flow(f) });
bake_struct!(model::FlowRef { flow, loc });
bake_struct!(model::Loop { items, flow });

impl Bake for crate::loc::Loc {
    fn bake(&self, baker: &Baker) -> TokenStream {
        let core = &baker.core;
        let n = self.0.bake(baker);
        quote!(#core::loc::Loc(#n))
    }
}

// Routes.
bake_struct!(workspace::Route {
    method,
    path,
    axum_path,
    params,
    flow,
    timeout
});

impl Bake for std::time::Duration {
    fn bake(&self, baker: &Baker) -> TokenStream {
        let (secs, nanos) = (self.as_secs().bake(baker), self.subsec_nanos().bake(baker));
        quote!(::core::time::Duration::new(#secs, #nanos))
    }
}

// Params, schedules, SQL.
bake_struct!(params::Param {
    name,
    loc,
    ty,
    required,
    default,
    minimum,
    maximum,
    choices
});
bake_enum!(params::ParamType {
    String,
    Integer,
    Number,
    Boolean,
    Object,
    Array
});
bake_enum!(schedule::Catchup { Latest, All });
bake_enum!(schedule::Schedule { Every(secs), Cron(c) });
bake_struct!(sql::SqlTemplate { pieces });
bake_enum!(sql::Piece { Sql(s), Param(b) });
bake_enum!(sql::Bind { Typed(t), Text(t) });

impl Bake for crate::schedule::Cron {
    fn bake(&self, baker: &Baker) -> TokenStream {
        let baked = baker.baked();
        let crate::schedule::Cron {
            source,
            minutes,
            hours,
            days,
            months,
            weekdays,
            either_day,
        } = self;
        let source = source.as_str();
        let fields = [
            minutes.bake(baker),
            hours.bake(baker),
            days.bake(baker),
            months.bake(baker),
            weekdays.bake(baker),
            either_day.bake(baker),
        ];
        quote!(#baked::cron(#source, #(#fields),*))
    }
}

// Templates and expression trees.
impl Bake for crate::expr::Template {
    fn bake(&self, baker: &Baker) -> TokenStream {
        let baked = baker.baked();
        let parts = self.parts.bake(baker);
        quote!(#baked::template(#parts))
    }
}

impl Bake for crate::expr::Expr {
    fn bake(&self, baker: &Baker) -> TokenStream {
        let baked = baker.baked();
        let src = &*self.src;
        let root = self.root.bake(baker);
        match baker.compiled.get(src) {
            Some(run) => quote!(#baked::compiled_expr(#src, #root, #run)),
            None => quote!(#baked::expr(#src, #root)),
        }
    }
}

bake_enum!(expr::Part { Text(s), Expr(seg) });
bake_struct!(expr::Segment {
    expr,
    range,
    expr_range
});
bake_enum!(expr::PathSeg { Key(k), Index(i) });
bake_struct!(baked::Node { kind, range, depth });
bake_enum!(baked::UnaryOp { Neg, Pos });
bake_enum!(baked::BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow
});
bake_enum!(baked::CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Is,
    IsNot
});
bake_struct!(baked::Generator {
    targets,
    unpack,
    iter,
    ifs
});
bake_struct!(baked::Kwarg {
    name,
    name_range,
    value
});
bake_enum!(baked::ExprKind {
    Const(v), Name(n), Attr { obj, name }, Index { obj, index }, Slice { obj, lo, hi, step },
    Call { func, args, kwargs }, List(items), Dict(pairs), Unary { op, operand },
    Binary { op, lhs, rhs }, And(a, b), Or(a, b), Not(x), Compare { first, rest },
    IfElse { then, cond, orelse }, ListComp { elt, gens }, DictComp { key, value, gens },
    Lambda { params, body },
});

// Cerberus schemas.
impl Bake for crate::cerberus::Schema {
    fn bake(&self, baker: &Baker) -> TokenStream {
        let baked = baker.baked();
        let (root, normalize) = (self.root.bake(baker), self.normalize.bake(baker));
        quote!(#baked::schema(#root, #normalize))
    }
}

impl Bake for crate::cerberus::Mapping {
    fn bake(&self, baker: &Baker) -> TokenStream {
        let baked = baker.baked();
        let fields = self.fields.bake(baker);
        quote!(#baked::mapping(#fields))
    }
}

bake_struct!(baked::Rules {
    queue,
    nullable,
    required,
    readonly,
    allow_unknown,
    require_all,
    default
});
bake_struct!(baked::Rule { name, raw, kind });
bake_struct!(baked::SubSchema { mapping, rules });
bake_enum!(baked::RuleName {
    Allowed,
    Contains,
    Dependencies,
    Empty,
    Excludes,
    Forbidden,
    Items,
    Keysrules,
    Max,
    Maxlength,
    Min,
    Minlength,
    Nullable,
    Readonly,
    Regex,
    Schema,
    Type,
    Valuesrules,
});
bake_enum!(baked::TypeName {
    Binary,
    Boolean,
    Container,
    Date,
    Datetime,
    Dict,
    Float,
    Integer,
    List,
    Number,
    Set,
    String,
});

impl Bake for crate::cerberus::RuleKind {
    fn bake(&self, baker: &Baker) -> TokenStream {
        use crate::cerberus::RuleKind as K;
        let core = &baker.core;
        let baked = baker.baked();
        let path = quote!(#core::baked::RuleKind);
        match self {
            K::Allowed(v) => wrap(&path, "Allowed", v.bake(baker)),
            K::Contains(v) => wrap(&path, "Contains", v.bake(baker)),
            K::DependenciesSeq(v) => wrap(&path, "DependenciesSeq", v.bake(baker)),
            K::DependenciesMap(v) => wrap(&path, "DependenciesMap", v.bake(baker)),
            K::Empty(v) => wrap(&path, "Empty", v.bake(baker)),
            K::Excludes(v) => wrap(&path, "Excludes", v.bake(baker)),
            K::Forbidden(v) => wrap(&path, "Forbidden", v.bake(baker)),
            K::Items(v) => wrap(&path, "Items", v.bake(baker)),
            K::Keysrules(v) => wrap(&path, "Keysrules", v.bake(baker)),
            K::Max(v) => wrap(&path, "Max", v.bake(baker)),
            K::Maxlength(v) => wrap(&path, "Maxlength", v.bake(baker)),
            K::Min(v) => wrap(&path, "Min", v.bake(baker)),
            K::Minlength(v) => wrap(&path, "Minlength", v.bake(baker)),
            K::Nullable(v) => wrap(&path, "Nullable", v.bake(baker)),
            K::Readonly(v) => wrap(&path, "Readonly", v.bake(baker)),
            K::Regex(re) => {
                let source = re.as_str();
                quote!(#baked::regex(#source))
            }
            K::BrokenRegex(why) => wrap(&path, "BrokenRegex", why.bake(baker)),
            K::Schema(v) => wrap(&path, "Schema", v.bake(baker)),
            K::Type(v) => wrap(&path, "Type", v.bake(baker)),
            K::Valuesrules(v) => wrap(&path, "Valuesrules", v.bake(baker)),
        }
    }
}

/// `path::Variant(value)`.
fn wrap(path: &TokenStream, variant: &str, value: TokenStream) -> TokenStream {
    let variant = Ident::new(variant, Span::call_site());
    quote!(#path::#variant(#value))
}
