//! The checks part 7 introduces, for the stages that run an application:
//! the demo application's routes, through the server, and what the
//! original's application interface gets wrong (a body buffer shared by
//! every request, a body in pieces, header names in one case only).
//!
//! They are written against what a client sees, so that a learner's server
//! and application, or framework, in any language, can be checked with them:
//! a Flask version of part 8's demo (`servers/flask_app.py`) passes them,
//! and part 8's too.

use std::net::SocketAddr;
use std::thread;
use std::time::Duration;

use crate::client::{
    Conn, Failure, IO_TIMEOUT, Method, Response, WELL_FORMED, exchange, expect_status,
    read_response, response, shown,
};
use crate::{Check, Needs, Rule, Target};

/// Why a route of the demo application is checked: it is the stage's
/// application, which the chapter builds.
const DEMO: &str = "the chapter's demo application answers this way; a learner's application is held to the same routes";

/// How long the second half of a body waits, in `body_in_pieces`: long
/// enough that it surely comes in a read of its own (the original's
/// application never saw such a body).
pub(crate) const SECOND_HALF_AFTER: Duration = Duration::from_millis(300);

/// A `POST /create` with `body`, and `content_type` as the header named
/// `name`.
fn create(body: &[u8], name: &str, content_type: &str) -> Vec<u8> {
    let head = format!(
        "POST /create HTTP/1.1\r\nHost: localhost\r\n{name}: {content_type}\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    [head.as_bytes(), body].concat()
}

/// Reads the answer `conn` got as a `200`, whose body must contain each of
/// `parts`.
pub(crate) fn expect_text_with(conn: &Conn, parts: &[&[u8]]) -> Result<Response, Failure> {
    let answer = response(conn, 200)?;
    for part in parts {
        if !contains(&answer.body, part) {
            return Err(conn.fail(format!("a text that contains {}", shown(part))));
        }
    }
    Ok(answer)
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

pub(crate) const CREATE_ANSWERS_ITS_BODY: Check = Check {
    name: "create_answers_its_body",
    proves: "POST /create is answered 200, text/plain, with a text that contains the body it got",
    rule: Rule::Stage(DEMO),
    since: 7,
    hint: "Route POST /create to a handler that answers text/plain with the request's body in its text (book: Part 7).",
    needs: Needs::Nothing,
    run: create_answers_its_body,
};

fn create_answers_its_body(target: &Target) -> Result<(), Failure> {
    let request = create(
        b"name=Ada",
        "Content-Type",
        "application/x-www-form-urlencoded",
    );
    let conn = exchange(target.addr, &request)?;
    let answer = expect_text_with(&conn, &[b"name=Ada"])?;
    let media_type = answer.header("Content-Type").unwrap_or_default();
    if !media_type.starts_with("text/plain") {
        return Err(conn.fail(format!(
            "Content-Type: text/plain (with a charset, if any), not {media_type:?}"
        )));
    }
    Ok(())
}

pub(crate) const UNKNOWN_PATH_NOT_FOUND: Check = Check {
    name: "unknown_path_not_found",
    proves: "GET and HEAD of a path the application does not know get 404, GET with a short text, HEAD without a body",
    rule: Rule::Stage(
        "HTTP leaves it to the application what a path means; the demo answers only its routes, and 404 for the rest",
    ),
    since: 7,
    hint: "Match on the method and the path; the last arm, `_`, answers 404 with a short text (book: Part 7).",
    needs: Needs::Nothing,
    run: unknown_path_not_found,
};

fn unknown_path_not_found(target: &Target) -> Result<(), Failure> {
    let conn = exchange(
        target.addr,
        b"GET /nothing-here HTTP/1.1\r\nHost: localhost\r\n\r\n",
    )?;
    let answer = response(&conn, 404)?;
    if answer.body.is_empty() {
        return Err(conn.fail("a 404 with a short text saying what was not found"));
    }
    let conn = exchange(
        target.addr,
        b"HEAD /nothing-here HTTP/1.1\r\nHost: localhost\r\n\r\n",
    )?;
    expect_status(&conn, 404, WELL_FORMED)?;
    let head = read_response(conn.received(), Method::Head)
        .map_err(|why| conn.fail(why).see(WELL_FORMED))?;
    if !head.rest.is_empty() {
        return Err(conn.fail("the head of the 404 alone, with no body after it"));
    }
    Ok(())
}

/// A body of its own for each client: a name no other body contains.
fn secret(n: usize) -> Vec<u8> {
    format!("secret-of-client-{n:02}").into_bytes()
}

pub(crate) const BODIES_KEPT_APART: Check = Check {
    name: "bodies_kept_apart",
    proves: "clients POSTing different bodies, one after the other and at once, each get back their own body and no one else's",
    rule: Rule::Stage(
        "the original shares one body buffer between every request, so one client reads another's data; each request must be a value of its own",
    ),
    since: 7,
    hint: "Collect each request in the session that reads it, never in anything shared between sessions (book: Part 7, what the original gets wrong).",
    needs: Needs::Nothing,
    run: bodies_kept_apart,
};

fn bodies_kept_apart(target: &Target) -> Result<(), Failure> {
    // One after the other: the original's second client reads the first's.
    for n in [1, 2] {
        let conn = exchange(
            target.addr,
            &create(&secret(n), "Content-Type", "text/plain"),
        )?;
        let answer = expect_text_with(&conn, &[&secret(n)])?;
        if contains(&answer.body, &secret(3 - n)) {
            return Err(conn.fail("only this client's body in the answer, not the other's"));
        }
    }
    // At once: each client's body arrives in two pieces, so that the
    // requests are being read at the same time.
    const CLIENTS: usize = 10;
    let addr = target.addr;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| thread::spawn(move || post_in_two_pieces(addr, &secret(10 + n))))
        .collect();
    for (n, client) in clients.into_iter().enumerate() {
        let conn = client
            .join()
            .unwrap_or_else(|_| Err(Failure::new("a client thread to finish")))?;
        let answer = expect_text_with(&conn, &[&secret(10 + n)])?;
        let others = (0..CLIENTS).filter(|&other| other != n);
        if let Some(other) = others
            .map(|other| secret(10 + other))
            .find(|other| contains(&answer.body, other))
        {
            return Err(conn.fail(format!(
                "only this client's body in the answer; it holds {}",
                String::from_utf8_lossy(&other)
            )));
        }
    }
    Ok(())
}

/// POSTs `body` to /create, the head and half the body first, the rest
/// [`SECOND_HALF_AFTER`] later; reads the answer.
fn post_in_two_pieces(addr: SocketAddr, body: &[u8]) -> Result<Conn, Failure> {
    let request = create(body, "Content-Type", "text/plain");
    let cut = request.len() - body.len() / 2;
    let mut conn = Conn::open(addr)?;
    conn.send(&request[..cut])?;
    thread::sleep(SECOND_HALF_AFTER);
    conn.send(&request[cut..])?;
    conn.read_to_close(IO_TIMEOUT)?;
    Ok(conn)
}

pub(crate) const BODY_IN_PIECES: Check = Check {
    name: "body_in_pieces",
    proves: "a body whose second half comes 0.3 s after its first reaches the application whole",
    rule: Rule::Stage(
        "the original's application never gets such a body, and its client is reset; the application must get the body whole, however it arrives",
    ),
    since: 7,
    hint: "Add up the pieces on_body gets, and call the application only once the request is complete (book: Part 7).",
    needs: Needs::Nothing,
    run: body_in_pieces,
};

fn body_in_pieces(target: &Target) -> Result<(), Failure> {
    let body = b"first-half+second-half";
    let conn = post_in_two_pieces(target.addr, body)?;
    expect_text_with(&conn, &[body]).map(drop)
}

pub(crate) const HEADER_NAME_IN_ANY_CASE: Check = Check {
    name: "header_name_in_any_case",
    proves: "POST /create finds its Content-Type when the client writes the name `content-TYPE`, and says it in its text",
    rule: Rule::Stage(
        "header names are case-insensitive (RFC 9110 §5.1), and the original looks the content type up case by case; the demo's answer shows the type it found",
    ),
    since: 7,
    hint: "Keep headers in a map that compares names without regard to case, such as the http crate's HeaderMap (book: Part 7).",
    needs: Needs::Nothing,
    run: header_name_in_any_case,
};

fn header_name_in_any_case(target: &Target) -> Result<(), Failure> {
    let request = create(b"x=1", "content-TYPE", "text/x-check");
    let conn = exchange(target.addr, &request)?;
    expect_text_with(&conn, &[b"text/x-check", b"x=1"]).map(drop)
}
