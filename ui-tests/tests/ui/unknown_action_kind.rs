use flowyt_runtime::flow;

fn main() {
    let _ = flow! {
        fetch: reqest { url: "http://127.0.0.1:1/users" } -> respond;
        respond: response { data: "${response.data}" };
    };
}
