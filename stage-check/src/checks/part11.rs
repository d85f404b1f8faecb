//! The checks part 11 introduces, with event loops: a few threads, each
//! waiting on many connections at once and serving whichever is ready,
//! never waiting on one of them. Idle connections cost no thread; a client
//! that sends slowly, or takes its answers slowly, delays no one else; and
//! one that never reads its answers costs a bounded amount of memory.
//!
//! Each starts a server of its own ([`Needs::OwnServer`]), as part 10's
//! checks do, with the options it needs: `--workers 1` where a stalled
//! loop must show, since with one loop anything that blocks it delays
//! every client.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::part9::get;
use super::part10::{MORE_THREADS, OWN_TIMEOUT, own_server_timed, quiet_clients, with_its_words};
use crate::client::{
    Conn, Failure, IO_TIMEOUT, Method, answer_at, answer_length, exchange, read_response, status_of,
};
use crate::server::Server;
use crate::wait::poll_until;
use crate::{Check, Needs, Rule, System, Target};

/// The read timeout and the keep-alive timeout of the servers that
/// `idle_connections_held_by_few_threads` and
/// `unread_answers_do_not_delay_others` start: three times their waits end
/// to end, so that no connection is let go by a timer of the server.
pub(crate) const LONG_TIMEOUT: Duration = Duration::from_secs(60);

/// How soon another client of the loop must be answered while one client
/// stalls it (sends slowly, or reads none of its answers).
pub(crate) const OTHERS_SERVED_WITHIN: Duration = Duration::from_secs(1);

/// The page every request of these checks asks for.
const PAGE: &str = "/index.html";

/// Sends `GET /index.html` on a fresh connection to `server`, and fails
/// unless it is answered `200` within [`OTHERS_SERVED_WITHIN`]; `stalling`
/// says what stalls the loop meanwhile, for the failure.
fn others_served(server: &Server, stalling: &str) -> Result<(), Failure> {
    let mut other = Conn::open(server.addr())?;
    other.send(&get(PAGE))?;
    let within = OTHERS_SERVED_WITHIN.as_secs_f32();
    other
        .read_answer(Method::Other, OTHERS_SERVED_WITHIN)
        .map_err(|mut failure| {
            failure.expected = format!(
                "GET {PAGE} from another client answered within {within} s, while {stalling} ({})",
                failure.expected
            );
            failure
        })?;
    let (answer, _) = answer_at(&other, 0, Method::Other)?;
    if answer.status != 200 {
        return Err(other.fail(format!(
            "200 to GET {PAGE} from another client, while {stalling}; not {}",
            answer.status
        )));
    }
    Ok(())
}

/// `options` as the words of a failure: `--workers 1 --quiet`.
fn said(options: &[&str]) -> String {
    options.join(" ")
}

// ---------------------------------------------------------------------
// Idle connections, on few threads.

/// The options `idle_connections_held_by_few_threads` starts its server
/// with, beside [`LONG_TIMEOUT`] for its timers: quiet, since the log lines
/// of 1,000 connections fill the pipe they come to us by faster than a
/// busy machine lets us read it, and a loop that logs then waits on us.
const IDLE_OPTIONS: &[&str] = &["--workers", "2", "--quiet"];

/// Its loops, as [`IDLE_OPTIONS`] says.
const IDLE_LOOPS: usize = 2;

/// How many of its clients send a request, read its answer, and then sit
/// idle: the first ones.
const KEPT: usize = 500;

/// How many send nothing at all: those after.
const QUIET: usize = 500;

/// How long the kept connections' first answers, all their requests sent
/// at once, may take to come, and the quiet ones to be opened after them.
pub(crate) const HELD_WITHIN: Duration = Duration::from_secs(10);

/// How long, once every connection sent its next request, all the answers
/// may take to come.
pub(crate) const ALL_ANSWERED_WITHIN: Duration = Duration::from_secs(10);

/// How many open files this checker needs beyond those it holds: its
/// clients' sockets, and some for what else runs meanwhile.
const FILES_NEEDED: usize = QUIET + KEPT + 100;

/// How many of the clients a failure names, of those that went wrong.
const NAMED: usize = 5;

pub(crate) const IDLE_CONNECTIONS_HELD_BY_FEW_THREADS: Check = Check {
    name: "idle_connections_held_by_few_threads",
    proves: "with --workers 2 --quiet, 1,000 connections (500 kept idle after a 200 to GET /index.html, then 500 that send nothing) are held at once by at most 8 threads (the 2 loops and 6 more), and every one of them is still open: each then gets 200 to GET /index.html",
    rule: Rule::Stage(
        "HTTP lets a server close an idle connection whenever it likes (RFC 9112 §9.5); a pool holds only as many as it has workers, and must close idle ones for the next client, where a loop waits on all its connections at once and holds a thousand idle ones on a few threads, as nginx does: this stage's lesson",
    ),
    since: 11,
    hint: "Register every accepted connection with the loop's Poll and go back to waiting: a connection with nothing to read costs an entry in the loop's table, no thread, and no read buffer; close it only at its keep-alive or read timeout (book: Part 11).",
    needs: Needs::OwnServer(System::Linux),
    run: idle_connections_held_by_few_threads,
};

fn idle_connections_held_by_few_threads(target: &Target) -> Result<(), Failure> {
    let server = own_server_timed(target, IDLE_OPTIONS, LONG_TIMEOUT)?;
    room_for_files(FILES_NEEDED)?;
    with_its_words(&server, idle_held(&server))
}

fn idle_held(server: &Server) -> Result<(), Failure> {
    let page = get(PAGE);
    let started = Instant::now();
    // The kept ones first: each sends its request, then all the answers
    // are read, within one deadline, and the connections kept open.
    let mut clients = Vec::with_capacity(KEPT + QUIET);
    for _ in 0..KEPT {
        let mut kept = Conn::open(server.addr())?;
        kept.send(&page)?;
        clients.push(kept);
    }
    let kept = answers(&mut clients, HELD_WITHIN.saturating_sub(started.elapsed()));
    if let Some(failure) = kept.failure(&clients, |wrong| {
        format!(
            "the GET {PAGE} of {KEPT} clients (clients 1 to {KEPT}, all sent at once, each on a \
             connection of its own) answered 200 within {} s in all, each connection kept \
             open; of them, {wrong}",
            HELD_WITHIN.as_secs()
        )
    }) {
        return Err(failure);
    }
    // Then the quiet ones, which send nothing.
    clients.extend(quiet_clients(server, QUIET)?);
    if started.elapsed() > HELD_WITHIN {
        return Err(Failure::new(format!(
            "{} connections opened, and {KEPT} answers, within {} s; it took longer: does the \
             server accept slowly?",
            KEPT + QUIET,
            HELD_WITHIN.as_secs()
        )));
    }

    // Every one of them held: how many threads does that take?
    let most = IDLE_LOOPS + MORE_THREADS;
    let threads = server
        .thread_count()
        .map_err(|error| Failure::new(format!("to count the server's threads, but: {error}")))?;
    if threads > most {
        return Err(Failure::new(format!(
            "at most {most} threads (the {IDLE_LOOPS} loops of `{}`, and {MORE_THREADS} more) \
             while {} connections are held, {KEPT} idle and {QUIET} quiet; it ran {threads}: a \
             thread per connection?",
            said(IDLE_OPTIONS),
            KEPT + QUIET
        )));
    }

    // And every one still open: each sends its next request, then all the
    // answers are read, within one deadline.
    for client in &mut clients {
        client.send_lenient(&page);
    }
    let all = answers(&mut clients, ALL_ANSWERED_WITHIN);
    match all.failure(&clients, |wrong| {
        format!(
            "every one of the {} connections still open, and 200 to the GET {PAGE} each then \
             sent (clients 1 to {KEPT} kept after an answer, {} to {} quiet until then), within \
             {} s in all; of them, {wrong}",
            KEPT + QUIET,
            KEPT + 1,
            KEPT + QUIET,
            ALL_ANSWERED_WITHIN.as_secs()
        )
    }) {
        Some(failure) => Err(failure),
        None => Ok(()),
    }
}

/// How the clients of `idle_connections_held_by_few_threads` fared, each
/// having sent a request: their places in the list, by what went wrong.
#[derive(Default)]
struct Fared {
    /// Closed by the server, with no answer to the request, or after it.
    closed: Vec<usize>,
    /// No answer came in time.
    unanswered: Vec<usize>,
    /// Answered, with another status than `200`.
    other: Vec<usize>,
}

/// Reads the answer to the last request each of `clients` sent, all within
/// `within`; then looks at each answered one again, to see whether the
/// server closed it since.
fn answers(clients: &mut [Conn], within: Duration) -> Fared {
    let deadline = Instant::now() + within;
    let mut fared = Fared::default();
    // Where each one's last answer starts: after those it had before.
    let starts: Vec<usize> = clients
        .iter()
        .map(|client| last_answer_start(client.received()))
        .collect();
    for (at, client) in clients.iter_mut().enumerate() {
        // Once the deadline has passed, what came already is still taken.
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            client.glance();
        } else {
            let _ = client.read_answer_from(starts[at], Method::Other, left);
        }
    }
    for (at, client) in clients.iter_mut().enumerate() {
        // A close that came after the answer shows now.
        client.glance();
        let answer = client.received().get(starts[at]..).unwrap_or_default();
        let whole = answer_length(answer, Method::Other).is_some();
        match status_of(answer) {
            Some(200) if whole && !client.closed() => {}
            Some(200) if whole => fared.closed.push(at),
            Some(_) if whole => fared.other.push(at),
            _ if client.closed() => fared.closed.push(at),
            _ => fared.unanswered.push(at),
        }
    }
    fared
}

/// Where the answer still to come starts in `received`: after every whole
/// answer in it.
fn last_answer_start(received: &[u8]) -> usize {
    let mut start = 0;
    while let Some(length) = answer_length(&received[start..], Method::Other) {
        start += length;
    }
    start
}

impl Fared {
    /// The failure, if any went wrong, showing the bytes of the first of
    /// them, and saying of all of them, in `expected`'s words.
    fn failure(&self, clients: &[Conn], expected: impl Fn(&str) -> String) -> Option<Failure> {
        let first = [&self.closed, &self.unanswered, &self.other]
            .into_iter()
            .find_map(|list| list.first().copied())?;
        let mut wrong = Vec::new();
        if !self.closed.is_empty() {
            wrong.push(format!(
                "{} were closed by the server ({}): a pool closes idle connections to make room \
                 for the next client, since it holds only as many as it has threads",
                self.closed.len(),
                named(&self.closed)
            ));
        }
        if !self.unanswered.is_empty() {
            wrong.push(format!(
                "{} got no answer in time ({}): waiting for a thread, as in a pool?",
                self.unanswered.len(),
                named(&self.unanswered)
            ));
        }
        if !self.other.is_empty() {
            wrong.push(format!(
                "{} got another status ({})",
                self.other.len(),
                named(&self.other)
            ));
        }
        Some(clients[first].fail(expected(&wrong.join("; "))))
    }
}

/// The first few of `clients` (places in the list), as numbers from 1,
/// each said with what it was: "client 3 (kept), client 501 (quiet), …".
fn named(clients: &[usize]) -> String {
    let mut names: Vec<String> = clients
        .iter()
        .take(NAMED)
        .map(|&at| {
            let kind = if at < KEPT { "kept" } else { "quiet" };
            format!("client {} ({kind})", at + 1)
        })
        .collect();
    if clients.len() > NAMED {
        names.push("…".into());
    }
    names.join(", ")
}

/// Makes room for `needed` more open files (sockets) in this process:
/// raises its soft limit to its hard limit, as part 11's server does, and
/// fails, saying so, when even that is too few. (A limit of 1,024, many a
/// system's default, would otherwise end the check with a cryptic "Too
/// many open files".) Only this process's limit: a server it starts keeps
/// its own, and must raise it itself.
#[cfg(unix)]
fn room_for_files(needed: usize) -> Result<(), Failure> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)
        .map_err(|error| Failure::new(format!("to read the open-file limit, but: {error}")))?;
    // An unlimited hard limit is not a soft limit Linux takes: it stops at
    // `fs.nr_open`, a million by default.
    let raised = hard.min(1 << 20);
    let soft = if raised > soft && setrlimit(Resource::RLIMIT_NOFILE, raised, hard).is_ok() {
        raised
    } else {
        soft
    };
    let open = std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count);
    let room = usize::try_from(soft)
        .unwrap_or(usize::MAX)
        .saturating_sub(open);
    if room < needed {
        return Err(Failure::new(format!(
            "room for {needed} more open files in stage-check itself, for its clients' sockets; \
             its limit is {soft} (the hard limit {hard}), and it has {open} open: raise the hard \
             limit (`ulimit -Hn {}`, as root or in /etc/security/limits.conf) and run it again",
            open + needed
        )));
    }
    Ok(())
}

/// Elsewhere, there is no such limit to raise: the sockets are tried.
#[cfg(not(unix))]
fn room_for_files(_needed: usize) -> Result<(), Failure> {
    Ok(())
}

// ---------------------------------------------------------------------
// A client that sends slowly.

/// The options `slow_sender_does_not_delay_others` starts its server
/// with, beside [`OWN_TIMEOUT`] for its timers.
const SLOW_OPTIONS: &[&str] = &["--workers", "1"];

/// What the slow client S sends, a byte at a time.
pub(crate) const SLOW_REQUEST: &[u8] = b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";

/// How long S waits between two bytes.
pub(crate) const BYTE_EVERY: Duration = Duration::from_millis(50);

/// How many bytes S has sent when the other client connects.
const SENT_BEFORE: usize = 5;

pub(crate) const SLOW_SENDER_DOES_NOT_DELAY_OTHERS: Check = Check {
    name: "slow_sender_does_not_delay_others",
    proves: "with --workers 1, while client S sends GET /index.html a byte every 50 ms, another client's GET /index.html is answered 200 within 1 s; then S gets its 200 too",
    rule: Rule::Stage(
        "HTTP says nothing of how a server shares its time among clients; a loop that waits for one client's next bytes (a blocking read, or reading until the request is whole) keeps every other client of the loop waiting, so the loop reads what has come, keeps it, and turns to whoever is ready",
    ),
    since: 11,
    hint: "Read a ready connection until WouldBlock, feed the parser what came, and go back to Poll: a request that is not whole yet waits in its connection's parser for the next READABLE event, never in a read (book: Part 11).",
    needs: Needs::OwnServer(System::Any),
    run: slow_sender_does_not_delay_others,
};

fn slow_sender_does_not_delay_others(target: &Target) -> Result<(), Failure> {
    let server = own_server_timed(target, SLOW_OPTIONS, OWN_TIMEOUT)?;
    with_its_words(&server, slow_sender(&server))
}

fn slow_sender(server: &Server) -> Result<(), Failure> {
    let mut slow = Conn::open(server.addr())?;
    let (started, begun) = mpsc::channel();
    // S sends from a thread of this check, byte after byte; the scope
    // waits for it to end (in about 2 s) however the check ends.
    thread::scope(|scope| {
        let sending = scope.spawn(move || {
            for (at, byte) in SLOW_REQUEST.iter().enumerate() {
                slow.send(&[*byte])?;
                if at + 1 == SENT_BEFORE {
                    let _ = started.send(());
                }
                thread::sleep(BYTE_EVERY);
            }
            Ok::<Conn, Failure>(slow)
        });
        // The other client, once S is well inside its request.
        let others = match begun.recv_timeout(IO_TIMEOUT) {
            Ok(()) => others_served(
                server,
                &format!(
                    "client S sends its GET {PAGE} a byte every {} ms (S had sent {SENT_BEFORE} \
                     bytes), with `{}`: a loop that waits on S's next bytes keeps every other \
                     client waiting",
                    BYTE_EVERY.as_millis(),
                    said(SLOW_OPTIONS)
                ),
            ),
            // S could not send: its thread says why.
            Err(_) => Ok(()),
        };
        let mut slow = sending.join().map_err(|_| {
            Failure::new("S's thread to finish; it panicked (a bug in stage-check)")
        })??;
        others?;
        slow.read_answer(Method::Other, IO_TIMEOUT)?;
        let (answer, _) = answer_at(&slow, 0, Method::Other)?;
        if answer.status != 200 {
            return Err(slow.fail(format!(
                "200 to S's GET {PAGE}, sent a byte every {} ms; not {}",
                BYTE_EVERY.as_millis(),
                answer.status
            )));
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------
// A client that never reads its answers.

/// The options `unread_answers_do_not_delay_others` starts its server
/// with, beside [`LONG_TIMEOUT`] for its timers: quiet, since a server
/// without backpressure would log every byte it reads.
const UNREAD_OPTIONS: &[&str] = &["--workers", "1", "--quiet"];

/// The body of each request P pipelines: `POST /create` echoes it, so each
/// answer is as large.
const BODY_BYTES: usize = 256 * 1024;

/// The most P sends in all.
const SENT_AT_MOST: usize = 64 * 1024 * 1024;

/// How long one of P's writes may wait before P stops: the server has
/// stopped reading it.
pub(crate) const WRITES_BLOCKED: Duration = Duration::from_secs(2);

/// How long P sends at most, blocked or not.
pub(crate) const SENDING_AT_MOST: Duration = Duration::from_secs(5);

/// How much the server's memory (its PSS) may grow while P sends: the
/// stage holds about 64 KiB of unsent answers and one request of P's,
/// whatever P sends, and this is room to spare for that.
const GROWS_AT_MOST_KIB: u64 = 8 * 1024;

/// One of P's requests, its body included.
fn unread_request() -> Vec<u8> {
    let mut request =
        format!("POST /create HTTP/1.1\r\nHost: x\r\nContent-Length: {BODY_BYTES}\r\n\r\n")
            .into_bytes();
    request.resize(request.len() + BODY_BYTES, b'p');
    request
}

pub(crate) const UNREAD_ANSWERS_DO_NOT_DELAY_OTHERS: Check = Check {
    name: "unread_answers_do_not_delay_others",
    proves: "with --workers 1 --quiet, while client P pipelines POST /create requests with 256 KiB bodies and reads none of the answers, another client's GET /index.html is answered 200 within 1 s, twice (while P sends, and once it stopped), the server's memory grows by at most 8 MiB, and once P reads, every answer it is owed comes",
    rule: Rule::Stage(
        "HTTP lets a client pipeline requests (RFC 9112 §9.3.2) and says nothing of one that never reads its answers; a loop that waits for a client to take its answer keeps every other client waiting, and one that goes on reading such a client buffers whatever it sends, so the stage writes what the socket takes, waits for WRITABLE for the rest, and stops reading a client while more than 64 KiB of its answers wait (backpressure)",
    ),
    since: 11,
    hint: "Append each answer to the connection's output and write what the socket takes, once per turn; register WRITABLE for the rest; while more than 64 KiB of output waits, stop reading that connection (book: Part 11).",
    needs: Needs::OwnServer(System::Linux),
    run: unread_answers_do_not_delay_others,
};

fn unread_answers_do_not_delay_others(target: &Target) -> Result<(), Failure> {
    let server = own_server_timed(target, UNREAD_OPTIONS, LONG_TIMEOUT)?;
    with_its_words(&server, unread_answers(&server))
}

/// How P's sending ended.
enum Sent {
    /// A write waited [`WRITES_BLOCKED`]: the server stopped reading.
    Blocked,
    /// It sent [`SENT_AT_MOST`], or sent for [`SENDING_AT_MOST`].
    AllItMay,
    /// A write failed otherwise: the server closed the connection, say.
    Failed(io::Error),
}

fn unread_answers(server: &Server) -> Result<(), Failure> {
    let memory = || {
        server.memory_kib().map_err(|error| {
            Failure::new(format!("to read the server's memory (PSS), but: {error}"))
        })
    };
    // One such request first, on a connection of its own, so that what
    // the server sets up for the first one is counted before P comes.
    let request = unread_request();
    let first = exchange(server.addr(), &request)?;
    if status_of(first.received()) != Some(200) {
        return Err(first.fail(format!(
            "200 to POST /create with a body of {} KiB, the answer echoing it",
            BODY_BYTES / 1024
        )));
    }
    let before = memory()?;
    let pipelining = TcpStream::connect_timeout(&server.addr(), IO_TIMEOUT)
        .and_then(|stream| {
            stream.set_write_timeout(Some(WRITES_BLOCKED))?;
            Ok(stream)
        })
        .map_err(|error| Failure::new(format!("to connect P, but: {error}")))?;
    let sent = AtomicUsize::new(0);
    let sending = AtomicBool::new(true);
    let stalled_by_p = |sent: usize| {
        format!(
            "client P pipelines POST /create requests with {} KiB bodies and reads none of the \
             answers (P had sent {} KiB), with `{}`",
            BODY_BYTES / 1024,
            sent / 1024,
            said(UNREAD_OPTIONS)
        )
    };
    thread::scope(|scope| {
        // P sends from a thread of this check, until its writes block, or
        // for as long or as much as it may; the scope waits for it.
        let p = scope.spawn(|| {
            let started = Instant::now();
            let ended = loop {
                let at = sent.load(Ordering::Relaxed);
                if at >= SENT_AT_MOST || started.elapsed() >= SENDING_AT_MOST {
                    break Sent::AllItMay;
                }
                let from = at % request.len();
                match (&pipelining).write(&request[from..]) {
                    Ok(n) => sent.fetch_add(n, Ordering::Relaxed),
                    Err(error)
                        if matches!(
                            error.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) =>
                    {
                        break Sent::Blocked;
                    }
                    Err(error) => break Sent::Failed(error),
                };
            };
            sending.store(false, Ordering::Relaxed);
            ended
        });
        // Another client, once P's first request is all sent: while P is
        // sending still, if the server reads it that fast.
        let _ = poll_until(IO_TIMEOUT, Duration::from_millis(1), || {
            (sent.load(Ordering::Relaxed) >= request.len() || !sending.load(Ordering::Relaxed))
                .then_some(())
        });
        let meanwhile = others_served(server, &stalled_by_p(sent.load(Ordering::Relaxed)));
        let ended = p.join().map_err(|_| {
            Failure::new("P's thread to finish; it panicked (a bug in stage-check)")
        })?;
        meanwhile?;
        let sent = sent.load(Ordering::Relaxed);
        if let Sent::Failed(error) = ended {
            return Err(Failure::new(format!(
                "P's connection kept open while it sends and reads nothing: the stage closes it \
                 only after --read-timeout ({} s here); a write failed after {} KiB: {error}",
                LONG_TIMEOUT.as_secs(),
                sent / 1024
            )));
        }
        // Another, once P has sent all it could: the loop still serves.
        others_served(server, &stalled_by_p(sent))?;
        let grew = memory()?.saturating_sub(before);
        if grew > GROWS_AT_MOST_KIB {
            let stopped = match ended {
                Sent::Blocked => "",
                _ => ", and its writes never blocked",
            };
            return Err(Failure::new(format!(
                "the server's memory (PSS) to grow by at most {} MiB while client P pipelines \
                 requests and reads none of the answers; it grew by {} MiB ({} MiB before P came) \
                 while P sent {} MiB{stopped}: it keeps reading a client that does not read its \
                 answers, and keeps them all",
                GROWS_AT_MOST_KIB / 1024,
                grew / 1024,
                before / 1024,
                sent / (1024 * 1024)
            )));
        }
        // Last, P reads: the answers to every request it sent whole come,
        // in order. The server held them back; it lost none.
        p_reads_its_answers(&pipelining, sent / request.len())
    })
}

/// How long P, once it reads, may take to get the answers it is owed.
pub(crate) const OWED_WITHIN: Duration = IO_TIMEOUT;

/// Reads from P until `owed` answers came, each `200` (the body echoed),
/// within [`OWED_WITHIN`]; fails if the server closed P, or fell silent,
/// before.
fn p_reads_its_answers(pipelining: &TcpStream, owed: usize) -> Result<(), Failure> {
    let deadline = Instant::now() + OWED_WITHIN;
    let mut unread = Vec::new();
    let mut chunk = vec![0; 64 * 1024];
    let mut answered = 0;
    let short = |answered: usize, why: String| {
        Failure::new(format!(
            "once client P reads, the answers to the {owed} requests it sent whole, each 200, \
             within {} s: a server that stops reading P holds its answers back, and loses none; \
             {answered} came, then {why}",
            OWED_WITHIN.as_secs()
        ))
    };
    while answered < owed {
        // Every whole answer read so far, counted and let go of.
        while let Some(length) = answer_length(&unread, Method::Other) {
            let status = status_of(&unread);
            if status != Some(200) {
                let said = status.map_or("no status line".to_string(), |s| s.to_string());
                return Err(short(answered, format!("one answered {said}")));
            }
            // An answer that says `Connection: close` ends the connection,
            // as HTTP lets a server do after any answer (RFC 9112 §9.6):
            // the requests after it are owed nothing.
            let closes = read_response(&unread[..length], Method::Other)
                .is_ok_and(|answer| answer.connection_has("close"));
            if closes {
                return Ok(());
            }
            unread.drain(..length);
            answered += 1;
        }
        if answered >= owed {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(short(answered, "nothing more came in time".into()));
        }
        let _ = pipelining.set_read_timeout(Some(left));
        // A `&TcpStream` reads too: Rust's sockets are shared as files are.
        match (&*pipelining).read(&mut chunk) {
            Ok(0) => {
                return Err(short(
                    answered,
                    "the server closed the connection: it gave up on P (the stage keeps it \
                     until --read-timeout)"
                        .into(),
                ));
            }
            Ok(n) => unread.extend_from_slice(&chunk[..n]),
            Err(error) => return Err(short(answered, format!("reading failed: {error}"))),
        }
    }
    Ok(())
}
