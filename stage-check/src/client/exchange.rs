//! How a check talks to the server and judges its answer: send a request
//! (whole, in pieces, or leniently), read until the close, and expect a
//! status, a body, or a refusal. Every kind of HTTP check uses these: the
//! stages', the application's and the exercises'.
//!
//! A helper that cannot read what it needs names the check that judges
//! that ([`WELL_FORMED`] or [`ERROR_FORM`]) in its failure, so that a
//! response with a broken form makes one failure, not one per check.

use std::net::SocketAddr;
use std::thread;
use std::time::Duration;

use super::{
    Conn, Failure, IO_TIMEOUT, Method, Response, answer_length, judge_close, read_response, shown,
    status_of,
};
use crate::Target;
/// The pause between the pieces of a request sent in pieces, so that each
/// piece is likely a read of its own on the server's side. (It is pacing, not
/// waiting for anything: the check holds however the pieces are read.)
pub(crate) const PIECE_PAUSE: Duration = Duration::from_millis(20);

/// The same between single bytes, shorter, since there are many.
pub(crate) const BYTE_PAUSE: Duration = Duration::from_millis(2);

/// How long a server must show no answer to a request that is not complete.
pub(crate) const WAIT_FOR_REST: Duration = Duration::from_millis(500);

/// The check that judges the form of a normal answer: a check that cannot
/// read its answer is not judged when this one failed.
pub(crate) const WELL_FORMED: &str = "well_formed_response";

/// The same, for the answer to a bad request.
pub(crate) const ERROR_FORM: &str = "error_response_well_formed";

/// Sends `request` on a new connection and reads until the server closes.
pub(crate) fn exchange(addr: SocketAddr, request: &[u8]) -> Result<Conn, Failure> {
    exchange_in_pieces(addr, &[request], Duration::ZERO)
}

/// Sends a request in `pieces`, `pause` apart, on a new connection, and
/// reads until the server closes. (A server that keeps the connection
/// closes once we close our side, after its whole answer: for `HEAD`, once
/// its head is in.)
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
    let head = pieces
        .first()
        .is_some_and(|piece| piece.starts_with(b"HEAD "));
    let method = if head { Method::Head } else { Method::Other };
    conn.read_to_close_after(method, IO_TIMEOUT)?;
    Ok(conn)
}

/// Reads what `conn` received as a `200` whose body is `body`.
pub(crate) fn expect_body(conn: &Conn, body: &[u8]) -> Result<(), Failure> {
    let answer = response(conn, 200)?;
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

/// The status of the final answer `conn` received, `1xx` interim answers
/// passed over. Only the status line is read: the rest of the response's
/// form is judged by the check `basis`, and an answer with no status line
/// to read is left to it too.
pub(crate) fn status(conn: &Conn, basis: &'static str) -> Result<u16, Failure> {
    let mut bytes = conn.received();
    if bytes.is_empty() {
        return Err(conn
            .fail("an answer; the server closed the connection without one")
            .see(basis));
    }
    loop {
        let Some(status) = status_of(bytes) else {
            return Err(conn.fail("a status line like `HTTP/1.1 200 OK`").see(basis));
        };
        let interim_end = bytes.windows(4).position(|w| w == b"\r\n\r\n");
        match interim_end {
            Some(end) if (100..200).contains(&status) => bytes = &bytes[end + 4..],
            _ => return Ok(status),
        }
        if bytes.is_empty() {
            return Err(conn.fail(format!("a final answer after the interim {status}")));
        }
    }
}

/// Expects the final answer `conn` received to have `expected` as its
/// status; the rest of its form is left to `basis`.
pub(crate) fn expect_status(
    conn: &Conn,
    expected: u16,
    basis: &'static str,
) -> Result<(), Failure> {
    let actual = status(conn, basis).map_err(|mut failure| {
        if failure.expected.starts_with("a status line") {
            failure.expected =
                format!("a status line, such as `HTTP/1.1 {expected} …`; the answer has none");
        }
        failure
    })?;
    if actual != expected {
        return Err(conn.fail(format!("status {expected}, not {actual}")));
    }
    Ok(())
}

/// Reads what `conn` received as a response with `status`, leniently: what
/// is wrong with its form is left to [`WELL_FORMED`].
pub(crate) fn response(conn: &Conn, status: u16) -> Result<Response, Failure> {
    read_as(conn, status, Method::Other)
}

/// The same, for the answer to `HEAD`, which has no body.
pub(crate) fn response_to_head(conn: &Conn, status: u16) -> Result<Response, Failure> {
    read_as(conn, status, Method::Head)
}

fn read_as(conn: &Conn, status: u16, method: Method) -> Result<Response, Failure> {
    // The status first: a 200 to a bad request is the news, not its form.
    expect_status(conn, status, WELL_FORMED)?;
    read_response(conn.received(), method).map_err(|why| conn.fail(why).see(WELL_FORMED))
}

/// Sends a request that must be refused with `status`. Only the status is
/// judged: the answer is read by its own framing, and how the server closes
/// afterwards is [`ERROR_FORM`]'s question. (A server may linger a while
/// before it closes, reading what the client still sends: nginx does, 5 s.)
pub(crate) fn expect_refusal(target: &Target, request: &[u8], status: u16) -> Result<(), Failure> {
    let mut conn = Conn::open(target.addr)?;
    conn.send_lenient(request);
    conn.read_answer(Method::Other, IO_TIMEOUT)?;
    expect_status(&conn, status, ERROR_FORM)
}

/// Sends the request in `pieces`, `pause` apart, and expects the status it
/// gets when sent whole.
pub(crate) fn send_in_pieces(
    target: &Target,
    pieces: &[&[u8]],
    pause: Duration,
) -> Result<(), Failure> {
    let whole = exchange(target.addr, &pieces.concat())?;
    let expected = status(&whole, WELL_FORMED)?;
    let conn = exchange_in_pieces(target.addr, pieces, pause)?;
    expect_status(&conn, expected, WELL_FORMED).map_err(|mut failure| {
        failure.expected = format!("{}, as when the request comes whole", failure.expected);
        failure
    })
}

/// The answer `conn` received from byte `start` on (read it first, with
/// [`Conn::read_answer_from`]), and where it ends: where the answer to the
/// next request on the connection would start. An answer that the close
/// ends runs to the end of what came. What cannot be read is [`WELL_FORMED`]'s
/// to judge.
pub(crate) fn answer_at(
    conn: &Conn,
    start: usize,
    method: Method,
) -> Result<(Response, usize), Failure> {
    let bytes = conn.received().get(start..).unwrap_or_default();
    let response = read_response(bytes, method).map_err(|why| conn.fail(why).see(WELL_FORMED))?;
    let length = answer_length(bytes, method).unwrap_or(bytes.len());
    Ok((response, start + length))
}

/// Sends `request` on `conn` after the answer that ended at byte `start`,
/// and reads its answer, as a client reuses a connection: returns the
/// answer and where it ends. A server that closes instead fails here: an
/// answer without `Connection: close` leaves the connection open (RFC 9112,
/// section 9.6).
pub(crate) fn next_exchange(
    conn: &mut Conn,
    start: usize,
    request: &[u8],
    method: Method,
) -> Result<(Response, usize), Failure> {
    // Leniently: a server that closed makes the write fail, and the read
    // below then says what happened.
    conn.send_lenient(request);
    next_answer(conn, start, method)
}

/// Reads the answer that starts at byte `start` (see [`next_exchange`]),
/// for a request already sent.
pub(crate) fn next_answer(
    conn: &mut Conn,
    start: usize,
    method: Method,
) -> Result<(Response, usize), Failure> {
    conn.read_answer_from(start, method, IO_TIMEOUT)
        .map_err(|mut failure| {
            if conn.closed() {
                failure.expected += " (an answer without `Connection: close` leaves the \
                                      connection open for the next request: RFC 9112, section 9.6)";
                // A server that closes without saying so fails the check of
                // the answer's form first.
                failure = failure.or_see(WELL_FORMED);
            }
            failure
        })?;
    answer_at(conn, start, method)
}

/// How the server left a connection after an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Left {
    /// It closed it, having said `Connection: close`.
    Closed,
    /// It keeps it open for the next request, as its answer says.
    Open,
}

/// Holds the server to what `answer`, which ended at byte `end` of what
/// `conn` received, says of the connection. If the server closed, or said
/// it would (`Connection: close`, or an HTTP/1.0 answer without
/// `keep-alive`), we wait for the close: it must have said `close`, and
/// nothing may come after the answer, since a server that says `close`
/// reads no further request (RFC 9112, section 9.6). Otherwise the
/// connection is open, which only the next request's answer can prove: the
/// caller sends one ([`next_exchange`]).
pub(crate) fn connection_after(
    conn: &mut Conn,
    answer: &Response,
    end: usize,
) -> Result<Left, Failure> {
    if !conn.closed() && answer.keeps_connection() {
        return Ok(Left::Open);
    }
    conn.read_to_close(IO_TIMEOUT)?;
    judge_close(answer, true).map_err(|why| conn.fail(why).see(WELL_FORMED))?;
    if conn.received().len() > end {
        return Err(conn.fail(
            "nothing after the answer that said `Connection: close`: a server that says it \
             closes reads no further request (RFC 9112, section 9.6)",
        ));
    }
    Ok(Left::Closed)
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
