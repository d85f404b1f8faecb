//! Closing a connection so that the client reads the whole answer.
//!
//! Closing a socket whose receive buffer still holds unread bytes makes the
//! kernel send a reset (RST) instead of a normal close (FIN), and a reset can
//! make the client throw away the answer we just sent. That happens whenever
//! we answer before reading everything: an error found in the head while the
//! body is still arriving, a body that was never read, bytes after the request.
//!
//! So we close the way nginx does ("lingering close"): shut down our sending
//! side, which tells the client the answer is complete, then read and drop
//! what the client still sends until it closes too, for a bounded time.

use std::io::Read;
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// The longest we keep reading and dropping a client's bytes.
pub const LINGER_TOTAL: Duration = Duration::from_secs(2);

/// The longest we wait for the client's next bytes (or its close) meanwhile.
pub const LINGER_IDLE: Duration = Duration::from_millis(500);

// ANCHOR: lingering_close
/// Sends our FIN, drains what the client still sends, then drops the socket.
pub fn lingering_close(stream: TcpStream) {
    // Errors are ignored on purpose: the client may have gone already, and
    // there is nothing left to tell it. Dropping `stream` closes it anyway.
    if stream.shutdown(Shutdown::Write).is_err() {
        return;
    }
    let deadline = Instant::now() + LINGER_TOTAL;
    let mut scratch = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero()
            || stream
                .set_read_timeout(Some(left.min(LINGER_IDLE)))
                .is_err()
        {
            return;
        }
        match (&stream).read(&mut scratch) {
            // The client closed its side, or went quiet, or went away: done.
            Ok(0) | Err(_) => return,
            Ok(_) => continue,
        }
    }
}
// ANCHOR_END: lingering_close
