use flowyt_runtime::include_flow;

fn main() {
    let _ = include_flow!("/etc/flows/search.json");
}
