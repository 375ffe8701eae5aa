use flowyt_runtime::flow;

fn main() {
    let _ = flow! {
        fetch: request { method: "get" } -> respond;
        respond: response { data: "${response.data}" };
    };
}
