//! The check part 12 introduces, with async tasks: the application itself
//! may wait (on a timer, a database, another server) without holding a
//! thread, since an `.await` hands the thread back to the runtime, which
//! serves other connections meanwhile.
//!
//! It starts a server of its own ([`Needs::OwnServer`]), as part 11's
//! checks do, with `--workers 1`: on one thread, a handler that blocks it
//! (Python's `time.sleep` inside an `async def`) delays every client.

use std::time::{Duration, Instant};

use super::part10::{OWN_TIMEOUT, own_server_timed, with_its_words};
use crate::client::{Conn, Failure, IO_TIMEOUT, Method, answer_at};
use crate::server::Server;
use crate::{Check, Needs, Rule, System, Target};

/// The options `awaiting_handler_does_not_delay_others` starts its server
/// with, beside [`OWN_TIMEOUT`] for its timers: one thread, so that a
/// handler that blocks it shows.
const ONE_THREAD: &[&str] = &["--workers", "1"];

/// How long client A's handler awaits: part 12's `GET /sleep` takes it in
/// `?ms=`.
pub(crate) const SLEEP: Duration = Duration::from_millis(1000);

/// What A sends.
const SLEEP_REQUEST: &[u8] = b"GET /sleep?ms=1000 HTTP/1.1\r\nHost: x\r\n\r\n";

/// What A's answer says, as part 12's application words it.
const SLEPT: &[u8] = b"Slept 1000 ms\n";

/// How long the log may take to say it has A's request (`Received
/// b'GET /sleep…`) before the other client goes all the same: a server
/// that logs otherwise is not waited on longer.
pub(crate) const RECEIVED_WITHIN: Duration = Duration::from_millis(500);

/// How soon the other client's page must come while A's handler awaits.
/// Its wait and the log's before it end well before a handler that
/// blocks the thread would let the page through (see the crate's table of
/// deadlines): a blocked page is always late, never just in time.
pub(crate) const PAGE_WITHIN: Duration = Duration::from_millis(300);

/// The page the other client asks for.
const PAGE_REQUEST: &[u8] = b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";

pub(crate) const AWAITING_HANDLER_DOES_NOT_DELAY_OTHERS: Check = Check {
    name: "awaiting_handler_does_not_delay_others",
    proves: "with --workers 1, while client A's GET /sleep?ms=1000 awaits in its handler, another client's GET /index.html is answered 200 within 300 ms; then A gets 200, `Slept 1000 ms`, no sooner than 1 s after it sent its request",
    rule: Rule::Stage(
        "HTTP says nothing of how a server shares its time among clients; with async tasks the application may wait (a timer, a database, another server) and the thread serves others meanwhile, but only if the handler awaits: one that blocks its thread (std::thread::sleep, a blocking read) stops every task on it, as part 11's slow route stalls its loop",
    ),
    since: 12,
    hint: "In an async handler, wait with .await on tokio's own functions (tokio::time::sleep(…).await), never with std::thread::sleep or another blocking call: the .await hands the thread back to the runtime, which runs the other connections' tasks meanwhile (book: Part 12).",
    needs: Needs::OwnServer(System::Any),
    run: awaiting_handler_does_not_delay_others,
};

fn awaiting_handler_does_not_delay_others(target: &Target) -> Result<(), Failure> {
    let server = own_server_timed(target, ONE_THREAD, OWN_TIMEOUT)?;
    with_its_words(&server, awaiting_handler(&server))
}

fn awaiting_handler(server: &Server) -> Result<(), Failure> {
    let mut sleeper = Conn::open(server.addr())?;
    let sent = Instant::now();
    sleeper.send(SLEEP_REQUEST)?;
    // Once the log says the server has A's request, or a little later
    // for a server that logs otherwise.
    let received = |lines: &[String]| {
        lines
            .iter()
            .any(|line| line.starts_with("Received b'GET /sleep"))
            .then_some(())
    };
    let _ = server.log().wait_for(RECEIVED_WITHIN, received);
    // The other client, on a connection of its own: its answer is judged
    // after A's status, so that a server without /sleep hears first of
    // that.
    let mut other = Conn::open(server.addr())?;
    let asked = Instant::now();
    other.send(PAGE_REQUEST)?;
    let page = other.read_answer(Method::Other, PAGE_WITHIN);
    let page_took = asked.elapsed();
    sleeper.read_answer(Method::Other, SLEEP + IO_TIMEOUT)?;
    let took = sent.elapsed();
    let (slept, _) = answer_at(&sleeper, 0, Method::Other)?;
    if slept.status != 200 {
        return Err(sleeper.fail(format!(
            "200 to GET /sleep?ms=1000, `Slept 1000 ms`: part 12's application has an async \
             /sleep route, which awaits tokio::time::sleep for ?ms= milliseconds; GET /sleep \
             answered {}",
            slept.status
        )));
    }
    page.map_err(|mut failure| {
        failure.expected = format!(
            "GET /index.html from another client answered within {} ms, while A's GET \
             /sleep?ms=1000 awaits in its handler, with `{}`: a handler that blocks the one \
             thread keeps every other client waiting ({})",
            PAGE_WITHIN.as_millis(),
            ONE_THREAD.join(" "),
            failure.expected
        );
        failure
    })?;
    let (answer, _) = answer_at(&other, 0, Method::Other)?;
    if answer.status != 200 {
        return Err(other.fail(format!(
            "200 to GET /index.html from another client, while A's GET /sleep?ms=1000 awaits; \
             not {}",
            answer.status
        )));
    }
    if slept.body != SLEPT {
        return Err(sleeper.fail(format!(
            "the body `{}` to GET /sleep?ms=1000",
            SLEPT.escape_ascii()
        )));
    }
    if took < SLEEP {
        return Err(sleeper.fail(format!(
            "the answer to GET /sleep?ms=1000 no sooner than {} ms after the request (the \
             handler awaits that long); it came after {} ms, and the page after {} ms",
            SLEEP.as_millis(),
            took.as_millis(),
            page_took.as_millis()
        )));
    }
    Ok(())
}
