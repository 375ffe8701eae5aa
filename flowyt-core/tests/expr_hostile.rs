//! Hostile input: the deepest expressions the bounds allow must evaluate on a small stack, and
//! resource-hungry ones must fail fast with an error.

mod common;

use common::TestScope;
use flowyt_core::expr::{EvalError, Expr, Template};

/// Runs `f` on a thread with a 1 MiB stack (half of what tokio and test threads get).
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    let handle = std::thread::Builder::new().stack_size(1 << 20).spawn(f);
    match handle {
        Ok(h) => assert!(h.join().is_ok(), "thread panicked"),
        Err(e) => panic!("spawn: {e}"),
    }
}

fn eval(src: &str) -> Result<serde_json::Value, EvalError> {
    let e = Expr::parse(src).unwrap_or_else(|e| panic!("{e} at {:?}", e.range));
    e.eval(&TestScope::new()).map(|v| v.into_value())
}

#[test]
fn deepest_allowed_expressions_fit_a_small_stack() {
    on_small_stack(|| {
        let chain = format!("request{}", ".qs".repeat(98));
        assert_eq!(eval(&chain), Ok(serde_json::Value::Null));
        let lists = format!("{}1{}", "[".repeat(63), "]".repeat(63));
        assert!(eval(&lists).is_ok());
        let nots = format!("{}x", "not ".repeat(63));
        assert!(eval(&nots).is_ok());
        let sum = vec!["1"; 99].join(" + ");
        assert_eq!(eval(&sum), Ok(serde_json::json!(99)));
        let comps = format!("{}x{}", "[".repeat(20), " for x in [1]]".repeat(20));
        assert!(eval(&comps).is_ok());
        let calls = format!("{}1{}", "len(str(".repeat(30), "))".repeat(30));
        assert!(eval(&calls).is_ok());
        let lambdas = format!("{}1{}", "(lambda x: ".repeat(30), ")(1)".repeat(30));
        assert!(eval(&lambdas).is_ok());
        // Unbounded recursion through lambdas stops at the depth limit.
        let e = eval("(lambda f: f(f))(lambda f: f(f))");
        assert!(matches!(e, Err(EvalError::LimitExceeded { .. })), "{e:?}");
        let e = eval("(lambda f: [f(f)])(lambda f: [f(f)])");
        assert!(matches!(e, Err(EvalError::LimitExceeded { .. })), "{e:?}");
        let e = eval("(lambda f: [x for x in [f(f)]])(lambda f: [x for x in [f(f)]])");
        assert!(matches!(e, Err(EvalError::LimitExceeded { .. })), "{e:?}");
        let e = eval(
            "(lambda f: sorted([1, 2], key=lambda x: f(f)))(lambda f: sorted([1, 2], key=lambda x: f(f)))",
        );
        assert!(matches!(e, Err(EvalError::LimitExceeded { .. })), "{e:?}");
    });
}

#[test]
fn pathological_templates_fail_fast() {
    on_small_stack(|| {
        for src in [
            "${".repeat(10_000),
            "$${".repeat(10_000),
            "{".repeat(10_000),
            format!("${{{}", "(".repeat(10_000)),
            format!("${{{}}}", "[".repeat(10_000)),
            format!("${{{}1{}}}", "(".repeat(10_000), ")".repeat(10_000)),
            format!("${{{}}}", "'".repeat(10_001)),
            format!("${{x{}}}", ".y".repeat(10_000)),
            format!("${{{}}}", "-".repeat(10_000)),
        ] {
            if let Ok(t) = Template::parse(&src) {
                let _ = t.render(&TestScope::new());
            }
        }
    });
}

#[test]
fn expensive_expressions_hit_limits() {
    for src in [
        "'x' * 10**12",
        "'ab' * 9223372036854775807",
        "[1, 2] * 9223372036854775807",
        "range(10**12)",
        "list(range(10**7))",
        "sorted(range(10**6, 0, -1))",
        "[x for x in range(10**6)]",
        "len([[y for y in range(1000)] for x in range(1000)])",
        "sum(range(10**6))",
        "json.dumps([['x' * 1000] * 1000] * 1000)",
        "'x' * 10**7 + 'y' * 10**7",
        "len(('a' * 10**7).replace('a', 'aa'))",
        "'-'.join(['x' * 10**6] * 20)",
        "[1] * 10**6 + [2] * 10**6",
        "any([x for x in range(10**6) if x < 0])",
    ] {
        let e = eval(src);
        assert!(
            matches!(e, Err(EvalError::LimitExceeded { .. })),
            "{src}: {e:?}"
        );
    }
}
