// Validator warnings are lints: a flow with one still builds and runs, and
// `#[allow(deprecated)]` silences it where the risk is accepted.
use flowyt_runtime::{Engine, Outcome, RunInput, flow, include_flow};

#[allow(deprecated)]
fn main() {
    let warned = flow! {
        fetch: request { url: "http://127.0.0.1:1/users" } -> success: found;
        found: response { data: "${response.data}" };
    };
    let included = include_flow!("flows/warns.json");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let engine = Engine::new().expect("engine");
        // Nothing listens on port 1: the request fails, and with no fail branch, so does the run.
        for f in [warned, included] {
            let run = f.service(&engine).run(RunInput::default()).await;
            assert!(matches!(run.outcome, Outcome::Failed(_)), "{:?}", run.outcome);
        }
    });
}
