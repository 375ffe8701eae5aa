//! `flow! { ... }`: the DSL's syntax (one `Parse` type per construct) and its lowering to the
//! JSON-shaped [`Node`] tree a legacy flow file gives, which flowyt-core then lowers and
//! validates exactly as it does for JSON.
//!
//! ```text
//! flow     := setting* action*
//! setting  := ("id" | "name") "=" value ";"  |  "actions" "=" "[" path,* "]" ";"
//!           | "crate" "=" string ";"                        where the runtime is re-exported
//! action   := ref ":" "async"? kind body? edges? ";"
//! body     := "{" key ":" value,* "}"                      data of any kind
//!           | "{" (value op value "=>" ref | "else" "=>" ref),* "}"   conditions of `switch`
//! edges    := "->" ref                                     next_action
//!           | "->" ("success" | "fail") ":" ref,+           branches; next is the chosen one
//! ref      := ident | integer | "string"                   an action id (or a `${...}` template)
//! value    := "string" | number | true | false | null | "[" value,* "]" | "{" key ":" value,* "}"
//! op       := == | != | > | < | >= | <= | in | contains (any other identifier: its legacy name)
//! ```

use crate::diag::{Pos, Table};
use flowyt_core::catalog::{Catalog, CustomKind};
use flowyt_core::json::{JsonString, Member, Node, NodeKind};
use proc_macro2::Span;
use serde_json::Number;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitInt, LitStr, Token, braced, bracketed, token};

mod kw {
    syn::custom_keyword!(success);
    syn::custom_keyword!(fail);
    syn::custom_keyword!(null);
    syn::custom_keyword!(actions);
    syn::custom_keyword!(id);
    syn::custom_keyword!(name);
    syn::custom_keyword!(params);
    syn::custom_keyword!(schedule);
    syn::custom_keyword!(functions);
}

/// A whole `flow! { ... }`.
pub(crate) struct FlowInput {
    pub id: Option<Value>,
    pub name: Option<Value>,
    /// `params = { usuario_id: { type: "integer", minimum: 1, required: true } };`
    pub params: Option<Value>,
    /// `params = Notify { ... }`: the Rust struct that stands for the params.
    pub params_type: Option<syn::Path>,
    /// `schedule = { every: 60 };` or `schedule = { cron: "*/5 * * * *" };`
    pub schedule: Option<Value>,
    /// `functions = [students::approved_list];`: the `#[flow_function]`s templates may call.
    pub functions: Vec<syn::Path>,
    /// The typed custom actions of `actions = [...]`.
    pub actions: Vec<syn::Path>,
    /// `crate = "my_app::flowyt";`: where the generated code finds the runtime.
    pub runtime: crate::paths::Runtime,
    pub pipeline: Vec<ActionDef>,
}

/// One action: `fetch: request { url: "..." } -> success: save, fail: oops;`
pub(crate) struct ActionDef {
    pub id: Ref,
    pub async_token: Option<Token![async]>,
    pub kind: Ident,
    pub body: Body,
    pub edges: Option<Edges>,
}

/// What follows the kind.
pub(crate) enum Body {
    None,
    Data(Object),
    Switch(SwitchBody),
}

/// An action id, written where an action is defined or referred to.
pub(crate) enum Ref {
    Ident(Ident),
    Int(LitInt),
    Str(LitStr),
}

/// `-> target` or `-> success: a, fail: b`.
pub(crate) enum Edges {
    To(Ref),
    Branches(Token![->], Vec<Branch>),
}

/// `success: target` or `fail: target`.
pub(crate) struct Branch {
    /// `next_action_success` or `next_action_fail`.
    pub field: &'static str,
    pub span: Span,
    pub target: Ref,
}

/// The conditions of a `switch`.
pub(crate) struct SwitchBody {
    pub brace: token::Brace,
    pub conditions: Vec<Condition>,
    pub otherwise: Option<(Token![else], Ref)>,
}

/// `first op second => target`.
pub(crate) struct Condition {
    pub first: Value,
    pub op: String,
    pub op_span: Span,
    pub second: Value,
    pub target: Ref,
}

/// JSON-like data.
pub(crate) enum Value {
    Str(LitStr),
    Number(Number, Span),
    Bool(bool, Span),
    Null(Span),
    Array(token::Bracket, Vec<Value>),
    Object(Object),
}

/// `{ key: value, ... }`.
pub(crate) struct Object {
    pub brace: token::Brace,
    pub members: Vec<(Key, Value)>,
}

/// An object key: an identifier (checked against a typed action's input fields) or a string.
pub(crate) enum Key {
    Ident(Ident),
    Str(LitStr),
}

impl Key {
    fn text(&self) -> String {
        match self {
            Key::Ident(i) => i.unraw().to_string(),
            Key::Str(s) => s.value(),
        }
    }

    fn span(&self) -> Span {
        match self {
            Key::Ident(i) => i.span(),
            Key::Str(s) => s.span(),
        }
    }
}

impl Parse for FlowInput {
    fn parse(input: ParseStream) -> syn::Result<FlowInput> {
        let mut flow = FlowInput {
            id: None,
            name: None,
            params: None,
            params_type: None,
            schedule: None,
            functions: Vec::new(),
            actions: Vec::new(),
            runtime: crate::paths::Runtime::default(),
            pipeline: Vec::new(),
        };
        while input.peek(Ident::peek_any) && input.peek2(Token![=]) {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::id) {
                input.parse::<kw::id>()?;
                input.parse::<Token![=]>()?;
                flow.id = Some(input.parse()?);
            } else if lookahead.peek(kw::name) {
                input.parse::<kw::name>()?;
                input.parse::<Token![=]>()?;
                flow.name = Some(input.parse()?);
            } else if lookahead.peek(kw::params) {
                input.parse::<kw::params>()?;
                input.parse::<Token![=]>()?;
                if input.peek(Ident::peek_any) || input.peek(Token![::]) {
                    flow.params_type = Some(input.parse()?);
                }
                flow.params = Some(input.parse()?);
            } else if lookahead.peek(kw::schedule) {
                input.parse::<kw::schedule>()?;
                input.parse::<Token![=]>()?;
                flow.schedule = Some(input.parse()?);
            } else if lookahead.peek(kw::functions) {
                input.parse::<kw::functions>()?;
                input.parse::<Token![=]>()?;
                let content;
                bracketed!(content in input);
                let paths = Punctuated::<syn::Path, Token![,]>::parse_terminated(&content)?;
                flow.functions.extend(paths);
            } else if lookahead.peek(Token![crate]) {
                input.parse::<Token![crate]>()?;
                input.parse::<Token![=]>()?;
                flow.runtime = crate::paths::Runtime::from_lit(&input.parse()?)?;
            } else if lookahead.peek(kw::actions) {
                input.parse::<kw::actions>()?;
                input.parse::<Token![=]>()?;
                let content;
                bracketed!(content in input);
                let paths = Punctuated::<syn::Path, Token![,]>::parse_terminated(&content)?;
                flow.actions.extend(paths);
            } else {
                return Err(lookahead.error());
            }
            input.parse::<Token![;]>()?;
        }
        while !input.is_empty() {
            flow.pipeline.push(input.parse()?);
            if input.is_empty() {
                break;
            }
            input
                .parse::<Token![;]>()
                .map_err(|e| syn::Error::new(e.span(), "expected `;` after the action"))?;
        }
        Ok(flow)
    }
}

impl Parse for ActionDef {
    fn parse(input: ParseStream) -> syn::Result<ActionDef> {
        let id = input.parse()?;
        input.parse::<Token![:]>()?;
        let async_token = input.parse()?;
        let kind = Ident::parse_any(input).map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected an action kind (`request`, `response`, `switch`, ...)",
            )
        })?;
        let body = if input.peek(token::Brace) {
            if kind == "switch" && !starts_object(input) {
                Body::Switch(input.parse()?)
            } else {
                Body::Data(input.parse()?)
            }
        } else {
            Body::None
        };
        let edges = if input.peek(Token![->]) {
            Some(input.parse()?)
        } else {
            None
        };
        Ok(ActionDef {
            id,
            async_token,
            kind,
            body,
            edges,
        })
    }
}

/// True when the braces ahead hold `key: value` members rather than switch conditions.
fn starts_object(input: ParseStream) -> bool {
    fn look(input: ParseStream) -> syn::Result<bool> {
        let content;
        braced!(content in input);
        Ok(content.is_empty()
            || ((content.peek(Ident::peek_any) || content.peek(LitStr))
                && content.peek2(Token![:])))
    }
    look(&input.fork()).unwrap_or(false)
}

impl Parse for Ref {
    fn parse(input: ParseStream) -> syn::Result<Ref> {
        if input.peek(LitStr) {
            Ok(Ref::Str(input.parse()?))
        } else if input.peek(LitInt) {
            Ok(Ref::Int(input.parse()?))
        } else if input.peek(Ident::peek_any) {
            Ok(Ref::Ident(Ident::parse_any(input)?))
        } else {
            Err(input.error("expected an action id: an identifier, an integer or a string"))
        }
    }
}

impl Parse for Edges {
    fn parse(input: ParseStream) -> syn::Result<Edges> {
        let arrow = input.parse::<Token![->]>()?;
        let is_branch = |input: ParseStream| {
            (input.peek(kw::success) || input.peek(kw::fail)) && input.peek2(Token![:])
        };
        if !is_branch(input) {
            return Ok(Edges::To(input.parse()?));
        }
        let mut branches = Vec::new();
        loop {
            let (field, span) = if input.peek(kw::success) {
                let k = input.parse::<kw::success>()?;
                ("next_action_success", k.span)
            } else {
                let k = input.parse::<kw::fail>()?;
                ("next_action_fail", k.span)
            };
            input.parse::<Token![:]>()?;
            branches.push(Branch {
                field,
                span,
                target: input.parse()?,
            });
            if !input.peek(Token![,]) {
                break;
            }
            input.parse::<Token![,]>()?;
            if !is_branch(input) {
                return Err(input.error("expected `success: <id>` or `fail: <id>`"));
            }
        }
        Ok(Edges::Branches(arrow, branches))
    }
}

impl Parse for SwitchBody {
    fn parse(input: ParseStream) -> syn::Result<SwitchBody> {
        let content;
        let brace = braced!(content in input);
        let mut conditions = Vec::new();
        let mut otherwise = None;
        while !content.is_empty() {
            if content.peek(Token![else]) {
                let else_token = content.parse::<Token![else]>()?;
                content.parse::<Token![=>]>()?;
                otherwise = Some((else_token, content.parse()?));
            } else {
                conditions.push(content.parse()?);
            }
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
        Ok(SwitchBody {
            brace,
            conditions,
            otherwise,
        })
    }
}

impl Parse for Condition {
    fn parse(input: ParseStream) -> syn::Result<Condition> {
        let first = input.parse()?;
        let lookahead = input.lookahead1();
        let (op, op_span) = if lookahead.peek(Token![==]) {
            ("equal", input.parse::<Token![==]>()?.spans[0])
        } else if lookahead.peek(Token![!=]) {
            ("different", input.parse::<Token![!=]>()?.spans[0])
        } else if lookahead.peek(Token![>=]) {
            ("greater_or_equal", input.parse::<Token![>=]>()?.spans[0])
        } else if lookahead.peek(Token![<=]) {
            ("less_or_equal", input.parse::<Token![<=]>()?.spans[0])
        } else if lookahead.peek(Token![>]) {
            ("greater_than", input.parse::<Token![>]>()?.span)
        } else if lookahead.peek(Token![<]) {
            ("less_than", input.parse::<Token![<]>()?.span)
        } else if lookahead.peek(Token![in]) {
            ("in", input.parse::<Token![in]>()?.span)
        } else if lookahead.peek(Ident) {
            // `contains`, or a legacy operator name; an unknown one is reported by the validator.
            let ident = input.parse::<Ident>()?;
            let op = ident.to_string();
            let second = input.parse()?;
            input.parse::<Token![=>]>()?;
            return Ok(Condition {
                first,
                op,
                op_span: ident.span(),
                second,
                target: input.parse()?,
            });
        } else {
            return Err(lookahead.error());
        };
        let second = input.parse()?;
        input.parse::<Token![=>]>()?;
        Ok(Condition {
            first,
            op: op.to_string(),
            op_span,
            second,
            target: input.parse()?,
        })
    }
}

impl Parse for Value {
    fn parse(input: ParseStream) -> syn::Result<Value> {
        let lookahead = input.lookahead1();
        if lookahead.peek(LitStr) {
            Ok(Value::Str(input.parse()?))
        } else if lookahead.peek(LitInt) || lookahead.peek(syn::LitFloat) {
            number(input, false)
        } else if lookahead.peek(Token![-]) {
            input.parse::<Token![-]>()?;
            number(input, true)
        } else if lookahead.peek(syn::LitBool) {
            let b = input.parse::<syn::LitBool>()?;
            Ok(Value::Bool(b.value, b.span))
        } else if lookahead.peek(kw::null) {
            Ok(Value::Null(input.parse::<kw::null>()?.span))
        } else if lookahead.peek(token::Bracket) {
            let content;
            let bracket = bracketed!(content in input);
            let items = Punctuated::<Value, Token![,]>::parse_terminated(&content)?;
            Ok(Value::Array(bracket, items.into_iter().collect()))
        } else if lookahead.peek(token::Brace) {
            Ok(Value::Object(input.parse()?))
        } else if input.peek(Ident::peek_any) {
            let ident = Ident::parse_any(input)?;
            Err(syn::Error::new(
                ident.span(),
                format!(
                    "expected a value, found identifier `{ident}`\n= help: data is JSON-like: write a string (`\"{ident}\"`) or a template (`\"${{...}}\"`)"
                ),
            ))
        } else {
            Err(lookahead.error())
        }
    }
}

/// A JSON number from an integer or float literal (`-` already consumed when `negative`).
fn number(input: ParseStream, negative: bool) -> syn::Result<Value> {
    let lit: syn::Lit = input.parse()?;
    let (digits, suffix, span, float) = match &lit {
        syn::Lit::Int(i) => (i.base10_digits(), i.suffix(), i.span(), false),
        syn::Lit::Float(f) => (f.base10_digits(), f.suffix(), f.span(), true),
        other => return Err(syn::Error::new(other.span(), "expected a number")),
    };
    if !suffix.is_empty() {
        return Err(syn::Error::new(
            span,
            format!("numbers in flows have no type suffix: remove `{suffix}`"),
        ));
    }
    let text = if negative {
        format!("-{digits}")
    } else {
        digits.to_string()
    };
    let number = if float {
        text.parse::<f64>().ok().and_then(Number::from_f64)
    } else if let Ok(i) = text.parse::<i64>() {
        Some(Number::from(i))
    } else {
        text.parse::<u64>().ok().map(Number::from)
    };
    number
        .map(|n| Value::Number(n, span))
        .ok_or_else(|| syn::Error::new(span, "number out of range"))
}

impl Parse for Object {
    fn parse(input: ParseStream) -> syn::Result<Object> {
        let content;
        let brace = braced!(content in input);
        let mut members = Vec::new();
        while !content.is_empty() {
            let key = if content.peek(LitStr) {
                Key::Str(content.parse()?)
            } else if content.peek(Ident::peek_any) {
                Key::Ident(Ident::parse_any(&content)?)
            } else {
                return Err(content.error("expected a key: an identifier or a string"));
            };
            content.parse::<Token![:]>()?;
            members.push((key, content.parse()?));
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
        Ok(Object { brace, members })
    }
}

// Lowering: syntax to the JSON-shaped tree of a legacy flow file.

type N = Node<Pos>;

fn node(kind: NodeKind<Pos>, span: Span) -> N {
    Node {
        kind,
        span: Pos::new(span),
    }
}

fn member(key: &str, key_span: Span, value: N) -> Member<Pos> {
    Member {
        key: key.to_string(),
        key_span: Pos::new(key_span),
        value,
    }
}

fn string(value: String, span: Span) -> N {
    node(
        NodeKind::String(JsonString {
            value,
            verbatim: false,
        }),
        span,
    )
}

fn lit_str(lit: &LitStr, table: &mut Table) -> N {
    Node {
        kind: NodeKind::String(JsonString {
            value: lit.value(),
            verbatim: false,
        }),
        span: table.literal(lit),
    }
}

impl FlowInput {
    /// The kind names of the declared typed actions, with their paths.
    pub(crate) fn custom_kinds(&self) -> Vec<(String, &syn::Path)> {
        custom_kinds(&self.actions)
    }

    /// The catalog the flow is checked against: the built-ins plus the declared actions.
    pub(crate) fn catalog(&self) -> Catalog {
        let mut catalog = catalog(&self.actions);
        // Once a flow declares its functions, calling any other one is an error.
        for (name, _) in function_names(&self.functions) {
            catalog.add_function(name);
        }
        catalog
    }

    /// The flow as the JSON tree a legacy file would give (`{"id", "name", "pipeline"}`).
    pub(crate) fn to_node(&self, table: &mut Table) -> N {
        let mut members = Vec::new();
        if let Some(id) = &self.id {
            members.push(member("id", id.span(), id.to_node(table)));
        }
        if let Some(name) = &self.name {
            members.push(member("name", name.span(), name.to_node(table)));
        }
        if let Some(params) = &self.params {
            members.push(member("params", params.span(), params.to_node(table)));
        }
        if let Some(schedule) = &self.schedule {
            members.push(member("schedule", schedule.span(), schedule.to_node(table)));
        }
        let pipeline = self.pipeline.iter().map(|a| a.to_node(table)).collect();
        let site = Span::call_site();
        members.push(member(
            "pipeline",
            site,
            node(NodeKind::Array(pipeline), site),
        ));
        node(NodeKind::Object(members), site)
    }
}

/// The kind name of each declared action path (its last segment).
pub(crate) fn custom_kinds(paths: &[syn::Path]) -> Vec<(String, &syn::Path)> {
    paths
        .iter()
        .filter_map(|p| p.segments.last().map(|s| (s.ident.unraw().to_string(), p)))
        .collect()
}

/// The template name of each declared function: its path with `.` (`students::approved_list`
/// is `${function.students.approved_list(..)}`).
pub(crate) fn function_names(paths: &[syn::Path]) -> Vec<(String, &syn::Path)> {
    paths
        .iter()
        .map(|p| {
            let name = p
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect::<Vec<_>>()
                .join(".");
            (name, p)
        })
        .collect()
}

pub(crate) fn catalog(paths: &[syn::Path]) -> Catalog {
    let mut catalog = Catalog::new();
    for (name, _) in custom_kinds(paths) {
        catalog.add_kind(name, CustomKind::default());
    }
    catalog
}

impl ActionDef {
    fn to_node(&self, table: &mut Table) -> N {
        let id_span = self.id.span();
        let mut members = vec![
            member("id", id_span, self.id.to_node(table)),
            member(
                "action",
                self.kind.span(),
                string(self.kind.unraw().to_string(), self.kind.span()),
            ),
        ];
        if let Some(a) = &self.async_token {
            members.push(member(
                "execute_async",
                a.span,
                node(NodeKind::Bool(true), a.span),
            ));
        }
        let mut data = match &self.body {
            Body::None => node(NodeKind::Object(Vec::new()), self.kind.span()),
            Body::Data(object) => object.to_node(table),
            Body::Switch(switch) => switch.to_node(table),
        };
        let next = match &self.edges {
            Some(Edges::To(target)) => target.to_node(table),
            Some(Edges::Branches(arrow, branches)) => {
                if let NodeKind::Object(data_members) = &mut data.kind {
                    for b in branches {
                        data_members.push(member(b.field, b.span, b.target.to_node(table)));
                    }
                }
                follow_branch(arrow.spans[0])
            }
            None if matches!(self.body, Body::Switch(_)) => follow_branch(self.kind.span()),
            None => node(NodeKind::Null, self.kind.span()),
        };
        members.push(member("data", data.span.span, data));
        members.push(member("next_action", next.span.span, next));
        node(NodeKind::Object(members), id_span)
    }
}

/// `"next_action": "${pipeline.next_action}"`: go where the action's branch points.
fn follow_branch(span: Span) -> N {
    string("${pipeline.next_action}".into(), span)
}

impl Ref {
    pub(crate) fn span(&self) -> Span {
        match self {
            Ref::Ident(i) => i.span(),
            Ref::Int(i) => i.span(),
            Ref::Str(s) => s.span(),
        }
    }

    fn to_node(&self, table: &mut Table) -> N {
        match self {
            Ref::Ident(i) => string(i.unraw().to_string(), i.span()),
            Ref::Str(s) => lit_str(s, table),
            // An integer id is the JSON number it reads as: `2` and `"2"` are the same id.
            Ref::Int(i) => match i.base10_digits().parse::<u64>() {
                Ok(n) if i.suffix().is_empty() => node(NodeKind::Number(n.into()), i.span()),
                _ => string(i.to_string(), i.span()),
            },
        }
    }
}

impl SwitchBody {
    fn to_node(&self, table: &mut Table) -> N {
        let span = self.brace.span.join();
        let conditions = self
            .conditions
            .iter()
            .map(|c| {
                let fields = vec![
                    member("operator", c.op_span, string(c.op.clone(), c.op_span)),
                    member("first_expression", c.first.span(), c.first.to_node(table)),
                    member(
                        "second_expression",
                        c.second.span(),
                        c.second.to_node(table),
                    ),
                    member("next_action", c.target.span(), c.target.to_node(table)),
                ];
                node(NodeKind::Object(fields), c.first.span())
            })
            .collect();
        let mut members = vec![member(
            "conditions",
            span,
            node(NodeKind::Array(conditions), span),
        )];
        if let Some((else_token, target)) = &self.otherwise {
            members.push(member(
                "next_action_else",
                else_token.span,
                target.to_node(table),
            ));
        }
        node(NodeKind::Object(members), span)
    }
}

impl Value {
    pub(crate) fn span(&self) -> Span {
        match self {
            Value::Str(s) => s.span(),
            Value::Number(_, span) | Value::Bool(_, span) | Value::Null(span) => *span,
            Value::Array(bracket, _) => bracket.span.join(),
            Value::Object(o) => o.brace.span.join(),
        }
    }

    fn to_node(&self, table: &mut Table) -> N {
        match self {
            Value::Str(s) => lit_str(s, table),
            Value::Number(n, span) => node(NodeKind::Number(n.clone()), *span),
            Value::Bool(b, span) => node(NodeKind::Bool(*b), *span),
            Value::Null(span) => node(NodeKind::Null, *span),
            Value::Array(bracket, items) => node(
                NodeKind::Array(items.iter().map(|v| v.to_node(table)).collect()),
                bracket.span.join(),
            ),
            Value::Object(o) => o.to_node(table),
        }
    }
}

impl Object {
    fn to_node(&self, table: &mut Table) -> N {
        let members = self
            .members
            .iter()
            .map(|(k, v)| member(&k.text(), k.span(), v.to_node(table)))
            .collect();
        node(NodeKind::Object(members), self.brace.span.join())
    }

    /// The keys written as identifiers (the ones checked against a typed input's fields).
    pub(crate) fn ident_keys(&self) -> impl Iterator<Item = &Ident> {
        self.members.iter().filter_map(|(k, _)| match k {
            Key::Ident(i) => Some(i),
            Key::Str(_) => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn json(tokens: proc_macro2::TokenStream) -> serde_json::Value {
        let flow: FlowInput = syn::parse2(tokens).expect("parses");
        flow.to_node(&mut Table::default()).to_value()
    }

    #[test]
    fn lowers_to_the_legacy_json_shape() {
        let v = json(quote! {
            id = "f1";
            name = "Github";
            1: start -> 2;
            2: flow_var { url: "${env.baseUrl}/users", "x-y": [1, -2.5, true, null] } -> fetch;
            fetch: request { url: "${flow.url}" } -> success: "4", fail: 6;
            "4": async handle { flow: "other" } -> 6;
            6: response { status: 400, data: { msg: "bad" } };
        });
        assert_eq!(
            v,
            serde_json::json!({
                "id": "f1",
                "name": "Github",
                "pipeline": [
                    {"id": 1, "action": "start", "data": {}, "next_action": 2},
                    {"id": 2, "action": "flow_var",
                     "data": {"url": "${env.baseUrl}/users", "x-y": [1, -2.5, true, null]},
                     "next_action": "fetch"},
                    {"id": "fetch", "action": "request",
                     "data": {"url": "${flow.url}", "next_action_success": "4", "next_action_fail": 6},
                     "next_action": "${pipeline.next_action}"},
                    {"id": "4", "action": "handle", "execute_async": true,
                     "data": {"flow": "other"}, "next_action": 6},
                    {"id": 6, "action": "response",
                     "data": {"status": 400, "data": {"msg": "bad"}}, "next_action": null}
                ]
            })
        );
    }

    #[test]
    fn switch_conditions_lower_to_legacy_operators() {
        let v = json(quote! {
            s: switch {
                "${a}" == "x" => one,
                "${a}" != 1 => one,
                "${n}" >= 2 => one,
                "${n}" <= 2 => one,
                "${n}" > 2 => one,
                "${n}" < 2 => one,
                "a" in ["a"] => one,
                "${l}" contains "a" => one,
                "${l}" equals "a" => one,
                else => two,
            };
            one: end;
            two: end;
        });
        let data = &v["pipeline"][0]["data"];
        let ops: Vec<&str> = data["conditions"]
            .as_array()
            .expect("conditions")
            .iter()
            .filter_map(|c| c["operator"].as_str())
            .collect();
        assert_eq!(
            ops,
            [
                "equal",
                "different",
                "greater_or_equal",
                "less_or_equal",
                "greater_than",
                "less_than",
                "in",
                "contains",
                "equals"
            ]
        );
        assert_eq!(data["next_action_else"], "two");
        assert_eq!(v["pipeline"][0]["next_action"], "${pipeline.next_action}");
        assert_eq!(
            data["conditions"][6]["second_expression"],
            serde_json::json!(["a"])
        );
    }

    #[test]
    fn switch_may_be_written_as_legacy_data() {
        let v = json(quote! {
            s: switch { conditions: [], next_action_else: "t" } -> "${pipeline.next_action}";
            t: end;
        });
        assert_eq!(v["pipeline"][0]["data"]["next_action_else"], "t");
    }

    #[test]
    fn keyword_kinds_and_keys_are_accepted() {
        let v = json(quote! {
            l: loop { type: "range", data: 3, flow: "item" };
        });
        assert_eq!(v["pipeline"][0]["action"], "loop");
        assert_eq!(v["pipeline"][0]["data"]["type"], "range");
    }

    fn parse_error(tokens: proc_macro2::TokenStream) -> String {
        match syn::parse2::<FlowInput>(tokens) {
            Ok(_) => panic!("should not parse"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn syntax_errors_say_what_was_expected() {
        assert!(
            parse_error(quote! { a: run { x: y }; })
                .starts_with("expected a value, found identifier `y`")
        );
        assert_eq!(
            parse_error(quote! { a: end b: end; }),
            "expected `;` after the action"
        );
        assert_eq!(
            parse_error(quote! { a: run { x: 1u8 }; }),
            "numbers in flows have no type suffix: remove `u8`"
        );
        assert!(parse_error(quote! { names = "x"; }).starts_with("expected one of"));
        assert_eq!(
            parse_error(quote! { a: request {} -> success: b, c; }),
            "expected `success: <id>` or `fail: <id>`"
        );
    }
}
