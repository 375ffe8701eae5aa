use flowyt_runtime::{flow, flow_function};

mod students {
    #[flowyt_runtime::flow_function]
    pub fn approved(scores: Vec<u32>, min: u32) -> Vec<u32> {
        scores.into_iter().filter(|s| *s >= min).collect()
    }
}

#[flow_function]
fn double(n: i64) -> i64 {
    n * 2
}

fn main() {
    let _ = flow! {
        functions = [students::approved, double];
        params = { name: { type: "string", required: true } };
        1: flow_var { ok: "${function.students.approved([4, 7, 9], 6)}" } -> 2;
        2: response { data: "${function.double(params.name)}" };
    };
}
