//! Every check of `stage-check` for this stage, each a test of its own, run
//! against this stage's real binary on a port of its own, over real sockets,
//! and a few tests of the program itself. The same checks a learner runs
//! against their own server with `cargo run -p stage-check`.

fn main() {
    // This package's own binary and name: `CARGO_PKG_NAME` is the name of
    // the package being built, so the lines are the same in every stage.
    stage_check::run_as_tests(
        env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME"))),
        env!("CARGO_PKG_NAME"),
    );
}
