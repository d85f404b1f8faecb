//! # Part 10: a thread pool
//!
//! Part 9's server, framework and application, with the thread per
//! connection replaced by a fixed pool: `--workers` threads take accepted
//! connections from a queue that holds at most `--queue` of them. A thread
//! per connection has no bound: 3,000 idle clients held 3,000 threads in
//! part 9, and nothing stopped the 30,000th.
//! `diff -ru part9-keep-alive part10-thread-pool` shows the lesson.
//!
//! **What this stage adds:** the queue and the workers (`src/pool.rs`,
//! `work`); a `503 Service Unavailable` when the queue is full
//! (`refuse_busy`); a worker lets go of an idle keep-alive connection while
//! other clients wait (`Session::stop_waiting`); and a graceful shutdown on
//! Ctrl-C or SIGTERM (`on_signal`, `shut_down`).
//!
//! **What it keeps simple, on purpose:** a worker still blocks on its
//! connection's reads, so each connection served holds a thread, idle or
//! not (the next stage's reason to exist); no chunked request bodies
//! (answered `501`, then closed).
//!
//! Run it and poke it:
//!
//! ```text
//! cargo run -p part10-thread-pool -- --workers 2
//! curl -v localhost:5000/index.html localhost:5000/create
//! ```
//!
//! Then press Ctrl-C, and read the log of the shutdown.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use common::close::lingering_close;
use common::log;
use common::log::PyBytes;
use common::response::{
    CONTINUE, make_error_response, make_response_head_with_connection,
    make_response_with_connection,
};
use http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use http::{HeaderValue, Method, Response, StatusCode};
// The parser is this package's library (`src/lib.rs`), used the way any
// other crate would use it. Part 5's wraps httparse, part 6's is our own:
// between those two, this line was all the server code that changed. From
// part 7 on the parser is lent the request to fill, so the server's code
// around it changes too.
use part10_thread_pool::HttpRequestParser;
use part10_thread_pool::application::{Application, Connection};

mod app;
mod http_request;
mod pool;
use http_request::HttpRequest;
use pool::Pool;

/// How many bytes one read takes from the socket, like the post's `recv(1024)`.
const READ_SIZE: usize = 1024;

/// Why a connection ends: the last words of its log line.
type CloseReason = &'static str;

/// What waits in the queue: an accepted connection, and who it is from.
type Client = (TcpStream, SocketAddr);

/// How often a worker whose connection waits for a request looks up, to
/// see whether other clients wait for a worker or the server shuts down.
const LOOK_UP_EVERY: Duration = Duration::from_millis(100);

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
    /// How many worker threads serve connections, one connection each at a time.
    #[arg(long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..))]
    workers: u64,
    /// How many accepted connections may wait for a worker; the next gets `503 Service Unavailable`.
    #[arg(long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..))]
    queue: u64,
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
    let listener = TcpListener::bind((args.host.as_str(), args.port))
        .with_context(|| format!("failed to bind {}:{}", args.host, args.port))?;
    // ANCHOR: choose_app
    // The application this server runs: any `Application` will do. `Arc`
    // ("atomically reference counted") lets every connection's thread share
    // the one application, and frees it when the last one is done.
    let app: Arc<dyn Application> = Arc::new(app::app());
    // ANCHOR_END: choose_app
    let limits = Limits {
        read_timeout: Duration::from_secs(args.read_timeout),
        keep_alive_timeout: Duration::from_secs(args.keep_alive_timeout),
        max_requests: args.max_requests,
    };
    let pool = Arc::new(Pool::new(args.queue as usize));
    let all_finished = start_workers(args.workers, &pool, limits, &app)?;
    on_signal(&listener, &pool)?;
    // The real address: with `--port 0` this is how to learn the port.
    // Printed once the workers and the signal handler are ready, so that
    // whoever reads it may count on both.
    println!("Listening on {}", listener.local_addr()?);
    serve_forever(&listener, &pool);
    // Only a signal ends `serve_forever`. Dropping the listener closes its
    // socket: from here on, the system refuses new connections.
    drop(listener);
    shut_down(
        &pool,
        &all_finished,
        Duration::from_secs(args.shutdown_timeout),
    );
    Ok(())
}
// ANCHOR_END: run

// ANCHOR: start_workers
/// Starts `count` workers, which serve what `pool`'s queue hands them.
/// Returns a channel's receiving end that hears when every worker has
/// ended: each holds a clone of the sending end, and drops it as it ends.
fn start_workers(
    count: u64,
    pool: &Arc<Pool<Client>>,
    limits: Limits,
    app: &Arc<dyn Application>,
) -> anyhow::Result<mpsc::Receiver<()>> {
    let (finished, all_finished) = mpsc::channel::<()>();
    for id in 1..=count {
        let (pool, app, finished) = (Arc::clone(pool), Arc::clone(app), finished.clone());
        // A name shows in a panic's message: "thread 'worker 3' panicked".
        thread::Builder::new()
            .name(format!("worker {id}"))
            .spawn(move || {
                let _finished = finished;
                work(id, &pool, limits, &app);
            })
            .context("failed to start the workers")?;
    }
    Ok(all_finished)
}
// ANCHOR_END: start_workers

// ANCHOR: on_signal
/// Makes Ctrl-C (SIGINT) and SIGTERM, the signal `kill`, systemd and Docker
/// send to stop a program, start the shutdown. Without a handler, either
/// ends the process at once, in the middle of its clients' requests.
///
/// `ctrlc` runs the handler on a thread of its own. It sets the pool's flag,
/// then wakes the accepting thread, asleep in `accept`, the plain way: by
/// connecting to it.
fn on_signal(listener: &TcpListener, pool: &Arc<Pool<Client>>) -> anyhow::Result<()> {
    let mut wake = listener.local_addr()?;
    // Listening on every address (`--host 0.0.0.0`), we call on loopback.
    if wake.ip().is_unspecified() {
        wake.set_ip(match wake.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    let pool = Arc::clone(pool);
    ctrlc::set_handler(move || {
        // A second signal finds the shutdown under way, and does nothing.
        if pool.shut_down() {
            // Refused or not, the call wakes `accept`, which sees the flag.
            let _ = TcpStream::connect(wake);
        }
    })
    .context("failed to set up the signal handler")?;
    Ok(())
}
// ANCHOR_END: on_signal

// ANCHOR: serve_forever
/// Accepts clients until the server shuts down, and queues each for a
/// worker; refuses one when the queue is full.
///
/// `TcpListener::bind` listens with a backlog of 128 connections waiting to
/// be accepted, not the original's 1, under which 20 clients at once waited
/// seconds to get in.
fn serve_forever(listener: &TcpListener, pool: &Pool<Client>) {
    loop {
        let accepted = listener.accept();
        // The signal handler's wake-up call, or a client just too late.
        if pool.is_shutting_down() {
            return;
        }
        let (stream, address) = match accepted {
            Ok(client) => client,
            Err(error) => {
                // Such as "too many open files". Pause, rather than spin
                // through the same error, then go on serving.
                log!("Could not accept a connection: {error}.");
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        log!("Socket established with {address}.");
        // The queue takes the connection, or hands it back when full.
        if let Err((stream, address)) = pool.queue.push((stream, address)) {
            refuse_busy(stream, address);
        }
    }
}
// ANCHOR_END: serve_forever

// ANCHOR: refuse_busy
/// Answers a client no worker can take: `503 Service Unavailable`, with
/// `Retry-After` in seconds (RFC 9110, section 15.6.4), then the close.
/// That is backpressure: the client hears "later", rather than waiting in a
/// queue without end, or in silence.
///
/// This runs on the accepting thread, which must never wait on a client:
/// the answer fits in the socket's buffer, and a write timeout bounds it
/// anyway; and rather than linger for the client's close, as `run` does, we
/// only drop what it sent already, so that the close is not a reset.
fn refuse_busy(stream: TcpStream, address: SocketAddr) {
    let body = b"503 Service Unavailable: every worker is busy, try again in a second\n";
    let headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Retry-After", "1"),
    ];
    let response = make_response_with_connection(503, &headers, body, Some("close"));
    let sent = stream
        .set_write_timeout(Some(LOOK_UP_EVERY))
        .and_then(|()| (&stream).write_all(&response));
    match sent {
        Ok(()) => log!("Refused {address}: every worker is busy and the queue is full."),
        Err(error) => log!("Could not send the refusal to {address}: {error}."),
    }
    let _ = stream.shutdown(Shutdown::Write);
    if stream.set_nonblocking(true).is_ok() {
        let mut scratch = [0; READ_SIZE];
        // At most a few reads: until nothing more is there (`WouldBlock`).
        for _ in 0..16 {
            if !matches!((&stream).read(&mut scratch), Ok(n) if n > 0) {
                break;
            }
        }
    }
    log!("Socket with {address} closed: the queue was full.");
}
// ANCHOR_END: refuse_busy

// ANCHOR: work
/// A worker: serves one connection after another, as the queue hands them
/// out, until the queue is closed and empty.
fn work(id: u64, pool: &Arc<Pool<Client>>, limits: Limits, app: &Arc<dyn Application>) {
    while let Some((stream, address)) = pool.queue.pop() {
        // Counted busy until this iteration ends, however it ends.
        let _busy = pool.busy_guard();
        log!("Worker {id} serves {address}.");
        // Each session gets handles on the application and the pool:
        // copies of the `Arc`s, not of what they point to.
        let session = Session::new(stream, address, limits, Arc::clone(app), Arc::clone(pool));
        // A panic of the application is answered `500` where it is called
        // (`send_response`). This catches one of the server's own, should
        // there be one: the worker goes on to the next connection, and the
        // pool never shrinks.
        if panic::catch_unwind(AssertUnwindSafe(|| session.run())).is_err() {
            log!("Worker {id} lost the connection to {address} to a panic.");
        }
    }
}
// ANCHOR_END: work

// ANCHOR: shut_down
/// The rest of the shutdown, once the listener is closed: the workers
/// finish the requests in progress (whose answers now say
/// `Connection: close`), close the connections that wait for one, and stop.
/// We wait for them up to `timeout`; when it runs out, returning from
/// `main` ends the process, and cuts off what is left.
///
/// The Rust Book's pool shuts down in its `Drop`: it closes the channel and
/// joins every worker. That runs only if `main` returns, which a Ctrl-C
/// without a handler never lets it; and a join waits without a bound.
fn shut_down(pool: &Pool<Client>, all_finished: &mpsc::Receiver<()>, timeout: Duration) {
    let seconds = timeout.as_secs();
    log!("Shutting down: no longer accepting connections.");
    let serving = pool.busy() + pool.queue.len();
    log!(
        "Waiting up to {seconds} s for {} to finish.",
        connections(serving)
    );
    // The workers empty the queue, then find it closed, and end.
    pool.queue.close();
    // Nothing is ever sent on the channel: `recv_timeout` returns when every
    // worker has dropped its end (`Disconnected`), or when time runs out.
    match all_finished.recv_timeout(timeout) {
        Err(RecvTimeoutError::Timeout) => log!(
            "Shut down: cut off {} after the {seconds} s shutdown timeout.",
            connections(pool.busy())
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
/// session counts them. From part 10 on it knows its pool, to see whether
/// others wait for a worker, and whether the server shuts down.
struct Session {
    stream: TcpStream,
    address: SocketAddr,
    /// Both addresses of the connection, asked of the socket once: each of
    /// its requests gets a copy.
    connection: Option<Connection>,
    limits: Limits,
    app: Arc<dyn Application>,
    pool: Arc<Pool<Client>>,
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
        app: Arc<dyn Application>,
        pool: Arc<Pool<Client>>,
    ) -> Self {
        // `None` in the rare case that the system cannot tell the server's
        // address (the client is gone already).
        let connection = stream.local_addr().ok().map(|server| Connection {
            server,
            client: address,
        });
        Session {
            stream,
            address,
            connection,
            limits,
            app,
            pool,
            requests: 0,
            in_request: false,
            parser: HttpRequestParser::default(),
            request: HttpRequest::default(),
        }
    }

    /// Serves requests until the connection should close, then closes it.
    /// `run` takes `self` by value: the session is used up, and the stream
    /// closed, when it returns.
    fn run(mut self) {
        // A client that stops reading must not hold this thread forever: a
        // write that waits longer than this fails with a timeout error.
        let timeout = self
            .stream
            .set_write_timeout(Some(self.limits.read_timeout));
        // Each answer goes out at once, rather than waiting for the client
        // to acknowledge the one before (Nagle's algorithm), which would
        // stall pipelined requests by up to 40 ms each.
        let no_delay = self.stream.set_nodelay(true);
        if let Err(error) = timeout.and(no_delay) {
            log!(
                "Could not set up the connection to {}: {error}.",
                self.address
            );
            return;
        }
        let reason = self.serve_requests();
        lingering_close(self.stream);
        log!("Socket with {} closed: {reason}.", self.address);
    }

    // ANCHOR: serve_requests
    /// Reads, and answers, one request after another; returns why the
    /// connection should close.
    fn serve_requests(&mut self) -> CloseReason {
        let mut data = [0; READ_SIZE];
        // Since when the connection has waited for its next request: since
        // it was taken, then since the last bytes came.
        let mut waiting_since = Instant::now();
        loop {
            // Before a request's first byte, the connection waits: for its
            // first request, or idle between two. It waits in short slices,
            // and between them the worker looks up (`stop_waiting`): a
            // worker must not sit on a quiet connection while others need
            // it. Within a request, a stall is the read timeout, as before.
            let waiting = !self.in_request;
            let idle = waiting && self.requests > 0;
            let timeout = if waiting {
                LOOK_UP_EVERY
            } else {
                self.limits.read_timeout
            };
            if let Err(error) = self.stream.set_read_timeout(Some(timeout)) {
                log!("Could not set the read timeout: {error}.");
                return "a read failed";
            }
            // Where Python raises an exception, Rust's `read` returns a
            // `Result`, which we must look at: `Ok(n)` bytes, or `Err(why)`.
            let received = match self.stream.read(&mut data) {
                // Zero bytes: the client closed its side. Between requests,
                // that is how a client ends a connection.
                Ok(0) if idle => return "the client closed it",
                // Within a request, it left before the end. The original
                // keeps looping here, receiving b'' forever at full speed.
                Ok(0) => {
                    log!("Client left before the request was complete.");
                    return "the client left in the middle of a request";
                }
                Ok(n) => &data[..n],
                // A slice of waiting has passed: look up.
                Err(error) if is_timeout(&error) && waiting => {
                    match self.stop_waiting(waiting_since.elapsed()) {
                        Some(reason) => return reason,
                        None => continue,
                    }
                }
                Err(error) if is_timeout(&error) => {
                    let response = make_error_response(408, "no complete request in time");
                    send_refusal(&self.stream, &response);
                    return "the request was refused";
                }
                Err(error) => {
                    log!("Could not read: {error}.");
                    return "a read failed";
                }
            };
            log!("Received {}", PyBytes(received));
            // A wait that follows starts now, even when these bytes were a
            // whole request, answered at once.
            waiting_since = Instant::now();
            if let Some(reason) = self.feed(received) {
                return reason;
            }
        }
    }
    // ANCHOR_END: serve_requests

    // ANCHOR: stop_waiting
    /// Whether a connection that has `waited` for a request should stop
    /// waiting, and why: `None` to wait on.
    fn stop_waiting(&self, waited: Duration) -> Option<CloseReason> {
        // STARTER part10-thread-pool, left to the learner: "In this order:
        // the server shuts down; an idle connection (one that has served a
        // request) while others wait in the queue (`self.pool`); an idle
        // one past the keep-alive timeout. Each is a close without a word.
        // A connection still waiting for its first request past the read
        // timeout is refused with `408`. Otherwise, `None`."
        let idle = self.requests > 0;
        let reason = if self.pool.is_shutting_down() {
            "the server is shutting down"
        } else if idle && self.pool.others_waiting() {
            // Kept, this connection would hold its worker while a client
            // that waited in the queue gets none. A new connection is
            // spared: it too waited in the queue, and has had nothing yet.
            "another client was waiting"
        } else if idle && waited >= self.limits.keep_alive_timeout {
            "it was idle for the keep-alive timeout"
        } else if !idle && waited >= self.limits.read_timeout {
            let response = make_error_response(408, "no complete request in time");
            send_refusal(&self.stream, &response);
            return Some("the request was refused");
        } else {
            return None;
        };
        // An idle connection closes without a word: no request was made,
        // so none is answered (RFC 9112, section 9.5). Nothing of ours is in
        // flight and nothing of the client's unread, so there is nothing
        // to linger for: shut both ways now, and the lingering close in
        // `run` returns at once, freeing the worker.
        let _ = self.stream.shutdown(Shutdown::Both);
        Some(reason)
        // STARTER end
    }
    // ANCHOR_END: stop_waiting

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
                    send_refusal(&self.stream, &response);
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
                send_continue(&self.stream);
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
        } else if self.pool.is_shutting_down() {
            Some("the server is shutting down")
        } else if self.pool.others_waiting() {
            // The worker goes to the client that waits, and this one
            // connects again, to wait its turn.
            Some("another client was waiting")
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
                send_refusal(&self.stream, &make_error_response(400, &error.to_string()));
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
        // here and answered `500`. Without it, the panic would end this
        // thread with no answer sent, and the client would see the
        // connection reset: the original's fate for any error in a thread.
        // (`catch_unwind` wants code that leaves nothing half-changed when
        // it panics; `AssertUnwindSafe` says we accept the risk, as we only
        // send an error and the next request gets the application as is.)
        let answer = panic::catch_unwind(AssertUnwindSafe(|| self.app.call(request)));
        let response = answer.unwrap_or_else(|_| {
            log!("The application panicked.");
            internal_error()
        });
        match self
            .stream
            .write_all(&to_bytes(response, head_only, connection))
        {
            Ok(()) => log!(
                "Response sent (request {} of this connection).",
                self.requests
            ),
            Err(error) => {
                log!("Could not send the response: {error}.");
                return Some("a write failed");
            }
        }
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

/// Sends the interim `100 Continue`: the client may send the body now.
fn send_continue(stream: &TcpStream) {
    match (&*stream).write_all(CONTINUE) {
        Ok(()) => log!("Sent 100 Continue."),
        Err(error) => log!("Could not send 100 Continue: {error}."),
    }
}

/// Sends the answer to a request we refuse, such as `400 Bad Request`.
fn send_refusal(stream: &TcpStream, response: &[u8]) {
    // The status line, for the log: everything before the first "\r\n".
    let status_line = response.split(|&b| b == b'\r').next().unwrap_or_default();
    match (&*stream).write_all(response) {
        Ok(()) => log!("Refused: {}", status_line.escape_ascii()),
        Err(error) => log!("Could not send the refusal: {error}."),
    }
}

/// Whether a read failed because the read timeout passed. (Linux reports it
/// as `WouldBlock`, Windows as `TimedOut`.)
fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

#[cfg(test)]
mod server_tests;
