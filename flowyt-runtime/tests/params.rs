//! Typed flow params over HTTP: checked before the run, defaults applied, read as `${params.X}`.

mod support;

use serde_json::json;
use support::*;

async fn base() -> Served {
    let f = json!({
        "params": {
            "usuario_id": {"type": "integer", "minimum": 1, "required": true},
            "lang": {"type": "string", "enum": ["pt", "en"], "default": "pt"}
        },
        "pipeline": [respond("1", json!({"id": "${params.usuario_id}", "next": "${params.usuario_id + 1}", "lang": "${params.lang}"}), 200)]
    });
    Case::new()
        .route("get", "/t", "f")
        .route("post", "/t", "f")
        .flow("f", f)
        .serve()
        .await
}

#[tokio::test]
async fn valid_params_reach_the_templates_typed_with_defaults() {
    let b = base().await;
    let got = b.get("/t?usuario_id=5").await;
    assert_eq!(
        (got.status, got.json()),
        (200, json!({"id": 5, "next": 6, "lang": "pt"}))
    );
    let got = b.post("/t", &json!({"usuario_id": 3, "lang": "en"})).await;
    assert_eq!(
        (got.status, got.json()),
        (200, json!({"id": 3, "next": 4, "lang": "en"}))
    );
}

#[tokio::test]
async fn bad_params_are_refused_with_a_400_naming_the_param() {
    let b = base().await;
    for (query, message, param) in [
        ("", "param `usuario_id` is required", "usuario_id"),
        (
            "?usuario_id=0",
            "param `usuario_id` must be at least 1",
            "usuario_id",
        ),
        (
            "?usuario_id=abc",
            "param `usuario_id` must be an integer, got `\"abc\"`",
            "usuario_id",
        ),
        (
            "?usuario_id=2&lang=fr",
            "param `lang` must be one of: \"pt\", \"en\"",
            "lang",
        ),
        (
            "?usuario_id=2&user=1",
            "unknown param `user` (expected one of: `usuario_id`, `lang`)",
            "user",
        ),
    ] {
        let got = b.get(&format!("/t{query}")).await;
        assert_eq!(
            (got.status, got.json()),
            (400, json!({"message": message, "param": param})),
            "{query}"
        );
    }
}
