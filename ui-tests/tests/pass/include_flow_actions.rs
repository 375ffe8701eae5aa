//! `include_flow!` with a typed custom action used by the JSON file.

use flowyt_runtime::{flow_action, include_flow};
use serde::Deserialize;

#[derive(Deserialize)]
struct Sms {
    to: String,
    text: String,
}

#[flow_action]
async fn send_sms(input: Sms) -> Result<String, String> {
    Ok(format!("{}: {}", input.to, input.text))
}

fn main() {
    let flow = include_flow!("flows/notify.json", actions = [send_sms]);
    assert_eq!(flow.custom_actions().collect::<Vec<_>>(), ["send_sms"]);
    assert!(flow.json().contains("\"send_sms\""));
}
