//! Every check of `stage-check` for this stage, each a test of its own, run
//! against the real binary on a port of its own, over real sockets:
//! `cargo test -p part6-custom-parser`. The same checks a learner runs against their own
//! server with `cargo run -p stage-check`.

fn main() {
    stage_check::run_as_tests(
        // This package's own binary: `CARGO_PKG_NAME` is the name of the
        // package being built, so this line names no stage.
        env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME"))),
        stage_check::Stage::Http,
    );
}
