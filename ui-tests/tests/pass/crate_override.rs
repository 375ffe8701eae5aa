// `crate = "..."`: the macros' generated code names the runtime through the path given, for a
// crate that re-exports flowyt under its own name (as `#[serde(crate = "...")]` and
// `#[tokio::main(crate = "...")]` do). The facade below counts the flows built through it, so
// the test fails if any macro still went to `::flowyt_runtime` directly.
use std::sync::atomic::{AtomicUsize, Ordering};

static BUILT: AtomicUsize = AtomicUsize::new(0);

mod facade {
    pub use flowyt_runtime::*;

    pub mod __private {
        pub use flowyt_runtime::__private::*;
        use flowyt_runtime::CheckedFlow;

        pub fn checked_compiled(
            json: &'static str,
            flow: core::model::Flow,
            actions: Vec<NamedAction>,
            functions: Vec<(&'static str, FunctionFn)>,
            driver: Option<Driver>,
        ) -> CheckedFlow {
            super::super::BUILT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            flowyt_runtime::__private::checked_compiled(json, flow, actions, functions, driver)
        }

        pub fn included_flow(
            json: &'static str,
            flow: core::model::Flow,
            actions: Vec<NamedAction>,
            driver: Driver,
        ) -> CheckedFlow {
            super::super::BUILT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            flowyt_runtime::__private::included_flow(json, flow, actions, driver)
        }
    }
}

#[derive(serde::Deserialize)]
struct Order {
    qty: u32,
}

#[facade::flow_action(crate = "facade")]
async fn price(input: Order) -> Result<u32, String> {
    Ok(input.qty * 5)
}

#[facade::flow_function(crate = "crate::facade")]
fn double(n: i64) -> i64 {
    n * 2
}

fn main() {
    let inline = facade::flow! {
        crate = "facade";
        actions = [price];
        functions = [double];
        quote: price { qty: 3 } -> success: done, fail: done;
        done: response { data: { total: "${response.data}", twice: "${function.double(21)}" } };
    };
    let included = facade::include_flow!("flows/search.json", crate = "facade");
    assert_eq!(BUILT.load(Ordering::SeqCst), 2, "both flows were built through the facade");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let engine = facade::Engine::new().expect("engine");
        let run = inline.service(&engine).run(facade::RunInput::default()).await;
        let facade::Outcome::Response { body, .. } = run.outcome else {
            panic!("{:?}", run.outcome)
        };
        assert_eq!(body.to_value(), serde_json::json!({"total": 15, "twice": 42}));
        let _ = included;
    });
}
