//! A learner's HTTP server, correct, whose command line takes `--port`
//! and nothing else.
//!
//! **The flaw:** it refuses `--read-timeout`, as the post's Python server
//! would (argparse: "unrecognized arguments"), and exits. Its read timeout
//! is fixed, 30 s. Asked to start with `--read-timeout`, stage-check
//! starts it again without, and grades it: only the check that needs the
//! read timeout, `quiet_client_timed_out`, fails, saying why.
//!
//! ```text
//! cargo run -p stage-check -- part5 --read-timeout 2 --exec "cargo run -q -p stage-check --example broken-no-read-timeout-flag --"
//! ```

use std::io;
use std::net::TcpListener;
use std::time::Duration;

use clap::Parser;

mod learner;

/// FLAW: only `--port`: clap refuses `--read-timeout` and exits.
#[derive(Parser)]
struct Options {
    /// The port to listen on, on 127.0.0.1.
    #[arg(long, default_value_t = 5000)]
    port: u16,
}

fn main() -> io::Result<()> {
    let options = Options::parse();
    let listener = TcpListener::bind(("127.0.0.1", options.port))?;
    learner::serve_http_on(listener, Duration::from_secs(30), learner::RIGHT)
}
