//! What only this workspace's own tests use: the harness that runs every
//! check as a test of a stage's binary (each stage's `tests/stage_check.rs`
//! calls [`harness::run_as_tests`]), and a test in Chromium of the stages
//! that serve a page.

mod browser;
pub mod harness;
