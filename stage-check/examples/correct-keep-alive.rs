//! A learner's keep-alive server, every step right: the one the part 9
//! `broken-*` examples each change a step of.
//!
//! **Correct:** HTTP/1.1 stays open unless `Connection: close` comes,
//! HTTP/1.0 closes unless it asks `keep-alive`, pipelined requests are
//! answered in order, every body is read to its end, and an answer says
//! `Connection: close` exactly when the server closes after it (RFC 9112,
//! section 9.3). It serves part 8's application.
//!
//! ```text
//! cargo run -p stage-check -- part9 --exec "cargo run -q -p stage-check --example correct-keep-alive --"
//! ```

use std::io;

mod learner;

fn main() -> io::Result<()> {
    learner::keep_alive::serve(learner::keep_alive::RIGHT)
}
