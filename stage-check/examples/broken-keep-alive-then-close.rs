//! A learner's keep-alive server that closes after every answer anyway.
//!
//! **The flaw:** its answers to HTTP/1.1 say nothing of closing, which
//! promises that the connection stays open (RFC 9112, section 9.3), and
//! then it closes. A client that takes the promise sends its next request
//! on the same connection and finds it gone: it must notice, reconnect and
//! retry, which is only safe for some requests. A server that closes must
//! say `Connection: close` in the answer before (section 9.6).
//!
//! Everything else is right: one request per connection is served well.
//! See `stage-check` find it (the check that sends two requests on one
//! connection fails):
//!
//! ```text
//! cargo run -p stage-check -- part9 --exec "cargo run -q -p stage-check --example broken-keep-alive-then-close --"
//! ```

use std::io;

mod learner;
use learner::keep_alive::{self, Connection};

fn main() -> io::Result<()> {
    keep_alive::serve(keep_alive::Steps {
        after_answer,
        ..keep_alive::RIGHT
    })
}

/// FLAW: whatever the answer said, close.
fn after_answer(_said: Connection) -> Connection {
    Connection::Close
}
