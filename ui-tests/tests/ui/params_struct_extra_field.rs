use flowyt_runtime::flow;
use serde::Serialize;

#[derive(Serialize)]
struct Notify {
    usuario_id: i64,
    prioridade: u8,
}

fn main() {
    let _ = flow! {
        params = Notify {
            usuario_id: { type: "integer", minimum: 1, required: true },
        };
        1: response { data: { to: "${params.usuario_id}" } };
    };
}
