// A whole workspace checked at compile time, loaded and run: the route's flow jumps to another.
use flowyt_runtime::{Engine, Outcome, RunInput, include_workspace};

fn main() {
    let good = include_workspace!("workspaces/good");
    assert_eq!(good.name(), "good");
    assert_eq!(good.flow_keys().collect::<Vec<_>>(), ["entry", "greet"]);
    let engine = Engine::new().expect("engine");
    let ws = good.workspace(&engine).expect("loads");
    assert_eq!(ws.routes().len(), 1);
    let _router: axum::Router = good.router(&engine).expect("routes");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let input = RunInput {
            request: serde_json::json!({"params": {"who": "ana"}}),
            ..RunInput::default()
        };
        let run = ws.run("entry", input).await;
        let Outcome::Response { body, .. } = run.outcome else {
            panic!("{:?}", run.outcome)
        };
        assert_eq!(body.to_value(), serde_json::json!({"text": "hello ana"}));
    });
}
