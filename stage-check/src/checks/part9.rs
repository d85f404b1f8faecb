//! The checks part 9 introduces, with persistent connections: request
//! after request on one connection, pipelined or not, each answer framed so
//! that the client knows where the next begins; `Connection: close` heard
//! and said; an idle connection let go by a timer; and none of the shapes
//! by which two parsers could disagree on where a request ends (request
//! smuggling) taken for a second request.
//!
//! The checks of what HTTP requires judge a connection by what each answer
//! says of it (RFC 9112, section 9.6): after `Connection: close`, the close
//! and no further answer; without it, the next request's answer. So a
//! server that closes after every answer, saying so, passes them, as HTTP
//! allows. Keeping the connection is the stage's lesson, and its own
//! checks ask for it: `two_requests_one_connection` first, which the other
//! checks that need a kept connection rest on.

use std::thread;

use super::PAGE;
use crate::client::{
    BYTE_PAUSE, Conn, ERROR_FORM, Failure, IO_TIMEOUT, Left, Method, Response, answer_at,
    connection_after, exchange, next_answer, next_exchange, read_response, shown,
};
use crate::{Check, Needs, Rule, Target};

/// The check that proves the connection kept: the checks that need one
/// are not judged when it failed.
pub(crate) const KEPT: &str = "two_requests_one_connection";

/// Why the stage keeps connections: its lesson.
const KEEPS: &str = "HTTP lets a server close after every answer if it says so (RFC 9112 §9.3); keeping the connection for the next request, which saves a handshake per request, is this stage's lesson";

/// `GET path` on HTTP/1.1, with nothing else to say.
pub(crate) fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").into_bytes()
}

/// The status and body `request` gets on a connection of its own: what it
/// must get on a shared one too.
fn alone(target: &Target, request: &[u8]) -> Result<(u16, Vec<u8>), Failure> {
    let conn = exchange(target.addr, request)?;
    let answer = read_response(conn.received(), Method::Other)
        .map_err(|why| conn.fail(why).see(crate::client::WELL_FORMED))?;
    Ok((answer.status, answer.body))
}

/// Sends `request` on a new connection and reads its answer by its framing;
/// fails, resting on [`KEPT`], unless the answer keeps the connection.
/// Returns the connection and where the answer ends.
pub(crate) fn kept_after(target: &Target, request: &[u8]) -> Result<(Conn, usize), Failure> {
    let mut conn = Conn::open(target.addr)?;
    conn.send(request)?;
    conn.read_answer(Method::Other, IO_TIMEOUT)?;
    let (answer, end) = answer_at(&conn, 0, Method::Other)?;
    if !answer.keeps_connection() || conn.closed() {
        return Err(conn
            .fail("an answer that keeps the connection open (no `Connection: close`)")
            .see(KEPT));
    }
    Ok((conn, end))
}

/// Fails unless `answer`, the one to `what`, has the status and body it
/// gets when sent alone.
fn same_as_alone(
    conn: &Conn,
    answer: &Response,
    what: &str,
    expected: &(u16, Vec<u8>),
) -> Result<(), Failure> {
    if (answer.status, &answer.body) != (expected.0, &expected.1) {
        return Err(conn.fail(format!(
            "the answer to {what} as when it is sent alone: status {} and the body {}; \
             this one has status {} and the body {}",
            expected.0,
            shown(&expected.1),
            answer.status,
            shown(&answer.body)
        )));
    }
    Ok(())
}

pub(crate) const TWO_REQUESTS_ONE_CONNECTION: Check = Check {
    name: KEPT,
    proves: "two GET /index.html, one after the other on one connection, are both answered with the page, and neither answer says Connection: close",
    rule: Rule::Stage(KEEPS),
    since: 9,
    hint: "After an answer, go back to reading the same socket for the next request, with a parser made afresh; close only when the client does or asks to (book: Part 9).",
    needs: Needs::Nothing,
    run: two_requests_one_connection,
};

fn two_requests_one_connection(target: &Target) -> Result<(), Failure> {
    let page = get("/index.html");
    let (mut conn, end) = kept_after(target, &page).map_err(|mut failure| {
        failure.see = None;
        failure
    })?;
    let (second, _) = next_exchange(&mut conn, end, &page, Method::Other)?;
    let (first, _) = answer_at(&conn, 0, Method::Other)?;
    for (n, answer) in [(1, &first), (2, &second)] {
        if answer.status != 200 || answer.body != PAGE {
            return Err(conn.fail(format!("answer {n} to be 200 with the page")));
        }
    }
    if !second.keeps_connection() {
        return Err(conn.fail("the second answer to keep the connection too"));
    }
    Ok(())
}

/// How many requests `pipelined_in_order` sends in one write.
const PIPELINED: usize = 16;

/// The path of the `n`th pipelined request: the page, a query (which part
/// 8's application answers with what it got) or a path it does not know,
/// so that an answer out of order shows.
fn pipelined_path(n: usize) -> String {
    match n % 3 {
        0 => "/index.html".into(),
        1 => format!("/?n={n}"),
        _ => format!("/nothing-here-{n}"),
    }
}

/// The check of pipelined answers in order: the checks that pipeline two
/// requests are not judged when it failed (out of order, the answer to the
/// second comes first).
const PIPELINED_NAME: &str = "pipelined_in_order";

pub(crate) const PIPELINED_IN_ORDER: Check = Check {
    name: PIPELINED_NAME,
    proves: "16 requests sent in one write (pipelined) are answered in their order, each as when sent alone; up to an answer that says Connection: close, after which none is",
    rule: Rule::Http("RFC 9112 §9.3.2, §9.6"),
    since: 9,
    hint: "What is left in the buffer after one request is the start of the next: parse it before reading the socket again, and answer in order (book: Part 9).",
    needs: Needs::Nothing,
    run: pipelined_in_order,
};

fn pipelined_in_order(target: &Target) -> Result<(), Failure> {
    let paths: Vec<String> = (1..=PIPELINED).map(pipelined_path).collect();
    let requests: Vec<Vec<u8>> = paths.iter().map(|path| get(path)).collect();
    let expected = requests
        .iter()
        .map(|request| alone(target, request))
        .collect::<Result<Vec<_>, _>>()?;
    let mut conn = Conn::open(target.addr)?;
    conn.send(&requests.concat())?;
    let mut end = 0;
    for (n, (path, expected)) in paths.iter().zip(&expected).enumerate() {
        let (answer, next) = next_answer(&mut conn, end, Method::Other)?;
        let what = format!("request {} of {PIPELINED}, GET {path},", n + 1);
        same_as_alone(&conn, &answer, &what, expected)?;
        end = next;
        // A server may end the connection at an answer, if it says so:
        // then nothing may follow it.
        if !answer.keeps_connection() {
            return connection_after(&mut conn, &answer, end).map(drop);
        }
    }
    Ok(())
}

pub(crate) const SECOND_REQUEST_BYTE_BY_BYTE: Check = Check {
    name: "second_request_byte_by_byte",
    proves: "on a kept connection, a second request arriving one byte at a time gets the answer it gets alone",
    rule: Rule::Stage(
        "the parser made afresh for the next request must read it however TCP cuts it (RFC 9112 §2.1), as part 6's did for the first; a server that closes after each answer never meets this",
    ),
    since: 9,
    hint: "Start each request's parser from what is left over, then keep feeding it as bytes arrive, as for the first request (book: Part 9).",
    needs: Needs::Nothing,
    run: second_request_byte_by_byte,
};

fn second_request_byte_by_byte(target: &Target) -> Result<(), Failure> {
    // The post's curl request, which `request_byte_by_byte` sends first
    // on a connection of its own, and whose pacing the read timeout of our
    // tests is measured against.
    let second = super::CURL_REQUEST;
    let expected = alone(target, second)?;
    let (mut conn, end) = kept_after(target, &get("/index.html"))?;
    for byte in second.chunks(1) {
        thread::sleep(BYTE_PAUSE);
        conn.send(byte)?;
    }
    let (answer, _) = next_answer(&mut conn, end, Method::Other)?;
    same_as_alone(&conn, &answer, "GET / sent a byte at a time", &expected)
}

pub(crate) const HEAD_THEN_GET: Check = Check {
    name: "head_then_get",
    proves: "HEAD then GET, in one write: the answer to HEAD has no body, so the answer to GET follows its head at once, as when GET is sent alone",
    rule: Rule::Http("RFC 9112 §6.3, RFC 9110 §9.3.2"),
    since: 9,
    hint: "The answer to HEAD says the Content-Length GET would get but sends no body; on a kept connection, a body there would be read as the next answer (book: Part 9).",
    needs: Needs::Nothing,
    run: head_then_get,
};

fn head_then_get(target: &Target) -> Result<(), Failure> {
    let page = get("/index.html");
    let expected = alone(target, &page)?;
    let head = b"HEAD /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let mut conn = Conn::open(target.addr)?;
    conn.send(&[&head[..], &page].concat())?;
    conn.read_answer(Method::Head, IO_TIMEOUT)?;
    let (answer, end) = answer_at(&conn, 0, Method::Head)?;
    if connection_after(&mut conn, &answer, end)? == Left::Closed {
        return Ok(());
    }
    let (answer, _) = next_answer(&mut conn, end, Method::Other).map_err(|mut failure| {
        failure.expected = format!(
            "the answer to GET right after the head of the answer to HEAD ({}): was a body sent \
             after HEAD's?",
            failure.expected
        );
        // Out of order, GET's answer comes first and is read as HEAD's.
        failure.see(PIPELINED_NAME)
    })?;
    same_as_alone(&conn, &answer, "GET after HEAD", &expected).map_err(|f| f.see(PIPELINED_NAME))
}

/// The size of the body `body_drained_before_next` sends.
const IGNORED_BODY: usize = 10 * 1024;

pub(crate) const BODY_DRAINED_BEFORE_NEXT: Check = Check {
    name: "body_drained_before_next",
    proves: "a 10 KiB POST body that the application ignores (POST /some_json) is read to its end all the same: the request after it on the connection gets the answer it gets alone",
    rule: Rule::Http("RFC 9112 §6.3, §9.6"),
    since: 9,
    hint: "Read the whole body by Content-Length even when no handler wants it, or close the connection (saying so); otherwise the body is read as the next request (book: Part 9).",
    needs: Needs::Nothing,
    run: body_drained_before_next,
};

fn body_drained_before_next(target: &Target) -> Result<(), Failure> {
    // The body is made of requests that ask to close: a server that reads
    // it as requests answers one of them, and closes, instead of the next.
    let fake = b"GET /in-the-body HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let mut body = fake.repeat(IGNORED_BODY / fake.len());
    body.resize(IGNORED_BODY, b'x');
    let head = format!(
        "POST /some_json HTTP/1.1\r\nHost: localhost\r\nContent-Length: {IGNORED_BODY}\r\n\r\n"
    );
    let next = get("/?n=after-the-body");
    let expected = alone(target, &next)?;
    let mut conn = Conn::open(target.addr)?;
    conn.send(&[head.as_bytes(), &body].concat())?;
    conn.read_answer(Method::Other, IO_TIMEOUT)?;
    let (answer, end) = answer_at(&conn, 0, Method::Other)?;
    if connection_after(&mut conn, &answer, end)? == Left::Closed {
        return Ok(());
    }
    let (answer, _) = next_exchange(&mut conn, end, &next, Method::Other)?;
    same_as_alone(&conn, &answer, "the GET after the body", &expected)
}

pub(crate) const CONNECTION_CLOSE_HONOURED: Check = Check {
    name: "connection_close_honoured",
    proves: "a request that says Connection: close, Close, or keep-alive, CLOSE is answered with Connection: close, the connection closed, and a request sent after it in the same write not answered",
    rule: Rule::Http("RFC 9112 §9.6, RFC 9110 §7.6.1"),
    since: 9,
    hint: "Connection is a comma-separated list of options, compared without regard to case: look for `close` among them, answer with Connection: close, and read nothing more (book: Part 9).",
    needs: Needs::Nothing,
    run: connection_close_honoured,
};

fn connection_close_honoured(target: &Target) -> Result<(), Failure> {
    for option in ["close", "Close", "keep-alive, CLOSE"] {
        let request =
            format!("GET /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: {option}\r\n\r\n");
        let mut conn = Conn::open(target.addr)?;
        conn.send(&[request.as_bytes(), &get("/after-close")].concat())?;
        conn.read_answer(Method::Other, IO_TIMEOUT)?;
        let (answer, end) = answer_at(&conn, 0, Method::Other)?;
        if !answer.connection_has("close") {
            // (An answer to the request after it, out of order, lacks it too.)
            return Err(conn.fail(format!(
                "`Connection: close` in the answer to a request that says `Connection: {option}`: \
                 the server must close after it (RFC 9112, section 9.6), and so says it does"
            ))
            .or_see(PIPELINED_NAME));
        }
        connection_after(&mut conn, &answer, end)?;
    }
    Ok(())
}

pub(crate) const HTTP10_CLOSES: Check = Check {
    name: "http10_closes",
    proves: "an HTTP/1.0 request without Connection: keep-alive gets an answer that does not keep the connection, the close, and no answer to a request sent after it",
    rule: Rule::Http("RFC 9112 §9.3, §9.6"),
    since: 9,
    hint: "An HTTP/1.0 client expects the close unless it asked for keep-alive: answer, say Connection: close, and close (book: Part 9).",
    needs: Needs::Nothing,
    run: http10_closes,
};

fn http10_closes(target: &Target) -> Result<(), Failure> {
    let request = b"GET /index.html HTTP/1.0\r\nHost: localhost\r\n\r\n";
    let mut conn = Conn::open(target.addr)?;
    conn.send(&[&request[..], &request[..]].concat())?;
    conn.read_answer(Method::Other, IO_TIMEOUT)?;
    let (answer, end) = answer_at(&conn, 0, Method::Other)?;
    if answer.keeps_connection() {
        return Err(conn.fail(
            "an answer that does not keep the connection (Connection: close, or an HTTP/1.0 \
             status line without keep-alive): an HTTP/1.0 request without keep-alive ends it \
             (RFC 9112, section 9.3)",
        ));
    }
    connection_after(&mut conn, &answer, end).map(drop)
}

pub(crate) const HTTP10_KEEP_ALIVE: Check = Check {
    name: "http10_keep_alive",
    proves: "an HTTP/1.0 request with Connection: keep-alive gets Connection: keep-alive in its answer, and the next request on the connection is answered",
    rule: Rule::Stage(
        "HTTP/1.0's keep-alive is an option a server may decline (RFC 9112 §9.3); servers that forget it (uvicorn) make every HTTP/1.0 client, ab among them, open a connection per request",
    ),
    since: 9,
    hint: "An HTTP/1.0 request that says Connection: keep-alive wants the connection kept: say Connection: keep-alive in the answer, which HTTP/1.0 needs to hear (book: Part 9).",
    needs: Needs::Nothing,
    run: http10_keep_alive,
};

fn http10_keep_alive(target: &Target) -> Result<(), Failure> {
    let request = b"GET /index.html HTTP/1.0\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n";
    let mut conn = Conn::open(target.addr)?;
    conn.send(request)?;
    conn.read_answer(Method::Other, IO_TIMEOUT)?;
    let (answer, end) = answer_at(&conn, 0, Method::Other)?;
    if !answer.connection_has("keep-alive") || answer.connection_has("close") {
        return Err(conn.fail(
            "`Connection: keep-alive` in the answer: an HTTP/1.0 client takes an answer without \
             it as the last on the connection",
        ));
    }
    next_exchange(&mut conn, end, request, Method::Other).map(drop)
}

pub(crate) const REFUSAL_CLOSES: Check = Check {
    name: "refusal_closes",
    proves: "a request refused for a bad header line gets a 4xx with Connection: close, the close, and no answer to a request sent after it",
    rule: Rule::Stage(
        "HTTP requires the close only after a body it cannot frame (RFC 9112 §6.3); after any request it refuses, the stage cannot be sure where the next one starts, and closes, saying so",
    ),
    since: 9,
    hint: "Once a request is refused, the bytes after it cannot be trusted to start a request: answer with Connection: close, and close (book: Part 9).",
    needs: Needs::Nothing,
    run: refusal_closes,
};

fn refusal_closes(target: &Target) -> Result<(), Failure> {
    let refused = b"GET /index.html HTTP/1.1\r\nHost: localhost\r\nNo colon here\r\n\r\n";
    let mut conn = Conn::open(target.addr)?;
    conn.send_lenient(&[&refused[..], &get("/after-refusal")].concat());
    conn.read_answer(Method::Other, IO_TIMEOUT)?;
    let (answer, end) = answer_at(&conn, 0, Method::Other).map_err(|f| f.see(ERROR_FORM))?;
    if !(400..500).contains(&answer.status) {
        return Err(conn
            .fail(format!(
                "a 4xx to a header line without a colon, not {}",
                answer.status
            ))
            .see("bad_header_line"));
    }
    if answer.keeps_connection() {
        return Err(conn.fail("`Connection: close` with the refusal, then the close"));
    }
    connection_after(&mut conn, &answer, end).map(drop)
}

pub(crate) const HALF_CLOSE_ANSWERED: Check = Check {
    name: "half_close_answered",
    proves: "a client that closes its sending side right after its request (a half close, as `nc -N` does) still gets the whole answer before the close",
    rule: Rule::Stage(
        "HTTP says nothing of a half close; a server that reads ahead for the next request meets the end of input while the answer is due, and must still send it",
    ),
    since: 9,
    hint: "A read of zero bytes means the client sends nothing more, not that it reads nothing more: finish the answers due, then close (book: Part 9).",
    needs: Needs::Nothing,
    run: half_close_answered,
};

fn half_close_answered(target: &Target) -> Result<(), Failure> {
    let page = get("/index.html");
    let expected = alone(target, &page)?;
    let mut conn = Conn::open(target.addr)?;
    conn.send(&page)?;
    conn.finish_sending();
    conn.read_to_close(IO_TIMEOUT)?;
    let (answer, _) = answer_at(&conn, 0, Method::Other)?;
    same_as_alone(
        &conn,
        &answer,
        "a request followed by a half close",
        &expected,
    )
}

/// What the client sends after each attempt at smuggling, in the same
/// write: a request whose answer must never come, since the server must
/// close after refusing what came before it, or, having read what came
/// before as one request with both lengths, close anyway.
const SMUGGLED: &[u8] = b"GET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n";

/// One attempt at smuggling a request: what is sent before [`SMUGGLED`],
/// and what the server may answer.
struct Attempt {
    request: &'static [u8],
    /// The refusals HTTP allows here: 400 for a message it forbids, and 501
    /// where the message names a transfer coding the server does not
    /// implement (RFC 9112 §6.1: a server SHOULD say 501 then).
    refusals: &'static [u16],
    /// Whether HTTP lets a server read the message as one request instead:
    /// `Some(true)` when it must close after it even so (both lengths,
    /// RFC 9112 §6.1); `Some(false)` when the connection may go on, the
    /// request after it being the next.
    or_read: Option<bool>,
}

/// Sends each attempt, then [`SMUGGLED`], on a connection of its own, and
/// judges the answers: one refusal it allows, with `Connection: close` and
/// the close; or, where HTTP allows that, an answer to the whole as one
/// request. Never an answer to what the attempt hid, nor to
/// [`SMUGGLED`] after a refusal.
fn no_request_smuggled(target: &Target, attempts: &[Attempt]) -> Result<(), Failure> {
    for attempt in attempts {
        let mut conn = Conn::open(target.addr)?;
        conn.send_lenient(&[attempt.request, SMUGGLED].concat());
        conn.read_answer(Method::Other, IO_TIMEOUT)?;
        let (answer, end) = answer_at(&conn, 0, Method::Other).map_err(|f| f.see(ERROR_FORM))?;
        let refused = attempt.refusals.contains(&answer.status);
        let must_close = match attempt.or_read {
            _ if refused => true,
            // Read as one request: whatever its path gets.
            Some(must_close) => must_close,
            _ => {
                let allowed: Vec<String> = attempt.refusals.iter().map(u16::to_string).collect();
                return Err(conn.fail(format!("{}; not {}", allowed.join(" or "), answer.status)));
            }
        };
        if must_close && answer.keeps_connection() {
            return Err(conn.fail(format!(
                "`Connection: close` with the {}, then the close: after this message the server \
                 cannot tell where a next request starts",
                answer.status
            )));
        }
        if connection_after(&mut conn, &answer, end)? == Left::Open {
            // Read as one request, the connection kept: the request after
            // it is the next, and its answer the last. A third answer, once
            // we close our side, would be to a request read from inside
            // the message.
            let (_, after) = next_answer(&mut conn, end, Method::Other)?;
            conn.read_to_close(IO_TIMEOUT)?;
            if conn.received().len() > after {
                return Err(conn.fail(
                    "two answers in all, to the message read as one request and to the request \
                     after it; a third came, to a request read from inside the message",
                ));
            }
        }
    }
    Ok(())
}

/// Why the smuggling checks exist, for their hints.
const SMUGGLING: &str = "Two servers that disagree on where a request ends let a client hide a request inside another (request smuggling): refuse every message whose framing is in doubt with 400 and Connection: close, and close (book: Part 9).";

pub(crate) const SMUGGLING_BOTH_LENGTHS: Check = Check {
    name: "smuggling_both_lengths",
    proves: "a request with both Content-Length and Transfer-Encoding: chunked, a request hidden where one framing ends and the other does not, is refused (400, or 501) or read by its chunks, and either way the connection closed: the hidden request, and the one after, never answered",
    rule: Rule::Http("RFC 9112 §6.1, §6.3, §11.2"),
    since: 9,
    hint: SMUGGLING,
    needs: Needs::Nothing,
    run: smuggling_both_lengths,
};

fn smuggling_both_lengths(target: &Target) -> Result<(), Failure> {
    no_request_smuggled(
        target,
        &[
            // By its chunks, the body ends at once and `GET /hidden…` is a
            // request; by Content-Length, it is the body.
            Attempt {
                request: b"POST /create HTTP/1.1\r\nHost: localhost\r\nContent-Length: 52\r\n\
                    Transfer-Encoding: chunked\r\n\r\n\
                    0\r\n\r\nGET /hidden-cl-te HTTP/1.1\r\nHost: localhost\r\n\r\n",
                refusals: &[400, 501],
                or_read: Some(true),
            },
            // By Content-Length, the body is `2f\r\n` and `GET /hidden…` is
            // a request; by its chunks, it is the body.
            Attempt {
                request: b"POST /create HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n\
                    Transfer-Encoding: chunked\r\n\r\n\
                    2f\r\nGET /hidden-te-cl HTTP/1.1\r\nHost: localhost\r\n\r\n\r\n0\r\n\r\n",
                refusals: &[400, 501],
                or_read: Some(true),
            },
        ],
    )
}

pub(crate) const SMUGGLING_OBFUSCATED_CHUNKED: Check = Check {
    name: "smuggling_obfuscated_chunked",
    proves: "Transfer-Encoding: xchunked, chunked, identity (chunked not last), and `Transfer-Encoding : chunked` (a space before the colon) are refused, 400 (or 501 for a coding not implemented), with the close; the chunks never read as a request",
    rule: Rule::Http("RFC 9112 §5.1, §6.1, §6.3"),
    since: 9,
    hint: SMUGGLING,
    needs: Needs::Nothing,
    run: smuggling_obfuscated_chunked,
};

fn smuggling_obfuscated_chunked(target: &Target) -> Result<(), Failure> {
    no_request_smuggled(
        target,
        &[
            Attempt {
                request: b"POST /create HTTP/1.1\r\nHost: localhost\r\n\
                    Transfer-Encoding: xchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                refusals: &[400, 501],
                or_read: None,
            },
            Attempt {
                request: b"POST /create HTTP/1.1\r\nHost: localhost\r\n\
                    Transfer-Encoding: chunked, identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                refusals: &[400, 501],
                or_read: None,
            },
            // Whitespace before the colon: a server MUST refuse it with 400
            // (RFC 9112 §5.1), since another may read it as the header.
            Attempt {
                request: b"POST /create HTTP/1.1\r\nHost: localhost\r\n\
                    Transfer-Encoding : chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                refusals: &[400],
                or_read: None,
            },
        ],
    )
}

pub(crate) const SMUGGLING_CONFLICTING_LENGTHS: Check = Check {
    name: "smuggling_conflicting_lengths",
    proves: "two Content-Length headers that disagree, with a request after the shorter body, are refused with 400 and the close, the request after never answered",
    rule: Rule::Http("RFC 9110 §8.6, RFC 9112 §6.3"),
    since: 9,
    hint: SMUGGLING,
    needs: Needs::Nothing,
    run: smuggling_conflicting_lengths,
};

fn smuggling_conflicting_lengths(target: &Target) -> Result<(), Failure> {
    no_request_smuggled(
        target,
        &[Attempt {
            request: b"POST /create HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\
                Content-Length: 48\r\n\r\nabcGET /hidden-lengths HTTP/1.1\r\nHost: localhost\r\n\r\n",
            refusals: &[400],
            or_read: None,
        }],
    )
}

pub(crate) const SMUGGLING_BARE_LF_IN_CHUNKS: Check = Check {
    name: "smuggling_bare_lf_in_chunks",
    proves: "chunk lines ended by a bare LF, not CRLF, are refused with 400 and the close, or read as the chunks they would be with CRLF: never the chunks taken for a request",
    rule: Rule::Http("RFC 9112 §7.1, §11.2"),
    since: 9,
    hint: SMUGGLING,
    needs: Needs::Nothing,
    run: smuggling_bare_lf_in_chunks,
};

fn smuggling_bare_lf_in_chunks(target: &Target) -> Result<(), Failure> {
    no_request_smuggled(
        target,
        &[Attempt {
            // One chunk, which holds a request: a server that takes the
            // chunk lines for no body reads that request as one.
            request: b"POST /create HTTP/1.1\r\nHost: localhost\r\n\
                Transfer-Encoding: chunked\r\n\r\n\
                2f\nGET /hidden-te-cl HTTP/1.1\r\nHost: localhost\r\n\r\n\n0\n\n",
            refusals: &[400],
            // Read leniently, as HTTP lets a recipient read a bare LF as a
            // line's end elsewhere (RFC 9112 §2.2), the message is one
            // request, and the one after it is the next.
            or_read: Some(false),
        }],
    )
}

/// The stage's limit on requests per connection (`--max-requests`, whose
/// default nginx's `keepalive_requests` shares).
pub(crate) const MAX_REQUESTS: usize = 1000;

pub(crate) const MAX_REQUESTS_THEN_CLOSE: Check = Check {
    name: "max_requests_then_close",
    proves: "1,000 requests one after the other on one connection are all answered; the 1,000th answer, and only it, says Connection: close, and the connection closes",
    rule: Rule::Stage(
        "HTTP sets no limit on the requests of a connection; the stage's --max-requests (1,000, as nginx's keepalive_requests) bounds how long one client can hold its thread",
    ),
    since: 9,
    hint: "Count the requests of each connection; when the count reaches --max-requests, say Connection: close in that answer and close (book: Part 9).",
    needs: Needs::Nothing,
    run: max_requests_then_close,
};

fn max_requests_then_close(target: &Target) -> Result<(), Failure> {
    let page = get("/index.html");
    let mut conn = Conn::open(target.addr)?;
    let mut end = 0;
    for n in 1..=MAX_REQUESTS {
        let (answer, next) = next_exchange(&mut conn, end, &page, Method::Other)?;
        end = next;
        let last = n == MAX_REQUESTS;
        if answer.keeps_connection() == last {
            let expected = if last {
                format!("`Connection: close` in answer {n}, the last of {MAX_REQUESTS}")
            } else {
                format!("answer {n} of {MAX_REQUESTS} to keep the connection open")
            };
            let failure = conn.fail(expected);
            return Err(if n == 1 { failure.see(KEPT) } else { failure });
        }
        if last {
            connection_after(&mut conn, &answer, end)?;
        }
    }
    Ok(())
}

pub(crate) const IDLE_CLOSED_SILENTLY: Check = Check {
    name: "idle_closed_silently",
    proves: "a kept connection left idle after an answer is closed without a byte once the keep-alive timeout has passed (not before half of it)",
    rule: Rule::Stage(
        "HTTP lets a server close an idle connection whenever it likes (RFC 9112 §9.5); the stage's --keep-alive-timeout bounds how long an idle client holds a thread, and says nothing, since no request is waiting for an answer",
    ),
    since: 9,
    hint: "Between requests, wait for the next one only --keep-alive-timeout seconds; then close without an answer: a 408 there would greet the client's next request (book: Part 9).",
    needs: Needs::KeepAliveTimeout,
    run: idle_closed_silently,
};

fn idle_closed_silently(target: &Target) -> Result<(), Failure> {
    let timeout = target.keep_alive_timeout.unwrap_or(IO_TIMEOUT);
    let (mut conn, _) = kept_after(target, &get("/index.html"))?;
    let within = timeout + IO_TIMEOUT;
    match conn.expect_silent_close(within)? {
        None => Err(conn.fail(format!(
            "the close of the idle connection within {} s: the keep-alive timeout, {} s, and {} s more",
            within.as_secs(),
            timeout.as_secs(),
            IO_TIMEOUT.as_secs()
        ))),
        // (A server that closes at once after an answer that does not say
        // so fails the check of that answer first.)
        Some(took) if took < timeout / 2 => Err(conn
            .fail(format!(
                "the idle connection kept for the keep-alive timeout, {} s; it closed after {:.1} s",
                timeout.as_secs(),
                took.as_secs_f32()
            ))
            .see(crate::client::WELL_FORMED)),
        Some(_) => Ok(()),
    }
}
