//! Property tests: parsing and evaluating arbitrary or hostile input never panics, and every
//! error points at a valid range of its source.

mod common;

use std::ops::Range;

use common::TestScope;
use flowyt_core::expr::{EvalError, Expr, Template};
use proptest::prelude::*;

fn assert_range(src: &str, r: &Range<usize>) {
    assert!(
        r.start <= r.end && r.end <= src.len(),
        "{r:?} out of {src:?}"
    );
    assert!(
        src.is_char_boundary(r.start) && src.is_char_boundary(r.end),
        "{r:?} in {src:?}"
    );
}

fn check_template(src: &str) {
    match Template::parse(src) {
        Err(e) => {
            assert_range(src, &e.range);
            assert!(!e.message.is_empty());
        }
        Ok(t) => {
            for (_, r) in t.free_names() {
                assert_range(src, &r);
            }
            for (_, r) in t.function_calls() {
                assert_range(src, &r);
            }
            let _ = t.string_literals();
            match t.render(&TestScope::new()) {
                Ok(_) => {}
                Err(e) => check_eval_error(src, &e),
            }
        }
    }
}

fn check_eval_error(src: &str, e: &EvalError) {
    if let Some(r) = e.range() {
        assert_range(src, r);
    }
    let msg = e.to_string();
    assert!(
        !msg.is_empty() && !msg.contains('\n') || matches!(e, EvalError::Missing { .. }),
        "{msg:?}"
    );
}

fn check_expr(src: &str) {
    match Expr::parse(src) {
        Err(e) => assert_range(src, &e.range),
        Ok(x) => {
            for (_, r) in x.free_names() {
                assert_range(src, &r);
            }
            let _ = x.as_path();
            if let Err(e) = x.eval(&TestScope::new()) {
                check_eval_error(src, &e);
            }
        }
    }
}

/// Syntactically plausible expressions over the test context.
fn expr_strategy() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("x".to_string()),
        Just("request.qs.user".to_string()),
        Just("request.qs.nope".to_string()),
        Just("request.data".to_string()),
        Just("response.data".to_string()),
        Just("nums".to_string()),
        Just("flow.x".to_string()),
        Just("env".to_string()),
        Just("None".to_string()),
        Just("True".to_string()),
        Just("1.5".to_string()),
        Just("'ab'".to_string()),
        Just("''".to_string()),
        Just("'{}'".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("float('nan')".to_string()),
        Just("9223372036854775807".to_string()),
        (-5i64..6).prop_map(|i| i.to_string()),
    ];
    leaf.prop_recursive(4, 48, 4, |inner| {
        let binop = prop::sample::select(vec![
            "+", "-", "*", "/", "//", "%", "**", "==", "!=", "<", "<=", ">", ">=", "in", "not in",
            "is", "is not", "and", "or",
        ]);
        let func = prop::sample::select(vec![
            "len",
            "str",
            "int",
            "float",
            "bool",
            "abs",
            "min",
            "max",
            "sum",
            "round",
            "sorted",
            "reversed",
            "list",
            "range",
            "any",
            "all",
            "enumerate",
            "zip",
            "json.dumps",
            "json.loads",
            "function.math.double",
            "function.util.echo",
            "function.nope.f",
            "nope",
        ]);
        let method = prop::sample::select(vec![
            "get",
            "keys",
            "values",
            "items",
            "toDict",
            "copy",
            "upper",
            "lower",
            "strip",
            "split",
            "join",
            "replace",
            "startswith",
            "endswith",
            "find",
            "count",
            "format",
            "isdigit",
            "index",
            "nope",
        ]);
        let key = prop::sample::select(vec!["a", "n", "ok", "items", "get", "qs", "list"]);
        prop_oneof![
            (inner.clone(), binop, inner.clone()).prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            (prop::sample::select(vec!["-", "+", "not "]), inner.clone())
                .prop_map(|(op, a)| format!("{op}({a})")),
            (inner.clone(), key).prop_map(|(a, k)| format!("({a}).{k}")),
            (inner.clone(), inner.clone()).prop_map(|(a, i)| format!("({a})[{i}]")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("({a})[{b}:{c}]")),
            (func, prop::collection::vec(inner.clone(), 0..3))
                .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            (
                inner.clone(),
                method,
                prop::collection::vec(inner.clone(), 0..3)
            )
                .prop_map(|(a, m, args)| format!("({a}).{m}({})", args.join(", "))),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, c, b)| format!("({a} if {c} else {b})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(e, it, c)| format!("[{e} for x in {it} if {c}]")),
            (inner.clone(), inner.clone())
                .prop_map(|(e, it)| format!("{{'k': {e} for k, x in {it}}}")),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| format!("[{}]", v.join(", "))),
            (inner.clone(), inner.clone()).prop_map(|(k, v)| format!("{{{k}: {v}}}")),
            (inner.clone(), inner.clone()).prop_map(|(b, a)| format!("(lambda x: {b})({a})")),
            (inner.clone(), inner).prop_map(|(xs, b)| format!("sorted({xs}, key=lambda x: {b})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn template_parse_never_panics(src in any::<String>()) {
        check_template(&src);
    }

    #[test]
    fn template_parse_never_panics_on_template_like_input(src in "[${}$'\"\\\\()\\[\\]a-z0-9 .+*/%<>=!,:é\n-]{0,48}") {
        check_template(&src);
    }

    #[test]
    fn expr_parse_never_panics(src in any::<String>()) {
        check_expr(&src);
    }

    #[test]
    fn expr_parse_never_panics_on_expression_like_input(src in "[a-z0-9 .+*/%<>=!,:'\"()\\[\\]{}_\\\\-]{0,48}|(lambda|for|in|if|else|not|and|or|is|None|True|[ x,:(\\[{)\\]}0-9'])*") {
        check_expr(&src);
    }

    #[test]
    fn evaluating_random_expressions_never_panics(e in expr_strategy()) {
        check_expr(&e);
        check_template(&format!("${{{e}}}"));
        check_template(&format!("a ${{ {e} }} b"));
    }

    #[test]
    fn deep_nesting_is_rejected_cleanly(open in prop::sample::select(vec!["(", "[", "{", "-", "not ", "f(", "a.", "${", "{'a':", "lambda: ", "[x for x in "]), n in 1usize..3000) {
        let src = open.repeat(n);
        check_expr(&src);
        check_template(&src);
        check_template(&format!("${{{src}}}"));
    }
}
