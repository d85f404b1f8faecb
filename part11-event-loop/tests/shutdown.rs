//! The graceful shutdown, of the real binary: what stage-check's
//! `graceful_shutdown` does not cover. A request that stalls is cut off when
//! the shutdown timeout runs out, and the process still exits with status 0;
//! Ctrl-C (SIGINT) shuts down as SIGTERM does. Signals are sent with the
//! `kill` command, as from a terminal.
#![cfg(unix)]

use std::io::Write;
use std::net::TcpStream;
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use stage_check::Server;
use stage_check::wait::poll_until;

/// How long the server may take to exit after its shutdown timeout, on a
/// busy machine: the timeout is 1 s, and nothing else waits.
const EXIT_MARGIN: Duration = Duration::from_secs(3);

/// Starts the stage with `args`, on a free port.
fn start(args: &[&str]) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_part11-event-loop"));
    command.args(["--port", "0"]).args(args);
    Server::start(command).expect("the server starts")
}

/// Sends `signal` (`TERM`, `INT`) to the server.
fn send(server: &Server, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &server.pid().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} failed");
}

/// The server's log, once it holds the last line of the shutdown: the
/// process may have ended before our reader of its output has read it all.
fn log_of_the_end(server: &Server) -> Vec<String> {
    let ended = server.log().wait_for(EXIT_MARGIN, |lines| {
        let last = lines.iter().any(|l| l.starts_with("Shut down: "));
        last.then(|| lines.to_vec())
    });
    ended.unwrap_or_else(|| panic!("no `Shut down:` line: {:?}", server.log().lines()))
}

/// How the server ended, within `within`; panics if it goes on.
fn exit_within(server: &mut Server, within: Duration) -> ExitStatus {
    poll_until(within, Duration::from_millis(20), || server.exit_status())
        .unwrap_or_else(|| panic!("still running {} s after the signal", within.as_secs()))
}

#[test]
fn a_stalled_request_is_cut_off_at_the_shutdown_timeout_and_the_exit_is_0() {
    let mut server = start(&["--shutdown-timeout", "1", "--read-timeout", "30"]);
    let mut stalled = TcpStream::connect(server.addr()).expect("a connection");
    // Half a request head, and then nothing: in progress, and never done.
    stalled
        .write_all(b"GET /index.html HTTP/1.1\r\nHost: x\r\n")
        .expect("sent");
    // Its loop has it once the log says it received it.
    let received = server.log().wait_for(Duration::from_secs(5), |lines| {
        lines
            .iter()
            .any(|l| l.starts_with("Received b"))
            .then_some(())
    });
    assert!(received.is_some(), "{:?}", server.log().lines());
    let signalled = Instant::now();
    send(&server, "TERM");
    let status = exit_within(&mut server, Duration::from_secs(1) + EXIT_MARGIN);
    assert!(status.success(), "{status}");
    // The server's clock starts after ours: it cannot have been quicker.
    assert!(signalled.elapsed() >= Duration::from_secs(1));
    let lines = log_of_the_end(&server);
    let cut_off = "Shut down: cut off 1 connection after the 1 s shutdown timeout.";
    assert!(lines.iter().any(|l| l == cut_off), "{lines:?}");
}

#[test]
fn ctrl_c_shuts_an_idle_server_down_at_once() {
    let mut server = start(&[]);
    send(&server, "INT");
    let status = exit_within(&mut server, EXIT_MARGIN);
    assert!(status.success(), "{status}");
    let lines = log_of_the_end(&server);
    let expected = [
        "Shutting down: no longer accepting connections.",
        "Waiting up to 5 s for 0 connections to finish.",
        "Shut down: every connection finished.",
    ];
    // After the lines of the start: the limit of open files, and the address.
    assert_eq!(lines[2..], expected, "{lines:?}");
    // The listener is closed: the port refuses connections.
    assert!(TcpStream::connect(server.addr()).is_err());
}
