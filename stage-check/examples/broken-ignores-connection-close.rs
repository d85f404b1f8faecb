//! A learner's keep-alive server that does not hear `Connection: close`.
//!
//! **The flaw:** an HTTP/1.1 request that says `Connection: close` tells
//! the server that this is the connection's last request: the server must
//! say `Connection: close` in its answer and close after it (RFC 9112,
//! section 9.6). This server answers as if nothing was said, and keeps the
//! connection open until the client leaves or the keep-alive timeout
//! passes. A client that reads its answer to the close (an HTTP/1.0-style
//! client, a script that reads "until EOF") waits that long for nothing.
//!
//! HTTP/1.0 is still served right: it closes unless asked `keep-alive`.
//! See `stage-check` find it (the check that says `close` in any case
//! fails):
//!
//! ```text
//! cargo run -p stage-check -- part9 --exec "cargo run -q -p stage-check --example broken-ignores-connection-close --"
//! ```

use std::io;

mod learner;
use learner::Head;
use learner::keep_alive::{self, Connection};

fn main() -> io::Result<()> {
    keep_alive::serve(keep_alive::Steps {
        persistence,
        ..keep_alive::RIGHT
    })
}

/// FLAW: HTTP/1.1 stays open, whatever its `Connection` header says.
fn persistence(head: &Head) -> Connection {
    if head.version == "HTTP/1.0" {
        keep_alive::persistence(head)
    } else {
        Connection::Open
    }
}
