use flowyt_runtime::{FlowOutput, flow, flow_action};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Order {
    id: u32,
}

#[derive(Serialize, FlowOutput)]
struct Customer {
    name: String,
}

#[derive(Serialize, FlowOutput)]
struct Placed {
    id: u32,
    customer: Customer,
    previous: Option<Box<Customer>>,
}

#[flow_action]
async fn place(order: Order) -> Result<Placed, String> {
    Ok(Placed { id: order.id, customer: Customer { name: "Ana".into() }, previous: None })
}

fn main() {
    // A field's own fields are checked when its type derives `FlowOutput` too, through
    // `Option` and `Box` as well; a misspelt field read inside is one error, at the template.
    let _ = flow! {
        actions = [place];
        1: place { id: 1 } -> success: 2, fail: 3;
        2: response { data: { id: "${response.data.id}", who: "${response.data.customer.nmae}", before: "${response.data.previous.nmae}", gone: "${response.data.custmer.name}" } };
        3: response { status: 502, data: "${response.data}" };
    };
}
