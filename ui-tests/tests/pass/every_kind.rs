//! Every legacy action kind and every kind of edge can be written with `flow!`.

use flowyt_runtime::flow;

fn main() {
    let flow = flow! {
        id = 7;
        name = "everything";

        begin: start -> vars;
        vars: flow_var { n: 3, list: [1, 2.5, -3, true, null, "${request.qs.x}"] } -> ws;
        ws: workspace_var { seen: true } -> check;
        check: validation { schema: { name: { type: "string", required: true } } }
            -> success: route, fail: invalid;
        invalid: response { status: 400, data: "${response.data}" };
        route: switch {
            "${flow.n}" == 3 => fetch,
            "${flow.n}" != 3 => fetch,
            "${flow.n}" > 3 => each,
            "${flow.n}" < 3 => each,
            "${flow.n}" >= 3 => sub,
            "${flow.n}" <= 3 => sub,
            "${flow.list}" contains 1 => compute,
            "a" in ["a", "b"] => compute,
            "${flow.n}" greater_than 10 => other,
            else => done,
        };
        fetch: request {
            url: "http://127.0.0.1:1/items",
            method: "post",
            headers: { "X-Token": "t" },
            data: { q: "${flow.n}" },
            timeout: 2,
        } -> success: done, fail: "failed one";
        "failed one": response { status: 502, headers: { "Retry-After": "1" }, data: "${response.data}" };
        each: loop { type: "list", data: "${flow.list}", flow: "item" } -> done;
        sub: async handle { flow: "helper" } -> done;
        compute: run { doubled: "${flow.n * 2}" } -> dynamic;
        dynamic: flow_var {} -> "${'done' if pipeline.response else 'done'}";
        other: action { legacy_alias: true } -> jumper;
        jumper: jump { next_flow: "elsewhere" };
        done: end;
    };
    let kinds: Vec<&str> = flow
        .model()
        .actions
        .iter()
        .map(|a| a.kind_name.as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "start",
            "flow_var",
            "workspace_var",
            "validation",
            "response",
            "switch",
            "request",
            "response",
            "loop",
            "handle",
            "run",
            "flow_var",
            "action",
            "jump",
            "end",
        ]
    );
    let json: serde_json::Value = serde_json::from_str(flow.json()).expect("JSON twin");
    assert_eq!(json["pipeline"][9]["execute_async"], true);
}
