//! A learner's server, written the straightforward way, for the `broken-*`
//! and `correct-*` examples. Each `broken-*` one is this server with one
//! step done wrong, and a comment naming the flaw; everything else here
//! passes every check, so that `stage-check` has one thing to find. Each
//! `correct-*` one does a step differently from our stages, in a way HTTP
//! allows, and must pass every check all the same. (It is not a stage: the
//! stages are the crates `part4-tcp-echo` and on. This is "someone else's
//! server".)
//!
//! The HTTP server reads a request in steps, and each example swaps one of
//! them out through [`Steps`]: receive bytes, tell how long the body is and
//! whether the request is complete, answer a bad request, answer
//! `Expect: 100-continue`, write a response.
//!
//! Its submodule [`keep_alive`] serves many requests on one connection, as
//! part 9 does, for the examples of that stage; [`pool`] serves them with a
//! fixed pool of threads, as part 10 does; [`event_loop`] with a few event
//! loops, each serving many connections without waiting on any, as part 11
//! does; [`async_server`] with a task per connection on tokio, as part 12
//! does.

// Each example uses a part of this module; the rest is unused there.
#![allow(dead_code)]

/// Prints a log line, as `println!` does, unless the server was started
/// with `--quiet` (part 11's option). Defined before the submodules, so
/// that they can use it too: a macro is known below where it is written.
macro_rules! log {
    ($($arg:tt)*) => {
        if !$crate::learner::is_quiet() {
            println!($($arg)*);
        }
    };
}

pub mod async_server;
pub mod event_loop;
pub mod keep_alive;
pub mod pool;

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;

/// The page every request gets.
const PAGE: &[u8] = b"<html><body>Hello World</body></html>";

/// How many bytes one read takes, like the post's `recv(1024)`.
const READ_SIZE: usize = 1024;

/// The largest head and body this server reads.
const MAX_HEAD: usize = 8 * 1024;
const MAX_BODY: usize = 1024 * 1024;

/// No connection is served longer than this, whatever a step does wrong.
pub const SESSION_LIMIT: Duration = Duration::from_secs(60);

/// Set by `--quiet`: no log lines but `Listening on`. (A global, like a
/// Python module's variable; an atomic, so that every thread may read it.)
static QUIET: AtomicBool = AtomicBool::new(false);

/// Turns the log lines off, or on.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether the log lines are off.
pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// The command line: `--port` and `--read-timeout`, as the stages take them.
#[derive(Parser)]
pub struct Options {
    /// The port to listen on, on 127.0.0.1.
    #[arg(long, default_value_t = 5000)]
    pub port: u16,
    /// Give up on a client that sends nothing for this long.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub read_timeout: u64,
}

/// Binds 127.0.0.1 on the port the command line says.
pub fn listen() -> io::Result<(TcpListener, Duration)> {
    let options = Options::parse();
    let listener = TcpListener::bind(("127.0.0.1", options.port))?;
    Ok((listener, Duration::from_secs(options.read_timeout.max(1))))
}

/// The steps of reading and answering a request. All are plain functions,
/// so `Steps` is `Copy`: each connection's thread gets a copy of its own.
#[derive(Clone, Copy)]
pub struct Steps {
    /// Reads once from the client into `received`. `Ok(false)` when the
    /// client has closed its side.
    pub receive: fn(&mut TcpStream, &mut Vec<u8>) -> io::Result<bool>,
    /// How long the body is, from the head's `Content-Length` values and
    /// its `Transfer-Encoding`, if any; a status and a reason when the
    /// server cannot tell.
    pub body_length: fn(lengths: &[String], encoding: Option<&str>) -> Result<usize, Refusal>,
    /// Whether the request is complete, given where its head ends, its
    /// `Content-Length`, and how many bytes came in all.
    pub complete: fn(head_length: usize, content_length: usize, received: usize) -> bool,
    /// Answers a request that cannot be read, with `status` and `why`.
    pub refuse: fn(&Steps, &mut TcpStream, u16, &str) -> io::Result<()>,
    /// Answers a client that sent `Expect: 100-continue` and waits before
    /// it sends the body; says whether to read the body or stop there.
    pub expect_continue: fn(&Steps, &mut TcpStream) -> io::Result<Then>,
    /// Writes a response.
    pub write_response: fn(&mut TcpStream, &Response) -> io::Result<()>,
}

/// A request refused: the status to answer with, and why.
pub type Refusal = (u16, &'static str);

/// What to do after answering `Expect: 100-continue`.
pub enum Then {
    /// Read the body, then answer the request.
    ReadBody,
    /// Nothing more: the final answer is sent.
    Stop,
}

/// A response to write.
pub struct Response<'a> {
    pub status: u16,
    pub body: &'a [u8],
    /// Leave the body out (the answer to `HEAD`), but still say its length.
    pub head_only: bool,
}

impl Response<'_> {
    /// A response with `body` in full.
    pub fn new(status: u16, body: &[u8]) -> Response<'_> {
        Response {
            status,
            body,
            head_only: false,
        }
    }
}

/// Every step done right.
pub const RIGHT: Steps = Steps {
    receive,
    body_length,
    complete,
    refuse,
    expect_continue,
    write_response,
};

/// Serves HTTP with `steps`, a thread per client, until stopped.
pub fn serve_http(steps: Steps) -> io::Result<()> {
    let (listener, read_timeout) = listen()?;
    serve_http_on(listener, read_timeout, steps)
}

/// The same, on a `listener` already bound, for an example that reads its
/// command line its own way.
pub fn serve_http_on(
    listener: TcpListener,
    read_timeout: Duration,
    steps: Steps,
) -> io::Result<()> {
    println!("Listening on {}", listener.local_addr()?);
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        thread::spawn(move || connection(stream, read_timeout, |stream| session(&steps, stream)));
    }
    Ok(())
}

/// Runs `serve` on one client's connection, between the post's log lines.
pub fn connection(
    mut stream: TcpStream,
    read_timeout: Duration,
    serve: impl FnOnce(&mut TcpStream) -> io::Result<()>,
) {
    let Ok(address) = stream.peer_addr() else {
        return;
    };
    log!("Socket established with {address}.");
    if stream.set_read_timeout(Some(read_timeout)).is_ok() && serve(&mut stream).is_ok() {
        linger(&stream);
    }
    log!("Socket with {address} closed.");
}

/// The echo of part 4: every message straight back, until the client closes.
pub fn echo(stream: &mut TcpStream) -> io::Result<()> {
    let started = Instant::now();
    let mut buffer = [0u8; READ_SIZE];
    while started.elapsed() < SESSION_LIMIT {
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        log!("Received b'{}'", buffer[..n].escape_ascii());
        stream.write_all(&buffer[..n])?;
    }
    Ok(())
}

/// Reads one request and answers it.
fn session(steps: &Steps, stream: &mut TcpStream) -> io::Result<()> {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut head_length = None;
    let mut request = None;
    while started.elapsed() < SESSION_LIMIT {
        match (steps.receive)(stream, &mut received) {
            Ok(true) => {}
            Ok(false) => return Ok(()), // The client left: nothing to answer.
            Err(error) if is_timeout(&error) => {
                return (steps.write_response)(stream, &Response::new(408, b"Too slow."));
            }
            Err(error) => return Err(error),
        }
        if head_length.is_none() {
            head_length = find(&received, b"\r\n\r\n").map(|end| end + 4);
            if head_length.is_none() && received.len() > MAX_HEAD {
                return (steps.write_response)(stream, &Response::new(431, b"Head too large."));
            }
            if let Some(length) = head_length {
                let parsed = match parse_head(steps, &received[..length]) {
                    Ok(parsed) => parsed,
                    Err((status, why)) => return (steps.refuse)(steps, stream, status, why),
                };
                if parsed.content_length > MAX_BODY {
                    return (steps.write_response)(stream, &Response::new(413, b"Body too large."));
                }
                let body_due = received.len() < length + parsed.content_length;
                if parsed.expects_continue && body_due {
                    match (steps.expect_continue)(steps, stream)? {
                        Then::ReadBody => {}
                        Then::Stop => return Ok(()),
                    }
                }
                request = Some(parsed);
            }
        }
        let Some((length, request)) = head_length.zip(request.as_ref()) else {
            continue;
        };
        if (steps.complete)(length, request.content_length, received.len()) {
            log!("Received request completely.");
            (steps.write_response)(stream, &page(request.method == "HEAD"))?;
            log!("Response sent.");
            return Ok(());
        }
    }
    Ok(())
}

/// The right `receive`: a read of zero bytes means the client closed.
pub fn receive(stream: &mut TcpStream, received: &mut Vec<u8>) -> io::Result<bool> {
    let mut buffer = [0u8; READ_SIZE];
    let n = stream.read(&mut buffer)?;
    if n > 0 {
        log!("Received b'{}'", buffer[..n].escape_ascii());
    }
    received.extend_from_slice(&buffer[..n]);
    Ok(n > 0)
}

fn complete(head_length: usize, content_length: usize, received: usize) -> bool {
    received >= head_length + content_length
}

pub fn refuse(steps: &Steps, stream: &mut TcpStream, status: u16, why: &str) -> io::Result<()> {
    (steps.write_response)(stream, &Response::new(status, why.as_bytes()))
}

/// The right answer to `Expect: 100-continue`: "go on, send the body".
fn expect_continue(_: &Steps, stream: &mut TcpStream) -> io::Result<Then> {
    stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    Ok(Then::ReadBody)
}

/// The page every request gets, as a response; only its head for `HEAD`.
pub fn page(head_only: bool) -> Response<'static> {
    Response {
        status: 200,
        body: PAGE,
        head_only,
    }
}

pub fn write_response(stream: &mut TcpStream, response: &Response) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        response.status,
        reason(response.status),
        response.body.len()
    );
    stream.write_all(head.as_bytes())?;
    if !response.head_only {
        stream.write_all(response.body)?;
    }
    Ok(())
}

/// The reason phrase of a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        417 => "Expectation Failed",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// What the server needs to know of a request's head.
pub struct Head {
    pub method: String,
    /// The request target, `/index.html?x=1`.
    pub url: String,
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: String,
    pub content_length: usize,
    pub expects_continue: bool,
    /// The tokens of its `Connection` headers, in lowercase: `close`,
    /// `keep-alive`… (a list, in any case: RFC 9110, section 7.6.1).
    pub connection: Vec<String>,
    pub content_type: Option<String>,
}

/// Why a request with both `Content-Length` and `Transfer-Encoding` is
/// refused: the two could disagree on where it ends.
pub const BOTH_LENGTHS: &str = "Content-Length and Transfer-Encoding together.";

/// Reads a head, ended by its empty line, and logs its parts as the post
/// does; a status and a reason when it is not a request we can serve.
fn parse_head(steps: &Steps, head: &[u8]) -> Result<Head, Refusal> {
    let text = std::str::from_utf8(head).map_err(|_| (400, "The head is not text."))?;
    let mut lines = text.trim_end_matches("\r\n").split("\r\n");
    let request_line: Vec<&str> = lines.next().unwrap_or_default().split(' ').collect();
    let [method, url, version] = request_line[..] else {
        return Err((400, "A request line has three parts."));
    };
    let version_ok = version.len() == 8 && version.starts_with("HTTP/1.");
    if !is_token(method) || url.is_empty() || !version_ok {
        return Err((400, "Bad request line."));
    }
    log!("Received url: b'{url}'");
    let mut parsed = Head {
        method: method.to_string(),
        url: url.to_string(),
        version: version.to_string(),
        content_length: 0,
        expects_continue: false,
        connection: Vec::new(),
        content_type: None,
    };
    let mut lengths = Vec::new();
    let mut encoding = None;
    let mut hosts = 0;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err((400, "A header line is `Name: value`."));
        };
        if !is_token(name) {
            return Err((400, "Bad header name."));
        }
        let value = value.trim();
        log!("Received header: (b'{name}', b'{value}')");
        match name.to_ascii_lowercase().as_str() {
            "content-length" => lengths.push(value.to_string()),
            "transfer-encoding" => encoding = Some(value),
            "host" => hosts += 1,
            "expect" => parsed.expects_continue = value.eq_ignore_ascii_case("100-continue"),
            "connection" => parsed.connection.extend(
                value
                    .split(',')
                    .map(|token| token.trim().to_ascii_lowercase())
                    .filter(|token| !token.is_empty()),
            ),
            "content-type" => parsed.content_type = Some(value.to_string()),
            _ => {}
        }
    }
    // HTTP/1.1 requires exactly one Host (RFC 9112, section 3.2).
    if hosts > 1 || (hosts == 0 && version == "HTTP/1.1") {
        return Err((400, "One Host header, please."));
    }
    if !lengths.is_empty() && encoding.is_some() {
        return Err((400, BOTH_LENGTHS));
    }
    parsed.content_length = (steps.body_length)(&lengths, encoding)?;
    Ok(parsed)
}

/// The right `body_length`: by `Content-Length`, all its values alike; a
/// body in any `Transfer-Encoding` (chunks), which this server does not
/// read, refused with 501.
pub fn body_length(lengths: &[String], encoding: Option<&str>) -> Result<usize, Refusal> {
    if let Some(first) = lengths.first() {
        let digits = !first.is_empty() && first.bytes().all(|b| b.is_ascii_digit());
        if !digits || lengths.iter().any(|other| other != first) {
            return Err((400, "Bad Content-Length."));
        }
        first.parse().map_err(|_| (400, "Content-Length too long."))
    } else if encoding.is_some() {
        Err((501, "Chunked bodies are not read here."))
    } else {
        Ok(0)
    }
}

/// Whether `text` is an HTTP token: a method, or a header name.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Where `pattern` first occurs in `bytes`.
fn find(bytes: &[u8], pattern: &[u8]) -> Option<usize> {
    bytes.windows(pattern.len()).position(|w| w == pattern)
}

fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Closes after an answer so that the client gets all of it: says "no more"
/// first, then reads what the client still sends, for at most a second
/// (closing with unread bytes would send a reset, which can wipe out the
/// answer on the client's side).
fn linger(stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let until = Instant::now() + Duration::from_secs(1);
    let mut scratch = [0u8; READ_SIZE];
    while Instant::now() < until && matches!((&*stream).read(&mut scratch), Ok(n) if n > 0) {}
}
