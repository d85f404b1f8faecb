//! A learner's HTTP server that refuses an HTTP/1.1 request without `Host`.
//!
//! **Correct, as HTTP requires:** an HTTP/1.1 request must carry exactly one
//! `Host` header, and a server must answer `400 Bad Request` to one with
//! none, or with two (RFC 9112, section 3.2). HTTP/1.0 came before `Host`,
//! so an HTTP/1.0 request may leave it out. This is the learner's server as
//! every other example starts from it, each step done right: every check a
//! stage runs passes, and every request a check sends carries its `Host`,
//! but for the one check that leaves it out on purpose.
//!
//! ```text
//! cargo run -p stage-check -- part6 --exec "cargo run -q -p stage-check --example correct-host-required --"
//! ```

use std::io;

mod learner;

fn main() -> io::Result<()> {
    // The Host rule is in `learner::parse_head`, with the other rules of a
    // request's head.
    learner::serve_http(learner::RIGHT)
}
