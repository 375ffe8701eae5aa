use flowyt_runtime::flow_action;

#[flow_action]
async fn price(qty: u32) -> Option<u32> {
    Some(qty * 5)
}

fn main() {}
