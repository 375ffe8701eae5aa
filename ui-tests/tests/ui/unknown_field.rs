use flowyt_runtime::flow;

fn main() {
    let _ = flow! {
        fetch: request { url: "http://127.0.0.1:1/users", methd: "post" } -> respond;
        respond: response { data: "${response.data}" };
    };
}
