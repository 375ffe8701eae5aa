//! Unit tests of the Cerberus validator, end to end through [`Schema`].

use super::*;
use serde_json::json;

fn errors(schema: Value, document: Value) -> Value {
    let schema = match Schema::compile(&schema) {
        Ok(s) => s,
        Err(e) => panic!("schema does not compile: {e:?}"),
    };
    match schema.validate(&document) {
        Ok(()) => json!({}),
        Err(tree) => Value::Object(tree),
    }
}

/// Compares with key order (serde_json's `Map` equality ignores it).
fn assert_tree(schema: Value, document: Value, expected: Value) {
    let got = errors(schema.clone(), document.clone());
    assert_eq!(
        got.to_string(),
        expected.to_string(),
        "schema {schema} document {document}"
    );
}

fn compile_errors(schema: Value) -> Vec<(String, String)> {
    match Schema::compile(&schema) {
        Ok(_) => panic!("schema {schema} compiled"),
        Err(errors) => errors
            .into_iter()
            .map(|e| (e.path.join("."), e.message))
            .collect(),
    }
}

#[test]
fn spec_tests_46_47() {
    let schema = json!({"name": {"type": "string", "required": true}, "age": {"type": "integer"}});
    assert_tree(schema.clone(), json!({"name": "a", "age": 3}), json!({}));
    assert_tree(
        schema,
        json!({"age": "x", "extra": 1}),
        json!({"age": ["must be of integer type"], "extra": ["unknown field"], "name": ["required field"]}),
    );
}

#[test]
fn document_level_errors() {
    let schema = json!({"a": {"type": "string"}});
    assert_tree(
        schema.clone(),
        Value::Null,
        json!({"document": ["document is missing"]}),
    );
    assert_tree(
        schema.clone(),
        json!([1, "x", null, true, 1.5]),
        json!({"document": ["'[1, 'x', None, True, 1.5]' is not a document, must be a dict"]}),
    );
    assert_tree(
        schema.clone(),
        json!("body"),
        json!({"document": ["'body' is not a document, must be a dict"]}),
    );
    assert_tree(
        schema.clone(),
        json!(false),
        json!({"document": ["'False' is not a document, must be a dict"]}),
    );
    assert_tree(schema, json!({}), json!({}));
}

#[test]
fn rules_pass_and_fail() {
    // (schema of field "f", passing value, failing value, expected messages)
    let cases = vec![
        (
            json!({"type": "string"}),
            json!("x"),
            json!(1),
            json!(["must be of string type"]),
        ),
        (
            json!({"type": "integer"}),
            json!(1),
            json!(true),
            json!(["must be of integer type"]),
        ),
        (
            json!({"type": "integer"}),
            json!(-7),
            json!(1.0),
            json!(["must be of integer type"]),
        ),
        (
            json!({"type": "float"}),
            json!(1),
            json!("1.5"),
            json!(["must be of float type"]),
        ),
        (
            json!({"type": "number"}),
            json!(1.5),
            json!(false),
            json!(["must be of number type"]),
        ),
        (
            json!({"type": "boolean"}),
            json!(false),
            json!(0),
            json!(["must be of boolean type"]),
        ),
        (
            json!({"type": "dict"}),
            json!({}),
            json!([]),
            json!(["must be of dict type"]),
        ),
        (
            json!({"type": "list"}),
            json!([]),
            json!({}),
            json!(["must be of list type"]),
        ),
        (
            json!({"type": "date"}),
            json!("2024-02-29"),
            json!("2023-02-29"),
            json!(["must be of date type"]),
        ),
        (
            json!({"type": "datetime"}),
            json!("2024-02-29T10:20:30.5+02:00"),
            json!("2024-02-29"),
            json!(["must be of datetime type"]),
        ),
        (
            json!({"type": ["integer", "string"]}),
            json!("x"),
            json!(1.5),
            json!(["must be of ['integer', 'string'] type"]),
        ),
        (
            json!({"nullable": true}),
            json!(null),
            json!(null),
            json!([]),
        ),
        (
            json!({"type": "string"}),
            json!("x"),
            json!(null),
            json!(["null value not allowed"]),
        ),
        (
            json!({"empty": false}),
            json!("x"),
            json!(""),
            json!(["empty values not allowed"]),
        ),
        (
            json!({"empty": false}),
            json!([1]),
            json!({}),
            json!(["empty values not allowed"]),
        ),
        (
            json!({"minlength": 2}),
            json!("ab"),
            json!("a"),
            json!(["min length is 2"]),
        ),
        (
            json!({"maxlength": 2}),
            json!([1, 2]),
            json!([1, 2, 3]),
            json!(["max length is 2"]),
        ),
        (
            json!({"maxlength": 1}),
            json!("é"),
            json!({"a": 1, "b": 2}),
            json!(["max length is 1"]),
        ),
        (
            json!({"min": 1}),
            json!(1),
            json!(0.5),
            json!(["min value is 1"]),
        ),
        (
            json!({"max": 1.5}),
            json!(1),
            json!(2),
            json!(["max value is 1.5"]),
        ),
        (
            json!({"min": "b"}),
            json!("b"),
            json!("a"),
            json!(["min value is b"]),
        ),
        (
            json!({"max": 10}),
            json!("not comparable"),
            json!(11),
            json!(["max value is 10"]),
        ),
        (
            json!({"allowed": ["x", "y"]}),
            json!("x"),
            json!("z"),
            json!(["unallowed value z"]),
        ),
        (
            json!({"allowed": [1, 2]}),
            json!([1, 2, 1]),
            json!([1, 3]),
            json!(["unallowed values [3]"]),
        ),
        (
            json!({"allowed": [1]}),
            json!(1.0),
            json!(2),
            json!(["unallowed value 2"]),
        ),
        (
            json!({"forbidden": ["x"]}),
            json!("y"),
            json!("x"),
            json!(["unallowed value x"]),
        ),
        (
            json!({"forbidden": ["x"]}),
            json!(["y"]),
            json!(["x", "y"]),
            json!(["unallowed values ['x']"]),
        ),
        (
            json!({"regex": "[a-z]+"}),
            json!("abc"),
            json!("abc1"),
            json!(["value does not match regex '[a-z]+'"]),
        ),
        (
            json!({"regex": "a|b"}),
            json!("ab"),
            json!("ca"),
            json!(["value does not match regex 'a|b'"]),
        ),
        (
            json!({"regex": "abc"}),
            json!("abc\n"),
            json!("xabc"),
            json!(["value does not match regex 'abc'"]),
        ),
        (
            json!({"regex": "\\d+"}),
            json!(12),
            json!("1a"),
            json!(["value does not match regex '\\d+'"]),
        ),
        (
            json!({"contains": "x"}),
            json!(["x", "y"]),
            json!(["y"]),
            json!(["missing members {'x'}"]),
        ),
        (
            json!({"contains": ["x", "y"]}),
            json!("xyz"),
            json!("xz"),
            json!(["missing members {'y'}"]),
        ),
        (
            json!({"readonly": true}),
            json!(null),
            json!(1),
            json!(["field is read-only"]),
        ),
        (json!({"readonly": false}), json!(1), json!(1), json!([])),
        (
            json!({"meta": {"anything": [1]}}),
            json!(1),
            json!(1),
            json!([]),
        ),
    ];
    for (rules, pass, fail, expected) in cases {
        let schema = json!({"f": rules});
        if rules.get("readonly") != Some(&json!(true)) {
            assert_tree(schema.clone(), json!({"f": pass}), json!({}));
        }
        let want = if expected == json!([]) {
            json!({})
        } else {
            json!({ "f": expected })
        };
        assert_tree(schema, json!({ "f": fail }), want);
    }
}

#[test]
fn required_dependencies_excludes() {
    assert_tree(
        json!({"a": {"required": true}}),
        json!({}),
        json!({"a": ["required field"]}),
    );
    assert_tree(
        json!({"a": {"required": true}}),
        json!({"a": null}),
        json!({"a": ["null value not allowed"]}),
    );
    assert_tree(json!({"a": {"required": false}}), json!({}), json!({}));
    let deps = json!({"a": {"dependencies": ["b", "c", "d"]}, "b": {}, "c": {}, "d": {}});
    assert_tree(
        deps.clone(),
        json!({"a": 1}),
        json!({"a": ["field 'd' is required", "field 'b' is required", "field 'c' is required"]}),
    );
    assert_tree(
        deps,
        json!({"a": 1, "b": 1, "c": null, "d": 1}),
        json!({"c": ["null value not allowed"]}),
    );
    assert_tree(
        json!({"a": {"dependencies": ["b", "c"]}, "z": {}}),
        json!({"z": 1, "a": 1}),
        json!({"a": ["field 'c' is required", "field 'b' is required"]}),
    );
    let map = json!({"a": {"dependencies": {"b": ["x", 1], "c": 2}}, "b": {}, "c": {}});
    assert_tree(map.clone(), json!({"a": 1, "b": 1, "c": 2.0}), json!({}));
    assert_tree(
        map,
        json!({"a": 1, "b": "y"}),
        json!({"a": ["depends on these values: {'b': ['x', 1], 'c': 2}"]}),
    );
    assert_tree(
        json!({"a": {"type": "dict", "schema": {"x": {"dependencies": "^b.c"}}}, "b": {}}),
        json!({"a": {"x": 1}, "b": {"c": 0}}),
        json!({}),
    );
    assert_tree(
        json!({"a": {"type": "dict", "schema": {"x": {"dependencies": "^b"}}}, "b": {}}),
        json!({"a": {"x": 1}}),
        json!({"a": [{"x": ["field '^b' is required"]}]}),
    );
    let ex = json!({"a": {"excludes": ["b", "c"]}, "b": {}, "c": {}});
    assert_tree(ex.clone(), json!({"a": 1}), json!({}));
    assert_tree(
        ex,
        json!({"a": 1, "c": 2}),
        json!({"a": ["'b', 'c' must not be present with 'a'"]}),
    );
    let both =
        json!({"a": {"excludes": "b", "required": true}, "b": {"excludes": "a", "required": true}});
    assert_tree(both.clone(), json!({"a": 1}), json!({}));
    assert_tree(
        both.clone(),
        json!({}),
        json!({"a": ["required field"], "b": ["required field"]}),
    );
    assert_tree(
        both,
        json!({"a": null}),
        json!({"a": ["null value not allowed", "required field"], "b": ["required field"]}),
    );
}

#[test]
fn nested_errors() {
    assert_tree(
        json!({"address": {"type": "dict", "schema": {"zip": {"required": true}, "c": {"type": "string"}}}}),
        json!({"address": {"c": 1, "q": 2}}),
        json!({"address": [{"c": ["must be of string type"], "q": ["unknown field"], "zip": ["required field"]}]}),
    );
    assert_tree(
        json!({"l": {"type": "list", "schema": {"type": "integer", "min": 0}}}),
        json!({"l": [1, "a", -2, 3, 4, 5, 6, 7, 8, 9, 10, "c"]}),
        json!({"l": [{"1": ["must be of integer type"], "2": ["min value is 0"], "11": ["must be of integer type"]}]}),
    );
    assert_tree(
        json!({"l": {"type": "list", "schema": {"type": "dict", "schema": {"n": {"type": "string"}}}}}),
        json!({"l": [{"n": "x"}, {"n": 1, "m": 2}]}),
        json!({"l": [{"1": [{"m": ["unknown field"], "n": ["must be of string type"]}]}]}),
    );
    assert_tree(
        json!({"a": {"items": [{"type": "integer"}, {"type": "string"}]}}),
        json!({"a": [1, 2]}),
        json!({"a": [{"1": ["must be of string type"]}]}),
    );
    assert_tree(
        json!({"a": {"items": [{"type": "integer"}, {"type": "string"}]}}),
        json!({"a": [1]}),
        json!({"a": ["length of list should be 2, it is 1"]}),
    );
    assert_tree(
        json!({"a": {"keysrules": {"type": "string", "regex": "[a-z]+"}}}),
        json!({"a": {"A": 1, "b": 2}}),
        json!({"a": [{"A": ["value does not match regex '[a-z]+'"]}]}),
    );
    assert_tree(
        json!({"a": {"valueschema": {"type": "integer"}}}),
        json!({"a": {"A": "x", "b": 2}}),
        json!({"a": [{"A": ["must be of integer type"]}]}),
    );
    assert_tree(
        json!({"a": {"type": "dict", "dependencies": "b", "schema": {"x": {"type": "string"}}}}),
        json!({"a": {"x": 1}}),
        json!({"a": ["field 'b' is required", {"x": ["must be of string type"]}]}),
    );
    // A rules set used on a dict, and a mapping schema used on a list.
    assert_tree(
        json!({"l": {"schema": {"type": "integer"}}}),
        json!({"l": {"a": 1}}),
        json!({"l": ["must be of dict type"]}),
    );
    assert_tree(
        json!({"l": {"schema": {"x": {"type": "integer"}}}}),
        json!({"l": [1]}),
        json!({"l": ["must be of dict type"]}),
    );
    assert_tree(
        json!({"l": {"schema": {"x": {"type": "integer"}}}}),
        json!({"l": []}),
        json!({}),
    );
}

#[test]
fn allow_unknown_and_require_all() {
    let schema = json!({"a": {"type": "dict", "allow_unknown": true, "schema": {"x": {"type": "dict", "schema": {}}}}});
    assert_tree(schema, json!({"a": {"q": 1, "x": {"r": 1}}}), json!({}));
    // allow_unknown of a list field does not reach its items (Cerberus' behaviour).
    assert_tree(
        json!({"a": {"type": "list", "allow_unknown": true, "schema": {"type": "dict", "schema": {}}}}),
        json!({"a": [{"q": 1}]}),
        json!({"a": [{"0": [{"q": ["unknown field"]}]}]}),
    );
    assert_tree(
        json!({"a": {"type": "dict", "require_all": true, "schema": {"x": {}, "y": {"required": false}}}}),
        json!({"a": {}}),
        json!({"a": [{"x": ["required field"]}]}),
    );
}

#[test]
fn defaults_and_readonly() {
    assert_tree(
        json!({"a": {"default": 5, "type": "string", "required": true}}),
        json!({}),
        json!({"a": ["must be of string type"]}),
    );
    assert_tree(json!({"a": {"default": 5}}), json!({"a": null}), json!({}));
    assert_tree(
        json!({"a": {"default": 5, "required": true}}),
        json!({}),
        json!({}),
    );
    assert_tree(
        json!({"a": {"readonly": true, "type": "string"}}),
        json!({"a": 1}),
        json!({"a": ["field is read-only"]}),
    );
    assert_tree(
        json!({"a": {"readonly": true, "nullable": false}}),
        json!({"a": null}),
        json!({"a": ["null value not allowed", "field is read-only"]}),
    );
    assert_tree(
        json!({"a": {"type": "list", "schema": {"type": "dict", "schema": {"x": {"readonly": true, "type": "string"}}}}}),
        json!({"a": [{"x": 1}]}),
        json!({"a": [{"0": [{"x": ["must be of string type", "field is read-only"]}]}]}),
    );
    assert_tree(
        json!({"a": {"keysrules": {"readonly": true}}}),
        json!({"a": {"x": 1}}),
        json!({"a": [{"x": ["field is read-only"]}]}),
    );
}

#[test]
fn compile_errors_point_at_tokens() {
    let errs = compile_errors(json!({
        "age": {"type": "integr", "requird": true},
        "tags": {"type": "list", "items": [{"type": "string"}, {"minlength": "2"}]},
        "code": {"regex": "(", "allowed": "x"},
        "n": {"nullable": 1, "anyof": []},
        "k": {"keyschema": {"type": "string"}, "keysrules": {}},
        "d": "string"
    }));
    let expected = vec![
        (
            "age.type",
            "unsupported type 'integr' (did you mean 'integer'?)",
        ),
        (
            "age.requird",
            "unknown rule 'requird' (did you mean 'required'?)",
        ),
        ("tags.items.1.minlength", "must be of integer type"),
        ("code.regex", ""),
        ("code.allowed", "must be of list type"),
        ("n.nullable", "must be of boolean type"),
        ("n.anyof", "rule 'anyof' is not supported by flowyt"),
        (
            "k.keyschema",
            "'keyschema' is the old name of 'keysrules', which is also given",
        ),
        ("d", "must be of dict type"),
    ];
    assert_eq!(errs.len(), expected.len(), "{errs:?}");
    for ((path, message), (want_path, want_message)) in errs.iter().zip(expected) {
        assert_eq!(path, want_path);
        if want_message.is_empty() {
            assert!(message.starts_with("invalid regex"), "{message}");
        } else {
            assert_eq!(message, want_message);
        }
    }
    assert_eq!(
        compile_errors(json!({"l": {"type": "list", "schema": {"n": {"typo": 1}}}})),
        vec![(
            "l.schema.n.typo".to_owned(),
            "unknown rule 'typo' (did you mean 'type'?)".to_owned()
        )]
    );
    assert_eq!(
        compile_errors(json!([])),
        vec![(String::new(), "must be of dict type".to_owned())]
    );
    assert_eq!(
        compile_errors(json!({"a": {"zzzzzz": 1}})),
        vec![("a.zzzzzz".to_owned(), "unknown rule 'zzzzzz'".to_owned())]
    );
}

#[test]
fn depth_limits() {
    // A schema chain of nested dicts just under the limit compiles and validates.
    let mut schema = json!({"type": "integer"});
    let mut doc = json!(1);
    for _ in 0..31 {
        schema = json!({"type": "dict", "schema": {"x": schema}});
        doc = json!({ "x": doc });
    }
    let compiled = Schema::compile(&json!({ "x": schema })).expect("compiles");
    assert!(compiled.validate(&json!({ "x": doc })).is_ok());

    let mut too_deep = json!({});
    for _ in 0..MAX_SCHEMA_DEPTH {
        too_deep = json!({ "schema": too_deep });
    }
    let errs = compile_errors(json!({ "x": too_deep }));
    assert_eq!(errs.len(), 1);
    assert!(errs[0].1.contains("nested too deeply"));

    let mut deep_doc = json!(1);
    for _ in 0..=MAX_DOCUMENT_DEPTH {
        deep_doc = json!([deep_doc]);
    }
    assert_tree(
        json!({"a": {}}),
        json!({ "a": deep_doc }),
        json!({"document": ["document is nested too deeply"]}),
    );
}

#[test]
fn deepest_schema_and_document_fit_in_a_small_stack() {
    // Lists of lists: one validator level per JSON level, the deepest recursion there is.
    // A default at the bottom forces the normalization pass too.
    let levels = MAX_SCHEMA_DEPTH - 2;
    let mut schema = json!({"type": "integer", "default": 0});
    let mut doc = json!("not an integer");
    for _ in 0..levels {
        schema = json!({"type": "list", "schema": schema});
        doc = json!([doc]);
    }
    let schema = json!({ "a": schema });
    let doc = json!({ "a": doc });
    let run = move || {
        let compiled = Schema::compile(&schema).expect("compiles");
        compiled.validate(&doc).map_err(Value::Object)
    };
    let result = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(run)
        .expect("thread")
        .join()
        .expect("no stack overflow");
    let tree = result.expect_err("the innermost value is not an integer");
    let mut node = &tree["a"];
    for _ in 0..levels {
        node = &node[0]["0"];
    }
    assert_eq!(node, &json!(["must be of integer type"]));
}

#[test]
fn large_documents_stay_fast() {
    // 20,000 unknown fields plus errors with equal paths (dependencies), and a list of
    // 20,000 items whose rules look up siblings: no quadratic behaviour.
    let schema = Schema::compile(&json!({
        "a": {"dependencies": ["p", "q", "r"]},
        "l": {"type": "list", "schema": {"excludes": "x", "required": true, "dependencies": "y",
                                         "allowed": [1]}},
    }))
    .expect("compiles");
    let mut doc = Map::new();
    doc.insert("a".into(), json!(1));
    for i in 0..20_000 {
        doc.insert(format!("f{i}"), json!(i));
    }
    doc.insert(
        "l".into(),
        Value::Array((0..20_000).map(|i| json!(i)).collect()),
    );
    let started = std::time::Instant::now();
    let tree = schema.validate(&Value::Object(doc)).expect_err("fails");
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(tree.len(), 20_002);
    assert_eq!(tree["a"].as_array().map(Vec::len), Some(3));
    let items = tree["l"][0].as_object().expect("per-item errors");
    assert_eq!(items.len(), 20_000);
    assert_eq!(
        items["5"],
        json!(["unallowed value 5", "field 'y' is required"])
    );
}

#[test]
fn ambiguous_schema_chain_compiles_quickly() {
    // Every level reads both as a mapping and as a rules set: memoization keeps it linear.
    let mut schema = json!({});
    for _ in 0..60 {
        schema = json!({ "schema": schema });
    }
    assert!(Schema::compile(&json!({ "f": schema })).is_ok());
}

#[test]
fn schema_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Schema>();
}
