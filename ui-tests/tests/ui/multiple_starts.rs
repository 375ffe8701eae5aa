use flowyt_runtime::flow;

fn main() {
    let _ = flow! {
        begin: start -> again;
        again: start -> respond;
        respond: response { data: {} };
    };
}
