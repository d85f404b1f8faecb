//! # Part 4: a TCP echo server, one thread per client
//!
//! The first server of the series: it accepts TCP connections and sends every
//! message a client sends straight back, until the client closes. Each client
//! gets a thread of its own, so a second client is served while the first is
//! still connected.
//!
//! **What this stage adds:** sockets. `TcpListener` waits for clients,
//! `TcpStream` is one client's connection, and a thread per client keeps the
//! clients from waiting on each other.
//!
//! **What it keeps simple, on purpose:** it speaks no protocol at all, just
//! bytes. That is the next stage's lesson.
//!
//! **What it does that the original does not:** a listen backlog that lets
//! many clients in at once, and a clean end when a client closes or errs.
//!
//! Run it and poke it (type a line, see it come back; Ctrl-C to leave):
//!
//! ```text
//! cargo run -p part4-tcp-echo
//! nc localhost 5000
//! ```

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use common::log;
use common::log::PyBytes;

/// How many bytes one read takes from the socket, like the post's `recv(1024)`.
const READ_SIZE: usize = 1024;

/// How long sending an echo may take before we give up on the client: one
/// that never reads what we send back must not hold its thread forever.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

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
    /// Close a client that sends nothing for this long (default: never, so
    /// that you can take your time typing into `nc`).
    #[arg(long, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    read_timeout: Option<u64>,
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
    serve_forever(listener, args.read_timeout.map(Duration::from_secs));
    Ok(())
}
// ANCHOR_END: run

// ANCHOR: serve_forever
/// Accepts clients forever, each served by a thread of its own.
///
/// `TcpListener::bind` listens with a backlog of 128 connections waiting to
/// be accepted, not the original's 1, under which 20 clients at once waited
/// seconds to get in.
fn serve_forever(listener: TcpListener, read_timeout: Option<Duration>) {
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
/// Echoes everything one client sends until it closes: the post's
/// `handle_socket`.
fn handle_socket(mut stream: TcpStream, address: SocketAddr, read_timeout: Option<Duration>) {
    let timeouts = stream
        .set_read_timeout(read_timeout)
        .and_then(|()| stream.set_write_timeout(Some(WRITE_TIMEOUT)));
    if let Err(error) = timeouts {
        log!("Could not set timeouts for {address}: {error}.");
        return;
    }

    // STARTER part4-tcp-echo, left to the learner: "Loop: `stream.read(&mut
    // data)`; `Ok(0)` means the client closed, so stop; `Ok(n)`: log `Received
    // …` with `PyBytes`, and send `&data[..n]` back with `write_all`; on an
    // error (`is_timeout` tells a quiet client), log it and stop. Then drop
    // the stream and log `Socket with {address} closed.`"
    let mut data = [0; READ_SIZE];
    loop {
        // Where Python raises an exception, Rust's `read` returns a `Result`,
        // which we must look at: `Ok(n)` bytes, or `Err(why)`.
        let received = match stream.read(&mut data) {
            // Zero bytes: the client closed its side. We are done.
            Ok(0) => break,
            Ok(n) => &data[..n],
            Err(error) if is_timeout(&error) => {
                log!("Client {address} sent nothing in time.");
                break;
            }
            Err(error) => {
                log!("Could not read: {error}.");
                break;
            }
        };
        log!("Received {}", PyBytes(received));
        // `write_all` loops until every byte is sent; a plain `write`, like
        // Python's `send`, may send only some of them.
        if let Err(error) = stream.write_all(received) {
            log!("Could not send: {error}.");
            break;
        }
    }
    // Dropping a `TcpStream` closes the socket: Rust's `client_socket.close()`.
    // (Without this line it would happen anyway, when the function returns.)
    drop(stream);
    log!("Socket with {address} closed.");
    // STARTER end
}
// ANCHOR_END: handle_socket

/// Whether a read failed because the read timeout passed. (Linux reports it
/// as `WouldBlock`, Windows as `TimedOut`.)
fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
