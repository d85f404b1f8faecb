//! The interface of a request parser, shared by every HTTP stage.
//!
//! The post feeds the bytes it reads into a parser (httptools) together with
//! a "protocol" object whose methods the parser calls as it recognises the
//! parts of a request. Python finds those methods by name at run time; in Rust
//! the parser states what it will call as a trait, [`Protocol`], and the
//! compiler checks that the protocol object has every method.
//!
//! Part 5 implements a parser over httparse; part 6 writes its own. Both take
//! a `Protocol`, return the same [`ParseError`] and enforce the same limits,
//! which is what makes the second a drop-in replacement for the first.

use std::fmt;

/// The longest request head (request line and headers) a parser accepts:
/// a longer one is answered `431 Request Header Fields Too Large`.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;

/// The most header lines a parser accepts, also answered with `431`.
pub const MAX_HEADERS: usize = 64;

/// The largest body a parser accepts, judged from `Content-Length` before a
/// byte of the body is read: a larger one is answered `413 Content Too Large`.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

// ANCHOR: protocol
/// The callbacks a parser makes while it reads a request, in this order:
/// `on_method`, `on_url`, `on_header` once per header, `on_headers_complete`,
/// `on_body` zero or more times, `on_message_complete` exactly once.
///
/// The byte slices are borrowed from the parser for the length of the call:
/// a protocol that wants to keep them copies them (`.to_vec()`).
pub trait Protocol {
    /// The request method, such as `GET`. (httptools offers it as
    /// `parser.get_method()`; a callback keeps the parser out of sight.)
    fn on_method(&mut self, _method: &[u8]) {}
    /// The request target, such as `/index.html`.
    fn on_url(&mut self, url: &[u8]);
    /// One header, with surrounding whitespace taken off the value.
    fn on_header(&mut self, name: &[u8], value: &[u8]);
    /// The empty line after the headers was read; a body may follow.
    fn on_headers_complete(&mut self) {}
    /// A piece of the body, as it arrives. The pieces add up to the body.
    fn on_body(&mut self, body: &[u8]);
    /// The whole request was read.
    fn on_message_complete(&mut self);
}
// ANCHOR_END: protocol

/// Why a request was refused, and with which status code to answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Malformed request line or header, or conflicting framing: `400`.
    BadRequest(&'static str),
    /// The head is longer than [`MAX_HEAD_BYTES`] or has more than
    /// [`MAX_HEADERS`] headers: `431`.
    HeadTooLarge,
    /// `Content-Length` is over [`MAX_BODY_BYTES`]: `413`.
    BodyTooLarge,
    /// `Transfer-Encoding: chunked`, which no stage reads: `501`.
    TransferEncodingNotImplemented,
}

impl ParseError {
    /// The status code of the answer to this error.
    pub fn status_code(&self) -> u16 {
        match self {
            ParseError::BadRequest(_) => 400,
            ParseError::HeadTooLarge => 431,
            ParseError::BodyTooLarge => 413,
            ParseError::TransferEncodingNotImplemented => 501,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::BadRequest(reason) => f.write_str(reason),
            ParseError::HeadTooLarge => write!(
                f,
                "the request head is over {MAX_HEAD_BYTES} bytes or {MAX_HEADERS} headers"
            ),
            ParseError::BodyTooLarge => {
                write!(f, "the request body is over {MAX_BODY_BYTES} bytes")
            }
            ParseError::TransferEncodingNotImplemented => {
                f.write_str("Transfer-Encoding is not supported; send Content-Length")
            }
        }
    }
}

impl std::error::Error for ParseError {}

// ANCHOR: framing
/// Reads a `Content-Length` value: ASCII digits only (no sign, no spaces, no
/// `+`), and no larger than [`MAX_BODY_BYTES`]. Python's `int()` would take
/// `" +7 "` or `"-1"`; HTTP does not.
pub fn parse_content_length(value: &[u8]) -> Result<usize, ParseError> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::BadRequest("Content-Length is not a number"));
    }
    // Leading zeros are allowed; skip them so that "0000…1" is not "too large".
    let digits = match value.iter().position(|&b| b != b'0') {
        Some(first) => &value[first..],
        None => return Ok(0),
    };
    let too_many_digits = digits.len() > MAX_BODY_BYTES.to_string().len();
    let length = std::str::from_utf8(digits)
        .ok()
        .and_then(|digits| digits.parse::<usize>().ok());
    match length {
        Some(length) if !too_many_digits && length <= MAX_BODY_BYTES => Ok(length),
        _ => Err(ParseError::BodyTooLarge),
    }
}

/// Decides how long the body is from the headers that frame it, the same
/// way for every parser: give it the request's version and each header, then
/// ask [`Framing::body_length`] once the head is complete. It also checks the
/// one header HTTP/1.1 requires, `Host`, since every parser must do that the
/// same way too.
///
/// The rules: `Content-Length` is digits only, and when it is repeated every
/// copy must agree; `Transfer-Encoding` together with `Content-Length` is
/// refused, since the two could disagree on where the request ends (the trick
/// behind "request smuggling"); `Transfer-Encoding` alone is not supported.
/// A `Transfer-Encoding` whose last coding is not `chunked` leaves no way to
/// tell where the body ends, and is refused (RFC 9112, section 6.1).
/// No header at all means no body. And an HTTP/1.1 request carries exactly
/// one `Host` (RFC 9112, section 3.2: a server must refuse it without one,
/// or with two); an HTTP/1.0 request may have none, but not two.
#[derive(Debug, Default)]
pub struct Framing {
    content_length: Option<Result<usize, ParseError>>,
    conflicting_lengths: bool,
    transfer_encoding: bool,
    /// Whether the last coding of the last `Transfer-Encoding` is `chunked`.
    chunked_last: bool,
    hosts: usize,
    /// HTTP/1.0, which came before `Host` was required.
    http_1_0: bool,
}

impl Framing {
    /// Takes note of the request's version, `HTTP/1.<minor>`.
    pub fn version(&mut self, minor: u8) {
        self.http_1_0 = minor == 0;
    }

    /// Takes note of one header; headers other than the three above are
    /// ignored.
    pub fn header(&mut self, name: &[u8], value: &[u8]) {
        if name.eq_ignore_ascii_case(b"host") {
            self.hosts += 1;
        } else if name.eq_ignore_ascii_case(b"content-length") {
            let length = parse_content_length(value);
            match &self.content_length {
                Some(earlier) if *earlier != length => self.conflicting_lengths = true,
                _ => self.content_length = Some(length),
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            self.transfer_encoding = true;
            // The codings are a list, `gzip, chunked`: the last one counts.
            let last = value.rsplit(|&b| b == b',').next().unwrap_or_default();
            self.chunked_last = last.trim_ascii().eq_ignore_ascii_case(b"chunked");
        }
    }

    /// The number of body bytes that follow the head, or why the request
    /// cannot be read.
    pub fn body_length(&self) -> Result<usize, ParseError> {
        match self.hosts {
            0 if !self.http_1_0 => return Err(ParseError::BadRequest("no Host header")),
            0 | 1 => {}
            _ => return Err(ParseError::BadRequest("more than one Host header")),
        }
        match (&self.content_length, self.transfer_encoding) {
            (Some(_), true) => Err(ParseError::BadRequest(
                "Content-Length and Transfer-Encoding together",
            )),
            (None, true) if !self.chunked_last => Err(ParseError::BadRequest(
                "Transfer-Encoding whose last coding is not chunked",
            )),
            (None, true) => Err(ParseError::TransferEncodingNotImplemented),
            _ if self.conflicting_lengths => Err(ParseError::BadRequest(
                "Content-Length headers that disagree",
            )),
            (Some(length), false) => length.clone(),
            (None, false) => Ok(0),
        }
    }
}
// ANCHOR_END: framing

/// A protocol that writes down every call, for tests: two parsers given the
/// same bytes should leave two equal `Recorder`s. A test helper, not part of
/// the interface: only the stages' tests turn it on, through the
/// `test-support` feature of their `[dev-dependencies]`.
#[cfg(feature = "test-support")]
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recorder {
    pub method: Vec<u8>,
    pub url: Vec<u8>,
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    pub headers_complete: usize,
    pub body: Vec<u8>,
    pub body_calls: usize,
    pub messages_complete: usize,
}

#[cfg(feature = "test-support")]
impl Protocol for Recorder {
    fn on_method(&mut self, method: &[u8]) {
        self.method = method.to_vec();
    }
    fn on_url(&mut self, url: &[u8]) {
        self.url = url.to_vec();
    }
    fn on_header(&mut self, name: &[u8], value: &[u8]) {
        self.headers.push((name.to_vec(), value.to_vec()));
    }
    fn on_headers_complete(&mut self) {
        self.headers_complete += 1;
    }
    fn on_body(&mut self, body: &[u8]) {
        self.body.extend_from_slice(body);
        self.body_calls += 1;
    }
    fn on_message_complete(&mut self) {
        self.messages_complete += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_is_digits_only() {
        assert_eq!(parse_content_length(b"0"), Ok(0));
        assert_eq!(parse_content_length(b"37"), Ok(37));
        assert_eq!(parse_content_length(b"0007"), Ok(7));
        for bad in [
            &b""[..],
            b"-1",
            b"+7",
            b" 7",
            b"7 ",
            b"0x10",
            b"1e3",
            b"\xff",
        ] {
            assert!(
                matches!(parse_content_length(bad), Err(ParseError::BadRequest(_))),
                "{:?} was accepted",
                bad.escape_ascii().to_string()
            );
        }
    }

    #[test]
    fn content_length_is_bounded() {
        assert_eq!(parse_content_length(b"1048576"), Ok(MAX_BODY_BYTES));
        assert_eq!(
            parse_content_length(b"1048577"),
            Err(ParseError::BodyTooLarge)
        );
        assert_eq!(
            parse_content_length(b"99999999999999999999999999999"),
            Err(ParseError::BodyTooLarge)
        );
    }

    fn framing(headers: &[(&str, &str)]) -> Result<usize, ParseError> {
        framing_of(1, &[&[("Host", "x")], headers].concat())
    }

    /// The body length of an `HTTP/1.<minor>` request with `headers`.
    fn framing_of(minor: u8, headers: &[(&str, &str)]) -> Result<usize, ParseError> {
        let mut framing = Framing::default();
        framing.version(minor);
        for (name, value) in headers {
            framing.header(name.as_bytes(), value.as_bytes());
        }
        framing.body_length()
    }

    #[test]
    fn framing_rules() {
        assert_eq!(framing(&[]), Ok(0));
        assert_eq!(framing(&[("content-LENGTH", "7")]), Ok(7));
        assert_eq!(
            framing(&[("Content-Length", "7"), ("Content-Length", "07")]),
            Ok(7)
        );
        let bad = |r: Result<usize, ParseError>| matches!(r, Err(ParseError::BadRequest(_)));
        assert!(bad(framing(&[
            ("Content-Length", "7"),
            ("Content-Length", "8")
        ])));
        assert!(bad(framing(&[("Content-Length", "seven")])));
        assert!(bad(framing(&[
            ("Content-Length", "7"),
            ("Transfer-Encoding", "chunked")
        ])));
        assert_eq!(
            framing(&[("Transfer-Encoding", "chunked")]),
            Err(ParseError::TransferEncodingNotImplemented)
        );
        assert_eq!(
            framing(&[("Transfer-Encoding", "gzip, Chunked")]),
            Err(ParseError::TransferEncodingNotImplemented)
        );
        // Where the body ends is anyone's guess: refused, not "not supported".
        for codings in ["gzip", "chunked, identity", "xchunked", ""] {
            assert!(
                bad(framing(&[("Transfer-Encoding", codings)])),
                "{codings:?}"
            );
        }
        assert_eq!(
            framing(&[("Content-Length", "2000000")]),
            Err(ParseError::BodyTooLarge)
        );
    }

    #[test]
    fn http_1_1_requires_one_host() {
        let bad = |r: Result<usize, ParseError>| matches!(r, Err(ParseError::BadRequest(_)));
        assert_eq!(framing_of(1, &[("host", "x")]), Ok(0));
        assert!(bad(framing_of(1, &[])));
        assert!(bad(framing_of(1, &[("Content-Length", "3")])));
        assert!(bad(framing_of(1, &[("Host", "a"), ("HOST", "b")])));
        // HTTP/1.0 may leave it out, but not send two.
        assert_eq!(framing_of(0, &[("Content-Length", "3")]), Ok(3));
        assert!(bad(framing_of(0, &[("Host", "a"), ("Host", "a")])));
        // A parser that names no version is held to HTTP/1.1's rule.
        assert!(bad(Framing::default().body_length()));
    }

    #[test]
    fn every_error_has_its_status_code() {
        assert_eq!(ParseError::BadRequest("x").status_code(), 400);
        assert_eq!(ParseError::HeadTooLarge.status_code(), 431);
        assert_eq!(ParseError::BodyTooLarge.status_code(), 413);
        assert_eq!(
            ParseError::TransferEncodingNotImplemented.status_code(),
            501
        );
    }
}
