//! The request parser of this stage: httparse, behind the post's interface.
//!
//! The post uses httptools, a parser you feed bytes to as they arrive and
//! that calls back a "protocol" object (`on_url`, `on_header`, `on_body`,
//! `on_message_complete`). httparse, the parser under much of Rust's HTTP
//! stack, works differently: you hand it a buffer and it answers either
//! `Partial` ("not the whole head yet, read more") or `Complete(n)` ("the head
//! is the first `n` bytes"), and it reads only the head, never the body.
//!
//! [`HttpRequestParser`] adds what httptools does on top: it keeps the bytes
//! of an incomplete head until the rest arrives, turns what httparse found into
//! callbacks, and counts the body out of the following bytes by its
//! `Content-Length`. Part 6 replaces this file with a parser of our own with
//! the same interface, and the server does not notice.

use common::parser::{Framing, MAX_HEAD_BYTES, MAX_HEADERS, ParseError, Protocol};

// ANCHOR: state
/// Where the parser is in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Collecting the head (request line and headers).
    Head,
    /// Passing on the body; this many bytes are still to come.
    Body { remaining: usize },
    /// The request is complete, or was refused. Later bytes are not ours.
    Done,
}
// ANCHOR_END: state

/// Feeds a request, in pieces of any size, to a [`Protocol`]'s callbacks.
pub struct HttpRequestParser<P: Protocol> {
    protocol: P,
    /// The head received so far. Only the head is kept: body bytes go
    /// straight to `on_body`.
    head: Vec<u8>,
    state: State,
}

impl<P: Protocol> HttpRequestParser<P> {
    /// A parser that will report to `protocol` (it owns it from now on).
    pub fn new(protocol: P) -> Self {
        HttpRequestParser {
            protocol,
            head: Vec::new(),
            state: State::Head,
        }
    }

    /// The protocol object, to look at what it collected.
    pub fn protocol(&self) -> &P {
        &self.protocol
    }

    /// The protocol object, to change it.
    pub fn protocol_mut(&mut self) -> &mut P {
        &mut self.protocol
    }

    // ANCHOR: feed_data
    /// Parses as far as the bytes received so far allow, calling back the
    /// protocol on the way. Where httptools raises an exception, this returns
    /// an `Err`; after one, the parser must not be fed again.
    pub fn feed_data(&mut self, data: &[u8]) -> Result<(), ParseError> {
        match self.state {
            State::Head => {
                self.head.extend_from_slice(data);
                let result = self.parse_head();
                if result.is_err() {
                    self.state = State::Done;
                }
                result
            }
            State::Body { .. } => {
                self.feed_body(data);
                Ok(())
            }
            State::Done => Ok(()),
        }
    }
    // ANCHOR_END: feed_data

    // ANCHOR: parse_head
    /// Asks httparse whether the head is complete; if it is, reports it and
    /// passes on the body bytes that came with it.
    ///
    /// httparse starts from the first byte each time, so a head that arrives
    /// in many small pieces is read again and again: work that grows with the
    /// square of its length. [`MAX_HEAD_BYTES`] bounds it here; part 6's own
    /// parser reads each byte once.
    fn parse_head(&mut self) -> Result<(), ParseError> {
        // STARTER part5-http-httparse, left to the learner: "Let
        // `httparse::Request::parse` read `self.head` into an array of
        // `MAX_HEADERS` headers: `Status::Partial` means wait for more bytes
        // (refuse with `HeadTooLarge` past `MAX_HEAD_BYTES`), an error becomes
        // `from_httparse(error)`. Once complete, give a `Framing` the version
        // and every header to learn the body's length; call back the protocol
        // (`on_method`, `on_url`, `on_header` for each,
        // `on_headers_complete`); then go to `State::Body` and pass the bytes
        // after the head to `feed_body`."
        // httparse writes the headers it finds into an array we lend it, so
        // parsing allocates nothing; the array's size caps the header count.
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        let head_length = match request.parse(&self.head) {
            Ok(httparse::Status::Complete(length)) => length,
            Ok(httparse::Status::Partial) if self.head.len() > MAX_HEAD_BYTES => {
                return Err(ParseError::HeadTooLarge);
            }
            // Not the whole head yet: wait for more bytes.
            Ok(httparse::Status::Partial) => return Ok(()),
            Err(error) => return Err(from_httparse(error)),
        };
        if head_length > MAX_HEAD_BYTES {
            return Err(ParseError::HeadTooLarge);
        }
        let mut framing = Framing::default();
        // httparse gives the version as its minor number: 1 for HTTP/1.1.
        framing.version(request.version.unwrap_or(1));
        for header in request.headers.iter() {
            framing.header(header.name.as_bytes(), header.value);
        }
        let body_length = framing.body_length()?;

        // A complete head always has a method and a path.
        let method = request.method.unwrap_or_default();
        let url = request.path.unwrap_or_default();
        self.protocol.on_method(method.as_bytes());
        self.protocol.on_url(url.as_bytes());
        for header in request.headers.iter() {
            self.protocol
                .on_header(header.name.as_bytes(), header.value);
        }
        self.protocol.on_headers_complete();

        // The bytes after the head are the start of the body. `split_off`
        // moves them out, leaving only the head, which we no longer need.
        let after_head = self.head.split_off(head_length);
        self.head = Vec::new();
        self.state = State::Body {
            remaining: body_length,
        };
        self.feed_body(&after_head);
        Ok(())
        // STARTER end
    }
    // ANCHOR_END: parse_head

    // ANCHOR: feed_body
    /// Passes body bytes on, up to the announced length, and reports the end.
    fn feed_body(&mut self, data: &[u8]) {
        // STARTER part5-http-httparse, left to the learner: "In `State::Body {
        // remaining }`, pass on at most `remaining` bytes with `on_body`
        // (never an empty piece); when none remain, go to `State::Done` and
        // call `on_message_complete`."
        let State::Body { remaining } = self.state else {
            return;
        };
        let piece = &data[..data.len().min(remaining)];
        if !piece.is_empty() {
            self.protocol.on_body(piece);
        }
        let remaining = remaining - piece.len();
        if remaining == 0 {
            self.state = State::Done;
            self.protocol.on_message_complete();
        } else {
            self.state = State::Body { remaining };
        }
        // STARTER end
    }
    // ANCHOR_END: feed_body
}

/// Names what httparse found wrong, in words for the `400` answer.
fn from_httparse(error: httparse::Error) -> ParseError {
    match error {
        httparse::Error::TooManyHeaders => ParseError::HeadTooLarge,
        httparse::Error::Token => ParseError::BadRequest("malformed request line"),
        httparse::Error::Version => ParseError::BadRequest("malformed or unsupported HTTP version"),
        httparse::Error::HeaderName => ParseError::BadRequest("malformed header name"),
        httparse::Error::HeaderValue => ParseError::BadRequest("malformed header value"),
        httparse::Error::NewLine => ParseError::BadRequest("malformed line ending"),
        _ => ParseError::BadRequest("malformed request"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::parser::{MAX_BODY_BYTES, Recorder};

    const CURL: &[u8] =
        b"GET / HTTP/1.1\r\nHost: localhost:5000\r\nUser-Agent: curl/7.69.1\r\nAccept: */*\r\n\r\n";

    fn parse_in_pieces(request: &[u8], piece: usize) -> Result<Recorder, ParseError> {
        let mut parser = HttpRequestParser::new(Recorder::default());
        for chunk in request.chunks(piece) {
            parser.feed_data(chunk)?;
        }
        Ok(parser.protocol().clone())
    }

    #[test]
    fn the_posts_curl_request() {
        let seen = parse_in_pieces(CURL, CURL.len()).unwrap();
        assert_eq!(seen.method, b"GET");
        assert_eq!(seen.url, b"/");
        let headers: Vec<(&[u8], &[u8])> = seen
            .headers
            .iter()
            .map(|(name, value)| (name.as_slice(), value.as_slice()))
            .collect();
        assert_eq!(
            headers,
            [
                (&b"Host"[..], &b"localhost:5000"[..]),
                (b"User-Agent", b"curl/7.69.1"),
                (b"Accept", b"*/*"),
            ]
        );
        assert_eq!((seen.body_calls, seen.messages_complete), (0, 1));
    }

    #[test]
    fn any_split_gives_the_same_result() {
        let whole = parse_in_pieces(CURL, CURL.len()).unwrap();
        for piece in 1..CURL.len() {
            assert_eq!(
                parse_in_pieces(CURL, piece).unwrap(),
                whole,
                "pieces of {piece}"
            );
        }
    }

    #[test]
    fn the_body_is_counted_by_content_length() {
        let request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\nabc=defEXTRA";
        for piece in [1, 3, request.len()] {
            let seen = parse_in_pieces(request, piece).unwrap();
            assert_eq!(seen.body, b"abc=def", "pieces of {piece}");
            assert_eq!(seen.messages_complete, 1);
        }
    }

    #[test]
    fn incomplete_body_is_not_complete() {
        let seen = parse_in_pieces(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\nabc",
            100,
        );
        assert_eq!(seen.unwrap().messages_complete, 0);
    }

    #[test]
    fn http_1_1_requires_one_host() {
        let status = |request: &[u8]| parse_in_pieces(request, 5).map_err(|e| e.status_code());
        assert_eq!(status(b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"), Err(400));
        assert_eq!(
            status(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            Err(400)
        );
        // HTTP/1.0 may leave it out.
        let seen = status(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        assert_eq!(seen.messages_complete, 1);
    }

    #[test]
    fn refusals_carry_their_status_code() {
        let status = |request: &[u8]| parse_in_pieces(request, 5).unwrap_err().status_code();
        assert_eq!(status(b"GET / HTTP/1.1\r\nBad Header\r\n\r\n"), 400);
        assert_eq!(status(b"GET / FTP/1.1\r\n\r\n"), 400);
        assert_eq!(
            status(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n"),
            400
        );
        assert_eq!(
            status(b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"),
            501
        );
        let too_long = format!(
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY_BYTES + 1
        );
        assert_eq!(status(too_long.as_bytes()), 413);
        let big_head = format!(
            "GET / HTTP/1.1\r\nX: {}\r\n\r\n",
            "a".repeat(MAX_HEAD_BYTES)
        );
        assert_eq!(status(big_head.as_bytes()), 431);
        let endless_head = "GET / HTTP/1.1\r\nX: ".to_string() + &"a".repeat(MAX_HEAD_BYTES);
        assert_eq!(status(endless_head.as_bytes()), 431);
        let many = "GET / HTTP/1.1\r\n".to_string() + &"X: y\r\n".repeat(MAX_HEADERS + 1) + "\r\n";
        assert_eq!(status(many.as_bytes()), 431);
    }
}
