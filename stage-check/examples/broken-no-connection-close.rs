//! A learner's HTTP server that closes without saying so.
//!
//! **The flaw:** its responses have no `Connection: close`, though it closes
//! the connection after each one. HTTP/1.1 keeps a connection open unless
//! one side says otherwise, so a server that closes must say
//! `Connection: close` in every response (RFC 9112, section 9.6); a client
//! that was about to send its next request on the same connection would find
//! it gone. The original series forgets it too.
//!
//! Everything else is right, so one check fails (and the one that judges an
//! error answer's form, since those lack it too); the others read the answer
//! leniently and pass. See `stage-check` find it:
//!
//! ```text
//! cargo run -p stage-check -- part5 --exec "cargo run -q -p stage-check --example broken-no-connection-close --"
//! ```

use std::io::{self, Write};
use std::net::TcpStream;

mod learner;
use learner::Response;

fn main() -> io::Result<()> {
    learner::serve_http(learner::Steps {
        write_response,
        ..learner::RIGHT
    })
}

/// FLAW: no `Connection: close` among the headers.
fn write_response(stream: &mut TcpStream, response: &Response) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Length: {}\r\n\r\n",
        response.status,
        learner::reason(response.status),
        response.body.len()
    );
    stream.write_all(head.as_bytes())?;
    if !response.head_only {
        stream.write_all(response.body)?;
    }
    Ok(())
}
