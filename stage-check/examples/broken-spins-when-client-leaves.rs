//! A learner's HTTP server that spins when a client leaves early.
//!
//! **The flaw:** it takes a read of zero bytes for "nothing yet". But zero
//! bytes is how a socket says the client closed its side: nothing more will
//! ever come. So a client that leaves in the middle of its request leaves
//! its session reading forever. The original spun like that at full speed,
//! printing `Received b''` some 150,000 times a second, one core at 100%,
//! and never closed the socket.
//!
//! (To spare your machine, this one naps a millisecond per turn, and the
//! session gives up after a minute: the flaw a client sees is the same.)
//!
//! See `stage-check` find it (the check `client_leaves_early` fails):
//!
//! ```text
//! cargo run -p stage-check -- part5 --exec "cargo run -q -p stage-check --example broken-spins-when-client-leaves --"
//! ```

use std::io;
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

mod learner;

fn main() -> io::Result<()> {
    learner::serve_http(learner::Steps {
        receive,
        ..learner::RIGHT
    })
}

/// FLAW: whether or not the client is still there, say "go on reading".
fn receive(stream: &mut TcpStream, received: &mut Vec<u8>) -> io::Result<bool> {
    let client_still_there = learner::receive(stream, received)?;
    if !client_still_there {
        // The nap that keeps this demo from burning a core; see above.
        thread::sleep(Duration::from_millis(1));
    }
    Ok(true)
}
