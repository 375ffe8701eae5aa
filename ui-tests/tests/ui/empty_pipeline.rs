use flowyt_runtime::flow;

fn main() {
    let _ = flow! {
        name = "nothing";
    };
}
