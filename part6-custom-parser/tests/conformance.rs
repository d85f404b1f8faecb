//! Our parser against part 5's, which is httparse underneath: given the same
//! bytes, cut into the same pieces, both must come to the same outcome.
//!
//! [proptest](https://docs.rs/proptest) makes up the inputs: valid requests
//! (methods, targets, headers, bodies framed by `Content-Length`), the same
//! with a few bytes flipped, deleted or inserted, cut short, or grown past the
//! limits. Each is fed to both parsers in the same random pieces, each parser
//! reporting to a `common::parser::Recorder`. When a case fails, proptest
//! shrinks it to a small one and prints it.
//!
//! "The same outcome" means: both accept, with equal records (method, url,
//! headers, body, completion), or both refuse, with the same status code.
//! Two differences are on purpose, and the checks below allow exactly them:
//!
//! 1. **When a bad line is refused.** httparse looks at every byte as it
//!    arrives and refuses `GET / HTTP/9` at the `9`; ours judges a line once
//!    it is whole, so it is still waiting for the end of that line. When
//!    httparse has refused an unfinished head and ours is still waiting, we
//!    finish the head ourselves (append CRLF CRLF) and check that ours then
//!    refuses it with the same status code.
//! 2. **When an unfinished head is reported.** part 5 calls nothing back
//!    before the whole head is in; ours calls `on_method`, `on_url` and
//!    `on_header` line by line, as httptools does. So records of heads still
//!    incomplete are not compared, only that neither parser finished.
//!
//! One more difference is kept out of the inputs instead: the answer to a
//! head over `MAX_HEAD_BYTES` that also has an error in it. Ours refuses with
//! `431` as soon as the head is too long; part 5 finds whichever comes first
//! in the bytes it has buffered at the end of a piece, so its answer depends
//! on how the bytes were cut. Malformed inputs are therefore kept well under
//! the limit, and the limit is tested with valid heads only, for which both
//! answer `431`.
//!
//! Run: `cargo test -p part6-custom-parser --test conformance`.

use common::parser::{MAX_HEAD_BYTES, MAX_HEADERS, ParseError, Recorder};
use proptest::prelude::*;
use proptest::sample::Index;

type Outcome = Result<Recorder, ParseError>;

/// Feeds `input` to our parser, cut at `cuts` (sorted offsets).
fn parse_ours(input: &[u8], cuts: &[usize]) -> Outcome {
    let mut parser = part6_custom_parser::HttpRequestParser::new(Recorder::default());
    for piece in pieces(input, cuts) {
        parser.feed_data(piece)?;
    }
    Ok(parser.protocol().clone())
}

/// Feeds `input` to part 5's parser (httparse), cut at `cuts`.
fn parse_theirs(input: &[u8], cuts: &[usize]) -> Outcome {
    let mut parser = part5_oo_session::HttpRequestParser::new(Recorder::default());
    for piece in pieces(input, cuts) {
        parser.feed_data(piece)?;
    }
    Ok(parser.protocol().clone())
}

/// `input` cut at the offsets in `cuts`.
fn pieces<'a>(input: &'a [u8], cuts: &'a [usize]) -> impl Iterator<Item = &'a [u8]> {
    let ends = cuts.iter().copied().chain([input.len()]);
    let starts = [0].into_iter().chain(cuts.iter().copied());
    starts.zip(ends).map(move |(start, end)| &input[start..end])
}

/// The record without the number of `on_body` calls, which depends on how
/// the bytes were cut and on nothing else.
fn normalized(mut seen: Recorder) -> Recorder {
    seen.body_calls = 0;
    seen
}

/// Feeds `input`, cut at `cuts`, to both parsers and checks that they agree,
/// as the top of this file explains.
fn agree(input: &[u8], cuts: &[usize]) -> Result<(), TestCaseError> {
    let shown = input.escape_ascii().to_string();
    match (parse_ours(input, cuts), parse_theirs(input, cuts)) {
        (Ok(ours), Ok(theirs)) => {
            prop_assert_eq!(ours.headers_complete, theirs.headers_complete, "{}", shown);
            prop_assert_eq!(
                ours.messages_complete,
                theirs.messages_complete,
                "{}",
                shown
            );
            // Difference 2: before the end of the head, part 5 has reported
            // nothing yet, and ours the lines it has read.
            if theirs.headers_complete == 1 {
                prop_assert_eq!(normalized(ours), normalized(theirs), "{}", shown);
            }
        }
        (Err(ours), Err(theirs)) => {
            prop_assert_eq!(ours.status_code(), theirs.status_code(), "{}", shown);
        }
        (Ok(ours), Err(theirs)) => {
            // Difference 1: ours waits for the end of a line that httparse
            // has refused already. Finishing the head must settle it.
            prop_assert_eq!(
                ours.headers_complete,
                0,
                "{} refused by httparse only",
                shown
            );
            let finished = [input, b"\r\n\r\n"].concat();
            match parse_ours(&finished, cuts) {
                Err(error) => {
                    prop_assert_eq!(error.status_code(), theirs.status_code(), "{}", shown)
                }
                Ok(_) => prop_assert!(false, "{} refused by httparse ({}) only", shown, theirs),
            }
        }
        (Err(ours), Ok(_)) => prop_assert!(false, "{} refused by ours only ({})", shown, ours),
    }
    Ok(())
}

/// Offsets to cut an input of `length` bytes at: a few random ones, or
/// (one time in ten) every byte.
fn cuts(indexes: &[Index], every_byte: bool, length: usize) -> Vec<usize> {
    if every_byte {
        return (1..length).collect();
    }
    let mut cuts: Vec<usize> = indexes.iter().map(|i| i.index(length + 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// The pieces strategy: up to 8 random cuts, or every byte.
fn cutting() -> impl Strategy<Value = (Vec<Index>, bool)> {
    (
        prop::collection::vec(any::<Index>(), 0..8),
        prop::bool::weighted(0.1),
    )
}

// ---------------------------------------------------------------------------
// Valid requests.

/// One token character (RFC 9110 tchar), of which methods and header names
/// are made, as a regex. (A macro, so that `concat!` can build on it.)
macro_rules! tchar {
    () => {
        "[-!#$%&'*+.^_`|~0-9A-Za-z]"
    };
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"
        ])
        .prop_map(String::from),
        concat!(tchar!(), "{1,8}"),
    ]
}

fn target() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "/[!-~]{0,24}",
        1 => Just("*".to_string()),
        1 => "http://[a-z]{1,8}(:[0-9]{1,5})?/[!-~]{0,8}",
        // Unencoded UTF-8, which both parsers let through.
        1 => "/[a-z]{0,3}[é€ü][a-z]{0,3}",
    ]
}

/// A header: name, the whitespace after the colon, the value, the
/// whitespace after it.
type Header = (String, String, String, String);

fn header() -> impl Strategy<Value = Header> {
    let name = prop_oneof![
        prop::sample::select(vec!["User-Agent", "Accept", "Content-Type", "Expect"])
            .prop_map(String::from),
        concat!(tchar!(), "{1,12}"),
    ];
    // Visible ASCII and UTF-8, with spaces and tabs inside but not at the ends.
    let value = prop_oneof![
        4 => "([!-~é]([ \t!-~é]{0,24}[!-~é])?)?",
        1 => "[0-9]{1,3}",
    ];
    (name, "[ \t]{0,2}", value, "[ \t]{0,2}")
}

/// How the body is framed: the body, and the `Content-Length` headers
/// announcing it (more than one, in any case, with leading zeros), or none.
fn framing() -> impl Strategy<Value = (Vec<u8>, Vec<String>)> {
    let content_length = (
        prop::sample::select(vec!["Content-Length", "content-length", "CONTENT-LENGTH"]),
        "0{0,2}",
    );
    prop_oneof![
        // No body, no Content-Length.
        1 => Just((Vec::new(), Vec::new())),
        3 => (prop::collection::vec(any::<u8>(), 0..64), prop::collection::vec(content_length, 1..3))
            .prop_map(|(body, headers)| {
                let headers = headers
                    .into_iter()
                    .map(|(name, zeros)| format!("{name}: {zeros}{}", body.len()))
                    .collect();
                (body, headers)
            }),
        // Chunked: refused with 501 by both (400 with a Content-Length).
        1 => Just((b"0\r\n\r\n".to_vec(), vec!["Transfer-Encoding: chunked".to_string()])),
    ]
}

/// A valid request, as bytes: up to two empty lines first, the request line,
/// `Host`, the headers (the framing ones among them), the empty line, the body, and
/// perhaps bytes after the body. Each line ends in CRLF or, now and then, in
/// a bare LF.
fn request() -> impl Strategy<Value = Vec<u8>> {
    message_and_after().prop_map(|(message, after)| [message, after].concat())
}

/// A valid request, as in [`request`], and apart from it the bytes that
/// follow it (another request, say), which are not part of it.
fn message_and_after() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    (
        0..3usize,
        (
            method(),
            target(),
            prop::sample::select(vec!["HTTP/1.1", "HTTP/1.0"]),
        ),
        prop::collection::vec(header(), 0..10),
        framing(),
        any::<Index>(),
        prop::collection::vec(prop::bool::weighted(0.15), 16),
        prop::collection::vec(any::<u8>(), 0..8),
    )
        .prop_map(
            |(
                empty_lines,
                (method, target, version),
                headers,
                (body, framing),
                at,
                bare_lf,
                after,
            )| {
                let mut lines = vec![String::new(); empty_lines];
                lines.push(format!("{method} {target} {version}"));
                // The one header HTTP/1.1 requires.
                lines.push("Host: example.com".into());
                let mut fields: Vec<String> = headers
                    .iter()
                    .map(|(name, before, value, after)| format!("{name}:{before}{value}{after}"))
                    .collect();
                for line in framing {
                    let at = at.index(fields.len() + 1);
                    fields.insert(at, line);
                }
                lines.extend(fields);
                lines.push(String::new());
                let mut bytes = Vec::new();
                for (i, line) in lines.iter().enumerate() {
                    bytes.extend_from_slice(line.as_bytes());
                    let end: &[u8] = if bare_lf[i % bare_lf.len()] {
                        b"\n"
                    } else {
                        b"\r\n"
                    };
                    bytes.extend_from_slice(end);
                }
                bytes.extend_from_slice(&body);
                (bytes, after)
            },
        )
}

// ---------------------------------------------------------------------------
// Invalid requests: valid ones, mutated.

/// A byte likely to break something: line ends, separators, control
/// characters, bytes above 127, or any byte.
fn nasty_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => prop::sample::select(vec![b'\r', b'\n', b' ', b':', b'\t', b'/', 0, 0x01, 0x7f, 0x80, 0xc3, 0xff]),
        1 => any::<u8>(),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(Index, u8),
    Delete(Index),
    Insert(Index, u8),
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), nasty_byte()).prop_map(|(at, b)| Mutation::Replace(at, b)),
        2 => any::<Index>().prop_map(Mutation::Delete),
        3 => (any::<Index>(), nasty_byte()).prop_map(|(at, b)| Mutation::Insert(at, b)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for mutation in mutations {
        let length = bytes.len();
        match mutation {
            Mutation::Replace(at, b) if length > 0 => bytes[at.index(length)] = *b,
            Mutation::Delete(at) if length > 0 => {
                bytes.remove(at.index(length));
            }
            Mutation::Insert(at, b) => bytes.insert(at.index(length + 1), *b),
            Mutation::Truncate(at) => bytes.truncate(at.index(length + 1)),
            _ => {}
        }
    }
    bytes
}

// ---------------------------------------------------------------------------
// The properties. Their case counts add up to 11,000.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Valid requests: both accept them, with equal records.
    #[test]
    fn valid_requests(request in request(), (indexes, every_byte) in cutting()) {
        let cuts = cuts(&indexes, every_byte, request.len());
        agree(&request, &cuts)?;
        // And ours accepts what it should: everything but chunked bodies.
        if let Ok(seen) = parse_ours(&request, &cuts) {
            prop_assert_eq!(seen.messages_complete, 1);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6_000))]

    /// Valid requests with one to three bytes replaced, deleted or
    /// inserted, or cut short: same outcome in both.
    #[test]
    fn mutated_requests(
        request in request(),
        mutations in prop::collection::vec(mutation(), 1..4),
        (indexes, every_byte) in cutting(),
    ) {
        let request = mutate(request, &mutations);
        agree(&request, &cuts(&indexes, every_byte, request.len()))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    /// Valid requests cut short: neither parser finishes, neither refuses
    /// (but chunked ones, refused as soon as their head is in).
    #[test]
    fn truncated_requests(
        (message, _) in message_and_after(),
        end in any::<Index>(),
        (indexes, every_byte) in cutting(),
    ) {
        let truncated = &message[..end.index(message.len())];
        let cuts = cuts(&indexes, every_byte, truncated.len());
        agree(truncated, &cuts)?;
        if parse_ours(&message, &[]).is_ok() {
            let seen = parse_ours(truncated, &cuts);
            prop_assert!(matches!(&seen, Ok(seen) if seen.messages_complete == 0), "{:?}", seen);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    /// Around MAX_HEADERS headers, valid or mutated: both accept the same
    /// counts and refuse the same with 431 (or 400, once mutated).
    #[test]
    fn many_headers(
        count in (MAX_HEADERS - 3)..(MAX_HEADERS + 4),
        mutations in prop::collection::vec(mutation(), 0..2),
        (indexes, every_byte) in cutting(),
    ) {
        let request = format!(
            "GET / HTTP/1.1\r\nHost: x\r\n{}\r\n",
            "X-Header: value\r\n".repeat(count - 1)
        );
        let request = mutate(request.into_bytes(), &mutations);
        agree(&request, &cuts(&indexes, every_byte, request.len()))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    /// Valid heads around MAX_HEAD_BYTES, cut anywhere: both accept them up
    /// to the limit and answer 431 past it.
    #[test]
    fn heads_around_the_limit(
        size in (MAX_HEAD_BYTES - 40)..(MAX_HEAD_BYTES + 40),
        empty_lines in 0..3usize,
        indexes in prop::collection::vec(any::<Index>(), 0..16),
    ) {
        let start = format!("{}GET / HTTP/1.1\r\nHost: x\r\nX: ", "\r\n".repeat(empty_lines));
        let filler = "a".repeat(size - start.len() - b"\r\n\r\n".len());
        let request = format!("{start}{filler}\r\n\r\n").into_bytes();
        prop_assert_eq!(request.len(), size);
        let cuts = cuts(&indexes, false, request.len());
        agree(&request, &cuts)?;
        let status = parse_ours(&request, &cuts).err().map(|error| error.status_code());
        prop_assert_eq!(status, (size > MAX_HEAD_BYTES).then_some(431));
    }
}
