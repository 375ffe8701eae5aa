use flowyt_runtime::flow;

fn main() {
    let _ = flow! {
        1: start -> 2;
        2: flow_var { n: 1 } -> "2";
        "2": response { data: "${flow.n}" };
    };
}
