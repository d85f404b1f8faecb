//! # Part 5, first version: HTTP with a library parser
//!
//! The echo server of part 4 learns to speak HTTP. Every connection's bytes
//! go into a request parser (httparse, behind the post's callback interface,
//! in `src/lib.rs`); the parser calls back a protocol object
//! (`src/http_request.rs`) that logs each part of the request and, once the
//! request is complete, calls a `send_response` closure. The answer is always
//! the same small page; then the connection is closed: one request, one
//! response.
//!
//! **What this stage adds:** HTTP requests in, well-formed responses out.
//!
//! **What it keeps as the post does, on purpose:** the connection handler is
//! a function with a nested closure and a "response sent" flag shared with
//! the read loop. The post calls this convoluted, and in Rust it is even more
//! so: see the comments in `handle_socket`. `part5-oo-session` turns it into
//! a `Session` struct.
//!
//! **What it does that the original does not:** it answers bad requests with
//! a 4xx, times out clients that go quiet, closes when a client leaves early
//! instead of spinning, and bounds the size of what it reads.
//!
//! Run it and poke it:
//!
//! ```text
//! cargo run -p part5-http-httparse
//! curl -i localhost:5000
//! ```

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use common::close::lingering_close;
use common::log;
use common::log::PyBytes;
use common::response::{CONTINUE, make_error_response, make_response, make_response_head};
// The parser is this package's library (`src/lib.rs`), used the way any
// other crate would use it. Part 5's wraps httparse, part 6's is our own,
// and this line is all the server code that changes between the two.
use part5_http_httparse::HttpRequestParser;

mod http_request;
use http_request::HttpRequestParserProtocol;

/// The page every request gets, as in the post.
const BODY: &[u8] = b"<html><body>Hello World</body></html>";

/// The headers sent with it. `Content-Length` and `Connection: close` are
/// added by `make_response`.
const HEADERS: &[(&str, &str)] = &[("Content-Type", "text/html; charset=utf-8")];

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
    serve_forever(listener, Duration::from_secs(args.read_timeout));
    Ok(())
}
// ANCHOR_END: run

// ANCHOR: serve_forever
/// Accepts clients forever, each served by a thread of its own.
///
/// `TcpListener::bind` listens with a backlog of 128 connections waiting to
/// be accepted, not the original's 1, under which 20 clients at once waited
/// seconds to get in.
fn serve_forever(listener: TcpListener, read_timeout: Duration) {
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
        // `move` hands the stream to the new thread: from here on the thread
        // owns it, and the socket is closed when the thread is done with it.
        let spawned =
            thread::Builder::new().spawn(move || handle_socket(stream, address, read_timeout));
        if let Err(error) = spawned {
            log!("Could not start a thread for {address}: {error}.");
        }
    }
}
// ANCHOR_END: serve_forever

// ANCHOR: handle_socket
/// Reads one request, answers it, closes the connection: the post's
/// `handle_socket`, in the post's closure style.
fn handle_socket(stream: TcpStream, address: SocketAddr, read_timeout: Duration) {
    // A client that goes quiet must not hold this thread forever: a read or
    // a write that waits longer than this fails with a timeout error.
    let timeouts = stream
        .set_read_timeout(Some(read_timeout))
        .and_then(|()| stream.set_write_timeout(Some(read_timeout)));
    if let Err(error) = timeouts {
        log!("Could not set timeouts for {address}: {error}.");
        return;
    }

    // Python's `nonlocal response_sent` becomes a `Cell`. The closure below
    // sets the flag while the loop reads it, so both borrow it; Rust lets
    // many share a value only if none of them changes it, and a `Cell` is
    // the exception that makes this one changeable through a shared borrow.
    let response_sent = Cell::new(false);

    // The closure borrows `stream` as well. It writes through `&TcpStream`
    // (a shared borrow can write to a socket), so the loop below can still
    // read through another one. Had it taken `&mut stream`, the loop could
    // not touch the stream while the closure exists: one writer or many
    // readers, never both. This is the knot the next stage unties.
    let send_response = |method: &[u8]| {
        let response = if method == b"HEAD" {
            make_response_head(200, HEADERS, BODY.len())
        } else {
            make_response(200, HEADERS, BODY)
        };
        match (&stream).write_all(&response) {
            Ok(()) => log!("Response sent."),
            Err(error) => log!("Could not send the response: {error}."),
        }
        response_sent.set(true);
    };

    // The parser owns the protocol, which owns the closure, which borrows
    // `stream` and `response_sent`: so all three must be gone before those
    // two are, which the compiler checks for us.
    let protocol = HttpRequestParserProtocol::new(send_response);
    let mut parser = HttpRequestParser::new(protocol);

    let mut data = [0; READ_SIZE];
    // Set when the request is refused: the error answer to send.
    let mut refusal = None;
    loop {
        if response_sent.get() {
            break;
        }
        // Where Python raises an exception, Rust's `read` returns a `Result`,
        // which we must look at: `Ok(n)` bytes, or `Err(why)`.
        let received = match (&stream).read(&mut data) {
            // Zero bytes: the client closed its side before the request was
            // complete. The original keeps looping here, receiving b''
            // forever at full speed; we stop.
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
        if let Err(error) = parser.feed_data(received) {
            refusal = Some(make_error_response(error.status_code(), &error.to_string()));
            break;
        }
        if parser.protocol_mut().take_continue() {
            send_continue(&stream);
        }
    }

    if let Some(response) = refusal {
        send_refusal(&stream, &response);
    }
    lingering_close(stream);
    log!("Socket with {address} closed.");
}
// ANCHOR_END: handle_socket

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
