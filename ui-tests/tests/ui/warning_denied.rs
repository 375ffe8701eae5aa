// A validator warning is a rustc warning on the action it concerns (the `deprecated` lint, the
// one stable proc-macros can raise): `#![deny(warnings)]` makes it an error.
#![deny(warnings)]

use flowyt_runtime::flow;

fn main() {
    let _ = flow! {
        fetch: request { url: "http://127.0.0.1:1/users" } -> success: found;
        found: response { data: "${response.data}" };
    };
}
