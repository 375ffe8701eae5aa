//! A flow that calls a typed Rust action: `#[flow_action]` turns `send_sms` into an action
//! whose input is deserialised from the flow's data, which reads the application state (an
//! HTTP client for an SMS gateway), and whose `Ok`/`Err` choose the flow's branch. The gateway
//! is a stand-in this program starts itself on 127.0.0.1.
//!
//! ```sh
//! cargo run -p example-custom-action
//! ```

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use example_support::{ask, install_tls_provider, spawn};
use flowyt_runtime::{CheckedFlow, Engine, flow, flow_action};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::error::Error;
use std::time::Duration;

/// The input of `send_sms`: the action's data in the flow.
#[derive(Deserialize)]
struct Sms {
    to: String,
    text: String,
}

/// What `send_sms` returns on success (`response.data` of the next action).
#[derive(Serialize)]
struct Sent {
    id: u64,
    to: String,
}

/// What `send_sms` returns on failure (`response.data` on the fail branch).
#[derive(Serialize)]
struct SmsError {
    status: u16,
    reason: String,
}

/// Application state: how to reach the SMS gateway.
struct Gateway {
    client: reqwest::Client,
    url: String,
}

/// Sends one SMS through the gateway.
#[flow_action]
async fn send_sms(input: Sms, gateway: &Gateway) -> Result<Sent, SmsError> {
    let failed = |status: u16, reason: String| SmsError { status, reason };
    let response = gateway
        .client
        .post(&gateway.url)
        .json(&json!({"to": input.to, "body": input.text}))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map_err(|e| failed(0, e.to_string()))?;
    let status = response.status().as_u16();
    let body: Value = response
        .json()
        .await
        .map_err(|e| failed(status, e.to_string()))?;
    match (status, body["id"].as_u64()) {
        (200..=299, Some(id)) => Ok(Sent { id, to: input.to }),
        _ => Err(failed(
            status,
            body["error"].as_str().unwrap_or("unknown").to_string(),
        )),
    }
}

/// Validates the request body, sends the SMS, answers 201 or 502.
fn notify() -> CheckedFlow {
    flow! {
        name = "notify";
        actions = [send_sms];

        check: validation {
            schema: {
                to: { type: "string", required: true, regex: "^[0-9+]+$" },
                text: { type: "string", required: true },
            },
        } -> success: send, fail: invalid;
        invalid: response { status: 400, data: "${response.data}" };
        send: send_sms { to: "${request.data.to}", text: "${request.data.text}" }
            -> success: sent, fail: failed;
        sent: response { status: 201, data: { sent: "${response.data}" } };
        failed: response { status: 502, data: { error: "${response.data}" } };
    }
}

/// A stand-in SMS gateway: numbers starting with `000` do not exist.
fn fake_gateway() -> Router {
    Router::new().route(
        "/messages",
        post(|axum::Json(msg): axum::Json<Value>| async move {
            let to = msg["to"].as_str().unwrap_or_default();
            if to.starts_with("000") {
                return (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    axum::Json(json!({"error": "no such number"})),
                )
                    .into_response();
            }
            axum::Json(json!({"id": 7, "to": to})).into_response()
        }),
    )
}

/// Starts the gateway and the flow's server, posts each body to `/notify` and returns the
/// answers.
async fn demo(bodies: &[Value]) -> Result<Vec<(u16, String)>, Box<dyn Error>> {
    let gateway = spawn(fake_gateway()).await?;
    install_tls_provider();
    let engine = Engine::builder()
        .state(Gateway {
            client: reqwest::Client::new(),
            url: format!("http://{gateway}/messages"),
        })
        .build()?;
    let app = Router::new().route("/notify", post(notify().service(&engine)));
    let addr = spawn(app).await?;
    ask(bodies, |client, body| {
        client.post(format!("http://{addr}/notify")).json(body)
    })
    .await
}

fn bodies() -> Vec<Value> {
    vec![
        json!({"to": "+351910000000", "text": "hello"}),
        json!({"to": "000", "text": "hello"}),
        json!({"to": "+351910000000"}),
    ]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let bodies = bodies();
    for (body, (status, answer)) in bodies.iter().zip(demo(&bodies).await?) {
        println!("POST /notify {body} -> {status} {answer}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn typed_action_chooses_the_branch() {
        let answers = demo(&bodies()).await.expect("demo runs");
        let parsed: Vec<(u16, Value)> = answers
            .into_iter()
            .map(|(s, b)| (s, serde_json::from_str(&b).expect("JSON")))
            .collect();
        assert_eq!(
            parsed[0],
            (201, json!({"sent": {"id": 7, "to": "+351910000000"}}))
        );
        assert_eq!(
            parsed[1],
            (
                502,
                json!({"error": {"status": 422, "reason": "no such number"}})
            )
        );
        assert_eq!(
            parsed[2],
            (400, json!({"errors": {"text": ["required field"]}}))
        );
    }

    #[tokio::test]
    async fn the_action_is_a_plain_async_fn_too() {
        let gateway = spawn(fake_gateway()).await.expect("gateway");
        install_tls_provider();
        let state = Gateway {
            client: reqwest::Client::new(),
            url: format!("http://{gateway}/messages"),
        };
        let sms = Sms {
            to: "000".into(),
            text: "x".into(),
        };
        let err = send_sms::run(sms, &state)
            .await
            .err()
            .expect("no such number");
        assert_eq!((err.status, err.reason.as_str()), (422, "no such number"));
    }
}
