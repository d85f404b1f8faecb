//! # Part 12: async
//!
//! Part 11's server written as async functions on tokio, with part 11's
//! behaviour: the limits, keep-alive, pipelining, backpressure, the
//! shutdown, the log. Where part 11 kept each connection's state in an
//! `enum` and moved it on, a turn at a time, here each connection is one
//! task, an `async fn` that reads as plainly as part 10's blocking loop:
//! the compiler turns it into the state machine, and tokio's runtime is
//! the loop that polls it.
//! `diff -ru part11-event-loop part12-async` shows the lesson.
//!
//! **What this stage adds:** a task per connection (`Session::run`); a
//! timer bounding every wait; a shutdown with a cancellation
//! token and a task tracker (`shut_down`); and an asynchronous application
//! interface, the ASGI step: `Application::call` returns a future, and the
//! framework takes `async fn` handlers next to plain ones (`GET /sleep`
//! waits without blocking anyone).
//!
//! **What it keeps simple, on purpose:** no chunked request bodies
//! (answered `501`, then closed); a handler that blocks its thread (rather
//! than await) still stalls the others of that thread.
//!
//! Run it and poke it:
//!
//! ```text
//! cargo run -p part12-async
//! curl -v localhost:5000/sleep localhost:5000/index.html
//! ```
//!
//! Then press Ctrl-C, and read the log of the shutdown.

use std::future::poll_fn;
use std::io;
use std::mem::MaybeUninit;
use std::net::{SocketAddr, ToSocketAddrs};
use std::panic::AssertUnwindSafe;
use std::pin::{Pin, pin};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Poll, ready};
use std::thread;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use common::close::{LINGER_IDLE, LINGER_TOTAL};
use common::log;
use common::log::PyBytes;
use common::response::{
    CONTINUE, make_error_response, make_response_head_with_connection,
    make_response_with_connection,
};
use futures_util::FutureExt;
use http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use http::{HeaderValue, Method, Response, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep, sleep, timeout};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
// The parser is this package's library (`src/lib.rs`), used the way any
// other crate would use it. Part 5's wraps httparse, part 6's is our own:
// between those two, this line was all the server code that changed. From
// part 7 on the parser is lent the request to fill, so the server's code
// around it changes too.
use part12_async::HttpRequestParser;
use part12_async::application::{Application, Connection};

mod app;
mod http_request;
use http_request::HttpRequest;

/// Why a connection ends: the last words of its log line.
type CloseReason = &'static str;

/// How many bytes one read takes from the socket, at most. The buffer is on
/// the stack of the read: a connection keeps only the bytes that came, and
/// waiting for its next request, holds none.
const READ_SIZE: usize = 16 * 1024;

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
    /// How many threads run the connections' tasks [default: the number of cores].
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
    /// How the threads share the connections.
    #[arg(long, value_enum, default_value_t = Runtime::MultiThread)]
    runtime: Runtime,
}

/// The two ways tokio's threads can share the connections, which the book
/// measures side by side.
#[derive(Clone, Copy, ValueEnum)]
enum Runtime {
    /// One runtime of `--workers` threads, which take tasks from each other
    /// when idle (work stealing); one listening socket.
    MultiThread,
    /// One single-threaded runtime per thread, each with a listening socket
    /// of its own on the same port (`SO_REUSEPORT`): a task never moves.
    PerCore,
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
    let address = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addresses| addresses.next())
        .with_context(|| {
            format!(
                "failed to bind {}:{}: no such address",
                args.host, args.port
            )
        })?;
    // ANCHOR: choose_app
    // The application this server runs: any `Application` will do. `Arc`
    // ("atomically reference counted") lets every task share the one
    // application, and frees it when the last one is done.
    let app: Arc<dyn Application> = Arc::new(app::app());
    // ANCHOR_END: choose_app
    let limits = Limits {
        read_timeout: Duration::from_secs(args.read_timeout),
        keep_alive_timeout: Duration::from_secs(args.keep_alive_timeout),
        max_requests: args.max_requests,
    };
    // As many threads as cores, by default: one thread keeps one core busy.
    let workers = match args.workers {
        Some(workers) => workers as usize,
        None => thread::available_parallelism().map_or(1, |cores| cores.get()),
    };
    let shared = Shared::new(app, limits, args.max_connections as usize);
    let timeout = Duration::from_secs(args.shutdown_timeout);
    match args.runtime {
        Runtime::MultiThread => multi_thread(address, workers, &shared, timeout),
        Runtime::PerCore => per_core(address, workers, &shared, timeout),
    }
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

// ANCHOR: shared
/// What every task shares: the application and the limits, the shutdown's
/// token and the tracker of the connections' tasks, and the places left
/// under `--max-connections`.
struct Shared {
    app: Arc<dyn Application>,
    limits: Limits,
    /// Cancelled on Ctrl-C or SIGTERM: every task that waits for it wakes.
    shutdown: CancellationToken,
    /// Every connection's task, so that the shutdown can wait for them.
    tasks: TaskTracker,
    /// One permit per connection: a task holds one while it runs, and
    /// gives it back when it ends, however it ends.
    places: Arc<Semaphore>,
    max_connections: usize,
    /// How many connections were accepted: the `N` of `Task N serves …`.
    accepted: AtomicU64,
}

impl Shared {
    fn new(app: Arc<dyn Application>, limits: Limits, max_connections: usize) -> Arc<Shared> {
        Arc::new(Shared {
            app,
            limits,
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            places: Arc::new(Semaphore::new(max_connections)),
            max_connections,
            accepted: AtomicU64::new(0),
        })
    }

    /// How many connections are open now.
    fn open(&self) -> usize {
        self.max_connections - self.places.available_permits()
    }
}
// ANCHOR_END: shared

// ANCHOR: multi_thread
/// tokio's multi-thread runtime: `workers` threads run every task, and one
/// that has nothing to do takes tasks from the others. One listening
/// socket, one task that accepts.
fn multi_thread(
    address: SocketAddr,
    workers: usize,
    shared: &Arc<Shared>,
    timeout: Duration,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .context("failed to start the runtime")?;
    runtime.block_on(async {
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("failed to bind {address}"))?;
        let signals = Signals::new()?;
        // The real address: with `--port 0` this is how to learn the port.
        // Printed once the signal handlers are ready, so that whoever reads
        // it may count on them.
        println!("Listening on {}", listener.local_addr()?);
        tokio::spawn(serve(listener, Arc::clone(shared)));
        shut_down(shared, signals, timeout).await;
        anyhow::Ok(())
    })?;
    // Whatever the shutdown timeout cut off is dropped, without waiting.
    runtime.shutdown_background();
    Ok(())
}
// ANCHOR_END: multi_thread

// ANCHOR: per_core
/// One single-threaded runtime per thread, as TechEmpower's fastest Rust
/// entries run: each thread accepts on a listening socket of its own, all
/// bound to the same port with `SO_REUSEPORT`, and the kernel spreads the
/// clients across them. A task stays on its thread for good.
fn per_core(
    address: SocketAddr,
    workers: usize,
    shared: &Arc<Shared>,
    timeout: Duration,
) -> anyhow::Result<()> {
    let mut bound = address;
    let mut listeners = Vec::new();
    for _ in 0..workers {
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(bound),
            socket2::Type::STREAM,
            None,
        )?;
        socket.set_reuse_address(true)?;
        socket.set_reuse_port(true)?;
        socket.set_nonblocking(true)?;
        socket
            .bind(&bound.into())
            .with_context(|| format!("failed to bind {bound}"))?;
        socket.listen(1024)?;
        // With `--port 0`, the others take the port the first one got.
        bound = socket
            .local_addr()?
            .as_socket()
            .context("not an IP address")?;
        listeners.push(std::net::TcpListener::from(socket));
    }
    for (id, listener) in (1..).zip(listeners) {
        let shared = Arc::clone(shared);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("failed to start a runtime")?;
        thread::Builder::new()
            .name(format!("worker {id}"))
            .spawn(move || {
                runtime.block_on(async {
                    match TcpListener::from_std(listener) {
                        Ok(listener) => serve(listener, Arc::clone(&shared)).await,
                        Err(error) => log!("Could not listen: {error}."),
                    }
                    // This thread's tasks run only while it runs them.
                    shared.tasks.wait().await;
                });
            })
            .context("failed to start the threads")?;
    }
    // The main thread's own runtime waits for the signal.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let signals = runtime.block_on(async { Signals::new() })?;
    println!("Listening on {bound}");
    runtime.block_on(shut_down(shared, signals, timeout));
    Ok(())
}
// ANCHOR_END: per_core

// ANCHOR: serve
/// Accepts clients until the server shuts down, and spawns a task for
/// each: the thread per connection of part 9, at the price of a few
/// hundred bytes.
async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        // Whichever comes first: a client, or the shutdown.
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shared.shutdown.cancelled() => return,
        };
        let (stream, address) = match accepted {
            Ok(client) => client,
            Err(error) => {
                // Such as "too many open files". Pause, rather than spin
                // through the same error, then go on serving.
                log!("Could not accept a connection: {error}.");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        log!("Socket established with {address}.");
        let Ok(place) = Arc::clone(&shared.places).try_acquire_owned() else {
            refuse_full(stream, address).await;
            continue;
        };
        let number = shared.accepted.fetch_add(1, Ordering::Relaxed) + 1;
        log!("Task {number} serves {address}.");
        let session = Session::new(stream, address, Arc::clone(&shared));
        shared.tasks.spawn(session.run(place));
    }
}
// ANCHOR_END: serve

// ANCHOR: refuse_full
/// Answers a client beyond `--max-connections`: `503 Service Unavailable`,
/// with `Retry-After` in seconds (RFC 9110, section 15.6.4), then the close.
///
/// The accepting task must not wait on a client: the answer fits in a new
/// socket's buffer (`try_write` sends it, or fails, at once), and rather
/// than linger for the client's close, we only drop what it sent already.
async fn refuse_full(mut stream: TcpStream, address: SocketAddr) {
    let body = b"503 Service Unavailable: the server holds all the connections it can, try again in a second\n";
    let headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Retry-After", "1"),
    ];
    let response = make_response_with_connection(503, &headers, body, Some("close"));
    match stream.try_write(&response) {
        Ok(n) if n == response.len() => {
            log!("Refused {address}: the server holds --max-connections connections.");
        }
        Ok(_) => log!("Could not send the whole refusal to {address}."),
        Err(error) => log!("Could not send the refusal to {address}: {error}."),
    }
    let _ = stream.shutdown().await;
    let mut scratch = [0; 1024];
    // At most a few reads: until nothing more is there (`WouldBlock`).
    for _ in 0..16 {
        if !matches!(stream.try_read(&mut scratch), Ok(n) if n > 0) {
            break;
        }
    }
    log!("Socket with {address} closed: the server was full.");
}
// ANCHOR_END: refuse_full

// ANCHOR: signals
/// Ctrl-C (SIGINT) and SIGTERM, the signal `kill`, systemd and Docker send
/// to stop a program, caught: from now on they no longer end the process,
/// they start the shutdown. (A second one finds it under way.)
struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

impl Signals {
    fn new() -> anyhow::Result<Signals> {
        let catch = |kind| signal(kind).context("failed to set up the signal handler");
        Ok(Signals {
            interrupt: catch(SignalKind::interrupt())?,
            terminate: catch(SignalKind::terminate())?,
        })
    }

    /// Waits for either, whichever comes first.
    async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
// ANCHOR_END: signals

// ANCHOR: shut_down
/// Waits for a signal, then shuts down. The token's cancel reaches every
/// task that waits for it: the accepting ones stop (their listeners close,
/// and the system refuses new clients), connections waiting for a request
/// close, and requests in progress finish, their answers saying
/// `Connection: close`. We wait for the tasks up to `timeout`; then
/// returning from `main` cuts off what is left.
async fn shut_down(shared: &Shared, mut signals: Signals, timeout: Duration) {
    // STARTER part12-async, left to the learner: "Wait for a signal; then
    // cancel `shared.shutdown`, close `shared.tasks`, log the two lines of
    // the start of the shutdown, and wait for the tasks under `timeout`,
    // logging how it ended."
    signals.recv().await;
    shared.shutdown.cancel();
    // No task is added once the tracker is closed and empty: `wait` can end.
    shared.tasks.close();
    let seconds = timeout.as_secs();
    log!("Shutting down: no longer accepting connections.");
    log!(
        "Waiting up to {seconds} s for {} to finish.",
        connections(shared.open())
    );
    match tokio::time::timeout(timeout, shared.tasks.wait()).await {
        Err(_) => log!(
            "Shut down: cut off {} after the {seconds} s shutdown timeout.",
            connections(shared.open())
        ),
        Ok(()) => log!("Shut down: every connection finished."),
    }
    // STARTER end
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
/// session counts them. From part 12 on its methods are `async`: where part
/// 11 kept a `State` to come back to, each `.await` is a place the task
/// stops, and the compiler keeps what it needs to go on from there.
struct Session {
    stream: TcpStream,
    address: SocketAddr,
    /// Both addresses of the connection, asked of the socket once: each of
    /// its requests gets a copy.
    connection: Option<Connection>,
    shared: Arc<Shared>,
    /// The shutdown's token as this connection sees it: a child of the
    /// server's, cancelled with it. Its own, so that the waits of one
    /// connection lock nothing the others share.
    shutdown: CancellationToken,
    /// The connection's one timer, moved to the deadline of each wait for
    /// the client. (A `Sleep` must not move once polled: `Box::pin` puts it
    /// at a fixed place on the heap.)
    timer: Pin<Box<Sleep>>,
    /// Answers not yet written: those to the requests of one read.
    output: Vec<u8>,
    /// How many requests this connection has carried so far.
    requests: u64,
    /// Whether bytes of a request have come that is not answered yet.
    in_request: bool,
    parser: HttpRequestParser,
    request: HttpRequest,
}

impl Session {
    fn new(stream: TcpStream, address: SocketAddr, shared: Arc<Shared>) -> Self {
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
            shutdown: shared.shutdown.child_token(),
            timer: Box::pin(sleep(shared.limits.read_timeout)),
            shared,
            output: Vec::new(),
            requests: 0,
            in_request: false,
            parser: HttpRequestParser::default(),
            request: HttpRequest::default(),
        }
    }

    // ANCHOR: run
    /// The connection's task: serves requests until the connection should
    /// close, then closes it. `place` is its permit under
    /// `--max-connections`, given back when the task ends.
    async fn run(mut self, place: OwnedSemaphorePermit) {
        // Each answer goes out at once, rather than waiting for the client
        // to acknowledge the one before (Nagle's algorithm).
        if let Err(error) = self.stream.set_nodelay(true) {
            log!(
                "Could not set up the connection to {}: {error}.",
                self.address
            );
            return;
        }
        let reason = self.serve_requests().await;
        lingering_close(self.stream).await;
        log!("Socket with {} closed: {reason}.", self.address);
        drop(place);
    }
    // ANCHOR_END: run

    // ANCHOR: serve_requests
    /// Reads, and answers, one request after another; returns why the
    /// connection should close.
    async fn serve_requests(&mut self) -> CloseReason {
        // STARTER part12-async, left to the learner: "In a loop: move
        // `self.timer` to this wait's deadline (the keep-alive timeout when
        // idle after a request, else the read timeout), then wait for
        // whichever comes first (`tokio::select!`): bytes (a `poll_fn` that
        // calls `poll_read` with a `ReadBuf` over a buffer of `READ_SIZE` on
        // its stack, and copies out what came), the timer, or, while no
        // request is in progress, the shutdown. Past the timer, close an idle
        // connection without a word, or queue a `408` and write it; 0 bytes:
        // the client closed. Then `feed` what came (awaited), `write_output`,
        // and return the close reason `feed` gave, if any."
        let limits = self.shared.limits;
        // The wait for the shutdown, made once and polled at every wait
        // (`pin!` fixes it in place, since `select!` polls it by reference):
        // it keeps its place among the token's waiters, rather than join
        // them and leave them again at each wait.
        let mut shutdown = pin!(self.shutdown.clone().cancelled_owned());
        loop {
            // Before a request's first byte, the connection waits: for its
            // first request, or idle between two; then the shutdown ends
            // the wait too. Within a request, a stall is the read timeout.
            let waiting = !self.in_request;
            let idle = waiting && self.requests > 0;
            let wait = if idle {
                limits.keep_alive_timeout
            } else {
                limits.read_timeout
            };
            // The connection's one timer, moved to this wait's deadline, as
            // part 11 moved each connection's deadline. Moving a timer later
            // is cheap; a new one for each wait would enter the runtime's
            // timer wheel, and leave it, every time.
            self.timer.as_mut().reset(Instant::now() + wait);
            // The read, as a future written by hand (`poll_fn`). Each poll
            // reads into a buffer on its own stack, which lives for that poll
            // only, and keeps a copy of just the bytes that came: the
            // connection's future holds no buffer while it waits, as in part
            // 11. (`uninit` spares zeroing the buffer first: `poll_read`
            // hands out only the bytes it read.) With no bytes there,
            // `poll_read` registers the task's `Waker` and returns `Pending`,
            // which `ready!` returns too. A read that leaves room in the
            // buffer tells tokio the socket is empty, so that the next wait
            // needs no system call to find that out. (`stream` borrows one
            // field of `self`, leaving the others free.)
            let stream = &mut self.stream;
            let read = poll_fn(|cx| -> Poll<io::Result<Vec<u8>>> {
                let mut space = [MaybeUninit::uninit(); READ_SIZE];
                let mut buffer = ReadBuf::uninit(&mut space);
                ready!(Pin::new(&mut *stream).poll_read(cx, &mut buffer))?;
                Poll::Ready(Ok(buffer.filled().to_vec()))
            });
            // Whichever comes first: the bytes, the deadline, the shutdown.
            // `biased` polls them in this order, rather than a random one:
            // bytes that came are served, and while they keep coming the
            // other two are not even asked.
            let read = tokio::select! {
                biased;
                read = read => Some(read),
                () = &mut self.timer => None,
                () = &mut shutdown, if waiting => return "the server is shutting down",
            };
            let data = match read {
                // An idle connection closes without a word: no request was
                // made, so none is answered (RFC 9112, section 9.5).
                None if idle => return "it was idle for the keep-alive timeout",
                None => {
                    let response = make_error_response(408, "no complete request in time");
                    self.send_refusal(response);
                    return match self.write_output().await {
                        Ok(()) => "the request was refused",
                        Err(reason) => reason,
                    };
                }
                Some(Err(error)) => {
                    log!("Could not read: {error}.");
                    return "a read failed";
                }
                Some(Ok(data)) => data,
            };
            let received = match data.len() {
                // Zero bytes: the client closed its side. Between requests,
                // that is how a client ends a connection.
                0 if idle => return "the client closed it",
                // Within a request, it left before the end. The original
                // keeps looping here, receiving b'' forever at full speed.
                0 => {
                    log!("Client left before the request was complete.");
                    return "the client left in the middle of a request";
                }
                _ => &data[..],
            };
            log!("Received {}", PyBytes(received));
            let closing = self.feed(received).await;
            // The answers to every request of this read, in one write. While
            // it waits for the client to take them, nothing more is read
            // from it: that is the backpressure, with no code of its own.
            if let Err(reason) = self.write_output().await {
                return reason;
            }
            if let Some(reason) = closing {
                return reason;
            }
        }
        // STARTER end
    }
    // ANCHOR_END: serve_requests

    // ANCHOR: write_output
    /// Writes the answers queued, within the read timeout.
    async fn write_output(&mut self) -> Result<(), CloseReason> {
        if self.output.is_empty() {
            return Ok(());
        }
        let read_timeout = self.shared.limits.read_timeout;
        match timeout(read_timeout, self.stream.write_all(&self.output)).await {
            // Sent: the buffer goes too, so that an idle connection holds
            // none. The next answer brings its own.
            Ok(Ok(())) => {
                self.output = Vec::new();
                Ok(())
            }
            Ok(Err(error)) => {
                log!("Could not send the response: {error}.");
                Err("a write failed")
            }
            Err(_) => Err("the client stopped reading"),
        }
    }
    // ANCHOR_END: write_output

    /// Queues `bytes` for the client; they go out with this read's write.
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
    async fn feed(&mut self, mut received: &[u8]) -> Option<CloseReason> {
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
                if let Some(reason) = self.send_response().await {
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
    async fn send_response(&mut self) -> Option<CloseReason> {
        self.requests += 1;
        // Decided before the answer is written, since the answer says it.
        // (An HTTP/1.0 client that did not ask to keep the connection asks
        // to close it, by 1.0's default.)
        let close = if !self.parser.should_keep_alive() {
            Some("the client asked to close")
        } else if self.requests >= self.shared.limits.max_requests {
            Some("it served --max-requests requests")
        } else if self.shutdown.is_cancelled() {
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
        // server knows nothing about: a panic in the application, while it
        // is called or while its future runs, is caught here and answered
        // `500`. Without it, the panic would end this task with no answer
        // sent, and the client would see the connection reset: the
        // original's fate for any error in a thread. (`catch_unwind`, the
        // `futures` crate's, does for a future what `std::panic`'s does for
        // a function; `AssertUnwindSafe` says we accept the risk, as we only
        // send an error and the next request gets the application as is.)
        let app = &self.shared.app;
        let answer = AssertUnwindSafe(async { app.call(request).await })
            .catch_unwind()
            .await;
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

// ANCHOR: lingering_close
/// The lingering close of part 5 (`common::close`), awaited: sends our
/// FIN, then reads and drops what the client still sends, until it closes,
/// goes quiet for `LINGER_IDLE`, or `LINGER_TOTAL` has passed.
async fn lingering_close(mut stream: TcpStream) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let deadline = Instant::now() + LINGER_TOTAL;
    let mut scratch = vec![0; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        match timeout(left.min(LINGER_IDLE), stream.read(&mut scratch)).await {
            Ok(Ok(n)) if n > 0 => continue,
            // The client closed its side, or went quiet, or went away: done.
            _ => return,
        }
    }
}
// ANCHOR_END: lingering_close

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
