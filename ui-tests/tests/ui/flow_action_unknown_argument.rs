#[flowyt_runtime::flow_action(name = "other")]
async fn price(input: u32) -> Result<u32, String> {
    Ok(input)
}

fn main() {}
