use flowyt_runtime::flow;

fn main() {
    let _ = flow! {
        params = { quantity: { type: "integer", minimum: 1, required: true } };
        1: response { data: { label: "${params.quantity + ' items'}" } };
    };
}
