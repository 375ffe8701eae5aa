use flowyt_runtime::flow;

fn main() {
    let _ = flow! {
        route: switch {
            "${request.qs.n}" equals "1" => one,
            "${request.qs.n}" == "2" => one,
            else => other,
        };
        one: response { data: 1 };
        other: response { data: 2 };
    };
}
