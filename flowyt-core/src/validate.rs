//! The validator: every rule a flow must satisfy, run on the lowered model.
//!
//! [`flow`] runs every rule and returns everything it found. A rule skips what an earlier
//! rule already reported (an action whose only incoming edge is misspelled is not also called
//! unreachable: the misspelling's suggestion counts as the edge).

use crate::catalog::{self, Catalog};
use crate::diag::{Code, Diagnostic, Severity};
use crate::expr;
use crate::loc::Loc;
use crate::model::*;
use crate::suggest;
use std::collections::{BTreeSet, HashMap};

/// What the validator checks against besides the flow itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct Context<'a> {
    /// Custom kinds and registered functions.
    pub catalog: Option<&'a Catalog>,
    /// The flow keys of the workspace, when the flow belongs to one (checks `jump`, `handle`, `loop`).
    pub flows: Option<&'a BTreeSet<String>>,
}

/// How strictly legacy mistakes are judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Strictness {
    /// Every problem that can make a run fail is an error (`flow!`, `include_flow!`, `flowyt check`).
    #[default]
    Strict,
    /// Legacy serving: dangling ids, unreachable actions, unknown kinds and fields are warnings,
    /// because real legacy flows contain them (spec decision 8).
    Legacy,
}

/// Lowers the severities of the findings that legacy workspaces are allowed to have.
pub fn apply(strictness: Strictness, diags: &mut [Diagnostic]) {
    if strictness == Strictness::Strict {
        return;
    }
    for d in diags {
        if matches!(
            d.code,
            Code::DanglingNext
                | Code::DanglingSuccess
                | Code::DanglingFail
                | Code::DanglingSwitch
                | Code::DanglingElse
                | Code::Unreachable
                | Code::UnknownKind
                | Code::UnknownField
                | Code::NextWithoutBranch
                | Code::UnknownRoot
                | Code::TemplateType
        ) {
            d.severity = Severity::Warning;
        }
    }
}

/// Runs every rule on `flow`.
pub fn flow(flow: &Flow, cx: Context<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if flow.actions.is_empty() {
        // Lowering reported the empty pipeline, or why each action was dropped.
        return out;
    }
    duplicate_ids(flow, &mut out);
    multiple_starts(flow, &mut out);
    dangling_edges(flow, &mut out);
    unreachable(flow, &mut out);
    branches(flow, &mut out);
    templates(flow, cx, &mut out);
    params(flow, &mut out);
    template_types(flow, &mut out);
    flow_refs(flow, cx, &mut out);
    out
}

/// Rule: ids are unique. `{"id": "2"}` twice: the legacy engine silently kept the last one.
fn duplicate_ids(flow: &Flow, out: &mut Vec<Diagnostic>) {
    let mut first: HashMap<&str, Loc> = HashMap::new();
    for a in &flow.actions {
        match first.get(a.id.as_str()) {
            Some(&loc) => out.push(
                Diagnostic::error(
                    Code::DuplicateId,
                    a.id_loc,
                    format!("duplicate action id `{}`", a.id),
                )
                .with_note(loc, format!("`{}` is first defined here", a.id))
                .with_help(Some("give each action its own id".into())),
            ),
            None => {
                first.insert(&a.id, a.id_loc);
            }
        }
    }
}

/// Rule: at most one `start`. The entry is the `start` action, else the first action.
fn multiple_starts(flow: &Flow, out: &mut Vec<Diagnostic>) {
    let starts: Vec<&Action> = flow
        .actions
        .iter()
        .filter(|a| matches!(a.kind, Kind::Start))
        .collect();
    if let [first, rest @ ..] = starts.as_slice() {
        for a in rest {
            out.push(
                Diagnostic::error(
                    Code::MultipleStarts,
                    a.kind_loc,
                    format!("a second `start` action (`{}`)", a.id),
                )
                .with_note(first.kind_loc, format!("the flow starts at `{}`", first.id))
                .with_help(Some("a flow has one entry; remove one `start`".into())),
            );
        }
    }
}

fn ids(flow: &Flow) -> impl Iterator<Item = &str> + Clone {
    flow.actions.iter().map(|a| a.id.as_str())
}

/// Rule: every edge names an existing action. Checks `next_action`, `next_action_success`,
/// `next_action_fail`, switch conditions and `next_action_else`.
fn dangling_edges(flow: &Flow, out: &mut Vec<Diagnostic>) {
    let known: BTreeSet<&str> = ids(flow).collect();
    for a in &flow.actions {
        for (t, kind) in a.literal_edges() {
            if known.contains(t.id.as_str()) {
                continue;
            }
            let code = match kind {
                EdgeKind::Next => Code::DanglingNext,
                EdgeKind::Success => Code::DanglingSuccess,
                EdgeKind::Fail => Code::DanglingFail,
                EdgeKind::Switch => Code::DanglingSwitch,
                EdgeKind::Else => Code::DanglingElse,
            };
            let what = match kind {
                EdgeKind::Switch => "a switch condition".to_string(),
                other => format!("`{}`", other.field()),
            };
            out.push(
                Diagnostic::error(
                    code,
                    t.loc,
                    format!("{what} points to unknown action `{}`", t.id),
                )
                .with_help(suggest::help_for(&t.id, ids(flow))),
            );
        }
    }
}

/// Rule: every action can be reached from the entry. Dynamic `next_action` templates count
/// every action id they mention as a string literal; a misspelled edge counts as an edge to
/// the id it was probably meant to be.
fn unreachable(flow: &Flow, out: &mut Vec<Diagnostic>) {
    let Some(entry) = flow.entry() else { return };
    let index: HashMap<&str, usize> = flow
        .actions
        .iter()
        .enumerate()
        .rev()
        .map(|(i, a)| (a.id.as_str(), i))
        .collect();
    let resolve = |id: &str| -> Option<usize> {
        index
            .get(id)
            .copied()
            .or_else(|| suggest::closest(id, ids(flow)).and_then(|c| index.get(c).copied()))
    };
    let mut seen = vec![false; flow.actions.len()];
    let mut stack = vec![entry];
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        let a = &flow.actions[i];
        let mut targets: Vec<Option<usize>> = a
            .literal_edges()
            .iter()
            .map(|(t, _)| resolve(&t.id))
            .collect();
        let mut dynamic = Vec::new();
        if let Next::Dynamic(t) = &a.next {
            dynamic.push(t);
        }
        for (edge, _) in a.kind.edges() {
            if let Edge::Dynamic(t) = edge {
                dynamic.push(t);
            }
        }
        for t in dynamic {
            for seg in t.template.parts().iter().filter_map(|p| match p {
                expr::Part::Expr(seg) => Some(seg),
                expr::Part::Text(_) => None,
            }) {
                targets.extend(
                    seg.expr
                        .string_literals()
                        .into_iter()
                        .map(|s| index.get(s).copied()),
                );
            }
        }
        stack.extend(targets.into_iter().flatten());
    }
    for (i, (a, seen)) in flow.actions.iter().zip(seen).enumerate() {
        // A repeated id is reported as a duplicate; its action can never be reached by id.
        let duplicate = index.get(a.id.as_str()) != Some(&i);
        if !seen && !duplicate {
            out.push(
                Diagnostic::error(
                    Code::Unreachable,
                    a.id_loc,
                    format!("action `{}` is never reached from the entry", a.id),
                )
                .with_help(Some("point a `next_action` at it, or remove it".into())),
            );
        }
    }
}

/// Rules about `${pipeline.next_action}`: it must follow an action that chooses a branch, and
/// a branching action should say where each outcome goes.
fn branches(flow: &Flow, out: &mut Vec<Diagnostic>) {
    for a in &flow.actions {
        let Next::Branch(loc) = &a.next else { continue };
        match &a.kind {
            Kind::Unknown(_) => {}
            k if !k.branches() => out.push(
                Diagnostic::error(
                    Code::NextWithoutBranch,
                    *loc,
                    format!(
                        "`{}` does not choose a branch, so `${{pipeline.next_action}}` has nothing to follow",
                        a.kind_name
                    ),
                )
                .with_help(Some("write the id of the next action".into())),
            ),
            Kind::Switch(s) => {
                if matches!(s.otherwise, Edge::None) {
                    out.push(
                        Diagnostic::warning(
                            Code::MissingBranch,
                            a.id_loc,
                            format!("switch `{}` has no `next_action_else`: a run where no condition holds fails", a.id),
                        ),
                    );
                }
            }
            k => {
                for (edge, kind) in k.edges() {
                    if matches!(edge, Edge::None) {
                        out.push(Diagnostic::warning(
                            Code::MissingBranch,
                            a.id_loc,
                            format!(
                                "`{}` `{}` has no `{}`: a run that takes that branch fails",
                                a.kind_name,
                                a.id,
                                kind.field()
                            ),
                        ));
                    }
                }
            }
        }
    }
}

/// Rule: templates read only names that exist, and call only registered functions.
/// `pipeline` is visible only in `next_action`; elsewhere it is an unknown root.
fn templates(flow: &Flow, cx: Context<'_>, out: &mut Vec<Diagnostic>) {
    for a in &flow.actions {
        for t in data_templates(a) {
            check_template(t, false, cx, out);
        }
        if let Next::Dynamic(t) = &a.next {
            check_template(t, true, cx, out);
        }
    }
}

/// Every template a run of the flow may evaluate: each action's data and branch templates and
/// its dynamic `next_action`, where an `sql_db` action's `sql` counts as the templates of its
/// bound parameters (which [`crate::sql::SqlTemplate`] parses apart from the text as written).
pub fn evaluated_templates(flow: &Flow) -> Vec<&expr::Template> {
    flow.actions.iter().flat_map(action_templates).collect()
}

/// The templates of one action that [`evaluated_templates`] lists.
pub fn action_templates(a: &Action) -> Vec<&expr::Template> {
    let mut out = Vec::new();
    match &a.kind {
        // `conn_name` as written, `sql` as its bound parameters (an `sql_db` has no branch).
        Kind::SqlDb(s) => {
            s.conn.for_each_template(&mut |t| out.push(&t.template));
            let params = s.sql.iter().flat_map(|sql| sql.params());
            out.extend(params.map(crate::sql::Bind::template));
        }
        _ => out.extend(data_templates(a).into_iter().map(|t| &t.template)),
    }
    if let Next::Dynamic(t) = &a.next {
        out.push(&t.template);
    }
    out
}

/// Every template an action evaluates against the context: in its data and in its branch
/// fields (not its `next_action`, which sees only `pipeline`).
fn data_templates(a: &Action) -> Vec<&Tpl> {
    let mut tpls: Vec<&Tpl> = Vec::new();
    for_each_data(&a.kind, &mut |d| d.for_each_template(&mut |t| tpls.push(t)));
    for (edge, _) in a.kind.edges() {
        if let Edge::Dynamic(t) = edge {
            tpls.push(t);
        }
    }
    tpls
}

fn check_template(t: &Tpl, in_next: bool, cx: Context<'_>, out: &mut Vec<Diagnostic>) {
    for (name, range) in t.template.free_names() {
        let known = if in_next {
            name == "pipeline"
        } else {
            catalog::ROOTS.contains(&name.as_str())
        } || expr::is_builtin(&name);
        if known {
            continue;
        }
        let help = if name == "pipeline" {
            Some("`pipeline` is only visible in `next_action`".to_string())
        } else if in_next {
            Some("`next_action` templates see only `pipeline`".to_string())
        } else {
            suggest::help_for(&name, catalog::ROOTS.iter().copied())
        };
        out.push(
            Diagnostic::error(
                Code::UnknownRoot,
                t.loc,
                format!("unknown name `{name}` in template"),
            )
            .within(range)
            .with_help(help),
        );
    }
    let Some(catalog) = cx.catalog else { return };
    for (dotted, range) in unknown_functions(&t.template, catalog) {
        let help = suggest::help_for(&dotted, catalog.functions())
            .or_else(|| Some("register it with the runtime's function registry".into()));
        out.push(
            Diagnostic::error(
                Code::UnknownFunction,
                t.loc,
                format!("unknown function `function.{dotted}`"),
            )
            .within(range)
            .with_help(help),
        );
    }
}

/// The `function.*` calls of `template` that `catalog` does not register (none when it does
/// not check functions), as dotted paths (`users.find`) with their ranges.
pub fn unknown_functions(
    template: &expr::Template,
    catalog: &Catalog,
) -> Vec<(String, std::ops::Range<usize>)> {
    template
        .function_calls()
        .into_iter()
        .map(|(path, range)| (path.join("."), range))
        .filter(|(dotted, _)| catalog.has_function(dotted) == Some(false))
        .collect()
}

/// What a flow's templates are known to read before a run: its declared params' types.
pub struct FlowTypes<'a> {
    params: &'a [crate::params::Param],
}

impl<'a> FlowTypes<'a> {
    /// The types `flow`'s templates can rely on.
    pub fn new(flow: &'a Flow) -> FlowTypes<'a> {
        FlowTypes {
            params: flow.params.as_deref().unwrap_or_default(),
        }
    }
}

impl expr::TypeEnv for FlowTypes<'_> {
    fn root_key(&self, root: &str, key: &str) -> expr::Types {
        use crate::params::ParamType;
        use expr::Types;
        let Some(p) = self
            .params
            .iter()
            .find(|p| root == "params" && p.name == key)
        else {
            return Types::ANY;
        };
        let declared = match p.ty {
            ParamType::String => Types::STR,
            // (An integer beyond `i64` is held as a float; no operation fails for an int and
            // succeeds for a float, so `int` reports nothing a run would not fail.)
            ParamType::Integer => Types::INT,
            ParamType::Number => Types::NUMBER,
            ParamType::Boolean => Types::BOOL,
            ParamType::Object => Types::DICT,
            ParamType::Array => Types::LIST,
        };
        match &p.default {
            Some(d) => declared.union(Types::of(d)),
            // Absent from a run, it reads as missing: `None` to a function.
            None if !p.required => declared.union(Types::NULL),
            None => declared,
        }
    }
}

/// What the type checker found in each template of the flow's actions (the `function.*` calls
/// with what is known of their arguments, the operations on their results), with the template.
pub fn type_checks(flow: &Flow) -> Vec<(&Tpl, expr::TypeCheck)> {
    let env = FlowTypes::new(flow);
    flow.actions
        .iter()
        .flat_map(data_templates)
        .map(|t| (t, t.template.check_types(&env)))
        .collect()
}

/// Rule: no template operation fails for every value its operands can have, given the
/// literals, the declared params' types and the builtins' results.
fn template_types(flow: &Flow, out: &mut Vec<Diagnostic>) {
    let env = FlowTypes::new(flow);
    for a in &flow.actions {
        for t in data_templates(a) {
            let found = t.template.check_types(&env);
            for e in found.errors {
                let help = e
                    .sources
                    .iter()
                    .map(|(text, ty)| format!("`{text}` is `{ty}` here"))
                    .collect::<Vec<_>>();
                let help = if help.is_empty() {
                    "this fails for every value, whatever the run".to_string()
                } else {
                    format!(
                        "{}; convert it first (`str(...)`, `int(...)`)",
                        help.join(", ")
                    )
                };
                out.push(
                    Diagnostic::error(Code::TemplateType, t.loc, e.message)
                        .within(e.range)
                        .with_help(Some(help)),
                );
            }
            for c in found.calls.iter().filter(|c| c.kwargs) {
                out.push(
                    Diagnostic::error(
                        Code::TemplateType,
                        t.loc,
                        format!(
                            "keyword arguments are not supported for `function.{}`",
                            c.path.join(".")
                        ),
                    )
                    .within(c.range.clone())
                    .with_help(Some("pass the arguments by position".into())),
                );
            }
        }
    }
}

/// Rule: templates read only declared params (`${params.usuario_id}` needs `usuario_id` in the
/// flow's `params`).
fn params(flow: &Flow, out: &mut Vec<Diagnostic>) {
    let declared: Vec<&str> = flow
        .params
        .iter()
        .flatten()
        .map(|p| p.name.as_str())
        .collect();
    for a in &flow.actions {
        for t in data_templates(a) {
            for (key, range) in t.template.root_keys("params") {
                if declared.contains(&key.as_str()) {
                    continue;
                }
                let help = if declared.is_empty() {
                    Some(format!(
                        "declare it: `\"params\": {{\"{key}\": {{\"type\": \"string\"}}}}`"
                    ))
                } else {
                    suggest::help_for(&key, declared.iter().copied())
                };
                out.push(
                    Diagnostic::error(
                        Code::UnknownParam,
                        t.loc,
                        format!("`params.{key}` is not a declared param"),
                    )
                    .within(range)
                    .with_help(help),
                );
            }
        }
    }
}

/// Calls `f` on every data tree of an action kind.
pub fn for_each_data<'a>(kind: &'a Kind, f: &mut dyn FnMut(&'a Data)) {
    match kind {
        Kind::Start | Kind::End => {}
        Kind::FlowVar(d)
        | Kind::WorkspaceVar(d)
        | Kind::Run(d)
        | Kind::Integration(d)
        | Kind::Unknown(d) => f(d),
        Kind::Custom(c) => f(&c.data),
        Kind::SqlDb(s) => {
            f(&s.conn);
            f(&s.sql_data);
        }
        Kind::Redis(r) => {
            f(&r.key);
            f(&r.data);
            if let Some(e) = &r.expire {
                f(e);
            }
        }
        Kind::Request(r) => request_data(r, f),
        Kind::Response(r) => {
            if let Some(d) = &r.status {
                f(d);
            }
            f(&r.headers);
            f(&r.body);
        }
        Kind::Switch(s) => {
            for c in &s.conditions {
                f(&c.first);
                f(&c.second);
            }
        }
        Kind::Validation(_) => {}
        Kind::Jump(r) | Kind::Handle(r) => f(&r.flow),
        Kind::Loop(l) => {
            f(&l.items);
            f(&l.flow.flow);
        }
        Kind::Parallel(p) => {
            for (_, b) in &p.branches {
                match b {
                    ParallelBranch::Request(r) => request_data(r, f),
                    ParallelBranch::Flow(r) => f(&r.flow),
                }
            }
        }
    }
}

fn request_data<'a>(r: &'a Request, f: &mut dyn FnMut(&'a Data)) {
    f(&r.url);
    f(&r.method);
    f(&r.headers);
    for d in r
        .body
        .iter()
        .chain(&r.timeout)
        .chain(&r.retries)
        .chain(&r.retry_delay)
        .chain(&r.retry_unsafe)
    {
        f(d);
    }
}

/// Rule: `jump`, `handle`, `loop` and `parallel` name flows of the workspace.
fn flow_refs(flow: &Flow, cx: Context<'_>, out: &mut Vec<Diagnostic>) {
    for a in &flow.actions {
        let refs: Vec<(&FlowRef, &str)> = match &a.kind {
            Kind::Jump(r) => vec![(r, "next_flow")],
            Kind::Handle(r) => vec![(r, "flow")],
            Kind::Loop(l) => vec![(&l.flow, "flow")],
            Kind::Parallel(p) => p
                .branches
                .iter()
                .filter_map(|(_, b)| match b {
                    ParallelBranch::Flow(r) => Some((r, "flow")),
                    ParallelBranch::Request(_) => None,
                })
                .collect(),
            _ => continue,
        };
        for (r, field) in refs {
            if r.flow.as_const().is_some_and(serde_json::Value::is_null) {
                continue; // missing field, reported by lowering
            }
            let (Some(name), Some(flows)) = (r.literal(), cx.flows) else {
                continue;
            };
            if !flows.contains(name) {
                out.push(
                    Diagnostic::error(
                        Code::UnknownFlow,
                        r.loc,
                        format!("`{field}` names unknown flow `{name}`"),
                    )
                    .with_help(suggest::help_for(name, flows.iter().map(String::as_str))),
                );
            }
        }
    }
}
