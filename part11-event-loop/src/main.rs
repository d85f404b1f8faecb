//! # Part 11: an event loop
//!
//! Part 10's parser, framework and application, served by a few event
//! loops, one thread each, rather than a thread per connection: a loop
//! serves thousands of connections and waits on none of them. In part 10 a
//! worker held one connection at a time, idle or not, so 100 silent
//! clients took every worker. Here a silent client costs a few hundred
//! bytes, and nobody's time.
//! `diff -ru part10-thread-pool part11-event-loop` shows the lesson.
//!
//! **What this stage adds:** the loop (`src/event_loop.rs`: `poll`, tokens,
//! timers); a connection's state, which the loop moves on as far as it can
//! without waiting (`Session::serve`): reading requests, writing the last
//! answer, closing; output kept for the client until it can take it, and no
//! more reading while too much waits (backpressure); `--max-connections`,
//! answered `503` beyond it (`refuse_full`).
//!
//! **What it keeps simple, on purpose:** the application runs on the loop,
//! so a slow handler stalls every connection of its loop (the next stage
//! lets it wait without blocking); no chunked request bodies (answered
//! `501`, then closed).
//!
//! Run it and poke it:
//!
//! ```text
//! cargo run -p part11-event-loop -- --workers 2
//! curl -v localhost:5000/index.html localhost:5000/create
//! ```
//!
//! Then press Ctrl-C, and read the log of the shutdown.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener};
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use common::close::{LINGER_IDLE, LINGER_TOTAL};
use common::log;
use common::log::PyBytes;
use common::response::{
    CONTINUE, make_error_response, make_response_head_with_connection,
    make_response_with_connection,
};
use http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use http::{HeaderValue, Method, Response, StatusCode};
use mio::net::TcpStream;
use mio::{Interest, Poll, Waker};
// The parser is this package's library (`src/lib.rs`), used the way any
// other crate would use it. Part 5's wraps httparse, part 6's is our own:
// between those two, this line was all the server code that changed. From
// part 7 on the parser is lent the request to fill, so the server's code
// around it changes too.
use part11_event_loop::HttpRequestParser;
use part11_event_loop::application::{Application, Connection};

mod app;
mod event_loop;
mod http_request;
use event_loop::{EventLoop, Shared};
use http_request::HttpRequest;

/// Why a connection ends: the last words of its log line.
type CloseReason = &'static str;

// ANCHOR: bounds
/// How much output may wait for a client before we stop reading its
/// requests: a client that never reads its answers costs at most this, and
/// one request more.
const OUTPUT_LIMIT: usize = 64 * 1024;

/// How many reads a connection gets in one turn. Then the others get
/// theirs: a client that sends without pause must not hold the loop.
const READS_PER_TURN: usize = 16;
// ANCHOR_END: bounds

// ANCHOR: args
/// The command line. `clap` builds `--help` and `--version` from this struct
/// and its `///` comments.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The port to listen on; 0 lets the system pick a free one.
    #[arg(long, default_value_t = 5000)]
    port: u16,
    /// Print only the `Listening on` line, no log lines per connection.
    #[arg(long)]
    quiet: bool,
    /// Answer `408 Request Timeout` to a client that sends nothing for this long.
    #[arg(long, value_name = "SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    read_timeout: u64,
    /// Close a connection, without a word, that waits this long for its next request.
    #[arg(long, value_name = "SECONDS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..))]
    keep_alive_timeout: u64,
    /// Close a connection after this many requests (its last answer says so).
    #[arg(long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_requests: u64,
    /// How many event loops serve connections, one thread each [default: the number of cores].
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..))]
    workers: Option<u64>,
    /// How many connections the server holds at once; the next gets `503 Service Unavailable`.
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: u64,
    /// On Ctrl-C or SIGTERM, how long the requests in progress may take to finish.
    #[arg(long, value_name = "SECONDS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..))]
    shutdown_timeout: u64,
}
// ANCHOR_END: args

// ANCHOR: limits
/// How long a connection may wait, and how much it may carry: the options
/// every session follows, copied to each (`Copy`, like a Python tuple).
#[derive(Clone, Copy)]
struct Limits {
    /// How long a request may stall before it gets a `408`.
    read_timeout: Duration,
    /// How long an idle connection waits for its next request.
    keep_alive_timeout: Duration,
    /// How many requests one connection may carry.
    max_requests: u64,
}
// ANCHOR_END: limits

// ANCHOR: main
fn main() -> ExitCode {
    // Errors end here as one line, such as
    // `error: failed to bind 127.0.0.1:5000: Address already in use (os error 98)`.
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
// ANCHOR_END: main

// ANCHOR: run
fn run(args: Args) -> anyhow::Result<()> {
    log::set_quiet(args.quiet);
    raise_open_files();
    let listener = TcpListener::bind((args.host.as_str(), args.port))
        .with_context(|| format!("failed to bind {}:{}", args.host, args.port))?;
    // ANCHOR: choose_app
    // The application this server runs: any `Application` will do. `Arc`
    // ("atomically reference counted") lets every loop's connections share
    // the one application, and frees it when the last one is done.
    let app: Arc<dyn Application> = Arc::new(app::app());
    // ANCHOR_END: choose_app
    let limits = Limits {
        read_timeout: Duration::from_secs(args.read_timeout),
        keep_alive_timeout: Duration::from_secs(args.keep_alive_timeout),
        max_requests: args.max_requests,
    };
    // As many loops as cores, by default: one loop keeps one core busy.
    let workers = match args.workers {
        Some(workers) => workers,
        None => thread::available_parallelism().map_or(1, |cores| cores.get() as u64),
    };
    let shared = Arc::new(Shared::new(args.max_connections as usize));
    let (all_finished, wakers) = start_loops(workers, &listener, &shared, limits, &app)?;
    let signalled = on_signal(wakers, &shared)?;
    // The real address: with `--port 0` this is how to learn the port.
    // Printed once the loops and the signal handler are ready, so that
    // whoever reads it may count on both.
    println!("Listening on {}", listener.local_addr()?);
    // Each loop has a handle of its own on the listening socket: the
    // socket closes, and the system refuses new clients, once the last
    // loop drops its handle, when the server shuts down.
    drop(listener);
    // The main thread has nothing else to do: it waits for the signal.
    let _ = signalled.recv();
    shut_down(
        &shared,
        &all_finished,
        Duration::from_secs(args.shutdown_timeout),
    );
    Ok(())
}
// ANCHOR_END: run

// ANCHOR: raise_open_files
/// Raises our limit of open files as far as the system lets us. Each
/// connection is an open file, and the usual limit, 1,024, would end the
/// server's growth long before its memory does.
fn raise_open_files() {
    let before = rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _hard)| soft);
    match (before, rlimit::increase_nofile_limit(u64::MAX)) {
        (Ok(before), Ok(now)) if now > before => {
            log!("Raised the limit of open files from {before} to {now}.");
        }
        (_, Ok(now)) => log!("The limit of open files is {now}."),
        (_, Err(error)) => log!("Could not raise the limit of open files: {error}."),
    }
}
// ANCHOR_END: raise_open_files

// ANCHOR: start_loops
/// Starts `count` event loops, each on a thread of its own with its own
/// `Poll`, each with a handle on `listener`. Returns a channel's receiving
/// end that hears when every loop has ended (each holds a clone of the
/// sending end, and drops it as it ends), and each loop's waker.
fn start_loops(
    count: u64,
    listener: &TcpListener,
    shared: &Arc<Shared>,
    limits: Limits,
    app: &Arc<dyn Application>,
) -> anyhow::Result<(mpsc::Receiver<()>, Vec<Waker>)> {
    let (finished, all_finished) = mpsc::channel::<()>();
    let mut wakers = Vec::new();
    for id in 1..=count {
        // `try_clone` opens another handle on the same listening socket,
        // like Python's `os.dup`. Non-blocking: `accept` says `WouldBlock`
        // rather than wait, as everything on a loop must.
        let handle = listener.try_clone()?;
        handle.set_nonblocking(true)?;
        let poll = Poll::new().context("failed to start an event loop")?;
        wakers.push(event_loop::waker(&poll)?);
        let event_loop = EventLoop::new(
            id,
            poll,
            mio::net::TcpListener::from_std(handle),
            Arc::clone(shared),
            limits,
            Arc::clone(app),
        )?;
        let finished = finished.clone();
        // A name shows in a panic's message: "thread 'worker 3' panicked".
        thread::Builder::new()
            .name(format!("worker {id}"))
            .spawn(move || {
                let _finished = finished;
                event_loop.run();
            })
            .context("failed to start the event loops")?;
    }
    Ok((all_finished, wakers))
}
// ANCHOR_END: start_loops

// ANCHOR: on_signal
/// Makes Ctrl-C (SIGINT) and SIGTERM, the signal `kill`, systemd and Docker
/// send to stop a program, start the shutdown. Without a handler, either
/// ends the process at once, in the middle of its clients' requests.
///
/// `ctrlc` runs the handler on a thread of its own. It sets the flag, then
/// wakes every loop, asleep in `poll`, with its `Waker`. Returns the end of
/// a channel that hears of it.
fn on_signal(wakers: Vec<Waker>, shared: &Arc<Shared>) -> anyhow::Result<mpsc::Receiver<()>> {
    let (signal, signalled) = mpsc::channel::<()>();
    let shared = Arc::clone(shared);
    ctrlc::set_handler(move || {
        // A second signal finds the shutdown under way, and does nothing.
        if shared.shut_down() {
            for waker in &wakers {
                if let Err(error) = waker.wake() {
                    log!("Could not wake a loop: {error}.");
                }
            }
            // And the main thread, which waits for this.
            let _ = signal.send(());
        }
    })
    .context("failed to set up the signal handler")?;
    Ok(signalled)
}
// ANCHOR_END: on_signal

// ANCHOR: refuse_full
/// Answers a client beyond `--max-connections`: `503 Service Unavailable`,
/// with `Retry-After` in seconds (RFC 9110, section 15.6.4), then the close.
/// Without a bound, a flood of clients would take every open file the
/// process may have, and `accept` would fail for everyone.
///
/// A loop must never wait on a client: the answer fits in a new socket's
/// buffer, and if it does not, it is lost; and rather than linger for the
/// client's close, we only drop what it sent already, so that the close is
/// not a reset.
fn refuse_full(mut stream: TcpStream, address: SocketAddr) {
    let body = b"503 Service Unavailable: the server holds all the connections it can, try again in a second\n";
    let headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Retry-After", "1"),
    ];
    let response = make_response_with_connection(503, &headers, body, Some("close"));
    match stream.write(&response) {
        Ok(n) if n == response.len() => {
            log!("Refused {address}: the server holds --max-connections connections.");
        }
        Ok(_) => log!("Could not send the whole refusal to {address}."),
        Err(error) => log!("Could not send the refusal to {address}: {error}."),
    }
    let _ = stream.shutdown(Shutdown::Write);
    let mut scratch = [0; 1024];
    // At most a few reads: until nothing more is there (`WouldBlock`).
    for _ in 0..16 {
        if !matches!(stream.read(&mut scratch), Ok(n) if n > 0) {
            break;
        }
    }
    log!("Socket with {address} closed: the server was full.");
}
// ANCHOR_END: refuse_full

// ANCHOR: shut_down
/// The rest of the shutdown, once the signal came: the loops have dropped
/// the listener, closed the connections that wait for a request, and
/// finish the requests in progress (whose answers now say
/// `Connection: close`); each loop ends with its last connection. We wait
/// for them up to `timeout`; when it runs out, returning from `main` ends
/// the process, and cuts off what is left.
fn shut_down(shared: &Shared, all_finished: &mpsc::Receiver<()>, timeout: Duration) {
    let seconds = timeout.as_secs();
    log!("Shutting down: no longer accepting connections.");
    log!(
        "Waiting up to {seconds} s for {} to finish.",
        connections(shared.open())
    );
    // Nothing is ever sent on the channel: `recv_timeout` returns when every
    // loop has dropped its end (`Disconnected`), or when time runs out.
    match all_finished.recv_timeout(timeout) {
        Err(RecvTimeoutError::Timeout) => log!(
            "Shut down: cut off {} after the {seconds} s shutdown timeout.",
            connections(shared.open())
        ),
        _ => log!("Shut down: every connection finished."),
    }
}
// ANCHOR_END: shut_down

/// `1 connection`, `2 connections`.
fn connections(count: usize) -> String {
    match count {
        1 => "1 connection".to_string(),
        _ => format!("{count} connections"),
    }
}

// ANCHOR: state
/// Where a connection is: what it does when its turn comes.
#[derive(Clone, Copy)]
enum State {
    /// Reading requests and answering them. Answers the client has not
    /// taken yet wait in `output`, and while they are many, reading stops.
    Reading,
    /// The last answer is going out; nothing more is read. Then `Closing`.
    Writing(CloseReason),
    /// Our side is shut (the client has read its last answer, or will):
    /// what the client still sends is read and dropped until it closes too,
    /// or `until`: the lingering close, without blocking.
    Closing(CloseReason, Instant),
}
// ANCHOR_END: state

/// What the loop should do with a connection after its turn.
enum Next {
    /// Wait for its next event, or its deadline.
    Wait,
    /// Serve it again before waiting: it has bytes left to read.
    Again,
    /// Close it, saying why in the log.
    Close(CloseReason),
}

// ANCHOR: session
/// One client's connection, from the first byte read to the close: the
/// post's `Session` class.
///
/// Everything the closure version kept in local variables and borrowed into
/// the closure is a field here, and the methods borrow the whole session with
/// `&mut self`, one method at a time. No `Cell`, no shared borrow of the
/// stream, no closure type to spell out: this is why the refactor is cleaner
/// in Rust too.
///
/// The session now also holds the request being read, which the parser
/// fills in, and the application that will answer it. From part 9 on it
/// outlives its requests: each gets a new parser and a new request, and the
/// session counts them. From part 11 on no thread waits in it: it keeps its
/// state, and the loop calls it whenever its socket is ready.
struct Session {
    stream: TcpStream,
    address: SocketAddr,
    /// Both addresses of the connection, asked of the socket once: each of
    /// its requests gets a copy.
    connection: Option<Connection>,
    limits: Limits,
    app: Arc<dyn Application>,
    shared: Arc<Shared>,
    state: State,
    /// Answers not yet taken by the client.
    output: Vec<u8>,
    /// When bytes last came or went: the timers count from here.
    since: Instant,
    /// How many requests this connection has carried so far.
    requests: u64,
    /// Whether bytes of a request have come that is not answered yet.
    in_request: bool,
    parser: HttpRequestParser,
    request: HttpRequest,
}

impl Session {
    fn new(
        stream: TcpStream,
        address: SocketAddr,
        limits: Limits,
        app: &Arc<dyn Application>,
        shared: &Arc<Shared>,
        now: Instant,
    ) -> Self {
        // Each answer goes out at once, rather than waiting for the client
        // to acknowledge the one before (Nagle's algorithm).
        if let Err(error) = stream.set_nodelay(true) {
            log!("Could not set up the connection to {address}: {error}.");
        }
        // `None` in the rare case that the system cannot tell the server's
        // address (the client is gone already).
        let connection = stream.local_addr().ok().map(|server| Connection {
            server,
            client: address,
        });
        // Each session gets handles on the application and the shared
        // state: copies of the `Arc`s, not of what they point to.
        Session {
            stream,
            address,
            connection,
            limits,
            app: Arc::clone(app),
            shared: Arc::clone(shared),
            state: State::Reading,
            output: Vec::new(),
            since: now,
            requests: 0,
            in_request: false,
            parser: HttpRequestParser::default(),
            request: HttpRequest::default(),
        }
    }

    fn address(&self) -> SocketAddr {
        self.address
    }

    /// The socket, for the loop to register with its poll.
    fn stream(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    /// Whether the connection waits for a request: none in progress, and
    /// nothing left to send.
    fn is_waiting(&self) -> bool {
        matches!(self.state, State::Reading) && !self.in_request && self.output.is_empty()
    }

    // ANCHOR: interest
    /// What the loop should ask `poll` to tell of this socket: `WRITABLE`
    /// only while output waits, `READABLE` while we read.
    fn interest(&self) -> Interest {
        // STARTER part11-event-loop, left to the learner: "By the state:
        // `Reading` with no output waiting is `READABLE`; with output under
        // `OUTPUT_LIMIT`, `READABLE | WRITABLE`; `Reading` over the limit
        // (backpressure) and `Writing` are `WRITABLE` alone; `Closing`
        // reads and drops, `READABLE`."
        match self.state {
            State::Reading if self.output.is_empty() => Interest::READABLE,
            State::Reading if self.output.len() < OUTPUT_LIMIT => {
                Interest::READABLE | Interest::WRITABLE
            }
            State::Reading | State::Writing(_) => Interest::WRITABLE,
            State::Closing(..) => Interest::READABLE,
        }
        // STARTER end
    }
    // ANCHOR_END: interest

    // ANCHOR: deadline
    /// When the connection must stop waiting: the read timeout within a
    /// request (or before the first), the keep-alive timeout between two,
    /// the read timeout too for a client that takes none of its answers,
    /// and the lingering close's bounds.
    fn deadline(&self) -> Instant {
        match self.state {
            State::Closing(_, until) => until.min(self.since + LINGER_IDLE),
            _ if self.requests > 0 && self.is_waiting() => {
                self.since + self.limits.keep_alive_timeout
            }
            _ => self.since + self.limits.read_timeout,
        }
    }
    // ANCHOR_END: deadline

    // ANCHOR: serve
    /// The connection's turn: it reads, answers and writes as far as it
    /// can without waiting, and says what the loop should do next. `data`
    /// is the loop's read buffer, lent for the turn.
    fn serve(&mut self, data: &mut [u8], now: Instant) -> Next {
        let mut reads = 0;
        loop {
            if let State::Closing(reason, _) = self.state {
                return self.linger(data, now, reason);
            }
            // Read what has come, within the turn's share, while the client
            // takes its answers; each read's requests are answered into
            // `output`.
            let mut would_block = false;
            while matches!(self.state, State::Reading) && self.output.len() < OUTPUT_LIMIT {
                if reads == READS_PER_TURN {
                    break;
                }
                reads += 1;
                match self.stream.read(data) {
                    Ok(received) => {
                        self.since = now;
                        if received == 0 {
                            self.client_closed();
                            break;
                        }
                        log!("Received {}", PyBytes(&data[..received]));
                        if let Some(reason) = self.feed(&data[..received]) {
                            self.finish(reason, now);
                        }
                    }
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                        would_block = true;
                        break;
                    }
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                    Err(error) => {
                        log!("Could not read: {error}.");
                        return Next::Close("a read failed");
                    }
                }
            }
            // Every answer of this turn, in one write.
            if let Err(reason) = self.write_output(now) {
                return Next::Close(reason);
            }
            match self.state {
                // The last answer is out: our side says so (FIN), and we
                // linger, at once.
                State::Writing(reason) if self.output.is_empty() => {
                    let _ = self.stream.shutdown(Shutdown::Write);
                    self.since = now;
                    self.state = State::Closing(reason, now + LINGER_TOTAL);
                }
                State::Reading if self.is_waiting() && self.shared.is_shutting_down() => {
                    return Next::Close("the server is shutting down");
                }
                // The client took enough of its answers: read on.
                State::Reading if !would_block && self.output.len() < OUTPUT_LIMIT => {
                    if reads == READS_PER_TURN {
                        return Next::Again;
                    }
                }
                _ => return Next::Wait,
            }
        }
    }
    // ANCHOR_END: serve

    /// The client closed its side: between requests, that is how a client
    /// ends a connection. What it asked for still goes out.
    fn client_closed(&mut self) {
        let reason = if self.in_request {
            // The original keeps looping here, receiving b'' forever.
            log!("Client left before the request was complete.");
            "the client left in the middle of a request"
        } else {
            "the client closed it"
        };
        self.state = State::Writing(reason);
    }

    /// From now on the connection only sends what is left, then closes.
    fn finish(&mut self, reason: CloseReason, now: Instant) {
        self.since = now;
        self.state = State::Writing(reason);
    }

    // ANCHOR: write_output
    /// Writes what the client has not taken yet, as far as it will take it.
    fn write_output(&mut self, now: Instant) -> Result<(), CloseReason> {
        // STARTER part11-event-loop, left to the learner: "While output
        // waits: `write` it; remove what was sent from the front (`drain`)
        // and note the time in `self.since`; stop, with `Ok`, at
        // `WouldBlock`; go on after `Interrupted`; any other error (or a
        // write of 0 bytes) is an `Err`, the reason `a write failed`. Once
        // all is sent, replace `self.output` with a new, empty `Vec`, so
        // that an idle connection holds no buffer."
        while !self.output.is_empty() {
            match self.stream.write(&self.output) {
                Ok(0) => return Err("a write failed"),
                Ok(sent) => {
                    // The rest moves to the front, for the next write.
                    self.output.drain(..sent);
                    self.since = now;
                }
                // The socket's buffer is full: the rest waits for WRITABLE.
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    log!("Could not send the response: {error}.");
                    return Err("a write failed");
                }
            }
        }
        // All sent: the buffer goes too, so that an idle connection holds
        // none. The next answer brings its own.
        self.output = Vec::new();
        Ok(())
        // STARTER end
    }
    // ANCHOR_END: write_output

    // ANCHOR: linger
    /// The lingering close, a turn at a time: reads and drops what the
    /// client still sends, until it closes (or goes quiet, or the time is
    /// up: `expire`). Closing with its bytes unread would send a reset,
    /// which can cost the client our last answer.
    fn linger(&mut self, data: &mut [u8], now: Instant, reason: CloseReason) -> Next {
        for _ in 0..READS_PER_TURN {
            match self.stream.read(data) {
                Ok(0) => return Next::Close(reason),
                Ok(_) => self.since = now,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Next::Wait,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Next::Close(reason),
            }
        }
        Next::Again
    }
    // ANCHOR_END: linger

    // ANCHOR: expire
    /// The connection's deadline has passed: what that means depends on
    /// where it is.
    fn expire(&mut self, data: &mut [u8], now: Instant) -> Next {
        // STARTER part11-event-loop, left to the learner: "By the state:
        // `Closing` closes, for its reason; `Writing`, or `Reading` with
        // output waiting, closes: the client stopped reading; `Reading`
        // idle after a request closes without a word (keep-alive timeout);
        // otherwise the request is late: queue a `408` with
        // `send_refusal`, `finish`, and give the connection its turn
        // (`serve`) to send it."
        match self.state {
            State::Closing(reason, _) => Next::Close(reason),
            // Nothing of ours was taken for a whole read timeout.
            State::Writing(_) => Next::Close("the client stopped reading"),
            State::Reading if !self.output.is_empty() => Next::Close("the client stopped reading"),
            // An idle connection closes without a word: no request was
            // made, so none is answered (RFC 9112, section 9.5).
            State::Reading if self.requests > 0 && !self.in_request => {
                Next::Close("it was idle for the keep-alive timeout")
            }
            State::Reading => {
                let response = make_error_response(408, "no complete request in time");
                self.send_refusal(response);
                self.finish("the request was refused", now);
                self.serve(data, now)
            }
        }
        // STARTER end
    }
    // ANCHOR_END: expire

    /// Queues `bytes` for the client; they go out with this turn's write.
    fn send(&mut self, bytes: Vec<u8>) {
        if self.output.is_empty() {
            // Nothing waits: the bytes become the output, with no copy.
            self.output = bytes;
        } else {
            self.output.extend_from_slice(&bytes);
        }
    }

    /// Queues the interim `100 Continue`: the client may send the body now.
    fn send_continue(&mut self) {
        self.send(CONTINUE.to_vec());
        log!("Sent 100 Continue.");
    }

    /// Queues the answer to a request we refuse, such as `400 Bad Request`.
    fn send_refusal(&mut self, response: Vec<u8>) {
        // The status line, for the log: everything before the first "\r\n".
        let status_line = response.split(|&b| b == b'\r').next().unwrap_or_default();
        log!("Refused: {}", status_line.escape_ascii());
        self.send(response);
    }

    // ANCHOR: feed
    /// Feeds the bytes received to the parser, and answers every request
    /// they complete, in order: one read may hold the end of one request
    /// and the start of the next, or several whole ones (pipelining,
    /// RFC 9112, section 9.3.2). Returns why to close, once it is time.
    fn feed(&mut self, mut received: &[u8]) -> Option<CloseReason> {
        // STARTER part9-keep-alive, left to the learner: "While bytes are
        // left: feed them to `self.parser` (lent `self.request`), which says
        // how many it used; a `ParseError` is refused with
        // `make_error_response`, and closes. Once the request is complete,
        // `self.send_response()` (which says whether to close), then start
        // the next request with a new parser and request; else answer an
        // `Expect: 100-continue` with `send_continue`."
        while !received.is_empty() {
            self.in_request = true;
            // ANCHOR: lend
            // The parser is lent the request to fill in, for this call only.
            // `self.parser` and `self.request` are two fields of `self`:
            // Rust lets us borrow both at once, one of them mutably, because
            // they do not overlap. (Lending the parser the whole session,
            // as the post does, would borrow `self.parser` twice.)
            let used = match self.parser.feed_data(received, &mut self.request) {
                Ok(used) => used,
                // After a refusal, nothing tells where the next request
                // would start: the connection must close (RFC 9112,
                // section 9.3).
                Err(error) => {
                    let response = make_error_response(error.status_code(), &error.to_string());
                    self.send_refusal(response);
                    return Some("the request was refused");
                }
            };
            // ANCHOR_END: lend
            // What the parser did not use is the next request's.
            received = &received[used..];
            // The request noted its own end; we answer it.
            if self.request.is_complete() {
                if let Some(reason) = self.send_response() {
                    // Whatever else came is ignored (RFC 9112, section 9.6).
                    return Some(reason);
                }
                // The next request starts afresh: `default()` makes a new
                // parser and a new request, and the old ones are dropped.
                self.parser = HttpRequestParser::default();
                self.request = HttpRequest::default();
                self.in_request = false;
            } else if self.request.take_continue() {
                self.send_continue();
            }
        }
        None
        // STARTER end
    }
    // ANCHOR_END: feed

    // ANCHOR: send_response
    /// Hands the request to the application and sends its answer; the
    /// post's `Session.send_response`. Returns why to close after it, if
    /// the connection should not carry another request.
    fn send_response(&mut self) -> Option<CloseReason> {
        self.requests += 1;
        // Decided before the answer is written, since the answer says it.
        // (An HTTP/1.0 client that did not ask to keep the connection asks
        // to close it, by 1.0's default.)
        let close = if !self.parser.should_keep_alive() {
            Some("the client asked to close")
        } else if self.requests >= self.limits.max_requests {
            Some("it served --max-requests requests")
        } else if self.shared.is_shutting_down() {
            Some("the server is shutting down")
        } else {
            None
        };
        // What the answer says of the connection (RFC 9112, section 9.6):
        // `close` exactly when we close after it; `keep-alive` to an
        // HTTP/1.0 client, which would otherwise expect a close; nothing to
        // HTTP/1.1, which keeps the connection by default.
        let connection = match close {
            Some(_) => Some("close"),
            None if self.parser.is_http_1_0() => Some("keep-alive"),
            None => None,
        };
        let mut request = match self.request.take_request() {
            Ok(request) => request,
            // A method or target the `http` types refuse.
            Err(error) => {
                self.send_refusal(make_error_response(400, &error.to_string()));
                return Some("the request was refused");
            }
        };
        // What the server knows of the connection, from the socket itself.
        if let Some(connection) = self.connection {
            request.extensions_mut().insert(connection);
        }
        let head_only = request.method() == Method::HEAD;
        // The border between the server and the application, which the
        // server knows nothing about: a panic in the application is caught
        // here and answered `500`. Without it, the panic would cost the
        // connection, closed by the loop with no answer sent: the client
        // would see it reset, the original's fate for any error in a thread.
        // (`catch_unwind` wants code that leaves nothing half-changed when
        // it panics; `AssertUnwindSafe` says we accept the risk, as we only
        // send an error and the next request gets the application as is.)
        let answer = panic::catch_unwind(AssertUnwindSafe(|| self.app.call(request)));
        let response = answer.unwrap_or_else(|_| {
            log!("The application panicked.");
            internal_error()
        });
        // Queued: it goes out with the turn's write, after the answers
        // before it.
        self.send(to_bytes(response, head_only, connection));
        log!(
            "Response sent (request {} of this connection).",
            self.requests
        );
        close
    }
    // ANCHOR_END: send_response
}
// ANCHOR_END: session

// ANCHOR: to_bytes
/// The application's response, as the bytes the client gets: the status
/// line with its reason phrase, the application's headers, then the
/// framing, which only the server can vouch for: `Content-Length` (set from
/// the body, whatever the application said) and the `Connection` header
/// given, if any. `head_only` leaves the body out, for `HEAD`.
fn to_bytes(response: Response<Vec<u8>>, head_only: bool, connection: Option<&str>) -> Vec<u8> {
    // STARTER part7-app-interface, left to the learner: "Split the response
    // with `into_parts`; collect its headers as `(&str, &str)` pairs (a
    // value that is not text gets a `500`), skipping the framing headers the
    // application may have set (`CONTENT_LENGTH`, `CONNECTION`,
    // `TRANSFER_ENCODING`); then `make_response_with_connection`, or
    // `make_response_head_with_connection` when `head_only`."
    // `into_parts` splits the response into its head and its body, both owned.
    let (head, body) = response.into_parts();
    // `HeaderMap` iterates over (name, value) pairs, a repeated header once
    // per value. The framing headers are skipped: the server writes its own.
    // A value may hold bytes that are not text, which HTTP allows but
    // `make_response` does not take: then `collect` stops at the first
    // `Err`, and the application gets the blame.
    let headers: Result<Vec<(&str, &str)>, _> = head
        .headers
        .iter()
        .filter(|&(name, _)| ![CONTENT_LENGTH, CONNECTION, TRANSFER_ENCODING].contains(name))
        .map(|(name, value)| value.to_str().map(|value| (name.as_str(), value)))
        .collect();
    let Ok(headers) = headers else {
        log!("The application sent a header value that is not text.");
        return make_error_response(500, "the application sent a header that is not text");
    };
    let status = head.status.as_u16();
    if head_only {
        make_response_head_with_connection(status, &headers, body.len(), connection)
    } else {
        make_response_with_connection(status, &headers, &body, connection)
    }
    // STARTER end
}
// ANCHOR_END: to_bytes

/// The answer when the application failed: `500`, with a short text.
fn internal_error() -> Response<Vec<u8>> {
    let mut response =
        Response::new(b"500 Internal Server Error: the application failed\n".to_vec());
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod server_tests;
