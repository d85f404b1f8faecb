//! The checks part 5 introduces, for the HTTP stages: one request per
//! connection, answered with a well-formed response, then a close; the
//! request read however TCP cuts it, its body by Content-Length, and what
//! the original gets wrong (a silent close, no bounds, one client at a
//! time) put right. The requests it refuses are rows of
//! [`refusals`](super::refusals).

use std::net::SocketAddr;
use std::process::Command;
use std::thread;

use super::{CURL_REQUEST, PAGE};
use crate::client::{
    Conn, ERROR_FORM, Failure, IO_TIMEOUT, Left, Method, PIECE_PAUSE, Response, WAIT_FOR_REST,
    WELL_FORMED, answer_at, at_once, connection_after, exchange, expect_body, expect_refusal,
    expect_status, judge_close, judge_form, next_exchange, note, read_response, response_to_head,
    send_in_pieces, status, status_of,
};
use crate::{Check, Needs, Rule, Target};

/// Judges the form of the one response in `bytes`, which `conn` received,
/// noting what HTTP recommends and it lacks.
fn judge(conn: &Conn, bytes: &[u8]) -> Result<Response, Failure> {
    let (response, notes) = judge_form(bytes, Method::Other).map_err(|why| conn.fail(why))?;
    for text in notes {
        note(text);
    }
    Ok(response)
}

pub(crate) const WELL_FORMED_RESPONSE: Check = Check {
    name: WELL_FORMED,
    proves: "GET / gets one well-formed response: a status line, a head ended by an empty line, a body framed by Content-Length, chunks or the close; and Connection: close exactly when the server closes (without it, the next request on the connection is answered)",
    rule: Rule::Http("RFC 9112 §2.1, §4, §6.3, §9.6"),
    since: 5,
    hint: "End the head with \"\\r\\n\\r\\n\" even when the body is empty, send Content-Length, and say Connection: close, since you close (book: Part 5, what the original gets wrong).",
    needs: Needs::Nothing,
    run: well_formed_response,
};

fn well_formed_response(target: &Target) -> Result<(), Failure> {
    let mut conn = Conn::open(target.addr)?;
    conn.send(CURL_REQUEST)?;
    // Read by the answer's own framing, not by the close: a server may
    // keep the connection open, if it says nothing of closing.
    conn.read_answer(Method::Other, IO_TIMEOUT)?;
    let (answer, end) = answer_at(&conn, 0, Method::Other)?;
    match connection_after(&mut conn, &answer, end)? {
        // Closed, saying so: everything it sent is the one answer.
        Left::Closed => judge(&conn, conn.received()).map(drop),
        // Open: the answer is well formed, and the next request proves the
        // connection open (a server that closes without saying so fails here).
        Left::Open => {
            judge(&conn, &conn.received()[..end])?;
            next_exchange(&mut conn, end, CURL_REQUEST, Method::Other).map(drop)
        }
    }
}

pub(crate) const HELLO_WORLD_PAGE: Check = Check {
    name: "hello_world_page",
    proves: "GET / is answered 200 with the post's page, <html><body>Hello World</body></html>",
    rule: Rule::Stage("the post answers every request with this page"),
    since: 5,
    hint: "Send the post's dummy page as the body (book: Part 5).",
    needs: Needs::Nothing,
    run: hello_world_page,
};

fn hello_world_page(target: &Target) -> Result<(), Failure> {
    let conn = exchange(target.addr, CURL_REQUEST)?;
    expect_body(&conn, PAGE)
}

pub(crate) const TRANSCRIPT: Check = Check {
    name: "transcript",
    proves: "the server's log for the post's curl request matches the post's transcript line by line",
    rule: Rule::Stage(
        "the post shows its parser at work by logging every callback; the log is how a learner sees it",
    ),
    since: 5,
    hint: "Print what each parser callback gets, as the post does: Received url, one Received header line per header, Received request completely., Response sent. (book: Part 5, Try it).",
    needs: Needs::Log,
    run: transcript,
};

fn transcript(target: &Target) -> Result<(), Failure> {
    let Some(log) = &target.log else {
        return Err(Failure::new("the server's log"));
    };
    // A log line names no connection, so lines of the checks before this
    // one, still being logged as their connections end, would fall among
    // ours: first wait, within a deadline, for every connection opened so
    // far to be logged closed. (A server that logs neither is at once.)
    let _ = log.wait_for(IO_TIMEOUT, |lines| {
        let count = |prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
        (count("Socket established with") <= count("Socket with ")).then_some(())
    });
    // Only the log is judged here: the response has checks of its own.
    let conn = exchange(target.addr, CURL_REQUEST)?;
    let Some(me) = conn.local_addr() else {
        return Err(Failure::new("to know our own address"));
    };
    let served_by = target.served_by();
    let expected = expected_transcript(me, target.persistent, served_by);
    let found = log.connection(me, IO_TIMEOUT);
    let fail = |lines: &[String]| Failure {
        expected: format!(
            "this transcript (the address as printed):\n{}",
            expected.join("\n")
        ),
        sent: CURL_REQUEST.to_vec(),
        received: lines.join("\n").into_bytes(),
        see: None,
    };
    let Some(lines) = found else {
        return Err(fail(&log.lines()));
    };
    // The raw bytes may come in more than one read: one `Received b'…'` line
    // each. A pool's worker may have any number.
    let mut collapsed: Vec<String> = Vec::new();
    for line in lines.iter().map(|line| any_number(line, served_by)) {
        let raw = line.starts_with("Received b'") || line.starts_with("Received b\"");
        let previous_raw = collapsed
            .last()
            .is_some_and(|l| l.starts_with("Received b'"));
        if raw && previous_raw {
            continue;
        }
        collapsed.push(if raw { "Received b'…'".into() } else { line });
    }
    let wanted: Vec<String> = expected
        .iter()
        .map(|line| {
            if line.starts_with("Received b'") {
                "Received b'…'".into()
            } else {
                line.clone()
            }
        })
        .collect();
    if collapsed != wanted {
        return Err(fail(&lines));
    }
    Ok(())
}

/// A pool's line `Worker 3 serves …` as `Worker N serves …` (`Task 3
/// serves …` as `Task N serves …` from part 12 on, `served_by` naming the
/// word): which worker, or which task, takes a connection is the server's
/// choice. Any other line as it is.
fn any_number(line: &str, served_by: Option<&str>) -> String {
    let Some(word) = served_by else {
        return line.to_string();
    };
    let numbered = line
        .strip_prefix(word)
        .and_then(|rest| rest.strip_prefix(' '))
        .and_then(|rest| rest.split_once(' '))
        .filter(|(n, rest)| n.parse::<u32>().is_ok() && rest.starts_with("serves "));
    match numbered {
        Some((_, rest)) => format!("{word} N {rest}"),
        None => line.to_string(),
    }
}

/// The post's transcript for [`CURL_REQUEST`] from `client`; for a stage
/// that keeps connections (part 9 on), with each answer numbered and the
/// close's reason, which is ours: we close our side after the answer; for
/// a stage whose log says what serves a connection (part 10 on,
/// `served_by`: `Worker`, then `Task`), with that line, `N` standing for
/// any number.
fn expected_transcript(
    client: SocketAddr,
    persistent: bool,
    served_by: Option<&str>,
) -> Vec<String> {
    let (sent, closed) = if persistent {
        (
            "Response sent (request 1 of this connection).".to_string(),
            format!("Socket with {client} closed: the client closed it."),
        )
    } else {
        (
            "Response sent.".into(),
            format!("Socket with {client} closed."),
        )
    };
    let worker = served_by.map(|word| format!("{word} N serves {client}."));
    [format!("Socket established with {client}.")]
        .into_iter()
        .chain(worker)
        .chain([
            format!("Received b'{}'", CURL_REQUEST.escape_ascii()),
            "Received url: b'/'".into(),
            "Received header: (b'Host', b'localhost:5000')".into(),
            "Received header: (b'User-Agent', b'curl/7.69.1')".into(),
            "Received header: (b'Accept', b'*/*')".into(),
            "Received request completely.".into(),
            sent,
            closed,
        ])
        .collect()
}

pub(crate) const ERROR_RESPONSE_WELL_FORMED: Check = Check {
    name: ERROR_FORM,
    proves: "a request HTTP says to refuse (Content-Length: abc) gets a well-formed answer, not a silent close",
    rule: Rule::Http("RFC 9112 §6.3, §9.6"),
    since: 5,
    hint: "Answer a bad request as any other, with a status line, an empty line after the headers, and Connection: close; never close without a word (book: Part 5, what the original gets wrong).",
    needs: Needs::Nothing,
    run: error_response_well_formed,
};

fn error_response_well_formed(target: &Target) -> Result<(), Failure> {
    let mut conn = Conn::open(target.addr)?;
    conn.send_lenient(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nabc");
    conn.read_answer(Method::Other, IO_TIMEOUT)?;
    // With a length it cannot read, the server cannot tell where the next
    // request would start: it must close, and so say `close`, even when it
    // keeps other connections (RFC 9112, section 6.3).
    let (answer, _) = answer_at(&conn, 0, Method::Other).map_err(|f| f.see(ERROR_FORM))?;
    if answer.keeps_connection() && !conn.closed() {
        return Err(conn.fail(
            "`Connection: close`, then the close: after a Content-Length it cannot read, a \
             server cannot tell where a next request would start, and must close (RFC 9112, \
             section 6.3), saying so (section 9.6)",
        ));
    }
    conn.read_to_close(IO_TIMEOUT)?;
    let answer = judge(&conn, conn.received())?;
    judge_close(&answer, true).map_err(|why| conn.fail(why))
}

/// The check that judges a request read in pieces: a server that answers
/// part of a request as if whole fails it first, and the checks that meet
/// the same flaw later are not judged when it failed.
pub(crate) const IN_PIECES: &str = "request_in_pieces";

pub(crate) const REQUEST_IN_PIECES: Check = Check {
    name: IN_PIECES,
    proves: "a request arriving in seven pieces, cut inside words and between \\r and \\n, gets the same answer as when it comes whole",
    rule: Rule::Http("RFC 9112 §2.1: a request is its bytes, however TCP cuts them"),
    since: 5,
    hint: "One read is not one request: keep feeding the parser until it says the request is complete (book: Part 5).",
    needs: Needs::Nothing,
    run: request_in_pieces,
};

fn request_in_pieces(target: &Target) -> Result<(), Failure> {
    // The post's second parser test: cut inside words and between \r and \n.
    send_in_pieces(
        target,
        &[
            b"GET /ind",
            b"ex.html HTTP/1.1\r",
            b"\nHost: local",
            b"host:5000\r\nUser-Agent: cu",
            b"rl/7.69.1\r\nAcc",
            b"ept: */*\r\n\r",
            b"\n",
        ],
        PIECE_PAUSE,
    )
}

pub(crate) const BODY_WITH_CONTENT_LENGTH: Check = Check {
    name: "body_with_content_length",
    proves: "a POST with a Content-Length body is read and answered",
    rule: Rule::Http("RFC 9112 §6.2, §6.3"),
    since: 5,
    hint: "Read Content-Length bytes of body after the empty line, then answer (book: Part 5).",
    needs: Needs::Nothing,
    run: body_with_content_length,
};

fn body_with_content_length(target: &Target) -> Result<(), Failure> {
    // The post's third parser test.
    let request = b"POST / HTTP/1.1\r\nHost: localhost:5000\r\nUser-Agent: curl/7.69.1\r\n\
        Accept: */*\r\nContent-Length: 7\r\nContent-Type: application/json\r\n\r\nabc=def";
    let conn = exchange(target.addr, request)?;
    status(&conn, WELL_FORMED).map(drop)
}

/// The head of a request with a chunked body.
const CHUNKED_HEAD: &[u8] =
    b"POST /create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";

/// The check of an answer that waits for the body.
const AFTER_BODY: &str = "answer_after_body";

pub(crate) const ANSWER_AFTER_BODY: Check = Check {
    name: AFTER_BODY,
    proves: "the answer waits until the whole body has arrived, by Content-Length",
    rule: Rule::Stage(ANSWER_ONCE_COMPLETE),
    since: 5,
    hint: "The request is complete when Content-Length bytes of body are in, not when the head is (book: Part 5).",
    needs: Needs::Nothing,
    run: answer_after_body,
};

/// Why the stage asks for no answer before the body is in.
const ANSWER_ONCE_COMPLETE: &str = "HTTP lets a server answer before the body is in, but the post answers a request once its parser reports it complete, and that is what a learner's server must do to read a body at all";

fn answer_after_body(target: &Target) -> Result<(), Failure> {
    let mut conn = Conn::open(target.addr)?;
    // To /create, which the page's stages answer like any path, and the
    // application's (part 7 on) route to a handler that takes a body.
    conn.send(b"POST /create HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n01234")?;
    conn.expect_silence(
        WAIT_FOR_REST,
        "while 5 of the 10 body bytes are still to come",
    )?;
    conn.send(b"56789")?;
    conn.read_to_close(IO_TIMEOUT)?;
    // Then an answer; which one is not this check's business (a book
    // exercise answers 404 there).
    status(&conn, WELL_FORMED).map(drop)
}

// The chunked half of `answer_after_body`, a check of its own: a server
// that fails it has overlooked `Transfer-Encoding`, not `Content-Length`,
// and its failure and hint must say so.
pub(crate) const ANSWER_AFTER_CHUNKED_BODY: Check = Check {
    name: "answer_after_chunked_body",
    proves: "a request with Transfer-Encoding: chunked is refused with 501 at once, or answered after its last chunk, never taken for a request with no body",
    rule: Rule::Stage(ANSWER_ONCE_COMPLETE),
    since: 5,
    hint: "Transfer-Encoding: chunked means a body follows in chunks, though there is no Content-Length: answer 501 Not Implemented, or read to the last chunk (book: Part 5).",
    needs: Needs::Nothing,
    run: answer_after_chunked_body,
};

fn answer_after_chunked_body(target: &Target) -> Result<(), Failure> {
    let mut conn = Conn::open(target.addr)?;
    conn.send(&[CHUNKED_HEAD, b"3\r\nabc\r\n"].concat())?;
    let early = conn.expect_silence(
        WAIT_FOR_REST,
        "while the last chunk is still to come (Transfer-Encoding: chunked says a body follows), or 501",
    );
    if early.is_err() {
        conn.read_to_close(IO_TIMEOUT)?;
        if status(&conn, ERROR_FORM)? != 501 {
            // A server that answers once the head is in, whatever the body
            // (nginx's static page), fails `answer_after_body` first.
            return early.map_err(|failure| failure.see(AFTER_BODY));
        }
    }
    Ok(())
}

pub(crate) const HEAD_REQUEST: Check = Check {
    name: "head_request",
    proves: "HEAD gets the status of GET with no body, and its Content-Length, if any, as for GET",
    rule: Rule::Http("RFC 9110 §9.3.2, §8.6"),
    since: 5,
    hint: "Answer HEAD like GET but leave the body out; keep Content-Length as it would be (book: Part 5).",
    needs: Needs::Nothing,
    run: head_request,
};

fn head_request(target: &Target) -> Result<(), Failure> {
    let get = exchange(target.addr, CURL_REQUEST)?;
    let get_status = status(&get, WELL_FORMED)?;
    let get = read_response(get.received(), Method::Other)
        .map_err(|why| get.fail(why).see(WELL_FORMED))?;
    let conn = exchange(target.addr, b"HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n")?;
    let head = response_to_head(&conn, get_status)?;
    if !head.rest.is_empty() {
        return Err(conn.fail(format!(
            "no body after the head; {} bytes came",
            head.rest.len()
        )));
    }
    let length = get.body.len().to_string();
    if let Some(announced) = head.header("Content-Length")
        && announced != length
    {
        return Err(conn.fail(format!(
            "Content-Length: {length}, as for GET, or none; not {announced}"
        )));
    }
    Ok(())
}

pub(crate) const EXPECT_CONTINUE: Check = Check {
    name: "expect_continue",
    proves: "Expect: 100-continue gets an interim 100 Continue, then the final answer once the body is in; or the final answer at once",
    rule: Rule::Http("RFC 9110 §10.1.1"),
    since: 5,
    hint: "When the head says Expect: 100-continue and a body is due, send \"HTTP/1.1 100 Continue\\r\\n\\r\\n\" first; curl otherwise waits a second (book: Part 5).",
    needs: Needs::Nothing,
    run: expect_continue,
};

fn expect_continue(target: &Target) -> Result<(), Failure> {
    let body = vec![b'x'; 3000];
    let mut conn = Conn::open(target.addr)?;
    conn.send(
        b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3000\r\n\
          Expect: 100-continue\r\n\r\n",
    )?;
    // Either answer must come at once, with no body sent.
    conn.read_until(b"\r\n\r\n", IO_TIMEOUT).map_err(|mut failure| {
        failure.expected = format!(
            "100 Continue, or a final answer, before the body is sent; nothing came within {} s",
            IO_TIMEOUT.as_secs()
        );
        failure
    })?;
    match status_of(conn.received()) {
        Some(100) => {
            conn.send(&body)?;
            conn.read_to_close(IO_TIMEOUT)?;
            status(&conn, WELL_FORMED).map(drop)
        }
        // A final answer at once: the server chose not to read the body.
        Some(_) => {
            conn.read_to_close(IO_TIMEOUT)?;
            Ok(())
        }
        None => Err(conn
            .fail("a status line like `HTTP/1.1 100 Continue`")
            .see(WELL_FORMED)),
    }
}

pub(crate) const CONTENT_LENGTH_AND_TRANSFER_ENCODING: Check = Check {
    name: "content_length_and_transfer_encoding",
    proves: "Content-Length together with Transfer-Encoding is refused (400, or 501), or the body read by its chunks, never by Content-Length",
    rule: Rule::Http("RFC 9112 §6.1, §6.3"),
    since: 5,
    hint: "The two could disagree on where the request ends (request smuggling): refuse the pair (book: Part 5).",
    needs: Needs::Nothing,
    run: content_length_and_transfer_encoding,
};

fn content_length_and_transfer_encoding(target: &Target) -> Result<(), Failure> {
    // By its chunks, the body is 15 bytes, and all here; by Content-Length,
    // 85 more are to come. A server that reads by Content-Length waits for
    // them; one that reads the chunks, or refuses the pair, answers.
    let request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\
        Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    let mut conn = Conn::open(target.addr)?;
    conn.send_lenient(request);
    conn.read_to_close(IO_TIMEOUT).map_err(|mut failure| {
        failure.expected = format!(
            "400, or an answer once the chunks are read; {} (did it read by Content-Length?)",
            failure.expected
        );
        failure
    })?;
    match status(&conn, ERROR_FORM)? {
        400 | 501 | 200..=299 => Ok(()),
        other => Err(conn.fail(format!(
            "400 (or 501), or a 2xx after reading the chunks; not {other}"
        ))),
    }
}

pub(crate) const TRANSFER_ENCODING_ALONE: Check = Check {
    name: "transfer_encoding_alone",
    proves: "a chunked body, sent in pieces, gets one answer, never a second one to its chunks: read to its last chunk and answered (any status), or refused with 501 Not Implemented",
    rule: Rule::Http("RFC 9112 §6.1, §7.1"),
    since: 5,
    hint: "If you do not read chunked bodies, say so with 501 rather than taking the chunks for a new request (book: Part 5).",
    needs: Needs::Nothing,
    run: transfer_encoding_alone,
};

fn transfer_encoding_alone(target: &Target) -> Result<(), Failure> {
    // In two pieces, the last chunk in the second: a server that reads
    // chunks must wait for it. (When it may answer is `answer_after_body`'s
    // question, not HTTP's.)
    let mut conn = Conn::open(target.addr)?;
    conn.send(&[CHUNKED_HEAD, b"3\r\nabc\r\n"].concat())?;
    thread::sleep(PIECE_PAUSE);
    conn.send_lenient(b"0\r\n\r\n");
    conn.read_to_close(IO_TIMEOUT)?;
    // Any final answer is one HTTP allows once the chunks are read (a 404
    // from a static server, a 501 from one that reads no chunks). What HTTP
    // forbids is taking the chunks for a request: a second answer.
    // (An answer whose form cannot be read is the form checks' to judge.)
    status(&conn, ERROR_FORM)?;
    if let Ok(answer) = read_response(conn.received(), Method::Other)
        && contains_answer(&answer)
    {
        return Err(conn.fail(
            "one answer, to the request and its chunks; a second one came, so the chunks were read as a request",
        ));
    }
    Ok(())
}

/// Whether another answer follows `answer`'s body, or, in a body framed by
/// the close, is part of it: the server answered bytes that were not a
/// request of their own.
pub(crate) fn contains_answer(answer: &Response) -> bool {
    [answer.rest.as_slice(), &answer.body]
        .iter()
        .any(|bytes| bytes.windows(7).any(|w| w == b"HTTP/1."))
}

pub(crate) const CLIENT_LEAVES_EARLY: Check = Check {
    name: "client_leaves_early",
    proves: "a client that leaves in the middle of its request is let go at once: the server closes, then serves the next one",
    rule: Rule::Stage(
        "the original loops forever on a client that left, at 100% of a core: a read of zero bytes ending the session is this stage's fix",
    ),
    since: 5,
    hint: "A read of zero bytes means the client closed: end the session; the original loops on it forever (book: Part 5, what the original gets wrong).",
    needs: Needs::Nothing,
    run: client_leaves_early,
};

fn client_leaves_early(target: &Target) -> Result<(), Failure> {
    let mut conn = Conn::open(target.addr)?;
    conn.send(b"GET / HTTP/1.1\r\nHost: loc")?;
    conn.finish_sending();
    conn.read_to_close(IO_TIMEOUT).map_err(|_| {
        conn.fail("the server to close the connection once the client left; it kept it open")
    })?;
    // Nothing, or an error answer: either way no 200 to a half request.
    // A 200 here is what a server that takes a read for the whole request
    // answers: `request_in_pieces` names that flaw first.
    if !conn.received().is_empty() && status(&conn, ERROR_FORM)? < 400 {
        return Err(conn
            .fail("no answer, or a 4xx, to a request cut short")
            .see(IN_PIECES));
    }
    let next = exchange(target.addr, CURL_REQUEST)?;
    expect_status(&next, 200, WELL_FORMED)
}

pub(crate) const BAD_INPUT_THEN_GOOD: Check = Check {
    name: "bad_input_then_good",
    proves: "binary garbage is answered 400 and the server goes on serving good requests",
    rule: Rule::Stage(
        "HTTP only recommends 400 for bytes that are not a request; the original's thread dies on them, and the stage answers and carries on",
    ),
    since: 5,
    hint: "A bad request ends its own connection only: answer it, close it, keep accepting (book: Part 5, what the original gets wrong).",
    needs: Needs::Nothing,
    run: bad_input_then_good,
};

fn bad_input_then_good(target: &Target) -> Result<(), Failure> {
    // The start of a TLS handshake: what an https:// client sends first.
    expect_refusal(
        target,
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
        400,
    )?;
    let next = exchange(target.addr, CURL_REQUEST)?;
    expect_status(&next, 200, WELL_FORMED)
}

pub(crate) const QUIET_CLIENT_TIMED_OUT: Check = Check {
    name: "quiet_client_timed_out",
    proves: "a client that sends nothing is answered 408 Request Timeout after the read timeout, and closed",
    rule: Rule::Stage(
        "HTTP lets a server close on a silent client without a word; the original waits forever, and the stage times out with 408, so the client learns why",
    ),
    since: 5,
    hint: "Set a read timeout on the socket and answer 408 when it passes; without one a silent client holds a thread forever (book: Part 5, what the original gets wrong).",
    needs: Needs::ReadTimeout,
    run: quiet_client_timed_out,
};

fn quiet_client_timed_out(target: &Target) -> Result<(), Failure> {
    let timeout = target.read_timeout.unwrap_or(IO_TIMEOUT);
    let mut conn = Conn::open(target.addr)?;
    conn.read_to_close(timeout + IO_TIMEOUT)?;
    expect_status(&conn, 408, ERROR_FORM)
}

pub(crate) const CLIENTS_IN_PARALLEL: Check = Check {
    name: "clients_in_parallel",
    proves: "a client is answered while another one is still sending its request",
    rule: Rule::Stage(
        "HTTP says nothing of serving clients at once; a thread per client is the lesson of Part 4, which every later stage keeps",
    ),
    since: 5,
    hint: "Serve each connection on a thread of its own, so a slow client does not hold up the others (book: Part 4).",
    needs: Needs::Nothing,
    run: clients_in_parallel,
};

fn clients_in_parallel(target: &Target) -> Result<(), Failure> {
    // The first client sends half its request and waits. A server that
    // serves one client after the other cannot answer the second.
    let mut slow = Conn::open(target.addr)?;
    slow.send(b"GET / HTTP/1.1\r\nHost: lo")?;
    let fast = exchange(target.addr, CURL_REQUEST).map_err(|mut failure| {
        failure.expected = format!(
            "an answer while another client is still sending ({})",
            failure.expected
        );
        failure
    })?;
    expect_status(&fast, 200, WELL_FORMED)?;
    slow.send(b"calhost\r\n\r\n")?;
    slow.read_to_close(IO_TIMEOUT)?;
    expect_status(&slow, 200, WELL_FORMED)
}

pub(crate) const MANY_CLIENTS_AT_ONCE: Check = Check {
    name: "many_clients_at_once",
    proves: "20 clients at once, 100 requests each: every request answered 200",
    rule: Rule::Stage(
        "the original listens with a backlog of 1, and under 20 clients at once requests waited 14 s; the stage serves them all",
    ),
    since: 5,
    hint: "Listen with a backlog larger than 1 and never let one connection's error stop the accept loop (book: Part 5, what the original gets wrong).",
    needs: Needs::Nothing,
    run: many_clients_at_once,
};

fn many_clients_at_once(target: &Target) -> Result<(), Failure> {
    const CLIENTS: usize = 20;
    const REQUESTS: usize = 100;
    let client = |addr| {
        for _ in 0..REQUESTS {
            let conn = exchange(addr, CURL_REQUEST)?;
            expect_status(&conn, 200, WELL_FORMED)?;
        }
        Ok(())
    };
    at_once(CLIENTS, target.addr, client)
        .map(drop)
        .map_err(|mut failure| {
            failure.expected = format!(
                "every one of {CLIENTS} × {REQUESTS} requests answered ({})",
                failure.expected
            );
            failure
        })
}

/// Runs curl with `args` and returns what it printed, or why it failed.
/// curl is one more client: what it cannot read is judged by
/// [`WELL_FORMED`], as for every other check.
fn run_curl(args: &[&str]) -> Result<Vec<u8>, Failure> {
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "5"])
        .args(args)
        .output()
        .map_err(|error| Failure::new(format!("curl to run, but: {error}")))?;
    if !output.status.success() {
        return Err(Failure {
            expected: format!(
                "curl {} to succeed; it said: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            ),
            sent: Vec::new(),
            received: output.stdout,
            see: Some(WELL_FORMED),
        });
    }
    Ok(output.stdout)
}

pub(crate) const CURL: Check = Check {
    name: "curl",
    proves: "`curl -i` gets 200 and the page",
    rule: Rule::Stage("the post tries its server with curl, and so does a learner"),
    since: 5,
    hint: "Try `curl -v` against your server and read what it says (book: Part 5, Try it).",
    needs: Needs::Curl,
    run: curl,
};

fn curl(target: &Target) -> Result<(), Failure> {
    let url = format!("http://{}/", target.addr);
    let printed = run_curl(&["-i", &url])?;
    let fail = |expected: &str| Failure {
        expected: expected.into(),
        sent: format!("curl -i {url}").into_bytes(),
        received: printed.clone(),
        see: Some(WELL_FORMED),
    };
    if !printed.starts_with(b"HTTP/1.1 200 ") {
        return Err(fail("HTTP/1.1 200 OK"));
    }
    if !printed.ends_with(PAGE) {
        return Err(fail("the page"));
    }
    Ok(())
}

pub(crate) const CURL_UPLOAD: Check = Check {
    name: "curl_upload",
    proves: "`curl --data-binary @file` with 3 kB and Expect: 100-continue is answered without curl's one-second wait",
    rule: Rule::Stage(
        "curl waits a second before an upload unless the server answers Expect: 100-continue; the stage answers, so an upload is quick",
    ),
    since: 5,
    hint: "Send 100 Continue when asked for it, or curl waits before sending the body (book: Part 5).",
    needs: Needs::Curl,
    run: curl_upload,
};

fn curl_upload(target: &Target) -> Result<(), Failure> {
    let file = std::env::temp_dir().join(format!("stage-check-upload-{}", std::process::id()));
    std::fs::write(&file, vec![b'x'; 3000])
        .map_err(|error| Failure::new(format!("to write a file to upload, but: {error}")))?;
    // /create, as for `answer_after_body`.
    let url = format!("http://{}/create", target.addr);
    let upload = format!("@{}", file.display());
    // If no 100 Continue comes, curl waits 10 s before sending the body,
    // longer than --max-time 5 lets it run: the upload then fails.
    let printed = run_curl(&[
        "-i",
        "--data-binary",
        &upload,
        "-H",
        "Expect: 100-continue",
        "--expect100-timeout",
        "10",
        &url,
    ]);
    let _ = std::fs::remove_file(&file);
    // The file's name changes with every run: show what it holds instead.
    let printed = printed.map_err(|mut failure| {
        failure.expected = failure.expected.replace(&upload, "@3kB-file");
        failure
    })?;
    // A final answer, after any `100 Continue`: its status is not this
    // check's business.
    let mut statuses = printed
        .split(|&b| b == b'\n')
        .filter_map(|line| status_of(&[line, b"\n"].concat()));
    if !statuses.any(|status| status >= 200) {
        return Err(Failure {
            expected: "a final answer after the upload".into(),
            sent: format!("curl -i --data-binary @3kB-file {url}").into_bytes(),
            received: printed,
            see: Some(WELL_FORMED),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_s_transcript_names_the_worker_by_any_number() {
        let client = SocketAddr::from(([127, 0, 0, 1], 40000));
        let pooled = expected_transcript(client, true, Some("Worker"));
        let kept = expected_transcript(client, true, None);
        assert_eq!(pooled[0], "Socket established with 127.0.0.1:40000.");
        assert_eq!(pooled[1], "Worker N serves 127.0.0.1:40000.");
        assert_eq!(pooled[2..], kept[1..], "the rest as part 9's");
        let worker = |line| any_number(line, Some("Worker"));
        assert_eq!(
            worker("Worker 17 serves 127.0.0.1:40000."),
            "Worker N serves 127.0.0.1:40000."
        );
        for other in [
            "Worker x serves 1.",
            "Worker 3 stopped.",
            "Task 3 serves 127.0.0.1:40000.",
            "Received url: b'/'",
        ] {
            assert_eq!(worker(other), other);
        }
    }

    #[test]
    fn an_async_transcript_names_the_task_by_any_number() {
        let client = SocketAddr::from(([127, 0, 0, 1], 40000));
        let tasks = expected_transcript(client, true, Some("Task"));
        let workers = expected_transcript(client, true, Some("Worker"));
        assert_eq!(tasks[1], "Task N serves 127.0.0.1:40000.");
        assert_eq!(tasks[2..], workers[2..], "the rest as part 11's");
        let task = |line| any_number(line, Some("Task"));
        assert_eq!(
            task("Task 1 serves 127.0.0.1:40000."),
            "Task N serves 127.0.0.1:40000."
        );
        // A part 12 server that still logs part 11's line keeps it, and
        // so fails the transcript.
        let old = "Worker 1 serves 127.0.0.1:40000.";
        assert_eq!(task(old), old);
        assert_eq!(any_number(old, None), old);
    }
}
