use flowyt_runtime::flow_function;

#[flow_function]
async fn double(n: i64) -> i64 {
    n * 2
}

fn main() {}
