//! A learner's keep-alive server that leaves unread the bodies it does not
//! need.
//!
//! **The flaw:** only `POST /create` uses its body, so this server reads
//! the body of that route alone; for any other, it takes the request to end
//! with its head. But `Content-Length` says where a request ends, whatever
//! the route does with it (RFC 9112, section 6.3): on a persistent
//! connection the body's bytes are then parsed as the next request. That
//! is request smuggling: a body such as `GET /admin HTTP/1.1…` becomes a
//! request of its own, which a proxy in front never saw. The body must be
//! read to its end, and dropped, before the next request is parsed.
//!
//! With one request per connection this did no harm, as the server closed.
//! See `stage-check` find it (the check that sends a 10 KiB body to a
//! route that ignores it, then a request, fails):
//!
//! ```text
//! cargo run -p stage-check -- part9 --exec "cargo run -q -p stage-check --example broken-body-as-next-request --"
//! ```

use std::io;

mod learner;
use learner::Head;
use learner::keep_alive;

fn main() -> io::Result<()> {
    keep_alive::serve(keep_alive::Steps {
        request_length,
        ..keep_alive::RIGHT
    })
}

/// FLAW: a body counts only where the route reads it.
fn request_length(head: &Head, head_length: usize) -> usize {
    let route_reads_body = head.method == "POST" && head.url == "/create";
    if route_reads_body {
        keep_alive::request_length(head, head_length)
    } else {
        head_length
    }
}
