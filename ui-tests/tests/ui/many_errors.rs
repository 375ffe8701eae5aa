use flowyt_runtime::flow;

fn main() {
    let _ = flow! {
        1: start -> fetch_usr;
        fetch_user: reqest { url: "${reqest.qs.url}" } -> respond;
        respond: response { data: "${response.data}" };
        respond: response { status: 500 };
    };
}
