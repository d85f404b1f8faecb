//! The parser's unit tests: the post's first three (its fourth, of the
//! buffer, is in `split_buffer/tests.rs`), a table of edge cases, the
//! limits, and part 9's: where a request ends, and whether the connection
//! stays open after it.

use super::*;
use common::parser::{MAX_BODY_BYTES, Recorder};

/// Feeds `request` in pieces of `piece` bytes; the protocol's record, or
/// the first error.
fn parse_in_pieces(request: &[u8], piece: usize) -> Result<Recorder, ParseError> {
    let (mut parser, mut seen) = (HttpRequestParser::default(), Recorder::default());
    for chunk in request.chunks(piece) {
        parser.feed_data(chunk, &mut seen)?;
    }
    Ok(seen)
}

/// Feeds `request` cut at the given offsets.
fn parse_cut_at(request: &[u8], cuts: &[usize]) -> Result<Recorder, ParseError> {
    let (mut parser, mut seen) = (HttpRequestParser::default(), Recorder::default());
    let mut start = 0;
    for &cut in cuts.iter().chain([&request.len()]) {
        parser.feed_data(&request[start..cut], &mut seen)?;
        start = cut;
    }
    Ok(seen)
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

// The post's tests, 1 to 3. (Its buffer test, 4, is in split_buffer/tests.rs.)

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
    let (mut parser, mut calls) = (HttpRequestParser::default(), Calls::default());
    let request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcdEXTRA";
    for byte in request.chunks(1) {
        parser.feed_data(byte, &mut calls).unwrap();
    }
    assert_eq!(
        calls.0,
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
        let (mut parser, mut seen) = (HttpRequestParser::default(), Recorder::default());
        let outcome = request
            .as_bytes()
            .chunks(piece)
            .try_for_each(|chunk| parser.feed_data(chunk, &mut seen).map(drop));
        assert_eq!(outcome, Err(ParseError::HeadTooLarge));
        assert_eq!(seen.headers.len(), MAX_HEADERS);
    }
}

/// After an error the parser is done: what comes next is ignored.
#[test]
fn nothing_after_an_error() {
    let (mut parser, mut seen) = (HttpRequestParser::default(), Recorder::default());
    assert!(parser.feed_data(b"GET / HTTP/9.9\r\n", &mut seen).is_err());
    assert_eq!(
        parser.feed_data(b"GET / HTTP/1.1\r\n\r\n", &mut seen),
        Ok(0)
    );
    assert_eq!(seen, Recorder::default());
}

/// After the message, nothing: no second completion, no more body. The
/// bytes past its end are left unused, for the next request.
#[test]
fn nothing_after_the_message() {
    let (mut parser, mut seen) = (HttpRequestParser::default(), Recorder::default());
    let head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\na";
    assert_eq!(parser.feed_data(head, &mut seen), Ok(head.len()));
    assert_eq!(parser.feed_data(b"bc", &mut seen), Ok(1));
    assert_eq!(
        parser.feed_data(b"GET / HTTP/1.1\r\n\r\n", &mut seen),
        Ok(0)
    );
    assert_eq!(
        (seen.body.as_slice(), seen.messages_complete),
        (&b"ab"[..], 1)
    );
}

/// Feeds `stream`, a connection's bytes, in pieces of `piece` bytes, as the
/// session does: a new parser for each request, given what the last one
/// left unused. Returns each request's record.
fn parse_connection(stream: &[u8], piece: usize) -> Vec<Recorder> {
    let mut requests = Vec::new();
    let (mut parser, mut seen) = (HttpRequestParser::default(), Recorder::default());
    for mut chunk in stream.chunks(piece) {
        while !chunk.is_empty() {
            let used = parser.feed_data(chunk, &mut seen).unwrap();
            chunk = &chunk[used..];
            if seen.messages_complete == 1 {
                requests.push(std::mem::take(&mut seen));
                parser = HttpRequestParser::default();
            }
        }
    }
    requests
}

/// Pipelined requests (RFC 9112, section 9.3.2): however the bytes are cut,
/// every request is read once, with its own body, and no byte goes astray.
#[test]
fn pipelined_requests_are_read_one_after_the_other() {
    let stream = b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n\
        POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nGET /\
        POST /3 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n\
        \r\nGET /4 HTTP/1.1\r\nHost: x\r\n\r\n";
    for piece in [stream.len(), 1024, 7, 1] {
        let requests = parse_connection(stream, piece);
        let urls: Vec<&[u8]> = requests.iter().map(|r| r.url.as_slice()).collect();
        assert_eq!(urls, [&b"/1"[..], b"/2", b"/3", b"/4"], "pieces of {piece}");
        // The body that looks like a request is a body, and only that.
        assert_eq!(requests[1].body, b"GET /", "pieces of {piece}");
        assert!(requests.iter().all(|r| r.messages_complete == 1));
    }
}

/// Whether a request leaves the connection open, as its head says.
fn keeps_alive(request: &[u8]) -> bool {
    let mut parser = HttpRequestParser::default();
    parser.feed_data(request, &mut Recorder::default()).unwrap();
    parser.should_keep_alive()
}

#[test]
fn http_1_1_keeps_the_connection_unless_told_to_close() {
    assert!(keeps_alive(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    assert!(keeps_alive(
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"
    ));
    for close in ["close", "CLOSE", "keep-alive, Close", "Upgrade ,close "] {
        let request = format!("GET / HTTP/1.1\r\nHost: x\r\nConnection: {close}\r\n\r\n");
        assert!(!keeps_alive(request.as_bytes()), "{close:?}");
    }
    // Two headers make one list.
    assert!(!keeps_alive(
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n"
    ));
    // A word that only contains the option is not it.
    assert!(keeps_alive(
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: closed\r\n\r\n"
    ));
}

#[test]
fn http_1_0_closes_unless_asked_to_keep_alive() {
    assert!(!keeps_alive(b"GET / HTTP/1.0\r\n\r\n"));
    assert!(keeps_alive(
        b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"
    ));
    assert!(!keeps_alive(
        b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"
    ));
    let mut parser = HttpRequestParser::default();
    parser
        .feed_data(b"GET / HTTP/1.0\r\n\r\n", &mut Recorder::default())
        .unwrap();
    assert!(parser.is_http_1_0());
}

/// Body bytes fed after the head reach `on_body` as they were fed: one
/// call per piece, no copy in between.
#[test]
fn body_pieces_go_straight_through() {
    let (mut parser, mut seen) = (HttpRequestParser::default(), Recorder::default());
    parser
        .feed_data(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n",
            &mut seen,
        )
        .unwrap();
    parser.feed_data(b"ab", &mut seen).unwrap();
    parser.feed_data(b"cd", &mut seen).unwrap();
    parser.feed_data(b"efgh", &mut seen).unwrap();
    assert_eq!((seen.body.as_slice(), seen.body_calls), (&b"abcdef"[..], 3));
}

#[test]
fn trim_whitespace_trims_both_ends() {
    assert_eq!(trim_whitespace(b""), b"");
    assert_eq!(trim_whitespace(b" \t "), b"");
    assert_eq!(trim_whitespace(b"a"), b"a");
    assert_eq!(trim_whitespace(b"\t a b \t"), b"a b");
}
