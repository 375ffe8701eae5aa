use flowyt_runtime::flow;

fn main() {
    let _ = flow! {
        crate = "not a path";
        1: response { data: { ok: true } };
    };
}
