//! A learner's HTTP server that forgets the empty line after the headers.
//!
//! **The flaw:** its response head is never ended. A response is a status
//! line, header lines, then an *empty line*, then the body; without that
//! empty line the client cannot tell where the headers stop and the body
//! starts (curl shows the page as one more header, a browser may wait).
//! The original server had a milder form of it: it left the empty line out
//! whenever the body was empty.
//!
//! See `stage-check` find it (the check `well_formed_response` fails):
//!
//! ```text
//! cargo run -p stage-check -- part5 --exec "cargo run -q -p stage-check --example broken-no-empty-line --"
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

/// FLAW: the head's lines are joined with CRLF and the last one is ended,
/// but no empty line follows: the body comes straight after the last header.
fn write_response(stream: &mut TcpStream, response: &Response) -> io::Result<()> {
    let lines = [
        format!(
            "HTTP/1.1 {} {}",
            response.status,
            learner::reason(response.status)
        ),
        format!("Content-Length: {}", response.body.len()),
        "Connection: close".to_string(),
    ];
    let mut bytes = lines.join("\r\n").into_bytes();
    bytes.extend_from_slice(b"\r\n");
    if !response.head_only {
        bytes.extend_from_slice(response.body);
    }
    stream.write_all(&bytes)
}
