use flowyt_runtime::flow;

fn main() {
    let _ = flow! {
        begin: start -> respond;
        respond: response { data: {} };
        orphan: response { status: 500 };
    };
}
