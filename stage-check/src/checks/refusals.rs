//! The requests a server must refuse, as rows of one table: each row is a
//! check that sends its requests, one connection each and in order, and
//! expects every one answered with its status. Only the status is judged
//! (see [`expect_refusal`]): how the answer is formed is
//! `error_response_well_formed`'s question.
//!
//! A row is written with the `refusal!` macro below, in the manner of
//! httparse's `req!` tests: the check's fields, then what it sends and the
//! status it expects, and, if a more basic check judges the same flaw
//! first, that check (`rests_on`). A new refusal is one more row; its place in the run
//! is given in [`HTTP`](super::HTTP), as for every other check.

use super::part5::IN_PIECES;
use crate::client::{Failure, expect_refusal};
use crate::{Check, Needs, Rule, Target};

/// A [`Check`] that sends each of `requests` and expects `status` back.
///
/// A check's `run` is a plain function pointer, which cannot carry the
/// row's requests along (as a Python closure would): so the macro writes a
/// small function for each row, inside the row, that sends its requests.
/// Each request is anything that reads as bytes (`b"…"`, or a `String`
/// built by `format!`).
macro_rules! refusal {
    (
        name: $name:literal,
        proves: $proves:literal,
        rule: $rule:expr,
        since: $since:literal,
        hint: $hint:literal,
        requests: [$($request:expr),+ $(,)?],
        status: $status:literal
        $(, rests_on: $basis:expr)? $(,)?
    ) => {
        Check {
            name: $name,
            proves: $proves,
            rule: $rule,
            since: $since,
            hint: $hint,
            needs: Needs::Nothing,
            run: {
                fn run(target: &Target) -> Result<(), Failure> {
                    // The check whose failure, earlier in the run, makes
                    // this one's not judged, if the row names one.
                    let basis: Option<&'static str> = None $(.or(Some($basis)))?;
                    let rests_on = |failure: Failure| match basis {
                        Some(basis) => failure.or_see(basis),
                        None => failure,
                    };
                    $(expect_refusal(target, $request.as_ref(), $status).map_err(rests_on)?;)+
                    Ok(())
                }
                run
            },
        }
    };
}

pub(crate) const HOST_REQUIRED: Check = refusal! {
    name: "host_required",
    proves: "an HTTP/1.1 request with no Host, or with two, is answered 400",
    rule: Rule::Http("RFC 9112 §3.2"),
    since: 5,
    hint: "HTTP/1.1 requires exactly one Host header: count them as they go by, and answer 400 when the head ends with none or two (book: Part 5, where the body ends).",
    requests: [
        b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: one\r\nHost: two\r\n\r\n",
    ],
    status: 400,
};

pub(crate) const BAD_REQUEST_LINE: Check = refusal! {
    name: "bad_request_line",
    proves: "a malformed request line is answered 400",
    rule: Rule::Stage(
        "HTTP only recommends 400 here, but the original's thread dies on a malformed request and leaves its client waiting: answering every bad request is this stage's fix",
    ),
    since: 5,
    hint: "A request line is `METHOD SP target SP HTTP/1.x`; answer anything else with 400 instead of failing in silence (book: Part 5, what the original gets wrong).",
    requests: [
        b"GET /\r\n\r\n",
        b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n",
        b"GET / FTP/1.1\r\nHost: x\r\n\r\n",
        b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
    status: 400,
};

pub(crate) const BAD_HEADER_LINE: Check = refusal! {
    name: "bad_header_line",
    proves: "a header line without a colon, or with a space in its name, is answered 400",
    rule: Rule::Stage(
        "HTTP only recommends 400 for a line that is not a header, but the post's parser raises on one: answering it is part of writing a parser",
    ),
    since: 6,
    hint: "A header line is `Name: value`, the name a token with no spaces; answer anything else with 400 (book: Part 6).",
    requests: [
        b"GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: x\r\n\r\n",
    ],
    status: 400,
};

pub(crate) const CONTENT_LENGTH_NOT_A_NUMBER: Check = refusal! {
    name: "content_length_not_a_number",
    proves: "a Content-Length that is not all digits (-1, +5, abc) is answered 400",
    rule: Rule::Http("RFC 9112 §6.3"),
    since: 5,
    hint: "Content-Length is ASCII digits only; int() in Python accepts more than HTTP does (book: Part 5, where the body ends).",
    requests: [
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\nabcde",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nabcde",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nabcde",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\nabcde",
    ],
    status: 400,
};

pub(crate) const CONTENT_LENGTHS_DISAGREE: Check = refusal! {
    name: "content_lengths_disagree",
    proves: "two Content-Length headers with different values are answered 400",
    rule: Rule::Http("RFC 9110 §8.6, RFC 9112 §6.3"),
    since: 5,
    hint: "When Content-Length is repeated, every copy must agree (book: Part 5, where the body ends).",
    requests: [
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
    ],
    status: 400,
};

pub(crate) const HEAD_TOO_LARGE: Check = refusal! {
    name: "head_too_large",
    proves: "a head over 8 KiB is answered 431",
    rule: Rule::Stage(
        "HTTP lets a server refuse a head it finds too large with any 4xx; the stage bounds what it buffers at 8 KiB, and 431 tells the client which part was too large",
    ),
    since: 5,
    hint: "Bound what you buffer: stop at 8 KiB of head and answer 431 Request Header Fields Too Large (book: Part 5, what the original gets wrong).",
    requests: [
        format!("GET / HTTP/1.1\r\nHost: x\r\nX-Long: {}\r\n\r\n", "a".repeat(9 * 1024)),
    ],
    status: 431,
    // A server that takes its first read for the whole request answers
    // the first kilobyte: `request_in_pieces` names that flaw first.
    rests_on: IN_PIECES,
};

pub(crate) const BODY_TOO_LARGE: Check = refusal! {
    name: "body_too_large",
    proves: "a Content-Length over 1 MiB is answered 413 before any of the body is sent",
    rule: Rule::Stage(
        "HTTP lets a server take a body of any size; the original bounds nothing, and the stage refuses over 1 MiB from the head alone",
    ),
    since: 5,
    hint: "Judge Content-Length as soon as the head is in, and answer 413 Content Too Large without reading the body (book: Part 5, what the original gets wrong).",
    // No body is sent: the answer must come from the head alone.
    requests: [b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n"],
    status: 413,
};
