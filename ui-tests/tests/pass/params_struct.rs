//! Params structs whose field types flowyt cannot see into pass (your enums, nested structs,
//! `Value`), and two flows may name one struct.
use flowyt_runtime::{Engine, Outcome, RunInput, flow};
use serde::Serialize;
use serde_json::{Value, json};

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum Channel {
    Sms,
}

#[derive(Serialize)]
struct Address {
    city: String,
}

#[derive(Serialize)]
struct Notify {
    canal: Channel,
    address: Address,
    extra: Value,
    ids: [u32; 2],
    ratio: f32,
}

fn main() {
    let a = flow! {
        params = Notify {
            canal: { type: "string", enum: ["sms", "email"], required: true },
            address: { type: "object", required: true },
            extra: { type: "array", default: [] },
            ids: { type: "array", required: true },
            ratio: { type: "number", default: 1 },
        };
        1: response { data: { via: "${params.canal}", city: "${params.address.city}", ids: "${params.ids}" } };
    };
    let b = flow! {
        params = Notify {
            canal: { type: "string" },
            address: { type: "object" },
            extra: { type: "array" },
            ids: { type: "array" },
            ratio: { type: "number" },
        };
        1: response { data: "${params.ratio}" };
    };
    let engine = Engine::new().expect("engine");
    let ws = engine.checked_workspace("app", Default::default(), [("a", a), ("b", b)]);
    let params = Notify {
        canal: Channel::Sms,
        address: Address { city: "Recife".into() },
        extra: json!([1]),
        ids: [1, 2],
        ratio: 0.5,
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let run = rt.block_on(ws.run_params("a", &params, RunInput::default()));
    let Outcome::Response { body, .. } = run.outcome else {
        panic!("expected a response, got {:?}", run.outcome);
    };
    assert_eq!(body.to_value(), json!({"via": "sms", "city": "Recife", "ids": [1, 2]}));
    let run = rt.block_on(ws.run_params("b", &params, RunInput::default()));
    let Outcome::Response { body, .. } = run.outcome else {
        panic!("expected a response, got {:?}", run.outcome);
    };
    assert_eq!(body.to_value(), json!(0.5));
}
