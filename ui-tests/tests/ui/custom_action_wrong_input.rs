use flowyt_runtime::{flow, flow_action};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Sms {
    to: String,
    text: String,
}

#[derive(Serialize)]
struct Sent {
    to: String,
}

#[flow_action]
async fn send_sms(input: Sms) -> Result<Sent, String> {
    let _ = input.text;
    Ok(Sent { to: input.to })
}

fn main() {
    let _ = flow! {
        actions = [send_sms];
        notify: send_sms { phone: "${request.qs.to}", text: "hello" } -> success: done, fail: done;
        done: response { data: "${response.data}" };
    };
}
