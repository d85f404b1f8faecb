//! A learner's HTTP server that never answers a request it cannot read.
//!
//! **The flaw:** a malformed request (a request line without three parts, a
//! header line without a colon, a `Content-Length` that is not a number…)
//! ends the connection without a word. The client gets no answer at all, so
//! it cannot tell a bad request from a crashed server; HTTP's answer is
//! `400 Bad Request`, with a short text saying what is wrong. The original
//! did worse: the exception killed the thread and left the socket open.
//!
//! See `stage-check` find it (the check `bad_request_line` fails, and the
//! other bad-input checks with it):
//!
//! ```text
//! cargo run -p stage-check -- part5 --exec "cargo run -q -p stage-check --example broken-silent-on-bad-input --"
//! ```

use std::io;
use std::net::TcpStream;

mod learner;

fn main() -> io::Result<()> {
    learner::serve_http(learner::Steps {
        refuse,
        ..learner::RIGHT
    })
}

/// FLAW: the reason the request is bad goes up as an error, like an
/// exception, and the session ends there: the socket is closed with nothing
/// sent.
fn refuse(_: &learner::Steps, _: &mut TcpStream, _status: u16, why: &str) -> io::Result<()> {
    Err(io::Error::other(why.to_string()))
}
