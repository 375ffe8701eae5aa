//! Compile-fail and compile-pass tests of flowyt's macros; see `tests/ui.rs`.
//!
//! `tests/ui/<code>.rs` holds one case per diagnostic next to the `.stderr` rustc prints for
//! it; `tests/pass/*.rs` must compile and run. `flows/` holds the JSON files the
//! `include_flow!` cases read. Regenerate the expected output with
//! `TRYBUILD=overwrite cargo test -p ui-tests` and review the diff.
