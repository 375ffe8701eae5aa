//! Application state by type (several values, a duplicate refused at build), the HTTP
//! request's extensions reachable from custom actions, and typed actions' state checked when
//! the flow is mounted.

mod support;

use axum::Router;
use flowyt_runtime::{ActionContext, BuildError, Engine, Outcome, RunInput, flow};
use serde_json::{Value, json};

struct Db {
    url: &'static str,
}

struct Prices {
    unit: u32,
}

/// What an authentication layer would put in the request's extensions.
#[derive(Clone)]
struct User(&'static str);

fn engine() -> Engine {
    Engine::builder()
        .state(Db {
            url: "postgres://127.0.0.1/app",
        })
        .state(Prices { unit: 5 })
        .action("context", |_input: Value, cx: ActionContext| async move {
            Ok(json!({
                "db": cx.state::<Db>().map(|d| d.url),
                "unit": cx.state::<Prices>().map(|p| p.unit),
                "user": cx.extension::<User>().map(|u| u.0),
            }))
        })
        .build()
        .expect("engine")
}

fn context_flow() -> flowyt_runtime::Workspace {
    support::Case::new()
        .engine(engine())
        .route("get", "/me", "f")
        .flow(
            "f",
            support::flow(vec![
                json!({"id": "1", "action": "context", "data": {}, "next_action": "2"}),
                support::respond("2", json!("${response.data}"), 200),
            ]),
        )
        .load()
}

#[tokio::test]
async fn several_states_are_found_by_type() {
    let run = context_flow().run("f", RunInput::default()).await;
    let Outcome::Response { body, .. } = run.outcome else {
        panic!("{:?}", run.outcome)
    };
    assert_eq!(
        body.to_value(),
        json!({"db": "postgres://127.0.0.1/app", "unit": 5, "user": null})
    );
}

#[test]
fn a_second_state_of_one_type_is_refused_at_build() {
    let built = Engine::builder()
        .state(Prices { unit: 5 })
        .state(Prices { unit: 7 })
        .build();
    match built {
        Err(BuildError::DuplicateState(t)) => assert!(t.ends_with("Prices"), "{t}"),
        other => panic!("expected a duplicate-state error, got {other:?}"),
    }
}

#[tokio::test]
async fn custom_actions_read_what_a_tower_layer_put_in_the_request() {
    let ws = context_flow();
    let app: Router = Router::new()
        .nest("/ws", ws.router())
        .layer(axum::middleware::from_fn(
            |mut req: axum::extract::Request, next: axum::middleware::Next| async move {
                req.extensions_mut().insert(User("ana"));
                next.run(req).await
            },
        ));
    let base = format!("http://{}", support::spawn(app).await);
    let got = support::get(&format!("{base}/ws/me")).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.json()["user"], "ana");
    assert_eq!(got.json()["unit"], 5);
    // In-process runs carry extensions too, when the caller sets them.
    let mut input = RunInput::default();
    input.extensions.insert(User("bruno"));
    let run = ws.run("f", input).await;
    let Outcome::Response { body, .. } = run.outcome else {
        panic!("{:?}", run.outcome)
    };
    assert_eq!(body.to_value()["user"], "bruno");
}

#[tokio::test]
async fn a_typed_action_without_its_state_is_refused_when_mounted() {
    #[flowyt_runtime::flow_action]
    async fn price(qty: u32, prices: &Prices) -> Result<u32, String> {
        Ok(qty * prices.unit)
    }
    let f = flow! {
        actions = [price];
        1: price { } -> success: 2, fail: 2;
        2: response { data: "${response.data}" };
    };
    let err = f
        .try_service(&Engine::new().expect("engine"))
        .expect_err("no Prices");
    assert_eq!(err.action, "price");
    assert!(err.state.ends_with("Prices"), "{err}");
    let mounted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        f.service(&Engine::new().expect("engine"))
    }));
    assert!(mounted.is_err(), "service() refuses it at mount time too");
    let ok = f.try_service(&engine()).expect("mounts with the state");
    let run = ok.run(RunInput::default()).await;
    assert!(
        matches!(run.outcome, Outcome::Response { .. }),
        "{:?}",
        run.outcome
    );
}
