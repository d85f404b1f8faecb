//! The same learner's keep-alive server, as async functions on tokio in
//! place of event loops written by hand, as part 12 teaches: one task per
//! connection, written as plainly as a thread's session, and a runtime
//! that runs thousands of them on a few threads.
//!
//! A task is a future that tokio polls (Python's `asyncio.create_task`):
//! at each `.await` that cannot finish yet (a read with nothing to read, a
//! write the socket cannot take, a timer), the task gives its thread back
//! to the runtime, which runs another task meanwhile. `--workers` threads
//! run every task. A task waits until its socket is readable before it
//! makes room for what comes, so an idle connection holds no buffer; it
//! answers every whole request of what it read, in order, and writes those
//! answers in one `write_all`, reading nothing meanwhile (backpressure: a
//! client that never reads its answers stalls only its own task).
//!
//! Every wait has a timer around it (`tokio::time::timeout`, Python's
//! `asyncio.wait_for`): a request that stalls `--read-timeout` gets `408`,
//! a kept connection idle for `--keep-alive-timeout` is closed without a
//! word, and so is a client that takes none of its answers for
//! `--read-timeout`. A semaphore of `--max-connections` places bounds
//! what the server holds (as mini-redis does): one more is answered `503`
//! at once, and closed.
//!
//! On SIGINT or SIGTERM it stops accepting, cancels a token that every
//! task watches while it waits for a request (those close at once), lets
//! requests in progress finish, saying `Connection: close`, and waits up
//! to `--shutdown-timeout` for every place to come back; then the process
//! ends, with status 0.
//!
//! The application is part 8's, and `GET /sleep?ms=N`, whose handler
//! waits N ms (1000 by default) before it answers `Slept N ms`. Each
//! example of part 12 swaps one step out through [`Steps`]: how that
//! handler waits.

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, timeout};
use tokio_util::sync::CancellationToken;

use super::keep_alive::{self, Answer, Connection, Front, KeepAliveOptions, Request};
use super::pool::connections;

/// How many bytes a task makes room for before each read.
const READ_SIZE: usize = 16 * 1024;

/// The lingering close (see [`super::linger`]): at most [`LINGER_FOR`]
/// in all, and over once the client is quiet for [`LINGER_QUIET`].
const LINGER_FOR: Duration = Duration::from_secs(2);
const LINGER_QUIET: Duration = Duration::from_millis(500);

/// The longest `GET /sleep` waits, whatever `?ms=` says.
const SLEEP_AT_MOST: u64 = 10_000;

/// The command line of a part 12 server: part 11's.
#[derive(Parser)]
pub struct AsyncOptions {
    /// `--port`, `--read-timeout`, `--keep-alive-timeout`, `--max-requests`.
    #[command(flatten)]
    pub earlier: KeepAliveOptions,
    /// How many threads run the tasks: by default, one per core.
    #[arg(long, value_name = "N", default_value_t = cores())]
    pub workers: usize,
    /// How many connections the server holds at once; one more is
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
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// What a handler's wait is: a future to `.await`, boxed so that a plain
/// `fn` can return one (Python's coroutine object).
pub type Pause = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The steps of the async server. Plain functions, so `Steps` is `Copy`:
/// each task gets a copy of its own.
#[derive(Clone, Copy)]
pub struct Steps {
    /// How `GET /sleep` waits its `?ms=`, inside the async handler.
    pub wait: fn(Duration) -> Pause,
}

/// Every step done right.
pub const RIGHT: Steps = Steps { wait: await_timer };

/// The right `wait`: tokio's timer (Python's `await asyncio.sleep(…)`),
/// which hands the thread back to the runtime until it fires.
pub fn await_timer(duration: Duration) -> Pause {
    Box::pin(tokio::time::sleep(duration))
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

/// Serves part 8's application and `/sleep` with `steps`, on tokio's
/// runtime, until SIGINT or SIGTERM.
pub fn serve(steps: Steps) -> io::Result<()> {
    let options = AsyncOptions::parse();
    super::set_quiet(options.quiet);
    // `--workers` threads run the tasks; this one, in `block_on`, accepts.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.workers.max(1))
        .enable_all()
        .build()?;
    runtime.block_on(accept_until_stopped(options, steps))
}

/// Binds, then accepts connections and starts a task for each, until the
/// signal; then shuts down.
async fn accept_until_stopped(options: AsyncOptions, steps: Steps) -> io::Result<()> {
    let keep_alive = &options.earlier;
    // A `SocketAddr`, not a name: nothing to look up, on no thread.
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, keep_alive.earlier.port));
    let listener = TcpListener::bind(address).await?;
    let limits = Limits {
        read_timeout: Duration::from_secs(keep_alive.earlier.read_timeout.max(1)),
        keep_alive_timeout: Duration::from_secs(keep_alive.keep_alive_timeout.max(1)),
        max_requests: keep_alive.max_requests.max(1),
    };
    let max_connections = options.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let places = Arc::new(Semaphore::new(max_connections));
    let stopping = CancellationToken::new();
    let mut signal = Box::pin(shutdown_signal());
    println!("Listening on {}", listener.local_addr()?);
    let mut number = 0;
    loop {
        // Whichever comes first (Python's `asyncio.wait(…,
        // return_when=FIRST_COMPLETED)`): a client, or the signal.
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut signal => break,
        };
        let Ok((stream, client)) = accepted else {
            // Out of file descriptors, say: a moment's rest, not a spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        log!("Socket established with {client}.");
        let Ok(place) = Arc::clone(&places).try_acquire_owned() else {
            tokio::spawn(refuse(stream, client));
            continue;
        };
        number += 1;
        let stopping = stopping.clone();
        tokio::spawn(connection(
            stream, client, number, place, steps, limits, stopping,
        ));
    }
    drop(listener);
    log!("Shutting down: no longer accepting connections.");
    stopping.cancel();
    let open = max_connections - places.available_permits();
    let seconds = options.shutdown_timeout;
    log!(
        "Waiting up to {seconds} s for {} to finish.",
        connections(open)
    );
    // Every place back means every connection closed.
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    let waited = timeout(Duration::from_secs(seconds), places.acquire_many(all)).await;
    if waited.is_ok() {
        log!("Shut down: every connection finished.");
    } else {
        let left = max_connections - places.available_permits();
        log!(
            "Shut down: cut off {} after the {seconds} s shutdown timeout.",
            connections(left)
        );
    }
    Ok(())
}

/// Ends at SIGINT (Ctrl-C), or SIGTERM on Unix.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Answers `503` at once and closes: the client may try again in a second
/// (`Retry-After`, RFC 9110, section 10.2.3).
async fn refuse(mut stream: TcpStream, client: SocketAddr) {
    log!("Refused {client}: the server holds --max-connections connections.");
    let body = "The server is full; try again in a second.\n";
    let answer = format!(
        "HTTP/1.1 503 {}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{body}",
        super::reason(503),
        body.len()
    );
    // Read what the client sent so far, without waiting: closing with
    // bytes unread sends a reset, which can wipe out the answer.
    let mut scratch = vec![0; READ_SIZE];
    while matches!(stream.try_read(&mut scratch), Ok(n) if n > 0) {}
    let written = timeout(LINGER_FOR, stream.write_all(answer.as_bytes())).await;
    if matches!(written, Ok(Ok(()))) {
        linger(&mut stream).await;
    }
    log!("Socket with {client} closed: the server was full.");
}

/// One connection's task: serves it, closes it, and gives its place back
/// (dropping `place` does).
async fn connection(
    mut stream: TcpStream,
    client: SocketAddr,
    number: usize,
    place: OwnedSemaphorePermit,
    steps: Steps,
    limits: Limits,
    stopping: CancellationToken,
) {
    log!("Task {number} serves {client}.");
    let reason = session(&mut stream, &steps, &limits, &stopping).await;
    // Dropping the stream closes the socket (Python's `sock.close()`).
    drop(stream);
    log!("Socket with {client} closed: {reason}.");
    drop(place);
}

/// Serves requests on one connection until it should close, as part 9's
/// session does, and says why it closes.
async fn session(
    stream: &mut TcpStream,
    steps: &Steps,
    limits: &Limits,
    stopping: &CancellationToken,
) -> CloseReason {
    let mut received = Vec::new();
    let mut answered = 0;
    let mut continued = false;
    loop {
        // Between requests the keep-alive timeout runs, within one the
        // read timeout (the first request has the read timeout too).
        let idle = received.is_empty() && answered > 0;
        let limit = if idle {
            limits.keep_alive_timeout
        } else {
            limits.read_timeout
        };
        // Wait until there is something to read, holding no buffer; a
        // connection with no request begun closes at the shutdown.
        let ready = tokio::select! {
            ready = timeout(limit, stream.readable()) => ready,
            _ = stopping.cancelled(), if received.is_empty() => {
                return "the server is shutting down";
            }
        };
        match ready {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return "a read failed",
            Err(_) if idle => return "it was idle for the keep-alive timeout",
            Err(_) => {
                let answer = Answer::text(408, "Too slow.");
                return close_after(
                    stream,
                    &keep_alive::answer_bytes(&answer, Connection::Close),
                )
                .await
                .unwrap_or("the request was refused");
            }
        }
        // Room for what came, then a read that never waits: readiness
        // can be stale, and `WouldBlock` then says "wait again".
        let before = received.len();
        received.reserve(READ_SIZE);
        match stream.try_read_buf(&mut received) {
            Ok(0) if received.is_empty() => return "the client closed it",
            Ok(0) => return "the client left in the middle of a request",
            Ok(_) => log!("Received b'{}'", received[before..].escape_ascii()),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
            Err(_) => return "a read failed",
        }
        // Every whole request at the front is answered, in order; their
        // answers go out together, in one write.
        let mut output = Vec::new();
        let mut closing = None;
        while closing.is_none() {
            match keep_alive::front(&keep_alive::RIGHT, &mut received) {
                Front::Whole(request, length) => {
                    received.drain(..length);
                    continued = false;
                    answered += 1;
                    let answer = app(&request, steps).await;
                    closing = why_close(&request, answered, limits, stopping);
                    let said = if closing.is_some() {
                        Connection::Close
                    } else {
                        keep_alive::persistence(&request.head)
                    };
                    output.extend(keep_alive::answer_bytes(&answer, said));
                    log!("Response sent (request {answered} of this connection).");
                }
                Front::Refused((status, why)) => {
                    // Nothing after a request we cannot read can be
                    // trusted to start where we think: it is dropped.
                    answered += 1;
                    let answer = Answer::text(status, why);
                    output.extend(keep_alive::answer_bytes(&answer, Connection::Close));
                    log!("Response sent (request {answered} of this connection).");
                    closing = Some("the request was refused");
                }
                Front::Partial(head) => {
                    // "Go on, send the body", after the answers before it.
                    if head.is_some_and(|head| head.expects_continue) && !continued {
                        output.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                        continued = true;
                    }
                    break;
                }
            }
        }
        if received.is_empty() {
            received = Vec::new(); // An idle connection holds no buffer.
        }
        if let Some(reason) = closing {
            return close_after(stream, &output).await.unwrap_or(reason);
        }
        if let Err(reason) = write_out(stream, &output, limits.read_timeout).await {
            return reason;
        }
    }
}

/// Writes `output` whole, within `patience` (the read timeout): a client
/// that takes none of its answers for that long is given up.
async fn write_out(
    stream: &mut TcpStream,
    output: &[u8],
    patience: Duration,
) -> Result<(), CloseReason> {
    match timeout(patience, stream.write_all(output)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err("a write failed"),
        Err(_) => Err("the client took no answer for the read timeout"),
    }
}

/// Writes the last `output` (within [`LINGER_FOR`]), then closes gently;
/// `Some` reason when the write did not go out.
async fn close_after(stream: &mut TcpStream, output: &[u8]) -> Option<CloseReason> {
    if let Err(reason) = write_out(stream, output, LINGER_FOR).await {
        return Some(reason);
    }
    linger(stream).await;
    None
}

/// The lingering close: says "no more", then reads, and drops, what the
/// client still sends, until it closes too, or is quiet for
/// [`LINGER_QUIET`], for [`LINGER_FOR`] at most.
async fn linger(stream: &mut TcpStream) {
    let _ = stream.shutdown().await;
    let until = Instant::now() + LINGER_FOR;
    let mut scratch = vec![0; READ_SIZE];
    while Instant::now() < until {
        let quiet = LINGER_QUIET.min(until - Instant::now());
        let read = timeout(quiet, stream.read(&mut scratch)).await;
        if !matches!(read, Ok(Ok(n)) if n > 0) {
            return;
        }
    }
}

/// Whether to close after answering `request`, the `answered`th of its
/// connection, and why.
fn why_close(
    request: &Request,
    answered: usize,
    limits: &Limits,
    stopping: &CancellationToken,
) -> Option<CloseReason> {
    if keep_alive::persistence(&request.head) == Connection::Close {
        Some("the client asked to close")
    } else if answered >= limits.max_requests {
        Some("it served --max-requests requests")
    } else if stopping.is_cancelled() {
        Some("the server is shutting down")
    } else {
        None
    }
}

/// The application: `GET /sleep?ms=N`, which waits (by `steps.wait`)
/// before it answers, and part 8's routes for the rest. An `async fn`:
/// calling it makes a future, and `.await` runs it.
async fn app(request: &Request, steps: &Steps) -> Answer {
    let head = &request.head;
    let (path, query) = head.url.split_once('?').unwrap_or((&head.url, ""));
    if head.method != "GET" || path != "/sleep" {
        return keep_alive::app(request);
    }
    let ms = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("ms="))
        .and_then(|ms| ms.parse::<u64>().ok())
        .unwrap_or(1000)
        .min(SLEEP_AT_MOST);
    (steps.wait)(Duration::from_millis(ms)).await;
    Answer::text(200, &format!("Slept {ms} ms\n"))
}
