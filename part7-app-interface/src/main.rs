//! # Part 7: the server meets applications through an interface
//!
//! The same server as `part6-custom-parser`, with its one page gone: what it
//! answers is now up to an *application* (`src/app.rs`), a function from a
//! request to a response that knows nothing of sockets. The server reads a
//! request into the `http` crate's `Request`, hands it to the application
//! through an interface (`src/application.rs`, the Rust form of the post's
//! WSGI), and writes the `Response` it gets back.
//! `diff -ru part6-custom-parser part7-app-interface` shows it.
//!
//! **What this stage adds:** the request collected as a value (the session
//! lends the parser the request to fill, `feed_data(data, &mut request)`),
//! the `Application` interface, the demo application, and the server's side
//! of the deal: the status line, the application's headers, the framing
//! (`Content-Length`, `Connection: close`) set by the server, the head alone
//! for `HEAD`, and a `500` when the application panics.
//!
//! **What it keeps simple, on purpose:** still one request per connection,
//! still no chunked bodies, and the whole body is read before the
//! application sees it (up to the 1 MiB limit).
//!
//! Run it and poke it:
//!
//! ```text
//! cargo run -p part7-app-interface
//! curl -i localhost:5000
//! curl -i localhost:5000/create -d 'name=Ada'
//! curl -i localhost:5000/nothing-here
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
use common::response::{CONTINUE, make_error_response, make_response, make_response_head};
use http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use http::{HeaderValue, Method, Response, StatusCode};
// The parser is this package's library (`src/lib.rs`), used the way any
// other crate would use it. Part 5's wraps httparse, part 6's is our own:
// between those two, this line was all the server code that changed. From
// part 7 on the parser is lent the request to fill, so the server's code
// around it changes too.
use part7_app_interface::HttpRequestParser;
use part7_app_interface::application::{Application, Connection};

mod app;
mod http_request;
use http_request::HttpRequest;

/// How many bytes one read takes from the socket, like the post's `recv(1024)`.
const READ_SIZE: usize = 1024;

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
}
// ANCHOR_END: args

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
    let app: Arc<dyn Application> = Arc::new(app::app);
    // ANCHOR_END: choose_app
    serve_forever(listener, Duration::from_secs(args.read_timeout), app);
    Ok(())
}
// ANCHOR_END: run

// ANCHOR: serve_forever
/// Accepts clients forever, each served by a thread of its own.
///
/// `TcpListener::bind` listens with a backlog of 128 connections waiting to
/// be accepted, not the original's 1, under which 20 clients at once waited
/// seconds to get in.
fn serve_forever(listener: TcpListener, read_timeout: Duration, app: Arc<dyn Application>) {
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
        let spawned = thread::Builder::new()
            .spawn(move || Session::new(stream, address, read_timeout, app).run());
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
/// fills in, and the application that will answer it.
struct Session {
    stream: TcpStream,
    address: SocketAddr,
    read_timeout: Duration,
    app: Arc<dyn Application>,
    response_sent: bool,
    parser: HttpRequestParser,
    request: HttpRequest,
}

impl Session {
    fn new(
        stream: TcpStream,
        address: SocketAddr,
        read_timeout: Duration,
        app: Arc<dyn Application>,
    ) -> Self {
        Session {
            stream,
            address,
            read_timeout,
            app,
            response_sent: false,
            parser: HttpRequestParser::default(),
            request: HttpRequest::default(),
        }
    }

    /// Reads one request, answers it, closes the connection. `run` takes
    /// `self` by value: the session is used up, and the stream closed, when
    /// it returns.
    fn run(mut self) {
        // STARTER part5-oo-session, left to the learner: "The closure
        // version's loop, as a method: set the timeouts, then read into a
        // buffer and feed the bytes to `self.parser` until
        // `self.response_sent`; a refusal (`ParseError`, a timeout) becomes
        // `make_error_response`, sent with `send_refusal`; answer a complete
        // request with `self.send_response()`, an `Expect: 100-continue` with
        // `send_continue`; stop when the client leaves. Then `lingering_close`
        // the stream and log `Socket with … closed.`"
        // A client that goes quiet must not hold this thread forever: a read
        // or a write that waits longer than this fails with a timeout error.
        let timeouts = self
            .stream
            .set_read_timeout(Some(self.read_timeout))
            .and_then(|()| self.stream.set_write_timeout(Some(self.read_timeout)));
        if let Err(error) = timeouts {
            log!("Could not set timeouts for {}: {error}.", self.address);
            return;
        }

        let mut data = [0; READ_SIZE];
        // Set when the request is refused: the error answer to send.
        let mut refusal = None;
        loop {
            if self.response_sent {
                break;
            }
            // Where Python raises an exception, Rust's `read` returns a
            // `Result`, which we must look at: `Ok(n)` bytes, or `Err(why)`.
            let received = match self.stream.read(&mut data) {
                // Zero bytes: the client closed its side before the request
                // was complete. The original keeps looping here, receiving
                // b'' forever at full speed; we stop.
                Ok(0) => {
                    log!("Client left before the request was complete.");
                    break;
                }
                Ok(n) => &data[..n],
                Err(error) if is_timeout(&error) => {
                    refusal = Some(make_error_response(408, "no complete request in time"));
                    break;
                }
                Err(error) => {
                    log!("Could not read: {error}.");
                    break;
                }
            };
            log!("Received {}", PyBytes(received));
            // ANCHOR: lend
            // The parser is lent the request to fill in, for this call only.
            // `self.parser` and `self.request` are two fields of `self`:
            // Rust lets us borrow both at once, one of them mutably, because
            // they do not overlap. (Lending the parser the whole session,
            // as the post does, would borrow `self.parser` twice.)
            if let Err(error) = self.parser.feed_data(received, &mut self.request) {
                refusal = Some(make_error_response(error.status_code(), &error.to_string()));
                break;
            }
            // ANCHOR_END: lend
            // The request noted its own end; we answer it.
            if self.request.is_complete() {
                self.send_response();
            } else if self.request.take_continue() {
                send_continue(&self.stream);
            }
        }

        if let Some(response) = refusal {
            send_refusal(&self.stream, &response);
        }
        lingering_close(self.stream);
        log!("Socket with {} closed.", self.address);
        // STARTER end
    }

    // ANCHOR: send_response
    /// Hands the request to the application and sends its answer; the
    /// post's `Session.send_response`.
    fn send_response(&mut self) {
        self.response_sent = true;
        let mut request = match self.request.take_request() {
            Ok(request) => request,
            // A method or target the `http` types refuse.
            Err(error) => {
                send_refusal(&self.stream, &make_error_response(400, &error.to_string()));
                return;
            }
        };
        // What the server knows of the connection, from the socket itself.
        if let Ok(server) = self.stream.local_addr() {
            let client = self.address;
            request
                .extensions_mut()
                .insert(Connection { server, client });
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
        match self.stream.write_all(&to_bytes(response, head_only)) {
            Ok(()) => log!("Response sent."),
            Err(error) => log!("Could not send the response: {error}."),
        }
    }
    // ANCHOR_END: send_response
}
// ANCHOR_END: session

// ANCHOR: to_bytes
/// The application's response, as the bytes the client gets: the status
/// line with its reason phrase, the application's headers, then the
/// framing, which only the server can vouch for: `Content-Length` (set from
/// the body, whatever the application said) and `Connection: close`.
/// `head_only` leaves the body out, for `HEAD`.
fn to_bytes(response: Response<Vec<u8>>, head_only: bool) -> Vec<u8> {
    // STARTER part7-app-interface, left to the learner: "Split the response
    // with `into_parts`; collect its headers as `(&str, &str)` pairs (a
    // value that is not text gets a `500`), skipping the framing headers the
    // application may have set (`CONTENT_LENGTH`, `CONNECTION`,
    // `TRANSFER_ENCODING`); then `make_response`, or `make_response_head` when `head_only`."
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
        make_response_head(status, &headers, body.len())
    } else {
        make_response(status, &headers, &body)
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
