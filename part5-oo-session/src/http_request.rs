//! The protocol object: the post's `http_request.py`.
//!
//! The parser calls its methods as it reads a request. Each one logs what it
//! got, as in the post; once the request is complete, `on_message_complete`
//! notes it, and the session, which asks after every read, sends the response.

use common::log;
use common::log::PyBytes;
use common::parser::Protocol;

// ANCHOR: protocol
/// Logs the parts of a request and notes when it is complete.
///
/// The post hands the protocol the session's own method,
/// `HttpRequestParserProtocol(self.send_response)`, so the protocol calls back
/// into the session that owns it. Rust refuses that: the session owns the
/// parser, which owns the protocol, and a value cannot hold a borrow of its
/// own owner. So no callback here: the protocol keeps a `complete` flag that
/// the session reads.
#[derive(Default)]
pub struct HttpRequestParserProtocol {
    complete: bool,
    method: Vec<u8>,
    expects_continue: bool,
    continue_due: bool,
}

impl HttpRequestParserProtocol {
    /// Whether the whole request was read.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// The request method, so that a `HEAD` request gets only the head.
    pub fn method(&self) -> &[u8] {
        &self.method
    }

    /// True once, when the client asked for `Expect: 100-continue` and is
    /// waiting for the interim `100 Continue` before it sends the body.
    pub fn take_continue(&mut self) -> bool {
        std::mem::take(&mut self.continue_due)
    }
}

impl Protocol for HttpRequestParserProtocol {
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
        self.complete = true;
    }
}
// ANCHOR_END: protocol
