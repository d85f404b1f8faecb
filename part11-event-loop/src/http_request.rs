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
use http::header::{HeaderName, HeaderValue};
use http::{Method, Request, Uri};

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
    /// The request line and headers so far, filled in as they come: a
    /// `Request` with no body yet (`()`). It starts as `GET /`, HTTP/1.1.
    head: Request<()>,
    /// The first part the `http` types refused (a method, a target or a
    /// header they cannot hold), kept for `take_request` to report.
    error: Option<http::Error>,
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
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        // `mem::take` moves the head and the body out, leaving empty ones
        // behind; `map` swaps the head's `()` for the body, which it owns.
        let head = std::mem::take(&mut self.head);
        Ok(head.map(|()| std::mem::take(&mut self.body)))
    }

    /// Keeps the first refusal: after it, the request is answered `400`
    /// whatever follows. (`into` turns each part's own error type, such as
    /// `InvalidUri`, into the `http::Error` that holds any of them.)
    fn refuse(&mut self, error: impl Into<http::Error>) {
        self.error.get_or_insert(error.into());
    }
}

impl Protocol for HttpRequest {
    fn on_method(&mut self, method: &[u8]) {
        // The `http` types check what they are given, and say with a
        // `Result` whether they took it.
        match Method::from_bytes(method) {
            Ok(method) => *self.head.method_mut() = method,
            Err(error) => self.refuse(error),
        }
    }

    fn on_url(&mut self, url: &[u8]) {
        log!("Received url: {}", PyBytes(url));
        // The version is left at the default, HTTP/1.1: the one the server
        // answers with, whichever of 1.0 and 1.1 the client spoke.
        match Uri::try_from(url) {
            Ok(uri) => *self.head.uri_mut() = uri,
            Err(error) => self.refuse(error),
        }
    }

    fn on_header(&mut self, name: &[u8], value: &[u8]) {
        log!("Received header: ({}, {})", PyBytes(name), PyBytes(value));
        if name.eq_ignore_ascii_case(b"expect") && value.eq_ignore_ascii_case(b"100-continue") {
            self.expects_continue = true;
        }
        // A `HeaderMap` keeps repeated headers (`append`, not `insert`),
        // and finds a name in any case.
        match (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
            (Ok(name), Ok(value)) => {
                // It refuses more headers than it can index; the parser's
                // limit is far below that.
                if let Err(error) = self.head.headers_mut().try_append(name, value) {
                    self.refuse(error);
                }
            }
            (Err(error), _) => self.refuse(error),
            (_, Err(error)) => self.refuse(error),
        }
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
