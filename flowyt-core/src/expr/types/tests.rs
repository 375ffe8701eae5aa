//! The checker against the evaluator: exact messages, what is never reported, and agreement
//! on every operator and pair of literal types.
use super::*;
use crate::expr::Evaluated;
use std::collections::HashMap;

struct Params(HashMap<&'static str, Types>);

impl TypeEnv for Params {
    fn root_key(&self, root: &str, key: &str) -> Types {
        match root {
            "params" => self.0.get(key).copied().unwrap_or(Types::ANY),
            _ => Types::ANY,
        }
    }
}

fn errors(src: &str) -> Vec<String> {
    let env = Params(HashMap::from([
        ("count", Types::INT),
        ("ratio", Types::NUMBER),
        ("name", Types::STR),
    ]));
    let e = Expr::parse(src).expect(src);
    e.check_types(&env)
        .1
        .errors
        .into_iter()
        .map(|e| format!("{} @ {}", e.message, &src[e.range]))
        .collect()
}

#[test]
fn a_string_added_to_an_integer_param_is_an_error_with_the_engines_message() {
    assert_eq!(
        errors("params.count + 'x'"),
        ["unsupported operand types for `+`: `int` and `str` @ params.count + 'x'"]
    );
    assert_eq!(
        errors("1 + (params.ratio - params.name)"),
        ["unsupported operand types for `-`: `int` and `str` @ params.ratio - params.name"]
    );
    assert_eq!(
        errors("-params.name"),
        ["bad operand type for unary `-`: `str` @ -params.name"]
    );
    assert_eq!(
        errors("params.count < 'a' < 2"),
        [
            "`<` not supported between `int` and `str` @ params.count < 'a'",
            "`<` not supported between `str` and `int` @ 'a' < 2"
        ]
    );
    assert_eq!(
        errors("'x' in params.count"),
        ["argument of type `int` is not iterable @ 'x' in params.count"]
    );
    // The failure is reported once, where it happens, not again in what contains it.
    assert_eq!(errors("(params.count + 'x') * 2").len(), 1);
}

#[test]
fn what_can_succeed_is_not_reported() {
    for ok in [
        "params.count + 1",
        "params.name * params.count",
        "params.name + request.qs.x",
        "params.other + 'x'",
        "str(params.count) + 'x'",
        "len(params.name) + 1",
        "[x + 'a' for x in params.count]",
        "(lambda params: params.count + 'x')(1)",
        "params.count if params.count else 'none'",
        "params.ratio // 2",
        "'a' in params.name",
        "params.count == 'a'",
    ] {
        assert_eq!(errors(ok), Vec::<String>::new(), "{ok}");
    }
    assert_eq!(
        errors("(params.count if x else 'n') + 1"),
        Vec::<String>::new(),
        "a union where one type succeeds"
    );
    assert_eq!(
        errors("str(params.count) - 1"),
        ["unsupported operand types for `-`: `str` and `int` @ str(params.count) - 1"]
    );
}

#[test]
fn calls_are_listed_with_their_argument_types() {
    let e = Expr::parse("function.m.f(params.count, 'a', x) + 1").expect("parses");
    let env = Params(HashMap::from([("count", Types::INT)]));
    let (_, found) = e.check_types(&env);
    assert_eq!(
        found.calls,
        [TypedCall {
            path: vec!["m".into(), "f".into()],
            args: vec![Types::INT, Types::STR, Types::ANY],
            arg_calls: vec![None, None, None],
            kwargs: false,
            range: 0..34,
        }]
    );
}

#[test]
fn operations_on_function_results_are_left_for_their_signatures() {
    let e = Expr::parse("function.m.f(1) + 'x' < 2 and -function.g()").expect("parses");
    let (_, found) = e.check_types(&Untyped);
    let ops: Vec<(&str, Vec<Operand>)> = found
        .ops
        .iter()
        .map(|o| (o.op, o.operands.clone()))
        .collect();
    let call = |p: &[&str]| Operand::Call(p.iter().map(|s| s.to_string()).collect());
    assert_eq!(
        ops,
        [
            ("+", vec![call(&["m", "f"]), Operand::Known(Types::STR)]),
            // The comparison's left side is the operation before: followed through it.
            ("<", vec![Operand::Op(0), Operand::Known(Types::INT)]),
            ("neg", vec![call(&["g"])]),
        ]
    );
    assert_eq!(op_succeeds("+", Types::INT, Types::STR), Some(false));
    assert_eq!(op_result("+", Types::INT, Types::INT), Some(Types::INT));
    assert_eq!(op_result("/", Types::INT, Types::INT), Some(Types::FLOAT));
    assert_eq!(op_result("<", Types::INT, Types::FLOAT), Some(Types::BOOL));
    assert_eq!(op_result("+", Types::INT, Types::STR), None);
    assert_eq!(op_succeeds("+", Types::NUMBER, Types::INT), Some(true));
    assert_eq!(op_succeeds("neg", Types::STR, Types::NULL), Some(false));
    assert_eq!(op_succeeds("??", Types::STR, Types::NULL), None);
}

#[test]
fn chains_of_operations_refer_to_each_other_across_segments() {
    let src = "${1 + 2} and ${function.f(1) + 1 + ' items'} ${-function.g() * 2}";
    let t = Template::parse(src).expect("parses");
    let found = t.check_types(&Untyped);
    let ops: Vec<(&str, Vec<Operand>)> = found
        .ops
        .iter()
        .map(|o| (o.op, o.operands.clone()))
        .collect();
    let call = |p: &str| Operand::Call(vec![p.to_string()]);
    assert_eq!(
        ops,
        [
            ("+", vec![call("f"), Operand::Known(Types::INT)]),
            ("+", vec![Operand::Op(0), Operand::Known(Types::STR)]),
            ("neg", vec![call("g")]),
            // In the third segment, numbered after the second's.
            ("*", vec![Operand::Op(2), Operand::Known(Types::INT)]),
        ]
    );
    // Ranges are the template's, the chain's outer operation spanning its inner one.
    let text = |i: usize| &src[found.ops[i].range.clone()];
    assert_eq!(text(0), "function.f(1) + 1");
    assert_eq!(text(1), "function.f(1) + 1 + ' items'");
}

/// The checker's verdict agrees with the evaluator for every pair of literal types and
/// every operator: an error exactly when evaluation fails.
#[test]
fn agrees_with_the_evaluator_on_every_literal_pair() {
    let literals = ["None", "True", "3", "1.5", "'a'", "[1]", "{'a': 1}"];
    let ops = [
        "+", "-", "*", "/", "//", "%", "**", "<", "<=", ">", ">=", "==", "!=", "in", "not in",
    ];
    for a in literals {
        for b in literals {
            for op in ops {
                let src = format!("{a} {op} {b}");
                let e = Expr::parse(&src).expect("parses");
                let evaluated = e.eval(&NoScope);
                let (t, found) = e.check_types(&Untyped);
                assert_eq!(
                    found.errors.is_empty(),
                    evaluated.is_ok(),
                    "{src}: {found:?} vs {evaluated:?}"
                );
                if let Ok(Evaluated::Value(v)) = evaluated {
                    assert_eq!(t, Types::of(&v), "{src}");
                }
            }
        }
        for op in ["-", "+", "not "] {
            let src = format!("{op}{a}");
            let e = Expr::parse(&src).expect("parses");
            let (_, found) = e.check_types(&Untyped);
            assert_eq!(found.errors.is_empty(), e.eval(&NoScope).is_ok(), "{src}");
        }
    }
}

#[test]
fn builtin_results_have_the_types_the_table_says() {
    for (src, t) in [
        ("len('ab')", Types::INT),
        ("int('3')", Types::INT),
        ("str(3)", Types::STR),
        ("float(3)", Types::FLOAT),
        ("bool(3)", Types::BOOL),
        ("any([1])", Types::BOOL),
        ("all([1])", Types::BOOL),
        ("sorted([2, 1])", Types::LIST),
        ("reversed([2, 1])", Types::LIST),
        ("list('ab')", Types::LIST),
        ("range(3)", Types::LIST),
        ("enumerate('ab')", Types::LIST),
        ("zip('ab', 'cd')", Types::LIST),
        ("json.dumps(3)", Types::STR),
    ] {
        let e = Expr::parse(src).expect("parses");
        let v = e.eval(&NoScope).expect("evaluates").into_value();
        assert_eq!(Types::of(&v), t, "{src} evaluates to {v}");
        assert_eq!(e.check_types(&Untyped).0, t, "{src}");
    }
}
