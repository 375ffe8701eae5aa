use flowyt_runtime::{flow, flow_function};

#[flow_function]
fn double(n: i64) -> i64 {
    n * 2
}

#[flow_function]
fn label(n: i64) -> String {
    format!("#{n}")
}

fn main() {
    let _ = flow! {
        functions = [double, label];
        1: response { data: "${function.double(function.label(1))}" };
    };
}
