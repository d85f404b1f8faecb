//! The protocol object: the post's `http_request.py`, which now collects
//! the request.
//!
//! The parser calls its methods as it reads a request. Each one logs what it
//! got, as in the post, and puts it into the request being built: the
//! method, the target, each header, the body. Once the request is complete,
//! `on_message_complete` notes it, and the session, which asks after every
//! read, takes the request and hands it to the application.

use common::log;
use common::log::PyBytes;
use common::parser::Protocol;
use http::Request;
use http::request::Builder;

// ANCHOR: protocol
/// Collects a request, piece by piece, into the `http` crate's `Request`.
///
/// The post lets the parser call back into the session itself. Rust does
/// not let a value hold a borrow of its own owner, so the session *lends*
/// this object to the parser for each `feed_data` call instead (see
/// `main.rs`): the parser owns no protocol any more, and this object
/// belongs to the session, which reads it between calls.
#[derive(Default)]
pub struct HttpRequest {
    /// The request line and headers so far. A `Builder` keeps the first
    /// error it meets (a method or target the `http` types refuse) and
    /// reports it at the end, in `take_request`.
    head: Builder,
    /// The body so far: its pieces, put together.
    body: Vec<u8>,
    complete: bool,
    expects_continue: bool,
    continue_due: bool,
}

impl HttpRequest {
    /// Whether the whole request was read.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// True once, when the client asked for `Expect: 100-continue` and is
    /// waiting for the interim `100 Continue` before it sends the body.
    pub fn take_continue(&mut self) -> bool {
        std::mem::take(&mut self.continue_due)
    }

    /// The request, once complete, as the application will get it; or why
    /// the `http` types refuse it (answered `400`).
    pub fn take_request(&mut self) -> Result<Request<Vec<u8>>, http::Error> {
        // `mem::take` moves the builder and the body out, leaving empty
        // ones behind: `body` consumes the builder, and owns the bytes.
        let head = std::mem::take(&mut self.head);
        head.body(std::mem::take(&mut self.body))
    }

    /// Feeds the builder through `step`. A `Builder`'s methods take it by
    /// value and give it back, so we move it out and put the result back.
    fn build(&mut self, step: impl FnOnce(Builder) -> Builder) {
        self.head = step(std::mem::take(&mut self.head));
    }
}

impl Protocol for HttpRequest {
    fn on_method(&mut self, method: &[u8]) {
        self.build(|head| head.method(method));
    }

    fn on_url(&mut self, url: &[u8]) {
        log!("Received url: {}", PyBytes(url));
        // The version is left at the builder's default, HTTP/1.1: the one
        // the server answers with, whichever of 1.0 and 1.1 the client spoke.
        self.build(|head| head.uri(url));
    }

    fn on_header(&mut self, name: &[u8], value: &[u8]) {
        log!("Received header: ({}, {})", PyBytes(name), PyBytes(value));
        if name.eq_ignore_ascii_case(b"expect") && value.eq_ignore_ascii_case(b"100-continue") {
            self.expects_continue = true;
        }
        // A `HeaderMap` keeps repeated headers, and finds a name in any case.
        self.build(|head| head.header(name, value));
    }

    fn on_headers_complete(&mut self) {
        self.continue_due = self.expects_continue;
    }

    fn on_body(&mut self, body: &[u8]) {
        log!("Received body: {}", PyBytes(body));
        // Each piece is added to the body: the application gets it whole,
        // however many reads it took.
        self.body.extend_from_slice(body);
    }

    fn on_message_complete(&mut self) {
        log!("Received request completely.");
        // The whole body is here: no need to invite it any more.
        self.continue_due = false;
        self.complete = true;
    }
}
// ANCHOR_END: protocol
