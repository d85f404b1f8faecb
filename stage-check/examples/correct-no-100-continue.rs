//! A learner's HTTP server that never sends `100 Continue`.
//!
//! **Different, and correct:** a client that sends `Expect: 100-continue`
//! waits for leave to send its body. A server must then either send
//! `100 Continue`, or its final answer at once, if the head is enough to
//! decide it (RFC 9110, section 10.1.1). This server always does the second:
//! every request gets the same page, body or not, so it answers at once and
//! reads no body. Our stages send `100 Continue` and read the body first.
//!
//! ```text
//! cargo run -p stage-check -- part6 --exec "cargo run -q -p stage-check --example correct-no-100-continue --"
//! ```

use std::io;
use std::net::TcpStream;

mod learner;
use learner::Then;

fn main() -> io::Result<()> {
    learner::serve_http(learner::Steps {
        expect_continue,
        ..learner::RIGHT
    })
}

/// DIFFERENT: the final answer at once, instead of `100 Continue`.
fn expect_continue(steps: &learner::Steps, stream: &mut TcpStream) -> io::Result<Then> {
    (steps.write_response)(stream, &learner::page(false))?;
    println!("Response sent.");
    Ok(Then::Stop)
}
