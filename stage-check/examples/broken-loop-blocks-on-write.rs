//! A learner's event loop that waits for each answer to be written.
//!
//! **The flaw:** the loop writes a connection's answers to the end before
//! it goes on, trying again while the socket's buffer is full, for up to
//! `--read-timeout` (part 10's blocking write, with its write timeout, put
//! in an event loop). A client that sends requests and never reads its
//! answers fills its socket's buffers; from then on the loop sits on that
//! one client, and every other connection it serves waits with it: their
//! requests are read and answered only when that write gives up. A thread
//! per connection could afford to wait; a loop serves thousands, so it
//! must write what the socket takes (`WouldBlock` says when that is all)
//! and keep the rest until the socket is writable again.
//!
//! Everything else is right: while every client reads its answers, it is
//! served well. See `stage-check` find it
//! (`unread_answers_do_not_delay_others`, which fills the buffers of a
//! client that never reads, and wants another client of the same loop
//! answered meanwhile, fails):
//!
//! ```text
//! cargo run -p stage-check -- part11 --exec "cargo run -q -p stage-check --example broken-loop-blocks-on-write --"
//! ```

use std::io;
use std::thread;
use std::time::{Duration, Instant};

use mio::net::TcpStream;

mod learner;
use learner::event_loop;

fn main() -> io::Result<()> {
    event_loop::serve(event_loop::Steps { write_out })
}

/// FLAW: wait, on the loop's thread, until every byte is written (or
/// `patience` runs out), while the loop's other connections wait too.
fn write_out(stream: &mut TcpStream, output: &mut Vec<u8>, patience: Duration) -> io::Result<()> {
    let deadline = Instant::now() + patience;
    loop {
        event_loop::write_what_it_takes(stream, output, patience)?;
        if output.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(io::ErrorKind::TimedOut.into());
        }
        // The socket's buffer is full: try again in a moment.
        thread::sleep(Duration::from_millis(1));
    }
}
