//! `parallel` written with `flow!`: named branches, the join's success and fail edges.

use flowyt_runtime::{CheckedFlow, flow};

fn main() {
    let f: CheckedFlow = flow! {
        start: start -> both;
        both: parallel {
            branches: {
                user: { url: "service://users/usuarios/${request.qs.id}" },
                messages: { url: "service://messages/inbox", method: "get", retries: 2 },
            },
        } -> success: ok, fail: ko;
        ok: response { status: 200, data: "${response.data}" };
        ko: response { status: 502, data: { failed: "${response.failed}" } };
    };
    assert!(f.json().contains("\"parallel\""));
}
