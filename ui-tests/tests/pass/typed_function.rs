//! `#[flow_function]` + `functions = [...]`: typed template functions, registered by mounting.

use flowyt_runtime::{Engine, Outcome, RunInput, flow, flow_function};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Deserialize, Serialize)]
struct Student {
    name: String,
    approved: bool,
}

mod students {
    use super::Student;

    #[flowyt_runtime::flow_function]
    pub fn approved_list(all: Vec<Student>) -> Vec<Student> {
        all.into_iter().filter(|s| s.approved).collect()
    }
}

#[flow_function]
fn double(n: i64) -> i64 {
    n * 2
}

fn main() {
    let f = flow! {
        functions = [students::approved_list, double];
        1: response {
            data: {
                ok: "${function.students.approved_list(request.data)}",
                twice: "${function.double(21)}",
            },
        };
    };
    // The original functions stay callable.
    assert_eq!(double(2), 4);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let engine = Engine::new().expect("engine");
    let run = rt.block_on(f.service(&engine).run(RunInput {
        request: json!({"data": [{"name": "Ana", "approved": true}, {"name": "Bia", "approved": false}]}),
        ..Default::default()
    }));
    let Outcome::Response { body, .. } = run.outcome else {
        panic!("expected a response, got {:?}", run.outcome);
    };
    assert_eq!(body.to_value(), json!({"ok": [{"name": "Ana", "approved": true}], "twice": 42}));

    // A value known only at run time that does not fit the parameter type fails the run with
    // a clear message (one known at compile time is a compile error, see
    // ui/flow_function_wrong_argument.rs).
    let bad = flow! {
        functions = [double];
        1: response { data: "${function.double(request.qs.n)}" };
    };
    let run = rt.block_on(bad.service(&engine).run(RunInput {
        request: json!({"qs": {"n": "x"}}),
        ..Default::default()
    }));
    let Outcome::Failed(e) = run.outcome else {
        panic!("expected a failure, got {:?}", run.outcome);
    };
    assert!(e.message.contains("argument 1 of `double`"), "{}", e.message);
}
