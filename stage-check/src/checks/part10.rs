//! The checks part 10 introduces, with a fixed pool of worker threads: as
//! many threads however many clients come, a bounded queue of connections
//! waiting for a worker and `503` beyond it, idle kept connections let go
//! when another client waits, and a graceful shutdown on SIGTERM.
//!
//! Each of these checks starts a server of its own
//! ([`Needs::OwnServer`]), with a pool and a queue small enough to fill
//! (`--workers 2 --queue 2`), since it fills them, watches the process, or
//! shuts it down: the server the other checks share is left as it was.
//! Those servers wait [`OWN_TIMEOUT`] for a quiet or an idle client, far
//! longer than any wait of these checks, so that a worker a check holds is
//! freed by what the check does, never by a timer of the server.
//!
//! Part 11's event loops run these checks too, with part 11's options: no
//! `--queue`, and `--max-connections` where a check fills the server
//! ([`Pool::options`]). Two of them mean more there, and read so
//! ([`THREADS_BOUNDED_ON_LOOPS`], [`FULL_SERVER_ANSWERED_503`]).

use std::io;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::part9::{get, kept_after};
use crate::client::{
    self, Conn, Failure, IO_TIMEOUT, Method, WELL_FORMED, answer_at, exchange, judge_form,
    status_of,
};
use crate::server::{SHOWN_LINES, Server, Timeouts};
use crate::wait::poll_until;
use crate::{Check, Needs, Rule, System, Target};

/// The read timeout and the keep-alive timeout of the servers these checks
/// start: ten times the longest wait of theirs that a timer could decide
/// (see the crate's table of deadlines).
pub(crate) const OWN_TIMEOUT: Duration = Duration::from_secs(10);

/// The size of the pool a check starts its server with, said in the
/// options of the stage it is checked as: part 10's pool of workers and its
/// queue, or, from part 11 on, event loops, which have no queue.
#[derive(Clone, Copy)]
struct Pool {
    /// `--workers`: how many threads serve connections (part 11: loops).
    workers: usize,
    /// `--queue`: how many accepted connections may wait for a worker.
    queue: usize,
    /// Whether the check fills what the server holds: from part 11 on,
    /// with no queue, `--max-connections` then bounds it to the same
    /// count, workers and queue together. (Part 11 holds any number of
    /// connections on its loops, so the other checks leave it unbounded.)
    fills: Fills,
}

/// Whether a check fills what its server holds ([`Pool::fills`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fills {
    /// It does: a part 11 server is bounded by `--max-connections`.
    Bound,
    /// It does not: a part 11 server takes only `--workers`.
    Nothing,
}

impl Pool {
    /// How many connections the server holds at once: its workers' and
    /// its queue's, or its `--max-connections`.
    fn holds(self) -> usize {
        self.workers + self.queue
    }

    /// Its options on the command line of a server checked as `target`'s
    /// stage.
    fn options(self, target: &Target) -> Vec<String> {
        let mut options = vec!["--workers".to_string(), self.workers.to_string()];
        if !target.event_loops() {
            options.extend(["--queue".to_string(), self.queue.to_string()]);
        } else if self.fills == Fills::Bound {
            options.extend(["--max-connections".to_string(), self.holds().to_string()]);
        }
        options
    }
}

/// Starts a fresh instance of the server under test with `pool` and `more`
/// options (see [`own_server_with`]).
fn own_server(target: &Target, pool: Pool, more: &[&str]) -> Result<Server, Failure> {
    let pool = pool.options(target);
    let options: Vec<&str> = pool
        .iter()
        .map(String::as_str)
        .chain(more.iter().copied())
        .collect();
    own_server_with(target, &options)
}

/// Starts a fresh instance of the server under test with `options`, and
/// [`OWN_TIMEOUT`] for both of its timers: the check chooses the pool, and
/// no timer of the server comes near the check's waits. A server that does
/// not take the options fails the check here, with what it said. (Part 10's
/// exercises start theirs the same way.)
pub(crate) fn own_server_with(target: &Target, options: &[&str]) -> Result<Server, Failure> {
    own_server_timed(target, options, OWN_TIMEOUT)
}

/// The same, with `timeout` for both timers: for the checks whose waits
/// need the server's timers further off still (part 11's, with 1,000
/// connections).
pub(crate) fn own_server_timed(
    target: &Target,
    options: &[&str],
    timeout: Duration,
) -> Result<Server, Failure> {
    let Some(launch) = &target.launch else {
        return Err(Failure::new("a way to start the server: --exec"));
    };
    let timeouts = Timeouts {
        read: Some(timeout),
        keep_alive: Some(timeout),
    };
    launch.start(options, timeouts).map_err(|error| {
        Failure::new(format!(
            "the server to start with part {part}'s options, `{}` (and --read-timeout {seconds} \
             --keep-alive-timeout {seconds}); {error}",
            options.join(" "),
            part = target.part.max(10),
            seconds = timeout.as_secs()
        ))
    })
}

/// `result`, with what `server` said on its standard error when it failed
/// and the server said something: a traceback or a panic explains a lot.
pub(crate) fn with_its_words(server: &Server, result: Result<(), Failure>) -> Result<(), Failure> {
    result.map_err(|mut failure| {
        let said = server.stderr().tail(SHOWN_LINES);
        if !said.is_empty() {
            failure.expected = format!(
                "{}\n(the server this check started said:\n{})",
                failure.expected,
                said.join("\n")
            );
        }
        failure
    })
}

/// Opens `count` connections to `server` that send nothing, and keeps them.
pub(crate) fn quiet_clients(server: &Server, count: usize) -> Result<Vec<Conn>, Failure> {
    (0..count).map(|_| Conn::open(server.addr())).collect()
}

/// The pool `threads_bounded_by_pool` starts its server with.
const THREADS_POOL: Pool = Pool {
    workers: 4,
    queue: 8,
    fills: Fills::Nothing,
};

/// How many clients that send nothing it connects: many more than the pool
/// and the queue hold, so that a thread per connection shows.
const QUIET_CLIENTS: usize = 200;

/// The threads a server may run beyond its workers: its main thread, one
/// for signals, and a few for what starts it (a shell, say).
pub(crate) const MORE_THREADS: usize = 6;

/// How long the thread count is watched while the clients are connected.
pub(crate) const THREADS_WATCHED: Duration = Duration::from_secs(1);

/// How often it is counted meanwhile.
const COUNT_EVERY: Duration = Duration::from_millis(50);

pub(crate) const THREADS_BOUNDED_BY_POOL: Check = Check {
    name: "threads_bounded_by_pool",
    proves: "200 clients that send nothing, against --workers 4 --queue 8: the server runs at most 10 threads (its 4 workers and 6 more) while they are connected",
    rule: Rule::Stage(
        "HTTP says nothing of threads; a thread per connection lets a flood of clients, or of idle ones, take a thread each until memory runs out, and a fixed pool bounds what the server spends on them: this stage's lesson",
    ),
    since: 10,
    hint: "Start --workers threads once, at start, and hand each accepted connection to them through a queue; never a thread per connection (book: Part 10).",
    needs: Needs::OwnServer(System::Linux),
    run: threads_bounded_by_pool,
};

/// The same check on event loops (part 11 on), where it means more: the
/// clients are all held, not refused beyond a queue.
pub(crate) const THREADS_BOUNDED_ON_LOOPS: Check = Check {
    proves: "200 clients that send nothing, against --workers 4: the server holds them all, open and unanswered, on its 4 event loops, and runs at most 10 threads (its 4 loops and 6 more) meanwhile",
    rule: Rule::Stage(
        "HTTP says nothing of threads; a thread per connection runs out of memory under a flood of clients, and a pool refuses those beyond its queue, where a loop that waits on many connections at once holds them all on a few threads: this stage's lesson",
    ),
    since: 11,
    hint: "Start --workers event loops once, at start, each a thread with its own Poll that serves every connection it accepts; never a thread per connection, nor a connection per loop at a time (book: Part 11).",
    ..THREADS_BOUNDED_BY_POOL
};

fn threads_bounded_by_pool(target: &Target) -> Result<(), Failure> {
    let server = own_server(target, THREADS_POOL, &[])?;
    with_its_words(&server, threads_bounded(&server, target))
}

fn threads_bounded(server: &Server, target: &Target) -> Result<(), Failure> {
    let count = |server: &Server| {
        server
            .thread_count()
            .map_err(|error| Failure::new(format!("to count the server's threads, but: {error}")))
    };
    let before = count(server)?;
    let mut held = quiet_clients(server, QUIET_CLIENTS)?;
    let most = THREADS_POOL.workers + MORE_THREADS;
    // Watched for a while, failed as soon as the count goes over: a server
    // with a thread per connection starts them as it accepts.
    let over = poll_until(THREADS_WATCHED, COUNT_EVERY, || match count(server) {
        Ok(now) if now <= most => None,
        counted => Some(counted),
    });
    let options = THREADS_POOL.options(target).join(" ");
    match over {
        None => {}
        Some(Err(failure)) => return Err(failure),
        Some(Ok(now)) => {
            return Err(Failure::new(format!(
                "at most {most} threads (the {} {}, and {MORE_THREADS} more) while \
                 {QUIET_CLIENTS} clients that send nothing are connected to the server started \
                 with `{options}`; it ran {now} ({before} before they came): a thread per \
                 connection?",
                THREADS_POOL.workers,
                if target.event_loops() {
                    "loops"
                } else {
                    "workers"
                },
            )));
        }
    }
    // Event loops hold every one of them, on those few threads; a pool
    // refuses those beyond its queue, as it should.
    if target.event_loops() {
        let let_go = let_go(&mut held);
        if let Some(&first) = let_go.first() {
            return Err(held[first].fail(format!(
                "all {QUIET_CLIENTS} clients that send nothing held, still open and unanswered, \
                 by the server started with `{options}`: its {} loops serve many connections \
                 each; it answered or closed {} of them (the first: client {}): does it hold \
                 fewer connections than that (--max-connections is 10,000 by default)?",
                THREADS_POOL.workers,
                let_go.len(),
                first + 1
            )));
        }
    }
    Ok(())
}

/// Which of `clients`, which sent nothing, the server answered or closed:
/// their places in the list.
fn let_go(clients: &mut [Conn]) -> Vec<usize> {
    (0..clients.len())
        .filter(|&at| {
            let client = &mut clients[at];
            client.glance();
            client.closed() || !client.received().is_empty()
        })
        .collect()
}

/// The pool `full_queue_answered_503` fills.
const FULL_POOL: Pool = Pool {
    workers: 2,
    queue: 2,
    fills: Fills::Bound,
};

/// How many more clients it connects than the pool and the queue hold.
/// The workers never let a client go (none sends anything, and the read
/// timeout is far off), so at most workers + queue of them are held: the
/// rest must be refused. Which ones depends on how fast the workers take
/// from the queue (a busy machine may refuse the third, and queue the
/// seventh once the workers have woken), so any of them may be.
const BEYOND: usize = 3;

/// How long each client is read, in turn, while a refusal is looked for.
const LOOK_FOR_A_REFUSAL: Duration = Duration::from_millis(10);

/// How long, once the clients that held the pool left, a new client may
/// be refused before it must be served.
pub(crate) const FREED_WITHIN: Duration = Duration::from_secs(2);

/// How often it tries again meanwhile.
const RETRY_EVERY: Duration = Duration::from_millis(50);

pub(crate) const FULL_QUEUE_ANSWERED_503: Check = Check {
    name: "full_queue_answered_503",
    proves: "with --workers 2 --queue 2 and 7 clients that send nothing, those beyond the 4 the pool holds get 503 Service Unavailable, with Retry-After and Connection: close, at once, then the close; once those clients leave, GET /index.html gets 200 within 2 s",
    rule: Rule::Stage(
        "HTTP lets a server that cannot serve now say so with 503 and Retry-After (RFC 9110 §15.6.4, §10.2.3), and asks no bound of it; the stage bounds its queue, so that a flood of clients costs no more than the queue holds, and says so at once rather than leaving a client hanging",
    ),
    since: 10,
    hint: "Bound the queue (--queue): when it is full, the main thread itself answers 503 Service Unavailable with Retry-After: 1 and Connection: close, and closes; a worker whose client left takes the next from the queue (book: Part 10).",
    needs: Needs::OwnServer(System::Any),
    run: full_queue_answered_503,
};

/// The same check on event loops (part 11 on): what bounds the clients is
/// `--max-connections`, and the server is full, not its queue.
pub(crate) const FULL_SERVER_ANSWERED_503: Check = Check {
    proves: "with --workers 2 --max-connections 4 and 7 clients that send nothing, those beyond the 4 the server holds (it is full) get 503 Service Unavailable, with Retry-After and Connection: close, at once, then the close; once those clients leave, GET /index.html gets 200 within 2 s",
    rule: Rule::Stage(
        "HTTP lets a server that cannot serve now say so with 503 and Retry-After (RFC 9110 §15.6.4, §10.2.3), and asks no bound of it; the stage bounds the connections it holds, counted across its loops, so that a flood of clients costs no more than that bound, and says so at once rather than leaving a client hanging",
    ),
    since: 11,
    hint: "Count the connections across the loops: when --max-connections are held, the server is full, and the loop that accepts the next one answers 503 Service Unavailable with Retry-After: 1 and Connection: close, and closes it; a connection counts out when it closes (book: Part 11).",
    ..FULL_QUEUE_ANSWERED_503
};

fn full_queue_answered_503(target: &Target) -> Result<(), Failure> {
    let server = own_server(target, FULL_POOL, &[])?;
    with_its_words(&server, full_queue(&server, target))
}

fn full_queue(server: &Server, target: &Target) -> Result<(), Failure> {
    let holding = FULL_POOL.holds() + BEYOND;
    // What holds the clients, in the words of the stage: a pool's workers
    // and queue, or event loops' bound on connections.
    let (held_by, unbounded, still_held) = if target.event_loops() {
        (
            format!(
                "that `{}` holds (the server is full then)",
                FULL_POOL.options(target).join(" ")
            ),
            "the server has no bound on its connections?",
            "does the server count a connection out when its client leaves?",
        )
    } else {
        (
            format!(
                "that --workers {} and --queue {} hold",
                FULL_POOL.workers, FULL_POOL.queue
            ),
            "the queue has no bound?",
            "do the workers see that their clients left?",
        )
    };
    // Clients that send nothing: a refused one then closes cleanly, with
    // no bytes of ours left unread to turn its close into a reset.
    let mut clients = quiet_clients(server, holding)?;
    let what = format!(
        "`503 Service Unavailable` at once to the clients beyond the {} {held_by}, of {holding} \
         that send nothing",
        FULL_POOL.holds()
    );
    // The first client answered, looked for among all of them in turn.
    let answered = poll_until(IO_TIMEOUT, Duration::ZERO, || {
        clients.iter_mut().position(|client| {
            let _ = client.read_until(b"\r\n\r\n", LOOK_FOR_A_REFUSAL);
            !client.received().is_empty()
        })
    });
    let Some(at) = answered else {
        return Err(clients[holding - 1].fail(format!(
            "{what}; none got an answer within {} s: {unbounded}",
            IO_TIMEOUT.as_secs()
        )));
    };
    let mut last = clients.swap_remove(at);
    let held = clients;
    last.read_to_close(IO_TIMEOUT)?;
    let (answer, notes) = judge_form(last.received(), Method::Other)
        .map_err(|why| last.fail(format!("{what}, well formed: {why}")))?;
    for text in notes {
        client::note(text);
    }
    if answer.status != 503 {
        return Err(last.fail(format!("{what}; not {}", answer.status)));
    }
    if answer.header("Retry-After").is_none() {
        return Err(last.fail(
            "a `Retry-After` header with the 503, saying when to try again (RFC 9110, section \
             10.2.3): the stage says `Retry-After: 1`",
        ));
    }
    if !answer.connection_has("close") {
        return Err(last.fail(
            "`Connection: close` with the 503: the server closes the connection it refuses, and \
             must say so (RFC 9112, section 9.6)",
        ));
    }
    drop(held);
    drop(last);
    // The workers' clients are gone: each worker sees its client close,
    // and takes the next connection, which has left too, then ours. Tried
    // again while the answer is still 503.
    let mut refused = None;
    let page = get("/index.html");
    let served = poll_until(FREED_WITHIN, RETRY_EVERY, || {
        match exchange(server.addr(), &page) {
            Ok(conn) if status_of(conn.received()) == Some(503) => {
                refused = Some(conn);
                None
            }
            done => Some(done),
        }
    });
    let after = format!(
        "GET /index.html answered 200 within {} s once the {holding} clients that filled the \
         server closed their connections",
        FREED_WITHIN.as_secs()
    );
    match served {
        Some(Ok(conn)) => match status_of(conn.received()) {
            Some(200) => Ok(()),
            Some(status) => Err(conn.fail(format!("{after}; not {status}"))),
            None => Err(conn
                .fail(format!("{after}: a status line like `HTTP/1.1 200 OK`"))
                .see(WELL_FORMED)),
        },
        Some(Err(mut failure)) => {
            failure.expected = format!("{after}: {}", failure.expected);
            Err(failure)
        }
        None => {
            let expected = format!(
                "{after}; it still answered 503: {still_held} (The {} s read timeout would free \
                 them, too late.)",
                OWN_TIMEOUT.as_secs()
            );
            Err(refused.map_or_else(|| Failure::new(&expected), |conn| conn.fail(&expected)))
        }
    }
}

/// The pool `next_client_served_past_idle_ones` holds with idle connections.
const IDLE_POOL: Pool = Pool {
    workers: 2,
    queue: 8,
    fills: Fills::Nothing,
};

/// How soon the next client must be answered while idle kept connections
/// hold every worker.
pub(crate) const NEXT_SERVED_WITHIN: Duration = Duration::from_secs(1);

pub(crate) const NEXT_CLIENT_SERVED_PAST_IDLE_ONES: Check = Check {
    name: "next_client_served_past_idle_ones",
    proves: "with --workers 2 held by two kept connections left idle after an answer, a third client's GET /index.html is answered 200 within 1 s, not after the 10 s keep-alive timeout",
    rule: Rule::Stage(
        "HTTP lets a server close an idle connection whenever it likes (RFC 9112 §9.5); with a fixed pool, idle kept connections could hold every worker while a new client waits out a keep-alive timer, so the stage lets an idle one go when another client waits",
    ),
    since: 10,
    hint: "While connections wait in the queue, a worker must not sit on an idle kept connection: look up every 100 ms, and close an idle one, silently, when another client waits (book: Part 10).",
    needs: Needs::OwnServer(System::Any),
    run: next_client_served_past_idle_ones,
};

fn next_client_served_past_idle_ones(target: &Target) -> Result<(), Failure> {
    let server = own_server(target, IDLE_POOL, &[])?;
    with_its_words(&server, next_client_served(&server))
}

fn next_client_served(server: &Server) -> Result<(), Failure> {
    let page = get("/index.html");
    // Each answered, and kept open, idle: the server may close them
    // meanwhile, which HTTP allows (RFC 9112, section 9.5).
    let idle = (0..IDLE_POOL.workers)
        .map(|_| kept_after(&server.target(), &page))
        .collect::<Result<Vec<_>, _>>()?;
    let mut next = Conn::open(server.addr())?;
    next.send(&page)?;
    next.read_answer(Method::Other, NEXT_SERVED_WITHIN)
        .map_err(|mut failure| {
            failure.expected = format!(
                "an answer within {} s to client {}, while {} kept connections, idle, hold the {} \
                 workers: the stage looks up from an idle connection every {} ms, and lets it go \
                 when a client waits; a server that does not serves the client only after its \
                 keep-alive timeout ({} s). ({})",
                NEXT_SERVED_WITHIN.as_secs_f32(),
                IDLE_POOL.workers + 1,
                IDLE_POOL.workers,
                IDLE_POOL.workers,
                STAGE_LOOKS_UP.as_millis(),
                OWN_TIMEOUT.as_secs(),
                failure.expected
            );
            failure
        })?;
    let (answer, _) = answer_at(&next, 0, Method::Other)?;
    if answer.status != 200 {
        return Err(next.fail(format!(
            "200 to GET /index.html, as for the clients before; not {}",
            answer.status
        )));
    }
    drop(idle);
    Ok(())
}

/// The pool `graceful_shutdown` starts its server with.
const SHUTDOWN_POOL: Pool = Pool {
    workers: 4,
    queue: 8,
    fills: Fills::Nothing,
};

/// The server's `--shutdown-timeout`: how long it lets requests in
/// progress run once told to shut down.
pub(crate) const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// How long to wait for `100 Continue` before sending a body anyway, as
/// curl does.
pub(crate) const CONTINUE_WAIT: Duration = Duration::from_secs(1);

/// How long each step of the shutdown may take: the listener closed, the
/// idle connection closed, the answer to the request in progress.
pub(crate) const SHUTDOWN_STEP: Duration = Duration::from_secs(2);

/// How often the stage looks up from a connection that waits for its next
/// request, to close it when others wait or on shutdown: the stage's own
/// figure, which [`SHUTDOWN_STEP`] keeps clear of.
pub(crate) const STAGE_LOOKS_UP: Duration = Duration::from_millis(100);

/// How much longer than its shutdown timeout the process may take to exit.
pub(crate) const EXIT_MARGIN: Duration = Duration::from_secs(2);

/// How often a new connection is tried, and the exit looked for, meanwhile.
const SHUTDOWN_POLL: Duration = Duration::from_millis(50);

/// The request in progress when the signal comes: its head, and the first
/// half of its body, sent before; the second half after.
const IN_PROGRESS: &[u8] = b"POST /create HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\
    Expect: 100-continue\r\n\r\n";
const FIRST_HALF: &[u8] = b"01234";
const SECOND_HALF: &[u8] = b"56789";

pub(crate) const GRACEFUL_SHUTDOWN: Check = Check {
    name: "graceful_shutdown",
    proves: "on SIGTERM: new connections are refused within 2 s, an idle kept connection is closed without a byte within 2 s, a request in progress is answered, saying Connection: close, then closed, and the process exits with status 0 within --shutdown-timeout (5 s) and 2 s more",
    rule: Rule::Stage(
        "HTTP asks a server that closes a connection to say so (RFC 9112 §9.6), and says nothing of signals; the stage shuts down as nginx and hyper do, no longer accepting, closing idle connections, letting requests in progress finish, then exiting 0, so that a restart loses no request",
    ),
    since: 10,
    hint: "On SIGTERM or SIGINT, close the listener, close connections that wait for a request, let requests in progress finish with Connection: close, then exit 0, or at --shutdown-timeout (book: Part 10).",
    needs: Needs::OwnServer(System::Unix),
    run: graceful_shutdown,
};

/// What step `letter` of the shutdown expects, `what`, said as a failure
/// says it: "(a) after SIGTERM, new connections refused…".
fn step(letter: char, what: &str) -> String {
    format!("({letter}) after SIGTERM, {what}")
}

/// `failure`, said to be of `step` of the shutdown (see [`step`]).
fn at_step(step: &str, mut failure: Failure) -> Failure {
    failure.expected = format!("{step}: {}", failure.expected);
    failure
}

fn graceful_shutdown(target: &Target) -> Result<(), Failure> {
    let timeout = SHUTDOWN_TIMEOUT.as_secs().to_string();
    let mut server = own_server(target, SHUTDOWN_POOL, &["--shutdown-timeout", &timeout])?;
    let result = shut_down(&mut server);
    with_its_words(&server, result)
}

fn shut_down(server: &mut Server) -> Result<(), Failure> {
    let addr = server.addr();
    // A: answered, and kept open, idle.
    let (mut idle, _) = kept_after(&server.target(), &get("/index.html"))?;
    // B: a request in progress, its body half sent. A server need not send
    // `100 Continue`: curl waits a second, then sends the body anyway, and
    // so do we.
    let mut busy = Conn::open(addr)?;
    busy.send(IN_PROGRESS)?;
    let _ = busy.read_until(b"\r\n\r\n", CONTINUE_WAIT);
    let early = !busy.received().is_empty() && status_of(busy.received()) != Some(100);
    if early || busy.closed() {
        return Err(busy
            .fail("before SIGTERM, `100 Continue`, or nothing, while the body is still to come"));
    }
    busy.send(FIRST_HALF)?;
    server
        .terminate()
        .map_err(|error| Failure::new(format!("to send SIGTERM to the server, but: {error}")))?;
    let signalled = Instant::now();

    // (a) The listener closed: a connection that still succeeds is closed
    // at once, and another tried.
    let refused = poll_until(
        SHUTDOWN_STEP,
        SHUTDOWN_POLL,
        || match TcpStream::connect_timeout(&addr, SHUTDOWN_STEP) {
            Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => Some(()),
            _ => None,
        },
    );
    if refused.is_none() {
        let what = format!(
            "new connections refused within {} s: the listener closed at once; they were still \
             accepted",
            SHUTDOWN_STEP.as_secs()
        );
        return Err(Failure::new(step('a', &what)));
    }

    // (b) A, idle, closed without a byte, within the step from the signal.
    let step_b = step(
        'b',
        &format!(
            "the idle kept connection closed without a byte within {} s",
            SHUTDOWN_STEP.as_secs()
        ),
    );
    let waited = signalled.elapsed();
    let left = SHUTDOWN_STEP.saturating_sub(waited).max(SHUTDOWN_POLL);
    let closed = match idle.expect_silent_close(left) {
        Err(failure) => return Err(at_step(&step_b, failure)),
        Ok(Some(took)) if waited + took <= SHUTDOWN_STEP => None,
        Ok(Some(took)) => Some(format!(
            "it closed after {:.1} s",
            (waited + took).as_secs_f32()
        )),
        Ok(None) => Some(format!(
            "it was still open after {:.1} s",
            signalled.elapsed().as_secs_f32()
        )),
    };
    if let Some(late) = closed {
        return Err(idle.fail(format!("{step_b}; {late}")));
    }

    // (c) B, in progress, finished: answered, saying it closes, and closed.
    let step_c = step(
        'c',
        &format!(
            "the POST in progress (the last {} bytes of its body sent after the signal) answered \
             2xx with `Connection: close` within {} s, then closed",
            SECOND_HALF.len(),
            SHUTDOWN_STEP.as_secs()
        ),
    );
    busy.send_lenient(SECOND_HALF);
    let sent = Instant::now();
    busy.read_answer(Method::Other, SHUTDOWN_STEP)
        .map_err(|failure| at_step(&step_c, failure))?;
    let (answer, end) = client::read_response(busy.received(), Method::Other)
        .map(|answer| {
            let end = busy.received().len() - answer.rest.len();
            (answer, end)
        })
        .map_err(|why| {
            if busy.closed() {
                busy.fail(format!(
                    "{step_c}; the server closed the connection without an answer"
                ))
            } else {
                busy.fail(format!("{step_c}: {why}"))
            }
        })?;
    if !(200..300).contains(&answer.status) {
        return Err(busy.fail(format!("{step_c}; not {}", answer.status)));
    }
    if !answer.connection_has("close") {
        return Err(busy.fail(format!(
            "{step_c}: the server is shutting down, and must say that it closes (RFC 9112, \
             section 9.6); the answer does not"
        )));
    }
    // The close, within the same step: a server that keeps the connection
    // until its shutdown timeout cuts it off is too late.
    let left = SHUTDOWN_STEP
        .saturating_sub(sent.elapsed())
        .max(SHUTDOWN_POLL);
    busy.read_to_close(left)
        .map_err(|failure| at_step(&step_c, failure))?;
    if busy.received().len() > end {
        return Err(busy.fail(format!("{step_c}: nothing after the answer")));
    }

    // (d) The process ended, with status 0, within the shutdown timeout
    // and a margin, from the signal.
    let exit_by = SHUTDOWN_TIMEOUT + EXIT_MARGIN;
    let left = exit_by.saturating_sub(signalled.elapsed());
    let step_d = step(
        'd',
        &format!(
            "the process ended with exit status 0 within {} s (--shutdown-timeout {}, and {} s \
             more)",
            exit_by.as_secs(),
            SHUTDOWN_TIMEOUT.as_secs(),
            EXIT_MARGIN.as_secs()
        ),
    );
    match poll_until(left, SHUTDOWN_POLL, || server.exit_status()) {
        Some(status) if status.success() => Ok(()),
        Some(status) => Err(Failure::new(format!("{step_d}; it ended with {status}"))),
        None => Err(Failure::new(format!("{step_d}; it was still running"))),
    }
}
