// Cross-flow references are checked at compile time: a `jump` to a flow the workspace lacks and
// a route to one, each located in its file.
fn main() {
    let _ = flowyt_runtime::include_workspace!("workspaces/cross_flow");
}
