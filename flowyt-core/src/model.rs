//! The flow model: what a flow is once it has been read, whatever it was written in.
//!
//! Both front ends (the JSON loader in [`crate::lower`] and the `flow!` macro) build these
//! types, and [`crate::validate`] checks them. Templates are parsed once, here, into
//! [`Tpl`]s; the engine never re-parses a string.

use crate::expr::Template;
use crate::loc::Loc;
use serde_json::Value;
use std::fmt;

/// An action id. Legacy ids may be JSON strings or numbers; both are kept as their text
/// (`2` and `"2"` are the same id here).
pub type ActionId = String;

/// A flow: a pipeline of actions and where its run starts.
#[derive(Clone, Debug)]
pub struct Flow {
    /// The `id` field of a JSON flow (shown in debug output only).
    pub id: Value,
    /// The `name` field of a JSON flow (shown in debug output only).
    pub name: Value,
    /// The actions, in source order.
    pub actions: Vec<Action>,
    /// Where the pipeline is (for "empty pipeline").
    pub loc: Loc,
    /// The declared `params`, when the flow declares any (checked when a run is triggered).
    pub params: Option<Vec<crate::params::Param>>,
    /// When the flow runs by itself (`flowyt serve` triggers it).
    pub schedule: Option<crate::schedule::Schedule>,
    /// What its schedule does about missed ticks (`"catchup": true` in the schedule).
    pub catchup: crate::schedule::Catchup,
}

impl Flow {
    /// The index of the entry action: the `start` action if there is one, else the first action.
    pub fn entry(&self) -> Option<usize> {
        self.actions
            .iter()
            .position(|a| matches!(a.kind, Kind::Start))
            .or(if self.actions.is_empty() {
                None
            } else {
                Some(0)
            })
    }

    /// The index of the action with id `id` (the first one, if ids repeat).
    pub fn position(&self, id: &str) -> Option<usize> {
        self.actions.iter().position(|a| a.id == id)
    }
}

/// One step of a pipeline.
#[derive(Clone, Debug)]
pub struct Action {
    /// The id other actions point at.
    pub id: ActionId,
    /// Where the id is.
    pub id_loc: Loc,
    /// The kind name as written (`request`, `action`, `my_custom`).
    pub kind_name: String,
    /// Where the kind name is.
    pub kind_loc: Loc,
    /// What the action does, with its data lowered.
    pub kind: Kind,
    /// What runs after it.
    pub next: Next,
    /// Legacy `execute_async` (only `handle` may set it).
    pub execute_async: bool,
    /// The action's `data` exactly as written, for debug output of a failed action.
    pub raw_data: Value,
}

impl Action {
    /// Every literal edge of the action: its `next_action` (when literal) and the targets its
    /// kind can choose (success, fail, switch conditions, else) when they are literal ids.
    pub fn literal_edges(&self) -> Vec<(&Target, EdgeKind)> {
        let mut edges = Vec::new();
        if let Next::To(t) = &self.next {
            edges.push((t, EdgeKind::Next));
        }
        for (edge, kind) in self.kind.edges() {
            if let Some(t) = edge.target() {
                edges.push((t, kind));
            }
        }
        edges
    }

    /// Whether an edge of the action is computed at run time (a `next_action` template other
    /// than `${pipeline.next_action}`, or a branch field written as a template).
    pub fn has_dynamic_edge(&self) -> bool {
        matches!(self.next, Next::Dynamic(_))
            || self
                .kind
                .edges()
                .iter()
                .any(|(e, _)| matches!(e, Edge::Dynamic(_)))
    }
}

/// The `next_action` edge of an action.
#[derive(Clone, Debug)]
pub enum Next {
    /// `null` or `""`: the flow ends here.
    End,
    /// A literal id.
    To(Target),
    /// `"${pipeline.next_action}"`: follow the branch the action chose.
    Branch(Loc),
    /// Any other template, evaluated with only `pipeline` in scope.
    Dynamic(Tpl),
}

/// A literal reference to an action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The id referred to.
    pub id: ActionId,
    /// Where the reference is written.
    pub loc: Loc,
}

/// A branch field such as `next_action_success`.
#[derive(Clone, Debug, Default)]
pub enum Edge {
    /// Absent, `null` or `""`.
    #[default]
    None,
    /// A literal id.
    To(Target),
    /// A template evaluated against the action's context.
    Dynamic(Tpl),
}

impl Edge {
    /// The literal target, if any.
    pub fn target(&self) -> Option<&Target> {
        match self {
            Edge::To(t) => Some(t),
            _ => None,
        }
    }
}

/// A parsed template string and where it is.
#[derive(Clone, Debug)]
pub struct Tpl {
    /// The parsed template.
    pub template: Template,
    /// The string as written.
    pub source: String,
    /// Where the string is.
    pub loc: Loc,
    /// When the string is exactly one pure path (`${response.data}`), its root and steps,
    /// computed once so the engine can pass values through without evaluating.
    pub path: Option<(String, Vec<crate::expr::PathSeg>)>,
}

impl Tpl {
    /// A template with its pure path computed.
    pub fn new(template: Template, source: String, loc: Loc) -> Tpl {
        let path = template
            .single()
            .and_then(|seg| seg.expr.as_path())
            .map(|(root, segs)| (root.to_string(), segs));
        Tpl {
            template,
            source,
            loc,
            path,
        }
    }

    /// True when the template is exactly `${root.key}`.
    pub fn is_path(&self, root: &str, key: &str) -> bool {
        matches!(&self.path, Some((r, segs)) if r == root
            && matches!(segs.as_slice(), [crate::expr::PathSeg::Key(k)] if k == key))
    }
}

/// Action data with its templates parsed. Subtrees without templates are kept as one value.
#[derive(Clone, Debug)]
pub enum Data {
    /// A value with no template in it.
    Const(Value),
    /// A string with at least one `${...}`.
    Template(Tpl),
    /// An array with a template somewhere inside.
    Array(Vec<Data>),
    /// An object with a template somewhere inside, members in source order.
    Object(Vec<(String, Data)>),
}

impl Default for Data {
    fn default() -> Data {
        Data::Const(Value::Object(Default::default()))
    }
}

impl Data {
    /// An empty object.
    pub fn empty_object() -> Data {
        Data::default()
    }

    /// The constant value, if the data has no template.
    pub fn as_const(&self) -> Option<&Value> {
        match self {
            Data::Const(v) => Some(v),
            _ => None,
        }
    }

    /// Calls `f` on every template inside, depth first.
    pub fn for_each_template<'a>(&'a self, f: &mut dyn FnMut(&'a Tpl)) {
        match self {
            Data::Const(_) => {}
            Data::Template(t) => f(t),
            Data::Array(items) => items.iter().for_each(|d| d.for_each_template(f)),
            Data::Object(members) => members.iter().for_each(|(_, d)| d.for_each_template(f)),
        }
    }

    /// Collapses arrays and objects whose members are all constant into one constant.
    pub fn fold(self) -> Data {
        match self {
            Data::Array(items) if items.iter().all(|d| matches!(d, Data::Const(_))) => {
                Data::Const(Value::Array(
                    items
                        .into_iter()
                        .filter_map(|d| match d {
                            Data::Const(v) => Some(v),
                            _ => None,
                        })
                        .collect(),
                ))
            }
            Data::Object(members) if members.iter().all(|(_, d)| matches!(d, Data::Const(_))) => {
                Data::Const(Value::Object(
                    members
                        .into_iter()
                        .filter_map(|(k, d)| match d {
                            Data::Const(v) => Some((k, v)),
                            _ => None,
                        })
                        .collect(),
                ))
            }
            other => other,
        }
    }
}

/// What an action does.
#[derive(Clone, Debug)]
pub enum Kind {
    /// `start`: a no-op marking the entry.
    Start,
    /// `end`: stops the run with an empty result.
    End,
    /// `flow_var`: merges its data into `flow`.
    FlowVar(Data),
    /// `workspace_var`: merges its data into `workspace` (survives jumps).
    WorkspaceVar(Data),
    /// `run` (legacy alias `action`): evaluates its data and sets `response = {data}`.
    Run(Data),
    /// `request`: calls an HTTP service.
    Request(Box<Request>),
    /// `response`: ends the run with a response.
    Response(Response),
    /// `switch`: picks the next action by conditions.
    Switch(Switch),
    /// `validation`: checks the request body against a Cerberus schema.
    Validation(Validation),
    /// `jump`: ends this flow and continues in another.
    Jump(FlowRef),
    /// `handle`: runs another flow and keeps its response.
    Handle(FlowRef),
    /// `loop`: runs a sub-flow for each item of a list.
    Loop(Loop),
    /// `parallel`: runs several requests or sub-flows at once and joins their results.
    Parallel(Parallel),
    /// `sql_db`: one SQL statement on a connection of `integrations.sql_database`.
    SqlDb(Box<SqlDb>),
    /// `redis`: `get`, `set` or `publish` on `integrations.redis`.
    Redis(Box<Redis>),
    /// `mongodb`: a legacy integration flowyt does not run.
    Integration(Data),
    /// A custom action registered with the runtime.
    Custom(Custom),
    /// A kind nobody knows: a no-op in legacy mode (the flow is rejected in strict mode).
    Unknown(Data),
}

/// What a `redis` action does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedisOp {
    /// `GET key`: `response.data` is the stored string, or `null`.
    Get,
    /// `SET key data` (with `expire` seconds when given).
    Set,
    /// `PUBLISH key data`: `response.receivers` is how many subscribers got it.
    Publish,
}

/// A `redis` action.
#[derive(Clone, Debug)]
pub struct Redis {
    /// `action_type`.
    pub op: RedisOp,
    /// `key` (the channel for `publish`).
    pub key: Data,
    /// `data`: the value to set or the message to publish (text as is, anything else as JSON).
    pub data: Data,
    /// `expire`: seconds the key lives (`set` only).
    pub expire: Option<Data>,
}

/// An `sql_db` action.
#[derive(Clone, Debug)]
pub struct SqlDb {
    /// `conn_name`: a connection of `integrations.sql_database`.
    pub conn: Data,
    /// `sql`, compiled: its templates are bound parameters. `None` when there is no `sql`.
    pub sql: Option<crate::sql::SqlTemplate>,
    /// `sql` as written, so its templates get the checks every template gets.
    pub sql_data: Data,
}

impl Kind {
    /// True for kinds that choose a branch (`${pipeline.next_action}` follows it).
    pub fn branches(&self) -> bool {
        matches!(
            self,
            Kind::Request(_)
                | Kind::Switch(_)
                | Kind::Validation(_)
                | Kind::Custom(_)
                | Kind::Parallel(_)
        )
    }

    /// The `next_action_fail` edge of the kinds that have one (without building
    /// [`Kind::edges`]' list: the engine asks this for every action it runs).
    pub fn fail_edge(&self) -> Option<&Edge> {
        match self {
            Kind::Request(r) => Some(&r.fail),
            Kind::Validation(v) => Some(&v.fail),
            Kind::Custom(c) => Some(&c.fail),
            Kind::Parallel(p) => Some(&p.fail),
            _ => None,
        }
    }

    /// The position of `edge` (one of this kind's own) in [`Kind::edges`], found without
    /// building that list: a `flow!`'s generated loop matches on it after every action.
    pub fn edge_index(&self, edge: &Edge) -> Option<usize> {
        let two = |success: &Edge, fail: &Edge| {
            if std::ptr::eq(edge, success) {
                Some(0)
            } else if std::ptr::eq(edge, fail) {
                Some(1)
            } else {
                None
            }
        };
        match self {
            Kind::Request(r) => two(&r.success, &r.fail),
            Kind::Validation(v) => two(&v.success, &v.fail),
            Kind::Custom(c) => two(&c.success, &c.fail),
            Kind::Parallel(p) => two(&p.success, &p.fail),
            Kind::Switch(s) => s
                .conditions
                .iter()
                .position(|c| std::ptr::eq(edge, &c.target))
                .or_else(|| std::ptr::eq(edge, &s.otherwise).then_some(s.conditions.len())),
            _ => None,
        }
    }

    /// The branch edges this kind can choose, with the diagnostic code of each.
    pub fn edges(&self) -> Vec<(&Edge, EdgeKind)> {
        match self {
            Kind::Request(r) => vec![(&r.success, EdgeKind::Success), (&r.fail, EdgeKind::Fail)],
            Kind::Validation(v) => {
                vec![(&v.success, EdgeKind::Success), (&v.fail, EdgeKind::Fail)]
            }
            Kind::Custom(c) => vec![(&c.success, EdgeKind::Success), (&c.fail, EdgeKind::Fail)],
            Kind::Parallel(p) => vec![(&p.success, EdgeKind::Success), (&p.fail, EdgeKind::Fail)],
            Kind::Switch(s) => s
                .conditions
                .iter()
                .map(|c| (&c.target, EdgeKind::Switch))
                .chain(std::iter::once((&s.otherwise, EdgeKind::Else)))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Which branch field an edge came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeKind {
    /// `next_action`
    Next,
    /// `next_action_success`
    Success,
    /// `next_action_fail`
    Fail,
    /// `conditions[].next_action`
    Switch,
    /// `next_action_else`
    Else,
}

impl EdgeKind {
    /// The field name as written in JSON.
    pub fn field(self) -> &'static str {
        match self {
            EdgeKind::Next => "next_action",
            EdgeKind::Success => "next_action_success",
            EdgeKind::Fail => "next_action_fail",
            EdgeKind::Switch => "next_action",
            EdgeKind::Else => "next_action_else",
        }
    }
}

/// `request` data.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// `url` (required).
    pub url: Data,
    /// `method`, default `get`.
    pub method: Data,
    /// `headers`, merged over the defaults.
    pub headers: Data,
    /// `data`: the JSON (or form) body; for GET and DELETE, the query string.
    pub body: Option<Data>,
    /// `timeout` in seconds.
    pub timeout: Option<Data>,
    /// `retries`: how many times a failed attempt is tried again (default 0).
    pub retries: Option<Data>,
    /// `retry_delay`: seconds before the first retry, doubled for each next one (default 0.5).
    pub retry_delay: Option<Data>,
    /// `retry_unsafe`: also retry non-idempotent methods (POST, PATCH) on 502/503/504 and timeouts.
    pub retry_unsafe: Option<Data>,
    /// `next_action_success`, taken on 2xx.
    pub success: Edge,
    /// `next_action_fail`, taken on anything else.
    pub fail: Edge,
}

/// `response` data.
#[derive(Clone, Debug, Default)]
pub struct Response {
    /// `status`, default 200.
    pub status: Option<Data>,
    /// `headers`, default none (`Content-Type: application/json` is always set).
    pub headers: Data,
    /// `data`: the body, default `{}`.
    pub body: Data,
}

/// `switch` data.
#[derive(Clone, Debug, Default)]
pub struct Switch {
    /// The conditions, tried in order.
    pub conditions: Vec<Condition>,
    /// `next_action_else`.
    pub otherwise: Edge,
}

/// One switch condition.
#[derive(Clone, Debug)]
pub struct Condition {
    /// The comparison.
    pub operator: Operator,
    /// Where the operator is written.
    pub operator_loc: Loc,
    /// `first_expression`.
    pub first: Data,
    /// `second_expression`.
    pub second: Data,
    /// Where to go when it holds.
    pub target: Edge,
}

/// Switch comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    /// `equal`
    Equal,
    /// `different`
    Different,
    /// `greater_than`
    GreaterThan,
    /// `less_than`
    LessThan,
    /// `greater_or_equal`
    GreaterOrEqual,
    /// `less_or_equal`
    LessOrEqual,
    /// `contains`: the first (string, list or object) contains the second.
    Contains,
    /// `in`: the first is in the second.
    In,
}

impl Operator {
    /// Every operator with its JSON name.
    pub const ALL: &'static [(&'static str, Operator)] = &[
        ("equal", Operator::Equal),
        ("different", Operator::Different),
        ("greater_than", Operator::GreaterThan),
        ("less_than", Operator::LessThan),
        ("greater_or_equal", Operator::GreaterOrEqual),
        ("less_or_equal", Operator::LessOrEqual),
        ("contains", Operator::Contains),
        ("in", Operator::In),
    ];

    /// The operator called `name`.
    pub fn from_name(name: &str) -> Option<Operator> {
        Operator::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, op)| *op)
    }

    /// The JSON name.
    pub fn name(self) -> &'static str {
        Operator::ALL
            .iter()
            .find(|(_, op)| *op == self)
            .map_or("equal", |(n, _)| n)
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `validation` data.
#[derive(Clone, Debug)]
pub struct Validation {
    /// The compiled schema.
    pub schema: crate::cerberus::Schema,
    /// `next_action_success`.
    pub success: Edge,
    /// `next_action_fail`.
    pub fail: Edge,
}

/// A custom action: its data is the input of a function registered with the runtime.
#[derive(Clone, Debug, Default)]
pub struct Custom {
    /// The input, evaluated and deserialised into the action's input type.
    pub data: Data,
    /// `next_action_success`, taken when the action returns `Ok`.
    pub success: Edge,
    /// `next_action_fail`, taken when it returns `Err`.
    pub fail: Edge,
}

/// `parallel` data: named branches run concurrently; all must succeed for the success branch.
#[derive(Clone, Debug, Default)]
pub struct Parallel {
    /// The branches, in source order.
    pub branches: Vec<(String, ParallelBranch)>,
    /// `next_action_success`: every branch succeeded.
    pub success: Edge,
    /// `next_action_fail`: at least one failed.
    pub fail: Edge,
}

/// One branch of a `parallel` action.
#[derive(Clone, Debug)]
pub enum ParallelBranch {
    /// A request (`{"url": ..., "method": ...}`, the data of a `request` action).
    Request(Box<Request>),
    /// A sub-flow (`{"flow": "name"}`), run like `handle`.
    Flow(FlowRef),
}

/// The flow named by `jump` (`next_flow`), `handle` (`flow`) or `loop` (`flow`).
#[derive(Clone, Debug)]
pub struct FlowRef {
    /// The flow key, usually constant.
    pub flow: Data,
    /// Where it is written.
    pub loc: Loc,
}

impl FlowRef {
    /// The flow key when it is written literally.
    pub fn literal(&self) -> Option<&str> {
        self.flow.as_const().and_then(Value::as_str)
    }
}

/// `loop` data: run `flow` once per item of `items`.
#[derive(Clone, Debug)]
pub struct Loop {
    /// The list to iterate (or, with `type: "range"`, a count).
    pub items: Data,
    /// The sub-flow run for each item (it sees `loop.index` and `loop.item`).
    pub flow: FlowRef,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    #[test]
    fn edge_index_is_the_position_in_edges() {
        let flow = Flow::from_json_named(
            "t.json",
            r#"{"pipeline": [
                {"id": "1", "action": "switch", "data": {"conditions": [
                    {"first_expression": "${1}", "operator": "equal", "second_expression": 1, "next_action": "2"},
                    {"first_expression": "${2}", "operator": "equal", "second_expression": 2, "next_action": "3"}
                ], "next_action_else": "4"}, "next_action": "${pipeline.next_action}"},
                {"id": "2", "action": "request", "data": {"url": "http://127.0.0.1:9/", "method": "get",
                    "next_action_success": "3", "next_action_fail": "4"}, "next_action": "${pipeline.next_action}"},
                {"id": "3", "action": "response", "data": {}, "next_action": null},
                {"id": "4", "action": "response", "data": {}, "next_action": null}
            ]}"#,
            &Catalog::new(),
        )
        .expect("valid flow");
        for action in &flow.actions {
            let edges = action.kind.edges();
            for (i, (edge, _)) in edges.iter().enumerate() {
                assert_eq!(action.kind.edge_index(edge), Some(i), "{}", action.id);
            }
        }
        // An edge of another action is none of this one's.
        let switch_else = &flow.actions[0].kind.edges()[2].0;
        assert_eq!(flow.actions[1].kind.edge_index(switch_else), None);
        assert_eq!(flow.actions[2].kind.edges().len(), 0);
    }
}
