//! Outputs whose fields flow! checks, and those it leaves alone: no derive, a `Value`,
//! `flatten`, bracket access, an action reached from elsewhere too, the fail branch.
use flowyt_runtime::{Engine, FlowOutput, Outcome, RunInput, flow, flow_action};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Deserialize)]
struct Sms {
    to: String,
}

#[derive(Serialize, FlowOutput)]
struct Customer {
    name: String,
}

#[derive(Serialize, FlowOutput)]
#[serde(rename_all = "camelCase")]
struct Sent {
    message_id: String,
    r#type: &'static str,
    #[serde(skip)]
    _internal: u8,
    // Fields inside fields are checked when their type derives `FlowOutput` (through
    // `Option` and `Box` too), and not otherwise.
    customer: Customer,
    maybe_customer: Option<Box<Customer>>,
    plain_part: Plain,
}

#[derive(Serialize)]
struct Plain {
    a: i64,
}

#[derive(Serialize, FlowOutput)]
struct Flat {
    a: i64,
    #[serde(flatten)]
    rest: std::collections::BTreeMap<String, Value>,
}

#[flow_action]
async fn send_sms(sms: Sms) -> Result<Sent, String> {
    Ok(Sent {
        message_id: format!("m-{}", sms.to),
        r#type: "sms",
        _internal: 0,
        customer: Customer { name: "Ana".into() },
        maybe_customer: None,
        plain_part: Plain { a: 1 },
    })
}

#[flow_action]
async fn plain(_: Value) -> Result<Plain, String> {
    Ok(Plain { a: 1 })
}

#[flow_action]
async fn untyped(_: Value) -> Result<Value, String> {
    Ok(json!({"whatever": 1}))
}

#[flow_action]
async fn flat(_: Value) -> Result<Flat, String> {
    Ok(Flat { a: 1, rest: [("b".to_string(), json!(2))].into() })
}

fn main() {
    let f = flow! {
        actions = [send_sms, plain, untyped, flat];
        1: send_sms { to: "${request.qs.to}" } -> success: 2, fail: 9;
        2: flow_var {
            id: "${response.data.messageId}",
            kind: "${response.data.type}",
            raw: "${response.data['message_id']}",
            who: "${response.data.customer.name}",
            maybe: "${response.data.maybeCustomer.name if response.data.maybeCustomer else None}",
            loose: "${response.data.plainPart.anything}",
        } -> 3;
        3: plain {} -> success: 4, fail: 9;
        4: flow_var { p: "${response.data.nope}" } -> 5;
        5: untyped {} -> success: 6, fail: 9;
        6: flow_var { u: "${response.data.whatever}" } -> 7;
        7: flat {} -> success: 8, fail: 9;
        8: response { data: { id: "${flow.id}", kind: "${flow.kind}", b: "${response.data.b}", u: "${flow.u}", who: "${flow.who}" } };
        9: response { status: 502, data: "${response.data.message}" };
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let engine = Engine::new().expect("engine");
    let run = rt.block_on(f.service(&engine).run(RunInput {
        request: json!({"qs": {"to": "42"}}),
        ..Default::default()
    }));
    let Outcome::Response { body, .. } = run.outcome else {
        panic!("expected a response, got {:?}", run.outcome);
    };
    assert_eq!(body.to_value(), json!({"id": "m-42", "kind": "sms", "b": 2, "u": 1, "who": "Ana"}));
}
