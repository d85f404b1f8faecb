//! The request parser: part 8's, which now tells where a request ends and
//! whether the connection may carry another.
//!
//! As in part 8, the parser is lent a protocol object for each call,
//! `feed_data(data, &mut protocol)`, and calls back the methods of
//! [`Protocol`](common::parser::Protocol) on it. What part 9 adds:
//!
//! - `feed_data` returns how many of the bytes it was given belong to this
//!   request. On a connection that stays open the rest are the start of the
//!   next request, which the session feeds to a new parser: no byte is lost
//!   or read twice between two requests (RFC 9112, section 9.3.2).
//! - [`HttpRequestParser::should_keep_alive`], named after httptools' method
//!   that uvicorn asks: whether the client lets the connection stay open
//!   after this request (RFC 9112, section 9.3).
//!
//! The application interface, which the server and the applications share,
//! is in [`application`], and the web framework built on it in [`framework`].
//!
//! # How it works
//!
//! Bytes arrive in pieces cut anywhere, so the parser keeps the unfinished
//! ones in a [`SplitBuffer`] and, on every `feed_data`, does this:
//!
//! 1. Is a whole line buffered? If not, return and wait for more bytes. An
//!    unfinished line is "read more", never an error.
//! 2. Parse that line, according to where we are in the request: the request
//!    line (`GET /index.html HTTP/1.1`), then one header per line
//!    (`Host: localhost:5000`), then the empty line that ends the head.
//! 3. Drop the line from the buffer and go back to 1, until the head is over.
//!
//! What is left after the head is the body, counted out by `Content-Length`.
//! Body bytes go straight from the bytes fed to `on_body`; only those that
//! arrived together with the end of the head pass through the buffer. What
//! is left after the body is not this request's: `feed_data` leaves it
//! unused.
//!
//! The post keeps three pieces of state: start line done, headers done, body
//! bytes still expected. Here they are one enum, [`State`], so that no
//! impossible mix of them ("body expected, headers not done") can exist.
//!
//! What the post's parser gets wrong, and where each fix is proved, is told
//! once, in the book: the part 6 chapter's "What the original gets wrong"
//! (`docs/src/part6-custom-parser.md`).
//!
//! # Errors
//!
//! A request we refuse makes `feed_data` return a
//! [`ParseError`](common::parser::ParseError), which names the status code to
//! answer with. After that the parser is done: later bytes are ignored, and
//! the connection is closed, since nothing tells where the next request would
//! begin.

use common::parser::{Framing, MAX_HEAD_BYTES, MAX_HEADERS, ParseError, Protocol};

pub mod application;
pub mod framework;
pub mod split_buffer;
pub use split_buffer::SplitBuffer;

// ANCHOR: state
/// Where the parser is in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    /// Waiting for the request line (empty lines before it are skipped).
    #[default]
    RequestLine,
    /// Reading header lines, until the empty line.
    Headers,
    /// Passing on the body; this many bytes are still to come.
    Body { remaining: usize },
    /// The request is complete, or was refused. Later bytes are not ours:
    /// they begin the next request, for the next parser.
    Done,
}
// ANCHOR_END: state

/// Feeds a request, in pieces of any size, to a [`Protocol`]'s callbacks.
///
/// `HttpRequestParser::default()` makes one at the start of each request:
/// each field at its default (`derive(Default)` writes that),
/// `State::RequestLine` for the state.
#[derive(Default)]
pub struct HttpRequestParser {
    /// The bytes of the head that are not parsed yet: an unfinished line.
    buffer: SplitBuffer,
    state: State,
    /// Looks at `Content-Length`, `Transfer-Encoding` and `Host` as headers
    /// go by, and says how long the body is once the head is over.
    framing: Framing,
    /// How many headers were read so far.
    headers: usize,
    /// How many bytes of the head were parsed so far, to enforce
    /// [`MAX_HEAD_BYTES`].
    head_bytes: usize,
    /// The request's version is HTTP/1.0, whose connections close unless
    /// the client asks otherwise.
    http_1_0: bool,
    /// The `Connection` header holds the option `close`, or `keep-alive`.
    close: bool,
    keep_alive: bool,
}

impl HttpRequestParser {
    // ANCHOR: feed_data
    /// Parses as far as the bytes received so far allow, calling back
    /// `protocol`, lent for this call, on the way, and returns how many of
    /// the bytes belong to this request: all of them until it is complete,
    /// then those up to its end. Where the post raises an exception, this
    /// returns an `Err`; after one, the parser ignores whatever it is fed.
    pub fn feed_data(
        &mut self,
        data: &[u8],
        protocol: &mut impl Protocol,
    ) -> Result<usize, ParseError> {
        let result = match self.state {
            State::RequestLine | State::Headers => self.parse_head(data, protocol),
            State::Body { .. } => Ok(self.feed_body(data, protocol)),
            State::Done => Ok(0),
        };
        if result.is_err() {
            self.state = State::Done;
        }
        result
    }
    // ANCHOR_END: feed_data

    // ANCHOR: should_keep_alive
    /// Whether the connection may carry another request after this one, as
    /// far as the client is concerned (RFC 9112, section 9.3): HTTP/1.1
    /// keeps it unless the client said `Connection: close`; HTTP/1.0 closes
    /// it unless the client said `Connection: keep-alive`.
    pub fn should_keep_alive(&self) -> bool {
        !self.close && (!self.http_1_0 || self.keep_alive)
    }

    /// Whether the request is HTTP/1.0: a connection kept for it must say
    /// `Connection: keep-alive`, which a 1.0 client does not assume.
    pub fn is_http_1_0(&self) -> bool {
        self.http_1_0
    }
    // ANCHOR_END: should_keep_alive

    // ANCHOR: parse_head
    /// Buffers `data`, then parses every whole line in the buffer until the
    /// head is over; what follows the head is passed on as body. Returns how
    /// many bytes of `data` this request used.
    fn parse_head(
        &mut self,
        data: &[u8],
        protocol: &mut impl Protocol,
    ) -> Result<usize, ParseError> {
        // `pop` lends us a line that lives inside the buffer. While we hold
        // it, Rust lets nothing else use `self.buffer`, and would not let us
        // call `&mut self` methods at all (they could touch the buffer). So
        // we take the buffer out of `self` for the time being, leaving an
        // empty one in its place (`mem::take`, no copy): then the line
        // borrows a local variable, and `self` is free.
        let mut buffer = std::mem::take(&mut self.buffer);
        buffer.feed_data(data);
        // A loop, where the post's parser calls itself once per line.
        while let Some(line) = buffer.pop(b'\n') {
            // The head is bounded, line by line, so that we refuse an
            // oversized head as soon as we see it, not once it is complete.
            self.head_bytes += line.len() + 1;
            if self.head_bytes > MAX_HEAD_BYTES {
                return Err(ParseError::HeadTooLarge);
            }
            // Lines end in CRLF. We cut at the LF and take the CR off, so
            // that a bare LF ends a line too, as in httparse (RFC 9112,
            // section 2.2, allows it). A CR anywhere else in the line is a
            // control character, and refused below.
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            self.parse_line(line, protocol)?;
            if !matches!(self.state, State::RequestLine | State::Headers) {
                // The head is over: the rest of the buffer is body (or,
                // past `Content-Length`, the next request's). The buffer is
                // dropped. Its bytes all came with this `data`: had an
                // earlier piece ended the head, we would not be here.
                let rest = buffer.flush();
                let unused = rest.len() - self.feed_body(rest, protocol);
                return Ok(data.len() - unused);
            }
        }
        // No whole line left: an unfinished one is waiting for more bytes.
        // It counts towards the limit too, or a head without line ends
        // could grow forever.
        if self.head_bytes + buffer.len() > MAX_HEAD_BYTES {
            return Err(ParseError::HeadTooLarge);
        }
        self.buffer = buffer;
        Ok(data.len())
    }
    // ANCHOR_END: parse_head

    // ANCHOR: parse_line
    /// Parses one line of the head (its line end taken off) and calls back
    /// the protocol.
    fn parse_line(&mut self, line: &[u8], protocol: &mut impl Protocol) -> Result<(), ParseError> {
        match self.state {
            // Empty lines before the request line are skipped, as RFC 9112
            // (section 2.2) recommends and httparse does.
            State::RequestLine if line.is_empty() => {}
            State::RequestLine => {
                let (method, target, minor_version) = parse_request_line(line)?;
                self.framing.version(minor_version);
                self.http_1_0 = minor_version == 0;
                protocol.on_method(method);
                protocol.on_url(target);
                self.state = State::Headers;
            }
            // The empty line: the head is over.
            State::Headers if line.is_empty() => {
                // Asked only now, after every header, so that the same
                // request gets the same answer as from part 5's parser.
                let body_length = self.framing.body_length()?;
                protocol.on_headers_complete();
                self.state = State::Body {
                    remaining: body_length,
                };
            }
            State::Headers => {
                let (name, value) = parse_header(line)?;
                self.headers += 1;
                if self.headers > MAX_HEADERS {
                    return Err(ParseError::HeadTooLarge);
                }
                self.framing.header(name, value);
                if name.eq_ignore_ascii_case(b"connection") {
                    // A list of options, in any case: `keep-alive, Close`.
                    for option in value.split(|&b| b == b',') {
                        let option = trim_whitespace(option);
                        self.close |= option.eq_ignore_ascii_case(b"close");
                        self.keep_alive |= option.eq_ignore_ascii_case(b"keep-alive");
                    }
                }
                protocol.on_header(name, value);
            }
            // Not reached: `parse_head` stops at the end of the head.
            State::Body { .. } | State::Done => {}
        }
        Ok(())
    }
    // ANCHOR_END: parse_line

    // ANCHOR: feed_body
    /// Passes body bytes on, up to the announced length, and reports the
    /// end. Returns how many of `data` it passed on.
    fn feed_body(&mut self, data: &[u8], protocol: &mut impl Protocol) -> usize {
        let State::Body { remaining } = self.state else {
            return 0;
        };
        // Bytes past the announced length are not part of this body: they
        // begin the next request. (The post's parser recurses on them until
        // Python gives up.)
        let piece = &data[..data.len().min(remaining)];
        if !piece.is_empty() {
            protocol.on_body(piece);
        }
        let remaining = remaining - piece.len();
        if remaining == 0 {
            self.state = State::Done;
            protocol.on_message_complete();
        } else {
            self.state = State::Body { remaining };
        }
        piece.len()
    }
    // ANCHOR_END: feed_body
}

// ANCHOR: parse_request_line
/// Splits a request line, `method SP target SP HTTP/1.x`, and checks each
/// part; returns the method, the target and the version's minor number.
///
/// Exactly one space between the parts: `GET  / HTTP/1.1`, or a target with
/// a space in it, is refused, as httparse does (RFC 9112, section 3, lets a
/// server accept more whitespace; being strict leaves no doubt where the
/// target ends).
fn parse_request_line(line: &[u8]) -> Result<(&[u8], &[u8], u8), ParseError> {
    // STARTER part6-custom-parser, left to the learner: "Split the line at its
    // two spaces into method, target and version (`split_once`); the method is
    // one or more `is_tchar` bytes, the target `is_target_byte`s that make
    // UTF-8, the version `HTTP/1.1` (minor 1) or `HTTP/1.0` (minor 0);
    // anything else is a `ParseError::BadRequest`."
    let Some((method, rest)) = split_once(line, b' ') else {
        return Err(ParseError::BadRequest("malformed request line"));
    };
    // The version is all the rest: "HTTP/1.1 x" is not a version.
    let Some((target, version)) = split_once(rest, b' ') else {
        return Err(ParseError::BadRequest("malformed request line"));
    };
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return Err(ParseError::BadRequest("malformed request line"));
    }
    // A target is visible ASCII. Like httparse, we also let through bytes
    // above 127 as long as they make valid UTF-8: some clients send
    // unencoded UTF-8 paths.
    let visible = target.iter().all(|&b| is_target_byte(b));
    if target.is_empty() || !visible || std::str::from_utf8(target).is_err() {
        return Err(ParseError::BadRequest("malformed request line"));
    }
    // Only 1.0 and 1.1, like httparse. (RFC 9112 would have a server treat
    // an unknown 1.x as 1.1; no client sends one.)
    let minor_version = match version {
        b"HTTP/1.1" => 1,
        b"HTTP/1.0" => 0,
        _ => {
            return Err(ParseError::BadRequest(
                "malformed or unsupported HTTP version",
            ));
        }
    };
    Ok((method, target, minor_version))
    // STARTER end
}
// ANCHOR_END: parse_request_line

// ANCHOR: parse_header
/// Splits a header line, `name ":" OWS value OWS`, and checks both parts;
/// returns the name and the value with the optional whitespace (OWS: spaces
/// and tabs) taken off.
///
/// The post splits at `": "` and so raises on `Host:localhost`, which is
/// valid HTTP. A line that starts with whitespace is refused: that is the
/// obsolete "line folding", a continuation of the previous header, which
/// RFC 9112 (section 5.2) lets a server refuse, and httparse refuses.
fn parse_header(line: &[u8]) -> Result<(&[u8], &[u8]), ParseError> {
    // STARTER part6-custom-parser, left to the learner: "Split at the first
    // colon (`split_once`): the name is one or more `is_tchar` bytes (so no
    // space before the colon), the value is `trim_whitespace`d and all
    // `is_value_byte`s; refuse anything else with `ParseError::BadRequest`."
    // The name runs up to the first colon, and is a token. So no space
    // before the colon (RFC 9112, section 5.1): one server might read
    // `Content-Length : 5` as `Content-Length` and the next one not, which
    // is how "request smuggling" slips a second request past a proxy.
    let Some((name, value)) = split_once(line, b':') else {
        return Err(ParseError::BadRequest("header line without a colon"));
    };
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return Err(ParseError::BadRequest("malformed header name"));
    }
    let value = trim_whitespace(value);
    if !value.iter().all(|&b| is_value_byte(b)) {
        return Err(ParseError::BadRequest("malformed header value"));
    }
    Ok((name, value))
    // STARTER end
}
// ANCHOR_END: parse_header

/// `bytes` cut in two at the first `separator`, which is dropped: Python's
/// `bytes.partition`, or `None` when there is no separator.
fn split_once(bytes: &[u8], separator: u8) -> Option<(&[u8], &[u8])> {
    let at = memchr::memchr(separator, bytes)?;
    Some((&bytes[..at], &bytes[at + 1..]))
}

/// `bytes` without the spaces and tabs at either end.
fn trim_whitespace(bytes: &[u8]) -> &[u8] {
    let is_text = |b: &u8| *b != b' ' && *b != b'\t';
    match bytes.iter().position(is_text) {
        // `rposition` finds one too, since `position` did.
        Some(first) => {
            let last = bytes.iter().rposition(is_text).unwrap_or(first);
            &bytes[first..=last]
        }
        None => &[],
    }
}

// ANCHOR: byte_tests
/// Whether `b` may appear in a method or a header name: a "tchar" of
/// RFC 9110, section 5.6.2. Letters, digits, and these symbols; no spaces,
/// no separators such as `:` or `/`, no control characters.
fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9'
        | b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+'
        | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
}

/// Whether `b` may appear in a request target: visible ASCII, `!` to `~`,
/// or a byte above 127 (part of a UTF-8 character).
fn is_target_byte(b: u8) -> bool {
    matches!(b, b'!'..=b'~' | 0x80..)
}

/// Whether `b` may appear in a header value: visible ASCII, space, tab, or
/// a byte above 127 ("obs-text"). No control characters: a CR or NUL in a
/// value is refused.
fn is_value_byte(b: u8) -> bool {
    matches!(b, b' '..=b'~' | b'\t' | 0x80..)
}
// ANCHOR_END: byte_tests

// The unit tests, in `tests.rs`.
#[cfg(test)]
mod tests;
