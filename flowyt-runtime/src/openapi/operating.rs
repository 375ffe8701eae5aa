//! The OpenAPI 3.1 document of `flowyt serve`'s operating API (runs, publish, reload, routes,
//! health, registry, metrics, the Airflow subset), kept beside the handlers and checked against
//! the live server by the CLI's tests (every documented operation answers; schemathesis finds
//! no answer the document forbids).

use serde_json::{Map, Value, json};

/// `{"$ref": "#/components/schemas/NAME"}`.
fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// A JSON response described by `description` with `schema`.
fn json_response(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

/// A response whose body may be JSON or plain text (axum's own rejections are text).
fn json_or_text(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {
        "application/json": {"schema": schema},
        "text/plain": {"schema": {"type": "string"}},
    }})
}

/// `response` with OpenAPI links to `targets` (operation ids), each passing `parameters`
/// (runtime expressions such as `$request.path.workspace` or `$response.body#/run_id`).
fn linked(mut response: Value, targets: &[&str], parameters: Value) -> Value {
    let links: Map<String, Value> = targets
        .iter()
        .map(|t| {
            (
                (*t).to_string(),
                json!({"operationId": t, "parameters": parameters}),
            )
        })
        .collect();
    response["links"] = Value::Object(links);
    response
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description,
        "schema": {"type": "string"}})
}

fn query_param(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

/// How an operation is protected.
#[derive(Clone, Copy, PartialEq)]
enum Guard {
    /// Anyone.
    Public,
    /// The operating token (or, without one, a loopback client).
    Token,
}

/// One operation: its id, summary, tag, guard, parameters, body and responses. The responses
/// every operation shares (access refusals when guarded, the server's own limits) are added.
struct Op {
    id: &'static str,
    summary: &'static str,
    tag: &'static str,
    guard: Guard,
    parameters: Vec<Value>,
    body: Option<Value>,
    responses: Vec<(&'static str, Value)>,
}

impl Op {
    fn new(id: &'static str, tag: &'static str, guard: Guard, summary: &'static str) -> Op {
        Op {
            id,
            summary,
            tag,
            guard,
            parameters: Vec::new(),
            body: None,
            responses: Vec::new(),
        }
    }

    fn param(mut self, p: Value) -> Op {
        self.parameters.push(p);
        self
    }

    fn body(mut self, content_type: &str, schema: Value, required: bool) -> Op {
        self.body =
            Some(json!({"required": required, "content": {content_type: {"schema": schema}}}));
        self
    }

    fn answer(mut self, status: &'static str, response: Value) -> Op {
        self.responses.push((status, response));
        self
    }

    fn into_json(self) -> Value {
        let mut responses = Map::new();
        for (status, r) in self.responses {
            responses.insert(status.into(), r);
        }
        if self.guard == Guard::Token {
            responses.insert(
                "401".into(),
                json_response("the operating token is missing or wrong", schema_ref("Msg")),
            );
            responses.insert(
                "403".into(),
                json_response(
                    "refused: no token is configured and the server is not on loopback, the \
                     request is not from a loopback host, or it is a cross-site browser request",
                    schema_ref("Msg"),
                ),
            );
        }
        responses.insert(
            "default".into(),
            json!({"description": "the server's own limits: 408 (a slow request), 413 (a body \
                too large), 429/503 (too many connections or a request past its time limit)",
                "content": {"application/json": {"schema": {}}, "text/plain": {"schema": {}}}}),
        );
        let mut op = json!({
            "operationId": self.id,
            "summary": self.summary,
            "tags": [self.tag],
            "responses": responses,
        });
        if !self.parameters.is_empty() {
            op["parameters"] = Value::Array(self.parameters);
        }
        if let Some(body) = self.body {
            op["requestBody"] = body;
        }
        op["security"] = match self.guard {
            Guard::Public => json!([]),
            Guard::Token => json!([{"bearer": []}, {"token": []}, {"basic": []}]),
        };
        op
    }
}

/// The `limit`/`offset`/`status` parameters of the runs API's lists.
fn run_list_params(op: Op) -> Op {
    op.param(query_param(
        "limit",
        "most runs (default 100, at most 1000)",
        json!({"type": "integer", "minimum": 0, "maximum": 1000}),
    ))
    .param(query_param("offset", "runs to skip", offset()))
    .param(query_param(
        "status",
        "only runs in this state",
        json!({"type": "string", "enum": ["queued", "running", "success", "failed", "cancelled"]}),
    ))
}

/// A list's `offset`: a non-negative 64-bit integer.
fn offset() -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": i64::MAX})
}

/// An Airflow list's `limit` (default 50; larger values are taken as 1000).
fn airflow_limit(what: &str) -> Value {
    query_param(
        "limit",
        &format!("most {what} (default 50)"),
        json!({"type": "integer", "minimum": 0, "maximum": 1000}),
    )
}

fn paths() -> Vec<(&'static str, &'static str, Op)> {
    use Guard::{Public, Token};
    let ws = || path_param("workspace", "the workspace's name");
    let flow = || path_param("flow", "the flow's key (its file name without `.json`)");
    let run = || path_param("run_id", "the run's id");
    let dag = || path_param("dag_id", "`<workspace>.<flow>`");
    let dag_run = || path_param("dag_run_id", "the run's id");
    let app = || path_param("app", "the application's name (case-insensitive)");
    let instance = || path_param("id", "the instance id");
    let message = || schema_ref("Message");
    let msg = || schema_ref("Msg");
    let detail = || schema_ref("Detail");
    let eureka = |description: &str| {
        json!({"description": description, "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/xml": {"schema": {"type": "string"}},
        }})
    };
    vec![
        ("/_engine/ping", "get", Op::new("ping", "engine", Public, "Liveness: answers while the process runs")
            .answer("200", json_response("alive", json!({"type": "object", "required": ["msg"],
                "properties": {"msg": {"type": "string"}}})))),
        ("/_engine/health", "get", Op::new("health", "engine", Public,
            "Health; with the operating token, also the workspaces served")
            .answer("200", json_response("healthy", json!({"type": "object", "required": ["status"],
                "properties": {"status": {"const": "ok"},
                    "workspaces": {"type": "array", "items": {"type": "string"}}}})))),
        ("/_engine/openapi.json", "get", Op::new("engine_openapi", "engine", Public,
            "This document")
            .answer("200", json_response("the OpenAPI 3.1 document", json!({"type": "object"})))),
        ("/_engine/routes", "get", Op::new("engine_routes", "engine", Token,
            "Every route of every workspace served")
            .answer("200", json_response("the routes", json!({"type": "array", "items": schema_ref("Route")})))),
        ("/_workspaces/routes", "get", Op::new("workspace_routes", "engine", Token,
            "Every route of every workspace served (the legacy path)")
            .answer("200", json_response("the routes", json!({"type": "array", "items": schema_ref("Route")})))),
        ("/_workspaces/{workspace}/openapi.json", "get", Op::new("workspace_openapi", "engine", Token,
            "The OpenAPI 3.1 document of one workspace's routes, derived from its flows")
            .param(ws())
            .answer("200", json_response("the workspace's document", json!({"type": "object"})))
            .answer("404", json_response("no such workspace", message()))),
        ("/_engine/reload", "post", Op::new("reload", "engine", Token,
            "Reads every workspace again; one with errors keeps running in its previous version")
            .answer("200", json_response("reloaded", msg()))
            .answer("409", json_response("some workspaces have errors", msg()))
            .answer("500", json_response("the reload itself failed", msg()))),
        ("/_engine/publish", "post", Op::new("publish", "engine", Token,
            "Uploads a zipped workspace `NAME.zip` (field `workpace_zip_file`, the legacy spelling, \
            or `workspace_zip_file`), checks it and serves it as NAME")
            .body("multipart/form-data", json!({"type": "object",
                "properties": {
                    "workpace_zip_file": {"type": "string", "contentMediaType": "application/zip"},
                    "workspace_zip_file": {"type": "string", "contentMediaType": "application/zip"}}}), true)
            .answer("200", json_response("published", msg()))
            .answer("400", json_or_text("refused, with its diagnostics", msg()))
            .answer("500", json_response("the upload failed", msg()))),
        ("/_workspaces/{workspace}/runs", "get", run_list_params(Op::new("list_workspace_runs", "runs", Token,
            "The runs of every flow of a workspace, newest first"))
            .param(ws())
            .answer("200", json_response("a page of runs", schema_ref("RunPage")))
            .answer("400", json_response("a bad `limit`, `offset` or `status`", message()))
            .answer("500", json_response("the run store failed", message()))),
        ("/_workspaces/{workspace}/flows/{flow}/runs", "get", run_list_params(Op::new("list_flow_runs", "runs", Token,
            "A flow's runs, newest first"))
            .param(ws()).param(flow())
            .answer("200", json_response("a page of runs", schema_ref("RunPage")))
            .answer("400", json_response("a bad `limit`, `offset` or `status`", message()))
            .answer("500", json_response("the run store failed", message()))),
        ("/_workspaces/{workspace}/flows/{flow}/runs", "post", Op::new("trigger_run", "runs", Token,
            "Triggers a run with a `conf` (the flow's params, and its `input`)")
            .param(ws()).param(flow())
            .body("application/json", json!({"type": "object", "properties": {
                "run_id": {"type": ["string", "null"], "minLength": 1, "maxLength": 200},
                "conf": {"type": ["object", "null"],
                    "description": "the flow's params: a name it does not declare is refused"}},
                "additionalProperties": false}), false)
            .answer("201", linked(json_response("queued", json!({"type": "object", "required": ["run_id", "status"],
                "properties": {"run_id": {"type": "string"}, "status": {"const": "queued"}}})),
                &["get_run", "cancel_run"],
                json!({"workspace": "$request.path.workspace", "flow": "$request.path.flow",
                    "run_id": "$response.body#/run_id"})))
            .answer("400", json_response("a bad body, `conf` or param (named in `param`)",
                json!({"type": "object", "required": ["message"], "properties": {
                    "message": {"type": "string"}, "param": {"type": "string"}}})))
            .answer("404", json_response("no such workspace or flow", message()))
            .answer("409", json_response("the `run_id` is taken", message()))
            .answer("429", json_response("too many runs are waiting", message()))
            .answer("500", json_response("the run store failed", message()))),
        ("/_workspaces/{workspace}/flows/{flow}/runs/{run_id}", "get", Op::new("get_run", "runs", Token,
            "One run, whole: conf, result, trace, progress")
            .param(ws()).param(flow()).param(run())
            .answer("200", json_response("the run", schema_ref("Run")))
            .answer("404", json_response("no such run", message()))
            .answer("500", json_response("the run store failed", message()))),
        ("/_workspaces/{workspace}/flows/{flow}/runs/{run_id}/cancel", "post", Op::new("cancel_run", "runs", Token,
            "Cancels a run: a queued one never starts, a running one stops at its next action boundary")
            .param(ws()).param(flow()).param(run())
            .answer("200", json_response("cancelled", json!({"type": "object", "required": ["run_id", "status"],
                "properties": {"run_id": {"type": "string"}, "status": {"const": "cancelled"}}})))
            .answer("202", json_response("stops at its next boundary", json!({"type": "object",
                "required": ["run_id", "status"], "properties": {"run_id": {"type": "string"},
                "status": {"const": "cancelling"}, "message": {"type": "string"}}})))
            .answer("404", json_response("no such run", message()))
            .answer("409", json_response("it had already ended", json!({"type": "object",
                "required": ["run_id", "status", "message"], "properties": {"run_id": {"type": "string"},
                "status": {"type": "string"}, "message": {"type": "string"}}})))
            .answer("500", json_response("the run store failed", message()))),
        ("/metrics", "get", Op::new("metrics", "engine", Token,
            "Prometheus metrics (on the main port unless `--metrics-addr` moves them)")
            .answer("200", json!({"description": "the Prometheus text format",
                "content": {"text/plain": {"schema": {"type": "string"}}}}))
            .answer("500", json!({"description": "rendering failed"}))),
        ("/eureka/apps", "get", Op::new("eureka_apps", "registry", Public,
            "Every registered application (XML unless `Accept` asks for JSON)")
            .answer("200", eureka("the applications"))),
        ("/eureka/apps/delta", "get", Op::new("eureka_delta", "registry", Public,
            "What changed recently")
            .answer("200", eureka("the changes"))),
        ("/eureka/apps/{app}", "get", Op::new("eureka_app", "registry", Public, "One application")
            .param(app())
            .answer("200", eureka("the application"))
            .answer("404", json_response("not registered", message()))),
        ("/eureka/apps/{app}", "post", Op::new("eureka_register", "registry", Token,
            "Registers an instance (Eureka's JSON or XML)")
            .param(app())
            .body("application/json", json!({"type": "object", "required": ["instance"],
                "properties": {"instance": {"type": "object", "required": ["hostName", "port"],
                    "properties": {"instanceId": {"type": "string", "minLength": 1},
                        "hostName": {"type": "string", "minLength": 1},
                        "ipAddr": {"type": "string"},
                        "port": {"type": "object", "required": ["$"],
                            "properties": {"$": {"type": "integer", "minimum": 0, "maximum": 65535}}}},
                    "description": "Eureka's instance: instanceId, hostName, ipAddr, port, status, \
                        leaseInfo, metadata, …"}}}), true)
            .answer("204", json!({"description": "registered"}))
            .answer("400", json_or_text("not an instance", message()))
            .answer("429", json_response("this client registered too many", message()))
            .answer("503", json_response("the registry is full or its store failed", message()))),
        ("/eureka/apps/{app}/{id}", "get", Op::new("eureka_instance", "registry", Public, "One instance")
            .param(app()).param(instance())
            .answer("200", eureka("the instance"))
            .answer("404", json_response("not registered", message()))),
        ("/eureka/apps/{app}/{id}", "put", Op::new("eureka_renew", "registry", Token, "Renews an instance's lease")
            .param(app()).param(instance())
            .answer("200", json!({"description": "renewed"}))
            .answer("404", json_response("not registered", message()))
            .answer("503", json_response("the registry's store failed", message()))),
        ("/eureka/apps/{app}/{id}", "delete", Op::new("eureka_cancel", "registry", Token, "Removes an instance")
            .param(app()).param(instance())
            .answer("200", json!({"description": "removed"}))
            .answer("404", json_response("not registered", message()))
            .answer("503", json_response("the registry's store failed", message()))),
        ("/eureka/apps/{app}/{id}/status", "put", Op::new("eureka_set_status", "registry", Token,
            "Overrides an instance's status")
            .param(app()).param(instance())
            .param(json!({"name": "value", "in": "query", "required": true,
                "schema": {"enum": ["UP", "DOWN", "STARTING", "OUT_OF_SERVICE", "UNKNOWN"]}}))
            .answer("200", json!({"description": "overridden"}))
            .answer("400", json_or_text("no `value`", message()))
            .answer("404", json_response("not registered", message()))
            .answer("503", json_response("the registry's store failed", message()))),
        ("/eureka/apps/{app}/{id}/status", "delete", Op::new("eureka_clear_status", "registry", Token,
            "Removes a status override")
            .param(app()).param(instance())
            .answer("200", json!({"description": "cleared"}))
            .answer("404", json_response("not registered", message()))
            .answer("503", json_response("the registry's store failed", message()))),
        ("/auth/token", "post", Op::new("airflow_token", "airflow", Public,
            "Airflow's token exchange: the password is the operating token")
            .body("application/json", json!({"type": "object", "required": ["password"],
                "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}), true)
            .answer("201", json_response("the token", json!({"type": "object", "required": ["access_token"],
                "properties": {"access_token": {"type": "string"}}})))
            .answer("400", json_response("not a JSON body with a password", detail()))
            .answer("401", json_response("wrong password", detail()))
            .answer("403", json_response("refused (no token configured and not on loopback)", detail()))),
        ("/api/v2/version", "get", Op::new("airflow_version", "airflow", Public, "Airflow's version endpoint")
            .answer("200", json_response("the version", json!({"type": "object", "required": ["version"],
                "properties": {"version": {"type": "string"}, "git_version": {"type": ["string", "null"]}}})))),
        ("/api/v2/dags", "get", Op::new("airflow_get_dags", "airflow", Token, "Flows as DAGs")
            .param(airflow_limit("DAGs"))
            .param(query_param("offset", "DAGs to skip", offset()))
            .param(query_param("dag_id_pattern", "SQL LIKE pattern (`%`, `_`) on the DAG id", json!({"type": "string"})))
            .param(query_param("dag_id_prefix_pattern", "a prefix of the DAG id", json!({"type": "string"})))
            .param(query_param("tags", "workspace names", json!({"type": "array", "items": {"type": "string"}})))
            .param(query_param("tags_match_mode", "any (default) or all of `tags`", json!({"enum": ["any", "all"]})))
            .param(query_param("order_by", "only `dag_id`", json!({"const": "dag_id"})))
            .answer("200", json_response("a page of DAGs", json!({"type": "object",
                "required": ["dags", "total_entries"], "properties": {
                    "dags": {"type": "array", "items": schema_ref("Dag")},
                    "total_entries": {"type": "integer"}}})))
            .answer("400", json_response("a bad `limit` or `offset`", detail()))),
        ("/api/v2/dags/{dag_id}", "get", Op::new("airflow_get_dag", "airflow", Token, "One flow as a DAG")
            .param(dag())
            .answer("200", json_response("the DAG", schema_ref("Dag")))
            .answer("404", json_response("no such DAG", detail()))),
        ("/api/v2/dags/{dag_id}/dagRuns", "get", Op::new("airflow_get_dag_runs", "airflow", Token,
            "A flow's runs, newest first")
            .param(dag())
            .param(airflow_limit("runs"))
            .param(query_param("offset", "runs to skip", offset()))
            .param(query_param("state", "only runs in this state",
                json!({"type": "string", "enum": ["queued", "running", "success", "failed"]})))
            .param(query_param("order_by", "newest first, the only order",
                json!({"enum": ["-run_after", "-id"]})))
            .answer("200", json_response("a page of runs", json!({"type": "object",
                "required": ["dag_runs", "total_entries"], "properties": {
                    "dag_runs": {"type": "array", "items": schema_ref("DagRun")},
                    "total_entries": {"type": "integer"}}})))
            .answer("400", json_response("a bad filter, or `~`", detail()))
            .answer("404", json_response("no such DAG", detail()))
            .answer("500", json_response("the run store failed", detail()))),
        ("/api/v2/dags/{dag_id}/dagRuns", "post", Op::new("airflow_trigger_dag_run", "airflow", Token,
            "Triggers a run")
            .param(dag())
            .body("application/json", json!({"type": "object", "properties": {
                "conf": {"type": ["object", "null"]},
                "dag_run_id": {"type": ["string", "null"], "minLength": 1, "maxLength": 200},
                "logical_date": {"type": ["string", "null"], "format": "date-time"},
                "note": {"type": ["string", "null"]},
                "data_interval_start": {"type": ["string", "null"], "format": "date-time"},
                "data_interval_end": {"type": ["string", "null"], "format": "date-time"},
                "run_after": {"type": ["string", "null"], "format": "date-time"},
                "partition_key": {"type": ["string", "null"]}},
                "additionalProperties": false}), false)
            .answer("200", linked(json_response("the run, queued", schema_ref("DagRun")),
                &["airflow_get_dag_run", "airflow_get_task_instances"],
                json!({"dag_id": "$request.path.dag_id", "dag_run_id": "$response.body#/dag_run_id"})))
            .answer("400", json_response("a bad body or `conf` (the param is named)", detail()))
            .answer("404", json_response("no such DAG", detail()))
            .answer("409", json_response("the `dag_run_id` is taken", detail()))
            .answer("429", json_response("too many runs are waiting", detail()))
            .answer("500", json_response("the run store failed", detail()))),
        ("/api/v2/dags/{dag_id}/dagRuns/{dag_run_id}", "get", Op::new("airflow_get_dag_run", "airflow", Token, "One run")
            .param(dag()).param(dag_run())
            .answer("200", json_response("the run", schema_ref("DagRun")))
            .answer("404", json_response("no such DAG or run", detail()))
            .answer("500", json_response("the run store failed", detail()))),
        ("/api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances", "get", Op::new("airflow_get_task_instances",
            "airflow", Token, "The actions a run executed")
            .param(dag()).param(dag_run())
            .answer("200", json_response("the task instances", json!({"type": "object",
                "required": ["task_instances", "total_entries"], "properties": {
                    "task_instances": {"type": "array", "items": schema_ref("TaskInstance")},
                    "total_entries": {"type": "integer"}}})))
            .answer("404", json_response("no such DAG or run", detail()))
            .answer("500", json_response("the run store failed", detail()))),
    ]
}

fn date_time() -> Value {
    json!({"type": ["string", "null"], "format": "date-time"})
}

fn components() -> Value {
    let run_summary = json!({"type": "object",
        "required": ["run_id", "workspace", "flow", "status", "queued_at", "queued_at_iso", "attempts"],
        "properties": {
            "run_id": {"type": "string"}, "workspace": {"type": "string"}, "flow": {"type": "string"},
            "status": {"enum": ["queued", "running", "success", "failed", "cancelled"]},
            "queued_at": {"type": "number"}, "queued_at_iso": {"type": "string", "format": "date-time"},
            "started_at": {"type": ["number", "null"]}, "started_at_iso": date_time(),
            "ended_at": {"type": ["number", "null"]}, "ended_at_iso": date_time(),
            "logical_date": {"type": ["number", "null"]}, "logical_date_iso": date_time(),
            "attempts": {"type": "integer", "minimum": 0},
            "error": {"type": ["string", "null"]},
            "error_kind": {"type": ["string", "null"], "description": "an ErrorKind name (timeout, template, invalid_params, unknown_flow, interrupted, ...), or response, validation, cancelled"},
            "trace_id": {"type": ["string", "null"]}}});
    let mut run = run_summary.clone();
    if let Some(props) = run["properties"].as_object_mut() {
        props.insert(
            "progress".into(),
            json!({"type": "array", "items": {"type": "string"}}),
        );
        props.insert("conf".into(), json!({}));
        props.insert("result".into(), json!({"type": ["object", "null"]}));
        props.insert("trace".into(), json!({"type": ["object", "null"]}));
    }
    json!({
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                "description": "the operating token (`APP_SECRET_KEY`)"},
            "token": {"type": "apiKey", "in": "header", "name": "X-Flowyt-Token"},
            "basic": {"type": "http", "scheme": "basic",
                "description": "any user name, the operating token as the password (Eureka clients)"},
        },
        "schemas": {
            "Message": {"type": "object", "required": ["message"],
                "properties": {"message": {"type": "string"}}},
            "Msg": {"type": "object", "required": ["msg"], "properties": {"msg": {"type": "string"}}},
            "Detail": {"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}}},
            "Route": {"type": "object", "required": ["path", "methods", "workspace", "flow"],
                "properties": {"path": {"type": "string"},
                    "methods": {"type": "array", "items": {"type": "string"}},
                    "workspace": {"type": "string"}, "flow": {"type": "string"},
                    "subdomain": {"type": ["string", "null"]}}},
            "RunSummary": run_summary,
            "Run": run,
            "RunPage": {"type": "object", "required": ["runs", "limit", "offset"],
                "properties": {"runs": {"type": "array", "items": schema_ref("RunSummary")},
                    "limit": {"type": "integer"}, "offset": {"type": "integer"},
                    "next_offset": {"type": ["integer", "null"]}}},
            "Dag": {"type": "object", "required": ["dag_id", "dag_display_name", "is_paused", "is_stale",
                    "fileloc", "file_token", "owners", "tags", "has_import_errors",
                    "has_task_concurrency_limits", "is_backfillable", "max_active_tasks",
                    "max_consecutive_failed_dag_runs", "timetable_periodic", "timetable_partitioned"],
                "properties": {"dag_id": {"type": "string"}, "dag_display_name": {"type": "string"},
                    "is_paused": {"type": "boolean"}, "tags": {"type": "array"},
                    "owners": {"type": "array", "items": {"type": "string"}},
                    "timetable_summary": {"type": ["string", "null"]}}},
            "DagRun": {"type": "object", "required": ["dag_id", "dag_run_id", "dag_display_name", "state",
                    "run_type", "run_after", "dag_versions"],
                "properties": {"dag_id": {"type": "string"}, "dag_run_id": {"type": "string"},
                    "state": {"enum": ["queued", "running", "success", "failed"]},
                    "run_type": {"enum": ["manual", "scheduled"]},
                    "run_after": {"type": "string", "format": "date-time"},
                    "logical_date": date_time(), "queued_at": date_time(),
                    "start_date": date_time(), "end_date": date_time(),
                    "duration": {"type": ["number", "null"]},
                    "conf": {"type": ["object", "null"]}, "note": {"type": ["string", "null"]},
                    "dag_versions": {"type": "array"}}},
            "TaskInstance": {"type": "object", "required": ["id", "task_id", "dag_id", "dag_run_id",
                    "map_index", "try_number", "max_tries", "pool", "pool_slots", "executor_config",
                    "run_after", "task_display_name", "dag_display_name"],
                "properties": {"id": {"type": "string", "format": "uuid"}, "task_id": {"type": "string"},
                    "map_index": {"type": "integer"}, "state": {"type": ["string", "null"]},
                    "operator": {"type": ["string", "null"]},
                    "duration": {"type": ["number", "null"]}}},
        },
    })
}

/// The document. `version` is the server's version.
pub fn document(version: &str) -> Value {
    let mut paths = Map::new();
    for (path, method, op) in self::paths() {
        let entry = paths.entry(path).or_insert_with(|| json!({}));
        entry[method] = op.into_json();
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "flowyt operating API",
            "version": version,
            "description": "Runs, publishing, reloads, routes, health, the Eureka-compatible \
                registry, metrics and an Airflow-compatible REST subset, as `flowyt serve` serves \
                them. Operations marked with a security requirement need the operating token \
                (`APP_SECRET_KEY`), sent as `Authorization: Bearer`, `X-Flowyt-Token` or a basic-auth \
                password; without a token configured, only loopback clients of a loopback server \
                may use them.",
        },
        "tags": [
            {"name": "engine", "description": "the server itself"},
            {"name": "runs", "description": "triggered runs (Airflow-style DAG runs)"},
            {"name": "registry", "description": "the Eureka-compatible registry (also under `/eureka/v2`)"},
            {"name": "airflow", "description": "Airflow 3's REST API, the subset flowyt serves"},
        ],
        "paths": paths,
        "components": components(),
    })
}

/// Every `(method, path)` the document lists, upper-case methods, for tests that hold the
/// server to it.
pub fn operations() -> Vec<(String, String)> {
    paths()
        .into_iter()
        .map(|(path, method, _)| (method.to_ascii_uppercase(), path.to_string()))
        .collect()
}
