//! The checks part 6 introduces, with its own parser: a request read a byte
//! at a time, header lines as HTTP writes them (no space after the colon,
//! 1,200 of them), and the body counted out exactly. (The bad header line it
//! refuses is a row of [`refusals`](super::refusals).)

use super::CURL_REQUEST;
use super::part5::IN_PIECES;
use crate::client::{
    BYTE_PAUSE, Conn, Failure, IO_TIMEOUT, Left, Method, WELL_FORMED, answer_at, connection_after,
    exchange, exchange_lenient, expect_status, next_answer, send_in_pieces, status,
};
use crate::{Check, Needs, Rule, Target};

pub(crate) const REQUEST_BYTE_BY_BYTE: Check = Check {
    name: "request_byte_by_byte",
    proves: "a request arriving one byte at a time gets the same answer as when it comes whole",
    rule: Rule::Http("RFC 9112 §2.1: a request is its bytes, however TCP cuts them"),
    since: 6,
    hint: "Keep the part of the head already received, and parse on when more arrives (book: Part 6, the split buffer).",
    needs: Needs::Nothing,
    run: request_byte_by_byte,
};

fn request_byte_by_byte(target: &Target) -> Result<(), Failure> {
    let pieces: Vec<&[u8]> = CURL_REQUEST.chunks(1).collect();
    // A server that fails part 5's pieces fails single bytes too.
    send_in_pieces(target, &pieces, BYTE_PAUSE).map_err(|failure| failure.or_see(IN_PIECES))
}

pub(crate) const HEADER_WITHOUT_SPACE: Check = Check {
    name: "header_without_space",
    proves: "a header written `Name:value`, with no space after the colon, is read like any other",
    rule: Rule::Http("RFC 9112 §5.1"),
    since: 6,
    hint: "Split a header line at its first colon and trim spaces and tabs around the value; the post's parser splits at \": \" and fails (book: Part 6).",
    needs: Needs::Nothing,
    run: header_without_space,
};

fn header_without_space(target: &Target) -> Result<(), Failure> {
    let conn = exchange(
        target.addr,
        b"GET / HTTP/1.1\r\nHost:localhost\r\nAccept:\t*/* \r\n\r\n",
    )?;
    let whole = exchange(target.addr, CURL_REQUEST)?;
    let expected = status(&whole, WELL_FORMED)?;
    expect_status(&conn, expected, WELL_FORMED)
}

pub(crate) const MANY_HEADERS: Check = Check {
    name: "many_headers",
    proves: "a request with 1,200 short headers gets an answer (200, or a 4xx if that is too many), not a crash",
    rule: Rule::Http("RFC 9110 §5.4"),
    since: 6,
    hint: "Read header lines in a loop, not with a call per line: the original recurses and dies on 1,200 headers (book: Part 6).",
    needs: Needs::Nothing,
    run: many_headers,
};

fn many_headers(target: &Target) -> Result<(), Failure> {
    // 1,200 lines of 6 bytes: 7.2 KB, under the 8 KiB head limit.
    let request = format!(
        "GET / HTTP/1.1\r\nHost: x\r\n{}\r\n",
        "A: b\r\n".repeat(1200)
    );
    let conn = exchange_lenient(target.addr, request.as_bytes())?;
    match status(&conn, WELL_FORMED)? {
        200 | 400..=499 => Ok(()),
        other => Err(conn.fail(format!("200, or a 4xx, not {other}"))),
    }
}

pub(crate) const BYTES_AFTER_BODY: Check = Check {
    name: "bytes_after_body",
    proves: "bytes after Content-Length's worth of body are not body: after an answer that says Connection: close, they get no answer; without it, they are the next request, and get theirs",
    rule: Rule::Http("RFC 9112 §6.3, §9.6"),
    since: 6,
    hint: "Count the body out by Content-Length and stop there; what follows is the next request, which a server that closes after one answer leaves unread (book: Part 6).",
    needs: Needs::Nothing,
    run: bytes_after_body,
};

fn bytes_after_body(target: &Target) -> Result<(), Failure> {
    // A second request glued to the first one's body.
    let request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n\
        abcGET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut conn = Conn::open(target.addr)?;
    conn.send_lenient(request);
    conn.read_answer(Method::Other, IO_TIMEOUT)?;
    status(&conn, WELL_FORMED)?;
    let (answer, end) = answer_at(&conn, 0, Method::Other)?;
    // Bytes answered as part of a body framed by the close: a second
    // answer inside the first. (One after it is `connection_after`'s to
    // judge.)
    if answer.body.windows(7).any(|w| w == b"HTTP/1.") {
        return Err(conn.fail("one answer; a second one came, to the bytes after the body"));
    }
    match connection_after(&mut conn, &answer, end) {
        Ok(Left::Closed) => Ok(()),
        // Kept open: the glued request is the next one, and is answered.
        Ok(Left::Open) => next_answer(&mut conn, end, Method::Other).map(drop),
        Err(failure) if conn.received().len() > end => Err(conn.fail(format!(
            "one answer; a second one came, to the bytes after the body ({})",
            failure.expected
        ))),
        Err(failure) => Err(failure),
    }
}
