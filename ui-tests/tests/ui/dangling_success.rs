use flowyt_runtime::flow;

fn main() {
    let _ = flow! {
        fetch: request { url: "http://127.0.0.1:1/users" } -> success: fond, fail: failed;
        found: response { data: "${response.data}" };
        failed: response { status: 502 };
    };
}
