//! Proc-macros of flowyt. Not written yet: `flow!`, `include_flow!` and `#[flow_action]`
//! arrive with the macros issue; this crate exists so the workspace layout is in place.
