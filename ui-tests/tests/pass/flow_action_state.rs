//! A typed action with application state, declared in a flow and run by the engine.

use flowyt_runtime::{Engine, Outcome, RunInput, flow, flow_action};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Deserialize)]
pub struct Order {
    pub qty: u32,
    #[serde(rename = "unit-price")]
    pub unit_price: Option<u32>,
}

#[derive(Serialize)]
pub struct Quote {
    pub total: u32,
}

pub struct Prices {
    pub default_unit: u32,
}

mod actions {
    use super::*;

    /// Prices an order.
    #[flow_action]
    pub async fn price(input: Order, prices: &Prices) -> Result<Quote, serde_json::Value> {
        if input.qty == 0 {
            return Err(json!({"error": "empty order"}));
        }
        let unit = input.unit_price.unwrap_or(prices.default_unit);
        Ok(Quote {
            total: input.qty * unit,
        })
    }
}

fn main() {
    let flow = flow! {
        actions = [actions::price];
        quote: price { qty: "${int(request.qs.qty)}", "unit-price": 4 } -> success: ok, fail: ko;
        ok: response { data: "${response.data}" };
        ko: response { status: 422, data: "${response.data}" };
    };
    assert_eq!(flow.custom_actions().collect::<Vec<_>>(), ["price"]);
    let engine = Engine::builder()
        .state(Prices { default_unit: 5 })
        .build()
        .expect("engine");
    let service = flow.service(&engine);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let run = |qty: &str| {
        let input = RunInput {
            request: json!({"qs": {"qty": qty}}),
            ..Default::default()
        };
        match rt.block_on(service.run(input)).outcome {
            Outcome::Response { status, body, .. } => (status, body.to_value()),
            other => panic!("unexpected outcome {other:?}"),
        }
    };
    assert_eq!(run("3"), (200, json!({"total": 12})));
    assert_eq!(run("0"), (422, json!({"error": "empty order"})));
    // The function stays callable as written.
    let direct = rt.block_on(actions::price::run(
        Order {
            qty: 2,
            unit_price: None,
        },
        &Prices { default_unit: 5 },
    ));
    assert_eq!(direct.map(|q| q.total).ok(), Some(10));
}
