//! A learner's HTTP server that takes its first read for the whole request.
//!
//! **The flaw:** it reads once, like the post's `recv(1024)`, and parses
//! what came as if it were all of the head. But TCP cuts a request wherever
//! it likes: a request in pieces is read as its first piece, answered `400`
//! or `200` at random, and a head longer than one read is cut short.
//!
//! See `stage-check` find it (the check `request_in_pieces` fails):
//!
//! ```text
//! cargo run -p stage-check -- part5 --exec "cargo run -q -p stage-check --example broken-one-recv --"
//! ```

use std::io;
use std::net::TcpStream;

mod learner;

fn main() -> io::Result<()> {
    learner::serve_http(learner::Steps {
        receive,
        ..learner::RIGHT
    })
}

/// FLAW: what the first read brought is taken for the whole head: if its
/// empty line has not come yet, the server acts as if it had.
fn receive(stream: &mut TcpStream, received: &mut Vec<u8>) -> io::Result<bool> {
    let client_still_there = learner::receive(stream, received)?;
    let head_ended = received.windows(4).any(|w| w == b"\r\n\r\n");
    if client_still_there && !head_ended {
        received.extend_from_slice(b"\r\n\r\n");
    }
    Ok(client_still_there)
}
