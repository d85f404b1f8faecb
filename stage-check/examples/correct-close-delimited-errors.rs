//! A learner's HTTP server whose error answers have no `Content-Length`.
//!
//! **Different, and correct:** a response with no `Content-Length` (and no
//! chunks) has a body that ends where the connection does (RFC 9112, section
//! 6.3, its last rule). This server writes its 4xx answers that way, as
//! Node's and uvicorn's do: it closes anyway. HTTP recommends
//! `Content-Length` whenever the length is known, so `stage-check` notes its
//! absence, and fails nothing.
//!
//! ```text
//! cargo run -p stage-check -- part6 --exec "cargo run -q -p stage-check --example correct-close-delimited-errors --"
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

/// DIFFERENT: an error answer's body is delimited by the close.
fn write_response(stream: &mut TcpStream, response: &Response) -> io::Result<()> {
    if response.status < 400 {
        return learner::write_response(stream, response);
    }
    let head = format!(
        "HTTP/1.1 {} {}\r\nConnection: close\r\n\r\n",
        response.status,
        learner::reason(response.status),
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(response.body)
}
