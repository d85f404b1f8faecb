//! A learner's HTTP server that answers before the body has arrived.
//!
//! **The flaw:** it takes the request for complete as soon as the head is
//! in, the empty line read. But a request with `Content-Length: 10` is not
//! complete until ten bytes of body have followed, and they may come in a
//! later read (a large upload always does). Answering early means answering
//! a request the server has not read, and the rest of the body is lost.
//!
//! See `stage-check` find it (the check `answer_after_body` fails):
//!
//! ```text
//! cargo run -p stage-check -- part5 --exec "cargo run -q -p stage-check --example broken-answers-before-body --"
//! ```

use std::io;

mod learner;

fn main() -> io::Result<()> {
    learner::serve_http(learner::Steps {
        complete,
        ..learner::RIGHT
    })
}

/// FLAW: complete once the head is in; `Content-Length` is not looked at.
fn complete(head_length: usize, _content_length: usize, received: usize) -> bool {
    received >= head_length
}
