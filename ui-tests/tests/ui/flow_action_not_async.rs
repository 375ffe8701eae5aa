use flowyt_runtime::flow_action;

#[flow_action]
fn double(input: u32) -> Result<u32, String> {
    Ok(input * 2)
}

fn main() {}
