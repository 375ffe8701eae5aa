//! Calls whose arguments can be what the function takes compile: known types that match,
//! numbers into floats, `None` into an `Option`, and anything into a `Value` or a type of
//! your own (whose `Deserialize` flowyt cannot see).
use flowyt_runtime::{flow, flow_function};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
pub struct Point {
    pub x: i64,
}

#[flow_function]
fn scale(by: f64, scores: Vec<u32>, label: Option<String>) -> f64 {
    by * scores.len() as f64 + label.map_or(0.0, |l| l.len() as f64)
}

#[flow_function]
fn raw(v: Value) -> Value {
    v
}

#[flow_function]
fn anything(v: Value, p: Point) -> i64 {
    v.as_i64().unwrap_or(0) + p.x
}

fn main() {
    let _ = flow! {
        functions = [scale, anything, raw];
        params = { n: { type: "integer" }, ratio: { type: "number" } };
        1: flow_var {
            a: "${function.scale(params.n, [1, 2], None)}",
            b: "${function.scale(params.ratio, request.data.scores, 'x')}",
            c: "${function.anything('text', {'x': 1})}",
            d: "${function.anything(params.n if params.n else 'none', request.data)}",
            // Results: an f64 takes arithmetic, `str()` makes anything a string, a `Value`
            // result is not known, one function's result feeds another's parameter.
            e: "${function.scale(1, [], None) * 2 + 1}",
            f: "${str(function.scale(1, [], None)) + 'x'}",
            g: "${function.raw(1) + 'x'}",
            h: "${function.scale(function.anything(1, {}), [], None) > 0}",
            i: "${-function.scale(function.scale(1, [], None), [], 'y')}",
            // Chains are followed through each operation's result type.
            j: "${function.scale(1, [], None) / 2 > 1.5}",
            k: "${-function.scale(1, [], None) ** 2 - 1 + function.anything(1, {})}",
        } -> 2;
        2: response { data: "${flow.a}" };
    };
}
