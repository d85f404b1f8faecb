//! What only this workspace's own tests and tools use: the harness that
//! runs every check as a test of a stage's binary (each stage's
//! `tests/stage_check.rs` calls [`harness::run_as_tests`]), a test in
//! Chromium of the stages that serve a page, and what the load benchmark and
//! the book's generator share ([`tools`]).

mod browser;
pub mod harness;
pub mod tools;
