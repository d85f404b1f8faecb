//! The same learner's keep-alive server, on event loops in place of a pool
//! of threads, as part 11 teaches: a few threads, each serving many
//! connections, none of them ever waiting on one.
//!
//! `--workers` threads each run a loop around a `mio::Poll` of its own
//! (Python's `selectors.DefaultSelector`): it waits until some of its
//! sockets are ready, does what each allows without waiting (a
//! non-blocking read or write stops with `WouldBlock` where a blocking one
//! would wait), and waits again. All the loops watch one listening socket;
//! the loop that accepts a connection serves it to the end.
//!
//! A connection keeps what it received of a request not yet complete, and
//! its answers not yet sent; a loop reads into one buffer of its own, so
//! that an idle connection holds no buffer at all. Requests are read and
//! answered as part 9's session does (pipelining, `100 Continue`,
//! `--max-requests`). Answers are written as far as the socket takes them;
//! the rest waits until the socket is writable again. While more than
//! [`HIGH_WATER`] bytes wait to be sent, the loop reads no more from that
//! client (backpressure): a client that sends requests and never reads
//! its answers costs about that much, not all it sends.
//!
//! The timers have no thread to wait on them: each turn of the loop looks
//! at every connection's deadline, and waits no longer than the nearest.
//! A request that stalls `--read-timeout` gets `408`; a kept connection
//! idle for `--keep-alive-timeout` is closed without a word, and so is a
//! client that takes none of its answers for `--read-timeout`. At most
//! `--max-connections` connections are held, over all the loops: one more
//! is answered `503` at once, and closed.
//!
//! On SIGINT or SIGTERM, the signal-handling thread wakes every loop (a
//! `mio::Waker`) and the main thread: each loop closes its listener and
//! its connections that wait for a request; a request in progress is
//! answered, saying `Connection: close`. The main thread waits up to
//! `--shutdown-timeout` for the connections left, then the process ends,
//! with status 0.
//!
//! Each example of part 11 swaps one step out through [`Steps`]: how a
//! loop writes a connection's answers.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

use super::keep_alive::{self, Answer, Connection, Front, KeepAliveOptions, Pending};
use super::pool::{connections, drain};

/// How many unsent bytes a connection may hold before its loop stops
/// reading from it.
pub const HIGH_WATER: usize = 64 * 1024;

/// The size of a loop's one read buffer.
const BUFFER: usize = 16 * 1024;

/// How many reads one connection gets per turn of its loop, and how many
/// connections a loop accepts per turn: one busy client cannot hold the
/// loop, whatever it sends.
const READS_PER_TURN: usize = 16;
const ACCEPTS_PER_TURN: usize = 64;

/// The lingering close (see [`super::linger`]), without waiting: at most
/// [`LINGER_FOR`] in all, and over once the client is quiet for
/// [`LINGER_QUIET`].
const LINGER_FOR: Duration = Duration::from_secs(2);
const LINGER_QUIET: Duration = Duration::from_millis(500);

/// What each loop's `Poll` calls its listener and its waker; each
/// connection has a token of its own after them.
const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);

/// The command line of a part 11 server: part 9's, and three more.
#[derive(Parser)]
pub struct LoopOptions {
    /// `--port`, `--read-timeout`, `--keep-alive-timeout`, `--max-requests`.
    #[command(flatten)]
    pub earlier: KeepAliveOptions,
    /// How many event loops, each a thread: by default, one per core.
    #[arg(long, value_name = "N", default_value_t = cores())]
    pub workers: usize,
    /// How many connections the loops hold at once, in all; one more is
    /// answered `503`.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub max_connections: usize,
    /// On SIGINT or SIGTERM, how long the connections left get to finish.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    pub shutdown_timeout: u64,
    /// Print only the `Listening on` line.
    #[arg(long)]
    pub quiet: bool,
}

/// How many cores this machine has (Python's `os.cpu_count()`).
fn cores() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get())
}

/// The steps of the event loop. All are plain functions, so `Steps` is
/// `Copy`: each loop gets a copy of its own.
#[derive(Clone, Copy)]
pub struct Steps {
    /// Writes what it can of a connection's unsent `output`, and takes
    /// what went out off its front. `patience` is the read timeout: how
    /// long a client may take none of its answers.
    pub write_out: fn(&mut TcpStream, output: &mut Vec<u8>, patience: Duration) -> io::Result<()>,
}

/// Every step done right.
pub const RIGHT: Steps = Steps {
    write_out: write_what_it_takes,
};

/// The right `write_out`: writes until the socket takes no more
/// (`WouldBlock`), and leaves the rest for when it is writable again.
/// Never waits: the loop's other connections are waiting too.
pub fn write_what_it_takes(
    stream: &mut TcpStream,
    output: &mut Vec<u8>,
    _patience: Duration,
) -> io::Result<()> {
    while !output.is_empty() {
        match stream.write(output) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                output.drain(..n);
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// What every loop shares, behind an `Arc`.
struct Shared {
    /// How many connections the loops hold, in all.
    open: Mutex<usize>,
    /// Rung when a connection closes: the shutdown counts those left.
    closed: Condvar,
    /// Set on SIGINT or SIGTERM.
    stopping: AtomicBool,
    /// `--max-connections`.
    max_connections: usize,
}

impl Shared {
    /// The count, locked until the guard is dropped (a thread that
    /// panicked holding it left a whole number: go on).
    fn lock(&self) -> MutexGuard<'_, usize> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one more connection, unless the loops hold
    /// `--max-connections` already.
    fn take_place(&self) -> bool {
        let mut open = self.lock();
        if *open >= self.max_connections {
            return false;
        }
        *open += 1;
        true
    }

    /// Counts a connection closed.
    fn leave(&self) {
        *self.lock() -= 1;
        self.closed.notify_all();
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }
}

/// A connection's timers and its count, from the command line.
#[derive(Clone, Copy)]
struct Limits {
    read_timeout: Duration,
    keep_alive_timeout: Duration,
    max_requests: usize,
}

/// Why a connection ends: the last words of its log line.
type CloseReason = &'static str;

/// Serves part 8's application with `steps`, on event loops, until SIGINT
/// or SIGTERM.
pub fn serve(steps: Steps) -> io::Result<()> {
    let options = LoopOptions::parse();
    super::set_quiet(options.quiet);
    let keep_alive = &options.earlier;
    let listener = std::net::TcpListener::bind(("127.0.0.1", keep_alive.earlier.port))?;
    // Its clones share this: no loop ever waits in `accept`.
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let limits = Limits {
        read_timeout: Duration::from_secs(keep_alive.earlier.read_timeout.max(1)),
        keep_alive_timeout: Duration::from_secs(keep_alive.keep_alive_timeout.max(1)),
        max_requests: keep_alive.max_requests.max(1),
    };
    let shared = Arc::new(Shared {
        open: Mutex::new(0),
        closed: Condvar::new(),
        stopping: AtomicBool::new(false),
        max_connections: options.max_connections,
    });
    let mut wakers = Vec::new();
    for number in 1..=options.workers.max(1) {
        let poll = Poll::new()?;
        let mut own = TcpListener::from_std(listener.try_clone()?);
        poll.registry()
            .register(&mut own, LISTENER, Interest::READABLE)?;
        wakers.push(Waker::new(poll.registry(), WAKER)?);
        let event_loop = EventLoop {
            number,
            poll,
            listener: Some(own),
            clients: HashMap::new(),
            next_token: WAKER.0 + 1,
            again: Vec::new(),
            buffer: vec![0; BUFFER],
            shared: Arc::clone(&shared),
            steps,
            limits,
        };
        thread::Builder::new().spawn(move || event_loop.run())?;
    }
    // The loops hold clones of the listener; ours would keep the port
    // open after they close theirs.
    drop(listener);
    // `ctrlc` starts the signal-handling thread, and runs this closure
    // there on each signal (Python's `signal.signal(SIGTERM, handler)`).
    let (signalled, signal) = mpsc::channel();
    let told = Arc::clone(&shared);
    ctrlc::set_handler(move || {
        told.stopping.store(true, Ordering::SeqCst);
        for waker in &wakers {
            let _ = waker.wake();
        }
        let _ = signalled.send(());
    })
    .map_err(io::Error::other)?;
    println!("Listening on {address}");
    // The main thread has nothing else to do: it waits for the signal.
    let _ = signal.recv();
    shut_down(&shared, options.shutdown_timeout);
    Ok(())
}

/// The main thread, after the signal: waits for the connections left, up
/// to `timeout` seconds, and says how it went.
fn shut_down(shared: &Shared, timeout: u64) {
    log!("Shutting down: no longer accepting connections.");
    let open = shared.lock();
    log!(
        "Waiting up to {timeout} s for {} to finish.",
        connections(*open)
    );
    let (open, _) = shared
        .closed
        .wait_timeout_while(open, Duration::from_secs(timeout), |open| *open > 0)
        .unwrap_or_else(PoisonError::into_inner);
    if *open == 0 {
        log!("Shut down: every connection finished.");
    } else {
        log!(
            "Shut down: cut off {} after the {timeout} s shutdown timeout.",
            connections(*open)
        );
    }
}

/// One event loop: its thread owns all of this, so nothing here is locked.
struct EventLoop {
    /// Which loop, counted from 1, for the log.
    number: usize,
    poll: Poll,
    /// Its clone of the listening socket, until the shutdown closes it.
    listener: Option<TcpListener>,
    /// Its connections, by their token (a selectors loop's dict by file
    /// descriptor).
    clients: HashMap<Token, Client>,
    next_token: usize,
    /// What has more to do that no event will announce: `mio` tells when a
    /// socket becomes ready, not that it still is, so a turn that stopped
    /// before `WouldBlock` (its reads used up, say) must come again.
    again: Vec<Token>,
    /// The one buffer every read of this loop reads into.
    buffer: Vec<u8>,
    shared: Arc<Shared>,
    steps: Steps,
    limits: Limits,
}

/// What a connection's turn leaves to do.
enum Next {
    /// Nothing until an event (or its timer).
    Wait,
    /// Another turn, soon: it stopped before the socket said `WouldBlock`.
    Again,
    /// Close it now.
    Close(CloseReason),
}

impl EventLoop {
    /// Waits for events, serves what they say is ready, looks at the
    /// timers; again, until the process ends.
    fn run(mut self) {
        let mut events = Events::with_capacity(256);
        loop {
            // The timers first: a connection that always has more to do
            // still has its deadlines.
            let nearest = self.expire_timers();
            let wait = if self.again.is_empty() {
                nearest
            } else {
                Duration::ZERO
            };
            if let Err(error) = self.poll.poll(&mut events, Some(wait)) {
                if error.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                log!("Worker {} stops: {error}.", self.number);
                return;
            }
            let mut ready = std::mem::take(&mut self.again);
            ready.extend(events.iter().map(|event| event.token()));
            for token in ready {
                match token {
                    LISTENER => self.accept(),
                    // Only to wake us: the flag is looked at below.
                    WAKER => {}
                    token => self.serve(token),
                }
            }
            if self.shared.stopping() && self.listener.is_some() {
                self.stop_accepting();
            }
        }
    }

    /// Accepts what waits on the listener: registers each connection, or
    /// refuses it when the loops hold `--max-connections`.
    fn accept(&mut self) {
        let Some(listener) = &self.listener else {
            return;
        };
        for _ in 0..ACCEPTS_PER_TURN {
            let (mut stream, address) = match listener.accept() {
                Ok(accepted) => accepted,
                // Taken by another loop, or none left: both are fine.
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
                Err(error) if error.kind() == io::ErrorKind::ConnectionAborted => continue,
                Err(_) => return,
            };
            log!("Socket established with {address}.");
            if !self.shared.take_place() {
                refuse(stream, address);
                continue;
            }
            let token = Token(self.next_token);
            self.next_token += 1;
            let interest = Interest::READABLE | Interest::WRITABLE;
            if self
                .poll
                .registry()
                .register(&mut stream, token, interest)
                .is_err()
            {
                log!("Socket with {address} closed: it could not be watched.");
                self.shared.leave();
                continue;
            }
            log!("Worker {} serves {address}.", self.number);
            self.clients.insert(token, Client::new(stream, address));
        }
        self.again.push(LISTENER);
    }

    /// Gives the connection `token` a turn, and does what the turn says.
    fn serve(&mut self, token: Token) {
        let Some(client) = self.clients.get_mut(&token) else {
            return; // Closed earlier in this turn of the loop.
        };
        let stopping = self.shared.stopping();
        match client.turn(&mut self.buffer, &self.steps, &self.limits, stopping) {
            Next::Wait => {}
            Next::Again => self.again.push(token),
            Next::Close(reason) => self.close(token, reason),
        }
    }

    /// Acts on every timer that ran out; how long until the next one.
    fn expire_timers(&mut self) -> Duration {
        let now = Instant::now();
        let mut nearest = now + Duration::from_secs(60);
        let mut due = Vec::new();
        for (token, client) in &self.clients {
            let deadline = client.deadline(&self.limits);
            if deadline <= now {
                due.push(*token);
            } else {
                nearest = nearest.min(deadline);
            }
        }
        for &token in &due {
            let Some(client) = self.clients.get_mut(&token) else {
                continue;
            };
            match client.waits() {
                Waits::Linger => {
                    let reason = client.closing.unwrap_or("it lingered");
                    self.close(token, reason);
                }
                Waits::ForClientToRead => {
                    self.close(token, "the client took no answer for the read timeout");
                }
                Waits::ForNextRequest => {
                    self.close(token, "it was idle for the keep-alive timeout")
                }
                Waits::ForRequest => {
                    let answer = Answer::text(408, "Too slow.");
                    client.queue(&keep_alive::answer_bytes(&answer, Connection::Close));
                    client.closing = Some("the request was refused");
                    client.received = Vec::new();
                    self.serve(token);
                }
            }
        }
        // What just changed has timers of its own: look again at once.
        if due.is_empty() {
            nearest - now
        } else {
            Duration::ZERO
        }
    }

    /// Closes the connection `token`, and logs why.
    fn close(&mut self, token: Token, reason: CloseReason) {
        let Some(mut client) = self.clients.remove(&token) else {
            return;
        };
        let _ = self.poll.registry().deregister(&mut client.stream);
        // Dropping the stream closes the socket (Python's `sock.close()`).
        drop(client.stream);
        log!("Socket with {} closed: {reason}.", client.address);
        self.shared.leave();
    }

    /// On the signal: closes this loop's listener, and its connections
    /// that wait for a request. A request in progress goes on.
    fn stop_accepting(&mut self) {
        if let Some(mut listener) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut listener);
        }
        let waiting: Vec<Token> = self
            .clients
            .iter()
            .filter(|(_, client)| client.waits_for_request())
            .map(|(token, _)| *token)
            .collect();
        for token in waiting {
            self.close(token, "the server is shutting down");
        }
    }
}

/// Answers `503` at once and closes: the client may try again in a second
/// (`Retry-After`, RFC 9110, section 10.2.3).
fn refuse(mut stream: TcpStream, address: SocketAddr) {
    log!("Refused {address}: the server holds --max-connections connections.");
    let body = "The server is full; try again in a second.\n";
    let answer = format!(
        "HTTP/1.1 503 {}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{body}",
        super::reason(503),
        body.len()
    );
    // Read what the client sent so far (closing with bytes unread sends a
    // reset, which can wipe out the answer on its side), answer (a fresh
    // socket's buffer takes it whole), and close; never wait.
    drain(&mut stream);
    let _ = stream.write_all(answer.as_bytes());
    let _ = stream.shutdown(Shutdown::Write);
    drain(&mut stream);
    log!("Socket with {address} closed: the server was full.");
}

/// One client's connection, and where its conversation stands.
struct Client {
    stream: TcpStream,
    address: SocketAddr,
    /// What came in and is not yet a whole request; an empty `Vec`, which
    /// holds no memory, between requests.
    received: Vec<u8>,
    /// Answers not yet sent, in order.
    output: Vec<u8>,
    /// How many requests it has answered.
    answered: usize,
    /// Whether the request being read got its `100 Continue`.
    continued: bool,
    /// Whether whole requests wait in `received`, held back while the
    /// output is above [`HIGH_WATER`].
    held_back: bool,
    /// Whether the client has closed its side: the answers due still go.
    client_done: bool,
    /// Why it closes, once its output is out: no request is read after.
    closing: Option<CloseReason>,
    /// Since when its close lingers: our side has said "no more".
    lingering: Option<Instant>,
    /// When its last bytes came in (or it was accepted, or its last
    /// answer went out): the read timer and the keep-alive timer start here.
    heard: Instant,
    /// When the client last took some of its output.
    taken: Instant,
}

/// What a connection waits for, and so which of its timers runs.
enum Waits {
    /// The end of its lingering close.
    Linger,
    /// The client to read its answers: the read timeout.
    ForClientToRead,
    /// A next request on a kept connection: the keep-alive timeout.
    ForNextRequest,
    /// A first request, or the rest of one: the read timeout, then `408`.
    ForRequest,
}

impl Client {
    fn new(stream: TcpStream, address: SocketAddr) -> Client {
        let now = Instant::now();
        Client {
            stream,
            address,
            received: Vec::new(),
            output: Vec::new(),
            answered: 0,
            continued: false,
            held_back: false,
            client_done: false,
            closing: None,
            lingering: None,
            heard: now,
            taken: now,
        }
    }

    fn waits(&self) -> Waits {
        if self.lingering.is_some() {
            Waits::Linger
        } else if !self.output.is_empty() {
            Waits::ForClientToRead
        } else if self.received.is_empty() && self.answered > 0 {
            Waits::ForNextRequest
        } else {
            Waits::ForRequest
        }
    }

    /// When the timer that runs now runs out.
    fn deadline(&self, limits: &Limits) -> Instant {
        match (self.waits(), self.lingering) {
            (Waits::Linger, Some(since)) => (since + LINGER_FOR).min(self.heard + LINGER_QUIET),
            (Waits::ForClientToRead, _) => self.taken + limits.read_timeout,
            (Waits::ForNextRequest, _) => self.heard + limits.keep_alive_timeout,
            _ => self.heard + limits.read_timeout,
        }
    }

    /// Whether it waits for a request, with none begun: a fresh or an idle
    /// connection, which a shutdown closes at once.
    fn waits_for_request(&self) -> bool {
        self.received.is_empty()
            && self.output.is_empty()
            && self.closing.is_none()
            && self.lingering.is_none()
    }

    /// One turn: reads what came in (while the output is not too large),
    /// answers the whole requests, writes, and says what is left to do.
    fn turn(&mut self, buffer: &mut [u8], steps: &Steps, limits: &Limits, stopping: bool) -> Next {
        if self.lingering.is_some() {
            return self.linger(buffer);
        }
        if self.held_back {
            self.answer_waiting(limits, stopping);
        }
        // Whether the socket may hold bytes not read yet: an event may have
        // said so, and only `WouldBlock` says it holds none.
        let mut unread = true;
        for _ in 0..READS_PER_TURN {
            if self.closing.is_some() || self.client_done || self.output.len() > HIGH_WATER {
                break;
            }
            match self.stream.read(buffer) {
                Ok(0) => self.client_done = true,
                Ok(n) => {
                    log!("Received b'{}'", buffer[..n].escape_ascii());
                    self.received.extend_from_slice(&buffer[..n]);
                    self.heard = Instant::now();
                    self.answer_waiting(limits, stopping);
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    unread = false;
                    break;
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Next::Close("a read failed"),
            }
        }
        if !self.output.is_empty() {
            let before = self.output.len();
            if (steps.write_out)(&mut self.stream, &mut self.output, limits.read_timeout).is_err() {
                return Next::Close("a write failed");
            }
            if self.output.len() < before {
                self.taken = Instant::now();
            }
            if self.output.is_empty() {
                self.output = Vec::new(); // Gives its memory back.
                if self.received.is_empty() {
                    self.heard = Instant::now(); // The keep-alive wait starts.
                }
            }
        }
        if self.output.is_empty() {
            if self.closing.is_some() {
                // All is out: say "no more", and linger.
                let _ = self.stream.shutdown(Shutdown::Write);
                self.lingering = Some(Instant::now());
                self.heard = Instant::now();
                return Next::Again;
            }
            if self.client_done && self.received.is_empty() {
                return Next::Close("the client closed it");
            }
            if self.client_done {
                return Next::Close("the client left in the middle of a request");
            }
            if stopping && self.received.is_empty() {
                return Next::Close("the server is shutting down");
            }
        }
        let can_read = self.closing.is_none() && !self.client_done;
        let below = self.output.len() <= HIGH_WATER;
        if (unread && can_read && below) || (self.held_back && below) {
            Next::Again
        } else {
            Next::Wait
        }
    }

    /// Answers every whole request at the front of `received`, in order,
    /// while the output is at most [`HIGH_WATER`].
    fn answer_waiting(&mut self, limits: &Limits, stopping: bool) {
        self.held_back = false;
        while self.closing.is_none() {
            if self.output.len() > HIGH_WATER {
                self.held_back = !self.received.is_empty();
                break;
            }
            match keep_alive::front(&keep_alive::RIGHT, &mut self.received) {
                Front::Whole(request, length) => {
                    self.received.drain(..length);
                    self.continued = false;
                    self.answer(Ok(request), limits, stopping);
                }
                Front::Refused(refusal) => {
                    // Nothing after a request we cannot read can be
                    // trusted to start where we think: it is dropped.
                    self.received.clear();
                    self.answer(Err(refusal), limits, stopping);
                }
                Front::Partial(head) => {
                    // "Go on, send the body", after the answers before it.
                    if head.is_some_and(|head| head.expects_continue) && !self.continued {
                        self.queue(b"HTTP/1.1 100 Continue\r\n\r\n");
                        self.continued = true;
                    }
                    break;
                }
            }
        }
        if self.received.is_empty() {
            self.received = Vec::new(); // An idle connection holds no buffer.
        }
    }

    /// Answers one request, or a refusal, at the end of the output.
    fn answer(&mut self, pending: Pending, limits: &Limits, stopping: bool) {
        self.answered += 1;
        let close = close_after(&pending, self.answered, limits, stopping);
        let (answer, asked) = match &pending {
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
        self.queue(&keep_alive::answer_bytes(&answer, said));
        // Sent as far as this loop goes: the socket takes it from here.
        log!(
            "Response sent (request {} of this connection).",
            self.answered
        );
        if close.is_some() {
            self.closing = close;
            self.received = Vec::new();
        }
    }

    /// Puts `bytes` at the end of the output.
    fn queue(&mut self, bytes: &[u8]) {
        if self.output.is_empty() {
            self.taken = Instant::now(); // The client's time to read starts.
        }
        self.output.extend_from_slice(bytes);
    }

    /// The lingering close: reads, and drops, what the client still sends,
    /// until it closes too (or the timer runs out).
    fn linger(&mut self, buffer: &mut [u8]) -> Next {
        let reason = self.closing.unwrap_or("it lingered");
        for _ in 0..READS_PER_TURN {
            match self.stream.read(buffer) {
                Ok(0) => return Next::Close(reason),
                Ok(_) => self.heard = Instant::now(),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Next::Wait,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Next::Close(reason),
            }
        }
        Next::Again
    }
}

/// Whether to close after answering `pending`, the `answered`th request
/// of its connection, and why.
fn close_after(
    pending: &Pending,
    answered: usize,
    limits: &Limits,
    stopping: bool,
) -> Option<CloseReason> {
    let Ok(request) = pending else {
        // After a refusal, nothing tells where a next request would start.
        return Some("the request was refused");
    };
    if keep_alive::persistence(&request.head) == Connection::Close {
        Some("the client asked to close")
    } else if answered >= limits.max_requests {
        Some("it served --max-requests requests")
    } else if stopping {
        Some("the server is shutting down")
    } else {
        None
    }
}
