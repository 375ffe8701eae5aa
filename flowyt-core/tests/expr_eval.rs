//! Table-driven tests of expression evaluation.

mod common;

use common::{TestScope, ev, ev_err, ev_in};
use flowyt_core::expr::{EvalError, Evaluated, Expr};
use serde_json::{Value, json};

fn check(cases: &[(&str, Value)]) {
    for (src, want) in cases {
        let got = ev(src);
        assert_eq!(&got, want, "{src}");
        // Floats must stay floats and ints ints (`25.0` is not `25`).
        assert_eq!(got.to_string(), want.to_string(), "{src}");
    }
}

fn check_err(cases: &[(&str, &str)]) {
    for (src, want) in cases {
        assert_eq!(ev_err(src).to_string(), *want, "{src}");
    }
}

#[test]
fn literals() {
    check(&[
        ("1", json!(1)),
        ("-1", json!(-1)),
        ("1.5", json!(1.5)),
        ("1e3", json!(1000.0)),
        ("0x10", json!(16)),
        ("'a'", json!("a")),
        ("\"a\\nb\"", json!("a\nb")),
        ("'a' 'b'", json!("ab")),
        ("True", json!(true)),
        ("False", json!(false)),
        ("None", json!(null)),
        ("[1, 'a', None]", json!([1, "a", null])),
        ("[]", json!([])),
        ("{'a': 1, 'b': [True]}", json!({"a": 1, "b": [true]})),
        ("{'a': 1, 'a': 2}", json!({"a": 2})),
        ("{}", json!({})),
        ("(1, 2)", json!([1, 2])),
        ("(1)", json!(1)),
        ("-9223372036854775808", json!(i64::MIN)),
    ]);
}

#[test]
fn arithmetic() {
    check(&[
        ("1 + 2", json!(3)),
        ("1 + 2 * 3", json!(7)),
        ("(1 + 2) * 3", json!(9)),
        ("10 * 5 / 2", json!(25.0)),
        ("4 / 2", json!(2.0)),
        ("7 / 2", json!(3.5)),
        ("7 // 2", json!(3)),
        ("-7 // 2", json!(-4)),
        ("7 // -2", json!(-4)),
        ("7 % 3", json!(1)),
        ("-7 % 3", json!(2)),
        ("7 % -3", json!(-2)),
        ("7.5 // 2", json!(3.0)),
        ("-7.5 % 2", json!(0.5)),
        ("7.5 % -2", json!(-0.5)),
        ("2 ** 10", json!(1024)),
        ("2 ** -1", json!(0.5)),
        ("2 ** 0.5 > 1.41", json!(true)),
        ("-2 ** 2", json!(-4)),
        ("(-2) ** 2", json!(4)),
        ("2 ** 3 ** 2", json!(512)),
        ("1 ** 100000000000", json!(1)),
        ("(-1) ** 100000000001", json!(-1)),
        ("0 ** 0", json!(1)),
        ("1 - 2 - 3", json!(-4)),
        ("1.5 + 1", json!(2.5)),
        ("0.1 + 0.2", json!(0.30000000000000004)),
        ("True + True", json!(2)),
        ("True * 3.0", json!(3.0)),
        ("-True", json!(-1)),
        ("+5", json!(5)),
        ("- -5", json!(5)),
        ("9223372036854775807 - 1", json!(9223372036854775806i64)),
        ("'ab' + 'cd'", json!("abcd")),
        ("'x' * 3", json!("xxx")),
        ("3 * 'x'", json!("xxx")),
        ("'x' * 0", json!("")),
        ("'x' * -2", json!("")),
        ("'' * 1000000000000", json!("")),
        ("[1] + [2, 3]", json!([1, 2, 3])),
        ("[0] * 3", json!([0, 0, 0])),
        ("[] * 1000000000000", json!([])),
        ("[1, 2] * True", json!([1, 2])),
        ("nums + [4]", json!([3, 1, 2, 4])),
    ]);
}

#[test]
fn arithmetic_errors() {
    check_err(&[
        ("0 / 0", "division by zero"),
        ("1 / 0.0", "division by zero"),
        ("1 // 0", "division by zero"),
        ("1 % 0", "division by zero"),
        ("1.0 % 0", "division by zero"),
        ("9223372036854775807 + 1", "integer overflow"),
        ("-9223372036854775807 - 2", "integer overflow"),
        ("3037000500 * 3037000500", "integer overflow"),
        ("2 ** 64", "integer overflow"),
        ("2 ** 100000000000", "integer overflow"),
        ("(-9223372036854775807 - 1) // -1", "integer overflow"),
        ("-(-9223372036854775807 - 1)", "integer overflow"),
        ("abs(-9223372036854775807 - 1)", "integer overflow"),
        ("0 ** -1", "0.0 cannot be raised to a negative power"),
        (
            "(-8) ** 0.5",
            "negative number cannot be raised to a fractional power",
        ),
        ("10.0 ** 400", "numerical result out of range"),
        (
            "'a' + 1",
            "unsupported operand types for `+`: `str` and `int`",
        ),
        (
            "1 + 'a'",
            "unsupported operand types for `+`: `int` and `str`",
        ),
        (
            "[1] + 'a'",
            "unsupported operand types for `+`: `list` and `str`",
        ),
        (
            "'a' - 'b'",
            "unsupported operand types for `-`: `str` and `str`",
        ),
        (
            "'a' * 'b'",
            "unsupported operand types for `*`: `str` and `str`",
        ),
        (
            "'a' * 1.5",
            "unsupported operand types for `*`: `str` and `float`",
        ),
        (
            "{} + {}",
            "unsupported operand types for `+`: `dict` and `dict`",
        ),
        (
            "None + 1",
            "unsupported operand types for `+`: `NoneType` and `int`",
        ),
        (
            "'%s' % 1",
            "`%` string formatting is not supported, use `format`",
        ),
        ("-'a'", "bad operand type for unary `-`: `str`"),
        ("+None", "bad operand type for unary `+`: `NoneType`"),
    ]);
}

#[test]
fn comparisons() {
    check(&[
        ("1 == 1", json!(true)),
        ("1 == 1.0", json!(true)),
        ("True == 1", json!(true)),
        ("False == 0.0", json!(true)),
        ("'2' == 2", json!(false)),
        ("'a' != 'b'", json!(true)),
        ("None == None", json!(true)),
        ("None == 0", json!(false)),
        ("None == ''", json!(false)),
        ("[1, 2] == [1, 2.0]", json!(true)),
        ("[1, 2] == [2, 1]", json!(false)),
        ("{'a': 1, 'b': 2} == {'b': 2, 'a': 1}", json!(true)),
        ("{'a': 1} == {'a': 2}", json!(false)),
        ("[] == {}", json!(false)),
        ("1 < 2", json!(true)),
        ("2 <= 2", json!(true)),
        ("3 > 2.5", json!(true)),
        ("2 >= 3", json!(false)),
        ("1 < 2 < 3", json!(true)),
        ("1 < 3 < 2", json!(false)),
        ("3 > 2 == 2", json!(true)),
        ("'abc' < 'abd'", json!(true)),
        ("'B' < 'a'", json!(true)),
        ("'é' > 'z'", json!(true)),
        ("[1, 2] < [1, 3]", json!(true)),
        ("[1, 2] < [1, 2, 0]", json!(true)),
        ("[2] > [1, 5]", json!(true)),
        ("True < 2", json!(true)),
        ("float('nan') == float('nan')", json!(false)),
        ("float('nan') < 1", json!(false)),
        ("float('nan') != float('nan')", json!(true)),
        ("9007199254740993 == 9007199254740992.0", json!(false)),
        ("'a' in 'cat'", json!(true)),
        ("'' in 'cat'", json!(true)),
        ("'x' not in 'cat'", json!(true)),
        ("2 in [1, 2]", json!(true)),
        ("2.0 in [1, 2]", json!(true)),
        ("'2' in [1, 2]", json!(false)),
        ("None in [None]", json!(true)),
        ("'a' in {'a': 1}", json!(true)),
        ("1 in {'1': 1}", json!(false)),
        ("[1] in [[1], 2]", json!(true)),
        ("None is None", json!(true)),
        ("1 is not None", json!(true)),
        ("True is True", json!(true)),
        ("1 is True", json!(false)),
        ("request.qs.nope is None", json!(true)),
        ("request.qs.nope == None", json!(true)),
        ("request.qs.nope != 'x'", json!(true)),
        ("request.qs.nope == 0", json!(false)),
        ("request.qs.nope == ''", json!(false)),
        ("request.qs.nope in [None]", json!(true)),
        ("'b' in request.qs", json!(false)),
        ("'flag' in request.qs", json!(true)),
    ]);
    check_err(&[
        ("'a' < 1", "`<` not supported between `str` and `int`"),
        ("1 >= 'a'", "`>=` not supported between `int` and `str`"),
        ("None < 1", "`<` not supported between `NoneType` and `int`"),
        ("{} < {}", "`<` not supported between `dict` and `dict`"),
        (
            "[1, 'a'] < [1, 2]",
            "`<` not supported between `str` and `int`",
        ),
        ("request.qs.nope < 1", "`request.qs.nope` is missing"),
        (
            "1 in 'abc'",
            "`in <string>` requires a string as left operand, not `int`",
        ),
        ("1 in 5", "argument of type `int` is not iterable"),
        ("1 in request.qs.nope", "`request.qs.nope` is missing"),
    ]);
}

#[test]
fn boolean_operators_return_operands() {
    check(&[
        ("1 and 2", json!(2)),
        ("0 and 2", json!(0)),
        ("'' or 'x'", json!("x")),
        ("'a' or 'x'", json!("a")),
        ("None or [] or 0", json!(0)),
        ("not 0", json!(true)),
        ("not 'a'", json!(false)),
        ("not []", json!(true)),
        ("not {}", json!(true)),
        ("not 0.0", json!(true)),
        ("not request.qs.nope", json!(true)),
        ("request.qs.nope or 'default'", json!("default")),
        ("request.qs.nope and 1", json!(null)),
        ("True and not False", json!(true)),
        ("1 or 1 / 0", json!(1)),
        ("0 and 1 / 0", json!(0)),
        ("1 if True else 1 / 0", json!(1)),
        ("'yes' if request.qs.flag == 'true' else 'no'", json!("yes")),
        ("'yes' if request.qs.other == 'true' else 'no'", json!("no")),
        ("'a' if 0 else 'b' if 1 else 'c'", json!("b")),
        ("'x' if request.qs.nope else 'y'", json!("y")),
    ]);
}

#[test]
fn paths_and_indexing() {
    check(&[
        ("request.qs.user", json!("octocat")),
        ("request['qs']['user']", json!("octocat")),
        ("request.headers.x_api_key", json!("k1")),
        ("response.data.list[0].x", json!(1)),
        ("response.data.list[-1].x", json!(2)),
        ("response.data.list[True].x", json!(2)),
        ("response.data['a']['b']", json!(1)),
        ("response.data.f", json!(2.5)),
        ("response.data.none", json!(null)),
        ("env.items", json!("a key named items")),
        ("env['items']", json!("a key named items")),
        ("env.get", json!(5)),
        ("nums[1]", json!(1)),
        ("nums[-3]", json!(3)),
        ("'hello'[1]", json!("e")),
        ("'héllo'[-4]", json!("é")),
        ("[1, 2, 3][0]", json!(1)),
        ("{'a': {'b': 2}}['a'].b", json!(2)),
        ("{'a': [1, 2]}.a[1]", json!(2)),
        ("nums[1:3]", json!([1, 2])),
        ("nums[:2]", json!([3, 1])),
        ("nums[1:]", json!([1, 2])),
        ("nums[::-1]", json!([2, 1, 3])),
        ("nums[::2]", json!([3, 2])),
        ("nums[-2:]", json!([1, 2])),
        ("nums[5:10]", json!([])),
        ("nums[-100:100]", json!([3, 1, 2])),
        ("nums[2:0:-1]", json!([2, 1])),
        ("nums[None:None]", json!([3, 1, 2])),
        ("'abcdef'[1:4]", json!("bcd")),
        ("'abcdef'[::-2]", json!("fdb")),
        ("'héllo'[1:3]", json!("él")),
        ("big", json!(18446744073709551615u64)),
    ]);
}

#[test]
fn missing_values() {
    let cases = [
        ("request.qs.nope", "request.qs.nope"),
        ("request.qs.nope.deeper", "request.qs.nope.deeper"),
        ("request.qs.nope['x'][0]", "request.qs.nope['x'][0]"),
        ("flow.x", "flow.x"),
        ("flow", "flow"),
        ("response.data.none.x", "response.data.none.x"),
        ("response.data.f.x", "response.data.f.x"),
        ("response.data.list[5]", "response.data.list[5]"),
        ("response.data.list[-5]", "response.data.list[-5]"),
        ("response.data.list['x']", "response.data.list['x']"),
        ("response.data.list[1.5]", "response.data.list[1.5]"),
        ("request.qs.user.name", "request.qs.user.name"),
        ("request.qs.user[10]", "request.qs.user[10]"),
        ("response.data[0]", "response.data[0]"),
        ("response.data.a[None]", "response.data.a[None]"),
        ("input.x", "input.x"),
        ("(request).qs.nope", "(request).qs.nope"),
        ("5 .x", "5 .x"),
        ("{'a': 1}.b", "{'a': 1}.b"),
        ("request.qs.nope[1:2]", "request.qs.nope[1:2]"),
        ("response.data[1:2]", "response.data[1:2]"),
    ];
    let scope = TestScope::new();
    for (src, path) in cases {
        let e = Expr::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        let got = e.eval(&scope).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert_eq!(
            got,
            Evaluated::Missing {
                path: path.to_string()
            },
            "{src}"
        );
        assert!(got.is_missing());
        assert_eq!(got.into_value(), Value::Null);
    }
    check_err(&[
        (
            "request.qs.n + 1",
            "unsupported operand types for `+`: `str` and `int`",
        ),
        ("request.qs.nope + 1", "`request.qs.nope` is missing"),
        ("1 + request.qs.nope.x", "`request.qs.nope.x` is missing"),
        ("-request.qs.nope", "`request.qs.nope` is missing"),
        ("len(request.qs.nope)", "`request.qs.nope` is missing"),
        ("str(request.qs.nope)", "`request.qs.nope` is missing"),
        ("int(flow.count)", "`flow.count` is missing"),
        (
            "[x for x in request.qs.nope]",
            "`request.qs.nope` is missing",
        ),
        ("request.qs.nope.upper()", "`request.qs.nope` is missing"),
        ("request.qs.nope.get('a')", "`request.qs.nope` is missing"),
        (
            "sorted([1, request.qs.nope])",
            "`<` not supported between `NoneType` and `int`",
        ),
        ("'a'.join(request.qs.nope)", "`request.qs.nope` is missing"),
        (
            "(lambda f: f(1))(request.qs.nope)",
            "`request.qs.nope` is missing",
        ),
    ]);
    // A missing value stored in a container is `None` there.
    check(&[
        ("[request.qs.nope]", json!([null])),
        ("{'a': request.qs.nope}", json!({"a": null})),
        ("bool(request.qs.nope)", json!(false)),
        ("json.dumps(request.qs.nope)", json!("null")),
        ("request.qs.get('nope', 'd')", json!("d")),
        ("function.util.echo(request.qs.nope)", json!([null])),
    ]);
    // The error points at the missing path.
    let e = ev_err("1 + request.qs.nope");
    assert_eq!(e.range(), Some(&(4..19)));
    assert!(matches!(e, EvalError::Missing { ref path, .. } if path == "request.qs.nope"));
}

#[test]
fn builtins() {
    check(&[
        ("len('héllo')", json!(5)),
        ("len(nums)", json!(3)),
        ("len(request.qs)", json!(3)),
        ("len(request.data)", json!(2)),
        ("str(1)", json!("1")),
        ("str(25.0)", json!("25.0")),
        ("str(True)", json!("True")),
        ("str(None)", json!("None")),
        ("str([1, 'a'])", json!("[1, 'a']")),
        ("str({'a': None})", json!("{'a': None}")),
        ("str()", json!("")),
        ("str('x')", json!("x")),
        ("int('42')", json!(42)),
        ("int(' -42 ')", json!(-42)),
        ("int('1_000')", json!(1000)),
        ("int(3.9)", json!(3)),
        ("int(-3.9)", json!(-3)),
        ("int(True)", json!(1)),
        ("int('ff', 16)", json!(255)),
        ("int('0x1f', 0)", json!(31)),
        ("int('0b101', base=0)", json!(5)),
        ("int()", json!(0)),
        ("int(request.qs.n) * 2", json!(14)),
        ("float('1.5')", json!(1.5)),
        ("float(' 2 ')", json!(2.0)),
        ("float(3)", json!(3.0)),
        ("float('1e3')", json!(1000.0)),
        ("str(float('inf'))", json!("inf")),
        ("str(float('-inf'))", json!("-inf")),
        ("str(float('nan'))", json!("nan")),
        ("bool(1)", json!(true)),
        ("bool('')", json!(false)),
        ("bool([0])", json!(true)),
        ("bool()", json!(false)),
        ("abs(-3)", json!(3)),
        ("abs(-2.5)", json!(2.5)),
        ("abs(True)", json!(1)),
        ("min(3, 1, 2)", json!(1)),
        ("max(nums)", json!(3)),
        ("min('b', 'a')", json!("a")),
        ("max([1, 2.5])", json!(2.5)),
        ("max([], default=7)", json!(7)),
        ("max(['aa', 'b'], key=len)", json!("aa")),
        ("min([[2], [1, 5]])", json!([1, 5])),
        ("max(1, 1.0)", json!(1)),
        ("sum(nums)", json!(6)),
        ("sum([1, 2.5])", json!(3.5)),
        ("sum([])", json!(0)),
        ("sum([1, 2], 10)", json!(13)),
        ("sum([[1], [2]], [])", json!([1, 2])),
        ("round(2.5)", json!(2)),
        ("round(3.5)", json!(4)),
        ("round(-2.5)", json!(-2)),
        ("round(2.675, 2)", json!(2.67)),
        ("round(0.125, 2)", json!(0.12)),
        ("round(1.5, 0)", json!(2.0)),
        ("round(1234.5678, -2)", json!(1200.0)),
        ("round(15, -1)", json!(20)),
        ("round(25, -1)", json!(20)),
        ("round(7)", json!(7)),
        ("round(7, 2)", json!(7)),
        ("round(2.5, None)", json!(2)),
        ("sorted(nums)", json!([1, 2, 3])),
        ("sorted(nums, reverse=True)", json!([3, 2, 1])),
        ("sorted(['b', 'A', 'a'])", json!(["A", "a", "b"])),
        (
            "sorted(['bb', 'a', 'ccc'], key=len)",
            json!(["a", "bb", "ccc"]),
        ),
        (
            "sorted([[2, 'b'], [1, 'z'], [2, 'a']])",
            json!([[1, "z"], [2, "a"], [2, "b"]]),
        ),
        (
            "sorted(request.data, key=lambda d: -d.n)",
            json!([{"n": 2, "ok": "false"}, {"n": 1, "ok": "true"}]),
        ),
        ("sorted([3, 1, 2], key=lambda x: 0)", json!([3, 1, 2])),
        (
            "sorted([3, 1, 2], key=lambda x: 0, reverse=True)",
            json!([3, 1, 2]),
        ),
        ("sorted({'b': 1, 'a': 2})", json!(["a", "b"])),
        ("sorted('cab')", json!(["a", "b", "c"])),
        ("sorted([])", json!([])),
        (
            "sorted([5, 3, 8, 1, 9, 2, 7, 4, 6, 0])",
            json!([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
        ),
        ("reversed(nums)", json!([2, 1, 3])),
        ("reversed('ab')", json!(["b", "a"])),
        ("list('ab')", json!(["a", "b"])),
        ("list({'a': 1, 'b': 2})", json!(["a", "b"])),
        ("list()", json!([])),
        ("list(nums)", json!([3, 1, 2])),
        ("range(3)", json!([0, 1, 2])),
        ("range(1, 4)", json!([1, 2, 3])),
        ("range(10, 0, -3)", json!([10, 7, 4, 1])),
        ("range(0, 10, 4)", json!([0, 4, 8])),
        ("range(5, 1)", json!([])),
        ("range(-2)", json!([])),
        ("any([0, '', 1])", json!(true)),
        ("any([])", json!(false)),
        ("all([1, 'a'])", json!(true)),
        ("all([1, 0])", json!(false)),
        ("all([])", json!(true)),
        ("any(x > 2 for x in nums)", json!(true)),
        ("all(x > 2 for x in nums)", json!(false)),
        ("enumerate(['a', 'b'])", json!([[0, "a"], [1, "b"]])),
        ("enumerate(['a'], 1)", json!([[1, "a"]])),
        ("zip([1, 2, 3], 'ab')", json!([[1, "a"], [2, "b"]])),
        ("zip()", json!([])),
        (
            "json.dumps({'a': [1, 2.0, None, True], 'b': 'é\"'})",
            json!("{\"a\": [1, 2.0, null, true], \"b\": \"\\u00e9\\\"\"}"),
        ),
        ("json.dumps('😀')", json!("\"\\ud83d\\ude00\"")),
        ("json.dumps('é', ensure_ascii=False)", json!("\"é\"")),
        (
            "json.dumps({'b': 1, 'a': {}}, sort_keys=True)",
            json!("{\"a\": {}, \"b\": 1}"),
        ),
        (
            "json.dumps({'a': [1, 2], 'b': []}, indent=2)",
            json!("{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": []\n}"),
        ),
        ("json.dumps(float('nan'))", json!("NaN")),
        ("json.dumps(1e20)", json!("1e+20")),
        (
            "json.dumps(response.data)",
            json!(
                "{\"a\": {\"b\": 1}, \"list\": [{\"x\": 1}, {\"x\": 2}], \"f\": 2.5, \"none\": null}"
            ),
        ),
        (
            "json.dumps(response.data.toDict())",
            json!(
                "{\"a\": {\"b\": 1}, \"list\": [{\"x\": 1}, {\"x\": 2}], \"f\": 2.5, \"none\": null}"
            ),
        ),
        ("json.dumps(big)", json!("18446744073709551615")),
        ("json.loads('{\"a\": [1, 2.5]}')", json!({"a": [1, 2.5]})),
        ("json.loads('1')", json!(1)),
        ("json.loads(json.dumps(nums))", json!([3, 1, 2])),
    ]);
}

#[test]
fn builtin_errors() {
    check_err(&[
        ("len(5)", "object of type `int` has no len()"),
        ("len()", "`len` takes exactly 1 argument (0 given)"),
        ("len(1, 2)", "`len` takes exactly 1 argument (2 given)"),
        ("len(x=1)", "`len` got an unexpected keyword argument `x`"),
        (
            "int('abc')",
            "invalid literal for int() with base 10: 'abc'",
        ),
        (
            "int('1.5')",
            "invalid literal for int() with base 10: '1.5'",
        ),
        ("int('')", "invalid literal for int() with base 10: ''"),
        ("int('99999999999999999999')", "integer overflow"),
        ("int(float('nan'))", "cannot convert float NaN to integer"),
        (
            "int(float('inf'))",
            "cannot convert float infinity to integer",
        ),
        ("int(1e30)", "integer overflow"),
        (
            "int(None)",
            "`int` argument must be a string or a number, not `NoneType`",
        ),
        (
            "int([])",
            "`int` argument must be a string or a number, not `list`",
        ),
        (
            "int(5, 2)",
            "`int` can't convert a non-string with an explicit base",
        ),
        ("int('1', 99)", "`int` base must be >= 2 and <= 36, or 0"),
        ("float('abc')", "could not convert string to float: 'abc'"),
        (
            "float([])",
            "`float` argument must be a string or a number, not `list`",
        ),
        ("min([])", "`min` arg is an empty sequence"),
        ("max()", "`max` takes at least 1 argument (0 given)"),
        ("max(1, 'a')", "`>` not supported between `str` and `int`"),
        (
            "sum(['a', 'b'], '')",
            "`sum` can't sum strings, use `''.join(seq)` instead",
        ),
        (
            "sum(['a'])",
            "unsupported operand types for `+`: `int` and `str`",
        ),
        (
            "sorted([1, 'a'])",
            "`<` not supported between `str` and `int`",
        ),
        ("sorted(5)", "`int` object is not iterable"),
        ("sorted(nums, key=5)", "`key` must be a function, not `int`"),
        ("range(1.5)", "`range` expects an integer, not `float`"),
        ("range(1, 2, 0)", "`range` step must not be zero"),
        ("abs('a')", "bad operand type for `abs`: `str`"),
        ("round('a')", "type `str` doesn't define `__round__`"),
        (
            "json.loads('{')",
            "invalid JSON: EOF while parsing an object at line 1 column 1",
        ),
        ("json.loads(1)", "the JSON object must be `str`, not `int`"),
        ("json.dumps(len)", "`len` is a function, not a value"),
        (
            "json.dumps([1], indent='x')",
            "`json.dumps` expects an integer, not `str`",
        ),
        ("json.nope(1)", "`json` has no attribute `nope`"),
        ("json.nope", "`json` has no attribute `nope`"),
        ("json(1)", "`json` module is not callable"),
        ("nope(1)", "unknown function `nope`"),
        ("flow(1)", "unknown function `flow`"),
        ("request(1)", "`dict` object is not callable"),
        ("nums[0](1)", "`int` object is not callable"),
        (
            "(lambda: 1)(2)",
            "`lambda` takes 0 arguments but 1 were given",
        ),
        ("(lambda a: a)()", "`lambda` is missing argument `a`"),
        (
            "(lambda a: a)(b=1)",
            "`lambda` got an unexpected keyword argument `b`",
        ),
        (
            "(lambda a: a)(1, a=1)",
            "`lambda` got multiple values for argument `a`",
        ),
        ("len", "`len` is a function, not a value"),
        ("lambda: 1", "a `lambda` is a function, not a value"),
        ("[len]", "`len` is a function, not a value"),
        ("float('inf')", "`inf` is not a valid JSON number"),
        ("[float('nan')]", "`nan` is not a valid JSON number"),
        ("zip(1)", "`int` object is not iterable"),
        ("enumerate(5)", "`int` object is not iterable"),
    ]);
}

#[test]
fn methods() {
    check(&[
        ("request.qs.get('user')", json!("octocat")),
        ("request.qs.get('nope')", json!(null)),
        ("request.qs.get('nope', 'd')", json!("d")),
        ("request.qs.get(1, 'd')", json!("d")),
        ("response.data.get('a').get('b')", json!(1)),
        ("{'a': 1}.get('a')", json!(1)),
        ("request.qs.keys()", json!(["flag", "user", "n"])),
        ("request.qs.values()", json!(["true", "octocat", "7"])),
        ("{'a': 1}.items()", json!([["a", 1]])),
        ("response.data.a.toDict()", json!({"b": 1})),
        ("response.data.a.copy()", json!({"b": 1})),
        ("nums.copy()", json!([3, 1, 2])),
        ("nums.index(2)", json!(2)),
        ("nums.count(1)", json!(1)),
        ("[1, 1.0, True].count(1)", json!(3)),
        ("'Ab'.upper()", json!("AB")),
        ("'Ab'.lower()", json!("ab")),
        ("'  a b  '.strip()", json!("a b")),
        ("'  a '.lstrip()", json!("a ")),
        ("'  a '.rstrip()", json!("  a")),
        ("'xxaxx'.strip('x')", json!("a")),
        ("'a,b,,c'.split(',')", json!(["a", "b", "", "c"])),
        ("'a,b,c'.split(',', 1)", json!(["a", "b,c"])),
        ("'  a  b c '.split()", json!(["a", "b", "c"])),
        ("'  a  b c '.split(None, 1)", json!(["a", "b c "])),
        ("''.split()", json!([])),
        ("''.split(',')", json!([""])),
        ("'-'.join(['a', 'b'])", json!("a-b")),
        ("', '.join(request.qs.keys())", json!("flag, user, n")),
        ("''.join('abc')", json!("abc")),
        ("'aaa'.replace('a', 'b')", json!("bbb")),
        ("'aaa'.replace('a', 'b', 2)", json!("bba")),
        ("'ab'.replace('', '-')", json!("-a-b-")),
        ("'abc'.startswith('ab')", json!(true)),
        ("'abc'.startswith(['x', 'a'])", json!(true)),
        ("'abc'.endswith('bc')", json!(true)),
        ("'abc'.endswith('b')", json!(false)),
        ("'héllo'.find('l')", json!(2)),
        ("'hello'.find('z')", json!(-1)),
        ("'hello'.find('l', 3)", json!(3)),
        ("'hello'.find('l', -1)", json!(-1)),
        ("'hello'.find('', 2)", json!(2)),
        ("'banana'.count('a')", json!(3)),
        ("'aaaa'.count('aa')", json!(2)),
        ("'abc'.count('')", json!(4)),
        ("'{} and {}'.format(1, 'b')", json!("1 and b")),
        ("'{1}{0}{1}'.format('a', 'b')", json!("bab")),
        ("'{name}!'.format(name='x')", json!("x!")),
        ("'{{}} {}'.format(2.0)", json!("{} 2.0")),
        ("'{}'.format(None)", json!("None")),
        ("'123'.isdigit()", json!(true)),
        ("'12a'.isdigit()", json!(false)),
        ("''.isdigit()", json!(false)),
        ("'abc'.isalpha()", json!(true)),
        ("'a1'.isalnum()", json!(true)),
        ("' '.isspace()", json!(true)),
        ("'abc'.islower()", json!(true)),
        ("'ABC1'.isupper()", json!(true)),
        ("'123'.islower()", json!(false)),
        ("request.qs.user.upper()", json!("OCTOCAT")),
    ]);
    check_err(&[
        (
            "request.qs.frobnicate()",
            "`dict` has no method `frobnicate`",
        ),
        ("'a'.frob()", "`str` has no method `frob`"),
        ("nums.append(1)", "`list` has no method `append`"),
        ("(1).bit_length()", "`int` has no method `bit_length`"),
        (
            "response.data.none.get('x')",
            "`NoneType` has no method `get`",
        ),
        ("nums.index(9)", "9 is not in list"),
        ("nums.index('9')", "'9' is not in list"),
        (
            "'a'.upper(1)",
            "`str.upper` takes exactly 0 arguments (1 given)",
        ),
        ("'a'.split('')", "empty separator"),
        (
            "'a'.replace(1, 2)",
            "`str.replace` expects a string, not `int`",
        ),
        (
            "'-'.join([1, 2])",
            "sequence item 0: expected `str`, found `int`",
        ),
        ("'{}'.format()", "`format` has no argument 0"),
        (
            "'{:.2f}'.format(1.0)",
            "format field `{:.2f}` is not supported, use `{}`, `{0}` or `{name}`",
        ),
        ("'{'.format()", "single `{` encountered in format string"),
        ("'}'.format()", "single `}` encountered in format string"),
        (
            "'{}{0}'.format(1)",
            "cannot switch from automatic field numbering to manual field specification",
        ),
        ("'{x}'.format()", "`format` has no keyword argument `x`"),
        (
            "'{}'.format(request.qs.nope)",
            "`request.qs.nope` is missing",
        ),
        (
            "'a'.upper(x=1)",
            "`str.upper` got an unexpected keyword argument `x`",
        ),
        ("(lambda: 1).x()", "`function` has no method `x`"),
    ]);
}

#[test]
fn comprehensions_and_lambdas() {
    check(&[
        (
            "[s for s in request.data if s.ok == 'true']",
            json!([{"n": 1, "ok": "true"}]),
        ),
        ("[s.n * 10 for s in request.data]", json!([10, 20])),
        ("[k for k in request.qs]", json!(["flag", "user", "n"])),
        ("[c for c in 'abc' if c != 'b']", json!(["a", "c"])),
        (
            "[k + '=' + v for k, v in request.qs.items()]",
            json!(["flag=true", "user=octocat", "n=7"]),
        ),
        ("[i * v for i, v in enumerate(nums)]", json!([0, 1, 4])),
        (
            "[(a, b) for a in [1, 2] for b in 'xy']",
            json!([[1, "x"], [1, "y"], [2, "x"], [2, "y"]]),
        ),
        (
            "[a + b for a in [1, 2] if a > 1 for b in [10, 20] if b < 20]",
            json!([12]),
        ),
        ("[x for x in [[1, 2], [3]] for x in x]", json!([1, 2, 3])),
        (
            "[[y for y in range(x)] for x in range(3)]",
            json!([[], [0], [0, 1]]),
        ),
        (
            "{k: v for k, v in request.qs.items() if k != 'n'}",
            json!({"flag": "true", "user": "octocat"}),
        ),
        ("{str(i): i for i in range(2)}", json!({"0": 0, "1": 1})),
        ("[x for x in []]", json!([])),
        ("[request for request in [1, 2]]", json!([1, 2])),
        ("[(lambda: x)() for x in [1, 2]]", json!([1, 2])),
        ("(lambda x: x * 10)(3)", json!(30)),
        ("(lambda a, b: a + b)(1, b=2)", json!(3)),
        ("(lambda: 'k')()", json!("k")),
        ("(lambda f: f(f(1)))(lambda x: x + 1)", json!(3)),
        ("(lambda x: lambda y: x + y)(1)(2)", json!(3)),
        ("sorted(request.data, key=lambda s: s.ok)[0].n", json!(2)),
        ("[a for a, in [[1], [2]]]", json!([1, 2])),
        ("[a + b for a, b in ['xy', 'zw']]", json!(["xy", "zw"])),
    ]);
    check_err(&[
        (
            "[a for a, b in [[1, 2, 3]]]",
            "expected 2 values to unpack, got 3",
        ),
        (
            "[a for a, b in [1]]",
            "cannot unpack non-iterable `int` object",
        ),
        ("[x for x in 5]", "`int` object is not iterable"),
        (
            "{x: 1 for x in [1]}",
            "dict keys must be strings, not `int`",
        ),
        ("{1: 2}", "dict keys must be strings, not `int`"),
    ]);
}

#[test]
fn function_calls_go_to_the_scope() {
    check(&[
        ("function.math.double(21)", json!(42)),
        ("function.students.approved_list()", json!(["ana", "bia"])),
        ("function.util.echo(1, 'a', [2])", json!([1, "a", [2]])),
        ("function.math.double(function.math.double(1))", json!(4)),
        ("[function.math.double(x) for x in nums]", json!([6, 2, 4])),
        ("len(function.students.approved_list())", json!(2)),
        ("function.students.approved_list()[1]", json!("bia")),
    ]);
    check_err(&[
        ("function.nope.f(1)", "unknown function `function.nope.f`"),
        (
            "function.math.double('x')",
            "`function.math.double` failed: expected an int",
        ),
        (
            "function.math.double(x=1)",
            "keyword arguments are not supported for `function.math.double`",
        ),
    ]);
    let e = ev_err("1 + function.nope.f(1)");
    assert_eq!(e.range(), Some(&(4..19)));
}

#[test]
fn roots_shadow_builtins_and_locals_shadow_roots() {
    let scope = TestScope::with(json!({"len": {"x": 1}, "json": "j", "function": {"a": 1}}));
    assert_eq!(ev_in(&scope, "len.x"), json!(1));
    assert_eq!(ev_in(&scope, "json"), json!("j"));
    assert_eq!(ev_in(&scope, "function.a"), json!(1));
    assert_eq!(ev_in(&scope, "[len for len in [1]]"), json!([1]));
    assert_eq!(ev("[function for function in [1]]"), json!([1]));
    assert_eq!(ev("(lambda function: function.a)({'a': 3})"), json!(3));
}

#[test]
fn limits() {
    let cases = [
        (
            "'x' * 10**12",
            "string too large: 1000000000000 bytes (limit 16777216)",
        ),
        (
            "[0] * 10**12",
            "list too large: 1000000000000 items (limit 1000000)",
        ),
        (
            "range(10**12)",
            "list too large: 1000000000000 items (limit 1000000)",
        ),
        (
            "range(-10**12, 10**12)",
            "list too large: 2000000000000 items (limit 1000000)",
        ),
        (
            "[[x, y] for x in range(100000) for y in range(100000)]",
            "expression evaluation budget exceeded",
        ),
        (
            "len([0 for x in range(1000) for y in range(1000) for z in range(10)])",
            "expression evaluation budget exceeded",
        ),
        (
            "(lambda f: f(f))(lambda f: f(f))",
            "maximum recursion depth exceeded",
        ),
        (
            "len(('x' * 10000000) * 2)",
            "string too large: 20000000 bytes (limit 16777216)",
        ),
        (
            "len(str([['x' * 1000000] * 100] * 100))",
            "expression evaluation used too much memory",
        ),
    ];
    for (src, want) in cases {
        let e = ev_err(src);
        assert!(matches!(e, EvalError::LimitExceeded { .. }), "{src}: {e:?}");
        assert_eq!(e.to_string(), want, "{src}");
    }
}

#[test]
fn huge_exponents_do_not_hang() {
    check_err(&[
        ("10 ** 10 ** 10", "integer overflow"),
        ("2 ** 9223372036854775807", "integer overflow"),
        (
            "2.0 ** 9223372036854775807",
            "numerical result out of range",
        ),
    ]);
    check(&[
        ("0.5 ** 9223372036854775807", json!(0.0)),
        ("0 ** 9223372036854775807", json!(0)),
    ]);
}

#[test]
fn error_ranges_point_at_the_failing_expression() {
    let cases: &[(&str, std::ops::Range<usize>)] = &[
        ("1 + 0 / 0", 4..9),
        ("len(5) + 1", 0..6),
        ("'a' < 1", 0..7),
        ("x.y.z + request.qs.nope", 0..5),
        ("[1, 2][0] + 'a'", 0..15),
        ("nope(1)", 0..4),
        ("nums[0](1)", 0..7),
    ];
    for (src, range) in cases {
        let e = ev_err(src);
        assert_eq!(e.range(), Some(range), "{src}: {e}");
    }
}

#[test]
fn a_deadline_stops_a_long_evaluation_and_spares_a_short_one() {
    use flowyt_core::expr::EvalLimits;
    let passed = EvalLimits {
        deadline: Some(std::time::Instant::now()),
        ..EvalLimits::default()
    };
    let scope = TestScope::new();
    let long = Expr::parse("sum([x * x for x in range(100000)])").expect("parses");
    let e = long
        .eval_with(&scope, &passed)
        .expect_err("past its deadline");
    assert!(matches!(e, EvalError::LimitExceeded { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "the run's time limit was reached while evaluating this expression"
    );
    // A cheap expression never looks at the clock, so it still answers.
    let short = Expr::parse("1 + 2").expect("parses");
    let v = short
        .eval_with(&scope, &passed)
        .expect("a cheap expression answers");
    assert_eq!(v.into_value(), json!(3));
}
