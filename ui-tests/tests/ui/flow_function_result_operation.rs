use flowyt_runtime::{flow, flow_function};

#[flow_function]
fn double(n: i64) -> i64 {
    n * 2
}

fn main() {
    let _ = flow! {
        functions = [double];
        1: response { data: "${function.double(2) + ' items'}" };
    };
}
