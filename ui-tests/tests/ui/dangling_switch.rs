use flowyt_runtime::flow;

fn main() {
    let _ = flow! {
        route: switch {
            "${request.qs.kind}" == "user" => users,
            else => everything,
        };
        user: response { data: { kind: "user" } };
        everything: response { data: { kind: "any" } };
    };
}
