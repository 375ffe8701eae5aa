use flowyt_runtime::{flow, flow_function};

#[flow_function]
fn double(n: i64) -> i64 {
    n * 2
}

fn main() {
    // The first operation of the chain cannot work: one error, for it, and none for the
    // operations after it.
    let _ = flow! {
        functions = [double];
        1: response { data: "${function.double(2) + ' items' + '!'}" };
    };
}
