use flowyt_runtime::{flow, flow_action};
use serde::Deserialize;

#[derive(Deserialize)]
struct Sms {
    to: String,
}

mod sms {
    use serde::Serialize;

    /// Private fields, another module, serde renames: the JSON names are what counts.
    #[derive(Serialize, flowyt_runtime::FlowOutput)]
    #[serde(rename_all = "camelCase")]
    pub struct Sent {
        message_id: String,
        #[serde(rename = "at")]
        sent_at: u64,
    }

    impl Sent {
        pub fn new(id: String) -> Sent {
            Sent { message_id: id, sent_at: 0 }
        }
    }
}

#[flow_action]
async fn send_sms(sms: Sms) -> Result<sms::Sent, String> {
    Ok(sms::Sent::new(sms.to))
}

fn main() {
    let _ = flow! {
        actions = [send_sms];
        1: send_sms { to: "${request.qs.to}" } -> success: 2, fail: 3;
        2: response { data: { id: "${response.data.messageId}", at: "${response.data.at}", bad: "${response.data.message_id}" } };
        3: response { status: 502, data: "${response.data.anything}" };
    };
}
