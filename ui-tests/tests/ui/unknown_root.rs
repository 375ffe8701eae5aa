use flowyt_runtime::flow;

fn main() {
    let _ = flow! {
        greet: response { data: { hello: "Hello ${reqest.qs.name}!" } };
    };
}
