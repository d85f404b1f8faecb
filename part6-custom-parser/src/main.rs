//! # Part 6: our own request parser
//!
//! The same HTTP server as `part5-oo-session`, answering the same way, with
//! one difference out of sight: the request parser (`src/lib.rs`) is our own,
//! where part 5 used httparse. As in the post, it is a drop-in replacement:
//! the same interface, the same callbacks to the same protocol object, so the
//! server code changes by one `use` line.
//! `diff -ru part5-oo-session part6-custom-parser` shows it.
//!
//! **What this stage adds:** the parser, and the buffer it reads lines from
//! (`src/split_buffer.rs`): check whether a whole line is buffered, parse it,
//! drop it, repeat; an unfinished line means "read more", never an error.
//!
//! **What it keeps simple, on purpose:** still one request per connection,
//! still the same page for every request, still no chunked bodies
//! (`Transfer-Encoding` is answered with `501`).
//!
//! **What it does that the original does not:** its buffer does work in
//! proportion to the bytes received, however they are cut (the original's is
//! quadratic); it reads lines in a loop (the original recurses per line and
//! dies on 1,200 headers); it accepts `Name:value` and trims whitespace; it
//! refuses malformed request lines, bad `Content-Length`s and oversized heads
//! or bodies with a 4xx; it ignores bytes past the body. And, as in part 5, it
//! times out clients that go quiet and closes when a client leaves early.
//!
//! Run it and poke it:
//!
//! ```text
//! cargo run -p part6-custom-parser
//! curl -i localhost:5000
//! curl -i localhost:5000 -H 'Name:no-space-needed'
//! ```

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
use part6_custom_parser::HttpRequestParser;

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
            thread::Builder::new().spawn(move || Session::new(stream, address, read_timeout).run());
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
struct Session {
    stream: TcpStream,
    address: SocketAddr,
    read_timeout: Duration,
    response_sent: bool,
    parser: HttpRequestParser<HttpRequestParserProtocol>,
}

impl Session {
    fn new(stream: TcpStream, address: SocketAddr, read_timeout: Duration) -> Self {
        Session {
            stream,
            address,
            read_timeout,
            response_sent: false,
            parser: HttpRequestParser::new(HttpRequestParserProtocol::default()),
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
            if let Err(error) = self.parser.feed_data(received) {
                refusal = Some(make_error_response(error.status_code(), &error.to_string()));
                break;
            }
            // The protocol noted the end of the request; we answer it.
            if self.parser.protocol().is_complete() {
                self.send_response();
            } else if self.parser.protocol_mut().take_continue() {
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

    /// Sends the page; the post's `Session.send_response`.
    fn send_response(&mut self) {
        // STARTER part5-oo-session, left to the learner: "Write the page (only
        // its head, with `make_response_head`, for `HEAD`) with `write_all`,
        // log how that went, and set `self.response_sent`."
        let response = if self.parser.protocol().method() == b"HEAD" {
            make_response_head(200, HEADERS, BODY.len())
        } else {
            make_response(200, HEADERS, BODY)
        };
        match self.stream.write_all(&response) {
            Ok(()) => log!("Response sent."),
            Err(error) => log!("Could not send the response: {error}."),
        }
        self.response_sent = true;
        // STARTER end
    }
}
// ANCHOR_END: session

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
