//! A learner's HTTP server that ignores `Transfer-Encoding`.
//!
//! **The flaw:** it finds a body's length in `Content-Length` only. A
//! request that says `Transfer-Encoding: chunked` has no `Content-Length`,
//! yet a body follows, in chunks; this server takes it for a request with
//! no body and answers at once, before the chunks, which it never reads.
//! (The right answer, for a server that does not read chunks, is `501`.)
//!
//! See `stage-check` find it (the check `answer_after_chunked_body` fails):
//!
//! ```text
//! cargo run -p stage-check -- part5 --exec "cargo run -q -p stage-check --example broken-ignores-transfer-encoding --"
//! ```

use std::io;

mod learner;

fn main() -> io::Result<()> {
    learner::serve_http(learner::Steps {
        body_length,
        ..learner::RIGHT
    })
}

/// FLAW: `Transfer-Encoding` is not looked at (passed on as `None`): with
/// no `Content-Length`, the body is taken to be empty.
fn body_length(lengths: &[String], _encoding: Option<&str>) -> Result<usize, learner::Refusal> {
    learner::body_length(lengths, None)
}
