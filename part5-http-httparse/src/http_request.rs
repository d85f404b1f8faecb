//! The protocol object: the post's `http_request.py`.
//!
//! The parser calls its methods as it reads a request. Each one logs what it
//! got, as in the post; once the request is complete, `on_message_complete`
//! calls the `send_response` callback the connection handler handed in.

use common::log;
use common::log::PyBytes;
use common::parser::Protocol;

// ANCHOR: protocol
/// Logs the parts of a request and calls `send_response` at its end.
///
/// `F` is the type of the callback. Every Rust closure has a type of its own
/// that cannot be written down, so the struct is generic over it: `F` is "some
/// function we can call many times, changing what it captured" (`FnMut`), and
/// it is given the request method, so that a `HEAD` request gets only the head.
pub struct HttpRequestParserProtocol<F: FnMut(&[u8])> {
    send_response: F,
    method: Vec<u8>,
    expects_continue: bool,
    continue_due: bool,
}

impl<F: FnMut(&[u8])> HttpRequestParserProtocol<F> {
    pub fn new(send_response: F) -> Self {
        HttpRequestParserProtocol {
            send_response,
            method: Vec::new(),
            expects_continue: false,
            continue_due: false,
        }
    }

    /// True once, when the client asked for `Expect: 100-continue` and is
    /// waiting for the interim `100 Continue` before it sends the body.
    pub fn take_continue(&mut self) -> bool {
        std::mem::take(&mut self.continue_due)
    }
}

impl<F: FnMut(&[u8])> Protocol for HttpRequestParserProtocol<F> {
    fn on_method(&mut self, method: &[u8]) {
        self.method = method.to_vec();
    }

    fn on_url(&mut self, url: &[u8]) {
        log!("Received url: {}", PyBytes(url));
    }

    fn on_header(&mut self, name: &[u8], value: &[u8]) {
        log!("Received header: ({}, {})", PyBytes(name), PyBytes(value));
        if name.eq_ignore_ascii_case(b"expect") && value.eq_ignore_ascii_case(b"100-continue") {
            self.expects_continue = true;
        }
    }

    fn on_headers_complete(&mut self) {
        self.continue_due = self.expects_continue;
    }

    fn on_body(&mut self, body: &[u8]) {
        log!("Received body: {}", PyBytes(body));
    }

    fn on_message_complete(&mut self) {
        log!("Received request completely.");
        // The whole body is here: no need to invite it any more.
        self.continue_due = false;
        (self.send_response)(&self.method);
    }
}
// ANCHOR_END: protocol
