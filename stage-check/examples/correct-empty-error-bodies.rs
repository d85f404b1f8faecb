//! A learner's HTTP server whose error answers say nothing but their status.
//!
//! **Different, and correct:** a `400 Bad Request` with
//! `Content-Length: 0` is a complete answer. HTTP recommends a short text
//! saying what is wrong (RFC 9110, section 15.5), so `stage-check` notes
//! its absence, and fails nothing.
//!
//! ```text
//! cargo run -p stage-check -- part6 --exec "cargo run -q -p stage-check --example correct-empty-error-bodies --"
//! ```

use std::io;
use std::net::TcpStream;

mod learner;
use learner::Response;

fn main() -> io::Result<()> {
    learner::serve_http(learner::Steps {
        refuse,
        ..learner::RIGHT
    })
}

/// DIFFERENT: the status alone, with an empty body.
fn refuse(
    steps: &learner::Steps,
    stream: &mut TcpStream,
    status: u16,
    _why: &str,
) -> io::Result<()> {
    (steps.write_response)(stream, &Response::new(status, b""))
}
