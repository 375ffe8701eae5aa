// A warning in an included file is a rustc warning on the path, naming `file:line:col`;
// `#![deny(warnings)]` makes it an error.
#![deny(warnings)]

use flowyt_runtime::include_flow;

fn main() {
    let _ = include_flow!("flows/warns.json");
}
