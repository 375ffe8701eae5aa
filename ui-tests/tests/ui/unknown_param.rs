use flowyt_runtime::flow;

fn main() {
    let _ = flow! {
        params = { usuario_id: { type: "integer", minimum: 1, required: true } };
        1: response { data: { id: "${params.usuario}" } };
    };
}
