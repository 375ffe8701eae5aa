//! Templates: parsing, typed versus spliced rendering, and the spec's conformance cases.

mod common;

use std::ops::Range;

use common::{TestScope, render, render_err, render_in};
use flowyt_core::expr::{EvalError, Expr, Part, PathSeg, Template};
use serde_json::{Value, json};

fn parse_err(src: &str) -> (String, Range<usize>) {
    match Template::parse(src) {
        Ok(t) => panic!("{src:?} parsed: {t:?}"),
        Err(e) => (e.message, e.range),
    }
}

fn check(cases: &[(&str, Value)]) {
    for (src, want) in cases {
        let got = render(src);
        assert_eq!(&got, want, "{src}");
        assert_eq!(got.to_string(), want.to_string(), "{src}");
    }
}

#[test]
fn spec_12_13_url_template() {
    let t = "${env.baseUrl}/users/${request.qs.user}";
    assert_eq!(render(t), json!("http://up.test/users/octocat"));
    let scope =
        TestScope::with(json!({"env": {"baseUrl": "http://up.test"}, "request": {"qs": {}}}));
    let tpl = Template::parse(t).unwrap_or_else(|e| panic!("{e}"));
    let err = tpl.render(&scope).err();
    assert_eq!(
        err,
        Some(EvalError::Missing {
            path: "request.qs.user".to_string(),
            range: Some(23..38)
        })
    );
    assert_eq!(&t[23..38], "request.qs.user");
    assert_eq!(
        err.map(|e| e.to_string()),
        Some("`request.qs.user` is missing".to_string())
    );
}

#[test]
fn spec_14_typed_whole_string_templates() {
    check(&[
        ("${1 + 2}", json!(3)),
        ("${10 * 5 / 2}", json!(25.0)),
        ("${1 == 1}", json!(true)),
        ("${None}", json!(null)),
        ("${['a', 'b']}", json!(["a", "b"])),
        ("${'x' * 3}", json!("xxx")),
        ("${[1, 2, 3]}", json!([1, 2, 3])),
        ("${ 1 }", json!(1)),
        ("${response.data.f}", json!(2.5)),
        ("${response.status}", json!(200)),
    ]);
}

#[test]
fn spec_15_embedded_templates_use_python_str() {
    check(&[
        ("${1+1} items", json!("2 items")),
        ("ok=${1 == 1}", json!("ok=True")),
        ("v=${None}", json!("v=None")),
        ("f=${10 * 5 / 2}", json!("f=25.0")),
        ("b=${False}", json!("b=False")),
        ("l=${[1, 'a', None, 2.5]}", json!("l=[1, 'a', None, 2.5]")),
        (
            "d=${ {'a': True, 'b': [\"it's\"]} }",
            json!("d={'a': True, 'b': [\"it's\"]}"),
        ),
        ("s=${'raw'}", json!("s=raw")),
        ("${1}${2}", json!("12")),
        (" ${1}", json!(" 1")),
        ("${1} ", json!("1 ")),
        (
            "${request.data}!",
            json!("[{'n': 1, 'ok': 'true'}, {'n': 2, 'ok': 'false'}]!"),
        ),
        ("inf=${float('inf')}", json!("inf=inf")),
        ("e=${1e20}", json!("e=1e+20")),
        ("fn=${len}", json!("fn=<built-in function>")),
    ]);
}

#[test]
fn spec_16_17_18_context_paths() {
    let scope = TestScope::with(json!({"request": {
        "data": {"a": {"b": 1}, "list": [{"x": 1}]},
        "headers": {"x_api_key": "k1"},
        "qs": {"a": "1"}
    }}));
    assert_eq!(
        render_in(&scope, "${request.data}"),
        json!({"a": {"b": 1}, "list": [{"x": 1}]})
    );
    assert_eq!(render_in(&scope, "${request.data.list[0].x}"), json!(1));
    assert_eq!(
        render_in(&scope, "${request.headers.x_api_key}"),
        json!("k1")
    );
    assert_eq!(render_in(&scope, "${request.qs.a}"), json!("1"));
}

#[test]
fn spec_19_20_21_22() {
    check(&[
        ("${1+1}", json!(2)),
        ("${ {'a': 1}['a'] }", json!(1)),
        ("${ {'a': {'b': 2}}['a']['b'] }", json!(2)),
        ("${flow.x}", json!(null)),
    ]);
    let e = render_err("${0/0}");
    assert_eq!(e.to_string(), "division by zero");
    assert_eq!(e.range(), Some(&(2..5)));
    assert!(matches!(e, EvalError::Failed { .. }));
    let e = render_err("v=${flow.x}");
    assert_eq!(e.to_string(), "`flow.x` is missing");
    assert_eq!(e.range(), Some(&(4..10)));
}

#[test]
fn spec_23_24_25_conditionals_comprehensions_empty_strings() {
    let t = "${'yes' if request.qs.flag == 'true' else 'no'}";
    assert_eq!(render(t), json!("yes"));
    let without = TestScope::with(json!({"request": {"qs": {}}}));
    assert_eq!(render_in(&without, t), json!("no"));
    assert_eq!(
        render("${[s for s in request.data if s.ok == 'true']}"),
        json!([{"n": 1, "ok": "true"}])
    );
    check(&[("pre-${''}-post", json!("pre--post")), ("${''}", json!(""))]);
}

#[test]
fn spec_27_28_next_action_templates() {
    let scope = TestScope::with(json!({"pipeline": {"next_action": null}}));
    assert_eq!(render_in(&scope, "${pipeline.next_action}"), json!(null));
    assert_eq!(
        render_in(&scope, "${'b' if pipeline.next_action is None else 'c'}"),
        json!("b")
    );
    let scope = TestScope::with(json!({"pipeline": {"next_action": "4"}}));
    assert_eq!(
        render_in(&scope, "${'b' if pipeline.next_action is None else 'c'}"),
        json!("c")
    );
}

#[test]
fn literal_templates_and_escapes() {
    check(&[
        ("", json!("")),
        ("plain text", json!("plain text")),
        ("$${x}", json!("${x}")),
        ("a $${1+1} b", json!("a ${1+1} b")),
        ("$$${1}", json!("$${1}")),
        ("$$${1}${2}", json!("$${1}2")),
        ("$${${1}", json!("${1")),
        ("cost: $5 {x} $", json!("cost: $5 {x} $")),
        ("$$", json!("$$")),
        ("{${1}}", json!("{1}")),
        ("line1\n${1+1}\nline3", json!("line1\n2\nline3")),
        ("${'}'}", json!("}")),
        ("${\"a}\" + '{'}", json!("a}{")),
        ("${'it\\'s }'}", json!("it's }")),
        ("${'''a}'b'''}", json!("a}'b")),
        ("${[{'a': {}}][0]}", json!({"a": {}})),
        ("${1 +\n 2}", json!(3)),
        ("é${'ü'}ß", json!("éüß")),
    ]);
    let t = Template::parse("$${x}").unwrap_or_else(|e| panic!("{e}"));
    assert!(t.is_literal());
    assert_eq!(t.literal_text(), Some("${x}"));
    assert_eq!(
        Template::parse("").map(|t| t.literal_text().map(str::to_string)),
        Ok(Some(String::new()))
    );
}

#[test]
fn parts_single_and_ranges() {
    let t = Template::parse("a${1}b${ x.y }").unwrap_or_else(|e| panic!("{e}"));
    assert!(!t.is_literal());
    assert!(t.single().is_none());
    assert_eq!(t.literal_text(), None);
    let parts = t.parts();
    assert_eq!(parts.len(), 4);
    assert!(matches!(&parts[0], Part::Text(s) if s == "a"));
    let Part::Expr(seg) = &parts[1] else {
        panic!("expected an expression")
    };
    assert_eq!((seg.range.clone(), seg.expr_range.clone()), (1..5, 3..4));
    assert_eq!(seg.expr.source(), "1");
    assert!(matches!(&parts[2], Part::Text(s) if s == "b"));
    let segs: Vec<_> = t.segments().collect();
    assert_eq!(segs.len(), 2);
    assert_eq!(
        (segs[1].range.clone(), segs[1].expr_range.clone()),
        (6..14, 8..13)
    );

    let t = Template::parse("${x}").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.single().map(|s| s.range.clone()), Some(0..4));
    for not_single in [" ${x}", "${x} ", "${x}${y}", "a${x}", "$${x}"] {
        let t = Template::parse(not_single).unwrap_or_else(|e| panic!("{e}"));
        assert!(t.single().is_none(), "{not_single}");
    }
}

#[test]
fn syntax_errors_point_into_the_template() {
    let cases: &[(&str, &str, Range<usize>)] = &[
        ("abc ${x", "unterminated `${`: no matching `}`", 4..6),
        ("${", "unterminated `${`: no matching `}`", 0..2),
        ("${ {'a': 1}", "unterminated `${`: no matching `}`", 0..2),
        (
            "ok ${1} then ${2",
            "unterminated `${`: no matching `}`",
            13..15,
        ),
        ("${}", "empty template expression", 0..3),
        ("x ${  } y", "empty template expression", 2..7),
        ("${\n}", "empty template expression", 0..4),
        ("x ${1 +} y", "expected an expression after `+`", 6..7),
        ("${'abc}", "unterminated string literal", 2..3),
        ("${x}${'''ab}", "unterminated string literal", 6..9),
        ("${f(1))}", "unexpected `)`", 6..7),
        ("${a b}", "unexpected `b`", 4..5),
        ("${1 ! 2}", "unexpected character `!`", 4..5),
        ("é ${(}", "expected an expression after `(`", 5..6),
        (
            "${lambda x=1: x}",
            "default values in `lambda` are not supported",
            10..11,
        ),
        ("${ {1, 2} }", "set literals are not supported", 3..4),
    ];
    for (src, msg, range) in cases {
        assert_eq!(parse_err(src), (msg.to_string(), range.clone()), "{src:?}");
    }
}

#[test]
fn eval_errors_point_into_the_template() {
    let e = render_err("a ${1/0} b");
    assert_eq!(e.range(), Some(&(4..7)));
    let e = render_err("a ${request.qs.nope} b");
    assert_eq!(
        e,
        EvalError::Missing {
            path: "request.qs.nope".into(),
            range: Some(4..19)
        }
    );
    let e = render_err("${1} ${'a' < 1}");
    assert_eq!(e.range(), Some(&(7..14)));
    assert_eq!(e.to_string(), "`<` not supported between `str` and `int`");
    let e = render_err("${request.qs.nope + 1}");
    assert_eq!(e.range(), Some(&(2..17)));
}

#[test]
fn static_analysis() {
    let t = Template::parse(
        "${[s for s in request.data if s.ok == flag]} ${len(x)} ${(lambda y: y + z)(1)}",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<(String, Range<usize>)> = t.free_names();
    let want: Vec<(String, Range<usize>)> = vec![
        ("request".into(), 14..21),
        ("flag".into(), 38..42),
        ("len".into(), 47..50),
        ("x".into(), 51..52),
        ("z".into(), 72..73),
    ];
    assert_eq!(names, want);
    let src = "${[s for s in request.data if s.ok == flag]} ${len(x)} ${(lambda y: y + z)(1)}";
    for (n, r) in &names {
        assert_eq!(&src[r.clone()], n);
    }

    let e = Expr::parse("[x for x in x if x] + [y for y in ys for z in y] + [z]")
        .unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<String> = e.free_names().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["x", "ys", "z"]);
    let e = Expr::parse("{k: v for k, v in d.items()}").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(e.free_names(), vec![("d".to_string(), 18..19)]);

    let src = "${function.students.approved_list(x)} and ${function.a.b(function.c.d(), len(y))}";
    let t = Template::parse(src).unwrap_or_else(|e| panic!("{e}"));
    let calls = t.function_calls();
    let got: Vec<(Vec<&str>, &str)> = calls
        .iter()
        .map(|(p, r)| (p.iter().map(String::as_str).collect(), &src[r.clone()]))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                vec!["students", "approved_list"],
                "function.students.approved_list"
            ),
            (vec!["a", "b"], "function.a.b"),
            (vec!["c", "d"], "function.c.d"),
        ]
    );
    let e = Expr::parse("[function.x() for function in fs] + [function.y()]")
        .unwrap_or_else(|e| panic!("{e}"));
    let calls: Vec<Vec<String>> = e.function_calls().into_iter().map(|(p, _)| p).collect();
    assert_eq!(calls, vec![vec!["y".to_string()]]);
    let e = Expr::parse("function.models.Contracts").unwrap_or_else(|e| panic!("{e}"));
    assert!(e.function_calls().is_empty());

    let t = Template::parse("${'a' + \"b\"} ${x.get('k', 'd')} $${'no'}")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.string_literals(), vec!["a", "b", "k", "d"]);
}

#[test]
fn as_path() {
    let path = |src: &str| -> Option<(String, Vec<PathSeg>)> {
        let e = Expr::parse(src).unwrap_or_else(|e| panic!("{e}"));
        e.as_path().map(|(r, s)| (r.to_string(), s))
    };
    assert_eq!(
        path("root.a.b[0]['c']"),
        Some((
            "root".into(),
            vec![
                PathSeg::Key("a".into()),
                PathSeg::Key("b".into()),
                PathSeg::Index(0),
                PathSeg::Key("c".into())
            ]
        ))
    );
    assert_eq!(path("request"), Some(("request".into(), vec![])));
    assert_eq!(
        path("xs[-1]"),
        Some(("xs".into(), vec![PathSeg::Index(-1)]))
    );
    assert_eq!(
        path("(a).b"),
        Some(("a".into(), vec![PathSeg::Key("b".into())]))
    );
    for not_path in [
        "a.b()", "a[i]", "1", "a[1:2]", "a + b", "a[0.5]", "a[True]", "'s'.x", "[a][0]",
    ] {
        assert_eq!(path(not_path), None, "{not_path}");
    }
}

#[test]
fn function_calls_through_templates() {
    assert_eq!(render("${function.math.double(4)}"), json!(8));
    assert_eq!(render("n=${function.math.double(4)}"), json!("n=8"));
    let e = render_err("x ${function.nope.f()}");
    assert_eq!(e.to_string(), "unknown function `function.nope.f`");
    assert_eq!(e.range(), Some(&(4..19)));
}

#[test]
fn corpus_expressions_parse() {
    let exprs = [
        "${env.baseUrl}/users/${request.qs.user}/repos?sort=updated&direction=asc",
        "${flow.contract_service(flow.session).get_or_create(flow.contract_model,flow.contracts[0]['contract'],flow.contracts[0]['description'],flow.contracts[0]['short_description'])}",
        "${function.util.add_key(flow.vulnerabilities[0],'labels',flow.labels)}",
        "${json.dumps(response.data.toDict())}",
        "${len(flow.contracts)}",
        "${os.env['MONGODB_DATABASE']}",
        "${env('MONGODB_DATABASE')}",
        "${flow.vulnerabilities[0].id_vuln};",
        "${function.flow.env.get()}",
        "${function.models}",
        "${0}",
    ];
    for src in exprs {
        assert!(Template::parse(src).is_ok(), "{src}");
    }
    let scope = TestScope::with(json!({"response": {"data": {"a": [1, "é"]}}}));
    assert_eq!(
        render_in(&scope, "${json.dumps(response.data.toDict())}"),
        json!("{\"a\": [1, \"\\u00e9\"]}")
    );
    let e = render_err("${flow.contract_service(flow.session).x()}");
    assert_eq!(e.to_string(), "`flow` is missing");
}

/// Legacy settings: `${env('NAME')}` / `${env('NAME', 'default')}` read the process
/// environment through `Scope::call_name`; inside flows `env` is a root and calling it fails.
#[test]
fn spec_26_env_function_in_settings() {
    struct Settings;
    impl flowyt_core::expr::Scope for Settings {
        fn root(&self, _: &str) -> Option<&Value> {
            None
        }
        fn call(&self, _: &[&str], _: Vec<Value>) -> Option<Result<Value, String>> {
            None
        }
        fn call_name(&self, name: &str, args: Vec<Value>) -> Option<Result<Value, String>> {
            if name != "env" {
                return None;
            }
            let vars = json!({"FLOWYT_T": "abc"});
            Some(match args.as_slice() {
                [Value::String(k)] => Ok(vars.get(k).cloned().unwrap_or(json!(""))),
                [Value::String(k), d] => Ok(vars.get(k).cloned().unwrap_or(d.clone())),
                _ => Err("expected a variable name".to_string()),
            })
        }
    }
    let render_settings = |src: &str| {
        Template::parse(src)
            .ok()
            .and_then(|t| t.render(&Settings).ok())
    };
    assert_eq!(render_settings("${env('FLOWYT_T')}"), Some(json!("abc")));
    assert_eq!(render_settings("${env('UNSET')}"), Some(json!("")));
    assert_eq!(render_settings("${env('UNSET', 'd')}"), Some(json!("d")));
    assert_eq!(
        render_settings("x-${env('FLOWYT_T')}"),
        Some(json!("x-abc"))
    );
    let t = Template::parse("${env(1)}").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        t.render(&Settings).map_err(|e| e.to_string()),
        Err("`env` failed: expected a variable name".into())
    );
    let t = Template::parse("${nope()}").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        t.render(&Settings).map_err(|e| e.to_string()),
        Err("unknown function `nope`".into())
    );
    // In a flow, `env` is the settings object.
    assert_eq!(
        render_err("${env('X')}").to_string(),
        "`dict` object is not callable"
    );
}

#[test]
fn templates_are_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Template>();
    assert_send_sync::<Expr>();
    assert_send_sync::<EvalError>();
    assert_send_sync::<flowyt_core::expr::SyntaxError>();
}

/// The engine parses once and renders many times; no timing, only that repeated renders
/// agree and leave the template unchanged.
#[test]
fn a_parsed_template_renders_repeatedly() {
    let t = Template::parse("${request.data[1].n}").unwrap_or_else(|e| panic!("{e}"));
    let before = t.clone();
    let scope = TestScope::new();
    for _ in 0..10_000 {
        assert_eq!(t.render(&scope), Ok(json!(2)));
    }
    assert_eq!(t, before);
    let t = Template::parse("${env.baseUrl}/users/${request.qs.user}")
        .unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..1_000 {
        assert_eq!(t.render(&scope), Ok(json!("http://up.test/users/octocat")));
    }
}

#[test]
fn attribute_chains_stop_at_indexes_calls_and_locals() {
    let t = Template::parse(
        "${response.data.user.name} ${response['data'].x} ${response.data.items()} \
         ${[response.data.a for response in xs]} ${len(response.data.b[0].c)} ${response.status}",
    )
    .expect("parses");
    let chains: Vec<Vec<String>> = t
        .attribute_chains("response")
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let v = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        chains,
        [
            v(&["data", "user", "name"]),
            v(&["data"]),
            v(&["data", "b"]),
            v(&["status"])
        ]
    );
}
