//! The same learner's keep-alive server, with a fixed pool of threads in
//! place of a thread per connection, as part 10 teaches.
//!
//! The main thread accepts, and puts each connection in a queue; `--workers`
//! threads take connections from it and serve them as [`keep_alive`] does.
//! The queue holds at most `--queue` connections that wait for a worker:
//! one more is answered `503 Service Unavailable` at once, by the main
//! thread, and closed. A worker on an idle kept connection looks up every
//! [`LOOK_UP`]: when another connection waits for a worker, it closes its
//! own (silently), and an answer it gives while one waits says
//! `Connection: close`. Else a hundred idle browsers would hold every
//! worker until their keep-alive timeout, and the next client would wait.
//!
//! On SIGINT or SIGTERM (Ctrl-C, `kill`), a signal-handling thread tells
//! the main thread, which closes the listener and waits, up to
//! `--shutdown-timeout`, for the connections left: an idle one closes
//! within [`LOOK_UP`], a request in progress gets its answer, saying
//! `Connection: close`. Then the process ends, with status 0.
//!
//! Each `broken-pool-*` and `broken-shutdown-*` example swaps one step out
//! through [`Steps`]: whether the queue is full, whether a worker gives its
//! connection up to a waiting one, and what a signal does.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;

use super::SESSION_LIMIT;
use super::keep_alive::{self, Answer, Connection, Front, KeepAliveOptions, Pending};

/// How often a worker waiting on its connection looks up: at a connection
/// waiting for a worker, and at a shutdown.
pub const LOOK_UP: Duration = Duration::from_millis(100);

/// The command line of a part 10 server: part 9's, and three more.
#[derive(Parser)]
pub struct PoolOptions {
    /// `--port`, `--read-timeout`, `--keep-alive-timeout`, `--max-requests`.
    #[command(flatten)]
    pub earlier: KeepAliveOptions,
    /// How many threads serve connections.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub workers: usize,
    /// How many accepted connections may wait for a worker; one more is
    /// answered `503`.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub queue: usize,
    /// On SIGINT or SIGTERM, how long the connections left get to finish.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    pub shutdown_timeout: u64,
}

/// The steps of the pool. All are plain functions, so `Steps` is `Copy`:
/// each thread gets a copy of its own.
#[derive(Clone, Copy)]
pub struct Steps {
    /// Whether the queue is full, given how many connections wait for a
    /// worker, and `--queue`.
    pub queue_full: fn(waiting: usize, bound: usize) -> bool,
    /// Whether a worker gives up its kept connection (closes it when idle,
    /// says `Connection: close` in its answer), given how many connections
    /// wait for a worker.
    pub gives_way: fn(waiting: usize) -> bool,
    /// What the signal-handling thread does on SIGINT or SIGTERM.
    pub on_signal: fn(&Shared),
}

/// Every step done right.
pub const RIGHT: Steps = Steps {
    queue_full,
    gives_way,
    on_signal: stop_accepting,
};

/// The right `queue_full`: at its bound, the queue takes no more.
pub fn queue_full(waiting: usize, bound: usize) -> bool {
    waiting >= bound
}

/// The right `gives_way`: a connection that waits gets the worker.
pub fn gives_way(waiting: usize) -> bool {
    waiting > 0
}

/// The right `on_signal`: tell the main thread to stop accepting. It sits
/// in `accept`, which nothing interrupts, so we connect to it ourselves:
/// that wakes it up, and it finds `stopping` set.
pub fn stop_accepting(shared: &Shared) {
    shared.stopping.store(true, Ordering::SeqCst);
    let _ = TcpStream::connect(shared.address);
}

/// What every thread shares, behind an `Arc` (Python's threads share
/// everything; Rust's share only what is handed to them).
pub struct Shared {
    /// The queue and its counts. A `Mutex` owns what it guards: there is
    /// no way to reach the state without holding the lock.
    state: Mutex<State>,
    /// Rung when a connection joins the queue: a free worker takes it.
    joined: Condvar,
    /// Rung when a connection closes: the shutdown counts those left.
    closed: Condvar,
    /// Set on SIGINT or SIGTERM.
    pub stopping: AtomicBool,
    /// Where the listener listens.
    pub address: SocketAddr,
}

/// The state behind the lock.
struct State {
    /// Connections accepted, not yet taken by a worker.
    queue: VecDeque<(TcpStream, SocketAddr)>,
    /// Workers waiting for a connection.
    free: usize,
    /// Connections accepted and not yet closed, queued or served.
    open: usize,
}

impl State {
    /// How many queued connections no free worker is about to take.
    fn waiting(&self) -> usize {
        self.queue.len().saturating_sub(self.free)
    }
}

impl Shared {
    /// The state, locked until the guard returned is dropped. A thread
    /// that panicked while holding the lock left it "poisoned"; the state
    /// is still whole (every change to it is one line), so go on.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A session's timers and its count, from the command line.
#[derive(Clone, Copy)]
struct Limits {
    read_timeout: Duration,
    keep_alive_timeout: Duration,
    max_requests: usize,
}

/// Why a connection ends: the last words of its log line.
type CloseReason = &'static str;

/// How a connection ends, and why.
enum Ending {
    /// After an answer, which the close lingers for, so that the client
    /// gets all of it (see [`super::linger`]).
    Answered(CloseReason),
    /// With no answer due: closed at once, and the worker is free.
    Silent(CloseReason),
}

/// Serves part 8's application with `steps`, a pool of threads, until
/// SIGINT or SIGTERM.
pub fn serve(steps: Steps) -> io::Result<()> {
    let options = PoolOptions::parse();
    let keep_alive = &options.earlier;
    let listener = TcpListener::bind(("127.0.0.1", keep_alive.earlier.port))?;
    let limits = Limits {
        read_timeout: Duration::from_secs(keep_alive.earlier.read_timeout.max(1)),
        keep_alive_timeout: Duration::from_secs(keep_alive.keep_alive_timeout.max(1)),
        max_requests: keep_alive.max_requests.max(1),
    };
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            free: 0,
            open: 0,
        }),
        joined: Condvar::new(),
        closed: Condvar::new(),
        stopping: AtomicBool::new(false),
        address: listener.local_addr()?,
    });
    // Everything is in place before the `Listening on` line: a signal that
    // comes right after it finds its handler.
    for number in 1..=options.workers.max(1) {
        let shared = Arc::clone(&shared);
        thread::Builder::new().spawn(move || work(number, &shared, &steps, &limits))?;
    }
    // `ctrlc` starts the signal-handling thread, and runs this closure
    // there on each signal (Python's `signal.signal(SIGTERM, handler)`).
    let signalled = Arc::clone(&shared);
    ctrlc::set_handler(move || (steps.on_signal)(&signalled)).map_err(io::Error::other)?;
    println!("Listening on {}", shared.address);
    accept(&listener, &shared, &steps, options.queue);
    // Dropping the listener closes it: new connections are refused.
    drop(listener);
    shut_down(&shared, options.shutdown_timeout);
    Ok(())
}

/// The main thread: accepts, and queues each connection, or refuses it
/// when the queue is full; until the signal.
fn accept(listener: &TcpListener, shared: &Shared, steps: &Steps, bound: usize) {
    for stream in listener.incoming() {
        // The signal's wake-up call, or a client just too late.
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let Ok(address) = stream.peer_addr() else {
            continue;
        };
        log!("Socket established with {address}.");
        let mut state = shared.lock();
        if (steps.queue_full)(state.waiting(), bound) {
            drop(state); // No need to hold the lock while we answer.
            refuse(stream, address);
            continue;
        }
        state.queue.push_back((stream, address));
        state.open += 1;
        drop(state);
        shared.joined.notify_one();
    }
}

/// Answers `503` at once and closes, on the main thread: the client may
/// try again in a second (`Retry-After`, RFC 9110, section 10.2.3).
fn refuse(mut stream: TcpStream, address: SocketAddr) {
    log!("Refused {address}: every worker is busy and the queue is full.");
    let body = "Every worker is busy; try again in a second.\n";
    let answer = format!(
        "HTTP/1.1 503 {}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{body}",
        super::reason(503),
        body.len()
    );
    // The main thread must not wait on this client: read what it sent so
    // far without waiting (closing with bytes unread sends a reset, which
    // can wipe out the answer on its side), answer (a fresh socket's
    // buffer takes it whole), and close.
    if stream.set_nonblocking(true).is_ok() {
        drain(&mut stream);
        let _ = stream.write_all(answer.as_bytes());
        let _ = stream.shutdown(Shutdown::Write);
        drain(&mut stream);
    }
    log!("Socket with {address} closed: the queue was full.");
}

/// Reads, and drops, what has come in on a non-blocking `stream` (std's or
/// mio's: anything that reads).
pub fn drain(stream: &mut impl Read) {
    let mut scratch = [0u8; 4096];
    for _ in 0..16 {
        if !matches!(stream.read(&mut scratch), Ok(n) if n > 0) {
            return;
        }
    }
}

/// Worker `number` (counted from 1): takes a connection from the queue,
/// serves it, closes it; again, until the process ends.
fn work(number: usize, shared: &Shared, steps: &Steps, limits: &Limits) {
    loop {
        let (mut stream, address) = take(shared);
        log!("Worker {number} serves {address}.");
        let reason = match session(shared, steps, limits, &mut stream) {
            Ending::Answered(reason) => {
                super::linger(&stream);
                reason
            }
            Ending::Silent(reason) => reason,
        };
        drop(stream);
        log!("Socket with {address} closed: {reason}.");
        shared.lock().open -= 1;
        shared.closed.notify_all();
    }
}

/// Waits for a connection in the queue, and takes it.
fn take(shared: &Shared) -> (TcpStream, SocketAddr) {
    let mut state = shared.lock();
    state.free += 1;
    loop {
        if let Some(client) = state.queue.pop_front() {
            state.free -= 1;
            return client;
        }
        // Lets go of the lock while it waits, and takes it again when
        // rung (or, rarely, for no reason: hence the loop).
        state = shared
            .joined
            .wait(state)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

/// The main thread, after the signal: waits for the connections left, up
/// to `timeout` seconds, and says how it went.
fn shut_down(shared: &Shared, timeout: u64) {
    log!("Shutting down: no longer accepting connections.");
    let state = shared.lock();
    log!(
        "Waiting up to {timeout} s for {} to finish.",
        connections(state.open)
    );
    let (state, _) = shared
        .closed
        .wait_timeout_while(state, Duration::from_secs(timeout), |state| state.open > 0)
        .unwrap_or_else(PoisonError::into_inner);
    if state.open == 0 {
        log!("Shut down: every connection finished.");
    } else {
        log!(
            "Shut down: cut off {} after the {timeout} s shutdown timeout.",
            connections(state.open)
        );
    }
}

/// `1 connection`, `2 connections`.
pub fn connections(count: usize) -> String {
    match count {
        1 => "1 connection".to_string(),
        _ => format!("{count} connections"),
    }
}

/// Serves requests on one connection until it should close, as
/// [`keep_alive`]'s session does, and says why it closes.
fn session(shared: &Shared, steps: &Steps, limits: &Limits, stream: &mut TcpStream) -> Ending {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut pending = VecDeque::new();
    let mut answered = 0;
    let mut continued = false;
    // A write that cannot finish (a client that never reads) fails, and
    // frees the worker, rather than block it forever.
    if stream.set_write_timeout(Some(limits.read_timeout)).is_err() {
        return Ending::Silent("a write failed");
    }
    while started.elapsed() < SESSION_LIMIT {
        // Every complete request at the front (pipelining), as part 9.
        let mut partial = None;
        loop {
            match keep_alive::front(&keep_alive::RIGHT, &mut received) {
                Front::Whole(request, length) => {
                    received.drain(..length);
                    pending.push_back(Ok(request));
                    continued = false;
                }
                Front::Refused(refusal) => {
                    received.clear();
                    pending.push_back(Err(refusal));
                    break;
                }
                Front::Partial(head) => {
                    partial = head;
                    break;
                }
            }
        }
        while let Some(request) = pending.pop_front() {
            answered += 1;
            let close = close_after(shared, steps, limits, &request, answered);
            let (answer, asked) = match &request {
                Ok(request) => (
                    keep_alive::app(request),
                    keep_alive::persistence(&request.head),
                ),
                Err((status, why)) => (Answer::text(*status, why), Connection::Close),
            };
            let said = if close.is_some() {
                Connection::Close
            } else {
                asked
            };
            if keep_alive::write_answer(stream, &answer, said).is_err() {
                return Ending::Silent("a write failed");
            }
            log!("Response sent (request {answered} of this connection).");
            if let Some(reason) = close {
                return Ending::Answered(reason);
            }
        }
        if let Some(head) = &partial
            && head.expects_continue
            && !continued
        {
            if stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err() {
                return Ending::Silent("a write failed");
            }
            continued = true;
        }
        let idle = received.is_empty() && answered > 0;
        if let Err(ending) = read_more(shared, steps, limits, stream, &mut received, idle) {
            return ending;
        }
    }
    Ending::Silent("it was open for too long")
}

/// Whether to close after answering `request`, the `answered`th of its
/// connection, and why.
fn close_after(
    shared: &Shared,
    steps: &Steps,
    limits: &Limits,
    request: &Pending,
    answered: usize,
) -> Option<CloseReason> {
    let Ok(request) = request else {
        // After a refusal, nothing tells where a next request would start.
        return Some("the request was refused");
    };
    if keep_alive::persistence(&request.head) == Connection::Close {
        Some("the client asked to close")
    } else if answered >= limits.max_requests {
        Some("it served --max-requests requests")
    } else if shared.stopping.load(Ordering::SeqCst) {
        Some("the server is shutting down")
    } else if (steps.gives_way)(shared.lock().waiting()) {
        Some("another client was waiting")
    } else {
        None
    }
}

/// Reads more of the request, or of the next one when `idle`, into
/// `received`; how to close instead. It reads [`LOOK_UP`] at a time, and
/// between two reads looks up: while no request is in progress, a
/// shutdown closes the connection, and so does a connection waiting for a
/// worker, once this one is idle. A stall of the read timeout (the
/// keep-alive timeout, when idle) ends it as part 9 does.
fn read_more(
    shared: &Shared,
    steps: &Steps,
    limits: &Limits,
    stream: &mut TcpStream,
    received: &mut Vec<u8>,
    idle: bool,
) -> Result<(), Ending> {
    let timer = if idle {
        limits.keep_alive_timeout
    } else {
        limits.read_timeout
    };
    let deadline = Instant::now() + timer;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() && idle {
            return Err(Ending::Silent("it was idle for the keep-alive timeout"));
        }
        if left.is_zero() {
            let answer = Answer::text(408, "Too slow.");
            let _ = keep_alive::write_answer(stream, &answer, Connection::Close);
            return Err(Ending::Answered("the request was refused"));
        }
        if stream.set_read_timeout(Some(left.min(LOOK_UP))).is_err() {
            return Err(Ending::Silent("a read failed"));
        }
        match super::receive(stream, received) {
            Ok(true) => return Ok(()),
            Ok(false) if idle => return Err(Ending::Silent("the client closed it")),
            Ok(false) => {
                log!("Client left before the request was complete.");
                return Err(Ending::Silent("the client left in the middle of a request"));
            }
            Err(error) if super::is_timeout(&error) => {}
            Err(_) => return Err(Ending::Silent("a read failed")),
        }
        // Nothing came in this look-up's time: look up.
        if received.is_empty() {
            if shared.stopping.load(Ordering::SeqCst) {
                return Err(Ending::Silent("the server is shutting down"));
            }
            if idle && (steps.gives_way)(shared.lock().waiting()) {
                return Err(Ending::Silent("another client was waiting"));
            }
        }
    }
}
