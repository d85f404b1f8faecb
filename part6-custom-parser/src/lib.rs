//! The request parser of this stage: our own, in place of httparse.
//!
//! The post replaces its library parser with a hand-written one "so that we
//! can just drop our replacement in": [`HttpRequestParser`] has the same
//! interface as part 5's (built with a protocol object, fed with
//! `feed_data`, calling the same callbacks of
//! [`Protocol`](common::parser::Protocol)), so the server's only change is the
//! line that imports it.
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
//! arrived together with the end of the head pass through the buffer.
//!
//! The post keeps three pieces of state: start line done, headers done, body
//! bytes still expected. Here they are one enum, [`State`], so that no
//! impossible mix of them ("body expected, headers not done") can exist.
//!
//! # What the original gets wrong, and this parser does not
//!
//! - It copies and re-splits its whole buffer on every call (quadratic in
//!   the length of a line that arrives in small pieces); see
//!   [`split_buffer`] for the fix.
//! - It calls itself once per line, so 1,200 headers end in a
//!   `RecursionError`; here a loop reads the lines, and more than
//!   [`MAX_HEADERS`] headers are refused with `431`.
//! - It splits headers at `": "`, so `Name:value` raises; here optional
//!   spaces or tabs around a value are allowed and trimmed.
//! - It splits the request line on whitespace and raises unless it finds
//!   exactly three parts; here the line must be `method SP target SP
//!   HTTP/1.1` (or `HTTP/1.0`), or the answer is `400`.
//! - It takes any `Content-Length` Python's `int()` takes (`-1`, ` +7`),
//!   ignores `Transfer-Encoding`, bounds nothing, and a body longer than its
//!   `Content-Length` sends it into endless recursion; here
//!   [`Framing`](common::parser::Framing) decides where the body ends, the
//!   limits of `common::parser` apply, and bytes after the body are not ours.
//!
//! # Errors
//!
//! A request we refuse makes `feed_data` return a
//! [`ParseError`](common::parser::ParseError), which names the status code to
//! answer with. After that the parser is done: later bytes are ignored.

use common::parser::{Framing, MAX_HEAD_BYTES, MAX_HEADERS, ParseError, Protocol};

pub mod split_buffer;
pub use split_buffer::SplitBuffer;
use split_buffer::find_byte;

// ANCHOR: state
/// Where the parser is in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for the request line (empty lines before it are skipped).
    RequestLine,
    /// Reading header lines, until the empty line.
    Headers,
    /// Passing on the body; this many bytes are still to come.
    Body { remaining: usize },
    /// The request is complete, or was refused. Later bytes are not ours.
    Done,
}
// ANCHOR_END: state

/// Feeds a request, in pieces of any size, to a [`Protocol`]'s callbacks.
pub struct HttpRequestParser<P: Protocol> {
    protocol: P,
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
}

impl<P: Protocol> HttpRequestParser<P> {
    /// A parser that will report to `protocol` (it owns it from now on).
    pub fn new(protocol: P) -> Self {
        HttpRequestParser {
            protocol,
            buffer: SplitBuffer::new(),
            state: State::RequestLine,
            framing: Framing::default(),
            headers: 0,
            head_bytes: 0,
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
    /// protocol on the way. Where the post raises an exception, this returns
    /// an `Err`; after one, the parser ignores whatever it is fed.
    pub fn feed_data(&mut self, data: &[u8]) -> Result<(), ParseError> {
        let result = match self.state {
            State::RequestLine | State::Headers => self.parse_head(data),
            State::Body { .. } => {
                self.feed_body(data);
                Ok(())
            }
            State::Done => Ok(()),
        };
        if result.is_err() {
            self.state = State::Done;
        }
        result
    }
    // ANCHOR_END: feed_data

    // ANCHOR: parse_head
    /// Buffers `data`, then parses every whole line in the buffer until the
    /// head is over; what follows the head is passed on as body.
    fn parse_head(&mut self, data: &[u8]) -> Result<(), ParseError> {
        // `pop` lends us a line that lives inside the buffer. While we hold
        // it, Rust lets nothing else use `self.buffer`, and would not let us
        // call `&mut self` methods at all (they could touch the buffer). So
        // we take the buffer out of `self` for the time being, leaving an
        // empty one in its place (`mem::take`, no copy): then the line
        // borrows a local variable, and `self` is free.
        let mut buffer = std::mem::take(&mut self.buffer);
        buffer.feed_data(data);
        // A loop, where the post's parser calls itself once per line.
        while let Some(line) = buffer.pop(b"\n") {
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
            self.parse_line(line)?;
            if !matches!(self.state, State::RequestLine | State::Headers) {
                // The head is over: the rest of the buffer is body (or,
                // past `Content-Length`, not ours). The buffer is dropped.
                self.feed_body(buffer.flush());
                return Ok(());
            }
        }
        // No whole line left: an unfinished one is waiting for more bytes.
        // It counts towards the limit too, or a head without line ends
        // could grow forever.
        if self.head_bytes + buffer.len() > MAX_HEAD_BYTES {
            return Err(ParseError::HeadTooLarge);
        }
        self.buffer = buffer;
        Ok(())
    }
    // ANCHOR_END: parse_head

    // ANCHOR: parse_line
    /// Parses one line of the head (its line end taken off) and calls back
    /// the protocol.
    fn parse_line(&mut self, line: &[u8]) -> Result<(), ParseError> {
        match self.state {
            // Empty lines before the request line are skipped, as RFC 9112
            // (section 2.2) recommends and httparse does.
            State::RequestLine if line.is_empty() => {}
            State::RequestLine => {
                let (method, target, minor_version) = parse_request_line(line)?;
                self.framing.version(minor_version);
                self.protocol.on_method(method);
                self.protocol.on_url(target);
                self.state = State::Headers;
            }
            // The empty line: the head is over.
            State::Headers if line.is_empty() => {
                // Asked only now, after every header, so that the same
                // request gets the same answer as from part 5's parser.
                let body_length = self.framing.body_length()?;
                self.protocol.on_headers_complete();
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
                self.protocol.on_header(name, value);
            }
            // Not reached: `parse_head` stops at the end of the head.
            State::Body { .. } | State::Done => {}
        }
        Ok(())
    }
    // ANCHOR_END: parse_line

    // ANCHOR: feed_body
    /// Passes body bytes on, up to the announced length, and reports the end.
    fn feed_body(&mut self, data: &[u8]) {
        let State::Body { remaining } = self.state else {
            return;
        };
        // Bytes past the announced length are not part of this body. (The
        // post's parser recurses on them until Python gives up.)
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
    let Some((method, rest)) = split_once(line, b' ') else {
        return Err(ParseError::BadRequest("malformed request line"));
    };
    // The version is all the rest: "HTTP/1.1 x" is not a version.
    let Some((target, version)) = split_once(rest, b' ') else {
        return Err(ParseError::BadRequest("malformed request line"));
    };
    if method.is_empty() || !all(method, is_tchar) {
        return Err(ParseError::BadRequest("malformed request line"));
    }
    // A target is visible ASCII. Like httparse, we also let through bytes
    // above 127 as long as they make valid UTF-8: some clients send
    // unencoded UTF-8 paths.
    if target.is_empty() || !all(target, is_target_byte) || std::str::from_utf8(target).is_err() {
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
    // The name runs up to the first colon, and is a token. So no space
    // before the colon (RFC 9112, section 5.1): one server might read
    // `Content-Length : 5` as `Content-Length` and the next one not, which
    // is how "request smuggling" slips a second request past a proxy.
    let Some((name, value)) = split_once(line, b':') else {
        return Err(ParseError::BadRequest("header line without a colon"));
    };
    if name.is_empty() || !all(name, is_tchar) {
        return Err(ParseError::BadRequest("malformed header name"));
    }
    let value = trim_whitespace(value);
    if !all(value, is_value_byte) {
        return Err(ParseError::BadRequest("malformed header value"));
    }
    Ok((name, value))
}
// ANCHOR_END: parse_header

/// `bytes` cut in two at the first `separator`, which is dropped: Python's
/// `bytes.partition`, or `None` when there is no separator.
fn split_once(bytes: &[u8], separator: u8) -> Option<(&[u8], &[u8])> {
    let at = find_byte(bytes, separator)?;
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

/// Whether every byte of `bytes` passes `test`.
///
/// The same as `bytes.iter().all(|&b| test(b))`, but without stopping at the
/// first failure. That sounds slower, and is faster: a loop with no early
/// exit has no branch to mispredict per byte, and the compiler can turn it
/// into vector instructions that test 16 bytes at a time. (A bad byte is
/// rare: most requests are fine.)
fn all(bytes: &[u8], test: fn(u8) -> bool) -> bool {
    bytes.iter().fold(true, |ok, &b| ok & test(b))
}

/// Whether `b` may appear in a method or a header name: a "tchar" of
/// RFC 9110, section 5.6.2. Letters, digits, and these symbols; no spaces,
/// no separators such as `:` or `/`, no control characters.
fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
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
    matches!(b, b'\t' | b' '..=b'~' | 0x80..)
}

/// `TCHAR[b]` says whether byte `b` is a tchar. A lookup in a table of 256
/// answers, computed once by the compiler (`const`), is faster than the
/// `matches!` it is built from, and `is_tchar` runs for every byte of every
/// method and header name.
const TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = matches!(b as u8,
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9'
            | b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+'
            | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~');
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;
    use common::parser::{MAX_BODY_BYTES, Recorder};

    /// Feeds `request` in pieces of `piece` bytes; the protocol's record, or
    /// the first error.
    fn parse_in_pieces(request: &[u8], piece: usize) -> Result<Recorder, ParseError> {
        let mut parser = HttpRequestParser::new(Recorder::default());
        for chunk in request.chunks(piece) {
            parser.feed_data(chunk)?;
        }
        Ok(parser.protocol().clone())
    }

    /// Feeds `request` cut at the given offsets.
    fn parse_cut_at(request: &[u8], cuts: &[usize]) -> Result<Recorder, ParseError> {
        let mut parser = HttpRequestParser::new(Recorder::default());
        let mut start = 0;
        for &cut in cuts.iter().chain([&request.len()]) {
            parser.feed_data(&request[start..cut])?;
            start = cut;
        }
        Ok(parser.protocol().clone())
    }

    /// The headers a record holds, as pairs of strings, for short asserts.
    fn headers(seen: &Recorder) -> Vec<(String, String)> {
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        seen.headers
            .iter()
            .map(|(name, value)| (text(name), text(value)))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    // The post's tests, 1 to 3. (Its buffer test, 4, is in split_buffer.rs.)

    /// The headers curl sends in the post's first two tests.
    const CURL_HEADERS: &[(&str, &str)] = &[
        ("Host", "localhost:5000"),
        ("User-Agent", "curl/7.69.1"),
        ("Accept", "*/*"),
    ];

    #[test]
    fn post_test_1_get_in_one_piece() {
        let request =
            b"GET /abc HTTP/1.1\r\nHost: localhost:5000\r\nUser-Agent: curl/7.69.1\r\nAccept: */*\r\n\r\n";
        let seen = parse_in_pieces(request, request.len()).unwrap();
        assert_eq!(seen.url, b"/abc");
        assert_eq!(headers(&seen), pairs(CURL_HEADERS));
        assert_eq!((seen.body_calls, seen.messages_complete), (0, 1));
    }

    #[test]
    fn post_test_2_get_in_seven_pieces() {
        let request = b"GET /index.html HTTP/1.1\r\nHost: localhost:5000\r\nUser-Agent: curl/7.69.1\r\nAccept: */*\r\n\r\n";
        // Cut mid-method, mid-url, mid-header-name, mid-value, and between
        // a CR and its LF (offsets 24|25 and 84|85).
        let seen = parse_cut_at(request, &[2, 9, 25, 30, 60, 85]).unwrap();
        assert_eq!(&request[24..26], b"\r\n");
        assert_eq!(&request[84..86], b"\r\n");
        assert_eq!(seen.url, b"/index.html");
        assert_eq!(headers(&seen), pairs(CURL_HEADERS));
        assert_eq!((seen.body_calls, seen.messages_complete), (0, 1));
    }

    #[test]
    fn post_test_3_post_with_a_body() {
        let request = b"POST / HTTP/1.1\r\nHost: localhost:5000\r\nUser-Agent: curl/7.69.1\r\n\
            Accept: */*\r\nContent-Length: 7\r\nContent-Type: application/json\r\n\r\nabc=def";
        let seen = parse_in_pieces(request, request.len()).unwrap();
        assert_eq!(seen.method, b"POST");
        assert_eq!(seen.headers.len(), 5);
        assert_eq!(seen.body, b"abc=def");
        assert_eq!(seen.messages_complete, 1);
    }

    #[test]
    fn any_split_gives_the_same_result() {
        let request = b"POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\nabc=def";
        let whole = parse_in_pieces(request, request.len()).unwrap();
        for piece in 1..request.len() {
            let mut seen = parse_in_pieces(request, piece).unwrap();
            assert_eq!(seen.body, b"abc=def", "pieces of {piece}");
            // Only the number of `on_body` calls depends on the cut.
            seen.body_calls = whole.body_calls;
            assert_eq!(seen, whole, "pieces of {piece}");
        }
    }

    /// The callbacks come in the documented order, each once.
    #[test]
    fn callbacks_in_order() {
        #[derive(Default)]
        struct Calls(Vec<&'static str>);
        impl Protocol for Calls {
            fn on_method(&mut self, _: &[u8]) {
                self.0.push("method");
            }
            fn on_url(&mut self, _: &[u8]) {
                self.0.push("url");
            }
            fn on_header(&mut self, _: &[u8], _: &[u8]) {
                self.0.push("header");
            }
            fn on_headers_complete(&mut self) {
                self.0.push("headers complete");
            }
            fn on_body(&mut self, _: &[u8]) {
                self.0.push("body");
            }
            fn on_message_complete(&mut self) {
                self.0.push("complete");
            }
        }
        let mut parser = HttpRequestParser::new(Calls::default());
        let request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcdEXTRA";
        for byte in request.chunks(1) {
            parser.feed_data(byte).unwrap();
        }
        assert_eq!(
            parser.protocol().0,
            [
                "method",
                "url",
                "header",
                "header",
                "headers complete",
                "body",
                "body",
                "body",
                "body",
                "complete"
            ]
        );
    }

    /// What a request should lead to, in the table below.
    #[derive(Debug)]
    enum Expect {
        /// Complete, with this url, these headers and this body.
        Complete(
            &'static str,
            &'static [(&'static str, &'static str)],
            &'static str,
        ),
        /// No error, but not complete: the parser waits for more.
        Incomplete,
        /// Refused with this status code.
        Refused(u16),
    }
    use Expect::{Complete, Incomplete, Refused};

    /// Edge cases, valid and invalid. Each is fed whole, one byte at a time,
    /// and in pieces of 3, with the same expected outcome.
    #[rustfmt::skip]
    const CASES: &[(&str, &str, Expect)] = &[
        // Line ends and whitespace.
        ("bare LF line ends", "GET / HTTP/1.1\nHost: x\n\n", Complete("/", &[("Host", "x")], "")),
        ("mixed line ends", "GET / HTTP/1.1\r\nHost: x\n\r\n", Complete("/", &[("Host", "x")], "")),
        ("empty lines before the request line", "\r\n\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", Complete("/", &[("Host", "x")], "")),
        ("no space after the colon", "GET / HTTP/1.1\r\nHost:x\r\n\r\n", Complete("/", &[("Host", "x")], "")),
        ("spaces and tabs around a value", "GET / HTTP/1.1\r\nHost: x\r\nA: \t a b \t \r\n\r\n", Complete("/", &[("Host", "x"), ("A", "a b")], "")),
        ("empty value", "GET / HTTP/1.1\r\nHost: x\r\nA:\r\nB: \t\r\n\r\n", Complete("/", &[("Host", "x"), ("A", ""), ("B", "")], "")),
        ("colon in a value", "GET / HTTP/1.1\r\nHost: a:80\r\n\r\n", Complete("/", &[("Host", "a:80")], "")),
        ("UTF-8 in a value", "GET / HTTP/1.1\r\nHost: x\r\nX: é\r\n\r\n", Complete("/", &[("Host", "x"), ("X", "é")], "")),
        ("UTF-8 in the target", "GET /é HTTP/1.1\r\nHost: x\r\n\r\n", Complete("/é", &[("Host", "x")], "")),
        ("HTTP/1.0, which may leave Host out", "GET / HTTP/1.0\r\n\r\n", Complete("/", &[], "")),
        // HTTP/1.1 requires exactly one Host (RFC 9112, section 3.2).
        ("no Host", "GET / HTTP/1.1\r\nA: b\r\n\r\n", Refused(400)),
        ("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", Refused(400)),
        ("any token method", "PURGE! * HTTP/1.1\r\nHost: x\r\n\r\n", Complete("*", &[("Host", "x")], "")),
        ("space before the colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", Refused(400)),
        ("no colon", "GET / HTTP/1.1\r\nHost x\r\n\r\n", Refused(400)),
        ("empty name", "GET / HTTP/1.1\r\nHost: x\r\n: x\r\n\r\n", Refused(400)),
        ("non-token name", "GET / HTTP/1.1\r\nHost: x\r\nHo(st: x\r\n\r\n", Refused(400)),
        ("obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n", Refused(400)),
        ("whitespace before the first header", "GET / HTTP/1.1\r\n Host: x\r\n\r\n", Refused(400)),
        ("NUL in a value", "GET / HTTP/1.1\r\nHost: x\r\nA: b\0c\r\n\r\n", Refused(400)),
        ("CR in a value", "GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n", Refused(400)),
        ("CR CR LF", "GET / HTTP/1.1\r\nHost: x\r\nA: b\r\r\n\r\n", Refused(400)),
        ("DEL in a value", "GET / HTTP/1.1\r\nHost: x\r\nA: b\x7f\r\n\r\n", Refused(400)),
        // The request line.
        ("two parts", "GET /\r\n\r\n", Refused(400)),
        ("four parts", "GET / HTTP/1.1 x\r\n\r\n", Refused(400)),
        ("two spaces", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", Refused(400)),
        ("tab for a space", "GET\t/ HTTP/1.1\r\n\r\n", Refused(400)),
        ("trailing space", "GET / HTTP/1.1 \r\n\r\n", Refused(400)),
        ("leading space", " GET / HTTP/1.1\r\nHost: x\r\n\r\n", Refused(400)),
        ("non-token method", "GE:T / HTTP/1.1\r\nHost: x\r\n\r\n", Refused(400)),
        ("control char in the target", "GET /\x01 HTTP/1.1\r\n\r\n", Refused(400)),
        ("HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", Refused(400)),
        ("HTTP/1.2", "GET / HTTP/1.2\r\n\r\n", Refused(400)),
        ("lower-case http", "GET / http/1.1\r\n\r\n", Refused(400)),
        ("garbage", "\0\0\0\r\n\r\n", Refused(400)),
        // Content-Length and Transfer-Encoding.
        ("Content-Length, any case", "POST / HTTP/1.1\r\nHost: x\r\ncontent-LENGTH: 3\r\n\r\nabc", Complete("/", &[("Host", "x"), ("content-LENGTH", "3")], "abc")),
        ("bytes after the body", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n", Complete("/", &[("Host", "x"), ("Content-Length", "3")], "abc")),
        ("equal Content-Lengths", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 003\r\n\r\nabc", Complete("/", &[("Host", "x"), ("Content-Length", "3"), ("Content-Length", "003")], "abc")),
        ("zero Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\nabc", Complete("/", &[("Host", "x"), ("Content-Length", "0")], "")),
        ("body not all there", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nabc", Incomplete),
        ("negative Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", Refused(400)),
        ("signed Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\nx", Refused(400)),
        ("Content-Lengths that disagree", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", Refused(400)),
        ("Content-Length and Transfer-Encoding", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", Refused(400)),
        ("Transfer-Encoding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", Refused(501)),
        ("Content-Length over the limit", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n", Refused(413)),
        // Unfinished heads wait for more; they are not errors.
        ("nothing", "", Incomplete),
        ("half a request line", "GET /ind", Incomplete),
        ("no empty line yet", "GET / HTTP/1.1\r\nHost: x\r\n", Incomplete),
        ("only the CR of the last line", "GET / HTTP/1.1\r\nHost: x\r\n\r", Incomplete),
        ("empty lines only", "\r\n\r\n\n", Incomplete),
    ];

    #[test]
    fn edge_cases() {
        for (name, request, expected) in CASES {
            for piece in [request.len().max(1), 1, 3] {
                let outcome = parse_in_pieces(request.as_bytes(), piece);
                let ok = match (&outcome, expected) {
                    (Ok(seen), Complete(url, expected_headers, body)) => {
                        seen.messages_complete == 1
                            && seen.url == url.as_bytes()
                            && headers(seen) == pairs(expected_headers)
                            && seen.body == body.as_bytes()
                    }
                    (Ok(seen), Incomplete) => seen.messages_complete == 0,
                    (Err(error), Refused(status)) => error.status_code() == *status,
                    _ => false,
                };
                assert!(
                    ok,
                    "{name}, in pieces of {piece}: expected {expected:?}, got {outcome:?}"
                );
            }
        }
    }

    #[test]
    fn limits_are_enforced() {
        let status = |request: &[u8]| parse_in_pieces(request, 16).unwrap_err().status_code();
        // A head of exactly MAX_HEAD_BYTES is fine; one byte more is not.
        let head = |size: usize| {
            let start = "GET / HTTP/1.1\r\nHost: x\r\nX: ";
            let filler = "a".repeat(size - start.len() - "\r\n\r\n".len());
            format!("{start}{filler}\r\n\r\n")
        };
        assert_eq!(
            parse_in_pieces(head(MAX_HEAD_BYTES).as_bytes(), 16)
                .unwrap()
                .messages_complete,
            1
        );
        assert_eq!(status(head(MAX_HEAD_BYTES + 1).as_bytes()), 431);
        // A head that never ends a line is refused once it is too long.
        let endless = "GET / HTTP/1.1\r\nX: ".to_string() + &"a".repeat(MAX_HEAD_BYTES);
        assert_eq!(status(endless.as_bytes()), 431);
        let endless_empty_lines = "\r\n".repeat(MAX_HEAD_BYTES);
        assert_eq!(status(endless_empty_lines.as_bytes()), 431);
        // MAX_HEADERS headers are fine; one more is not.
        let headers = |count: usize| {
            "GET / HTTP/1.1\r\nHost: x\r\n".to_string() + &"X: y\r\n".repeat(count - 1) + "\r\n"
        };
        assert_eq!(
            parse_in_pieces(headers(MAX_HEADERS).as_bytes(), 16)
                .unwrap()
                .headers
                .len(),
            MAX_HEADERS
        );
        assert_eq!(status(headers(MAX_HEADERS + 1).as_bytes()), 431);
        // The body limit is judged from Content-Length, before the body.
        let big_body = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY_BYTES + 1
        );
        assert_eq!(status(big_body.as_bytes()), 413);
        let max_body =
            format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {MAX_BODY_BYTES}\r\n\r\n");
        let seen = parse_in_pieces(max_body.as_bytes(), 16).unwrap();
        assert_eq!((seen.headers_complete, seen.messages_complete), (1, 0));
    }

    /// The post's parser dies of a `RecursionError` on 1,200 headers. Here
    /// a loop reads them, stops at the 65th, and refuses with `431`.
    #[test]
    fn twelve_hundred_headers_are_refused_not_a_crash() {
        let request = "GET / HTTP/1.1\r\n".to_string() + &"X: y\r\n".repeat(1200) + "\r\n";
        for piece in [request.len(), 1] {
            let mut parser = HttpRequestParser::new(Recorder::default());
            let outcome = request
                .as_bytes()
                .chunks(piece)
                .try_for_each(|chunk| parser.feed_data(chunk));
            assert_eq!(outcome, Err(ParseError::HeadTooLarge));
            assert_eq!(parser.protocol().headers.len(), MAX_HEADERS);
        }
    }

    /// After an error the parser is done: what comes next is ignored.
    #[test]
    fn nothing_after_an_error() {
        let mut parser = HttpRequestParser::new(Recorder::default());
        assert!(parser.feed_data(b"GET / HTTP/9.9\r\n").is_err());
        assert_eq!(parser.feed_data(b"GET / HTTP/1.1\r\n\r\n"), Ok(()));
        assert_eq!(parser.protocol(), &Recorder::default());
    }

    /// After the message, nothing: no second completion, no more body.
    #[test]
    fn nothing_after_the_message() {
        let mut parser = HttpRequestParser::new(Recorder::default());
        parser
            .feed_data(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\na")
            .unwrap();
        parser.feed_data(b"bc").unwrap();
        parser.feed_data(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        let seen = parser.protocol();
        assert_eq!(
            (seen.body.as_slice(), seen.messages_complete),
            (&b"ab"[..], 1)
        );
    }

    /// Body bytes fed after the head reach `on_body` as they were fed: one
    /// call per piece, no copy in between.
    #[test]
    fn body_pieces_go_straight_through() {
        let mut parser = HttpRequestParser::new(Recorder::default());
        parser
            .feed_data(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n")
            .unwrap();
        parser.feed_data(b"ab").unwrap();
        parser.feed_data(b"cd").unwrap();
        parser.feed_data(b"efgh").unwrap();
        let seen = parser.protocol();
        assert_eq!((seen.body.as_slice(), seen.body_calls), (&b"abcdef"[..], 3));
    }

    #[test]
    fn trim_whitespace_trims_both_ends() {
        assert_eq!(trim_whitespace(b""), b"");
        assert_eq!(trim_whitespace(b" \t "), b"");
        assert_eq!(trim_whitespace(b"a"), b"a");
        assert_eq!(trim_whitespace(b"\t a b \t"), b"a b");
    }
}
