use flowyt_runtime::{flow, flow_action};

#[flow_action]
async fn send_sms(input: String) -> Result<String, String> {
    Ok(input)
}

fn main() {
    let _ = flow! {
        actions = [send_sms];
        notify: send_mms { to: "${request.qs.to}" } -> done;
        done: response { data: "${response.data}" };
    };
}
