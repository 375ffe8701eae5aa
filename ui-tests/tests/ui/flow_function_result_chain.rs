use flowyt_runtime::{flow, flow_function};

#[flow_function]
fn double(n: i64) -> i64 {
    n * 2
}

fn main() {
    // `double(2) * 3` is an integer, to which a string cannot be added: the chain is followed
    // through the function's Rust return type.
    let _ = flow! {
        functions = [double];
        1: response { data: "${function.double(2) * 3 + ' items'}" };
    };
}
