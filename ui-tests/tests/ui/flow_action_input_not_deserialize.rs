use flowyt_runtime::flow_action;

struct Order {
    qty: u32,
}

#[flow_action]
async fn price(input: Order) -> Result<u32, String> {
    Ok(input.qty * 5)
}

fn main() {}
