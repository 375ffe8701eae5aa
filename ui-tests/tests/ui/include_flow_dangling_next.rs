use flowyt_runtime::include_flow;

fn main() {
    let _ = include_flow!("flows/dangling.json");
}
