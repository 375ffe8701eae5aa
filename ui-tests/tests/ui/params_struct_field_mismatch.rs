use flowyt_runtime::flow;
use serde::Serialize;

#[derive(Serialize)]
struct Notify {
    usuario: i64,
    canal: Option<String>,
}

fn main() {
    let _ = flow! {
        params = Notify {
            usuario_id: { type: "integer", minimum: 1, required: true },
            canal: { type: "string", default: "sms" },
        };
        1: response { data: { to: "${params.usuario_id}" } };
    };
}
