//! A learner's HTTP server that answers `Content-Length` together with
//! `Transfer-Encoding` with `501 Not Implemented`.
//!
//! **Different, and correct:** when both headers frame a request, the
//! chunks win over `Content-Length` (RFC 9112, section 6.1), and a server
//! that reads no chunks answers a transfer coding it does not know with 501.
//! Our stages answer 400, refusing the pair as a whole: HTTP allows either.
//!
//! ```text
//! cargo run -p stage-check -- part6 --exec "cargo run -q -p stage-check --example correct-501-for-both-lengths --"
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

/// DIFFERENT: 501 for both framing headers at once, as for chunks alone.
fn refuse(
    steps: &learner::Steps,
    stream: &mut TcpStream,
    status: u16,
    why: &str,
) -> io::Result<()> {
    let status = if why == learner::BOTH_LENGTHS {
        501
    } else {
        status
    };
    learner::refuse(steps, stream, status, why)
}
