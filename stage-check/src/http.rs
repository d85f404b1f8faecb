//! The checks of the HTTP stages (parts 5 and 6): one request per
//! connection, answered with a well-formed response, then a close.

use std::net::SocketAddr;
use std::process::Command;
use std::thread;
use std::time::Duration;

use crate::conn::{Conn, Failure, IO_TIMEOUT, Response, parse_response, shown, status_of};
use crate::{Check, Needs, Target};

/// The request curl sends in the post, byte for byte.
pub(crate) const CURL_REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nHost: localhost:5000\r\nUser-Agent: curl/7.69.1\r\nAccept: */*\r\n\r\n";

/// The page every request gets in the post.
pub(crate) const PAGE: &[u8] = b"<html><body>Hello World</body></html>";

/// The pause between the pieces of a request sent in pieces, so that each
/// piece is likely a read of its own on the server's side. (It is pacing, not
/// waiting for anything: the check holds however the pieces are read.)
const PIECE_PAUSE: Duration = Duration::from_millis(20);

/// The same between single bytes, shorter, since there are many.
pub(crate) const BYTE_PAUSE: Duration = Duration::from_millis(2);

/// How long a server must show no answer to a request that is not complete.
pub(crate) const WAIT_FOR_REST: Duration = Duration::from_millis(500);

pub const CHECKS: &[Check] = &[
    Check {
        name: "well_formed_response",
        proves: "GET / is answered 200 with a head ended by an empty line, a right Content-Length and Connection: close, then a close",
        hint: "End the head with \"\\r\\n\\r\\n\" even when the body is empty, always send Content-Length, and say Connection: close (book: Part 5, what the original gets wrong).",
        needs: Needs::Nothing,
        run: well_formed_response,
    },
    Check {
        name: "hello_world_page",
        proves: "the body is the post's page, <html><body>Hello World</body></html>",
        hint: "Send the post's dummy page as the body (book: Part 5).",
        needs: Needs::Nothing,
        run: hello_world_page,
    },
    Check {
        name: "transcript",
        proves: "the server's log for the post's curl request matches the post's transcript line by line",
        hint: "Print what each parser callback gets, as the post does: Received url, one Received header line per header, Received request completely., Response sent. (book: Part 5, Try it).",
        needs: Needs::Log,
        run: transcript,
    },
    Check {
        name: "request_in_pieces",
        proves: "a request arriving in seven pieces, cut inside words and between \\r and \\n, gets the same answer",
        hint: "One read is not one request: keep feeding the parser until it says the request is complete (book: Part 5).",
        needs: Needs::Nothing,
        run: request_in_pieces,
    },
    Check {
        name: "request_byte_by_byte",
        proves: "a request arriving one byte at a time gets the same answer",
        hint: "Keep the part of the head already received, and parse on when more arrives (book: Part 6, the split buffer).",
        needs: Needs::Nothing,
        run: request_byte_by_byte,
    },
    Check {
        name: "body_with_content_length",
        proves: "a POST with a Content-Length body is answered",
        hint: "Read Content-Length bytes of body after the empty line, then answer (book: Part 5).",
        needs: Needs::Nothing,
        run: body_with_content_length,
    },
    Check {
        name: "answer_after_body",
        proves: "the answer waits until the whole body has arrived",
        hint: "The request is complete when Content-Length bytes of body are in, not when the head is (book: Part 5).",
        needs: Needs::Nothing,
        run: answer_after_body,
    },
    Check {
        name: "head_request",
        proves: "HEAD gets the head of the GET answer, with its Content-Length, and no body",
        hint: "Answer HEAD like GET but leave the body out; keep Content-Length as it would be (book: Part 5).",
        needs: Needs::Nothing,
        run: head_request,
    },
    Check {
        name: "expect_continue",
        proves: "Expect: 100-continue gets an interim 100 Continue before the body is sent, then the answer",
        hint: "When the head says Expect: 100-continue and a body is due, send \"HTTP/1.1 100 Continue\\r\\n\\r\\n\" first; curl otherwise waits a second (book: Part 5).",
        needs: Needs::Nothing,
        run: expect_continue,
    },
    Check {
        name: "header_without_space",
        proves: "a header written `Name:value`, with no space after the colon, is read like any other",
        hint: "Split a header line at its first colon and trim spaces and tabs around the value; the post's parser splits at \": \" and fails (book: Part 6).",
        needs: Needs::Nothing,
        run: header_without_space,
    },
    Check {
        name: "many_headers",
        proves: "a request with 1,200 short headers gets an answer (200, or 431 if that is too many), not a crash",
        hint: "Read header lines in a loop, not with a call per line: the original recurses and dies on 1,200 headers (book: Part 6).",
        needs: Needs::Nothing,
        run: many_headers,
    },
    Check {
        name: "bytes_after_body",
        proves: "bytes after Content-Length's worth of body are not body, and get no second answer",
        hint: "Count the body out by Content-Length and stop there; one request, one response (book: Part 6).",
        needs: Needs::Nothing,
        run: bytes_after_body,
    },
    Check {
        name: "bad_request_line",
        proves: "a malformed request line is answered 400 with a short text, then closed",
        hint: "A request line is `METHOD SP target SP HTTP/1.x`; answer anything else with 400 instead of failing in silence (book: what the original gets wrong).",
        needs: Needs::Nothing,
        run: bad_request_line,
    },
    Check {
        name: "bad_header_line",
        proves: "a header line without a colon, or with a space in its name, is answered 400",
        hint: "A header line is `Name: value`, the name a token with no spaces; answer anything else with 400 (book: Part 6).",
        needs: Needs::Nothing,
        run: bad_header_line,
    },
    Check {
        name: "content_length_not_a_number",
        proves: "a Content-Length that is not all digits (-1, +5, abc) is answered 400",
        hint: "Content-Length is ASCII digits only; int() in Python accepts more than HTTP does (book: Part 6).",
        needs: Needs::Nothing,
        run: content_length_not_a_number,
    },
    Check {
        name: "content_lengths_disagree",
        proves: "two Content-Length headers with different values are answered 400",
        hint: "When Content-Length is repeated, every copy must agree (book: Part 6).",
        needs: Needs::Nothing,
        run: content_lengths_disagree,
    },
    Check {
        name: "content_length_and_transfer_encoding",
        proves: "Content-Length together with Transfer-Encoding is answered 400",
        hint: "The two could disagree on where the request ends (request smuggling): refuse the pair (book: Part 5).",
        needs: Needs::Nothing,
        run: content_length_and_transfer_encoding,
    },
    Check {
        name: "transfer_encoding_alone",
        proves: "a chunked body is either read or answered 501 Not Implemented",
        hint: "If you do not read chunked bodies, say so with 501 rather than taking the chunks for a new request (book: Part 5).",
        needs: Needs::Nothing,
        run: transfer_encoding_alone,
    },
    Check {
        name: "head_too_large",
        proves: "a head over 8 KiB is answered 431",
        hint: "Bound what you buffer: stop at 8 KiB of head and answer 431 Request Header Fields Too Large (book: what the original gets wrong).",
        needs: Needs::Nothing,
        run: head_too_large,
    },
    Check {
        name: "body_too_large",
        proves: "a Content-Length over 1 MiB is answered 413 before any of the body is sent",
        hint: "Judge Content-Length as soon as the head is in, and answer 413 Content Too Large without reading the body (book: what the original gets wrong).",
        needs: Needs::Nothing,
        run: body_too_large,
    },
    Check {
        name: "client_leaves_early",
        proves: "a client that leaves in the middle of its request is let go at once: the server closes, then serves the next one",
        hint: "A read of zero bytes means the client closed: end the session; the original loops on it forever (book: what the original gets wrong).",
        needs: Needs::Nothing,
        run: client_leaves_early,
    },
    Check {
        name: "bad_input_then_good",
        proves: "binary garbage is answered 400 and the server goes on serving good requests",
        hint: "A bad request ends its own connection only: answer it, close it, keep accepting (book: what the original gets wrong).",
        needs: Needs::Nothing,
        run: bad_input_then_good,
    },
    Check {
        name: "quiet_client_timed_out",
        proves: "a client that sends nothing is answered 408 Request Timeout after the read timeout, and closed",
        hint: "Set a read timeout on the socket and answer 408 when it passes; without one a silent client holds a thread forever (book: what the original gets wrong).",
        needs: Needs::ReadTimeout,
        run: quiet_client_timed_out,
    },
    Check {
        name: "clients_in_parallel",
        proves: "a client is answered while another one is still sending its request",
        hint: "Serve each connection on a thread of its own, so a slow client does not hold up the others (book: Part 4).",
        needs: Needs::Nothing,
        run: clients_in_parallel,
    },
    Check {
        name: "many_clients_at_once",
        proves: "20 clients at once, 100 requests each: every request answered",
        hint: "Listen with a backlog larger than 1 and never let one connection's error stop the accept loop (book: what the original gets wrong).",
        needs: Needs::Nothing,
        run: many_clients_at_once,
    },
    Check {
        name: "curl",
        proves: "`curl -i` gets 200 and the page",
        hint: "Try `curl -v` against your server and read what it says (book: Part 5, Try it).",
        needs: Needs::Curl,
        run: curl,
    },
    Check {
        name: "curl_upload",
        proves: "`curl --data-binary @file` with 3 kB and Expect: 100-continue is answered without curl's one-second wait",
        hint: "Send 100 Continue when asked for it, or curl waits before sending the body (book: Part 5).",
        needs: Needs::Curl,
        run: curl_upload,
    },
];

/// Sends `request` on a new connection and reads until the server closes.
pub(crate) fn exchange(addr: SocketAddr, request: &[u8]) -> Result<Conn, Failure> {
    exchange_in_pieces(addr, &[request], Duration::ZERO)
}

/// Sends a request in `pieces`, `pause` apart, on a new connection, and
/// reads until the server closes.
pub(crate) fn exchange_in_pieces(
    addr: SocketAddr,
    pieces: &[&[u8]],
    pause: Duration,
) -> Result<Conn, Failure> {
    let mut conn = Conn::open(addr)?;
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            thread::sleep(pause);
        }
        conn.send(piece)?;
    }
    conn.read_to_close(IO_TIMEOUT)?;
    Ok(conn)
}

/// Reads what `conn` received as a `200` whose body is `body`.
pub(crate) fn expect_body(conn: &Conn, body: &[u8]) -> Result<(), Failure> {
    let answer = response(conn, 200, false)?;
    if answer.body != body {
        return Err(conn.fail(format!("the body {}", shown(body))));
    }
    Ok(())
}

/// Like [`exchange`], for a request the server may rightly stop reading
/// part way, as soon as it sees what is wrong: what it did not take is
/// not sent, and that is no failure.
pub(crate) fn exchange_lenient(addr: SocketAddr, request: &[u8]) -> Result<Conn, Failure> {
    let mut conn = Conn::open(addr)?;
    conn.send_lenient(request);
    conn.read_to_close(IO_TIMEOUT)?;
    Ok(conn)
}

/// Reads what `conn` received as one well-formed response with `status`.
pub(crate) fn response(conn: &Conn, status: u16, head_only: bool) -> Result<Response, Failure> {
    // The status first: a 200 to a bad request is the news, not its format.
    if let Some(actual) = status_of(conn.received()).filter(|&actual| actual != status) {
        return Err(conn.fail(format!("status {status}, not {actual}")));
    }
    let response = parse_response(conn.received(), head_only).map_err(|why| conn.fail(why))?;
    if response.status != status {
        return Err(conn.fail(format!("status {status}, not {}", response.status)));
    }
    Ok(response)
}

/// Sends a request that must be refused with `status` and a short text.
pub(crate) fn expect_refusal(target: &Target, request: &[u8], status: u16) -> Result<(), Failure> {
    let conn = exchange_lenient(target.addr, request)?;
    let refusal = response(&conn, status, false)?;
    if refusal.body.is_empty() {
        return Err(conn.fail(format!("a {status} with a short text saying what is wrong")));
    }
    Ok(())
}

/// Sends the request in `pieces`, `pause` apart, and expects a 200.
pub(crate) fn send_in_pieces(
    target: &Target,
    pieces: &[&[u8]],
    pause: Duration,
) -> Result<(), Failure> {
    let conn = exchange_in_pieces(target.addr, pieces, pause)?;
    response(&conn, 200, false).map(drop)
}

/// Runs `client` against `addr` on `count` threads at once, and collects
/// what each returns, or the first failure.
pub(crate) fn at_once<T: Send + 'static>(
    count: usize,
    addr: SocketAddr,
    client: fn(SocketAddr) -> Result<T, Failure>,
) -> Result<Vec<T>, Failure> {
    let clients: Vec<_> = (0..count)
        .map(|_| thread::spawn(move || client(addr)))
        .collect();
    clients
        .into_iter()
        .map(|client| {
            client
                .join()
                .unwrap_or_else(|_| Err(Failure::new("a client thread to finish")))
        })
        .collect()
}

fn well_formed_response(target: &Target) -> Result<(), Failure> {
    let conn = exchange(target.addr, CURL_REQUEST)?;
    response(&conn, 200, false).map(drop)
}

fn hello_world_page(target: &Target) -> Result<(), Failure> {
    let conn = exchange(target.addr, CURL_REQUEST)?;
    expect_body(&conn, PAGE)
}

fn transcript(target: &Target) -> Result<(), Failure> {
    let Some(log) = &target.log else {
        return Err(Failure::new("the server's log"));
    };
    // Only the log is judged here: the response has checks of its own.
    let conn = exchange(target.addr, CURL_REQUEST)?;
    let Some(me) = conn.local_addr() else {
        return Err(Failure::new("to know our own address"));
    };
    let expected = expected_transcript(me);
    let found = log.connection(me, IO_TIMEOUT);
    let fail = |lines: &[String]| Failure {
        expected: format!(
            "this transcript (the address as printed):\n{}",
            expected.join("\n")
        ),
        sent: CURL_REQUEST.to_vec(),
        received: lines.join("\n").into_bytes(),
    };
    let Some(lines) = found else {
        return Err(fail(&log.lines()));
    };
    // The raw bytes may come in more than one read: one `Received b'…'` line each.
    let mut collapsed: Vec<String> = Vec::new();
    for line in &lines {
        let raw = line.starts_with("Received b'") || line.starts_with("Received b\"");
        let previous_raw = collapsed
            .last()
            .is_some_and(|l| l.starts_with("Received b'"));
        if raw && previous_raw {
            continue;
        }
        collapsed.push(if raw {
            "Received b'…'".into()
        } else {
            line.clone()
        });
    }
    let mut wanted = expected.clone();
    wanted[1] = "Received b'…'".into();
    if collapsed != wanted {
        return Err(fail(&lines));
    }
    Ok(())
}

/// The post's transcript for [`CURL_REQUEST`] from `client`.
fn expected_transcript(client: SocketAddr) -> Vec<String> {
    vec![
        format!("Socket established with {client}."),
        format!("Received b'{}'", CURL_REQUEST.escape_ascii()),
        "Received url: b'/'".into(),
        "Received header: (b'Host', b'localhost:5000')".into(),
        "Received header: (b'User-Agent', b'curl/7.69.1')".into(),
        "Received header: (b'Accept', b'*/*')".into(),
        "Received request completely.".into(),
        "Response sent.".into(),
        format!("Socket with {client} closed."),
    ]
}

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

fn request_byte_by_byte(target: &Target) -> Result<(), Failure> {
    let pieces: Vec<&[u8]> = CURL_REQUEST.chunks(1).collect();
    send_in_pieces(target, &pieces, BYTE_PAUSE)
}

fn body_with_content_length(target: &Target) -> Result<(), Failure> {
    // The post's third parser test.
    let request = b"POST / HTTP/1.1\r\nHost: localhost:5000\r\nUser-Agent: curl/7.69.1\r\n\
        Accept: */*\r\nContent-Length: 7\r\nContent-Type: application/json\r\n\r\nabc=def";
    let conn = exchange(target.addr, request)?;
    response(&conn, 200, false).map(drop)
}

fn answer_after_body(target: &Target) -> Result<(), Failure> {
    let mut conn = Conn::open(target.addr)?;
    conn.send(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n01234")?;
    conn.expect_silence(
        WAIT_FOR_REST,
        "while 5 of the 10 body bytes are still to come",
    )?;
    conn.send(b"56789")?;
    conn.read_to_close(IO_TIMEOUT)?;
    response(&conn, 200, false).map(drop)
}

fn head_request(target: &Target) -> Result<(), Failure> {
    let get = exchange(target.addr, CURL_REQUEST)?;
    let get = response(&get, 200, false)?;
    let conn = exchange(target.addr, b"HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n")?;
    let head = response(&conn, 200, true)?;
    let length = get.body.len().to_string();
    if head.header("Content-Length") != Some(length.as_str()) {
        return Err(conn.fail(format!("Content-Length: {length}, as for GET")));
    }
    Ok(())
}

fn expect_continue(target: &Target) -> Result<(), Failure> {
    let body = vec![b'x'; 3000];
    let mut conn = Conn::open(target.addr)?;
    conn.send(
        b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3000\r\n\
          Expect: 100-continue\r\n\r\n",
    )?;
    conn.read_until(b"\r\n\r\n", IO_TIMEOUT)?;
    let interim = b"HTTP/1.1 100 Continue\r\n\r\n";
    if !conn.received().starts_with(interim) {
        return Err(conn.fail(format!("{} before the body", shown(interim))));
    }
    conn.send(&body)?;
    conn.read_to_close(IO_TIMEOUT)?;
    let final_answer = parse_response(&conn.received()[interim.len()..], false)
        .map_err(|why| conn.fail(format!("after 100 Continue, {why}")))?;
    if final_answer.status != 200 {
        return Err(conn.fail("200 after the body"));
    }
    Ok(())
}

fn header_without_space(target: &Target) -> Result<(), Failure> {
    let conn = exchange(
        target.addr,
        b"GET / HTTP/1.1\r\nHost:localhost\r\nAccept:\t*/* \r\n\r\n",
    )?;
    response(&conn, 200, false).map(drop)
}

fn many_headers(target: &Target) -> Result<(), Failure> {
    // 1,200 lines of 6 bytes: 7.2 KB, under the 8 KiB head limit.
    let request = format!("GET / HTTP/1.1\r\n{}\r\n", "A: b\r\n".repeat(1200));
    let conn = exchange_lenient(target.addr, request.as_bytes())?;
    match status_of(conn.received()) {
        Some(431) => response(&conn, 431, false).map(drop),
        _ => response(&conn, 200, false).map(drop),
    }
}

fn bytes_after_body(target: &Target) -> Result<(), Failure> {
    // A second request glued to the first one's body: it must not be
    // answered too (a second answer would show as more body than announced).
    let request =
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n";
    let conn = exchange_lenient(target.addr, request)?;
    response(&conn, 200, false).map(drop)
}

fn bad_request_line(target: &Target) -> Result<(), Failure> {
    for request in [
        &b"GET /\r\n\r\n"[..],
        b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n",
        b"GET / FTP/1.1\r\nHost: x\r\n\r\n",
        b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
    ] {
        expect_refusal(target, request, 400)?;
    }
    Ok(())
}

fn bad_header_line(target: &Target) -> Result<(), Failure> {
    for request in [
        &b"GET / HTTP/1.1\r\nHost localhost\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
    ] {
        expect_refusal(target, request, 400)?;
    }
    Ok(())
}

fn content_length_not_a_number(target: &Target) -> Result<(), Failure> {
    for length in ["-1", "+5", "abc", "1 2"] {
        let request =
            format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\nabcde");
        expect_refusal(target, request.as_bytes(), 400)?;
    }
    Ok(())
}

fn content_lengths_disagree(target: &Target) -> Result<(), Failure> {
    let request =
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef";
    expect_refusal(target, request, 400)
}

fn content_length_and_transfer_encoding(target: &Target) -> Result<(), Failure> {
    let request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\
        Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    expect_refusal(target, request, 400)
}

fn transfer_encoding_alone(target: &Target) -> Result<(), Failure> {
    let request =
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    let conn = exchange_lenient(target.addr, request)?;
    match parse_response(conn.received(), false) {
        Ok(answer) if answer.status == 501 || answer.status == 200 => Ok(()),
        Ok(answer) => Err(conn.fail(format!(
            "501 (or 200 after reading the chunks), not {}",
            answer.status
        ))),
        Err(why) => Err(conn.fail(why)),
    }
}

fn head_too_large(target: &Target) -> Result<(), Failure> {
    let request = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Long: {}\r\n\r\n",
        "a".repeat(9 * 1024)
    );
    expect_refusal(target, request.as_bytes(), 431)
}

fn body_too_large(target: &Target) -> Result<(), Failure> {
    // No body is sent: the answer must come from the head alone.
    let request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n";
    expect_refusal(target, request, 413)
}

fn client_leaves_early(target: &Target) -> Result<(), Failure> {
    let mut conn = Conn::open(target.addr)?;
    conn.send(b"GET / HTTP/1.1\r\nHost: loc")?;
    conn.finish_sending();
    conn.read_to_close(IO_TIMEOUT).map_err(|_| {
        conn.fail("the server to close the connection once the client left; it kept it open")
    })?;
    // Nothing, or an error answer: either way no 200 to a half request.
    if !conn.received().is_empty() {
        let answer = parse_response(conn.received(), false).map_err(|why| conn.fail(why))?;
        if answer.status < 400 {
            return Err(conn.fail("no answer, or a 4xx, to a request cut short"));
        }
    }
    well_formed_response(target)
}

fn bad_input_then_good(target: &Target) -> Result<(), Failure> {
    // The start of a TLS handshake: what an https:// client sends first.
    expect_refusal(
        target,
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
        400,
    )?;
    well_formed_response(target)
}

fn quiet_client_timed_out(target: &Target) -> Result<(), Failure> {
    let timeout = target.read_timeout.unwrap_or(IO_TIMEOUT);
    let mut conn = Conn::open(target.addr)?;
    conn.read_to_close(timeout + IO_TIMEOUT)?;
    response(&conn, 408, false).map(drop)
}

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
    response(&fast, 200, false)?;
    slow.send(b"calhost\r\n\r\n")?;
    slow.read_to_close(IO_TIMEOUT)?;
    response(&slow, 200, false).map(drop)
}

fn many_clients_at_once(target: &Target) -> Result<(), Failure> {
    const CLIENTS: usize = 20;
    const REQUESTS: usize = 100;
    let client = |addr| {
        for _ in 0..REQUESTS {
            let conn = exchange(addr, CURL_REQUEST)?;
            response(&conn, 200, false)?;
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
        });
    }
    Ok(output.stdout)
}

fn curl(target: &Target) -> Result<(), Failure> {
    let url = format!("http://{}/", target.addr);
    let printed = run_curl(&["-i", &url])?;
    let fail = |expected: &str| Failure {
        expected: expected.into(),
        sent: format!("curl -i {url}").into_bytes(),
        received: printed.clone(),
    };
    if !printed.starts_with(b"HTTP/1.1 200 OK\r\n") {
        return Err(fail("HTTP/1.1 200 OK"));
    }
    if !printed.ends_with(PAGE) {
        return Err(fail("the page"));
    }
    Ok(())
}

fn curl_upload(target: &Target) -> Result<(), Failure> {
    let file = std::env::temp_dir().join(format!("stage-check-upload-{}", std::process::id()));
    std::fs::write(&file, vec![b'x'; 3000])
        .map_err(|error| Failure::new(format!("to write a file to upload, but: {error}")))?;
    let url = format!("http://{}/", target.addr);
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
    let printed = printed?;
    if !printed.windows(15).any(|w| w == b"HTTP/1.1 200 OK") {
        return Err(Failure {
            expected: "HTTP/1.1 200 OK after the upload".into(),
            sent: format!("curl -i --data-binary @3kB-file {url}").into_bytes(),
            received: printed,
        });
    }
    Ok(())
}
