//! `params` and `schedule` in `flow!`: templates may read declared params only.

use flowyt_runtime::{CheckedFlow, flow};

fn main() {
    let f: CheckedFlow = flow! {
        name = "notify";
        params = {
            usuario_id: { type: "integer", minimum: 1, default: 1 },
            lang: { type: "string", enum: ["pt", "en"], default: "pt" },
        };
        schedule = { every: 60 };
        1: response { status: 201, data: { id: "${params.usuario_id}", lang: "${params['lang']}" } };
    };
    let params = f.model().params.as_ref().map(Vec::len);
    assert_eq!(params, Some(2));
    assert!(f.model().schedule.is_some());
}
