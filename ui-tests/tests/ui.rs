//! trybuild: every case of `tests/ui` must fail to compile with exactly its `.stderr`, and
//! every case of `tests/pass` must compile and run.

use std::path::{Path, PathBuf};

#[test]
fn ui() {
    link_flows();
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/pass/*.rs");
}

/// trybuild builds the cases in `<target>/tests/trybuild/ui-tests/`, which is their
/// `CARGO_MANIFEST_DIR`, so `include_flow!("flows/x.json")` reads from there: copy `flows/`
/// (and `workspaces/`) over (askama's ui tests do the same with their templates).
fn link_flows() {
    let exe = std::env::current_exe().expect("test binary path");
    // <target>/debug/deps/ui-<hash>
    let target = exe
        .ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .expect("target dir");
    let dest: PathBuf = target.join("tests/trybuild/ui-tests/flows");
    std::fs::create_dir_all(&dest).expect("create flows dir");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("flows");
    for entry in std::fs::read_dir(&src).expect("read flows/") {
        let entry = entry.expect("flows entry");
        std::fs::copy(entry.path(), dest.join(entry.file_name())).expect("copy flow");
    }
    // The workspaces `include_workspace!` cases read, folders and all.
    let workspaces = Path::new(env!("CARGO_MANIFEST_DIR")).join("workspaces");
    let dest = target.join("tests/trybuild/ui-tests/workspaces");
    let _ = std::fs::remove_dir_all(&dest);
    copy_tree(&workspaces, &dest);
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let path = entry.path();
        if path.is_dir() {
            copy_tree(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).expect("copy file");
        }
    }
}
