//! One malformed flow per diagnostic: `fixtures/bad/<code>.json` renders exactly as
//! `fixtures/bad/<code>.txt` (`FLOWYT_BLESS=1 cargo test -p flowyt-core` rewrites them).

mod common;

use flowyt_core::catalog::Catalog;
use flowyt_core::diag::{Code, render_all};
use flowyt_core::validate::{Context, Strictness};
use flowyt_core::workspace::FlowFile;
use std::collections::BTreeSet;
use std::path::Path;

fn check(path: &Path) -> (String, Vec<Code>) {
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    let name = format!("bad/{}", path.file_name().expect("file").to_string_lossy());
    let mut catalog = Catalog::new();
    catalog.add_function("students.approved_list");
    let flows: BTreeSet<String> = ["mining", "main"].map(String::from).into();
    let file = FlowFile::parse(
        &name,
        &text,
        Context {
            catalog: Some(&catalog),
            flows: Some(&flows),
        },
        Strictness::Strict,
    );
    let located = file.located();
    let codes = located.iter().map(|d| d.diagnostic.code).collect();
    (render_all(&located), codes)
}

#[test]
fn every_bad_fixture_renders_as_expected() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let mut failures = Vec::new();
    let mut covered = BTreeSet::new();
    let mut count = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    entries.sort();
    for path in entries {
        count += 1;
        let (rendered, codes) = check(&path);
        let stem = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        // The file is named after the code it demonstrates (`dangling-next-far` → `dangling-next`).
        let named = Code::ALL
            .iter()
            .filter(|c| stem == c.name() || stem.starts_with(&format!("{}-", c.name())))
            .max_by_key(|c| c.name().len());
        match named {
            Some(code) if codes.contains(code) => {
                covered.insert(*code);
            }
            Some(code) => failures.push(format!(
                "{stem}: expected a `{code}` diagnostic, got {codes:?}"
            )),
            None if stem == "many-errors" => {
                if codes.iter().collect::<BTreeSet<_>>().len() < 3 {
                    failures.push(format!(
                        "many-errors: expected three kinds of error, got {codes:?}"
                    ));
                }
            }
            None => failures.push(format!("{stem}: not named after a diagnostic code")),
        }
        if let Err(e) = common::golden(&path.with_extension("txt"), &rendered) {
            failures.push(e);
        }
    }
    assert!(count >= 30, "only {count} malformed flows");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    let flow_codes: Vec<Code> = Code::ALL
        .iter()
        .copied()
        .filter(|c| {
            !matches!(
                c,
                Code::RouteUnknownFlow | Code::BadRoute | Code::BadSettings | Code::Io
            )
        })
        .collect();
    let missing: Vec<_> = flow_codes.iter().filter(|c| !covered.contains(c)).collect();
    assert!(missing.is_empty(), "no fixture for {missing:?}");
}

#[test]
fn legacy_mode_demotes_what_real_legacy_flows_contain() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    for (fixture, code) in [
        ("dangling-next.json", Code::DanglingNext),
        ("unreachable.json", Code::Unreachable),
        ("unknown-kind.json", Code::UnknownKind),
    ] {
        let text = std::fs::read_to_string(dir.join(fixture)).expect("fixture");
        let file = FlowFile::parse(fixture, &text, Context::default(), Strictness::Legacy);
        let d = file
            .diagnostics
            .iter()
            .find(|d| d.code == code)
            .expect("still reported");
        assert!(
            !d.is_error(),
            "{fixture}: {code} should be a warning in legacy mode"
        );
    }
}
