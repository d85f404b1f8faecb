//! # Part 9: keep-alive
//!
//! Part 8's server, framework and application, with one change: a
//! connection carries one request after another, until it should close.
//! HTTP/1.1 keeps a connection open unless one side says otherwise
//! (RFC 9112, section 9.3), and every browser and curl count on it: opening
//! a connection, and a thread for it, costs more than most requests.
//! `diff -ru part8-web-framework part9-keep-alive` shows the lesson.
//!
//! **What this stage adds:** the session's loop over requests
//! (`Session::serve_requests`): the bytes after one request's end start the
//! next one, pipelined requests are answered in order, and each answer says
//! `Connection: close` exactly when the server closes after it; the
//! keep-alive timeout for an idle connection, and `--max-requests`.
//!
//! **What it keeps simple, on purpose:** still a thread per connection, so
//! that an idle connection holds a thread (the next stage's reason to
//! exist); no chunked request bodies (answered `501`, then closed).
//!
//! Run it and poke it:
//!
//! ```text
//! cargo run -p part9-keep-alive
//! curl -v localhost:5000/index.html localhost:5000/create
//! ```

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

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
use part9_keep_alive::HttpRequestParser;
use part9_keep_alive::application::{Application, Connection};

mod app;
mod http_request;
use http_request::HttpRequest;

/// How many bytes one read takes from the socket, like the post's `recv(1024)`.
const READ_SIZE: usize = 1024;

/// Why a connection ends: the last words of its log line.
type CloseReason = &'static str;

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
    // The real address: with `--port 0` this is how to learn the port.
    println!("Listening on {}", listener.local_addr()?);
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
    serve_forever(listener, limits, app);
    Ok(())
}
// ANCHOR_END: run

// ANCHOR: serve_forever
/// Accepts clients forever, each served by a thread of its own.
///
/// `TcpListener::bind` listens with a backlog of 128 connections waiting to
/// be accepted, not the original's 1, under which 20 clients at once waited
/// seconds to get in.
fn serve_forever(listener: TcpListener, limits: Limits, app: Arc<dyn Application>) {
    loop {
        let (stream, address) = match listener.accept() {
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
        // Each session gets a handle on the application: a copy of the
        // `Arc`, not of the application.
        let app = Arc::clone(&app);
        // `move` hands the stream to the new thread: from here on the thread
        // owns it, and the socket is closed when the thread is done with it.
        let spawned =
            thread::Builder::new().spawn(move || Session::new(stream, address, limits, app).run());
        if let Err(error) = spawned {
            log!("Could not start a thread for {address}: {error}.");
        }
    }
}
// ANCHOR_END: serve_forever

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
/// session counts them.
struct Session {
    stream: TcpStream,
    address: SocketAddr,
    /// Both addresses of the connection, asked of the socket once: each of
    /// its requests gets a copy.
    connection: Option<Connection>,
    limits: Limits,
    app: Arc<dyn Application>,
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
        // STARTER part9-keep-alive, left to the learner: "Loop: the
        // connection is idle once it has served a request and no byte of the
        // next has come (`self.in_request`); read with the keep-alive timeout
        // then, the read timeout otherwise. A timeout is a close without a
        // word when idle, a `408` refusal otherwise. Zero bytes: the client
        // is gone. Hand what came to `self.feed`, and stop when it says why
        // to close."
        let mut data = [0; READ_SIZE];
        loop {
            // Between two requests the connection is idle: it may wait for
            // the keep-alive timeout. Within a request, and for the first
            // one, a stall is the read timeout, as in the earlier stages.
            let idle = self.requests > 0 && !self.in_request;
            let timeout = if idle {
                self.limits.keep_alive_timeout
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
                // An idle connection times out without a word: no request
                // was made, so none is answered (RFC 9112, section 9.5).
                Err(error) if is_timeout(&error) && idle => {
                    return "it was idle for the keep-alive timeout";
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
            if let Some(reason) = self.feed(received) {
                return reason;
            }
        }
        // STARTER end
    }
    // ANCHOR_END: serve_requests

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
