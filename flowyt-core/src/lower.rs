//! Lowering: a JSON-shaped tree ([`Node`]) to the flow [`model`](crate::model).
//!
//! The JSON loader parses a file into `Node<Span>`; the `flow!` macro builds `Node<Span>`-like
//! trees from Rust tokens. Both call [`flow`] here, so the shape of a flow is decided once.
//! Lowering reports what it finds while reading (missing keys, unknown kinds and fields, bad
//! templates) and keeps going, so that one pass reports every problem.

use crate::catalog::{self, Catalog};
use crate::cerberus::Schema;
use crate::diag::{Code, Diagnostic};
use crate::expr::Template;
use crate::json::{Member, Node, NodeKind};
use crate::loc::{Loc, LocTable};
use crate::model::*;
use crate::params::{Param, ParamType};
use crate::schedule::{Catchup, Cron, Schedule};
use crate::suggest;
use serde_json::Value;

/// Lowers a whole flow (`{"id", "name", "pipeline": [...]}`). Returns `None` only when the
/// input is not a flow at all (not an object, or no `pipeline` array).
pub fn flow<T>(
    node: &Node<T::Pos>,
    table: &mut T,
    catalog: &Catalog,
) -> (Option<Flow>, Vec<Diagnostic>)
where
    T: LocTable,
    T::Pos: Copy,
{
    let mut cx = Lower {
        table,
        catalog,
        diags: Vec::new(),
    };
    let flow = cx.flow(node);
    (flow, cx.diags)
}

struct Lower<'a, T: LocTable> {
    table: &'a mut T,
    catalog: &'a Catalog,
    diags: Vec<Diagnostic>,
}

type N<T> = Node<<T as LocTable>::Pos>;

impl<T> Lower<'_, T>
where
    T: LocTable,
    T::Pos: Copy,
{
    fn loc(&mut self, node: &N<T>) -> Loc {
        self.table.push(node.span)
    }

    fn key_loc(&mut self, member: &Member<T::Pos>) -> Loc {
        self.table.push(member.key_span)
    }

    fn error(&mut self, code: Code, at: Loc, message: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::error(code, at, message));
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    fn warn(&mut self, code: Code, at: Loc, message: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::warning(code, at, message));
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    fn wrong_type(&mut self, node: &N<T>, what: &str, expected: &str) {
        let at = self.loc(node);
        self.error(
            Code::WrongType,
            at,
            format!("{what} must be {expected}, found {}", node.type_name()),
        );
    }

    fn missing_key(&mut self, obj: &N<T>, key: &str, what: &str) {
        let at = self.loc(obj);
        let keys: Vec<&str> = match &obj.kind {
            NodeKind::Object(members) => members.iter().map(|m| m.key.as_str()).collect(),
            _ => Vec::new(),
        };
        let help = suggest::closest(key, keys.iter().copied())
            .map(|k| format!("`{k}` looks like a misspelling of `{key}`"));
        self.error(Code::MissingKey, at, format!("{what} has no `{key}` key"))
            .help = help;
    }

    fn flow(&mut self, node: &N<T>) -> Option<Flow> {
        if !matches!(node.kind, NodeKind::Object(_)) {
            self.wrong_type(node, "a flow", "an object with a `pipeline` array");
            return None;
        }
        let Some(pipeline) = node.get("pipeline") else {
            self.missing_key(node, "pipeline", "the flow");
            return None;
        };
        let NodeKind::Array(items) = &pipeline.kind else {
            self.wrong_type(pipeline, "`pipeline`", "an array of actions");
            return None;
        };
        let loc = self.loc(pipeline);
        if items.is_empty() {
            // Rule: a flow has at least one action; `"pipeline": []` can only end at once,
            // which is never what the author meant.
            self.error(Code::EmptyPipeline, loc, "the pipeline has no actions")
                .help = Some("add a `start` action".into());
        }
        let actions = items.iter().filter_map(|a| self.action(a)).collect();
        let params = node.get("params").map(|p| self.params(p));
        let schedule = node
            .get("schedule")
            .and_then(|s| self.schedule(s, params.as_deref()));
        let catchup = node
            .get("schedule")
            .and_then(|s| s.get("catchup"))
            .map_or(Catchup::Latest, |c| self.catchup(c));
        Some(Flow {
            id: node.get("id").map_or(Value::Null, Node::to_value),
            name: node.get("name").map_or(Value::Null, Node::to_value),
            actions,
            loc,
            params,
            schedule,
            catchup,
        })
    }

    /// `"catchup": true` (every missed tick runs) or `false` (the latest only, the default).
    fn catchup(&mut self, node: &N<T>) -> Catchup {
        match node.to_value() {
            Value::Bool(true) => Catchup::All,
            Value::Bool(false) => Catchup::Latest,
            _ => {
                let at = self.loc(node);
                self.error(
                    Code::BadSchedule,
                    at,
                    "`catchup` must be `true` (run every missed tick) or `false` (only the latest)",
                );
                Catchup::Latest
            }
        }
    }

    /// `"schedule": {"every": 60}` or `{"cron": "*/5 * * * *"}`. A scheduled run has no conf,
    /// so every required param needs a default.
    fn schedule(&mut self, node: &N<T>, params: Option<&[Param]>) -> Option<Schedule> {
        let at = self.loc(node);
        let schedule = match (node.get("every"), node.get("cron")) {
            (Some(every), None) => match every.to_value().as_f64().filter(|s| *s >= 0.1) {
                Some(secs) => Schedule::Every(secs),
                None => {
                    let at = self.loc(every);
                    self.error(
                        Code::BadSchedule,
                        at,
                        "`every` must be a number of seconds (at least 0.1)",
                    );
                    return None;
                }
            },
            (None, Some(cron)) => match cron.as_str().map(Cron::parse) {
                Some(Ok(c)) => Schedule::Cron(c),
                Some(Err(message)) => {
                    let at = self.loc(cron);
                    self.error(Code::BadSchedule, at, message);
                    return None;
                }
                None => {
                    let at = self.loc(cron);
                    self.error(
                        Code::BadSchedule,
                        at,
                        "`cron` must be a string such as `\"*/5 * * * *\"`",
                    );
                    return None;
                }
            },
            _ => {
                self.error(
                    Code::BadSchedule,
                    at,
                    "a schedule is `{\"every\": SECONDS}` or `{\"cron\": \"M H DOM MON DOW\"}`",
                );
                return None;
            }
        };
        for p in params.into_iter().flatten() {
            if p.required && p.default.is_none() {
                self.error(
                    Code::BadSchedule,
                    p.loc,
                    format!(
                        "param `{}` is required but a scheduled run has no conf",
                        p.name
                    ),
                )
                .help = Some("give it a `default`".into());
            }
        }
        Some(schedule)
    }

    /// `"params": {"usuario_id": {"type": "integer", "minimum": 1, "required": true}}`.
    fn params(&mut self, node: &N<T>) -> Vec<Param> {
        let NodeKind::Object(members) = &node.kind else {
            self.wrong_type(node, "`params`", "an object of param declarations");
            return Vec::new();
        };
        const KEYS: [&str; 7] = [
            "type",
            "required",
            "default",
            "minimum",
            "maximum",
            "enum",
            "description",
        ];
        let mut out = Vec::new();
        for m in members {
            let loc = self.key_loc(m);
            let spec = &m.value;
            let NodeKind::Object(keys) = &spec.kind else {
                self.wrong_type(
                    spec,
                    &format!("param `{}`", m.key),
                    "an object such as `{\"type\": \"integer\"}`",
                );
                continue;
            };
            for k in keys {
                if !KEYS.contains(&k.key.as_str()) {
                    let at = self.key_loc(k);
                    self.error(
                        Code::BadParams,
                        at,
                        format!("unknown key `{}` in param `{}`", k.key, m.key),
                    )
                    .help = suggest::help_for(&k.key, KEYS);
                }
            }
            let ty = match spec.get("type") {
                Some(t) => match t.as_str().and_then(ParamType::from_name) {
                    Some(ty) => ty,
                    None => {
                        let at = self.loc(t);
                        let shown = t
                            .as_str()
                            .map_or_else(|| t.type_name().to_string(), |s| format!("`{s}`"));
                        self.error(Code::BadParams, at, format!("unknown param type {shown}"))
                            .help = suggest::help_for(
                            t.as_str().unwrap_or(""),
                            ParamType::ALL.iter().map(|(n, _)| *n),
                        );
                        continue;
                    }
                },
                None => {
                    self.error(
                        Code::BadParams,
                        loc,
                        format!("param `{}` needs a `type`", m.key),
                    )
                    .help = Some(
                        "one of `string`, `integer`, `number`, `boolean`, `object`, `array`".into(),
                    );
                    continue;
                }
            };
            let mut number = |key: &str| -> Option<f64> {
                let n = spec.get(key)?;
                match n.to_value().as_f64() {
                    Some(f) => Some(f),
                    None => {
                        let at = self.loc(n);
                        self.error(
                            Code::BadParams,
                            at,
                            format!("`{key}` of param `{}` must be a number", m.key),
                        );
                        None
                    }
                }
            };
            let minimum = number("minimum");
            let maximum = number("maximum");
            let required = match spec.get("required") {
                None => false,
                Some(Node {
                    kind: NodeKind::Bool(b),
                    ..
                }) => *b,
                Some(other) => {
                    self.wrong_type(other, "`required`", "a boolean");
                    false
                }
            };
            let choices = match spec.get("enum") {
                None => None,
                Some(Node {
                    kind: NodeKind::Array(items),
                    ..
                }) => Some(items.iter().map(Node::to_value).collect()),
                Some(other) => {
                    self.wrong_type(other, "`enum`", "an array of allowed values");
                    None
                }
            };
            let mut param = Param {
                name: m.key.clone(),
                loc,
                ty,
                required,
                default: None,
                minimum,
                maximum,
                choices,
            };
            if let Some(d) = spec.get("default") {
                match param.check(&d.to_value(), false) {
                    Ok(v) => param.default = Some(v),
                    Err(message) => {
                        let at = self.loc(d);
                        self.error(
                            Code::BadParams,
                            at,
                            format!("the default does not fit: {message}"),
                        );
                    }
                }
            }
            out.push(param);
        }
        out
    }

    fn action(&mut self, node: &N<T>) -> Option<Action> {
        if !matches!(node.kind, NodeKind::Object(_)) {
            self.wrong_type(node, "an action", "an object");
            return None;
        }
        let id_node = node.get("id");
        let kind_node = node.get("action");
        let next_member = node.member("next_action");
        if id_node.is_none() {
            self.missing_key(node, "id", "this action");
        }
        if kind_node.is_none() {
            self.missing_key(node, "action", "this action");
        }
        if next_member.is_none() {
            self.missing_key(node, "next_action", "this action");
        }
        let (id_node, kind_node, next_member) = (id_node?, kind_node?, next_member?);

        let id_loc = self.loc(id_node);
        let id = match &id_node.kind {
            NodeKind::String(s) if !s.value.is_empty() => s.value.clone(),
            NodeKind::Number(n) => n.to_string(),
            _ => {
                self.wrong_type(id_node, "an action `id`", "a non-empty string or a number");
                return None;
            }
        };
        let kind_loc = self.loc(kind_node);
        let Some(kind_name) = kind_node.as_str() else {
            self.wrong_type(kind_node, "`action`", "a string naming the action kind");
            return None;
        };

        let empty = Node {
            kind: NodeKind::Object(Vec::new()),
            span: node.span,
        };
        let data = match node.get("data") {
            None => &empty,
            Some(d) if d.is_null() => &empty,
            Some(d) if matches!(d.kind, NodeKind::Object(_)) => d,
            Some(d) => {
                self.wrong_type(d, "`data`", "an object");
                &empty
            }
        };

        let kind = self.kind(kind_name, kind_loc, data);
        let next = self.next(&next_member.value);
        let execute_async = match node.get("execute_async") {
            None => false,
            Some(Node {
                kind: NodeKind::Bool(b),
                ..
            }) => *b,
            Some(other) => {
                self.wrong_type(other, "`execute_async`", "a boolean");
                false
            }
        };
        if execute_async && !matches!(kind, Kind::Handle(_) | Kind::Integration(_)) {
            let at = node.get("execute_async").map_or(kind_loc, |n| self.loc(n));
            self.error(
                Code::BadAsync,
                at,
                format!("`{kind_name}` cannot run asynchronously"),
            )
            .help = Some("only `handle` actions may set `execute_async`".into());
        }
        if let (Kind::End, Next::To(t)) = (&kind, &next) {
            let at = t.loc;
            self.warn(
                Code::EndNotLast,
                at,
                format!(
                    "`end` stops the run, so `next_action` `{}` never runs",
                    t.id
                ),
            )
            .help = Some("set `next_action` to `null`".into());
        }
        Some(Action {
            id,
            id_loc,
            kind_name: kind_name.to_string(),
            kind_loc,
            kind,
            next,
            execute_async,
            raw_data: data.to_value(),
        })
    }

    fn kind(&mut self, name: &str, at: Loc, data: &N<T>) -> Kind {
        if let Some(custom) = self.catalog.custom(name).cloned() {
            if let Some(fields) = &custom.fields {
                let specs: Vec<(&str, bool)> = fields
                    .iter()
                    .map(|(n, r)| (n.as_str(), *r))
                    .chain([("next_action_success", false), ("next_action_fail", false)])
                    .collect();
                self.check_fields(name, at, data, &specs);
            }
            let input = strip(data, &["next_action_success", "next_action_fail"]);
            return Kind::Custom(Custom {
                data: self.data(&input),
                success: self.edge_field(data, "next_action_success"),
                fail: self.edge_field(data, "next_action_fail"),
            });
        }
        let Some(spec) = catalog::builtin(name) else {
            let help = suggest::help_for(name, self.catalog.kind_names());
            self.error(
                Code::UnknownKind,
                at,
                format!("unknown action kind `{name}`"),
            )
            .help = help;
            return Kind::Unknown(self.data(data));
        };
        if let Some(fields) = spec.fields {
            let specs: Vec<(&str, bool)> = fields.iter().map(|f| (f.name, f.required)).collect();
            self.check_fields(spec.name, at, data, &specs);
        }
        if !spec.supported {
            self.warn(
                Code::Unsupported,
                at,
                format!("the `{name}` integration is not supported by flowyt; a run that reaches this action fails"),
            );
        }
        match spec.name {
            "start" => Kind::Start,
            "end" => Kind::End,
            "flow_var" => Kind::FlowVar(self.data(data)),
            "workspace_var" => Kind::WorkspaceVar(self.data(data)),
            "run" => Kind::Run(self.data(data)),
            "request" => Kind::Request(Box::new(self.request(data))),
            "response" => Kind::Response(Response {
                status: self.status(data.get("status")),
                headers: self.opt_data(data.get("headers")).unwrap_or_default(),
                body: self.opt_data(data.get("data")).unwrap_or_default(),
            }),
            "switch" => Kind::Switch(self.switch(data)),
            "validation" => self.validation(data),
            "jump" => Kind::Jump(self.flow_ref(data, "next_flow", at)),
            "handle" => Kind::Handle(self.flow_ref(data, "flow", at)),
            "loop" => self.looping(data, at),
            "parallel" => self.parallel(data, at),
            "sql_db" => self.sql_db(data, at),
            "redis" => self.redis(data, at),
            _ => Kind::Integration(self.data(data)),
        }
    }

    /// `redis`: `action_type` (`get`, `set`, `publish`), `key`, `data`, `expire`.
    fn redis(&mut self, data: &N<T>, at: Loc) -> Kind {
        use crate::model::RedisOp;
        let op = match data.get("action_type").and_then(|n| n.as_str()) {
            Some("get") => RedisOp::Get,
            Some("set") => RedisOp::Set,
            Some("publish") => RedisOp::Publish,
            other => {
                let loc = data.get("action_type").map_or(at, |n| self.loc(n));
                self.error(
                    Code::BadRedis,
                    loc,
                    format!(
                        "`action_type` of `redis` must be `get`, `set` or `publish`, not {}",
                        other.map_or("nothing".to_string(), |o| format!("`{o}`"))
                    ),
                );
                RedisOp::Get
            }
        };
        let key = self.opt_data(data.get("key")).unwrap_or_default();
        let value = self
            .opt_data(data.get("data"))
            .unwrap_or(Data::Const(Value::Null));
        let expire = self.opt_data(data.get("expire"));
        Kind::Redis(Box::new(crate::model::Redis {
            op,
            key,
            data: value,
            expire,
        }))
    }

    /// `sql_db`: `conn_name` and an optional `sql`, compiled so its templates are bound.
    fn sql_db(&mut self, data: &N<T>, at: Loc) -> Kind {
        let conn = match data.get("conn_name") {
            Some(c) if !c.is_null() => self.data(c),
            _ => {
                self.error(
                    Code::BadSql,
                    at,
                    "`sql_db` needs a `conn_name`: the name of a connection in `settings.integrations.sql_database`",
                );
                Data::Const(Value::Null)
            }
        };
        if let (Some(query), None) = (data.get("query"), data.get("sql")) {
            let q = self.loc(query);
            self.warn(
                Code::BadSql,
                q,
                "`query` is ignored (the legacy engine ignored it too): the statement goes in `sql`",
            );
        }
        let (sql, sql_data) = match data.get("sql") {
            None => (None, Data::Const(Value::Null)),
            Some(node) if node.is_null() => (None, Data::Const(Value::Null)),
            Some(node) => match node.as_str().map(crate::sql::SqlTemplate::compile) {
                Some(Ok(compiled)) => (Some(compiled), self.data(node)),
                Some(Err(e)) => {
                    let loc = self.loc(node);
                    self.error(Code::BadSql, loc, e.message);
                    (None, Data::Const(Value::Null))
                }
                None => {
                    let loc = self.loc(node);
                    self.error(Code::BadSql, loc, "`sql` must be a string");
                    (None, Data::Const(Value::Null))
                }
            },
        };
        Kind::SqlDb(Box::new(crate::model::SqlDb {
            conn,
            sql,
            sql_data,
        }))
    }

    /// Rule: data has every required field and no field the kind does not know.
    fn check_fields(&mut self, kind: &str, at: Loc, data: &N<T>, specs: &[(&str, bool)]) {
        for (name, required) in specs {
            if *required && data.get(name).is_none_or(Node::is_null) {
                self.error(
                    Code::MissingField,
                    at,
                    format!("`{kind}` action needs a `{name}` field in its data"),
                );
            }
        }
        let NodeKind::Object(members) = &data.kind else {
            return;
        };
        for m in members {
            if specs.iter().any(|(n, _)| *n == m.key) {
                continue;
            }
            let at = self.key_loc(m);
            let mut help = suggest::help_for(&m.key, specs.iter().map(|(n, _)| *n));
            if kind == "response" && help.is_none() {
                help = Some("the body goes in `data`: `{\"status\": 200, \"data\": {...}}`".into());
            }
            self.error(
                Code::UnknownField,
                at,
                format!("unknown field `{}` in `{kind}` data", m.key),
            )
            .help = help;
        }
    }

    fn request(&mut self, data: &N<T>) -> Request {
        let method = match data.get("method") {
            None => Data::Const(Value::String("get".into())),
            Some(m) => {
                if let Some(text) = m.as_str().filter(|s| !s.contains("${")) {
                    const METHODS: [&str; 6] = ["get", "post", "put", "patch", "delete", "head"];
                    if !METHODS.contains(&text.to_ascii_lowercase().as_str()) {
                        let at = self.loc(m);
                        self.error(Code::WrongType, at, format!("unknown HTTP method `{text}`"))
                            .help = suggest::help_for(&text.to_ascii_lowercase(), METHODS);
                    }
                }
                self.data(m)
            }
        };
        Request {
            url: self.opt_data(data.get("url")).unwrap_or_default(),
            method,
            headers: self.opt_data(data.get("headers")).unwrap_or_default(),
            body: self.opt_data(data.get("data")),
            timeout: self.opt_data(data.get("timeout")),
            retries: self.opt_data(data.get("retries")),
            retry_delay: self.opt_data(data.get("retry_delay")),
            retry_unsafe: self.opt_data(data.get("retry_unsafe")),
            success: self.edge_field(data, "next_action_success"),
            fail: self.edge_field(data, "next_action_fail"),
        }
    }

    fn status(&mut self, node: Option<&N<T>>) -> Option<Data> {
        let node = node?;
        let ok = match &node.kind {
            NodeKind::Number(n) => n.as_u64().is_some_and(|s| (100..=599).contains(&s)),
            NodeKind::String(s) => {
                s.value.contains("${")
                    || s.value
                        .parse::<u16>()
                        .is_ok_and(|s| (100..=599).contains(&s))
            }
            _ => false,
        };
        if !ok {
            let at = self.loc(node);
            self.error(
                Code::WrongType,
                at,
                "`status` must be an HTTP status code between 100 and 599",
            );
        }
        Some(self.data(node))
    }

    fn switch(&mut self, data: &N<T>) -> Switch {
        let mut conditions = Vec::new();
        match data.get("conditions") {
            Some(Node {
                kind: NodeKind::Array(items),
                ..
            }) => {
                for c in items {
                    if let Some(c) = self.condition(c) {
                        conditions.push(c);
                    }
                }
            }
            Some(other) if !other.is_null() => {
                self.wrong_type(other, "`conditions`", "an array of conditions")
            }
            _ => {}
        }
        Switch {
            conditions,
            otherwise: self.edge_field(data, "next_action_else"),
        }
    }

    fn condition(&mut self, node: &N<T>) -> Option<Condition> {
        if !matches!(node.kind, NodeKind::Object(_)) {
            self.wrong_type(node, "a switch condition", "an object");
            return None;
        }
        let Some(op_node) = node.get("operator") else {
            self.missing_key(node, "operator", "this condition");
            return None;
        };
        let operator_loc = self.loc(op_node);
        let operator = match op_node.as_str() {
            Some(name) => match Operator::from_name(name) {
                Some(op) => op,
                None => {
                    let help = if name == "else" {
                        Some("the fallback goes in the switch's `next_action_else`".to_string())
                    } else {
                        suggest::help_for(name, Operator::ALL.iter().map(|(n, _)| *n))
                    };
                    self.error(
                        Code::UnknownOperator,
                        operator_loc,
                        format!("unknown switch operator `{name}`"),
                    )
                    .help = help;
                    return None;
                }
            },
            None => {
                self.wrong_type(op_node, "`operator`", "a string");
                return None;
            }
        };
        for key in ["first_expression", "second_expression"] {
            if node.get(key).is_none() {
                self.missing_key(node, key, "this condition");
            }
        }
        if node.get("next_action").is_none() {
            self.missing_key(node, "next_action", "this condition");
        }
        Some(Condition {
            operator,
            operator_loc,
            first: self
                .opt_data(node.get("first_expression"))
                .unwrap_or(Data::Const(Value::Null)),
            second: self
                .opt_data(node.get("second_expression"))
                .unwrap_or(Data::Const(Value::Null)),
            target: self.edge_field(node, "next_action"),
        })
    }

    fn validation(&mut self, data: &N<T>) -> Kind {
        let schema = match data.get("schema") {
            Some(node) => match Schema::compile(&node.to_value()) {
                Ok(schema) => schema,
                Err(errors) => {
                    for e in errors {
                        let target = path_node(node, &e.path);
                        let at = self.loc(target);
                        self.error(Code::BadSchema, at, e.message);
                    }
                    Schema::empty()
                }
            },
            None => Schema::empty(),
        };
        Kind::Validation(Validation {
            schema,
            success: self.edge_field(data, "next_action_success"),
            fail: self.edge_field(data, "next_action_fail"),
        })
    }

    fn flow_ref(&mut self, data: &N<T>, key: &str, kind_loc: Loc) -> FlowRef {
        match data.get(key) {
            Some(node) => {
                if !matches!(node.kind, NodeKind::String(_)) {
                    self.wrong_type(node, &format!("`{key}`"), "a flow name");
                }
                FlowRef {
                    loc: self.loc(node),
                    flow: self.data(node),
                }
            }
            None => FlowRef {
                flow: Data::Const(Value::Null),
                loc: kind_loc,
            },
        }
    }

    /// `{"branches": {"user": {"url": ...}, "profile": {"flow": "load_profile"}}, ...}`.
    fn parallel(&mut self, data: &N<T>, at: Loc) -> Kind {
        let mut branches = Vec::new();
        match data.get("branches") {
            Some(Node {
                kind: NodeKind::Object(members),
                ..
            }) => {
                if members.is_empty() {
                    self.error(
                        Code::MissingField,
                        at,
                        "`parallel` needs at least one branch",
                    );
                }
                for m in members {
                    let key_at = self.key_loc(m);
                    let b = &m.value;
                    if !matches!(b.kind, NodeKind::Object(_)) {
                        self.wrong_type(
                            b,
                            &format!("branch `{}`", m.key),
                            "an object with `url` or `flow`",
                        );
                        continue;
                    }
                    match (b.get("url"), b.get("flow")) {
                        (Some(_), None) => {
                            let specs: Vec<(&str, bool)> = catalog::builtin("request")
                                .and_then(|k| k.fields)
                                .unwrap_or(&[])
                                .iter()
                                .filter(|f| !f.name.starts_with("next_action"))
                                .map(|f| (f.name, f.required))
                                .collect();
                            self.check_fields("request", key_at, b, &specs);
                            branches.push((
                                m.key.clone(),
                                ParallelBranch::Request(Box::new(self.request(b))),
                            ));
                        }
                        (None, Some(_)) => {
                            self.check_fields("parallel branch", key_at, b, &[("flow", true)]);
                            branches.push((
                                m.key.clone(),
                                ParallelBranch::Flow(self.flow_ref(b, "flow", key_at)),
                            ));
                        }
                        _ => {
                            self.error(
                                Code::MissingField,
                                key_at,
                                format!("branch `{}` needs either a `url` (a request) or a `flow` (a sub-flow)", m.key),
                            );
                        }
                    }
                }
            }
            Some(other) => self.wrong_type(other, "`branches`", "an object of named branches"),
            None => {}
        }
        Kind::Parallel(Parallel {
            branches,
            success: self.edge_field(data, "next_action_success"),
            fail: self.edge_field(data, "next_action_fail"),
        })
    }

    fn looping(&mut self, data: &N<T>, at: Loc) -> Kind {
        if let Some(action) = data.member("action") {
            let at = self.key_loc(action);
            self.error(
                Code::Unsupported,
                at,
                "a `loop` with a Python `action` callable cannot run in flowyt",
            )
            .help = Some("name a sub-flow in `flow`; it runs once per item and reads `${loop.item}` and `${loop.index}`".into());
        }
        if let Some(t) = data.get("type")
            && !matches!(t.as_str(), Some("list" | "range"))
        {
            let at = self.loc(t);
            self.error(Code::WrongType, at, "loop `type` must be `list` or `range`");
        }
        Kind::Loop(Loop {
            items: self
                .opt_data(data.get("data"))
                .unwrap_or(Data::Const(Value::Null)),
            flow: self.flow_ref(data, "flow", at),
        })
    }

    fn opt_data(&mut self, node: Option<&N<T>>) -> Option<Data> {
        node.map(|n| self.data(n))
    }

    /// Any value: strings are parsed as templates, everywhere (arrays included).
    fn data(&mut self, node: &N<T>) -> Data {
        match &node.kind {
            NodeKind::String(s) => self.string(&s.value, node),
            NodeKind::Array(items) => {
                Data::Array(items.iter().map(|n| self.data(n)).collect()).fold()
            }
            NodeKind::Object(members) => Data::Object(
                members
                    .iter()
                    .map(|m| (m.key.clone(), self.data(&m.value)))
                    .collect(),
            )
            .fold(),
            _ => Data::Const(node.to_value()),
        }
    }

    fn string(&mut self, text: &str, node: &N<T>) -> Data {
        match self.template(text, node) {
            Some(tpl) => Data::Template(tpl),
            None => Data::Const(Value::String(unescape_literal(text))),
        }
    }

    /// Parses `text` as a template; `None` when it has no `${...}` (or does not parse, which
    /// is reported).
    fn template(&mut self, text: &str, node: &N<T>) -> Option<Tpl> {
        if !text.contains('$') {
            return None;
        }
        for lang in ["$(js){", "$(py){"] {
            if let Some(i) = text.find(lang) {
                let at = self.loc(node);
                let d = self.error(
                    Code::Unsupported,
                    at,
                    format!("`{lang}...}}` templates are not supported"),
                );
                d.within = Some(i..i + lang.len());
                d.help = Some("write Python-style expressions as `${...}`".into());
                return None;
            }
        }
        match Template::parse(text) {
            Ok(template) if template.is_literal() => None,
            Ok(template) => {
                let loc = self.loc(node);
                Some(Tpl::new(template, text.to_string(), loc))
            }
            Err(e) => {
                let at = self.loc(node);
                self.error(Code::BadTemplate, at, e.message).within = Some(e.range);
                None
            }
        }
    }

    fn edge_field(&mut self, obj: &N<T>, key: &str) -> Edge {
        match obj.get(key) {
            None => Edge::None,
            Some(node) => self.edge(node, key),
        }
    }

    fn edge(&mut self, node: &N<T>, key: &str) -> Edge {
        match &node.kind {
            NodeKind::Null => Edge::None,
            NodeKind::String(s) if s.value.is_empty() => Edge::None,
            NodeKind::String(s) => match self.template(&s.value, node) {
                Some(tpl) => Edge::Dynamic(tpl),
                None => Edge::To(Target {
                    id: unescape_literal(&s.value),
                    loc: self.loc(node),
                }),
            },
            NodeKind::Number(n) => Edge::To(Target {
                id: n.to_string(),
                loc: self.loc(node),
            }),
            _ => {
                self.wrong_type(node, &format!("`{key}`"), "an action id or null");
                Edge::None
            }
        }
    }

    fn next(&mut self, node: &N<T>) -> Next {
        match self.edge(node, "next_action") {
            Edge::None => Next::End,
            Edge::To(t) => Next::To(t),
            Edge::Dynamic(tpl) => {
                if tpl.is_path("pipeline", "next_action") {
                    Next::Branch(tpl.loc)
                } else {
                    Next::Dynamic(tpl)
                }
            }
        }
    }
}

/// The text of a string without templates, with `$${` escapes resolved.
fn unescape_literal(text: &str) -> String {
    text.replace("$${", "${")
}

/// A copy of an object node without some keys.
fn strip<P: Copy>(node: &Node<P>, keys: &[&str]) -> Node<P> {
    match &node.kind {
        NodeKind::Object(members) => Node {
            kind: NodeKind::Object(
                members
                    .iter()
                    .filter(|m| !keys.contains(&m.key.as_str()))
                    .cloned()
                    .collect(),
            ),
            span: node.span,
        },
        _ => node.clone(),
    }
}

/// The node at `path` (object keys or array indices) inside `node`, or the deepest one found.
fn path_node<'n, P>(node: &'n Node<P>, path: &[String]) -> &'n Node<P> {
    let mut current = node;
    for seg in path {
        let next = match &current.kind {
            NodeKind::Object(_) => current.get(seg),
            NodeKind::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(n) => current = n,
            None => break,
        }
    }
    current
}
