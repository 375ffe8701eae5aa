//! The core of flowyt: the flow model, the legacy JSON loader, the one validator and the
//! `${...}` expression language. No async, no network.
//!
//! Both ways of writing a flow go through this crate: the `flow!`/`include_flow!` macros
//! (at compile time) and the runtime's workspace loader (at start-up) turn their input into a
//! [`model::Flow`] and call [`validate`], so a flow is checked by the same rules wherever it
//! comes from.

/// Not a stable API: for flowyt-macros, which pins this crate's version.
#[cfg(feature = "bake")]
#[doc(hidden)]
pub mod bake;
#[doc(hidden)]
pub mod baked;
pub mod catalog;
pub mod cerberus;
pub mod convert;
pub mod diag;
pub mod env_allow;
pub mod expr;
pub mod graph;
pub mod json;
pub mod loc;
pub mod lower;
pub mod model;
pub mod openapi;
pub mod params;
pub mod schedule;
pub mod sql;
pub mod suggest;
pub mod validate;
pub mod workspace;

/// This crate's README snippets, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
